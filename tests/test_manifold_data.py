"""experiments/manifold/data.py: each generator's data really have the stated dimension and target."""
from __future__ import annotations

import math

import numpy as np
import pytest

from experiments.manifold import data
from infgrad.tolerances import ROUNDOFF_ATOL, ROUNDOFF_RTOL

# numerical rank of float64 data: singular values below 1e-9 of the largest are round-off (the data
# are O(1) sums of at most ~800 products, round-off ~1e-13 relative)
RANK_RTOL = 1e-9


def numerical_rank(x: np.ndarray) -> int:
    s = np.linalg.svd(x - x.mean(axis=0), compute_uv=False)
    return int(np.sum(s > RANK_RTOL * s[0]))


@pytest.mark.parametrize("d,r", [(10, 1), (50, 7), (784, 30)])
def test_noise_free_subspace_has_rank_r_and_target_r(d, r):
    m = data.linear_subspace(400, d, r, seed=3)
    assert m.x.shape == (400, d)
    assert (m.r, m.embedding_target) == (r, r)
    assert numerical_rank(m.x) == r


def test_noisy_subspace_is_full_rank_with_signal_rank_r():
    """noise 1e-2 per coordinate: full rank, and the r signal directions stand 1e4 above the rest in
    variance (signal variance 1 against noise 1e-4; 5 standard errors of n = 2000 are far inside)."""
    d, r = 40, 5
    m = data.linear_subspace(2000, d, r, noise=1e-2, seed=1)
    s2 = np.linalg.svd(m.x - m.x.mean(axis=0), compute_uv=False) ** 2 / m.n
    assert numerical_rank(m.x) == d
    assert s2[r - 1] > 0.5 and s2[r] < 2e-4


@pytest.mark.parametrize("d,r", [(3, 1), (50, 5)])
def test_sphere_points_have_norm_one_span_r_plus_1_and_target_r_plus_1(d, r):
    m = data.sphere(300, d, r, seed=2)
    np.testing.assert_allclose(np.linalg.norm(m.x, axis=1), 1.0, rtol=ROUNDOFF_RTOL)
    assert numerical_rank(m.x) == r + 1
    assert (m.r, m.embedding_target) == (r, r + 1)


def test_torus_is_r_unit_circles_in_a_rotated_frame():
    """Rotated back by its frame, each coordinate pair of a T^r sample lies on the unit circle."""
    d, r, seed = 20, 3, 5
    m = data.torus(200, d, r, seed=seed)
    frame = data.random_frame(d, 2 * r, np.random.default_rng(seed))
    pairs = (m.x @ frame).reshape(200, r, 2)
    np.testing.assert_allclose(np.linalg.norm(pairs, axis=2), 1.0, rtol=ROUNDOFF_RTOL)
    assert numerical_rank(m.x) == 2 * r
    assert (m.r, m.embedding_target) == (r, r + 1)


def test_relu_network_jacobian_has_rank_r_at_every_sample_and_data_are_curved():
    """An r-manifold: the exact Jacobian of the piecewise-linear map has rank r at each sample
    (smallest singular value well above round-off), while the data span far more than r directions."""
    d, r, seed = 200, 12, 0
    m = data.relu_network(300, d, r, seed=seed)
    weights = data.relu_network_weights(d, r, (4 * r, 8 * r), seed)
    z = np.random.default_rng(seed + 1).standard_normal((300, r))
    np.testing.assert_allclose(data.relu_network_map(z, weights), m.x, rtol=ROUNDOFF_RTOL)
    jac = data.relu_network_jacobian(z, weights)
    s = np.linalg.svd(jac, compute_uv=False)
    assert jac.shape == (300, d, r)
    assert np.all(s[:, -1] > 1e-3 * s[:, 0])
    assert numerical_rank(m.x) > 3 * r
    assert (m.r, m.embedding_target) == (r, r)


