"""The VAE energy of Eq. (3), its affine closed form and the constant conventions."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from scipy.stats import norm

from infgrad.tolerances import MC_SIGMAS, ROUNDOFF_ATOL, ROUNDOFF_RTOL
from tests.strategies import affine_vae_problems, log_gamma_vars, seeds
from theory.vae_loss import (
    affine_vae_loss_eq3,
    kl_terms_eq3,
    mc_vae_loss_eq3,
    neg_elbo_per_sample,
    vae_loss_eq3,
    vae_loss_eq3_per_sample,
)


@given(problem=affine_vae_problems(), seed=seeds)
def test_affine_expectation_matches_monte_carlo(problem, seed):
    """E||x - W z - b||^2 = ||x - W mu - b||^2 + sum_k ||w_k||^2 sigma_k^2: the exact affine Eq. (3)
    lies within MC_SIGMAS standard errors of a seeded 400-draw Monte-Carlo estimate."""
    p = problem
    exact = affine_vae_loss_eq3(p.X, p.W, p.b, p.mu_z, p.log_sigma_z, p.log_gamma_var)
    estimate, std_error, _ = mc_vae_loss_eq3(
        p.X, lambda Z: p.W @ Z + p.b[:, None], p.mu_z, p.log_sigma_z, p.log_gamma_var, 400, seed,
        antithetic=False,
    )
    assert abs(estimate - exact) <= MC_SIGMAS * std_error + ROUNDOFF_RTOL * abs(exact)


@given(problem=affine_vae_problems(), seed=seeds)
def test_antithetic_draws_are_exact_for_an_affine_decoder(problem, seed):
    """Antithetic pairs (e, -e): the pair average of affine decoder outputs W(mu +/- sigma e) + b is
    exactly W mu + b, so every odd power of sigma cancels from the estimate (used for Eq. 18's rate)."""
    p = problem
    _, _, recon = mc_vae_loss_eq3(p.X, lambda Z: p.W @ Z + p.b[:, None], p.mu_z, p.log_sigma_z,
                                  p.log_gamma_var, 2, seed)
    np.testing.assert_allclose(0.5 * (recon[0] + recon[1]), p.W @ p.mu_z + p.b[:, None],
                               rtol=ROUNDOFF_RTOL, atol=ROUNDOFF_ATOL * (1 + np.abs(recon).max()))


@given(problem=affine_vae_problems())
def test_eq3_is_twice_the_negative_elbo_without_constants(problem):
    """neg_elbo_per_sample(Eq. 3) = mean_i [-log N(x_i; mu_x, gamma I) + KL(q_i || N(0, I))] computed
    from scipy's Gaussian log-density and the textbook KL, for one decoder output per sample."""
    p = problem
    recon = p.W @ p.mu_z + p.b[:, None]
    eq3 = vae_loss_eq3(p.X, recon, p.mu_z, p.log_sigma_z, p.log_gamma_var)
    std_x = math.exp(0.5 * p.log_gamma_var)
    nll = -np.sum(norm.logpdf(p.X, loc=recon, scale=std_x), axis=0)
    sigma_sq = np.exp(2 * p.log_sigma_z)
    kl = 0.5 * np.sum(sigma_sq + p.mu_z**2 - 1 - 2 * p.log_sigma_z, axis=0)
    expected = float(np.mean(nll + kl))
    np.testing.assert_allclose(neg_elbo_per_sample(eq3, p.d, p.kappa), expected,
                               rtol=ROUNDOFF_RTOL, atol=ROUNDOFF_ATOL * max(1.0, abs(expected)))


@given(problem=affine_vae_problems())
def test_shared_encoder_std_equals_its_broadcast(problem):
    """A (kappa,) log_sigma_z (main-text Lemma 2's s) is the same as that std in every column."""
    p = problem
    shared = p.log_sigma_z[:, 0]
    full = np.repeat(shared[:, None], p.X.shape[1], axis=1)
    a = affine_vae_loss_eq3(p.X, p.W, p.b, p.mu_z, shared, p.log_gamma_var)
    b = affine_vae_loss_eq3(p.X, p.W, p.b, p.mu_z, full, p.log_gamma_var)
    assert a == pytest.approx(b, rel=ROUNDOFF_RTOL, abs=ROUNDOFF_ATOL)


def test_kl_terms_stay_at_least_kappa_for_tiny_log_sigma():
    """||sigma||^2 - log sigma^2 >= 1 per latent, even at log sigma = 1e-104 where the textbook
    exp(v) - 1 - v rounds to a negative number; the expm1 form returns exactly kappa + ||mu||^2."""
    log_sigma = np.full((3, 2), 1e-104)
    assert np.all(kl_terms_eq3(np.zeros((3, 2)), log_sigma) >= 3.0)
    assert np.all(kl_terms_eq3(np.zeros((3, 2)), log_sigma) == 3.0)  # expm1(v) = v exactly for tiny v


def test_kl_terms_in_closed_form():
    """Per sample, kappa + sum_k (sigma_k^2 - 1 - log sigma_k^2) + ||mu||^2 at sigma = (2, 1/2), mu = (1, 3):
    2 + (4 - 1 - log 4) + (1/4 - 1 + log 4) + 10 = 14.25 (the log 4 cancel)."""
    value = kl_terms_eq3(np.array([[1.0], [3.0]]), np.array([[math.log(2.0)], [-math.log(2.0)]]))
    np.testing.assert_allclose(value, [14.25], rtol=ROUNDOFF_RTOL)


@given(problem=affine_vae_problems(), log_gamma_var=log_gamma_vars())
def test_per_sample_terms_average_to_the_loss(problem, log_gamma_var):
    """vae_loss_eq3 is the mean over n of the braces of Eq. (3)."""
    p = problem
    recon = p.W @ p.mu_z + p.b[:, None]
    terms = vae_loss_eq3_per_sample(p.X, recon, p.mu_z, p.log_sigma_z, log_gamma_var)
    assert terms.shape == (p.X.shape[1],)
    assert vae_loss_eq3(p.X, recon, p.mu_z, p.log_sigma_z, log_gamma_var) == pytest.approx(
        float(np.mean(terms)), rel=ROUNDOFF_RTOL, abs=ROUNDOFF_ATOL)


X = np.zeros((3, 4))
MU = np.zeros((2, 4))
LS = np.zeros((2, 4))


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: vae_loss_eq3(X, X, MU, LS, -math.inf), "log_gamma_var"),  # gamma = 0
        (lambda: vae_loss_eq3(X, X, MU, LS, math.nan), "log_gamma_var"),
        (lambda: vae_loss_eq3(X, X, MU, LS, -800.0), "log_gamma_var"),  # 1/gamma overflows
        (lambda: vae_loss_eq3(X, X, MU, np.full((2, 4), 400.0), 0.0), "log_sigma_z"),  # sigma^2 overflows
        (lambda: vae_loss_eq3(np.full((3, 4), np.nan), X, MU, LS, 0.0), "X"),
        (lambda: vae_loss_eq3(X, np.zeros((3, 5)), MU, LS, 0.0), "recon"),
        (lambda: vae_loss_eq3(X, X, np.zeros((2, 5)), LS, 0.0), "mu_z"),
        (lambda: vae_loss_eq3(X, X, np.zeros((0, 4)), LS, 0.0), "kappa"),
        (lambda: vae_loss_eq3(X, X, MU, np.zeros(3), 0.0), "log_sigma_z"),
        (lambda: affine_vae_loss_eq3(X, np.zeros((2, 2)), np.zeros(3), MU, LS, 0.0), "W"),
        (lambda: affine_vae_loss_eq3(X, np.zeros((3, 2)), np.zeros(2), MU, LS, 0.0), "b"),
        (lambda: neg_elbo_per_sample(1.0, 3, 0), "kappa"),
        (lambda: neg_elbo_per_sample(math.inf, 3, 1), "eq3_value"),
    ],
)
def test_bad_input_raises_naming_the_argument(call, argument):
    with pytest.raises(ValueError, match=f"^{argument}:"):
        call()


