"""Theorem 4's counterexample (supplement section 8.3, Eq. 20-25)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import brentq, minimize, minimize_scalar
from scipy.special import logit as scipy_logit

from infgrad.tolerances import (
    CROSSOVER_LOG_RTOL,
    CROSSOVER_LOG_XTOL,
    CROSSOVER_ROUNDOFF,
    OPTIMIZER_ARGMIN_RTOL,
    OPTIMIZER_VALUE_RTOL,
    ROOT_FIND_RTOL,
    ROUNDOFF_ATOL,
    ROUNDOFF_RTOL,
)
from tests.strategies import positive_log_uniform, seeds, theorem4_settings
from theory.objective import infinite_indicator, objective_eq22
from theory.penalties import indicator, linear, log_penalty, log_shift, penalty_family, ratio, sqrt_penalty, sqrt_shift
from theory.theorem4 import (
    PAPER_BOUND_THRESHOLD,
    cost_theta0,
    cost_theta1,
    crossover_eps,
    crossover_eps_closed_form,
    decoder_eq20,
    logistic,
    logit,
    pi_inverse,
    pi_map,
    row_energy_theta1_lower_bound,
    sample_data_eq21,
    sparse_code_theta1,
    unconstrained_cost_identity_g,
    unconstrained_cost_identity_g_theta1,
)

BOUNDED_FAMILIES = {"log_shift": log_shift, "sqrt_shift": sqrt_shift, "ratio": ratio}
BOUNDED = {**BOUNDED_FAMILIES, "linear": lambda c: linear()}  # every bounded h'(0+) of the family


@given(settings=theorem4_settings(), eps=positive_log_uniform(1e-8, 1.0))
def test_pi_maps_the_data_segment_into_the_eps_square_injectively(settings, eps):
    """Eq. (21) premise: pi is injective on [C, 1] with 0 < x_j < eps; pi^{-1}(pi(t)) = t."""
    C, n, seed = settings
    t = np.linspace(C, 1.0, 257)
    x = pi_map(t, eps, C)
    assert np.all((x > 0) & (x < eps))
    angle = np.arctan2(x[1], x[0])
    assert np.all(np.diff(angle) > 0)  # strictly increasing angle on one arc: injective
    np.testing.assert_allclose(pi_inverse(x, eps, C), t, rtol=0, atol=1e-12)  # arctan2 round-off / slope 0.8


@given(settings=theorem4_settings(), eps=positive_log_uniform(1e-8, 1.0), theta=st.floats(0.0, 1.0))
def test_decoder_eq20_reconstructs_exactly_at_both_ends(settings, eps, theta):
    """Eq. (20): at theta = 1 the forced code logit(pi^{-1}(x)) reconstructs X; at theta = 0, Z = X does."""
    C, n, seed = settings
    X = sample_data_eq21(n, eps, C, seed)
    Z1 = sparse_code_theta1(X, eps, C)
    np.testing.assert_allclose(decoder_eq20(Z1, 1.0, eps, C), X, rtol=1e-9, atol=0)  # logit near s = 1
    np.testing.assert_allclose(decoder_eq20(X, 0.0, eps, C), X, rtol=0, atol=0)
    mixed = decoder_eq20(Z1, theta, eps, C)
    np.testing.assert_allclose(mixed, theta * decoder_eq20(Z1, 1.0, eps, C) + (1 - theta) * Z1,
                               rtol=ROUNDOFF_RTOL, atol=ROUNDOFF_ATOL)


@given(settings=theorem4_settings(), eps=positive_log_uniform(1e-8, 1.0))
def test_data_eq21_scale_linearly_with_eps(settings, eps):
    """Only the scale of the data depends on eps for a fixed seed (what crossover_eps relies on)."""
    C, n, seed = settings
    X, s = sample_data_eq21(n, eps, C, seed, return_latent=True)
    assert np.all((s >= C) & (s < 1))
    np.testing.assert_allclose(X, eps * sample_data_eq21(n, 1.0, C, seed), rtol=ROUNDOFF_RTOL)


@pytest.mark.parametrize("name", sorted(penalty_family()))
@given(settings=theorem4_settings(), eps=positive_log_uniform(1e-6, 1.0))
def test_costs_23_24_are_the_objective_22_at_the_forced_codes(name, settings, eps):
    """(23) and (24) equal L_{g,h} of (22) with g = I_inf at the zero-reconstruction codes."""
    C, n, seed = settings
    h = penalty_family()[name]
    X = sample_data_eq21(n, eps, C, seed)
    Z1 = sparse_code_theta1(X, eps, C)
    # the theta = 1 reconstruction carries round-off ~1e-16 eps: I_inf with that tolerance
    g = lambda u: infinite_indicator(u, atol=(1e-12 * eps) ** 2)  # noqa: E731
    via_22 = objective_eq22(X, Z1, decoder_eq20(Z1, 1.0, eps, C), g, h)
    assert cost_theta1(h, X, eps, C) == pytest.approx(via_22, rel=ROUNDOFF_RTOL, abs=ROUNDOFF_ATOL) \
        or cost_theta1(h, X, eps, C) == via_22 == -math.inf
    assert cost_theta0(h, X) == pytest.approx(objective_eq22(X, X, X, g, h), rel=ROUNDOFF_RTOL)


@given(settings=theorem4_settings(), z2_scale=positive_log_uniform(1e-6, 1e2), seed=seeds)
def test_z2_zero_minimizes_the_theta1_cost(settings, z2_scale, seed):
    """(23): at theta = 1, z_2 does not reconstruct anything, so any z_2 != 0 costs more."""
    C, n, data_seed = settings
    eps = 1e-2
    X = sample_data_eq21(n, eps, C, data_seed)
    Z = sparse_code_theta1(X, eps, C)
    Z[1] = np.random.default_rng(seed).standard_normal(n) * z2_scale
    for h in (log_shift(1e-2), linear(), sqrt_shift(1e-2), ratio(1e-2), indicator()):
        moved = objective_eq22(X, Z, decoder_eq20(Z, 1.0, eps, C), lambda u: 0.0 * u, h)
        assert moved > cost_theta1(h, X, eps, C)
        # in closed form: the excess is (1/2) [h((1/n)||z_2||^2) - h(0)] (z_2 leaves the decoder alone)
        excess = 0.5 * (float(h(np.mean(Z[1] ** 2))) - float(h(0.0)))
        assert moved - cost_theta1(h, X, eps, C) == pytest.approx(excess, rel=ROUNDOFF_RTOL, abs=ROUNDOFF_ATOL * abs(moved))


@given(settings=theorem4_settings())
def test_theta1_row_energy_bound_is_logit_C_squared_not_C_squared(settings):
    """Erratum in (23): with the logistic t, (1/n)||z_1||^2 >= logit(C)^2 (C >= 1/2) or >= 0, not C^2."""
    C, n, seed = settings
    X = sample_data_eq21(n, 1e-3, C, seed)
    energy = float(np.mean(sparse_code_theta1(X, 1e-3, C)[0] ** 2))
    assert energy >= row_energy_theta1_lower_bound(C) * (1 - ROUNDOFF_RTOL)


def test_paper_bound_C_squared_fails_below_the_threshold():
    """A dataset with every s = t(z_gt) at C = 0.55 (allowed by (21)) has (1/n)||z_1||^2 = logit(C)^2
    ~ 0.040 < C^2 = 0.3025, so the supplement's bound fails; it holds iff logit(C) >= C, C >= 0.659."""
    C, eps = 0.55, 1e-3
    X = pi_map(np.full(10, C), eps, C)
    energy = float(np.mean(sparse_code_theta1(X, eps, C)[0] ** 2))
    np.testing.assert_allclose(energy, scipy_logit(C) ** 2, rtol=1e-9)  # pi round trip near s = C
    assert energy < C**2
    threshold = brentq(lambda c: scipy_logit(c) - c, 0.51, 0.99, xtol=1e-15)
    np.testing.assert_allclose(PAPER_BOUND_THRESHOLD, threshold, rtol=ROUNDOFF_RTOL)


