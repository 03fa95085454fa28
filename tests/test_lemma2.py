"""Lemma 2 (supplement section 8.1): Eq. (11)-(15), the affine optimum and its gamma -> 0 limit."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from infgrad.tolerances import (
    ASYMPTOTIC_RATE_ATOL,
    BRENT_XTOL,
    FINITE_DIFFERENCE_RTOL,
    OPTIMIZER_ARGMIN_RTOL,
    OPTIMIZER_SLOPE_ATOL,
    OPTIMIZER_VALUE_RTOL,
    ROUNDOFF_ATOL,
    ROUNDOFF_RTOL,
    affine_sigma_argmin_rtol,
)
from tests.strategies import affine_vae_problems, log_gamma_vars, positive_log_uniform, seeds, subspace_data
from theory import subspace
from theory.lemma2 import (
    cost_eq13,
    cost_eq14,
    eq11_constant,
    eq12_expression,
    eq15_constant,
    gamma_to_zero_scan,
    log_sigma_z_star,
    loss_eq11,
    minimize_profiled_loss,
    omega_star,
    optimal_affine_vae,
    optimal_loss_closed_form,
    profiled_loss,
    reduced_cost_eq15,
    reparameterize_eq13,
    row_penalty_eq11,
    sigma_z_star,
)
from theory.penalties import log_shift
from theory.theorem4 import crossover_eps
from theory.vae_loss import affine_vae_loss_eq3


def _coordinate_argmin(fun, shape, start):
    """Minimize fun over log sigma one coordinate at a time with Brent's method (values only, no
    gradient formula). Eq. (3) is separable in the sigma_{k,i}, so one sweep reaches the argmin."""
    x = np.full(int(np.prod(shape)), float(start))
    for j in range(x.size):
        def along(value, j=j):
            y = x.copy()
            y[j] = value
            return fun(y.reshape(shape))
        x[j] = minimize_scalar(along, bracket=(-2.0, 0.0), method="brent", options={"xtol": BRENT_XTOL}).x
    return x.reshape(shape)


@given(problem=affine_vae_problems())
def test_sigma_star_is_the_numerical_argmin_of_eq3(problem):
    """Eq. (11): sigma_k^2 = gamma/(gamma + ||w_k||^2) minimizes the exact affine Eq. (3) over a
    shared log sigma_z: a value-only minimizer agrees, and +/-1e-3 perturbations raise the loss."""
    p = problem
    star = log_sigma_z_star(p.W, p.log_gamma_var)
    fun = lambda ls: affine_vae_loss_eq3(p.X, p.W, p.b, p.mu_z, ls, p.log_gamma_var)  # noqa: E731
    found = _coordinate_argmin(fun, (p.kappa,), 0.0)
    base = fun(star)
    np.testing.assert_allclose(np.exp(2 * found), np.exp(2 * star), rtol=affine_sigma_argmin_rtol(p.X, p.W, p.b, p.mu_z, p.log_gamma_var, found, 4.0))
    for k in range(p.kappa):
        for step in (-1e-3, 1e-3):
            moved = star.copy()
            moved[k] += step
            assert fun(moved) > base


@given(problem=affine_vae_problems(max_n=6, max_kappa=3))
def test_per_sample_sigma_has_the_same_minimizer(problem):
    """A per-sample sigma_z(x_i) reaches the same optimum: Eq. (3) separates over samples and the
    optimal variance does not involve x, so every column equals the shared sigma_z*."""
    p = problem
    n = p.X.shape[1]
    fun = lambda ls: affine_vae_loss_eq3(p.X, p.W, p.b, p.mu_z, ls, p.log_gamma_var)  # noqa: E731
    found = _coordinate_argmin(fun, (p.kappa, n), 0.0)
    star = sigma_z_star(p.W, p.log_gamma_var)
    rtol = affine_sigma_argmin_rtol(p.X, p.W, p.b, p.mu_z, p.log_gamma_var, found, 4.0 / n)
    np.testing.assert_allclose(np.exp(2 * found), np.repeat(star[:, None], n, 1), rtol=rtol)


@given(problem=affine_vae_problems())
def test_min_over_sigma_of_eq3_is_eq11_plus_kappa(problem):
    """Eq. (11): min over sigma_z of Eq. (3) = (11) + kappa (the constant worked out in eq11_constant)."""
    p = problem
    minimized = affine_vae_loss_eq3(p.X, p.W, p.b, p.mu_z, log_sigma_z_star(p.W, p.log_gamma_var),
                                    p.log_gamma_var)
    expected = loss_eq11(p.X, p.W, p.b, p.mu_z, p.log_gamma_var) + eq11_constant(p.kappa)
    np.testing.assert_allclose(minimized, expected, rtol=ROUNDOFF_RTOL, atol=ROUNDOFF_ATOL * p.kappa)


@given(a=positive_log_uniform(1e-6, 1e3), b=st.one_of(st.just(0.0), positive_log_uniform(1e-6, 1e3)),
       c=st.floats(-100.0, 100.0))
def test_eq12_expression_grows_without_bound_as_gamma_goes_to_zero(a, b, c):
    """End of 8.1: a/gamma + log(b + gamma) + c log gamma -> inf for a > 0, b >= 0, any c. On the grid
    gamma = 10^0 .. 10^-12 it is >= a/gamma + (1 + c) log gamma (derived lower bound, -> inf), it
    increases along the grid once gamma < a / (1 + |c|) (where -a/gamma^2 dominates the derivative),
    and at gamma = 1e-12 it exceeds 1e6 - 2.8e3 (a >= 1e-6, |1 + c| <= 101, |log 1e-12| < 27.7)."""
    gamma = np.geomspace(1.0, 1e-12, 49)
    values = eq12_expression(a, b, c, gamma)
    bound = a / gamma + (1 + c) * np.log(gamma)
    # round-off is relative to the size of the summed terms, not of the (possibly cancelling) sum
    term_size = a / gamma + np.abs(np.log(b + gamma)) + np.abs(c * np.log(gamma))
    assert np.all(values >= bound - ROUNDOFF_RTOL * term_size)
    tail = gamma < a / (1 + abs(c))
    assert np.all(np.diff(values[tail]) > 0)
    assert values[-1] > 1e6 - 2.8e3


@given(problem=affine_vae_problems(max_kappa=1), log_gamma_var=log_gamma_vars(1e-12, 1e2))
def test_eq12_expression_is_eq11_for_one_latent_column(problem, log_gamma_var):
    """Closed-form companion of the limit above: for kappa = 1, (11) is exactly the expression of
    (12) with a = (1/n) sum_i ||x_i - w mu_i - b||^2, b = ||w||^2, c = d - 1, plus (1/n) sum_i mu_i^2."""
    p = problem
    a = float(np.mean(np.sum((p.X - p.W @ p.mu_z - p.b[:, None]) ** 2, axis=0)))
    gamma = math.exp(log_gamma_var)
    via12 = float(eq12_expression(a, float(np.sum(p.W**2)), p.d - 1, gamma)) + float(np.mean(p.mu_z**2))
    eq11 = loss_eq11(p.X, p.W, p.b, p.mu_z, log_gamma_var)
    scale = a / gamma + p.d * abs(log_gamma_var) + abs(math.log(gamma + np.sum(p.W**2))) + np.mean(p.mu_z**2)
    assert abs(eq11 - via12) <= ROUNDOFF_RTOL * scale


@given(problem=affine_vae_problems())
def test_reparameterization_13_to_14_keeps_the_cost_and_the_constraint(problem):
    """(13) -> (14) with W = W_unit diag(omega), z = omega * mu, omega_k = ||w_k|| (the norm: the
    supplement's omega_k = ||w_k||^2 would break W_unit z = W mu; see reparameterize_eq13)."""
    p = problem
    W_unit, omega, Z = reparameterize_eq13(p.W, p.mu_z)
    np.testing.assert_allclose(np.linalg.norm(W_unit, axis=0), 1.0, rtol=ROUNDOFF_RTOL)
    np.testing.assert_allclose(W_unit @ Z, p.W @ p.mu_z, rtol=ROUNDOFF_RTOL,
                               atol=ROUNDOFF_ATOL * (1 + np.abs(p.W @ p.mu_z).max()))
    assert cost_eq14(Z, omega) == pytest.approx(cost_eq13(p.W, p.mu_z), rel=ROUNDOFF_RTOL, abs=ROUNDOFF_ATOL * 10)
    squared = omega**2  # the supplement's literal omega_k = ||w_k||^2
    assume(np.max(np.abs(squared - 1)) > 1e-3)
    assert not np.allclose(W_unit @ (squared[:, None] * p.mu_z), p.W @ p.mu_z, rtol=1e-6, atol=0)


@given(problem=affine_vae_problems())
def test_omega_star_minimizes_eq14_and_gives_eq15(problem):
    """(omega_k*)^2 = (1/n)||z_k||^2 minimizes (14) (a bounded scalar search per row agrees) and
    (14) at omega* = (15) + kappa."""
    p = problem
    Z = p.mu_z * 3.0
    star = omega_star(Z)
    for k in range(p.kappa):
        row = Z[k:k + 1]
        res = minimize_scalar(lambda lw: cost_eq14(row, np.array([math.exp(lw)])),
                              bounds=(math.log(star[k]) - 5, math.log(star[k]) + 5), method="bounded",
                              options={"xatol": 1e-10})
        np.testing.assert_allclose(math.exp(res.x), star[k], rtol=OPTIMIZER_ARGMIN_RTOL)
    np.testing.assert_allclose(cost_eq14(Z, star), reduced_cost_eq15(Z) + eq15_constant(p.kappa),
                               rtol=ROUNDOFF_RTOL, atol=ROUNDOFF_ATOL * p.kappa)


def test_eq15_is_minus_infinity_for_a_zero_row():
    """h = log at a zero row: (15) is -inf, the unbounded-below value Theorem 4 relies on."""
    assert reduced_cost_eq15(np.array([[1.0, 2.0], [0.0, 0.0]])) == -math.inf


# one random-start L-BFGS per example, whose wall time varies ~10x with the shared machine's load
@settings(deadline=None)
@given(data=subspace_data(max_d=4), log_gamma_var=log_gamma_vars(1e-2, 1e1), seed=seeds)
def test_closed_form_optimum_matches_the_numerical_minimum(data, log_gamma_var, seed):
    """The pPCA closed form of optimal_affine_vae is the global optimum at fixed gamma: L-BFGS on the
    profiled loss from a random W (kappa = r + 1: one column to switch off) reaches the same value;
    Eq. (3) at the closed-form parameters equals both the profiled loss and the eigenvalue formula."""
    X = data.X
    kappa = data.r + 1
    opt = optimal_affine_vae(X, kappa, log_gamma_var)
    _, numeric = minimize_profiled_loss(X, kappa, log_gamma_var, seed=seed)
    np.testing.assert_allclose(numeric, opt["loss"], rtol=OPTIMIZER_VALUE_RTOL, atol=OPTIMIZER_VALUE_RTOL)
    scale = max(1.0, abs(opt["loss"]))
    assert opt["loss"] == pytest.approx(opt["loss_closed_form"], rel=ROUNDOFF_RTOL * 100, abs=ROUNDOFF_ATOL * scale * 100)
    assert profiled_loss(X, opt["W"], log_gamma_var)[0] == pytest.approx(opt["loss"], rel=ROUNDOFF_RTOL * 100)
    # the plain Eq. (3) at the returned parameters (accurate at these gamma >= 1e-2: its residual's
    # round-off, ~1e-32 ||x||^2, divided by gamma is far below the loss)
    direct = affine_vae_loss_eq3(X, opt["W"], opt["b"], opt["mu_z"], opt["log_sigma_z"], log_gamma_var)
    assert direct == pytest.approx(opt["loss"], rel=ROUNDOFF_RTOL * 100, abs=ROUNDOFF_ATOL * scale * 100)


@given(data=subspace_data())
def test_optimal_affine_vae_loss_is_accurate_down_to_log_gamma_minus_200(data):
    """Lemma 2's closed form at log gamma = -200 (gamma = 1.4e-87): for data on an r-dimensional
    subspace and kappa >= r the optimum of Eq. (3) is kappa + r + sum_{j<=r} log lambda_j
    + (d - r) log gamma (about -800 here). optimal_affine_vae's Eq. (3) at its parameters agrees: it
    forms the residual without cancellation (the difference x - b - W mu gave 3.5e55: round-off
    squared over gamma)."""
    d, r = data.X.shape[0], data.r
    log_gamma = -200.0
    lam = data.eigenvalues[:r]
    for kappa in sorted({r, d}):
        expected = kappa + r + np.sum(np.log(lam)) + (d - r) * log_gamma
        opt = optimal_affine_vae(data.X, kappa, log_gamma)
        # the strategy's spectrum and X's covariance agree to 1e-12 lambda_1 (tests/test_strategies.py),
        # which moves each log lambda_j by 1e-12 lambda_1 / lambda_j <= 1e-12 / min_eig (0.05)
        atol = r * 1e-12 / 0.05
        assert opt["loss"] == pytest.approx(expected, rel=ROUNDOFF_RTOL, abs=atol)
        assert opt["loss_closed_form"] == pytest.approx(expected, rel=ROUNDOFF_RTOL, abs=atol)
        assert int(opt["active"].sum()) == r


@given(data=subspace_data(), log_gamma_var=log_gamma_vars(1e-2, 1e1), seed=seeds)
def test_profiled_loss_gradient_matches_central_differences(data, log_gamma_var, seed):
    """The analytic gradient the optimizer uses agrees with central differences (step 1e-6)."""
    X = data.X
    d = X.shape[0]
    W = np.random.default_rng(seed).standard_normal((d, 2))
    _, grad = profiled_loss(X, W, log_gamma_var)
    numeric = np.zeros_like(W)
    for idx in np.ndindex(W.shape):
        step = np.zeros_like(W)
        step[idx] = 1e-6
        numeric[idx] = (profiled_loss(X, W + step, log_gamma_var)[0]
                        - profiled_loss(X, W - step, log_gamma_var)[0]) / 2e-6
    # truncation ~1e-12 |F'''|, round-off ~1e-16 |F| / 1e-6 with |F| <~ 1e3 at gamma >= 1e-2
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)


