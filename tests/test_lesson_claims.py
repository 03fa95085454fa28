"""Claims of the lesson figures/README.md that the theory and figure tests do not already assert:
where Figure 5's plateau comes from, what Figure 6's steep walls are made of, why Figure 8's minima
have one shape on a log-gamma axis, and what Figure 10's data show. Each derives its expectation
from theory/ (or reads the committed figure data, itself checked against a fresh run in
tests/test_figures.py)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import logit

from infgrad.tolerances import ROUNDOFF_RTOL
from theory import lemma2, lemma3, penalties, theorem4
from theory.subspace import subspace_data
from theory.vae_loss import affine_vae_loss_eq3

IMG = Path(__file__).resolve().parents[1] / "figures" / "img"

SCALES = (0.9, 0.6)  # standard deviations along the subspace: variances above every gamma_0 below


def _figure_data(name: str) -> dict:
    return json.loads((IMG / f"{name}.json").read_text())


# --- Figure 5: the plateau just before theta = 1 --------------------------------------------------

C, EPS, N = 0.7, 0.1, 32  # the data of Figures 5 and 10


def _plateau_limit_codes(X, s):
    """The theta -> 1- limit of the zero-reconstruction codes on the branch through the sparse code.

    Row 1 of (20) at theta = 1 - delta near z_1 = logit(s): the decoded point moves along the arc's
    tangent (-x_2, x_1) by O(delta); row 2 then gives z_2 = (x_2 - theta pi_2) / delta ->
    x_2 + x_1 (x_1 - z_1) / x_2, a number of order z_1 (not 0). Returns Z (2, n)."""
    z1 = logit(s)
    return np.stack([z1, X[1] + X[0] * (X[0] - z1) / X[1]])


def _row1_sign_changes(x, theta, z_grid):
    """Sign changes of F(z) = theta pi_1(t(z)) + (1 - theta) z - x_1 on z_grid (row 1 of Eq. 20)."""
    F = theta * theorem4.pi_map(theorem4.logistic(z_grid), EPS, C)[0] + (1 - theta) * z_grid - x[0]
    return int(np.sum(np.sign(F[1:]) != np.sign(F[:-1])))


def _sparse_branch_codes(X, s, theta):
    """Per sample, the zero-reconstruction code of (20) on the branch through logit(s): the first root
    of row 1 above logit(s) (F(logit s) = (1 - theta)(logit s - x_1) > 0 and F dips below 0 just
    above it), bracketed on a grid of step 1e-5 and refined by brentq; z_2 from row 2. Z (2, n)."""
    Z = np.empty_like(X)
    for i in range(X.shape[1]):
        grid = logit(s[i]) + np.linspace(0.0, 1.0, 100001)
        F = theta * theorem4.pi_map(theorem4.logistic(grid), EPS, C)[0] + (1 - theta) * grid - X[0, i]
        j = int(np.argmax(F < 0))
        assert F[j] < 0, i
        z1 = brentq(lambda z: float(theta * theorem4.pi_map(theorem4.logistic(z), EPS, C)[0]
                                    + (1 - theta) * z - X[0, i]), grid[j - 1], grid[j], xtol=1e-14)
        Z[:, i] = z1, (X[1, i] - theta * theorem4.pi_map(theorem4.logistic(z1), EPS, C)[1]) / (1 - theta)
    return Z


def test_fig5_plateau_is_the_limit_of_the_branch_through_the_sparse_code():
    """Section 5: just before theta = 1 the cost drops onto a plateau ABOVE the theta = 1 value. On the
    branch through the sparse code, z_2 -> x_2 + x_1 (x_1 - z_1)/x_2 with z_1 = logit(s) as theta -> 1,
    so u_2 stays O(1) and the plateau (1/2)[h(u_1) + h(u_2)] exceeds (1/2)[h(0) + h(u_1)].
    At 1 - theta = 1e-9 the exact codes match the limit to first order in (1 - theta) z_1 /
    (rho a' sin(a) t(1 - t)) <= 1e-9 * 7.1 / (0.37 * 8.4e-4) ~ 2.3e-5 (the sample nearest s = 1 is the
    worst), inside rtol 1e-3. The figure's last inner point (1 - theta = 6e-6) lies on the plateau:
    closer to it than a tenth of the plateau's height above the theta = 1 value."""
    X, s = theorem4.sample_data_eq21(N, EPS, C, seed=0, return_latent=True)
    Z = _plateau_limit_codes(X, s)
    branch = _sparse_branch_codes(X, s, 1 - 1e-9)
    np.testing.assert_allclose(branch, Z, rtol=1e-3)
    assert np.sqrt(np.mean(branch[1] ** 2)) > 1.0  # the naive limit z_2 -> 0 is far off
    u = np.mean(Z**2, axis=1)
    data = _figure_data("fig05_theta_path")
    family = penalties.penalty_family(1e-2)
    for row in data["costs"]:
        h = family[row["name"]]
        plateau = 0.5 * float(np.sum(h(u)))
        last_inner, theta_one = float(row["cost"][-2]), float(row["cost"][-1])
        if row["name"] == "indicator":  # flat: every zero-reconstruction Z with two active rows costs 1
            assert last_inner == plateau == 1.0
            continue
        assert plateau > theta_one, row["name"]
        assert abs(last_inner - plateau) < 0.1 * (plateau - theta_one), row["name"]