@pytest.mark.parametrize("family", sorted(BOUNDED))
@given(settings=theorem4_settings(theorem=True), c=positive_log_uniform(1e-6, 1.0))
def test_bounded_gradient_h_prefers_theta0_below_the_crossover(family, settings, c):
    """Theorem 4 / (25): for bounded h'(0+) a crossover eps* > 0 exists; theta = 0 is strictly cheaper
    for every eps below it (grid down to 1e-6 eps*) and theta = 1 is cheaper just above it."""
    C, n, seed = settings
    h = BOUNDED[family](c)
    eps_star = crossover_eps(h, C, n=n, seed=seed)
    assert 0 < eps_star < math.inf
    for fraction in (1e-6, 1e-3, 0.1, 0.5, 0.99):
        eps = fraction * eps_star
        X = sample_data_eq21(n, eps, C, seed)
        assert cost_theta0(h, X) < cost_theta1(h, X, eps, C)
    X = sample_data_eq21(n, 1.01 * eps_star, C, seed)
    assert cost_theta0(h, X) > cost_theta1(h, X, 1.01 * eps_star, C)


@pytest.mark.parametrize("family", sorted(BOUNDED_FAMILIES))
@given(settings=theorem4_settings(theorem=True), c=positive_log_uniform(1e-6, 1.0))
def test_crossover_shrinks_as_the_gradient_at_zero_grows(family, settings, c):
    """Within each one-parameter family, a larger h'(0+) (smaller c) gives a smaller eps*.

    Not across families: ratio(c=1) and linear both have h'(0+) = 1 with different eps*
    (1.37 and 2.78 at C = 0.7, n = 256, seed 0)."""
    C, n, seed = settings
    steep, flat = BOUNDED_FAMILIES[family](0.1 * c), BOUNDED_FAMILIES[family](c)
    assert steep.grad_at_zero > flat.grad_at_zero
    assert crossover_eps(steep, C, n=n, seed=seed) < crossover_eps(flat, C, n=n, seed=seed)