@given(data=subspace_data())
def test_closed_form_loss_has_slope_d_minus_r_in_log_gamma(data):
    """Lemma 2, closed form: for gamma < lambda_r the optimum is kappa + r + sum_{j<=r} log lambda_j
    + (d - r) log gamma, so Eq. (3) evaluated at optimal_affine_vae's parameters on the grid
    gamma = 1e-3 lambda_r .. 1e-9 lambda_r has a fitted slope d - r (Eq. 3's round-off there is
    ~1e-16 ||X||^2 / gamma <= 1e-5, over a log-gamma span of 13.8)."""
    d, r = data.X.shape[0], data.r
    lam_r = data.eigenvalues[r - 1]
    log_gammas = np.log(lam_r * np.geomspace(1e-3, 1e-9, 7))
    for kappa in sorted({r, d}):
        losses = [optimal_affine_vae(data.X, kappa, lg)["loss"] for lg in log_gammas]
        slope = np.polyfit(log_gammas, losses, 1)[0]
        np.testing.assert_allclose(slope, d - r, atol=OPTIMIZER_SLOPE_ATOL)
        expected = [optimal_loss_closed_form(data.eigenvalues, kappa, lg) for lg in log_gammas]
        np.testing.assert_allclose(losses, expected, rtol=1e-9)  # same round-off source, 1e-5/|loss|


