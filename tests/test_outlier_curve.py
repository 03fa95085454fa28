"""Main-text Figure 1 (Figure 9 here), figures/outlier_curve.py: PCA with two components reconstructs
inliers AND outliers, so it cannot screen them; the 1-latent curve model reconstructs only the inliers."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from infgrad.tolerances import ROUNDOFF_ATOL, ROUNDOFF_RTOL
from figures import outlier_curve as manifold


@pytest.fixture(scope="module")
def screening():
    return manifold.outlier_screening(n_inliers=60, n_outliers=20, seed=0)


def test_inliers_lie_on_the_arc(screening):
    """The inlier generator: |x| = 1 and angle inside [ARC_START, ARC_END]."""
    X = screening["inliers"]
    np.testing.assert_allclose(np.hypot(*X), 1.0, rtol=ROUNDOFF_RTOL)
    angle = np.arctan2(X[1], X[0])
    assert np.all((angle >= manifold.ARC_START) & (angle <= manifold.ARC_END))


def test_pca_with_two_components_reconstructs_inliers_and_outliers(screening):
    """Figure 1: in R^2 a 2-component PCA is the identity, so both errors are round-off only."""
    assert screening["pca2_inlier_error"].max() <= ROUNDOFF_ATOL
    assert screening["pca2_outlier_error"].max() <= ROUNDOFF_ATOL


def test_one_line_cannot_fit_the_curved_inliers(screening):
    """A 1-component PCA is a line; the inliers are on an arc, so its inlier error is far from round-off."""
    assert screening["pca1_inlier_error"].max() > 1e6 * ROUNDOFF_ATOL


def test_curve_model_separates_outliers_by_reconstruction_error(screening):
    """Figure 1: the 1-latent curve model reconstructs inliers exactly and every outlier with error
    >= radial_gap^2 = 0.0625 (each outlier is at least radial_gap away from the circle)."""
    assert screening["curve_inlier_error"].max() <= ROUNDOFF_ATOL
    assert screening["curve_outlier_error"].min() >= 0.25**2 * (1 - ROUNDOFF_RTOL)
    assert screening["curve_outlier_error"].min() > screening["curve_inlier_error"].max()


@given(st.floats(-3.0, 3.0), st.floats(-3.0, 3.0))
def test_curve_encoder_finds_the_nearest_arc_point(x1, x2):
    """curve_encode is the exact projection onto the arc: no point of a dense arc grid is closer
    (up to the grid's half-spacing squared, the only slack of the brute-force reference)."""
    x = np.array([[x1], [x2]])
    best = manifold.reconstruction_error(x, manifold.curve_reconstruct(x))[0]
    grid = np.linspace(manifold.ARC_START, manifold.ARC_END, 20001)
    brute = np.min(np.sum((manifold.curve_decode(grid) - x) ** 2, axis=0))
    spacing = grid[1] - grid[0]
    assert best <= brute + ROUNDOFF_ATOL
    assert best >= brute - (np.hypot(x1, x2) + 1.0) * spacing**2 - ROUNDOFF_ATOL


@pytest.mark.parametrize("bad", [np.zeros((3, 4)), np.array([[np.nan], [0.0]])])
def test_bad_points_raise_one_line_value_error(bad):
    with pytest.raises(ValueError, match="^X:"):
        manifold.curve_encode(bad)


def test_bad_sizes_raise_value_error():
    with pytest.raises(ValueError, match="^n:"):
        manifold.sample_inliers(0, seed=0)
    with pytest.raises(ValueError, match="^radial_gap:"):
        manifold.sample_outliers(5, seed=0, radial_gap=0.7)
    with pytest.raises(ValueError, match="^radial_gap:"):
        manifold.sample_outliers(5, seed=0, radial_gap=float("nan"))
    with pytest.raises(ValueError, match="^n_components:"):
        manifold.pca_fit(manifold.sample_inliers(5, seed=0), 3)