@pytest.mark.parametrize("name, c", [("linear", None), ("sqrt", None), ("log_shift", 1e-2), ("log_shift", 1e-8)])
@given(settings=theorem4_settings(theorem=True))
def test_crossover_matches_closed_forms(name, c, settings):
    """eps* from the root finder equals the closed forms derived in `crossover_eps_closed_form`."""
    C, n, seed = settings
    h = {"linear": linear(), "sqrt": sqrt_penalty()}.get(name) or log_shift(c)
    expected = crossover_eps_closed_form(name, C, n=n, seed=seed, c=c)
    np.testing.assert_allclose(crossover_eps(h, C, n=n, seed=seed), expected, rtol=ROOT_FIND_RTOL)


@pytest.mark.parametrize("h", [log_penalty(), indicator()], ids=["log", "indicator"])
@given(settings=theorem4_settings(theorem=True))
def test_log_and_indicator_keep_the_sparse_solution_at_every_eps(h, settings):
    """End of 8.3: for h = log (cost -inf at theta = 1) and the indicator (1/2 against 1) the sparse
    theta = 1 solution is strictly cheaper at every eps tested (1e-12 .. 1e2); crossover_eps = 0."""
    C, n, seed = settings
    for eps in np.geomspace(1e-12, 1e2, 15):
        X = sample_data_eq21(n, eps, C, seed)
        assert cost_theta1(h, X, eps, C) < cost_theta0(h, X)
    assert crossover_eps(h, C, n=n, seed=seed) == 0.0
    if h.name == "indicator":
        assert cost_theta1(h, X, eps, C) == 0.5 and cost_theta0(h, X) == 1.0


def test_sqrt_has_an_unbounded_gradient_and_still_a_crossover():
    """Theorem 4 is a necessary condition only: h = sqrt (h'(0+) = inf) loses the sparse solution
    too for small eps, since cost_theta0 = (eps/2)(sqrt m_1 + sqrt m_2) -> 0 < cost_theta1."""
    h = sqrt_penalty()
    eps_star = crossover_eps(h, 0.7)
    assert not h.bounded_gradient and 0 < eps_star < math.inf
    X = sample_data_eq21(256, 0.5 * eps_star, 0.7, 0)
    assert cost_theta0(h, X) < cost_theta1(h, X, 0.5 * eps_star, 0.7)