@pytest.mark.parametrize("d, kappa, r", [(4, 4, 2), (5, 3, 2), (4, 3, 1)],
                         ids=["d=kappa", "d>kappa", "d>kappa>r+1"])
def test_gamma_to_zero_measured_slope_and_active_columns(d, kappa, r):
    """Lemma 2 measured with an optimizer (no closed form): data on an r-dimensional affine subspace,
    the minimum over W (b, mu_z, sigma_z profiled out) at gamma = 1e-2 .. 1e-8, warm-started down
    the grid. The minimum falls with slope d - r in log gamma; exactly r columns of W stay away
    from zero (||w||^2 -> lambda_j - gamma) and kappa - r columns are switched off
    (||w||^2 / gamma < 1e-6, i.e. sigma_k^2 = gamma / (gamma + ||w||^2) > 1 - 1e-6: q = prior)."""
    X = subspace.subspace_data(d, r, 30, seed=d * 100 + kappa * 10 + r, scales=np.full(r, 2.0))
    log_gammas = np.log(np.geomspace(1e-2, 1e-8, 7))
    scan = gamma_to_zero_scan(X, kappa, log_gammas)
    np.testing.assert_allclose(scan["slope"], d - r, atol=OPTIMIZER_SLOPE_ATOL)
    # slope and intercept are the least-squares line through the reported losses
    np.testing.assert_allclose([scan["slope"], scan["intercept"]], np.polyfit(log_gammas, scan["losses"], 1),
                               rtol=ROUNDOFF_RTOL)
    lam = optimal_affine_vae(X, kappa, log_gammas[-1])["eigenvalues"]
    norms = scan["column_sq_norms"]
    gammas = np.exp(log_gammas)[:, None]
    # ||w_j||^2 enters the minimum as lambda/(omega + gamma) + log(omega + gamma), curvature 1/lambda^2
    # at omega = lambda - gamma: a minimum that L-BFGS gets to within 1e-7 (OPTIMIZER_SLOPE_ATOL's
    # note; the 1/gamma-stiff switched-off columns stall its line search) fixes omega only to
    # sqrt(2e-7) lambda = 4.5e-4 lambda.
    np.testing.assert_allclose(norms[:, :r], lam[:r] - gammas, rtol=math.sqrt(2e-7))
    assert np.all(norms[:, r:] / gammas < 1e-6)


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: sigma_z_star(np.ones((2, 2)), -math.inf), "log_gamma_var"),
        (lambda: sigma_z_star(np.ones((2, 2)), math.nan), "log_gamma_var"),
        (lambda: sigma_z_star(np.full((2, 2), np.inf), 0.0), "W"),
        (lambda: sigma_z_star(np.ones((2, 0)), 0.0), "kappa"),
        (lambda: loss_eq11(np.ones((2, 3)), np.ones((2, 2)), np.ones(2), np.ones((3, 3)), 0.0), "mu_z"),
        (lambda: eq12_expression(1.0, 0.0, 0.0, 0.0), "gamma"),
        (lambda: eq12_expression(1.0, 0.0, 0.0, -1.0), "gamma"),
        (lambda: eq12_expression(1.0, -1.0, 0.0, 1.0), "b"),
        (lambda: optimal_affine_vae(np.ones((2, 3)), 0, 0.0), "kappa"),
        (lambda: optimal_affine_vae(np.ones((2, 3)), 1, -math.inf), "log_gamma_var"),
        (lambda: cost_eq14(np.ones((2, 3)), np.array([1.0, 0.0])), "omega"),
    ],
)
def test_bad_input_raises_naming_the_argument(call, argument):
    with pytest.raises(ValueError, match=f"^{argument}:"):
        call()


