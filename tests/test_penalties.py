"""The penalties g, h of Eq. (22) and section 8.3: values, derivatives, h'(0+), concavity."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from infgrad.tolerances import FINITE_DIFFERENCE_RTOL, ROUNDOFF_RTOL
from tests.strategies import positive_log_uniform
from theory.penalties import Penalty, penalty_family, sqrt_shift

FAMILY = penalty_family(1e-2)
BOUNDED = {"log_shift", "linear", "sqrt_shift", "ratio"}


@pytest.mark.parametrize("name", sorted(FAMILY))
@given(u=positive_log_uniform(1e-3, 1e2))
def test_derivative_matches_central_difference(name, u):
    """h'(u) of every penalty agrees with a central difference (the indicator: 0 on u > 0)."""
    h = FAMILY[name]
    step = 1e-5 * u
    numeric = (h.value(u + step) - h.value(u - step)) / (2 * step)
    np.testing.assert_allclose(h.derivative(u), numeric, rtol=FINITE_DIFFERENCE_RTOL, atol=0)


@pytest.mark.parametrize("name", sorted(BOUNDED))
@given(c=positive_log_uniform(1e-4, 1e1))
def test_grad_at_zero_is_the_limit_of_difference_quotients(name, c):
    """h'(0+) = lim (h(u) - h(0))/u for the bounded-gradient penalties of section 8.3.

    At u = 1e-6 c the quotient differs from h'(0+) by |h''(0)| u / (2 h'(0+)) + O(u^2) <= u/c = 1e-6
    relative (h''(0)/h'(0) is -1/c, -1/(2c), -2/c or 0 for log_shift, sqrt_shift, ratio, linear);
    the subtraction h(u) - h(0) adds round-off ~1e-16 |h(0)| / (h'(0) u) <= 1e-9 relative.
    """
    h = penalty_family(c)[name]
    u = 1e-6 * c
    quotient = float((h.value(u) - h.value(0.0)) / u)
    assert h.bounded_gradient
    np.testing.assert_allclose(quotient, h.grad_at_zero, rtol=1e-6 + 1e-9)


@pytest.mark.parametrize("name, exponent", [("sqrt", -0.5), ("indicator", -1.0)])
def test_unbounded_penalties_have_difference_quotients_that_blow_up(name, exponent):
    """h'(0+) = inf: (h(u) - h(0))/u grows like u^exponent as u -> 0 (slope fitted on a grid)."""
    h = FAMILY[name]
    u = np.geomspace(1e-12, 1e-4, 9)
    quotient = (h.value(u) - h.value(0.0)) / u
    slope = np.polyfit(np.log(u), np.log(quotient), 1)[0]
    assert not h.bounded_gradient and h.grad_at_zero == math.inf
    np.testing.assert_allclose(slope, exponent, atol=1e-9)  # exact power laws: round-off only


def test_log_is_minus_infinity_at_zero_without_a_warning():
    """h = log: h(0) = -inf is the value that makes Eq. (15)/(19) unbounded below (no FP error)."""
    h = FAMILY["log"]
    assert h.value(0.0) == -math.inf
    assert not h.bounded_gradient


@pytest.mark.parametrize("name", sorted(FAMILY))
@given(a=positive_log_uniform(1e-6, 1e2), b=positive_log_uniform(1e-6, 1e2))
def test_penalties_are_concave_and_non_decreasing(name, a, b):
    """Section 8.3 assumes h concave and non-decreasing on u >= 0: midpoint concavity and order."""
    h = FAMILY[name]
    low, high = min(a, b), max(a, b)
    assert h.value(low) <= h.value(high)
    mid = h.value(0.5 * (low + high))
    chord = 0.5 * (h.value(low) + h.value(high))
    assert mid >= chord - ROUNDOFF_RTOL * max(1.0, abs(float(chord)))


# (u, h(u), h(0)) with u chosen so that each penalty takes a round value (c = 1e-2)
CLOSED_FORM_VALUES = {
    "log": (math.e**2, 2.0, -math.inf), "log_shift": (math.e - 1e-2, 1.0, math.log(1e-2)),
    "linear": (0.25, 0.25, 0.0), "sqrt": (0.0625, 0.25, 0.0), "sqrt_shift": (0.08, 0.2, 0.0),
    "ratio": (1e-2, 0.5, 0.0), "indicator": (1e-300, 1.0, 0.0),
}


@pytest.mark.parametrize("name", sorted(FAMILY))
def test_penalty_values_in_closed_form(name):
    """Closed-form companion of the order and concavity inequalities: log e^2 = 2, log(e - c + c) = 1,
    sqrt(1/16) = 1/4, sqrt(0.08 + 0.01) - sqrt(0.01) = 0.2, c/(c + c) = 1/2, I[1e-300 > 0] = 1;
    h(0) = -inf for log, log c for log(u + c), 0 for the others."""
    u, expected, at_zero = CLOSED_FORM_VALUES[name]
    h = FAMILY[name]
    assert float(h.value(u)) == pytest.approx(expected, rel=ROUNDOFF_RTOL)
    assert float(h.value(0.0)) == pytest.approx(at_zero, rel=ROUNDOFF_RTOL)