@pytest.mark.parametrize("name", sorted(set(penalty_family()) - {"log"}))
def test_identity_g_gives_up_reconstruction(name):
    """With g = identity (reconstruction not forced) the minimum over Z at theta = 0 costs less than
    the exact sparse solution for every h with finite h(0), the indicator included, and its
    reconstruction error is nonzero: only g = I_inf makes (23) vs (24) the relevant comparison."""
    h = penalty_family()[name]
    eps, C = 1e-3, 0.7
    X = sample_data_eq21(64, eps, C, 0)
    result = unconstrained_cost_identity_g(h, X)
    assert result["cost"] < cost_theta1(h, X, eps, C)
    assert result["recon_mse"] > 0
    # Z = 0 is feasible, so the minimum is at most h(0) + (1/2) sum_k m_k = h(0) + O(eps^2)
    assert result["cost"] <= float(h(0.0)) + 0.5 * np.sum(np.mean(X**2, axis=1)) * (1 + ROUNDOFF_RTOL)


@pytest.mark.parametrize("name", sorted(set(penalty_family()) - {"log"}))
def test_identity_g_at_theta1_also_gives_up_reconstruction(name):
    """Same at theta = 1: with g = identity the minimum over z_1 (L-BFGS from the exact code and
    from Z = 0) is below the exact sparse cost (23) with a nonzero error; its reported cost is
    (22) at the returned Z."""
    h = penalty_family()[name]
    eps, C = 1e-3, 0.7
    X = sample_data_eq21(64, eps, C, 0)
    result = unconstrained_cost_identity_g_theta1(h, X, eps, C)
    assert result["cost"] < cost_theta1(h, X, eps, C)
    assert result["recon_mse"] > 0
    Z = result["Z"]
    via_22 = objective_eq22(X, Z, decoder_eq20(Z, 1.0, eps, C), lambda u: u, h)
    assert result["cost"] == pytest.approx(via_22, rel=ROUNDOFF_RTOL, abs=ROUNDOFF_ATOL)


def test_identity_g_with_linear_h_halves_the_codes():
    """g = identity, h = u: (1/2)[(1 - a)^2 m + a^2 m] is minimized at a = 1/2 for every row."""
    X = sample_data_eq21(64, 1e-2, 0.7, 0)
    np.testing.assert_allclose(unconstrained_cost_identity_g(linear(), X)["shrink"], 0.5,
                               rtol=OPTIMIZER_ARGMIN_RTOL)


def test_identity_g_with_h_twice_u_shrinks_the_codes_to_a_third():
    """g = identity, h = 2u: (1/2)[(1 - a)^2 m + 2 a^2 m] is least at a = 1/3 (off the 1/2000 grid,
    so the bounded search refines it), where it is m/3; hence Z = X/3, cost (m_1 + m_2)/3 and
    reconstruction error (4/9) mean(X^2). The search is value-only: its argmin is good to
    sqrt(8 eps max(|f|, 1) / f'') < 1e-7 for f'' = 3m ~ 1 here (eps = 1), inside the tolerance."""
    X = sample_data_eq21(64, 1.0, 0.7, 0)
    m = np.mean(X**2, axis=1)
    result = unconstrained_cost_identity_g(lambda u: 2.0 * u, X)
    np.testing.assert_allclose(result["shrink"], 1.0 / 3.0, rtol=OPTIMIZER_ARGMIN_RTOL)
    np.testing.assert_allclose(result["Z"], X / 3.0, rtol=OPTIMIZER_ARGMIN_RTOL)
    assert result["cost"] == pytest.approx(np.sum(m) / 3.0, rel=OPTIMIZER_VALUE_RTOL)
    # d log((1 - a)^2) / d log a = -2a/(1 - a) = -1 at a = 1/3: the argmin's relative error carries over
    assert result["recon_mse"] == pytest.approx(4.0 / 9.0 * np.mean(X**2), rel=OPTIMIZER_ARGMIN_RTOL)


def test_identity_g_at_theta1_reaches_the_minimum_of_an_independent_search():
    """g = identity at theta = 1: the L-BFGS minimum over z_1 (analytic gradient) is as low as a
    search of (22) itself with finite-difference gradients from the same starts (the exact code,
    a tenth of it), to the search's value tolerance: a wrong gradient stops L-BFGS short."""
    h, eps, C = ratio(1e-2), 1e-3, 0.7
    X = sample_data_eq21(16, eps, C, 0)
    result = unconstrained_cost_identity_g_theta1(h, X, eps, C)

    def eq22(z1):
        Z = np.stack([z1, np.zeros_like(z1)])
        return objective_eq22(X, Z, decoder_eq20(Z, 1.0, eps, C), lambda u: u, h)

    exact = sparse_code_theta1(X, eps, C)[0]
    reference = min(minimize(eq22, start, method="L-BFGS-B").fun for start in (exact, 0.1 * exact))
    assert result["cost"] <= reference * (1.0 + OPTIMIZER_VALUE_RTOL)


