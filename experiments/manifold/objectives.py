"""The penalties h of theory/penalties.py in torch, and L_{g,h} of Eq. (22) as a training objective.

Conventions: u is a row energy (1/n)||z_k||^2 (z_k = row k of the paper's (kappa, n) Z, estimated on a
batch) or a mean squared reconstruction error; x, x_mean are (batch, d), mu_z is (batch, kappa).
L_{g,h} is a function of batch means (the row energies), not a sum over samples: its "loss" is the
0-dim batch objective, which experiments.core.train minimizes as it is.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from theory.penalties import penalty_family

# h(u) of theory/penalties.py, written in torch (float32 or float64, elementwise, u >= 0)
_TORCH_H: dict[str, Callable[[torch.Tensor, float], torch.Tensor]] = {
    # log at u = 0 is -inf: training never gets there (Adam keeps an unused row at its step size)
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
    Returns loss (0-dim, the batch objective), recon_sq (batch,) ||x_i - mu_x(z_i)||^2 and the row
    energies (kappa,) under "energies".
    """
    batch, d = x.shape[0], x[0].numel()
    recon_sq = (x.reshape(batch, -1) - x_mean.reshape(batch, -1)).pow(2).sum(dim=1)
    energies = mu_z.pow(2).mean(dim=0)
    objective = recon_weight * recon_sq.mean() / d + h(energies).sum() / d
    return {"loss": objective, "recon_sq": recon_sq, "energies": energies}


class LghObjective:
    """Eq. (22) for experiments.core.train: z = mu_z(x) (the model's `codes`), g(u) = recon_weight * u /
    scale_sq with scale_sq the data's mean squared coordinate (so `recon_weight` is the price of an
    error as large as the data themselves, whatever their scale), h = torch_penalty(penalty, c).
    Logged terms: recon_sq (batch,) and u_1 .. u_kappa (0-dim row energies)."""

    def __init__(self, penalty: str, recon_weight: float, scale_sq: float, c: float = 1e-2):
        if not (math.isfinite(recon_weight) and recon_weight > 0):
            raise ValueError(f"recon_weight must be finite and > 0, got {recon_weight}")
        if not (math.isfinite(scale_sq) and scale_sq > 0):
            raise ValueError(f"scale_sq must be finite and > 0, got {scale_sq}")
        self.penalty, self.c = penalty, c
        self.h = torch_penalty(penalty, c)
        self.weight = recon_weight / scale_sq

    def __call__(self, model, x: torch.Tensor, eps: torch.Tensor) -> dict[str, torch.Tensor]:
        z = model.codes(x)
        terms = lgh_terms(x, model.decode(z), z, self.h, self.weight)
        energies = terms.pop("energies")
        return {**terms, **{f"u_{k + 1}": energies[k] for k in range(energies.shape[0])}}
