"""L_{g,h} of Eq. (22) / main-text Eq. (6), active rows, and Definition 1 (optimal sparse representation)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given

from infgrad.tolerances import ROUNDOFF_ATOL, ROUNDOFF_RTOL
from tests.strategies import decoder_problems, subspace_data
from theory.lemma2 import optimal_affine_vae
from theory.objective import active_rows, infinite_indicator, is_optimal_sparse, min_active_rows_affine, objective_eq22
from theory.penalties import linear, log_penalty, sqrt_penalty


@given(problem=decoder_problems())
def test_eq22_with_linear_g_and_sqrt_h_matches_a_direct_sum(problem):
    """Eq. (22) = g(mean squared error over d n) + (1/d) sum_k h((1/n)||z_k||^2), summed by hand."""
    p = problem
    recon = p.decoder(p.mu_z)
    d, n = p.X.shape
    error = sum(np.sum((p.X[:, i] - recon[:, i]) ** 2) for i in range(n)) / (d * n)
    rows = sum(math.sqrt(np.sum(p.mu_z[k] ** 2) / n) for k in range(p.mu_z.shape[0])) / d
    np.testing.assert_allclose(objective_eq22(p.X, p.mu_z, recon, linear(), sqrt_penalty()), error + rows,
                               rtol=ROUNDOFF_RTOL, atol=ROUNDOFF_ATOL)


def test_infinite_indicator_enforces_zero_reconstruction():
    """g = I_inf (Eq. 12's limit): a nonzero error costs +inf, a zero error costs 0."""
    X = np.ones((2, 3))
    Z = np.ones((1, 3))
    assert objective_eq22(X, Z, X, infinite_indicator, linear()) == pytest.approx(0.5)  # (1/d) h(1)
    assert objective_eq22(X, Z, 0.5 * X, infinite_indicator, linear()) == math.inf


def test_inf_minus_inf_is_rejected_not_nan():
    """I_inf at a nonzero error with h = log at a zero row would be inf - inf: a ValueError, not NaN."""
    X = np.ones((2, 3))
    with pytest.raises(ValueError, match="^g, h:"):
        objective_eq22(X, np.zeros((1, 3)), 0.5 * X, infinite_indicator, log_penalty())


@given(data=subspace_data())
def test_strategy_rank_is_the_minimum_number_of_active_rows(data):
    """Definition 1's r for affine decoders is the rank of the centred data (what PCA attains)."""
    assert min_active_rows_affine(data.X) == data.r


@given(data=subspace_data())
def test_affine_vae_optimum_at_small_gamma_is_optimal_sparse(data):
    """Definition 1 on the Lemma 2 optimum at gamma = 1e-10 lambda_r: reconstruction W mu + b is
    exact to 1e-6 relative (the ridge shrinkage is gamma/lambda_j <= 1e-10), exactly r rows of mu
    are active, and the kappa - r inactive latents equal the prior (mu = 0, sigma = 1)."""
    d, r = data.X.shape[0], data.r
    log_gamma = math.log(1e-10 * data.eigenvalues[r - 1])
    opt = optimal_affine_vae(data.X, d, log_gamma)
    recon = opt["W"] @ opt["mu_z"] + opt["b"][:, None]
    assert is_optimal_sparse(data.X, opt["mu_z"], recon, r=r, recon_tol=1e-6, row_tol=1e-8,
                             log_sigma_z=opt["log_sigma_z"])
    assert int(active_rows(opt["mu_z"], 1e-8).sum()) == r


@given(data=subspace_data())
def test_identity_code_is_exact_but_not_sparse(data):
    """Z = X with the identity decoder reconstructs exactly but uses d > r active rows: (ii) fails."""
    assert not is_optimal_sparse(data.X, data.X, data.X)
    # and dropping information breaks (i): reconstruct with the mean only
    mean = np.repeat(data.X.mean(axis=1, keepdims=True), data.X.shape[1], axis=1)
    assert not is_optimal_sparse(data.X, np.zeros((data.r, data.X.shape[1])), mean, r=0)


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: objective_eq22(np.ones((2, 3)), np.ones((1, 3)), np.ones((2, 2)), linear(), linear()), "recon"),
        (lambda: objective_eq22(np.ones((2, 3)), np.ones((1, 4)), np.ones((2, 3)), linear(), linear()), "Z"),
        (lambda: objective_eq22(np.ones((2, 3)), np.ones((1, 3)), np.ones((2, 3)), 1.0, linear()), "g"),
        (lambda: active_rows(np.ones((2, 3)), 0.0), "tol"),
        (lambda: active_rows(np.full((2, 3), np.nan)), "Z"),
        (lambda: is_optimal_sparse(np.ones((2, 3)), np.ones((1, 3)), np.ones((2, 3)), r=-1), "r"),
    ],
)
def test_bad_input_raises_naming_the_argument(call, argument):
    with pytest.raises(ValueError, match=f"^{argument}:"):
        call()


