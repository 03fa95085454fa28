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
    ((4,), (5, 1), "expected"),
])
def test_bad_shapes_are_one_line_value_errors(x_shape, y_shape, match):
    with pytest.raises(ValueError, match=match):
        mmd.mmd2_unbiased(np.zeros(x_shape), np.zeros(y_shape))


def test_nan_latents_are_rejected():
    x = np.zeros((4, 2))
    x[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        mmd.mmd2_unbiased(x, np.zeros((4, 2)))


def test_one_scale_kernel_is_c_over_c_plus_the_squared_distance():
    """k(x, y) = C / (C + ||x - y||^2) with C = 2 kappa s: for kappa = 2, s = 3 (C = 12) and points
    (0, 0), (3, 4) (squared distance 25) the kernel is 12/37; with the default scales it is
    sum_s 4s / (4s + 25)."""
    x, y = np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]])
    assert mmd.imq_kernel_sum(x, y, scales=(3.0,)) == pytest.approx(12.0 / 37.0, rel=ROUNDOFF_RTOL)
    expected = sum(4.0 * s / (4.0 * s + 25.0) for s in mmd.IMQ_SCALES)
    assert mmd.imq_kernel_sum(x, y) == pytest.approx(expected, rel=ROUNDOFF_RTOL)


def test_mmd2_uses_the_scales_it_is_given():
    """Gretton et al. (2012) Lemma 6 with a kernel of other scales than the default: the matrix form
    still equals the pairwise loops with those scales, and differs from the default kernel's value."""
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((6, 3)), rng.standard_normal((5, 3)) + 1.0
    scales = (0.3, 4.0)
    value = mmd.mmd2_unbiased(x, y, scales)
    np.testing.assert_allclose(value, brute_force_mmd2(x, y, scales), rtol=ROUNDOFF_RTOL, atol=ROUNDOFF_ATOL)
    assert abs(value - mmd.mmd2_unbiased(x, y)) > ROUNDOFF_RTOL * abs(value)


def test_kernel_of_nearby_large_points_stays_at_most_its_value_at_distance_zero():
    """The expanded squared distance a^2 + b^2 - 2ab of the 1-d points a, b below evaluates to -1/16
    in float64 (their true squared distance is 3e-7); clipped at 0, each term C / (C + d^2) stays in
    (0, 1], so the kernel sum is at most len(scales), its value at distance 0 (to round-off)."""
    a, b = 14226283.964247812, 14226283.963695332
    x, y = np.array([[a]]), np.array([[b]])
    assert (x @ x.T + y @ y.T - 2.0 * x @ y.T)[0, 0] == -0.0625
    total = mmd.imq_kernel_sum(x, y)
    assert 0.0 < total <= len(mmd.IMQ_SCALES) * (1.0 + ROUNDOFF_RTOL)


def test_float32_latents_are_scored_in_float64():
    """An encoder's float32 outputs are converted before any arithmetic: the kernel sum and the
    posterior-prior MMD of float32 arrays equal those of the same numbers in float64 (float64
    round-off), not their float32 evaluation (errors around 1e-7)."""
    rng = np.random.default_rng(6)
    x32 = rng.standard_normal((50, 4)).astype(np.float32)
    y32 = (rng.standard_normal((40, 4)) + 0.3).astype(np.float32)
    x64, y64 = x32.astype(np.float64), y32.astype(np.float64)
    assert mmd.imq_kernel_sum(x32, y32) == pytest.approx(mmd.imq_kernel_sum(x64, y64), rel=ROUNDOFF_RTOL)
    assert mmd.imq_kernel_sum(x64, y32) == pytest.approx(mmd.imq_kernel_sum(x64, y64), rel=ROUNDOFF_RTOL)
    log_sigma32 = rng.normal(-1.0, 0.5, (50, 4)).astype(np.float32)
    from_float32 = mmd.posterior_prior_mmd(x32, log_sigma32, repeats=2, seed=1)
    from_float64 = mmd.posterior_prior_mmd(x64, log_sigma32.astype(np.float64), repeats=2, seed=1)
    np.testing.assert_allclose(from_float32["draws"], from_float64["draws"], rtol=ROUNDOFF_RTOL,
                               atol=ROUNDOFF_ATOL)


def test_each_mmd_draw_is_one_posterior_sample_per_image_against_fresh_prior_samples():
    """posterior_prior_mmd, draw r of R: z_i = mu_z(x_i) + sigma_z(x_i) eps_i with eps the generator's
    next n x kappa standard normals, then n x kappa prior samples, scored with the given scales;
    mean, std (ddof = 1) and sem = std / sqrt(R) of the R draws. Without repeats and seed: R = 10,
    seed 0."""
    rng = np.random.default_rng(7)
    mu_z, log_sigma_z = rng.standard_normal((6, 2)), rng.normal(-1.0, 0.3, (6, 2))
    scales = (0.5, 3.0)
    result = mmd.posterior_prior_mmd(mu_z, log_sigma_z, repeats=3, seed=11, scales=scales)
    generator = np.random.default_rng(11)
    expected = []
    for _ in range(3):
        z = mu_z + np.exp(log_sigma_z) * generator.standard_normal(mu_z.shape)
        expected.append(brute_force_mmd2(z, generator.standard_normal(mu_z.shape), scales))
    np.testing.assert_allclose(result["draws"], expected, rtol=ROUNDOFF_RTOL, atol=ROUNDOFF_ATOL)
    std = np.std(expected, ddof=1)
    assert result["mean"] == pytest.approx(np.mean(expected), rel=ROUNDOFF_RTOL)
    assert result["std"] == pytest.approx(std, rel=ROUNDOFF_RTOL)
    assert result["sem"] == pytest.approx(std / np.sqrt(3.0), rel=ROUNDOFF_RTOL)
    assert (result["n"], result["repeats"]) == (6, 3)
    default = mmd.posterior_prior_mmd(mu_z, log_sigma_z)
    assert default["draws"] == mmd.posterior_prior_mmd(mu_z, log_sigma_z, repeats=10, seed=0)["draws"]
    assert default["repeats"] == 10


@pytest.mark.parametrize("shape, repeats, match", [
    ((5,), 10, "expected equal"),
    ((5, 2), 1, "at least 2 draws"),
])
def test_posterior_prior_mmd_rejects_vectors_and_a_single_draw(shape, repeats, match):
    with pytest.raises(ValueError, match=match):
        mmd.posterior_prior_mmd(np.zeros(shape), np.zeros(shape), repeats=repeats)


def test_two_draws_are_enough_for_the_error_bar():
    result = mmd.posterior_prior_mmd(np.zeros((3, 1)), np.zeros((3, 1)), repeats=2, seed=0)
    assert result["repeats"] == 2 and len(result["draws"]) == 2