def test_bounded_gradient_flags_match_section_8_3():
    """Only log, sqrt and the indicator have h'(0+) = inf in the family."""
    assert {name for name, h in FAMILY.items() if h.bounded_gradient} == BOUNDED
    assert FAMILY["log_shift"].grad_at_zero == pytest.approx(100.0, rel=ROUNDOFF_RTOL)  # 1/c
    assert FAMILY["sqrt_shift"].grad_at_zero == pytest.approx(5.0, rel=ROUNDOFF_RTOL)  # 1/(2 sqrt c)
    assert FAMILY["ratio"].grad_at_zero == pytest.approx(100.0, rel=ROUNDOFF_RTOL)  # 1/c
    assert all(h.label.startswith("$") for h in FAMILY.values())


def test_sqrt_shift_has_no_cancellation_for_tiny_u():
    """sqrt(u + c) - sqrt(c) = u / (2 sqrt c) + O(u^2): kept at u = 1e-20 (the naive form gives 0)."""
    h = sqrt_shift(1.0)
    np.testing.assert_allclose(h.value(1e-20), 0.5e-20, rtol=ROUNDOFF_RTOL)


@pytest.mark.parametrize("bad, argument", [(-1.0, "u"), (np.nan, "u"), (np.inf, "u"), ("a", "u")])
def test_bad_u_raises_naming_the_argument(bad, argument):
    with pytest.raises(ValueError, match=f"^{argument}:"):
        FAMILY["linear"].value(bad)


@pytest.mark.parametrize("c", [0.0, -1.0, math.nan, math.inf])
def test_bad_shift_raises_naming_c(c):
    with pytest.raises(ValueError, match="^c:"):
        penalty_family(c)


@given(st.sampled_from(sorted(FAMILY)))
def test_derivative_at_zero_is_rejected(name):
    """h'(u) is defined for u > 0; h'(0+) is the attribute grad_at_zero."""
    with pytest.raises(ValueError, match="^u:"):
        FAMILY[name].derivative(0.0)


def test_a_penalty_returns_float64_whatever_its_functions_return():
    """Penalty's contract: value and derivative return float64 arrays of u's shape, also for a
    user's h whose functions return integers (h(u) = 1[u > 0] counted in int, h'(u) = 0 in int)."""
    counting = Penalty("count", "count", math.inf, lambda u: (u > 0).astype(int), lambda u: np.zeros(u.shape, int))
    u = np.array([0.0, 0.5, 2.0])
    assert counting.value(u).dtype == np.float64
    np.testing.assert_array_equal(counting.value(u), [0.0, 1.0, 1.0])
    assert counting.derivative(u[1:]).dtype == np.float64
    np.testing.assert_array_equal(counting.derivative(u[1:]), [0.0, 0.0])


def test_each_penalty_derivative_is_its_closed_form():
    """h'(u) of the family (Eq. 24's h): log 1/u, log(u + c) 1/(u + c), linear 1, sqrt 1/(2 sqrt u),
    sqrt(u + c) - sqrt c: 1/(2 sqrt(u + c)), u/(u + c): c/(u + c)^2, indicator 0 for u > 0; and the
    right slope at 0 (grad_at_zero): inf for log, sqrt and the indicator, 1/c or 1/(2 sqrt c) else.
    The family's default shift is c = 1e-2."""
    u = np.array([0.25, 1.0, 4.0])
    c = 1e-2
    family = penalty_family()
    expected = {"log": 1.0 / u, "log_shift": 1.0 / (u + c), "linear": np.ones(3), "sqrt": 0.5 / np.sqrt(u),
                "sqrt_shift": 0.5 / np.sqrt(u + c), "ratio": c / (u + c) ** 2, "indicator": np.zeros(3)}
    slope_at_zero = {"log": math.inf, "log_shift": 1.0 / c, "linear": 1.0, "sqrt": math.inf,
                     "sqrt_shift": 0.5 / math.sqrt(c), "ratio": 1.0 / c, "indicator": math.inf}
    assert set(family) == set(expected)
    for name, h in family.items():
        np.testing.assert_allclose(h.derivative(u), expected[name], rtol=ROUNDOFF_RTOL, err_msg=name)
        assert h.derivative(u).shape == u.shape
        assert h.grad_at_zero == pytest.approx(slope_at_zero[name], rel=ROUNDOFF_RTOL), name
    np.testing.assert_array_equal(family["linear"].value(u), u)
