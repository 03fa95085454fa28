"""What the trainer and the evaluators need from a VAE of Eq. (3), and gamma read and set in one place.

Convention: the decoder is N(mu_x(z), gamma I) with ONE scalar gamma, the theory's decoder VARIANCE,
stored as the parameter `log_gamma_var` = log(gamma); its standard deviation is exp(log_gamma_var / 2).
The networks live with their experiments (experiments.outlier.model, experiments.celeba.net) and
create the parameter at gamma = 1; its value for a run comes from TrainConfig.log_gamma_var_init,
written by `set_log_gamma_var` (the trainer calls it), and every report reads it through
`gamma_values`, so the three names below mean the same thing everywhere:
    log_gamma_var   log(gamma)
    gamma_var       gamma, the decoder variance (the theory's convention)
    gamma_std       sqrt(gamma), the decoder standard deviation (how Table 1's gamma row reads)

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

# The log-variances a run may start from. The loss divides an image's squared error (at most
# d * max|x - mu_x|^2 ~ e^11 for d = 3 * 128^2 pixels in [0, 1]) by gamma and multiplies d by
# log gamma, in float32 or bf16, whose largest finite value is e^88.7: exp(-60) leaves a margin of
# e^17 for the error and for training to move gamma; exp(+60) is a variance of 1e26, far past any
# scale of pixels in [0, 1], with the same margin. Outside this range the first loss is inf or
# the first row overflows, which is no setting for a run, only a typo.
LOG_GAMMA_VAR_RANGE = (-60.0, 60.0)


@runtime_checkable
class VAEProtocol(Protocol):
    """What the trainer and the evaluator need from a VAE (Eq. 3's ingredients)."""

    kappa: int
    log_gamma_var: torch.Tensor  # 0-dim, log of the decoder variance gamma

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...

    def decode(self, z: torch.Tensor) -> torch.Tensor: ...


def gamma_values(log_gamma_var: float | torch.Tensor) -> dict[str, float]:
    """{"log_gamma_var", "gamma_var", "gamma_std"} from log(gamma), a float or a model's 0-dim
    parameter (read without autograd). The one conversion every row, table and summary uses."""
    value = float(log_gamma_var.detach()) if isinstance(log_gamma_var, torch.Tensor) else float(log_gamma_var)
    return {"log_gamma_var": value, "gamma_var": math.exp(value), "gamma_std": math.exp(0.5 * value)}


def gamma_var(model: VAEProtocol) -> float:
    """The decoder variance gamma (the theory's convention)."""
    return gamma_values(model.log_gamma_var)["gamma_var"]


def gamma_std(model: VAEProtocol) -> float:
    """The decoder standard deviation sqrt(gamma) (what Table 1's gamma row shows)."""
    return gamma_values(model.log_gamma_var)["gamma_std"]


def set_log_gamma_var(model: VAEProtocol, log_gamma_var: float, *, learn: bool = True) -> None:
    """Set gamma = exp(log_gamma_var), in place, and whether an optimizer may change it
    (`learn=False`: fixed, as the second arm of Figure 4)."""
    with torch.no_grad():
        model.log_gamma_var.fill_(log_gamma_var)
    model.log_gamma_var.requires_grad_(learn)


def has_log_gamma_var(model: torch.nn.Module) -> bool:
    """Whether the model has a decoder variance to learn or fix: a `log_gamma_var` parameter."""
    return "log_gamma_var" in dict(model.named_parameters())


def clamp_log_gamma_var(model: torch.nn.Module, gamma_var_floor: float) -> None:
    """gamma >= gamma_var_floor, in place, outside autograd (after the optimizer step).

    Why this bounds the gradient: only the decoder sees z, and the per-sample loss (Eq. 3 / 2) has
    dL/dz = (1/gamma) J^T (mu_x(z) - x), J the decoder Jacobian; with gamma >= floor the 1/gamma
    factor, which grows without bound as a learned gamma -> 0 (the paper's "infinite gradient"), is
    at most 1/floor. Adam's moments are left alone: the step is projected, not the optimizer."""
    with torch.no_grad():
        model.log_gamma_var.clamp_(min=math.log(gamma_var_floor))
