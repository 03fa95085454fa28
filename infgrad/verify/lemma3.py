"""`infgrad verify` rows for Lemma 3 (supplement section 8.2, Eq. 16-19), for a tanh decoder.

gamma is the decoder VARIANCE; the expectation over q(z|x) is a mean over 8 seeded antithetic draws.
"""
from __future__ import annotations

import math

import numpy as np

from infgrad.tolerances import RATE_SLOPE_ATOL, ROUNDOFF_RTOL, eq3_gamma_argmin_rtol
from infgrad.verify.rows import Check, Row, Settings, brent_argmin, check
from theory import lemma3, objective, penalties, vae_loss

CHECKS: list[Check] = []
DRAWS = 8


def _tanh_problem(seed: int):
    """X (4, 6), mu_z (2, 6) and the decoder B tanh(A z + a) + c with 8 hidden units."""
    rng = np.random.default_rng([seed, 3])
    d, kappa, n, hidden = 4, 2, 6, 8
    A, a = rng.standard_normal((hidden, kappa)), rng.standard_normal(hidden)
    B, c = rng.standard_normal((d, hidden)) / math.sqrt(hidden), rng.standard_normal(d)
    decoder = lambda Z: B @ np.tanh(A @ Z + a[:, None]) + c[:, None]  # noqa: E731
    return rng.standard_normal((d, n)), rng.standard_normal((kappa, n)), decoder


def _draws(X, mu, decoder, sigma: float, seed: int) -> np.ndarray:
    """Decoder outputs (DRAWS, d, n) at z = mu + sigma e, antithetic e (odd powers of sigma cancel)."""
    log_sigma = np.full(mu.shape, math.log(sigma))
    return vae_loss.mc_vae_loss_eq3(X, decoder, mu, log_sigma, 0.0, DRAWS, seed)[2]


@check(CHECKS)
def gamma_star(settings: Settings) -> list[Row]:
    X, mu, decoder = _tanh_problem(settings.seed)
    log_sigma = np.full(mu.shape, math.log(0.3))
    recon = _draws(X, mu, decoder, 0.3, settings.seed)
    star = lemma3.gamma_star(X, recon)
    loss = lambda v: vae_loss.vae_loss_eq3(X, recon, mu, log_sigma, v)  # noqa: E731
    found = math.exp(brent_argmin(loss, 0.0))
    (d, n), kappa = X.shape, mu.shape[0]
    sq_error = np.mean(np.sum((X[None] - recon) ** 2, axis=1), axis=0)
    # the mean over the draws of d squares, the sums over kappa, the mean over n
    tol = eq3_gamma_argmin_rtol(sq_error, d, math.log(star), mu, log_sigma, recon.shape[0] * d + 3 * kappa + n + 10)
    rel = abs(found / star - 1)
    return [Row("lemma3.gamma_star", "gamma* = (1/dn) sum E||x - mu_x(z)||^2 is the argmin over gamma", "(16)",
                "rel. diff", rel, 0.0, rel <= tol, tol, "eq3_gamma_argmin_rtol",
                "lemma3.gamma_star against a Brent search on log gamma; tanh decoder, 8 seeded draws")]


@check(CHECKS)
def eq17_constant(settings: Settings) -> list[Row]:
    X, mu, decoder = _tanh_problem(settings.seed)
    log_sigma = np.full(mu.shape, math.log(0.3))
    recon = _draws(X, mu, decoder, 0.3, settings.seed)
    at_star = vae_loss.vae_loss_eq3(X, recon, mu, log_sigma, math.log(lemma3.gamma_star(X, recon)))
    eq17 = lemma3.loss_eq17(X, recon, mu)
    expected = lemma3.eq17_constant(X.shape[0], log_sigma)
    tol = ROUNDOFF_RTOL * (abs(at_star) + abs(eq17) + abs(expected))
    gap = at_star - eq17
    return [Row("lemma3.eq17_constant", "Eq. (3) at gamma* minus (17) is d + sigma-only terms", "(17)",
                "difference", gap, expected, abs(gap - expected) <= tol, tol, "ROUNDOFF_RTOL",
                "lemma3.loss_eq17 and lemma3.eq17_constant")]


@check(CHECKS)
def eq18_limit(settings: Settings) -> list[Row]:
    """(17) - (18) = a sigma^2 + O(sigma^4) with antithetic draws: fitted slope 2 in log sigma."""
    X, mu, decoder = _tanh_problem(settings.seed)
    limit = lemma3.loss_eq18(X, decoder(mu), mu)
    sigmas = np.geomspace(1e-2, 1e-5, 7)
    gaps = np.array([lemma3.loss_eq17(X, _draws(X, mu, decoder, s, settings.seed), mu) - limit for s in sigmas])
    one_sign = bool(np.all(gaps > 0) or np.all(gaps < 0))
    slope = float(np.polyfit(np.log(sigmas), np.log(np.abs(gaps)), 1)[0]) if np.all(gaps != 0) else 0.0
    return [Row("lemma3.eq18_limit", "(17) -> (18) as sigma_z -> 0, gap O(sigma^2)", "(18)", "slope", slope, 2,
                one_sign and abs(slope - 2) <= RATE_SLOPE_ATOL, RATE_SLOPE_ATOL, "RATE_SLOPE_ATOL",
                f"antithetic draws, sigma = 1e-2..1e-5; gap of one sign: {one_sign}")]


@check(CHECKS)
def eq19_is_eq22(settings: Settings) -> list[Row]:
    X, mu, decoder = _tanh_problem(settings.seed)
    recon = decoder(mu)
    eq19 = lemma3.loss_eq19(X, recon, mu)
    via22 = objective.objective_eq22(X, mu, recon, penalties.log_penalty(), penalties.log_penalty())
    tol = ROUNDOFF_RTOL * max(1.0, abs(eq19))
    return [Row("lemma3.eq19_is_eq22", "(19) is L_{g,h} of (22) with g = h = log", "(19), (22)", "(19)", eq19, via22,
                abs(eq19 - via22) <= tol, tol, "ROUNDOFF_RTOL", "lemma3.loss_eq19 against objective.objective_eq22")]
