"""Lemma 3 (supplement section 8.2, Eq. 16-19): with gamma at its optimum gamma*, Eq. (3) becomes
d log(reconstruction error) plus latent energies, and h = log after the log transformation.

Any decoder. X (d, n); recon (S, d, n) decoder outputs at z ~ q(z|x) (or (d, n) for S = 1);
recon_at_mu (d, n) = mu_x(mu_z(x)); Z = mu_z (kappa, n). gamma is the decoder VARIANCE.
"""
from __future__ import annotations

import math

import numpy as np

from theory._checks import dimension, finite_array, same
from theory.vae_loss import affine_expected_sq_error, kl_terms_eq3

__all__ = [
    "gamma_star",
    "gamma_star_affine",
    "loss_eq17",
    "eq17_constant",
    "loss_eq18",
    "loss_eq19",
]


def _recon_samples(X, recon) -> tuple[np.ndarray, np.ndarray]:
    X = finite_array("X", X, ndim=2)
    recon = finite_array("recon", recon, ndim=(2, 3))
    if recon.ndim == 2:
        recon = recon[None]
    if recon.shape[1:] != X.shape:
        raise ValueError(f"recon: expected shape (S, {X.shape[0]}, {X.shape[1]}) or {X.shape}, got {recon.shape}")
    return X, recon


def gamma_star(X, recon) -> float:
    """Eq. (16): gamma* = (1/(dn)) sum_i E_q ||x^(i) - mu_x(z)||^2, the expectation a mean over S.

    Eq. (3) depends on gamma through e/gamma + d log gamma with e the mean expected squared error;
    the derivative -e/gamma^2 + d/gamma vanishes at gamma = e/d, a minimum (the second derivative
    there is d^3/e^2 > 0). gamma* = 0 (perfect reconstruction) leaves Eq. (3) unbounded below.
    """
    X, recon = _recon_samples(X, recon)
    return float(np.mean((X[None] - recon) ** 2))


def gamma_star_affine(X, W, b, mu_z, log_sigma_z) -> float:
    """Eq. (16) in closed form for mu_x(z) = W z + b:
    (1/(dn)) sum_i [||x_i - W mu_i - b||^2 + sum_k ||w_k||^2 sigma_{k,i}^2]."""
    X = finite_array("X", X, ndim=2)
    return float(np.mean(affine_expected_sq_error(X, W, b, mu_z, log_sigma_z)) / X.shape[0])


def loss_eq17(X, recon, mu_z) -> float:
    """Eq. (17): d log gamma* + (1/n) sum_i ||mu_z^(i)||^2, gamma* from the same samples (Eq. 16).

    Eq. (3) at gamma* = (17) + `eq17_constant`: the error term becomes e/gamma* = d, and the encoder
    variance terms are kept aside as "terms that only depend on sigma_z".
    """
    X, recon = _recon_samples(X, recon)
    mu_z = finite_array("mu_z", mu_z, ndim=2)
    same("X", X.shape[1], "mu_z", mu_z.shape[1], "the number of samples (columns)")
    gamma = gamma_star(X, recon)
    if gamma == 0:
        return -math.inf
    return float(X.shape[0] * math.log(gamma) + np.sum(mu_z**2) / X.shape[1])


def eq17_constant(d, log_sigma_z, n: int | None = None) -> float:
    """Eq. (3) at gamma* minus (17): d + (1/n) sum_i sum_k [sigma_{k,i}^2 - log sigma_{k,i}^2].

    log_sigma_z is (kappa, n), or (kappa,) for a shared std. The sigma part grows without bound as
    sigma_z -> 0 (-log sigma^2 -> inf): (18) drops it, as the supplement says, with the other
    sigma-only terms. Computed as kl_terms_eq3 with mu = 0 (the kappa + expm1 form, no cancellation).
    """
    d = dimension("d", d)
    log_sigma_z = finite_array("log_sigma_z", log_sigma_z, ndim=(1, 2))
    if log_sigma_z.ndim == 1:
        log_sigma_z = log_sigma_z[:, None]
    return float(d + np.mean(kl_terms_eq3(np.zeros_like(log_sigma_z), log_sigma_z)))


def _row_energies(X, recon_at_mu, Z) -> tuple[float, np.ndarray, int]:
    X = finite_array("X", X, ndim=2)
    recon_at_mu = finite_array("recon_at_mu", recon_at_mu, ndim=2)
    if recon_at_mu.shape != X.shape:
        raise ValueError(f"recon_at_mu: expected shape {X.shape}, got {recon_at_mu.shape}")
    Z = finite_array("Z", Z, ndim=2)
    same("X", X.shape[1], "Z", Z.shape[1], "the number of samples (columns)")
    dimension("kappa", Z.shape[0])
    mse = float(np.mean((X - recon_at_mu) ** 2))  # (1/(dn)) sum_i ||x_i - mu_x(z_i)||^2
    return mse, np.mean(Z**2, axis=1), X.shape[0]


def loss_eq18(X, recon_at_mu, Z) -> float:
    """Eq. (18), the sigma_z -> 0 limit of (17): d log((1/(dn)) sum_i ||x_i - mu_x(z_i)||^2)
    + sum_k (1/n)||z_k||^2, z_i = mu_z(x_i). -inf for a perfect reconstruction."""
    mse, energies, d = _row_energies(X, recon_at_mu, Z)
    if mse == 0:
        return -math.inf
    return float(d * math.log(mse) + np.sum(energies))


def loss_eq19(X, recon_at_mu, Z) -> float:
    """Eq. (19): (18) with each (1/n)||z_k||^2 replaced by its log, divided by d:
    log((1/(dn)) sum_i ||x_i - mu_x(z_i)||^2) + (1/d) sum_k log((1/n)||z_k||^2),
    i.e. L_{g,h} of Eq. (22) with g = h = log. -inf when the error or a row energy is 0."""
    mse, energies, d = _row_energies(X, recon_at_mu, Z)
    if mse == 0 or (energies == 0).any():
        return -math.inf
    return float(math.log(mse) + np.sum(np.log(energies)) / d)
