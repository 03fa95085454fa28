"""theory/subspace.py: the one generator of data on an r-dimensional affine subspace really delivers
rank r, an orthonormal basis with a fixed sign convention, and the standard deviations it is given."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from infgrad.tolerances import MC_SIGMAS, ROUNDOFF_ATOL, ROUNDOFF_RTOL
from tests.strategies import seeds
from theory._linalg import random_orthonormal
from theory.subspace import subspace_data


@st.composite
def shapes(draw):
    d = draw(st.integers(2, 8))
    r = draw(st.integers(1, d - 1))
    return d, r, draw(st.integers(r + 1, 40))


@given(shape=shapes(), seed=seeds)
def test_centred_data_have_rank_exactly_r(shape, seed):
    """The centred X has r singular values above float64 round-off and d - r at round-off, and its
    columns lie in the span of U. Round-off is that of the entries of X (the offset included):
    a few eps |X|_max per entry, at most sqrt(d n) times that in a singular value."""
    d, r, n = shape
    X, U = subspace_data(d, r, n, seed, scales=np.linspace(0.5, 2.0, r), return_basis=True)
    centred = X - X.mean(axis=1, keepdims=True)
    s = np.linalg.svd(centred, compute_uv=False)
    noise = ROUNDOFF_RTOL * np.abs(X).max() * np.sqrt(d * n)
    assert s[r - 1] > noise and np.all(s[r:] <= noise)
    np.testing.assert_allclose(U @ (U.T @ centred), centred, rtol=0, atol=ROUNDOFF_ATOL * np.abs(X).max())


@given(shape=shapes(), seed=seeds)
def test_basis_is_orthonormal_with_positive_qr_diagonal(shape, seed):
    """U^T U = I, and U^T G has a positive diagonal (the sign convention that makes Q unique)."""
    d, r, _ = shape
    U = random_orthonormal(np.random.default_rng(seed), d, r)
    gaussian = np.random.default_rng(seed).standard_normal((d, r))  # the draw U was built from
    np.testing.assert_allclose(U.T @ U, np.eye(r), rtol=0, atol=ROUNDOFF_ATOL)
    assert np.all(np.diag(U.T @ gaussian) > 0)  # = diag(R) of gaussian = U R
    np.testing.assert_allclose(np.triu(U.T @ gaussian), U.T @ gaussian, rtol=0,
                               atol=ROUNDOFF_ATOL * np.abs(gaussian).max())


def test_scales_are_the_standard_deviations_along_the_basis():
    """Coordinates U^T (x - mean) have standard deviations `scales` (Monte Carlo, MC_SIGMAS standard
    errors of a sample std: sigma / sqrt(2 (n - 1)))."""
    scales, n = np.array([3.0, 0.5]), 20000
    X, U = subspace_data(5, 2, n, seed=1, scales=scales, offset_std=4.0, return_basis=True)
    coords = U.T @ (X - X.mean(axis=1, keepdims=True))
    np.testing.assert_allclose(coords.std(axis=1, ddof=1), scales,
                               atol=MC_SIGMAS * scales.max() / np.sqrt(2 * (n - 1)))


def test_the_draw_is_a_function_of_the_seed():
    np.testing.assert_array_equal(subspace_data(4, 2, 10, seed=3), subspace_data(4, 2, 10, seed=3))
    assert not np.array_equal(subspace_data(4, 2, 10, seed=3), subspace_data(4, 2, 10, seed=4))


@pytest.mark.parametrize("call, argument", [
    (lambda: subspace_data(3, 3, 10, 0), "r"),
    (lambda: subspace_data(3, 0, 10, 0), "r"),
    (lambda: subspace_data(4, 2, 10, 0, scales=[1.0]), "scales"),
    (lambda: subspace_data(4, 2, 10, 0, scales=[1.0, -1.0]), "scales"),
    (lambda: subspace_data(4, 2, 10, 0, offset_std=0.0), "offset_std"),
])
def test_bad_input_raises_naming_the_argument(call, argument):
    with pytest.raises(ValueError, match=f"^{argument}:"):
        call()


def test_subspace_data_is_the_documented_draw_sequence():
    """X = offset + U diag(scales) G with U, then the offset (std offset_std, default 1), then G drawn
    in this order from default_rng(seed): rebuilt from the same draws, X is the same to round-off."""
    scales = np.array([0.5, 2.0])
    rng = np.random.default_rng(11)
    U = random_orthonormal(rng, 4, 2)
    offset = 1.0 * rng.standard_normal(4)
    G = rng.standard_normal((2, 6))
    np.testing.assert_allclose(subspace_data(4, 2, 6, seed=11, scales=scales), offset[:, None] + U @ (scales[:, None] * G),
                               rtol=ROUNDOFF_RTOL, atol=ROUNDOFF_ATOL)
