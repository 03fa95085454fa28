"""The generic objective L_{g,h} of Eq. (22) (main-text Eq. 6) and Definition 1 (optimal sparse
representation). X and recon are (d, n), Z = mu_z(X) is (kappa, n); row z_k is one latent dimension.
"""
from __future__ import annotations

import numpy as np

from theory._checks import dimension, finite_array, positive_scalar, same

__all__ = [
    "infinite_indicator",
    "objective_eq22",
    "active_rows",
    "min_active_rows_affine",
    "is_optimal_sparse",
]


def infinite_indicator(u, atol: float = 0.0) -> np.ndarray:
    """g = I_inf of Eq. (12): 0 where u <= atol, +inf elsewhere (zero reconstruction enforced)."""
    u = finite_array("u", u)
    return np.where(u <= atol, 0.0, np.inf)


def _solution(X, Z, recon) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate an autoencoder solution: X and recon (d, n), Z (kappa, n)."""
    X = finite_array("X", X, ndim=2)
    Z = finite_array("Z", Z, ndim=2)
    recon = finite_array("recon", recon, ndim=2)
    if recon.shape != X.shape:
        raise ValueError(f"recon: expected shape {X.shape}, got {recon.shape}")
    same("X", X.shape[1], "Z", Z.shape[1], "the number of samples (columns)")
    return X, Z, recon


def _apply(name: str, fn, u) -> np.ndarray:
    if not callable(fn):
        raise ValueError(f"{name}: expected a Penalty or a callable, got {type(fn).__name__}")
    return np.asarray(fn(u), dtype=np.float64)


def objective_eq22(X, Z, recon, g, h) -> float:
    """Eq. (22): g((1/(dn)) sum_i ||x_i - mu_x(z_i)||^2) + (1/d) sum_k h((1/n)||z_k||^2).

    recon (d, n) holds mu_x(z_i); g and h are Penalty objects or callables on u >= 0. Values of
    -inf (h = log at a zero row) and +inf (g = I_inf at a nonzero error) pass through; a sum of
    both is rejected rather than returned as NaN.
    """
    X, Z, recon = _solution(X, Z, recon)
    d = X.shape[0]
    error_term = float(_apply("g", g, np.float64(np.mean((X - recon) ** 2))))
    latent_term = float(np.sum(_apply("h", h, np.mean(Z**2, axis=1)))) / d
    if np.isinf(error_term) and np.isinf(latent_term) and error_term != latent_term:
        raise ValueError("g, h: the objective is inf - inf (nonzero error under I_inf with a log-zero row)")
    return error_term + latent_term


def active_rows(Z, tol: float = 1e-8) -> np.ndarray:
    """Rows of Z (kappa, n) that carry information: root-mean-square sqrt((1/n)||z_k||^2) > tol.

    Returns a bool array (kappa,). tol is absolute, in the units of Z.
    """
    Z = finite_array("Z", Z, ndim=2)
    tol = positive_scalar("tol", tol)
    return np.sqrt(np.mean(Z**2, axis=1)) > tol


def min_active_rows_affine(X, rtol: float = 1e-9) -> int:
    """The fewest active rows any affine decoder needs for zero reconstruction: the rank r of the
    centred data (singular values above rtol times the largest). Definition 1's r for data on an
    affine subspace, which PCA attains."""
    X = finite_array("X", X, ndim=2)
    rtol = positive_scalar("rtol", rtol)
    s = np.linalg.svd(X - X.mean(axis=1, keepdims=True), compute_uv=False)
    if s.size == 0 or s[0] == 0:
        return 0
    return int(np.sum(s > rtol * s[0]))


def is_optimal_sparse(X, Z, recon, r: int | None = None, recon_tol: float = 1e-8,
                      row_tol: float = 1e-8, log_sigma_z=None) -> bool:
    """Definition 1 for an autoencoder solution (or a VAE with log_sigma_z given).

    (i) zero reconstruction: max_i ||x_i - mu_x(z_i)|| <= recon_tol times max(1, max_i ||x_i||);
    (ii) the number of active rows (`active_rows` with row_tol) equals r, the fewest any solution
    of the model class needs (default: `min_active_rows_affine`, right for affine decoders).
    For a VAE (log_sigma_z (kappa, n) or (kappa,)), (ii) also asks that the inactive latents equal
    the prior, q(z_k|x) = N(0, 1): |log sigma_k| <= row_tol on inactive rows.
    """
    X, Z, recon = _solution(X, Z, recon)
    recon_tol = positive_scalar("recon_tol", recon_tol)
    r = min_active_rows_affine(X) if r is None else dimension("r", r, minimum=0)
    scale = max(1.0, float(np.max(np.linalg.norm(X, axis=0))))
    zero_error = float(np.max(np.linalg.norm(X - recon, axis=0))) <= recon_tol * scale
    active = active_rows(Z, row_tol)
    sparse = int(active.sum()) == int(r)
    if log_sigma_z is not None:
        log_sigma_z = finite_array("log_sigma_z", log_sigma_z, ndim=(1, 2))
        same("Z", Z.shape[0], "log_sigma_z", log_sigma_z.shape[0], "kappa (rows)")
        log_sigma_z = log_sigma_z.reshape(Z.shape[0], -1)
        sparse = sparse and bool(np.all(np.abs(log_sigma_z[~active]) <= row_tol))
    return bool(zero_error and sparse)