# --- Eq. (11) at a finite gamma: the row penalty it carries ----------------------------------

@given(u=positive_log_uniform(1e-8, 1e2), log_gamma_var=log_gamma_vars(1e-8, 1e1))
def test_row_penalty_eq11_is_the_minimum_over_omega_of_the_column_term(u, log_gamma_var):
    """(11) reparameterized as (13)-(14) at finite gamma: column k costs log(gamma + omega^2) + u/omega^2;
    a bounded scalar search over log omega^2 finds the same minimum value as the closed form."""
    gamma = math.exp(log_gamma_var)
    f = row_penalty_eq11(log_gamma_var)
    start = math.log(math.sqrt(u) * (math.sqrt(u) + math.sqrt(u + 4 * gamma)) / 2)
    res = minimize_scalar(lambda lw: math.log(gamma + math.exp(lw)) + u * math.exp(-lw),
                          bounds=(start - 5, start + 5), method="bounded", options={"xatol": 1e-10})
    assert float(f(u)) == pytest.approx(res.fun, rel=OPTIMIZER_VALUE_RTOL, abs=OPTIMIZER_VALUE_RTOL)
    assert float(f(u)) <= res.fun + ROUNDOFF_ATOL * (1 + abs(res.fun))


@given(problem=affine_vae_problems())
def test_eq11_at_finite_gamma_is_residual_plus_row_penalties(problem):
    """At finite gamma, with unit-norm columns W_unit and codes Z = diag(omega) mu, the minimum of (11)
    over omega is (1/(n gamma))||X - W_unit Z - b||^2 + sum_k f(u_k) + (d - kappa) log gamma, with f
    the row penalty of `row_penalty_eq11`; any other omega costs more."""
    p = problem
    W_unit = p.W / np.linalg.norm(p.W, axis=0)
    Z = p.mu_z
    u = np.mean(Z**2, axis=1)
    assume(np.all(u > 1e-12))
    gamma = math.exp(p.log_gamma_var)
    f = row_penalty_eq11(p.log_gamma_var)
    omega = np.sqrt(np.sqrt(u) * (np.sqrt(u) + np.sqrt(u + 4 * gamma)) / 2)
    at_star = loss_eq11(p.X, W_unit * omega, p.b, Z / omega[:, None], p.log_gamma_var)
    residual = np.sum((p.X - W_unit @ Z - p.b[:, None]) ** 2) / (p.X.shape[1] * gamma)
    expected = residual + float(np.sum(f(u))) + (p.d - p.kappa) * p.log_gamma_var
    size = residual + np.sum(np.abs(f(u))) + abs((p.d - p.kappa) * p.log_gamma_var) + 1
    assert at_star == pytest.approx(expected, rel=ROUNDOFF_RTOL, abs=ROUNDOFF_ATOL * size)
    for factor in (0.9, 1.1):
        moved = omega * factor
        assert loss_eq11(p.X, W_unit * moved, p.b, Z / moved[:, None], p.log_gamma_var) > at_star