def test_logistic_and_logit_are_inverse_and_logit_needs_the_open_interval():
    """t(z) = 1/(1 + e^-z): t(0) = 1/2, t(-z) = 1 - t(z), logit(t(z)) = z and logit(3/4) = log 3;
    logit refuses 0, 1 and values outside (0, 1). Round-off: t is stored to eps/2 absolute, which
    logit magnifies by 1/(t(1 - t)) <= 2.3e4 on |z| <= 10, i.e. <= 2.5e-12 absolute, 2.5e-13 of |z|."""
    z = np.linspace(-10.0, 10.0, 41)
    assert logistic(0.0) == 0.5
    np.testing.assert_allclose(logistic(-z), 1.0 - logistic(z), rtol=ROUNDOFF_RTOL, atol=ROUNDOFF_ATOL)
    np.testing.assert_allclose(logit(logistic(z)), z, rtol=ROUNDOFF_RTOL, atol=ROUNDOFF_ATOL)
    assert logit(0.75) == pytest.approx(math.log(3.0), rel=ROUNDOFF_RTOL)
    for bad in (0.0, 1.0, -0.5, 1.5):
        with pytest.raises(ValueError, match="open interval"):
            logit(bad)
    with pytest.raises(ValueError, match="t"):
        logit(np.nan)


def test_identity_g_with_log_h_collapses_to_minus_infinity():
    """g = identity, h = log: Z = 0 costs -inf, the degenerate minimum Theta must rule out."""
    X = sample_data_eq21(16, 1e-2, 0.7, 0)
    result = unconstrained_cost_identity_g(log_penalty(), X)
    assert result["cost"] == -math.inf and np.all(result["Z"] == 0)


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: pi_map(0.5, 0.0, 0.5), "eps"),
        (lambda: pi_map(0.5, -1.0, 0.5), "eps"),
        (lambda: pi_map(0.5, 1e-2, 1.0), "C"),
        (lambda: pi_map(1.5, 1e-2, 0.5), "t"),
        (lambda: pi_map(np.nan, 1e-2, 0.5), "t"),
        (lambda: sample_data_eq21(0, 1e-2, 0.5, 0), "n"),
        (lambda: decoder_eq20(np.zeros((2, 3)), 1.5, 1e-2, 0.5), "theta"),
        (lambda: decoder_eq20(np.zeros((3, 3)), 0.5, 1e-2, 0.5), "Z"),
        (lambda: pi_inverse(np.array([1.0, 1.0]), 1e-2, 0.5), "x"),
        (lambda: crossover_eps(linear(), 0.0), "C"),
        (lambda: crossover_eps(linear(), 0.3), "C"),  # outside the theorem: needs C > 1/2
        (lambda: crossover_eps(linear(), 0.5), "C"),
        (lambda: crossover_eps_closed_form("linear", 0.3), "C"),
        (lambda: cost_theta0(linear(), np.full((2, 3), np.inf)), "X"),
    ],
)
def test_bad_input_raises_naming_the_argument(call, argument):
    with pytest.raises(ValueError, match=f"^{argument}:"):
        call()


def test_closed_form_crossover_defaults_to_the_data_of_the_root_finder():
    """crossover_eps_closed_form and crossover_eps draw the same data by default (n = 256, seed = 0),
    so their eps* agree without arguments as with them (root-finder tolerance)."""
    np.testing.assert_allclose(crossover_eps(linear(), 0.7), crossover_eps_closed_form("linear", 0.7), rtol=ROOT_FIND_RTOL)


