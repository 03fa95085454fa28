"""theory/_linalg.py: one convention per factorization, so that results do not depend on which
BLAS/LAPACK kernel (CPU, thread count) computed them: signs of eigenvectors and singular vectors,
signs of QR's Q, and eigenvalues that are zero in exact arithmetic. Also theory/_checks.py's
finite_array, through which every factorized matrix enters."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies import seeds, subspace_data
from infgrad.tolerances import ROUNDOFF_ATOL, ROUNDOFF_RTOL
from theory import _checks
from theory._checks import finite_array
from theory._linalg import canonical_signs, eigh_descending, random_orthonormal
from theory.lemma2 import optimal_affine_vae
from figures.outlier_curve import pca_fit, sample_inliers


@given(seed=seeds, flips=st.lists(st.booleans(), min_size=4, max_size=4))
def test_canonical_signs_undo_any_sign_flip(seed, flips):
    """Flipping the sign of any column before `canonical_signs` gives the same matrix, and every
    column's largest-magnitude entry is positive."""
    U = np.random.default_rng(seed).standard_normal((5, 4))
    flipped = U * np.where(flips, -1.0, 1.0)
    np.testing.assert_array_equal(canonical_signs(flipped), canonical_signs(U))
    V = canonical_signs(U)
    assert np.all(V[np.argmax(np.abs(V), axis=0), np.arange(4)] > 0)


@given(data=subspace_data())
def test_eigh_descending_zeroes_the_null_space_and_fixes_signs(data):
    """On data on an r-dimensional subspace the covariance has d - r zero eigenvalues: computed, they
    are round-off of either sign (kernel-dependent); eigh_descending returns exactly 0 for them, the
    r others equal the exact spectrum (round-off), and the eigen-equation holds for the columns."""
    centred = data.X - data.X.mean(axis=1, keepdims=True)
    S = centred @ centred.T / data.X.shape[1]
    lam, U = eigh_descending(S)
    assert np.all(lam[data.r:] == 0.0) and np.all(lam[: data.r] > 0)
    # the strategy's spectrum comes from the r x r covariance of the latent draw (1e-12 of lambda_1)
    np.testing.assert_allclose(lam, data.eigenvalues, rtol=0, atol=1e-12 * data.eigenvalues[0])
    np.testing.assert_allclose(S @ U[:, : data.r], U[:, : data.r] * lam[: data.r], rtol=0,
                               atol=1e-12 * data.eigenvalues[0])
    np.testing.assert_array_equal(U, canonical_signs(U))


@given(seed=seeds, d=st.integers(2, 7), r=st.integers(1, 7))
def test_random_orthonormal_is_gram_schmidt_of_the_draw(seed, d, r):
    """Q has orthonormal columns and equals classical Gram-Schmidt of the same normal draw (the QR
    convention diag(R) > 0), written here without any LAPACK call."""
    r = min(r, d)
    Q = random_orthonormal(np.random.default_rng(seed), d, r)
    G = np.random.default_rng(seed).standard_normal((d, r))
    basis = []
    for k in range(r):
        v = G[:, k] - sum(np.dot(q, G[:, k]) * q for q in basis)
        basis.append(v / math.sqrt(np.dot(v, v)))
    # two orthogonalizations of G agree to about cond(G) eps per entry (100 for the d r operations)
    atol = 100 * np.linalg.cond(G) * np.finfo(float).eps
    np.testing.assert_allclose(Q, np.stack(basis, axis=1), rtol=0, atol=atol)
    np.testing.assert_allclose(Q.T @ Q, np.eye(r), rtol=0, atol=ROUNDOFF_ATOL)


@given(data=subspace_data())
def test_affine_optimum_and_pca_follow_the_sign_convention(data):
    """The columns of optimal_affine_vae's W (hence the sparse point of Figure 6) and of pca_fit's U
    (Figure 9's line) have their largest entry positive, whatever LAPACK returned."""
    W = optimal_affine_vae(data.X, data.X.shape[0], math.log(1e-3 * data.eigenvalues[data.r - 1]))["W"]
    active = np.any(W != 0, axis=0)
    assert np.all(W[np.argmax(np.abs(W), axis=0), np.arange(W.shape[1])][active] > 0)
    _, U = pca_fit(sample_inliers(30, seed=int(data.X.shape[1])), 2)
    assert np.all(U[np.argmax(np.abs(U), axis=0), [0, 1]] > 0)
    np.testing.assert_allclose(U.T @ U, np.eye(2), rtol=ROUNDOFF_RTOL, atol=ROUNDOFF_ATOL)


def test_eigenvalues_at_or_below_the_round_off_floor_are_exactly_zero():
    """eigh_descending zeroes eigenvalues <= 100 d eps lambda_1 (d = 2: 200 eps lambda_1) and keeps
    those above: on a diagonal S the eigenvalues are the diagonal exactly, so 200 eps (the floor
    itself) and 150 eps become 0 while 201 eps stays; the floor scales with lambda_1 (1e-3 here)."""
    eps = np.finfo(np.float64).eps
    for lambda_1 in (1.0, 1e-3):
        for t, kept in ((150 * eps, False), (200 * eps, False), (201 * eps, True)):
            lam, _ = eigh_descending(np.diag([lambda_1, t * lambda_1]))
            assert lam[0] == lambda_1
            assert lam[1] == (t * lambda_1 if kept else 0.0)


def test_finite_array_returns_float64_and_names_the_allowed_dimensions():
    """finite_array gives a float64 array (integer data included, so that squares and sums do not
    wrap around) and, for a wrong ndim, says which numbers of dimensions it accepts."""
    array = finite_array("X", [[1, 2], [3, 4]], ndim=2)
    assert array.dtype == np.float64
    np.testing.assert_array_equal(array, [[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match=r"^X: expected 1 or 2 dimensions"):
        finite_array("X", np.zeros((2, 2, 2)), ndim=(1, 2))


@pytest.mark.parametrize("check", [_checks.finite_scalar, _checks.log_variance])
def test_a_value_that_is_not_a_number_is_refused_in_the_name_of_its_argument(check):
    """The one-line error a user sees names the argument they got wrong (the validators pass the
    argument's name down to the number conversion)."""
    with pytest.raises(ValueError, match=r"^log_gamma_var: expected a real number, got 'abc'$"):
        check("log_gamma_var", "abc")
