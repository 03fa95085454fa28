"""Lemma 3 (supplement section 8.2): gamma* of Eq. (16) and the reduced losses (17), (18), (19)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from infgrad.tolerances import BRENT_XTOL, RATE_SLOPE_ATOL, ROUNDOFF_ATOL, ROUNDOFF_RTOL, eq3_gamma_argmin_rtol
from tests.strategies import affine_vae_problems, decoder_problems, seeds
from theory.lemma3 import eq17_constant, gamma_star, gamma_star_affine, loss_eq17, loss_eq18, loss_eq19
from theory.objective import objective_eq22
from theory.penalties import log_penalty
from theory.vae_loss import affine_expected_sq_error, affine_vae_loss_eq3, mc_vae_loss_eq3, vae_loss_eq3


def _argmin_over_log_gamma(loss_of_log_gamma, guess: float) -> float:
    res = minimize_scalar(loss_of_log_gamma, bracket=(guess - 1.0, guess + 1.0), method="brent",
                          options={"xtol": BRENT_XTOL})
    return math.exp(res.x)


@given(problem=decoder_problems(), seed=seeds)
def test_gamma_star_is_the_argmin_of_eq3_for_any_decoder(problem, seed):
    """Eq. (16): gamma* = (1/(dn)) sum_i E_q ||x_i - mu_x(z)||^2 minimizes (3) over gamma, for a
    random tanh decoder with the expectation over 8 seeded draws; a scalar minimizer on log gamma agrees."""
    p = problem
    _, _, recon = mc_vae_loss_eq3(p.X, p.decoder, p.mu_z, p.log_sigma_z, 0.0, 8, seed)
    star = gamma_star(p.X, recon)
    found = _argmin_over_log_gamma(lambda v: vae_loss_eq3(p.X, recon, p.mu_z, p.log_sigma_z, v), math.log(star))
    (d, n), kappa = p.X.shape, p.mu_z.shape[0]
    sq_error = np.mean(np.sum((p.X[None] - recon) ** 2, axis=1), axis=0)
    # the mean over 8 draws of d squares, the sums over kappa, the mean over n
    rtol = eq3_gamma_argmin_rtol(sq_error, d, math.log(star), p.mu_z, p.log_sigma_z, 8 * d + 3 * kappa + n + 10)
    np.testing.assert_allclose(found, star, rtol=rtol)


@given(problem=affine_vae_problems())
def test_gamma_star_affine_is_the_argmin_of_the_exact_affine_eq3(problem):
    """Eq. (16) in closed form for the affine decoder: argmin over gamma of the exact affine (3)."""
    p = problem
    star = gamma_star_affine(p.X, p.W, p.b, p.mu_z, p.log_sigma_z)
    fun = lambda v: affine_vae_loss_eq3(p.X, p.W, p.b, p.mu_z, p.log_sigma_z, v)  # noqa: E731
    found = _argmin_over_log_gamma(fun, math.log(star))
    sq_error = affine_expected_sq_error(p.X, p.W, p.b, p.mu_z, p.log_sigma_z)
    n_terms = p.d * p.kappa + p.d + 3 * p.kappa + p.X.shape[1] + 10  # W mu, the sums, the mean over n
    rtol = eq3_gamma_argmin_rtol(sq_error, p.d, math.log(star), p.mu_z, p.log_sigma_z, n_terms)
    np.testing.assert_allclose(found, star, rtol=rtol)


@given(problem=decoder_problems(), seed=seeds)
def test_eq3_at_gamma_star_is_eq17_plus_its_constant(problem, seed):
    """Eq. (17): Eq. (3) at gamma* = d log gamma* + (1/n) sum ||mu_i||^2 + d + sigma-only terms."""
    p = problem
    _, _, recon = mc_vae_loss_eq3(p.X, p.decoder, p.mu_z, p.log_sigma_z, 0.0, 4, seed)
    at_star = vae_loss_eq3(p.X, recon, p.mu_z, p.log_sigma_z, math.log(gamma_star(p.X, recon)))
    expected = loss_eq17(p.X, recon, p.mu_z) + eq17_constant(p.X.shape[0], p.log_sigma_z)
    np.testing.assert_allclose(at_star, expected, rtol=ROUNDOFF_RTOL, atol=ROUNDOFF_ATOL * 100)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_eq17_tends_to_eq18_like_sigma_squared(seed):
    """Eq. (18) is the sigma_z -> 0 limit of (17) for a smooth decoder: with antithetic draws
    (e, -e) the odd powers cancel and (17) - (18) = a sigma^2 + O(sigma^4). Fitted on
    sigma = 1e-2 .. 1e-5 (the gap there is >= ~1e-10 |a|, far above round-off ~1e-15 |L|):
    slope 2 in log sigma within RATE_SLOPE_ATOL."""
    rng = np.random.default_rng(seed)
    d, kappa, n, hidden = 4, 2, 6, 8
    A, a = rng.standard_normal((hidden, kappa)), rng.standard_normal(hidden)
    B, c = rng.standard_normal((d, hidden)) / math.sqrt(hidden), rng.standard_normal(d)
    decoder = lambda Z: B @ np.tanh(A @ Z + a[:, None]) + c[:, None]  # noqa: E731
    X, mu = rng.standard_normal((d, n)), rng.standard_normal((kappa, n))
    limit = loss_eq18(X, decoder(mu), mu)
    sigmas = np.geomspace(1e-2, 1e-5, 7)
    gaps = []
    for sigma in sigmas:
        log_sigma = np.full((kappa, n), math.log(sigma))
        _, _, recon = mc_vae_loss_eq3(X, decoder, mu, log_sigma, 0.0, 8, seed)
        gaps.append(loss_eq17(X, recon, mu) - limit)
    gaps = np.array(gaps)
    # a can have either sign for a curved decoder (E||x - f(z)||^2 may be below ||x - f(mu)||^2);
    # one sign on the whole grid says the sigma^2 term dominates there
    assert np.all(gaps > 0) or np.all(gaps < 0)
    slope = np.polyfit(np.log(sigmas), np.log(np.abs(gaps)), 1)[0]
    np.testing.assert_allclose(slope, 2.0, atol=RATE_SLOPE_ATOL)


@given(problem=affine_vae_problems(), log_sigma=st.floats(-12.0, 0.0))
def test_eq17_minus_eq18_in_closed_form_for_an_affine_decoder(problem, log_sigma):
    """Closed-form companion of the fitted slope 2: for mu_x(z) = W z + b with the exact expectation,
    gamma* = e + sigma^2 ||W||_F^2 / d (e = the error at the means, per entry), so (17) - (18) =
    d log(1 + sigma^2 ||W||_F^2 / (d e)) = sigma^2 ||W||_F^2 / e + O(sigma^4)."""
    p = problem
    d = p.d
    log_sigma_z = np.full_like(p.mu_z, log_sigma)
    eq17_exact = d * math.log(gamma_star_affine(p.X, p.W, p.b, p.mu_z, log_sigma_z)) + np.sum(p.mu_z**2) / p.X.shape[1]
    recon_at_mu = p.W @ p.mu_z + p.b[:, None]
    error = float(np.mean((p.X - recon_at_mu) ** 2))
    expected = d * math.log1p(math.exp(2 * log_sigma) * np.sum(p.W**2) / (d * error))
    gap = eq17_exact - loss_eq18(p.X, recon_at_mu, p.mu_z)
    # the difference of two O(|loss|) numbers: round-off relative to them, not to the (small) gap
    assert abs(gap - expected) <= ROUNDOFF_RTOL * (abs(eq17_exact) + 1.0)


@given(problem=decoder_problems())
def test_eq19_is_eq22_with_g_and_h_log_and_eq18_after_the_log_transform(problem):
    """Eq. (19) = L_{g,h} of (22) with g = h = log, and = (18) with (1/n)||z_k||^2 -> log(.) over d."""
    p = problem
    recon = p.decoder(p.mu_z)
    value = loss_eq19(p.X, recon, p.mu_z)
    h = log_penalty()
    np.testing.assert_allclose(value, objective_eq22(p.X, p.mu_z, recon, h, h), rtol=ROUNDOFF_RTOL,
                               atol=ROUNDOFF_ATOL * 10)
    d = p.X.shape[0]
    mse = np.mean((p.X - recon) ** 2)
    transformed_18 = d * math.log(mse) + np.sum(np.log(np.mean(p.mu_z**2, axis=1)))
    np.testing.assert_allclose(value, transformed_18 / d, rtol=ROUNDOFF_RTOL, atol=ROUNDOFF_ATOL * 10)
    # and (18) itself: d log mse + sum of row energies
    np.testing.assert_allclose(loss_eq18(p.X, recon, p.mu_z), d * math.log(mse) + np.sum(p.mu_z**2) / p.X.shape[1],
                               rtol=ROUNDOFF_RTOL, atol=ROUNDOFF_ATOL * 10)


def test_perfect_reconstruction_sends_eq17_to_eq19_to_minus_infinity():
    """gamma* = 0 (zero error): (3) is unbounded below, and (17)-(19) return -inf, not NaN."""
    X = np.ones((2, 3))
    Z = np.ones((1, 3))
    assert gamma_star(X, X) == 0.0
    assert loss_eq17(X, X, Z) == loss_eq18(X, X, Z) == loss_eq19(X, X, Z) == -math.inf


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: gamma_star(np.ones((2, 3)), np.ones((2, 4))), "recon"),
        (lambda: gamma_star(np.full((2, 3), np.nan), np.ones((2, 3))), "X"),
        (lambda: loss_eq18(np.ones((2, 3)), np.ones((2, 3)), np.ones((1, 4))), "Z"),
        (lambda: loss_eq19(np.ones((2, 3)), np.ones((2, 3)), np.ones((0, 3))), "kappa"),
        (lambda: loss_eq17(np.ones((2, 3)), np.ones((2, 3)), np.ones((1, 2))), "mu_z"),
        (lambda: eq17_constant(0, np.zeros(2)), "d"),
    ],
)
def test_bad_input_raises_naming_the_argument(call, argument):
    with pytest.raises(ValueError, match=f"^{argument}:"):
        call()


def test_eq17_constant_with_a_shared_sigma_equals_the_per_sample_form():
    """The sigma part of (17): d + (1/n) sum_i sum_k [sigma_{k,i}^2 - log sigma_{k,i}^2 - 1] + kappa
    = d + sum_k [sigma_k^2 - 2 log sigma_k] for one sigma_k shared by all samples; a (kappa,) input
    means that shared std and gives the same number as the (kappa, n) array that repeats it."""
    log_sigma = np.array([0.1, -0.2])
    expected = 3 + np.sum(np.exp(2 * log_sigma) - 2 * log_sigma)
    assert eq17_constant(3, log_sigma) == pytest.approx(expected, rel=ROUNDOFF_RTOL)
    assert eq17_constant(3, np.repeat(log_sigma[:, None], 4, axis=1)) == pytest.approx(expected, rel=ROUNDOFF_RTOL)


def test_eq19_is_zero_at_unit_error_and_unit_rows_and_minus_inf_at_a_zero_row():
    """Eq. (19) = log(mse) + (1/d) sum_k log(row energy): an error of exactly 1 per entry and rows of
    +-1 give log 1 + log 1 = 0 (exact); a zero row gives log 0 = -inf with a finite error."""
    X = np.array([[1.0, -1.0, 1.0, -1.0], [2.0, 0.0, 2.0, 0.0]])
    recon = X + np.array([[1.0, -1.0, -1.0, 1.0], [-1.0, 1.0, 1.0, -1.0]])
    Z = np.array([[1.0, -1.0, 1.0, -1.0], [-1.0, -1.0, 1.0, 1.0]])
    assert loss_eq19(X, recon, Z) == 0.0
    Z[1] = 0.0
    assert loss_eq19(X, recon, Z) == -math.inf
