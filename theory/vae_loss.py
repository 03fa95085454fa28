"""The VAE energy of Eq. (3): twice the per-sample negative ELBO, constants d log(2 pi) and -kappa dropped.

Decoder N(mu_x(z), gamma I) with gamma a VARIANCE (passed as log_gamma_var), encoder
N(mu_z, diag sigma_z^2), prior N(0, I). X is (d, n), mu_z and log_sigma_z are (kappa, n); a shared
encoder std (main-text Lemma 2, sigma_z(x) = s) is passed as log_sigma_z of shape (kappa,).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from theory._checks import dimension, finite_array, finite_scalar, log_variance, same

__all__ = [
    "kl_terms_eq3",
    "vae_loss_eq3_per_sample",
    "vae_loss_eq3",
    "affine_expected_sq_error",
    "affine_vae_loss_eq3",
    "mc_vae_loss_eq3",
    "neg_elbo_per_sample",
]


def _data(X) -> np.ndarray:
    X = finite_array("X", X, ndim=2)
    if X.size == 0:
        raise ValueError(f"X: empty array of shape {X.shape}")
    return X


def _latents(X: np.ndarray, mu_z, log_sigma_z) -> tuple[np.ndarray, np.ndarray]:
    """mu_z (kappa, n) and log_sigma_z broadcast to (kappa, n) (a (kappa,) shared std is allowed)."""
    n = X.shape[1]
    mu_z = finite_array("mu_z", mu_z, ndim=2)
    same("X", n, "mu_z", mu_z.shape[1], "the number of samples (columns)")
    dimension("kappa", mu_z.shape[0])
    log_sigma_z = finite_array("log_sigma_z", log_sigma_z, ndim=(1, 2))
    same("mu_z", mu_z.shape[0], "log_sigma_z", log_sigma_z.shape[0], "kappa (rows)")
    if log_sigma_z.size and np.abs(log_sigma_z).max() > 350.0:
        raise ValueError("log_sigma_z: |log sigma| > 350 puts sigma^2 beyond float64's range")
    if log_sigma_z.ndim == 1:
        log_sigma_z = np.broadcast_to(log_sigma_z[:, None], mu_z.shape)
    else:
        same("mu_z", n, "log_sigma_z", log_sigma_z.shape[1], "the number of samples (columns)")
    return mu_z, log_sigma_z


def kl_terms_eq3(mu_z, log_sigma_z) -> np.ndarray:
    """Per-sample ||sigma_z||^2 - log|diag sigma_z^2| + ||mu_z||^2 of Eq. (3), shape (n,).

    Written as kappa + sum_k [expm1(2 log sigma) - 2 log sigma] + ||mu||^2: each bracket is >= 0
    in float64 too (the textbook exp(v) - 1 - v goes negative through round-off for tiny v).
    This is twice the KL divergence to N(0, I) plus kappa.
    """
    mu_z = finite_array("mu_z", mu_z, ndim=2)
    log_sigma_z = finite_array("log_sigma_z", log_sigma_z, ndim=(1, 2))
    if log_sigma_z.ndim == 1:
        log_sigma_z = np.broadcast_to(log_sigma_z[:, None], mu_z.shape)
    same("mu_z", mu_z.shape[0], "log_sigma_z", log_sigma_z.shape[0], "kappa (rows)")
    v = 2.0 * log_sigma_z
    return mu_z.shape[0] + np.sum(np.expm1(v) - v, axis=0) + np.sum(mu_z**2, axis=0)


def vae_loss_eq3_per_sample(X, recon, mu_z, log_sigma_z, log_gamma_var) -> np.ndarray:
    """The braces of Eq. (3) for each sample, shape (n,), the expectation E_q replaced by the mean
    over S decoder outputs: recon (S, d, n) holds mu_x(z) at z ~ q(z|x^(i)); (d, n) means S = 1."""
    X = _data(X)
    log_gamma_var = log_variance("log_gamma_var", log_gamma_var)
    recon = finite_array("recon", recon, ndim=(2, 3))
    if recon.ndim == 2:
        recon = recon[None]
    if recon.shape[1:] != X.shape:
        raise ValueError(f"recon: expected shape (S, {X.shape[0]}, {X.shape[1]}) or {X.shape}, got {recon.shape}")
    mu_z, log_sigma_z = _latents(X, mu_z, log_sigma_z)
    d = X.shape[0]
    sq_error = np.mean(np.sum((X[None] - recon) ** 2, axis=1), axis=0)  # E_q ||x - mu_x(z)||^2, (n,)
    return sq_error * math.exp(-log_gamma_var) + d * log_gamma_var + kl_terms_eq3(mu_z, log_sigma_z)


def vae_loss_eq3(X, recon, mu_z, log_sigma_z, log_gamma_var) -> float:
    """Eq. (3) averaged over the n samples (see `vae_loss_eq3_per_sample` for shapes)."""
    return float(np.mean(vae_loss_eq3_per_sample(X, recon, mu_z, log_sigma_z, log_gamma_var)))


def _affine(X, W, b, mu_z):
    W = finite_array("W", W, ndim=2)
    b = finite_array("b", b, ndim=1)
    same("X", X.shape[0], "W", W.shape[0], "d (rows)")
    same("X", X.shape[0], "b", b.shape[0], "d")
    same("W", W.shape[1], "mu_z", np.shape(mu_z)[0], "kappa")
    return W, b


def affine_expected_sq_error(X, W, b, mu_z, log_sigma_z) -> np.ndarray:
    """E_q ||x^(i) - W z - b||^2 = ||x^(i) - W mu^(i) - b||^2 + sum_k ||w_k||^2 sigma_{k,i}^2, (n,).

    Exact for the affine decoder mu_x(z) = W z + b (W (d, kappa), b (d,)), since z - mu has
    independent coordinates of variance sigma_k^2.
    """
    X = _data(X)
    mu_z, log_sigma_z = _latents(X, mu_z, log_sigma_z)
    W, b = _affine(X, W, b, mu_z)
    residual = X - W @ mu_z - b[:, None]
    column_sq_norms = np.sum(W**2, axis=0)  # ||w_k||^2, (kappa,)
    return np.sum(residual**2, axis=0) + column_sq_norms @ np.exp(2.0 * log_sigma_z)


def affine_vae_loss_eq3(X, W, b, mu_z, log_sigma_z, log_gamma_var) -> float:
    """Eq. (3) with the exact expectation for the affine decoder W z + b, averaged over n."""
    X = _data(X)
    log_gamma_var = log_variance("log_gamma_var", log_gamma_var)
    sq_error = affine_expected_sq_error(X, W, b, mu_z, log_sigma_z)
    mu_z, log_sigma_z = _latents(X, mu_z, log_sigma_z)
    per_sample = (sq_error * math.exp(-log_gamma_var) + X.shape[0] * log_gamma_var
                  + kl_terms_eq3(mu_z, log_sigma_z))
    return float(np.mean(per_sample))


def mc_vae_loss_eq3(X, decoder: Callable[[np.ndarray], np.ndarray], mu_z, log_sigma_z,
                    log_gamma_var, n_draws: int, seed: int, antithetic: bool = True):
    """Monte-Carlo Eq. (3) for any decoder: z = mu + sigma * e with e ~ N(0, I), seeded.

    decoder maps Z (kappa, n) to mu_x(Z) (d, n). With antithetic=True the draws come in pairs
    (e, -e), which cancels every odd term of the Taylor expansion in sigma. Returns
    (estimate, standard_error, recon (n_draws, d, n)); the standard error is that of the mean of
    the per-draw averages over n (pairs counted as one draw when antithetic).
    """
    X = _data(X)
    n_draws = dimension("n_draws", n_draws, minimum=2 if antithetic else 1)
    if antithetic and n_draws % 2:
        raise ValueError(f"n_draws: must be even with antithetic draws, got {n_draws}")
    mu_z, log_sigma_z = _latents(X, mu_z, log_sigma_z)
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((n_draws // 2 if antithetic else n_draws,) + mu_z.shape)
    noise = np.concatenate([base, -base]) if antithetic else base
    sigma = np.exp(log_sigma_z)
    recon = np.stack([np.asarray(decoder(mu_z + sigma * e), dtype=np.float64) for e in noise])
    if recon.shape[1:] != X.shape:
        raise ValueError(f"decoder: returned shape {recon.shape[1:]}, expected {X.shape}")
    estimate = vae_loss_eq3(X, recon, mu_z, log_sigma_z, log_gamma_var)
    gamma_inv = math.exp(-finite_scalar("log_gamma_var", log_gamma_var))
    per_draw = np.mean(np.sum((X[None] - recon) ** 2, axis=1), axis=1) * gamma_inv  # (n_draws,)
    if antithetic:
        per_draw = 0.5 * (per_draw[: n_draws // 2] + per_draw[n_draws // 2:])
    std_error = float(np.std(per_draw, ddof=1) / math.sqrt(per_draw.size)) if per_draw.size > 1 else math.nan
    return estimate, std_error, recon


def neg_elbo_per_sample(eq3_value, d, kappa) -> float:
    """The per-sample negative ELBO in nats from an Eq. (3) value: 0.5 (eq3 + d log(2 pi) - kappa).

    -ELBO = E_q[-log N(x; mu_x, gamma I)] + KL(q || N(0, I))
          = 0.5 [E||x - mu_x||^2 / gamma + d log gamma + d log 2pi]
            + 0.5 [||sigma||^2 - log|diag sigma^2| + ||mu||^2 - kappa],
    so Eq. (3) is twice the negative ELBO without d log(2 pi) and -kappa.
    """
    eq3_value = finite_scalar("eq3_value", eq3_value)
    d = dimension("d", d)
    kappa = dimension("kappa", kappa)
    return 0.5 * (eq3_value + d * math.log(2.0 * math.pi) - kappa)