def test_active_rows_is_a_strict_threshold_on_the_rms_with_default_1e_8():
    """A row is active iff sqrt((1/n)||z_k||^2) > tol: a row of +-0.5 is active at the default 1e-8
    and not at tol = 0.5 (equality is inactive; 0.5 and its square are exact in binary)."""
    Z = np.array([[0.5, -0.5, 0.5], [1e-9, 0.0, -1e-9], [0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(active_rows(Z), [True, False, False])
    np.testing.assert_array_equal(active_rows(Z, 0.5), [False, False, False])


def test_min_active_rows_is_the_rank_of_the_centred_data_relative_to_the_largest_singular_value():
    """r = number of singular values of X - mean above rtol s_1: 0 for identical columns (all
    singular values 0) and for d = 0 rows; 1 for nonconstant data in d = 1 (also with s_1 = 1 exactly:
    [1/2, -1/2, 1/2, -1/2]); and 1 for two orthogonal centred rows of norms 1e6 and 1e-4, whose ratio
    1e-10 is below rtol = 1e-9 (an absolute threshold would count 2), at any common scale."""
    assert min_active_rows_affine(np.ones((3, 4))) == 0
    assert min_active_rows_affine(np.zeros((0, 4))) == 0
    assert min_active_rows_affine(np.array([[1.0, 2.0, 4.0]])) == 1
    assert min_active_rows_affine(np.array([[0.5, -0.5, 0.5, -0.5]])) == 1
    rows = np.array([[1e6, -1e6, 1e6, -1e6], [1e-4, 1e-4, -1e-4, -1e-4]]) / 2
    for scale in (1e-8, 1.0):
        assert min_active_rows_affine(scale * rows) == 1


def test_definition1_error_test_uses_the_largest_sample_error_against_tol_times_the_largest_sample_norm():
    """(i) of Definition 1: max_i ||x_i - mu_x(z_i)|| <= recon_tol max(1, max_i ||x_i||), per
    sample (column). Samples of norm 100, 50, 50: the bound is 0.1 at recon_tol = 1e-3; errors of
    0.09 in two samples pass (their joint norm 0.127 would not), 0.11 in one fails. Small data
    (norms <= 1/2) use the floor 1: an error 0.5 passes at recon_tol = 0.5 (equality) and 0.15 fails at 0.1."""
    X = np.array([[60.0, 30.0, 0.0], [80.0, 40.0, 50.0]])
    Z = np.array([[1.0, -1.0, 0.5]])
    r = 1
    recon = X.copy()
    recon[0, :2] += 0.09
    assert is_optimal_sparse(X, Z, recon, r=r, recon_tol=1e-3)
    recon = X.copy()
    recon[1, 2] += 0.11
    assert not is_optimal_sparse(X, Z, recon, r=r, recon_tol=1e-3)
    small = np.array([[0.3, 0.0, -0.3], [0.4, 0.5, 0.0]])
    recon = small.copy()
    recon[0, 1] += 0.5
    assert is_optimal_sparse(small, Z, recon, r=r, recon_tol=0.5)
    recon = small.copy()
    recon[0, 1] += 0.15
    assert not is_optimal_sparse(small, Z, recon, r=r, recon_tol=0.1)


def test_definition1_counts_rows_with_row_tol_and_asks_the_prior_on_inactive_rows_per_sample():
    """(ii) of Definition 1: active rows counted with row_tol (a row of RMS 0.01 is inactive at
    row_tol = 0.1 and active at the default); for a VAE, |log sigma_{k,i}| <= row_tol on every
    sample of an inactive row (equality allowed), which a (kappa, n) log_sigma_z checks per sample;
    a wrong count fails whatever log_sigma_z says."""
    X = np.array([[1.0, -1.0, 2.0]])
    Z = np.array([[1.0, -1.0, 2.0], [0.01, -0.01, 0.01]])
    assert is_optimal_sparse(X, Z, X, r=1, row_tol=0.1)
    assert not is_optimal_sparse(X, Z, X, r=1)
    log_sigma_z = np.array([[-3.0, -3.0, -3.0], [0.0, 0.1, -0.1]])
    assert is_optimal_sparse(X, Z, X, r=1, row_tol=0.1, log_sigma_z=log_sigma_z)
    log_sigma_z[1, 2] = -0.2
    assert not is_optimal_sparse(X, Z, X, r=1, row_tol=0.1, log_sigma_z=log_sigma_z)
    assert not is_optimal_sparse(X, Z, X, r=2, row_tol=0.1, log_sigma_z=np.array([-3.0, 0.0]))


def test_eq22_sums_h_in_float64_whatever_dtype_h_returns():
    """(1/d) sum_k h(u_k) is summed in float64: an h that answers in float32 (here 0.1 rounded to
    float32, for each of 3 rows) gives 3 a / d with a = float32(0.1) exactly in float64 arithmetic,
    not the float32 sum (which is off by ~1e-8 relative, far outside round-off)."""
    X = np.array([[1.0, -1.0]])
    Z = np.array([[1.0, 2.0], [0.5, 0.5], [3.0, 0.0]])
    a = float(np.float32(0.1))
    value = objective_eq22(X, Z, X, linear(), lambda u: np.full(u.shape, 0.1, dtype=np.float32))
    assert value == pytest.approx(a + a + a, rel=ROUNDOFF_RTOL)