def test_mc_standard_error_is_that_of_the_per_draw_errors_with_and_without_antithetic_pairs():
    """Monte-Carlo (3) with the decoder mu_x(z) = a z, d = kappa = n = 1: a draw z = mu + sigma e costs
    (x - a z)^2 / gamma; an antithetic pair (e, -e) averages to ((x - a mu)^2 + a^2 sigma^2 e^2) / gamma.
    The standard error is std(ddof=1) / sqrt(count) of those per-draw (per-pair) costs, with e the
    seed's standard normals; recon holds a z per draw."""
    x, a, mu, log_sigma, log_gamma_var = 1.5, 2.0, 0.25, math.log(0.5), math.log(0.5)
    sigma, gamma = 0.5, 0.5
    decoder = lambda Z: a * Z  # noqa: E731
    for antithetic in (True, False):
        _, std_error, recon = mc_vae_loss_eq3(np.array([[x]]), decoder, np.array([[mu]]), np.array([[log_sigma]]),
                                              log_gamma_var, 6, seed=3, antithetic=antithetic)
        e = np.random.default_rng(3).standard_normal(3 if antithetic else 6)
        if antithetic:
            costs = ((x - a * mu) ** 2 + a**2 * sigma**2 * e**2) / gamma
            draws = np.concatenate([e, -e])
        else:
            costs = (x - a * (mu + sigma * e)) ** 2 / gamma
            draws = e
        np.testing.assert_allclose(recon[:, 0, 0], a * (mu + sigma * draws), rtol=ROUNDOFF_RTOL)
        assert std_error == pytest.approx(np.std(costs, ddof=1) / math.sqrt(costs.size), rel=ROUNDOFF_RTOL * 100)
    # two antithetic pairs: two per-pair costs, whose standard error is |c_1 - c_2| / 2
    _, std_error, _ = mc_vae_loss_eq3(np.array([[x]]), decoder, np.array([[mu]]), np.array([[log_sigma]]),
                                      log_gamma_var, 4, seed=3)
    e = np.random.default_rng(3).standard_normal(2)
    costs = ((x - a * mu) ** 2 + a**2 * sigma**2 * e**2) / gamma
    assert std_error == pytest.approx(abs(costs[0] - costs[1]) / 2, rel=ROUNDOFF_RTOL * 100)