def test_relu_network_jacobian_matches_finite_differences():
    """Companion: the Jacobian used above is the map's derivative (central differences, step 1e-6;
    a kink crossed by the step would show as an O(1) error, which seeded points do not hit)."""
    weights = data.relu_network_weights(30, 4, (16, 32), 7)
    z = np.random.default_rng(8).standard_normal((5, 4))
    jac = data.relu_network_jacobian(z, weights)
    step = 1e-6
    for k in range(4):
        e = np.zeros(4)
        e[k] = step
        fd = (data.relu_network_map(z + e, weights) - data.relu_network_map(z - e, weights)) / (2 * step)
        np.testing.assert_allclose(jac[:, :, k], fd, atol=1e-7)  # truncation 0 (piecewise linear), round-off ~1e-10


@pytest.mark.parametrize("eps", [1.0, 1e-3])
def test_squeezed_curve_is_theorem4_arc_inside_the_eps_square(eps):
    from theory.theorem4 import RADIUS_FRACTION, pi_inverse

    m = data.squeezed_curve(256, eps, C=0.7, seed=0)
    assert m.x.shape == (256, 2) and (m.r, m.embedding_target) == (1, 1)
    assert np.all((m.x > 0) & (m.x < eps))
    np.testing.assert_allclose(np.linalg.norm(m.x, axis=1), RADIUS_FRACTION * eps, rtol=ROUNDOFF_RTOL)
    s = pi_inverse(m.x.T, eps, 0.7)
    assert np.all((s >= 0.7) & (s < 1.0))  # Eq. (21): t(z_gt) in [C, 1)


def test_generators_are_seeded():
    a = data.relu_network(50, 30, 3, seed=4).x
    b = data.relu_network(50, 30, 3, seed=4).x
    c = data.relu_network(50, 30, 3, seed=5).x
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("call", [
    lambda: data.linear_subspace(10, 5, 6),
    lambda: data.sphere(10, 5, 5),
    lambda: data.torus(10, 5, 3),
    lambda: data.relu_network(10, 5, 0),
    lambda: data.linear_subspace(10, 5, 2, noise=-1.0),
])
def test_impossible_dimensions_are_one_line_value_errors(call):
    with pytest.raises(ValueError):
        call()


def test_standardize_centres_and_gives_unit_rms_without_changing_shape():
    x = data.sphere(100, 6, 2, seed=0).x * 7.0 + 3.0
    y = data.standardize(x)
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=ROUNDOFF_ATOL)
    assert math.isclose(float(np.mean(y**2)), 1.0, rel_tol=ROUNDOFF_RTOL)
    np.testing.assert_allclose(y * math.sqrt(np.mean((x - x.mean(0)) ** 2)), x - x.mean(0), atol=1e-12)


def test_benchmark_manifolds_match_scikit_dimension_truth_table():
    skdim = pytest.importorskip("skdim", reason="scikit-dimension is the optional [baselines] extra")
    pytest.importorskip("pandas", reason="skdim's BenchmarkManifolds needs pandas ([baselines] extra)")
    truth = skdim.datasets.BenchmarkManifolds(random_state=0).truth
    assert sorted(truth.index) == sorted(data.benchmark_names())
    for name in ("M1_Sphere", "M10a_Cubic", "M7_Roll"):
        m = data.benchmark(name, n=300, seed=0)
        assert m.x.shape == (300, int(truth.loc[name, "Number of variables"]))
        assert m.r == int(truth.loc[name, "Intrinsic Dimension"])
    sphere = data.benchmark("M1_Sphere", n=300)
    np.testing.assert_allclose(np.linalg.norm(sphere.x, axis=1), 1.0, rtol=ROUNDOFF_RTOL)
    assert sphere.embedding_target == sphere.r + 1 and numerical_rank(sphere.x) == sphere.r + 1
    cube = data.benchmark("M10a_Cubic", n=300)  # boundary of the unit 11-cube: one coordinate at 0 or 1
    on_face = np.any((cube.x[:, :11] == 0.0) | (cube.x[:, :11] == 1.0), axis=1)
    assert on_face.all() and cube.embedding_target == cube.r + 1