@pytest.mark.parametrize("ratio", [1e-5, 1e-4, 1e-3, 1e-2])
def test_row_penalty_eq11_tends_to_log_u_plus_one_as_gamma_goes_to_zero(ratio):
    """gamma -> 0 gives back (15) plus its constant: expanding omega^2 = u + gamma - gamma^2/u + ...
    gives f(u) = log u + 1 + gamma/u - (gamma/u)^2 + O((gamma/u)^3), so with x = gamma/u <= 1e-2,
    |f(u) - log u - 1 - x| <= 2 x^2 (>= 2e-10, far above float64 round-off on O(1) values)."""
    u = 0.3
    f = row_penalty_eq11(math.log(ratio * u))
    assert abs(float(f(u)) - math.log(u) - 1 - ratio) <= 2 * ratio**2


@pytest.mark.parametrize("x", [1e-4, 1e-3, 1e-2])
def test_row_penalty_eq11_rises_like_2_sqrt_u_over_gamma_from_log_gamma(x):
    """Near u = 0 the finite-gamma penalty is sqrt-like: with x = sqrt(u/gamma), log(1 + omega^2/gamma)
    = x + O(x^3) and u/omega^2 = x - x^2/2 + O(x^3), so |f(u) - log gamma - 2x| <= x^2. Its slope at 0
    is unbounded but f(0) = log gamma is finite: the situation of sqrt in Theorem 4."""
    gamma = 1e-3
    f = row_penalty_eq11(math.log(gamma))
    assert float(f(0.0)) == pytest.approx(math.log(gamma), rel=ROUNDOFF_RTOL)
    assert abs(float(f(x**2 * gamma)) - math.log(gamma) - 2 * x) <= x**2
    assert f.grad_at_zero == math.inf and not f.bounded_gradient


