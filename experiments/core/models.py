"""What the trainer and the evaluators need from a VAE of Eq. (3), and gamma read from one place.

Convention: the decoder is N(mu_x(z), gamma I) with ONE scalar gamma, the theory's decoder VARIANCE,
stored as the parameter `log_gamma_var` = log(gamma); its standard deviation is exp(log_gamma_var / 2).
The networks live with their experiments (experiments.outlier.model, experiments.celeba.net).

Any VAE the default objective of experiments.core.train fits follows `VAEProtocol`:
    encode(x) -> (mu_z, log_sigma_z), both (batch, kappa)
    decode(z) -> x_mean, the same shape as x: (batch, channels, height, width) or (batch, d)
    log_gamma_var: a 0-dim nn.Parameter (requires_grad=False keeps gamma fixed)
    kappa: int (latent dimension)
"""
from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class VAEProtocol(Protocol):
    """What the trainer and the evaluator need from a VAE (Eq. 3's ingredients)."""

    kappa: int
    log_gamma_var: torch.Tensor  # 0-dim, log of the decoder variance gamma

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...

    def decode(self, z: torch.Tensor) -> torch.Tensor: ...


def gamma_std(model: VAEProtocol) -> float:
    """The decoder standard deviation sqrt(gamma) (what Table 1's gamma row shows)."""
    return math.exp(0.5 * float(model.log_gamma_var.detach()))


def gamma_var(model: VAEProtocol) -> float:
    """The decoder variance gamma (the theory's convention)."""
    return math.exp(float(model.log_gamma_var.detach()))