def test_pi_on_the_whole_of_0_1_is_the_piecewise_linear_arc_and_its_inverse_clips_to_0_1():
    """pi(t) = 0.9 eps (cos a, sin a) with a/(pi/2) linear from 0.05 at t = 0 to 0.1 at t = C and on to
    0.9 at t = 1 (the arc of the module docstring, below C too); pi^{-1}(pi(t)) = t on all of [0, 1]
    (arctan2 round-off over the slope, as above). A point at most rtol past an end of the arc maps to
    that end, 0 or 1; a point 1e-6 off the radius is refused at the default rtol = 1e-9."""
    eps, C = 1e-2, 0.7
    t = np.array([0.0, 0.35, 0.7, 0.85, 1.0])
    fraction = np.array([0.05, 0.075, 0.1, 0.5, 0.9])
    angle = 0.5 * math.pi * fraction
    np.testing.assert_allclose(pi_map(t, eps, C), 0.9 * eps * np.stack([np.cos(angle), np.sin(angle)]),
                               rtol=ROUNDOFF_RTOL, atol=ROUNDOFF_ATOL * eps)
    np.testing.assert_allclose(pi_inverse(pi_map(t, eps, C), eps, C), t, rtol=0, atol=1e-12)
    beyond = 0.5 * math.pi * np.array([0.05 - 5e-10, 0.9 + 5e-10])
    ends = pi_inverse(0.9 * eps * np.stack([np.cos(beyond), np.sin(beyond)]), eps, C)
    np.testing.assert_array_equal(ends, [0.0, 1.0])
    with pytest.raises(ValueError, match="distance"):
        pi_inverse(pi_map(0.5, eps, C) * (1.0 + 1e-6), eps, C)


def test_identity_g_at_theta1_with_a_cheap_latent_finds_the_interior_minimum_of_eq22():
    """g = identity at theta = 1 with eps = 1 and h = u/(u + 100) (a latent energy of ~3 costs ~0.015):
    reconstruction dominates, so the L-BFGS code (not Z = 0, which costs 0.23) is optimal. Its cost
    is (22) evaluated at the returned Z (round-off), at most the minimum of an independent search of
    (22) with finite-difference gradients from the same starts (the search's value tolerance), z_2 = 0,
    and recon_mse is the mean squared error of the decoder (20) at Z."""
    h, eps, C = ratio(100.0), 1.0, 0.7
    X = sample_data_eq21(16, eps, C, 0)
    result = unconstrained_cost_identity_g_theta1(h, X, eps, C)
    Z = result["Z"]

    def eq22(z1):
        Zs = np.stack([z1, np.zeros_like(z1)])
        return objective_eq22(X, Zs, decoder_eq20(Zs, 1.0, eps, C), lambda u: u, h)

    assert np.all(Z[1] == 0.0) and np.any(Z[0] != 0.0)
    assert result["cost"] == pytest.approx(eq22(Z[0]), rel=ROUNDOFF_RTOL)
    exact = sparse_code_theta1(X, eps, C)[0]
    reference = min(minimize(eq22, start, method="L-BFGS-B").fun for start in (exact, 0.1 * exact))
    assert result["cost"] <= reference * (1.0 + OPTIMIZER_VALUE_RTOL)
    assert result["recon_mse"] == pytest.approx(np.mean((X - decoder_eq20(Z, 1.0, eps, C)) ** 2), rel=ROUNDOFF_RTOL)


@pytest.mark.parametrize("c", [3000.0, 3.0, 2e-4])
def test_identity_g_with_linear_h_finds_the_closed_form_shrink_at_both_ends_of_the_grid(c):
    """g = identity, h = c u: (1/2)[(1 - a)^2 m + c a^2 m] is least at a = 1/(1 + c), cost m c / (2(1 + c)).
    c = 3000 puts a* = 3.3e-4 between the first two grid points (0, 5e-4) and c = 2e-4 puts it at
    0.9998, between the last two: the bounded search must bracket both neighbours of the best grid
    point there, without running off the grid. Argmin to OPTIMIZER_ARGMIN_RTOL (value-only search)."""
    X = sample_data_eq21(16, 1.0, 0.7, 0)
    m = np.mean(X**2, axis=1)
    result = unconstrained_cost_identity_g(lambda u: c * u, X)
    np.testing.assert_allclose(result["shrink"], 1.0 / (1.0 + c), rtol=OPTIMIZER_ARGMIN_RTOL)
    assert result["cost"] == pytest.approx(np.sum(m) * c / (2.0 * (1.0 + c)), rel=OPTIMIZER_VALUE_RTOL)