def test_row_penalty_eq11_is_concave_non_decreasing_with_derivative_one_over_omega_squared():
    """f is a minimum of functions affine in u, hence concave; each is increasing, hence f is
    non-decreasing; by the envelope theorem f'(u) = 1/omega*(u)^2 (central differences agree)."""
    f = row_penalty_eq11(math.log(1e-2))
    u = np.geomspace(1e-8, 1e2, 400)
    values = f(u)
    assert np.all(np.diff(values) > 0)
    slopes = np.diff(values) / np.diff(u)
    assert np.all(np.diff(slopes) <= ROUNDOFF_RTOL * np.abs(slopes[1:]))
    step = 1e-5 * u
    central = (f(u + step) - f(u - step)) / (2 * step)
    np.testing.assert_allclose(central, f.derivative(u), rtol=FINITE_DIFFERENCE_RTOL)


def test_finite_gamma_leaves_a_failure_region_that_shrinks_like_gamma_to_the_quarter():
    """The bridge between Lemma 2 and Theorem 4: at finite gamma, (11)'s log(gamma + ||w_k||^2) is the
    log(u + c) penalty with c = gamma in the column energy, and in the row energy it is the profiled
    f of `row_penalty_eq11`. Both have finite h(0) = log gamma (+ const), so Theorem 4's construction
    (C = 0.7) has a failure region eps < eps*(gamma) at every gamma > 0; it closes only as gamma -> 0,
    like gamma^(1/4): the closed form of crossover_eps_closed_form gives eps*^4 -> gamma u/(m_1 m_2)
    for log(u + gamma), and f ~ log u + 1 turns that into gamma u / (e m_1 m_2): a ratio e^(-1/4)."""
    gammas = np.geomspace(1e-8, 1e-5, 4)
    shifted = np.array([crossover_eps(log_shift(g), 0.7) for g in gammas])
    profiled = np.array([crossover_eps(row_penalty_eq11(math.log(g)), 0.7) for g in gammas])
    assert np.all(shifted > 0) and np.all(profiled > 0)
    for eps_star in (shifted, profiled):
        slope = np.polyfit(np.log(gammas), np.log(eps_star), 1)[0]
        assert slope == pytest.approx(0.25, abs=ASYMPTOTIC_RATE_ATOL)
    np.testing.assert_allclose(profiled / shifted, math.exp(-0.25), rtol=ASYMPTOTIC_RATE_ATOL)