def test_fig5_drop_happens_when_the_sample_nearest_s_one_gets_its_sparse_branch():
    """Section 5: the drop onto the plateau sits between the two grid thetas where the sample with s
    closest to 1 gains a zero-reconstruction code on the branch through its sparse code logit(s) (a
    root of row 1 within logit(s) + [-1, 30]; its other codes are walls, |z| ~ eps / (1 - theta)).
    At the grid theta after the drop every sample has that code."""
    X, s = theorem4.sample_data_eq21(N, EPS, C, seed=0, return_latent=True)
    data = _figure_data("fig05_theta_path")
    theta = np.asarray(data["theta"], dtype=float)
    linear = np.asarray(next(r["cost"] for r in data["costs"] if r["name"] == "linear"), dtype=float)
    inner = np.arange(1, theta.size - 1)
    drop = inner[np.argmax(np.diff(linear[inner]) < -0.5 * linear[inner][:-1])]  # last point before the drop
    before, after = theta[drop], theta[drop + 1]
    last = int(np.argmax(s))
    z_grid = logit(s[last]) + np.linspace(-1.0, 30.0, 200001)
    assert _row1_sign_changes(X[:, last], before, z_grid) == 0
    for i in range(N):
        z_grid = logit(s[i]) + np.linspace(-1.0, 30.0, 200001)
        assert _row1_sign_changes(X[:, i], after, z_grid) >= 1, i


# --- Figure 6: the 1/gamma walls are the reconstruction term ---------------------------------------

def test_fig6_wall_slopes_grow_like_one_over_gamma_only_through_the_residual_term():
    """Section 6: along a line P(s) through the sparse point, Eq. (3) at the optimal shared sigma_z is
    R(s)/gamma + kappa + sum_k log(gamma + ||w_k(s)||^2) + (d - kappa) log gamma + (1/n)||mu(s)||^2
    (Eq. 11 + kappa), R the gamma-free residual (1/n)||X - W mu - b||^2. Since
    2 |w.w'| <= (gamma + ||w||^2) ||w'|| / sqrt(gamma), the slope of everything but R/gamma is at most
    sum_k ||dw_k/ds|| / sqrt(gamma) + |d(1/n)||mu||^2/ds|: the log terms grow like gamma^(-1/2) only,
    and gamma * max|dL/ds| tends to max|dR/ds|, the reconstruction term's share."""
    d, r, kappa, n = 6, 2, 4, 50
    X = subspace_data(d, r, n, seed=0, scales=SCALES, offset_std=0.5)
    opt = lemma2.optimal_affine_vae(X, kappa, math.log(1e-12))
    W, b, active = opt["W"], opt["b"], opt["active"]
    A = np.zeros((kappa, d))
    A[active] = (W[:, active] / np.sum(W[:, active] ** 2, axis=0)).T
    rng = np.random.default_rng(1)
    DW = -2 * W + 0.05 * rng.standard_normal(W.shape)  # toward the sign-flipped twin, as in Figure 6
    DA = -2 * A + 0.05 * rng.standard_normal(A.shape)
    s = np.linspace(-0.5, 1.5, 801)
    ds = s[1] - s[0]
    lines = [(W + si * DW, (A + si * DA) @ (X - b[:, None])) for si in s]
    R = np.array([np.sum((X - Ws @ mu - b[:, None]) ** 2) / n for Ws, mu in lines])
    mu_energy = np.array([np.sum(mu**2) / n for _, mu in lines])
    log_part_bound = np.sum(np.linalg.norm(DW, axis=0))
    for gamma in (1e-2, 1e-4, 1e-6):
        loss = np.array([affine_vae_loss_eq3(X, Ws, b, mu, lemma2.log_sigma_z_star(Ws, math.log(gamma)),
                                             math.log(gamma)) for Ws, mu in lines])
        slope_rest = np.abs(np.diff(loss - R / gamma)) / ds
        # a finite difference is the mean derivative over its interval, so the bound holds for it too;
        # the subtraction of R/gamma costs a few ulps of the largest loss value, divided by ds
        roundoff = 8 * np.finfo(float).eps * np.abs(loss).max() / ds
        bound = log_part_bound / math.sqrt(gamma) + np.abs(np.diff(mu_energy)) / ds
        assert np.all(slope_rest <= bound * (1 + ROUNDOFF_RTOL) + roundoff)
        slope_total = np.abs(np.diff(loss)) / ds
        slope_R = np.abs(np.diff(R)) / ds
        assert abs(gamma * slope_total.max() - slope_R.max()) <= gamma * (bound.max() + roundoff)


