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
