"""Tests of experiments/core/mmd.py: the unbiased MMD^2 used for main-text Figure 4(a)'s MMD column."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.experiments_support import needs_experiments

needs_experiments()
from experiments.core import mmd  # noqa: E402
from infgrad.tolerances import MC_SIGMAS, ROUNDOFF_ATOL, ROUNDOFF_RTOL


def brute_force_mmd2(x, y, scales=mmd.IMQ_SCALES):
    """The unbiased estimator written as explicit double loops over pairs (the O(n^2) reference)."""
    kappa = x.shape[1]

    def k(a, b):
        d2 = float(np.sum((a - b) ** 2))
        return sum(2 * kappa * s / (2 * kappa * s + d2) for s in scales)

    n, m = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(n) for j in range(m)) / (n * m)
    return xx + yy - 2 * xy


@st.composite
def two_samples_in_latent_space(draw):
    """(x, y) of shapes (n, kappa), (m, kappa) with n, m >= 2 (the unbiased estimator's precondition)."""
    kappa = draw(st.integers(1, 6))
    n, m = draw(st.integers(2, 9)), draw(st.integers(2, 9))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from([0.1, 1.0, 10.0]))
    return scale * rng.standard_normal((n, kappa)), rng.standard_normal((m, kappa))


@given(two_samples_in_latent_space())
def test_strategy_draws_at_least_two_samples_of_equal_dimension(sample):
    x, y = sample
    assert len(x) >= 2 and len(y) >= 2 and x.shape[1] == y.shape[1]


@given(two_samples_in_latent_space())
def test_vectorized_mmd2_matches_brute_force_double_loop(sample):
    """Gretton et al. (2012) Lemma 6 estimator: the blocked matrix form equals the pairwise loops."""
    x, y = sample
    np.testing.assert_allclose(mmd.mmd2_unbiased(x, y), brute_force_mmd2(x, y),
                               rtol=ROUNDOFF_RTOL, atol=ROUNDOFF_ATOL)


def test_blocking_over_rows_does_not_change_the_sum(monkeypatch):
    """Blocks of 3 rows (diagonal exclusion crossing block edges) give the unblocked value."""
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((10, 4)), rng.standard_normal((8, 4)) + 0.5
    reference = brute_force_mmd2(x, y)
    monkeypatch.setattr(mmd, "BLOCK", 3)
    np.testing.assert_allclose(mmd.mmd2_unbiased(x, y), reference,
                               rtol=ROUNDOFF_RTOL, atol=ROUNDOFF_ATOL)


def _discrete_draws(weights_p, weights_q, support, n, repeats, seed):
    """Unbiased MMD^2 of `repeats` seeded samples of size n from two discrete laws on `support`."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(repeats):
        x = support[rng.choice(len(support), size=n, p=weights_p)]
        y = support[rng.choice(len(support), size=n, p=weights_q)]
        out.append(mmd.mmd2_unbiased(x, y))
    return np.array(out)


def _population_mmd2(weights_p, weights_q, support):
    """Exact MMD^2 of two discrete laws: (p - q)^T K (p - q) with K the kernel on the support."""
    kappa = support.shape[1]
    d2 = ((support[:, None, :] - support[None, :, :]) ** 2).sum(-1)
    gram = sum(2 * kappa * s / (2 * kappa * s + d2) for s in mmd.IMQ_SCALES)
    diff = np.asarray(weights_p) - np.asarray(weights_q)
    return float(diff @ gram @ diff)


SUPPORT = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [1.0, 1.0, 3.0]])


@pytest.mark.parametrize("weights_q", [[0.4, 0.3, 0.2, 0.1], [0.1, 0.2, 0.3, 0.4]],
                         ids=["identical", "shifted"])
def test_mmd2_is_unbiased_for_the_population_value(weights_q):
    """E[MMD^2_u] = MMD^2(P, Q) (Gretton et al. 2012, Lemma 6): 0 for P = Q, (p - q)^T K (p - q) > 0
    otherwise; the mean of 200 seeded estimates lies within MC_SIGMAS standard errors of it."""
    weights_p = [0.4, 0.3, 0.2, 0.1]
    draws = _discrete_draws(weights_p, weights_q, SUPPORT, n=20, repeats=200, seed=2)
    expected = _population_mmd2(weights_p, weights_q, SUPPORT)
    sem = draws.std(ddof=1) / np.sqrt(len(draws))
    assert abs(draws.mean() - expected) <= MC_SIGMAS * sem
    if weights_q != weights_p:
        assert expected > MC_SIGMAS * sem  # the shift is resolved, not lost in the noise


def test_mmd2_separates_a_shifted_gaussian_and_not_an_identical_one():
    """64-dim latent space as in Figure 4: N(0, I) against N(0, I) averages to 0 within MC_SIGMAS
    standard errors; N(0, I) against N(0.5 e_1 + ..., I) (mean shifted by 0.5 in every coordinate)
    is positive by more than MC_SIGMAS standard errors."""
    rng = np.random.default_rng(3)
    kappa, n, repeats = 64, 100, 20
    same = np.array([mmd.mmd2_unbiased(rng.standard_normal((n, kappa)), rng.standard_normal((n, kappa)))
                     for _ in range(repeats)])
    shifted = np.array([mmd.mmd2_unbiased(rng.standard_normal((n, kappa)) + 0.5,
                                          rng.standard_normal((n, kappa))) for _ in range(repeats)])
    assert abs(same.mean()) <= MC_SIGMAS * same.std(ddof=1) / np.sqrt(repeats)
    assert shifted.mean() > MC_SIGMAS * shifted.std(ddof=1) / np.sqrt(repeats)


def test_posterior_equal_to_the_prior_gives_zero_mmd_within_its_error_bar():
    """mu_z = 0, sigma_z = 1 for every image: q(z) = N(0, I) exactly, so the repeated-draw mean is 0
    within MC_SIGMAS of its own standard error; a collapsed posterior (sigma_z = 0.01, mu_z spread
    on a line) is far from the prior."""
    n, kappa = 200, 64
    prior_like = mmd.posterior_prior_mmd(np.zeros((n, kappa)), np.zeros((n, kappa)), repeats=10, seed=4)
    assert abs(prior_like["mean"]) <= MC_SIGMAS * prior_like["sem"]
    assert prior_like["n"] == n and len(prior_like["draws"]) == 10
    line = np.zeros((n, kappa))
    line[:, 0] = np.linspace(-2.0, 2.0, n)
    collapsed = mmd.posterior_prior_mmd(line, np.full((n, kappa), np.log(0.01)), repeats=10, seed=4)
    assert collapsed["mean"] > MC_SIGMAS * collapsed["sem"]


@pytest.mark.parametrize("x_shape, y_shape, match", [
    ((1, 3), (5, 3), "at least 2 samples"),
    ((4, 3), (5, 2), "expected"),
])
def test_bad_shapes_are_one_line_value_errors(x_shape, y_shape, match):
    with pytest.raises(ValueError, match=match):
        mmd.mmd2_unbiased(np.zeros(x_shape), np.zeros(y_shape))


def test_nan_latents_are_rejected():
    x = np.zeros((4, 2))
    x[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        mmd.mmd2_unbiased(x, np.zeros((4, 2)))