# --- Figure 8: one shape on a log-gamma axis; gamma* of a decoder fitted at gamma_0 ---------------

def test_fig8_minima_have_one_shape_on_a_log_gamma_axis():
    """Section 8: with decoder and encoder fixed, Eq. (3) depends on gamma through d gamma*/gamma +
    d log gamma (Eq. 16), so L(log gamma* + t) - L(log gamma*) = d (e^(-t) + t - 1) for EVERY decoder:
    on a log-gamma axis a better decoder's minimum is the same curve moved left, not sharper (in gamma
    itself the curvature at the minimum, d / gamma*^2, does grow)."""
    d, r, kappa, n = 6, 2, 4, 50
    X = subspace_data(d, r, n, seed=0, scales=SCALES, offset_std=0.5)
    t = np.linspace(-3.0, 3.0, 13)
    for gamma_0 in (0.3, 1e-2, 1e-4):
        opt = lemma2.optimal_affine_vae(X, kappa, math.log(gamma_0))
        args = (X, opt["W"], opt["b"], opt["mu_z"], opt["log_sigma_z"])
        log_star = math.log(lemma3.gamma_star_affine(*args))
        base = affine_vae_loss_eq3(*args, log_star)
        shape = np.array([affine_vae_loss_eq3(*args, log_star + ti) for ti in t]) - base
        np.testing.assert_allclose(shape, d * (np.exp(-t) + t - 1), rtol=ROUNDOFF_RTOL,
                                   atol=ROUNDOFF_RTOL * (abs(base) + d * math.exp(3)))


@pytest.mark.parametrize("gamma_0", [0.3, 1e-2, 1e-4])
def test_fig8_decoder_fitted_at_gamma_0_has_gamma_star_r_gamma_0_over_d(gamma_0):
    """Section 8: the optimal affine VAE at a fixed variance gamma_0 (probabilistic PCA) on data of rank
    r with every data eigenvalue above gamma_0 reconstructs with expected squared error r gamma_0 per
    sample: along each active direction the ridge shrinkage leaves gamma_0^2 / lambda and the encoder
    noise adds (lambda - gamma_0) gamma_0 / lambda. So gamma* = r gamma_0 / d (Eq. 16): 0.1, 3.3e-3,
    3.3e-5 for the three decoders of Figure 8 (d = 6, r = 2)."""
    d, r, kappa, n = 6, 2, 4, 50
    X = subspace_data(d, r, n, seed=0, scales=SCALES, offset_std=0.5)
    opt = lemma2.optimal_affine_vae(X, kappa, math.log(gamma_0))
    assert np.all(opt["eigenvalues"][:r] > gamma_0)
    star = lemma3.gamma_star_affine(X, opt["W"], opt["b"], opt["mu_z"], opt["log_sigma_z"])
    assert star == pytest.approx(r * gamma_0 / d, rel=ROUNDOFF_RTOL * 100)  # sums of ~300 O(1) terms


# --- Figure 10: what the committed data show -------------------------------------------------------

def _runs():
    data = _figure_data("fig10_gradient_descent_theta")
    return data, {(init, run["name"]): run for init, runs in data["runs"].items() for run in runs}


def test_fig10_only_log_flickers_and_the_threshold_is_one_percent_of_eps():
    """Section 10: a row is active when its RMS exceeds 1% of eps; near the sparse solution only log's
    count of active rows changes more than once (its z_2 rattles across the threshold); sqrt's also
    rattles but stays below it after its one change."""
    data, runs = _runs()
    assert data["row_tol"] == pytest.approx(0.01 * data["eps"], rel=ROUNDOFF_RTOL)
    changes = {name: int(np.sum(np.diff(run["active_rows"]) != 0))
               for (init, name), run in runs.items() if init == "near_sparse"}
    assert changes["log"] > 10
    assert all(count <= 1 for name, count in changes.items() if name != "log")


def test_fig10_from_half_way_sqrt_arrives_late_and_u_does_not_arrive():
    """Section 10: from theta = 0.5 every penalty but u reaches theta = 0 within the run (sqrt last, in
    the final third); u is still above 0.2 at the end; all keep two active rows."""
    data, runs = _runs()
    arrival = {}
    for (init, name), run in runs.items():
        if init != "half_way":
            continue
        theta = np.asarray(run["theta"], dtype=float)
        assert np.all(np.asarray(run["active_rows"]) == 2), name
        arrival[name] = run["step"][int(np.argmax(theta == 0.0))] if (theta == 0.0).any() else None
    assert arrival["linear"] is None and runs[("half_way", "linear")]["theta_final"] > 0.2
    assert arrival["sqrt"] == max(v for v in arrival.values() if v is not None)
    assert data["steps"] * 2 / 3 < arrival["sqrt"] < data["steps"]