def test_naive_log_u_plus_gamma_fails_the_omega_minimization_check():
    """Companion: reading (11)'s log(gamma + ||w_k||^2) directly as a penalty log(u + gamma) on the ROW
    energy is wrong: at u = gamma the minimum over omega is log gamma + log((3 + sqrt 5)/2) + 2/(1 + sqrt 5)
    (omega^2 = gamma (1 + sqrt 5)/2), about log gamma + 1.580, not log(2 gamma) = log gamma + 0.693."""
    gamma = 1e-3
    res = minimize_scalar(lambda lw: math.log(gamma + math.exp(lw)) + gamma * math.exp(-lw),
                          bounds=(math.log(gamma) - 5, math.log(gamma) + 5), method="bounded",
                          options={"xatol": 1e-10})
    golden = (1 + math.sqrt(5)) / 2
    assert res.fun == pytest.approx(math.log(gamma) + math.log(1 + golden) + 1 / golden, rel=OPTIMIZER_VALUE_RTOL)
    assert abs(float(log_shift(gamma)(gamma)) - res.fun) > 0.8
    assert float(row_penalty_eq11(math.log(gamma))(gamma)) == pytest.approx(res.fun, rel=OPTIMIZER_VALUE_RTOL)


def test_eq13_cost_is_a_sum_of_log_column_norms_plus_the_code_energy_and_minus_inf_at_a_zero_column():
    """Objective of (13): sum_k log ||w_k||^2 + (1/n) sum_i ||mu_i||^2. For W = diag(1, 2) the first
    term is log 1 + log 4 (a unit column contributes exactly 0); a zero column makes it log 0 = -inf."""
    mu_z = np.array([[1.0, -1.0, 2.0], [0.5, 0.0, -0.5]])
    energy = np.sum(mu_z**2) / 3
    assert cost_eq13(np.diag([1.0, 2.0]), mu_z) == pytest.approx(math.log(4.0) + energy, rel=ROUNDOFF_RTOL)
    assert cost_eq13(np.array([[1.0, 0.0], [0.0, 0.0]]), mu_z) == -math.inf


