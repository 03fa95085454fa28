"""Statistics of a trained model on its data, in torch, for experiments/manifold/estimators.py.

Conventions: x is (n, d) float; the model follows experiments.core.models.VAEProtocol (encode ->
(mu_z, log_sigma_z), decode); gamma is the decoder VARIANCE. Everything runs without gradients
except the Jacobians, in float32 as trained, in chunks of at most `chunk` samples.
"""
from __future__ import annotations

import numpy as np
import torch

from experiments.core.losses import eq3_pass
from experiments.core.models import gamma_var
from experiments.manifold import estimators


@torch.no_grad()
def encoder_statistics(model, x: torch.Tensor, chunk: int = 4096) -> dict[str, np.ndarray]:
    """mean over samples of log sigma_k^2 (kappa,), the row energies u_k = (1/n)||mu_k||^2 (kappa,)
    and the codes mu_z (n, kappa) as float64 numpy arrays."""
    mus, log_vars = [], []
    for part in torch.split(x, chunk):
        mu_z, log_sigma_z = model.encode(part)
        mus.append(mu_z.double())
        log_vars.append(2.0 * log_sigma_z.double())
    mu_z = torch.cat(mus).cpu().numpy()
    return {"mean_log_sigma_sq": torch.cat(log_vars).mean(dim=0).cpu().numpy(),
            "energies": estimators.row_energies(mu_z), "mu_z": mu_z}


@torch.no_grad()
def expected_eq3(model, x: torch.Tensor, draws: int = 4, seed: int = 0,
                 chunk: int = 4096) -> dict[str, float]:
    """Eq. (3) and E||x - mu_x(z)||^2 averaged over all samples and `draws` encoder draws each (a
    seeded Monte Carlo estimate of the full-data loss at the model's gamma)."""
    generator = torch.Generator(device=x.device).manual_seed(seed)
    eq3, recon, count = 0.0, 0.0, 0
    for _ in range(draws):
        for part in torch.split(x, chunk):
            noise = torch.randn(part.shape[0], model.kappa, generator=generator, device=x.device)
            terms, _ = eq3_pass(model, part, noise)
            eq3 += float(terms["eq3"].double().sum())
            recon += float(terms["recon_sq"].double().sum())
            count += part.shape[0]
    return {"eq3": eq3 / count, "recon_sq": recon / count,
            "gamma_var": gamma_var(model)}


def decoder_jacobian_rank(model, x: torch.Tensor, points: int = 32) -> estimators.GapCount:
    """The numerical rank of d mu_x / dz at z = mu_z(x_i) for the first `points` samples
    (estimators.jacobian_rank per point, combined by estimators.median_rank)."""
    with torch.no_grad():
        mu_z, _ = model.encode(x[:points])
        # reverse mode vectorized over the d outputs and the points: one batched pass, not a Python
        # loop of d backward passes per point (d up to 784)
        jac = torch.func.vmap(torch.func.jacrev(lambda v: model.decode(v[None])[0]))(mu_z)
    singular = torch.linalg.svdvals(jac.double()).cpu().numpy()  # (points, min(d, kappa))
    return estimators.median_rank([estimators.jacobian_rank(s) for s in singular])