def test_a_shrink_read_off_the_grid_alone_fails_the_closed_form():
    """Companion: the best of the 2001 grid points without the bounded search misses a* = 1/3001 by
    1.7e-4, far outside OPTIMIZER_ARGMIN_RTOL of a*."""
    grid = np.linspace(0.0, 1.0, 2001)
    c = 3000.0
    on_grid = grid[np.argmin((1.0 - grid) ** 2 + c * grid**2)]
    assert abs(on_grid * (1.0 + c) - 1.0) > OPTIMIZER_ARGMIN_RTOL


@pytest.mark.parametrize("eps,h", [(4.0, ratio(1e-2)), (1e-3, log_shift(math.e)), (0.5, linear())],
                         ids=["large-eps-codes-win", "small-eps-zero-wins-with-h0-1", "energy-below-1"])
def test_identity_g_at_theta1_cost_is_eq22_at_the_minimum_of_an_independent_search(eps, h):
    """g = identity at theta = 1, at eps != 1 (the decoder's radius eps enters the residual and its
    gradient) and with h(0) = 1 != 0 (the cost of Z = 0 is h(0) + its reconstruction term): the reported
    cost is (22) at the returned Z (round-off) and as low as the least of Z = 0 and a finite-difference
    L-BFGS search of (22) itself from the exact code and a tenth of it (OPTIMIZER_VALUE_RTOL)."""
    C = 0.7
    X = sample_data_eq21(16, eps, C, 0)
    result = unconstrained_cost_identity_g_theta1(h, X, eps, C)

    def eq22(z1):
        Z = np.stack([z1, np.zeros_like(z1)])
        return objective_eq22(X, Z, decoder_eq20(Z, 1.0, eps, C), lambda u: u, h)

    Z = result["Z"]
    assert result["cost"] == pytest.approx(eq22(Z[0]), rel=ROUNDOFF_RTOL, abs=ROUNDOFF_ATOL)
    exact = sparse_code_theta1(X, eps, C)[0]
    reference = min([eq22(np.zeros(16))] + [minimize(eq22, start, method="L-BFGS-B").fun
                                             for start in (exact, 0.1 * exact)])
    assert result["cost"] <= reference * (1.0 + OPTIMIZER_VALUE_RTOL)


_CLOSED_FORMS = [("linear", linear(), None), ("sqrt", sqrt_penalty(), None), ("log_shift", log_shift(1e-2), 1e-2)]


def _crossover_errors(crossover) -> list[tuple[float, float]]:
    """(relative error of eps* against its closed form, the stopping rule's bound on it) over fixed
    cases: three closed forms, C in {0.6, 0.7, 0.9}, seeds 0..2, n = 64."""
    errors = []
    for C in (0.6, 0.7, 0.9):
        for seed in range(3):
            for name, h, c in _CLOSED_FORMS:
                expected = crossover_eps_closed_form(name, C, n=64, seed=seed, c=c)
                bound = CROSSOVER_LOG_XTOL + CROSSOVER_LOG_RTOL * abs(math.log(expected)) + CROSSOVER_ROUNDOFF
                errors.append((abs(crossover(h, C, n=64, seed=seed) / expected - 1.0), bound))
    return errors


def test_crossover_is_as_accurate_as_its_stopping_rule():
    """Eq. (23)-(25): eps* from brentq on log eps is within its stopping rule (xtol 1e-13, rtol 1e-14 on
    log eps) of the closed forms, i.e. a relative error below 1e-13 + 1e-14 |log eps*| plus round-off
    (tests/tolerances.py: CROSSOVER_LOG_XTOL)."""
    assert all(error <= bound for error, bound in _crossover_errors(crossover_eps))


def test_a_root_finder_with_scipys_default_xtol_fails_the_stopping_rule_check():
    """Companion: brentq with scipy's default xtol (2e-12) stops up to ~5e-13 from the root on these
    cases, outside the bound above for at least one of them."""
    import theory.theorem4 as theorem4

    def loose(f, a, b, **options):
        return brentq(f, a, b, rtol=options["rtol"], maxiter=options["maxiter"])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(theorem4, "brentq", loose)
        assert any(error > bound for error, bound in _crossover_errors(theorem4.crossover_eps))


