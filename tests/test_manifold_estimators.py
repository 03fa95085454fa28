"""experiments/manifold/estimators.py against closed forms: Lemma 2's affine VAE (Eq. 11-15) and
matrices with known singular values."""
from __future__ import annotations

import math

import numpy as np
import pytest

from experiments.manifold import estimators as est
from experiments.manifold.data import linear_subspace
from infgrad.tolerances import ROUNDOFF_ATOL, ROUNDOFF_RTOL
from theory.lemma2 import optimal_affine_vae

D, R, KAPPA = 12, 4, 8
LOG_GAMMAS = np.log([1e-6, 1e-5, 1e-4, 1e-3])  # all below the smallest signal variance (~0.3 here)


@pytest.fixture(scope="module")
def subspace_columns():
    """Data on an R-dimensional subspace of R^D as theory's (D, n) columns."""
    return linear_subspace(200, D, R, seed=0).x.T


def expected_recon_sq(opt: dict, X: np.ndarray) -> float:
    """E_q ||x - W z - b||^2 averaged over samples, in closed form: the residual at the mean plus the
    encoder noise sum_k ||w_k||^2 sigma_k^2 (z = mu + sigma * e, e ~ N(0, I))."""
    W, b, mu, log_sigma = opt["W"], opt["b"], opt["mu_z"], opt["log_sigma_z"]
    residual = np.mean(np.sum((X - W @ mu - b[:, None]) ** 2, axis=0))
    return float(residual + np.sum(np.sum(W**2, axis=0) * np.exp(2.0 * log_sigma)))


def slope_reads_r(fit, columns) -> bool:
    """The check: Lemma 2's slope fitted to the affine optimum's losses L*(gamma) gives r_hat = r."""
    losses = [optimal_affine_vae(columns, KAPPA, lg)["loss"] for lg in LOG_GAMMAS]
    r_hat, _ = fit(LOG_GAMMAS, losses, D)
    return r_hat == pytest.approx(R, abs=1e-8)  # round-off of losses ~1e3 on a log-gamma span of 6.9


def envelope_reads_r(envelope, columns) -> bool:
    """The check: E||x - mu_x||^2 / gamma at every fixed-gamma affine optimum gives r_hat = r."""
    return all(envelope(expected_recon_sq(optimal_affine_vae(columns, KAPPA, lg), columns), math.exp(lg))
               == pytest.approx(R, rel=1e-9)  # round-off, relative to errors of size r gamma
               for lg in LOG_GAMMAS)


def test_lemma2_slope_fit_on_the_affine_vae_optimum_gives_d_minus_r_exactly(subspace_columns):
    """Lemma 2 / optimal_loss_closed_form: below the smallest signal variance L*(gamma) =
    const + (d - r) log gamma exactly, so the fitted slope is d - r and reads r_hat = r to round-off."""
    assert slope_reads_r(est.slope_rhat_fit, subspace_columns)


@pytest.mark.parametrize("wrong", [
    # the slope fitted against log sqrt(gamma): twice d - r, so r_hat = 2r - d
    lambda lg, losses, d: est.slope_rhat_fit(0.5 * np.asarray(lg), losses, d),
    # the slope's sign flipped (r_hat = d + slope = 2d - r)
    lambda lg, losses, d: (2 * d - est.slope_rhat_fit(lg, losses, d)[0], 0.0),
], ids=["fit on log gamma_std", "sign of the slope flipped"])
def test_wrong_slope_estimators_do_not_give_r(subspace_columns, wrong):
    """Companion: the same check fed a wrong implementation fails."""
    assert not slope_reads_r(wrong, subspace_columns)


def test_envelope_rhat_is_exactly_r_at_every_fixed_gamma_optimum(subspace_columns):
    """dL*/dlog gamma = d - E||x - mu_x||^2 / gamma (envelope theorem): at the affine optimum each
    active direction contributes gamma to the error, so E||x - mu_x||^2 / gamma = r exactly."""
    assert envelope_reads_r(est.slope_rhat_envelope, subspace_columns)


def test_envelope_divided_by_gamma_std_does_not_give_r(subspace_columns):
    """Companion: the error divided by sqrt(gamma) (gamma taken as a standard deviation) reads
    r sqrt(gamma), not r."""
    assert not envelope_reads_r(lambda recon, gamma: est.slope_rhat_envelope(recon, math.sqrt(gamma)),
                                subspace_columns)


def test_envelope_rhat_off_the_optimum_reads_the_error_floor_not_r(subspace_columns):
    """Companion (the ladder DOWN): the optimum of gamma_0 evaluated at gamma_0 / 100, as a decoder
    that cannot cut its error in time would be, reads r * 100, not r."""
    lg = LOG_GAMMAS[-1]
    opt = optimal_affine_vae(subspace_columns, KAPPA, lg)
    r_hat = est.slope_rhat_envelope(expected_recon_sq(opt, subspace_columns), math.exp(lg) / 100)
    assert r_hat == pytest.approx(100 * R, rel=1e-9)


