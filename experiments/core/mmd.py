"""MMD between the aggregated posterior q(z) = (1/n) sum_i q(z|x_i) and the prior N(0, I) (main-text
Figure 4(a), "MMD" column), in the kappa-dimensional latent space, float64 numpy.

Estimator: the unbiased MMD^2 of Gretton et al. (2012, Lemma 6) with a sum of inverse multiquadric
kernels k(x, y) = sum_s C_s / (C_s + ||x - y||^2), C_s = 2 kappa s for s in IMQ_SCALES (the kernel
and scales of the Wasserstein auto-encoder paper, Tolstikhin et al. 2018; 2 kappa is E||y - y'||^2 for
two N(0, I) draws). The paper states neither kernel, bandwidth nor scale, so its 93.3 / 291.8 are not
on our scale; only the ordering and ratio between the two arms can be compared.
"""
from __future__ import annotations

import numpy as np
from tqdm import tqdm

IMQ_SCALES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
BLOCK = 2048  # rows per block of a kernel matrix: bounds memory at BLOCK * m * 8 bytes


def imq_kernel_sum(x: np.ndarray, y: np.ndarray, scales=IMQ_SCALES, *, exclude_diagonal=False) -> float:
    """sum_{i, j} k(x_i, y_j) for x (n, kappa), y (m, kappa), the kernel of the module docstring.

    `exclude_diagonal` (x is y, n = m) leaves out the i = j terms, as the unbiased estimator needs.
    Squared distances come from ||x||^2 + ||y||^2 - 2 x.y, clipped at 0 against round-off."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    kappa = x.shape[1]
    y_sq = np.einsum("ij,ij->i", y, y)
    total = 0.0
    for start in range(0, len(x), BLOCK):
        xb = x[start:start + BLOCK]
        sq = np.einsum("ij,ij->i", xb, xb)[:, None] + y_sq[None, :] - 2.0 * xb @ y.T
        np.maximum(sq, 0.0, out=sq)
        block = np.zeros_like(sq)
        for s in scales:
            c = 2.0 * kappa * s
            block += c / (c + sq)
        if exclude_diagonal:
            rows = np.arange(len(xb))
            block[rows, start + rows] = 0.0
        total += float(block.sum())
    return total


def mmd2_unbiased(x: np.ndarray, y: np.ndarray, scales=IMQ_SCALES) -> float:
    """Unbiased MMD^2 between samples x (n, kappa) ~ P and y (m, kappa) ~ Q, n, m >= 2:

        1/(n(n-1)) sum_{i != j} k(x_i, x_j) + 1/(m(m-1)) sum_{i != j} k(y_i, y_j)
        - 2/(n m) sum_{i, j} k(x_i, y_j).

    Its expectation is MMD^2(P, Q) exactly, so it is 0 in expectation for P = Q and may be negative."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"x {x.shape} and y {y.shape}: expected (n, kappa) and (m, kappa)")
    n, m = len(x), len(y)
    if n < 2 or m < 2:
        raise ValueError(f"the unbiased MMD^2 needs at least 2 samples on each side, got {n} and {m}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("x or y holds a NaN or an infinite value")
    k_xx = imq_kernel_sum(x, x, scales, exclude_diagonal=True) / (n * (n - 1))
    k_yy = imq_kernel_sum(y, y, scales, exclude_diagonal=True) / (m * (m - 1))
    k_xy = imq_kernel_sum(x, y, scales) / (n * m)
    return k_xx + k_yy - 2.0 * k_xy


def posterior_prior_mmd(mu_z: np.ndarray, log_sigma_z: np.ndarray, repeats: int = 10,
                        seed: int = 0, scales=IMQ_SCALES, progress: bool = False) -> dict:
    """MMD^2 between q(z) and N(0, I) from encoder outputs mu_z, log_sigma_z (n, kappa) of n
    held-out images, with a repeated-draw error bar.

    Each of `repeats` draws takes ONE z_i = mu_z(x_i) + sigma_z(x_i) * eps_i per image (n samples of
    the aggregated posterior) and n fresh prior samples, all from numpy's generator seeded `seed`.
    Returns mean, std (over draws, ddof=1), sem = std / sqrt(repeats), the draws, n and repeats."""
    mu_z = np.asarray(mu_z, dtype=np.float64)
    log_sigma_z = np.asarray(log_sigma_z, dtype=np.float64)
    if mu_z.shape != log_sigma_z.shape or mu_z.ndim != 2:
        raise ValueError(f"mu_z {mu_z.shape} and log_sigma_z {log_sigma_z.shape}: expected equal (n, kappa)")
    if repeats < 2:
        raise ValueError(f"repeats={repeats}: the error bar needs at least 2 draws")
    rng = np.random.default_rng(seed)
    sigma_z = np.exp(log_sigma_z)
    draws = []
    for _ in tqdm(range(repeats), desc=f"MMD (n={len(mu_z)})", leave=False, disable=not progress):
        z = mu_z + sigma_z * rng.standard_normal(mu_z.shape)
        prior = rng.standard_normal(mu_z.shape)
        draws.append(mmd2_unbiased(z, prior, scales))
    draws = np.array(draws)
    std = float(draws.std(ddof=1))
    return {"mean": float(draws.mean()), "std": std, "sem": std / np.sqrt(repeats),
            "draws": draws.tolist(), "n": int(len(mu_z)), "repeats": int(repeats)}