def _log_shift_row_minima(m: float, c: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """(argmin, min) of the row cost (1/2)[(1 - a)^2 m + log(a^2 m + c)] in each of its two basins, for
    m ~ 9 and c in [1e-4, 1e-3]: a sharp one near a = c (h falls steeply to log c) and a wide one near a = 0.88
    (the data term), each searched on its own interval to xatol 1e-14."""
    def row(a):
        return 0.5 * ((1.0 - a) ** 2 * m + math.log(a * a * m + c))

    minima = [minimize_scalar(row, bounds=bounds, method="bounded", options={"xatol": 1e-14})
              for bounds in ((0.0, 0.1), (0.5, 1.0))]
    return tuple((float(r.x), float(r.fun)) for r in minima)



def _wide_basin_lower(lead: float = 2e-5):
    """eps = 5 and the c for which the wide basin of row 1 is lower than the sharp one by `lead` (a root
    in log c on [log 1e-4, log 1e-3], where the sharp minimum rises through the wide one)."""
    X = sample_data_eq21(16, 5.0, 0.7, 0)
    m = np.mean(X**2, axis=1)

    def excess(log_c):
        (_, sharp), (_, wide) = _log_shift_row_minima(m[0], math.exp(log_c))
        return sharp - wide - lead

    return X, math.exp(brentq(excess, math.log(1e-4), math.log(1e-3), xtol=1e-12))


def _sharp_basin_lower(lead: float = 1e-3, c: float = 1e-3):
    """c = 1e-3 and the eps (a root on [4, 5]; row 1's m grows as eps^2) at which the sharp basin of row 1
    is lower than the wide one by `lead`."""
    def data(eps):
        return sample_data_eq21(16, eps, 0.7, 0)

    def excess(eps):
        (_, sharp), (_, wide) = _log_shift_row_minima(np.mean(data(eps)[0] ** 2), c)
        return wide - sharp - lead

    return data(brentq(excess, 4.0, 5.0, xtol=1e-12)), c


@pytest.mark.parametrize("setting", [_wide_basin_lower, _sharp_basin_lower], ids=["wide-lower", "sharp-lower"])
def test_identity_g_finds_the_lower_of_two_nearly_tied_row_minima(setting):
    """g = identity, h = log(u + c): row 1's cost has two local minima, a sharp one near a = c (width
    ~ sqrt(c / m)) and a wide one near a = 0.88, set close: the wide one 2e-5 lower, or the sharp one 1e-3
    lower at c = 1e-3. The 2001-point grid resolves both (half a spacing, 2.5e-4, costs at most
    (m/c)(2.5e-4)^2/2 ~ 3e-4 < 1e-3 in the sharp basin, m (2.5e-4)^2/2 ~ 3e-7 < 2e-5 in the wide one),
    so it picks the lower basin and the bounded search refines it: shrink and cost as the two basins
    searched separately (OPTIMIZER_ARGMIN_RTOL, OPTIMIZER_VALUE_RTOL). Basins narrower than the grid
    can be missed when the two minima are closer than the sharp one's rise at a = 0, about c m / 2."""
    X, c = setting()
    minima = [min(_log_shift_row_minima(mk, c), key=lambda r: r[1]) for mk in np.mean(X**2, axis=1)]
    result = unconstrained_cost_identity_g(log_shift(c), X)
    np.testing.assert_allclose(result["shrink"], [a for a, _ in minima], rtol=OPTIMIZER_ARGMIN_RTOL)
    assert result["cost"] == pytest.approx(sum(v for _, v in minima), rel=OPTIMIZER_VALUE_RTOL)


def test_a_coarse_grid_misses_the_sharp_lower_row_minimum():
    """Companion: the same search on a 50-point grid (spacing 0.02) sees the sharp basin only at a = 0,
    c m / 2 ~ 4e-3 above its minimum, picks the wide basin and costs 1e-3 more, far outside
    OPTIMIZER_VALUE_RTOL."""
    X, c = _sharp_basin_lower()
    m = float(np.mean(X[0] ** 2))
    grid = np.linspace(0.0, 1.0, 50)

    def row(a):
        return 0.5 * ((1.0 - a) ** 2 * m + np.log(a * a * m + c))

    best = int(np.argmin(row(grid)))
    coarse = minimize_scalar(row, bounds=(grid[max(best - 1, 0)], grid[best + 1]), method="bounded",
                             options={"xatol": 1e-12}).fun
    lowest = min(v for _, v in _log_shift_row_minima(m, c))
    assert coarse - lowest > 1e3 * OPTIMIZER_VALUE_RTOL * abs(lowest)
