"""Main-text Figure 3 (Figure 6 here), figures/slices.py: slices through Eq. (3) of a linear VAE with the
optimal sparse representation at s = 0. Claims: the minimizer on the slice moves to 0 as gamma -> 0
(like gamma), the walls steepen (like 1/gamma), and on the line to the flipped twin a second, local
minimum appears; on a random direction no local minimum appears (a faithful negative finding)."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from infgrad.tolerances import FIGURE_RATE_SLOPE_ATOL, ROUNDOFF_RTOL
from figures import slices
from theory import lemma2

GAMMAS = (1.0, 1e-1, 1e-2, 1e-3)


@pytest.fixture(scope="module")
def study():
    # 301 grid points instead of the figure's 401: minima are refined by a bounded search anyway
    return slices.slice_study(gammas=GAMMAS, grid_size=301)


@st.composite
def subspace_problems(draw):
    """(X, r): data on an r-dimensional affine subspace of R^d, n > d."""
    d = draw(st.integers(3, 7))
    r = draw(st.integers(1, d - 1))
    n = draw(st.integers(d + 1, 40))
    scales = draw(st.lists(st.floats(0.2, 2.0), min_size=r, max_size=r))
    return slices.subspace_data(d, r, n, draw(st.integers(0, 2**16)), scales), r


@given(subspace_problems())
def test_subspace_strategy_really_has_rank_r(problem):
    """The strategy (and subspace_data) deliver centred data of rank exactly r."""
    X, r = problem
    sv = np.linalg.svd(X - X.mean(axis=1, keepdims=True), compute_uv=False)
    assert np.sum(sv > 1e-9 * sv[0]) == r


@given(subspace_problems())
def test_sparse_optimum_is_an_optimal_sparse_representation(problem):
    """Definition 1 for the linear VAE: zero reconstruction W(Ax + c) + b = x with exactly r active
    latent rows (the other kappa - r encoder rows and decoder columns are zero)."""
    X, r = problem
    kappa = r + 2
    point = slices.sparse_optimum(X, kappa)
    recon = point["W"] @ (point["A"] @ X + point["c"][:, None]) + point["b"][:, None]
    np.testing.assert_allclose(recon, X, rtol=0, atol=1e-10 * max(1.0, np.abs(X).max()))
    assert int(np.sum(point["active"])) == r
    assert np.all(point["A"][~point["active"]] == 0) and np.all(point["W"][:, ~point["active"]] == 0)


def test_sparse_point_is_the_small_gamma_limit_of_the_optimum():
    """W of optimal_affine_vae at gamma is U (Lambda - gamma)^{1/2}: its column norms^2 are lambda - gamma,
    those of the sparse point lambda (the limit), so they differ by exactly gamma."""
    X = slices.subspace_data(6, 2, 50, seed=0)
    point = slices.sparse_optimum(X, 4)
    opt = lemma2.optimal_affine_vae(X, 4, math.log(1e-4))
    diff = np.sum(point["W"] ** 2, axis=0)[:2] - np.sum(opt["W"] ** 2, axis=0)[:2]
    # the norms (~0.3-0.6) carry ~1e-16 absolute round-off, ~1e-12 relative to their 1e-4 difference;
    # 1e-9 leaves room for the two eigendecompositions
    np.testing.assert_allclose(diff, 1e-4 - 1e-12, rtol=1e-9)


def test_the_flipped_twin_has_exactly_the_loss_of_the_sparse_point():
    """Eq. (3) is invariant under z -> -z (A, c, W -> -A, -c, -W): with a vanishing perturbation the
    slice takes the same value at s = 1 as at s = 0 (the reason the twin line has two minima)."""
    X = slices.subspace_data(6, 2, 50, seed=0)
    point = slices.sparse_optimum(X, 4)
    twin = slices.twin_direction(point, seed=1, perturbation=1e-300)
    values = slices.slice_loss(X, point, twin, [0.0, 1.0], math.log(1e-2))
    np.testing.assert_allclose(values[1], values[0], rtol=ROUNDOFF_RTOL)


def test_sparse_point_becomes_optimal_as_gamma_shrinks():
    """L(s = 0) - min Eq. (3) (optimal_loss_closed_form) is >= 0 and shrinks with gamma: the sparse
    representation is the gamma -> 0 optimum, not the optimum at gamma = 1."""
    X = slices.subspace_data(6, 2, 50, seed=0)
    point = slices.sparse_optimum(X, 4)
    zero = {k: np.zeros_like(v) for k, v in point.items() if k != "active"}
    gaps = []
    for gamma in GAMMAS:
        at_zero = slices.slice_loss(X, point, zero, [0.0], math.log(gamma))[0]
        best = lemma2.optimal_affine_vae(X, 4, math.log(gamma))["loss"]
        assert at_zero - best >= -ROUNDOFF_RTOL * abs(best)
        gaps.append(at_zero - best)
    assert all(a > b for a, b in zip(gaps, gaps[1:]))


@pytest.mark.parametrize("name", ["twin", "random"])
def test_minimizer_moves_to_zero_like_gamma(study, name):
    """Figure 3's first claim. Near s = 0 the slice is a s^2 / gamma + b s + O(1) (the reconstruction
    error is quadratic in s and vanishes at 0), so the minimizer is -b gamma / (2 a): |s*| decreases with
    gamma and log|s*| against log gamma has slope 1 for small gamma (fit on gamma <= 1e-1)."""
    s_star = np.array([abs(row["global_s"]) for row in study[name]["per_gamma"]])
    assert np.all(np.diff(s_star) < 0)
    slope = np.polyfit(np.log(GAMMAS[1:]), np.log(s_star[1:]), 1)[0]
    assert abs(slope - 1.0) < FIGURE_RATE_SLOPE_ATOL


@pytest.mark.parametrize("name", ["twin", "random"])
def test_walls_steepen_like_one_over_gamma(study, name):
    """Figure 3's second claim: the largest |dL/ds| on the slice grows like 1/gamma (the a s^2 / gamma
    term dominates), slope -1 of log max|dL/ds| on log gamma for gamma <= 1e-1."""
    steep = np.array([row["max_abs_slope"] for row in study[name]["per_gamma"]])
    assert np.all(np.diff(steep) > 0)
    slope = np.polyfit(np.log(GAMMAS[1:]), np.log(steep[1:]), 1)[0]
    assert abs(slope + 1.0) < FIGURE_RATE_SLOPE_ATOL


def test_local_minimum_appears_on_the_twin_line_as_gamma_shrinks(study):
    """Figure 3's third claim, on the line to the perturbed sign-flipped twin: at gamma = 1 (above the
    data variances, so the optimum is the collapsed VAE near s = 1/2) one minimum; for gamma <= 0.1
    two, the global one near 0 and a strictly higher local one near the twin at s = 1."""
    rows = study["twin"]["per_gamma"]
    assert len(rows[0]["minima_s"]) == 1 and abs(rows[0]["global_s"] - 0.5) < 0.05
    for row in rows[1:]:
        s_min, l_min = np.asarray(row["minima_s"]), np.asarray(row["minima_loss"])
        assert len(s_min) == 2
        local = int(np.argmax(np.abs(s_min)))
        assert abs(s_min[local] - 1.0) < 0.1 and l_min[local] > l_min[1 - local]


def test_random_direction_shows_no_local_minimum(study):
    """Faithful negative finding: along a random direction through the sparse point the slice stays
    single-welled at every gamma (a quartic in s dominated by its s^2 term); local minima need a
    direction that reaches another near-optimal point, such as the twin."""
    assert all(len(row["minima_s"]) == 1 for row in study["random"]["per_gamma"])


def test_bad_arguments_raise_value_error():
    with pytest.raises(ValueError, match="^r:"):
        slices.subspace_data(3, 3, 10, seed=0)
    with pytest.raises(ValueError, match="^scales:"):
        slices.subspace_data(4, 2, 10, seed=0, scales=(1.0,))
