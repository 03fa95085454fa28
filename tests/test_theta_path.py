"""Theorem 4 between its endpoints (supplement Eq. 20-24), figures/theta_path.py: the zero-reconstruction
cost along theta (Figure 5) and projected Adam on (Z, theta) (Figure 10)."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from infgrad.tolerances import FINITE_DIFFERENCE_RTOL, ROUNDOFF_RTOL
from figures import theta_path
from theory import penalties, theorem4

C, EPS, N = 0.7, 0.1, 32
BOUNDED = ["log_shift", "sqrt_shift", "ratio", "linear"]


@pytest.fixture(scope="module")
def data():
    return theorem4.sample_data_eq21(N, EPS, C, seed=0)


@given(st.floats(0.02, 0.98).filter(lambda s: abs(s - C) > 1e-3), st.floats(1e-3, 10.0))
def test_pi_map_derivative_matches_a_central_difference(s, eps):
    """The adapter pi'(s) = a'(s) (-pi_2, pi_1) against (pi(s + h) - pi(s - h)) / 2h, h = 1e-6, away
    from the kink at s = C: on an arc with linear angle the truncation is (a' h)^2 / 6 ~ 1e-12
    relative and the round-off eps_mach / h ~ 1e-10, inside FINITE_DIFFERENCE_RTOL."""
    step = 1e-6
    exact = theta_path.pi_map_derivative(np.array([s]), eps, C)[:, 0]
    central = (theorem4.pi_map(s + step, eps, C) - theorem4.pi_map(s - step, eps, C)) / (2 * step)
    np.testing.assert_allclose(exact, central, rtol=FINITE_DIFFERENCE_RTOL, atol=FINITE_DIFFERENCE_RTOL * eps)


@given(st.floats(1e-3, 1 - 1e-6), st.floats(1e-3, 1.0))
def test_zero_reconstruction_codes_reconstruct_exactly(theta, eps):
    """Eq. (20): every code returned for 0 < theta < 1 decodes back to its x (bisection to float64)."""
    X = theorem4.sample_data_eq21(6, eps, C, seed=3)
    codes = theta_path.zero_reconstruction_codes(X, theta, eps, C)
    for i, pts in enumerate(codes):
        recon = theorem4.decoder_eq20(pts, theta, eps, C)
        scale = max(eps, theta * float(np.abs(pts).max()), 1.0 - theta)
        np.testing.assert_allclose(recon, np.repeat(X[:, [i]], pts.shape[1], axis=1), rtol=0,
                                   atol=1e3 * np.finfo(float).eps * scale / (1.0 - theta))


def test_path_cost_endpoints_are_eq23_and_eq24(data):
    """theta = 0 is Eq. (24) (Z = X) and theta = 1 is Eq. (23) (the sparse code), from theorem4."""
    for name, h in penalties.penalty_family(1e-2).items():
        assert theta_path.path_cost(h, data, 0.0, EPS, C)[0] == theorem4.cost_theta0(h, data)
        assert theta_path.path_cost(h, data, 1.0, EPS, C)[0] == theorem4.cost_theta1(h, data, EPS, C)


def test_path_cost_is_continuous_at_theta_zero(data):
    """At small theta the unique code is z = x + O(theta eps), so the cost (linear h: (1/2) sum_k u_k)
    differs from Eq. (24) by O(theta eps^2): relative O(theta)."""
    h = penalties.linear()
    base = theorem4.cost_theta0(h, data)
    for theta in (1e-4, 1e-6):
        cost = theta_path.path_cost(h, data, theta, EPS, C)[0]
        assert abs(cost - base) <= 10 * theta * base


def test_majorize_minimize_is_never_worse_than_the_smallest_codes(data):
    """Where samples have several codes, the MM choice costs no more than the smallest-norm codes."""
    theta = 1 - 1e-3
    codes = theta_path.zero_reconstruction_codes(data, theta, EPS, C)
    assert max(c.shape[1] for c in codes) > 1  # the multi-root regime this checks
    smallest = np.stack([c[:, np.argmin(np.sum(c**2, axis=0))] for c in codes], axis=1)
    for name, h in penalties.penalty_family(1e-2).items():
        cost, _ = theta_path.path_cost(h, data, theta, EPS, C)
        assert cost <= 0.5 * float(np.sum(h(np.mean(smallest**2, axis=1)))) * (1 + ROUNDOFF_RTOL) + 1e-300


def test_global_minimum_along_theta_matches_theorem4(data):
    """Figure 5: at eps = 0.1, below every bounded penalty's crossover eps (Eq. 25), the best theta is 0
    for the bounded-gradient h (and for sqrt: unbounded h'(0+), yet h(eps^2) -> 0); theta = 1 for log
    (cost -inf) and for the indicator (1/2 against 1)."""
    family = penalties.penalty_family(1e-2)
    thetas = np.concatenate([[0.0], 1 / (1 + np.exp(-np.linspace(-6, 12, 25))), [1.0]])
    costs = theta_path.cost_along_theta(family, data, thetas, EPS, C)
    for name in BOUNDED + ["sqrt"]:
        assert thetas[int(np.argmin(costs[name]))] == 0.0, name
        assert theorem4.crossover_eps(family[name], C, n=N, seed=0) > EPS
    assert costs["log"][-1] == -math.inf and np.all(np.isfinite(costs["log"][:-1]))
    assert costs["indicator"][-1] == 0.5 and np.all(costs["indicator"][:-1] == 1.0)


@pytest.mark.parametrize("name", ["log", "log_shift", "sqrt"])
def test_penalized_gradient_matches_a_directional_difference(data, name):
    """The analytic gradient of the penalized (22) against a central difference along a random
    direction (step 1e-6 on O(1) parameters: truncation ~1e-12, round-off ~1e-10 relative)."""
    h = penalties.penalty_family(1e-2)[name]
    rng = np.random.default_rng(5)
    Z = theorem4.sparse_code_theta1(data, EPS, C) + 0.05 * rng.standard_normal(data.shape)
    theta, weight = 0.7, 1e2
    dZ, dtheta = theta_path.gradient_penalized(h, data, Z, theta, EPS, C, weight)
    VZ, vt = rng.standard_normal(Z.shape), 0.3
    step = 1e-6
    f = lambda t: theta_path.objective_penalized(h, data, Z + t * VZ, theta + t * vt, EPS, C, weight)  # noqa: E731
    central = (f(step) - f(-step)) / (2 * step)
    assert central == pytest.approx(float(np.sum(dZ * VZ) + dtheta * vt), rel=FINITE_DIFFERENCE_RTOL)


@pytest.fixture(scope="module")
def descents(data):
    """500 projected-Adam steps (the figure runs 1500) from the figure's two starts."""
    from figures.theta_figs import WEIGHT, initializations

    family = penalties.penalty_family(1e-2)
    return {(init, name): theta_path.descend(family[name], data, Z0, theta0, EPS, C, WEIGHT, steps=500)
            for init, (Z0, theta0) in initializations(data).items()
            for name in ("log", "sqrt", "log_shift", "ratio", "linear")}


def test_descent_from_near_the_sparse_solution_reaches_theta_one(descents):
    """Figure 10, top row: every h reaches theta = 1 exactly (projection); z2 then no longer enters the
    decoder and any increasing h shrinks it. The bounded-gradient penalties drive it to ~0 smoothly;
    log and sqrt (h' unbounded) leave it rattling at the step-size scale, still below 1% of eps."""
    for name in ("log", "sqrt", "log_shift", "ratio", "linear"):
        assert descents[("near_sparse", name)]["theta_final"] == 1.0, name
    for name in ("log_shift", "ratio"):
        assert math.sqrt(descents[("near_sparse", name)]["energies"][-1, 1]) < 1e-8 * EPS
    for name in ("log", "sqrt"):
        assert math.sqrt(descents[("near_sparse", name)]["energies"][-1, 1]) < 1e-2 * EPS


def test_descent_from_half_way_heads_to_theta_zero_for_every_h(descents):
    """Figure 10, bottom row (a faithful finding: gradient descent is local). From theta = 0.5 on the
    zero-reconstruction path the cost of Figure 5 decreases toward theta = 0 for EVERY h, log included;
    log, log(u + c) and u/(u + c) arrive within 500 steps, sqrt and u are still on their way."""
    for name in ("log", "log_shift", "ratio"):
        run = descents[("half_way", name)]
        assert run["theta_final"] == 0.0, name
        assert np.all(np.sqrt(run["energies"][-1]) > 1e-2 * EPS)  # both rows active: not sparse
    for name in ("sqrt", "linear"):
        theta = descents[("half_way", name)]["theta"]
        # Adam's momentum makes the path not monotone step by step; over the run theta falls
        assert theta[-1] < theta[len(theta) // 2] < theta[0]


def test_bad_arguments_raise_value_error(data):
    h = penalties.linear()
    with pytest.raises(ValueError, match="^theta:"):
        theta_path.zero_reconstruction_codes(data, 1.0, EPS, C)
    with pytest.raises(ValueError, match="^thetas:"):
        theta_path.cost_along_theta({"linear": h}, data, [0.5, 1.5], EPS, C)
    with pytest.raises(ValueError, match="^theta0:"):
        theta_path.descend(h, data, data, 1.5, EPS, C, 1.0, steps=1)
    with pytest.raises(ValueError, match="^weight:"):
        theta_path.descend(h, data, data, 0.5, EPS, C, -1.0, steps=1)
