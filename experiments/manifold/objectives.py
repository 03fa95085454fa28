"""The penalties h of theory/penalties.py in torch, and L_{g,h} of Eq. (22) as a training objective.

Conventions: u is a row energy (1/n)||z_k||^2 (z_k = row k of the paper's (kappa, n) Z, estimated on a
batch) or a mean squared reconstruction error; x, x_mean are (batch, d), mu_z is (batch, kappa).
Losses come back per sample, (batch,), as the shared training loop expects; a batch-level term (a
function of batch means, as L_{g,h} is) is spread evenly over the samples so that the batch mean of
"loss" is the objective and its gradient is the objective's gradient.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from theory.penalties import penalty_family

# h(u) of theory/penalties.py, written in torch (float32 or float64, elementwise, u >= 0)
_TORCH_H: dict[str, Callable[[torch.Tensor, float], torch.Tensor]] = {
    "log": lambda u, c: torch.log(u),
    "log_shift": lambda u, c: torch.log(u + c),
    "ratio": lambda u, c: u / (u + c),
    "linear": lambda u, c: u,
    "sqrt": lambda u, c: torch.sqrt(u),
    # u / (sqrt(u + c) + sqrt(c)) = sqrt(u + c) - sqrt(c) without the cancellation for u << c
    "sqrt_shift": lambda u, c: u / (torch.sqrt(u + c) + math.sqrt(c)),
}
PENALTY_NAMES = tuple(_TORCH_H)


def torch_penalty(name: str, c: float = 1e-2) -> Callable[[torch.Tensor], torch.Tensor]:
    """h(u) for one of PENALTY_NAMES, with shift c for the shifted ones (the same penalties and the
    same c convention as theory.penalties.penalty_family(c)); its bounded-gradient flag and h'(0+) are
    those of `theory_penalty(name, c)`."""
    if name not in _TORCH_H:
        raise ValueError(f"unknown penalty {name!r}; choose from {', '.join(PENALTY_NAMES)}")
    if not (math.isfinite(c) and c > 0):
        raise ValueError(f"the shift c must be finite and > 0, got {c}")
    fn = _TORCH_H[name]
    return lambda u: fn(u, c)


def theory_penalty(name: str, c: float = 1e-2):
    """The float64 theory.penalties.Penalty that `torch_penalty(name, c)` implements."""
    if name not in _TORCH_H:
        raise ValueError(f"unknown penalty {name!r}; choose from {', '.join(PENALTY_NAMES)}")
    return penalty_family(c)[name]


def lgh_terms(x: torch.Tensor, x_mean: torch.Tensor, mu_z: torch.Tensor,
              h: Callable[[torch.Tensor], torch.Tensor], recon_weight: float) -> dict[str, torch.Tensor]:
    """Eq. (22) on a batch with g(u) = recon_weight * u:

        L = recon_weight * (1/(d b)) sum_i ||x_i - mu_x(z_i)||^2 + (1/d) sum_k h((1/b) ||z_k||^2),

    b the batch size, z_i = mu_z(x_i). g = recon_weight * u enforces reconstruction by a large
    weight: the quadratic-penalty route to Theorem 4's g = I_inf (zero error, Eq. 12), exact in the
    limit recon_weight -> inf; an error e costs recon_weight * e, so the optimum trades error for
    latent energy only where h'(u) / d exceeds recon_weight times the error it saves.
    Returns (batch,) tensors: loss (the batch objective, spread evenly), recon_sq (||x_i - mu_x||^2),
    and the row energies (kappa,) under "energies".
    """
    batch, d = x.shape[0], x[0].numel()
    recon_sq = (x.reshape(batch, -1) - x_mean.reshape(batch, -1)).pow(2).sum(dim=1)
    energies = mu_z.pow(2).mean(dim=0)
    objective = recon_weight * recon_sq.mean() / d + h(energies).sum() / d
    return {"loss": objective.expand(batch), "recon_sq": recon_sq, "energies": energies}