def test_eq11_with_a_zero_column_counts_log_gamma_for_it():
    """Eq. (11)'s sum_k log(gamma + ||w_k||^2) at ||w_2|| = 0 is log(gamma + 5) + log(gamma), finite:
    the zero column's latent stays at the prior; the rest of (11) is summed by hand (d = 2, kappa = 2)."""
    X = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
    W = np.array([[1.0, 0.0], [2.0, 0.0]])
    b = np.array([0.5, -0.5])
    mu_z = np.array([[0.5, 0.0, -0.5], [1.0, 2.0, 0.0]])
    log_gamma_var = math.log(0.25)
    residual = X - W @ mu_z - b[:, None]
    expected = (np.sum(residual**2) / 3 / 0.25 + math.log(5.25) + math.log(0.25) + np.sum(mu_z**2) / 3
                + (2 - 2) * log_gamma_var)  # (d - kappa) log gamma
    assert loss_eq11(X, W, b, mu_z, log_gamma_var) == pytest.approx(expected, rel=ROUNDOFF_RTOL)


def test_closed_form_optimum_activates_only_the_top_kappa_eigenvalues_above_gamma():
    """pPCA minimum of (3): kappa + sum_active (1 + log lambda_j) + sum_rest (lambda_j / gamma + log gamma)
    with the active set the top min(kappa, d) eigenvalues above gamma. Eigenvalues 4, 2, 1 with
    kappa = 1 and gamma = 1/2: only 4 is active although 2 and 1 exceed gamma, so the minimum is
    1 + (1 + log 4) + (2 + 1) / (1/2) + 2 log(1/2); `optimal_affine_vae` on data with these covariance
    eigenvalues evaluates (3) at its parameters to the same number."""
    expected = 1.0 + (1.0 + math.log(4.0)) + 3.0 / 0.5 + 2.0 * math.log(0.5)
    assert optimal_loss_closed_form([1.0, 4.0, 2.0], 1, math.log(0.5)) == pytest.approx(expected, rel=ROUNDOFF_RTOL)
    # columns +-sqrt(3) (2, 0, 0), (0, sqrt 2, 0), (0, 0, 1), each sign twice: covariance diag(4, 2, 1)
    axes = np.diag([2.0, math.sqrt(2.0), 1.0])
    X = np.concatenate([axes, -axes, axes, -axes], axis=1) * math.sqrt(3.0)  # n = 12: variance a^2 * 3 / 3
    opt = optimal_affine_vae(X, 1, math.log(0.5))
    np.testing.assert_allclose(opt["eigenvalues"], [4.0, 2.0, 1.0], rtol=ROUNDOFF_RTOL)
    assert opt["loss"] == pytest.approx(expected, rel=ROUNDOFF_RTOL * 100)


def test_numerical_minimum_is_reproducible_from_its_seed():
    """The random start of minimize_profiled_loss (and so each step of gamma_to_zero_scan) is drawn
    from `seed`: the same seed gives the same W and value to the bit (one BLAS thread)."""
    X = subspace.subspace_data(3, 1, 12, seed=5)
    W_a, value_a = minimize_profiled_loss(X, 2, math.log(0.1), seed=7)
    W_b, value_b = minimize_profiled_loss(X, 2, math.log(0.1), seed=7)
    np.testing.assert_array_equal(W_a, W_b)
    assert value_a == value_b
    scans = [gamma_to_zero_scan(X, 2, [math.log(0.1), math.log(0.01)], seed=7) for _ in range(2)]
    np.testing.assert_array_equal(scans[0]["losses"], scans[1]["losses"])