def test_slope_fit_above_the_signal_variances_does_not_give_r(subspace_columns):
    """Companion: with gamma above every signal variance nothing is active and the slope is d
    (L* = tr(S) / gamma + d log gamma tends to slope d), so r_hat is far from r."""
    log_gammas = np.log([1e3, 1e4, 1e5])
    losses = [optimal_affine_vae(subspace_columns, KAPPA, lg)["loss"] for lg in log_gammas]
    r_hat, _ = est.slope_rhat_fit(log_gammas, losses, D)
    assert abs(r_hat - R) > 3


def test_variance_gap_counts_the_active_dimensions_of_the_affine_optimum(subspace_columns):
    """Eq. (11)'s optimum: sigma_k^2 = gamma / (gamma + ||w_k||^2), exactly 1 on the kappa - r unused
    columns: the gap rule counts r, stable for every threshold between the two groups."""
    opt = optimal_affine_vae(subspace_columns, KAPPA, math.log(1e-4))
    split = est.active_dims_from_variance(2.0 * opt["log_sigma_z"])
    assert split.count == R
    assert split.high == pytest.approx(0.0, abs=ROUNDOFF_ATOL)
    assert split.low < math.log(1e-3)  # active sigma^2 ~ gamma / lambda: the gap is > 6 nats wide


@pytest.mark.parametrize("wrong", [
    # the side of the gap mixed up: counts the kappa - r unused dimensions
    lambda log_var: log_var.size - est.active_dims_from_variance(log_var).count,
    # the gap's upper end counted with the lower group: r + 1 or more
    lambda log_var: int(np.sum(log_var <= est.active_dims_from_variance(log_var).high)),
], ids=["wrong side of the gap", "upper end of the gap counted"])
def test_wrong_variance_counts_miss_r_on_the_affine_optimum(subspace_columns, wrong):
    """Companion of the count above: an affine optimum fed to a wrong count does not give r (kappa =
    r + 6 here, so that the unused dimensions do not number r by chance)."""
    opt = optimal_affine_vae(subspace_columns, R + 6, math.log(1e-4))
    assert est.active_dims_from_variance(2.0 * opt["log_sigma_z"]).count == R
    assert wrong(2.0 * opt["log_sigma_z"]) != R


def test_fixed_threshold_miscounts_where_the_gap_rule_does_not():
    """The failure the gap rule fixes: r = 3 dimensions at sigma^2 ~ 1e-4 and two spare dimensions
    encoding a residual at 0.03 and 0.3; sigma^2 < 0.5 counts 5, the largest gap counts 3."""
    log_var = np.log([1e-4, 2e-4, 1.5e-4, 0.03, 0.3, 1.0, 0.98, 1.01])
    assert int(np.sum(np.exp(log_var) < 0.5)) == 5
    assert est.active_dims_from_variance(log_var).count == 3


def test_variance_rule_without_a_gap_counts_none():
    assert est.active_dims_from_variance(np.log([0.9, 1.0, 0.95])).count == 0


def test_energy_rule_counts_rows_above_the_largest_gap():
    u = np.array([1.0, 0.8, 1e-9, 0.0, 0.5e-9])
    split = est.active_dims_from_energy(u)
    assert split.count == 2
    assert math.isclose(split.high, math.log(0.8), rel_tol=ROUNDOFF_RTOL)
    assert est.active_dims_from_energy(np.array([1.0, 0.5, 0.7])).count == 3  # one group: all active


def test_jacobian_rank_of_matrices_with_known_singular_values():
    rng = np.random.default_rng(0)
    u, _ = np.linalg.qr(rng.standard_normal((20, 6)))
    v, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    for s, rank in [([3, 2, 1, 0.5, 1e-5, 1e-6], 4), ([3, 2, 1, 0.5, 0.4, 0.3], 6), ([1, 0, 0, 0, 0, 0], 1)]:
        J = (u * np.array(s, dtype=float)) @ v.T
        assert est.jacobian_rank(np.linalg.svd(J, compute_uv=False)).count == rank


def test_largest_gap_bounds_are_the_thresholds_that_keep_the_count():
    values = np.array([-9.0, -8.5, -1.0, -0.2])
    split = est.largest_gap_split(values, anchor=0.0)
    assert (split.count, split.low, split.high, split.width) == (2, -8.5, -1.0, 7.5)
    for threshold in (-8.4, -5.0, -1.1):  # anywhere inside the gap: the same count
        assert int(np.sum(values < threshold)) == split.count


@pytest.mark.parametrize("bad", [[], [np.nan], [np.inf, 1.0]])
def test_bad_statistics_are_value_errors(bad):
    with pytest.raises(ValueError):
        est.largest_gap_split(np.array(bad, dtype=float))


def test_slope_fit_rejects_a_single_gamma():
    with pytest.raises(ValueError):
        est.slope_rhat_fit([0.0, 0.0], [1.0, 2.0], 5)
