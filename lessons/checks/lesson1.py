"""Checks of lesson 1 (penalties and their slope at zero; Figure 1), from theory.penalties,
theory.theorem4 and proofs_check.theorem4."""
from __future__ import annotations

import math

import numpy as np

from infgrad.tolerances import ROUNDOFF_RTOL
from lessons.checks._result import close, correct, evaluate, screen, wrong
from theory import penalties, theorem4

_SHIFTED = {"log_shift": penalties.log_shift, "ratio": penalties.ratio, "sqrt_shift": penalties.sqrt_shift}
_SHIFTS = (1e-4, 1e-2, 1.0, 10.0)


def _quotient(h, u: float) -> float:
    """(h(u) - h(0)) / u, the difference quotient at 0 (h(0) may be -inf: then +inf)."""
    h0 = float(h(np.array(0.0)))
    return math.inf if h0 == -math.inf else (float(h(np.array(u))) - h0) / u


def check_slope_at_zero(answer, family: str = "log_shift", exercise: str = "1.1") -> object:
    """answer(c): the slope at 0 of the shifted penalty `family` with shift c (a Python function)."""
    if (early := screen(answer, exercise, of="c")) is not None:
        return early
    make = _SHIFTED[family]
    for c in _SHIFTS:
        h = make(c)
        yours = evaluate(answer, c)
        if isinstance(yours, str):
            return wrong(exercise, yours)
        if not close(float(yours), h.grad_at_zero, ROUNDOFF_RTOL):
            return wrong(exercise, f"at c = {c:g} your slope is {float(yours):.6g}, but (h(u) - h(0))/u at "
                         f"u = 1e-9 c is {_quotient(h, 1e-9 * c):.6g} (theory.penalties: {h.grad_at_zero:.6g}).")
    return correct(exercise, f"h'(0+) = {make(1.0).grad_at_zero:g} at c = 1: bounded for every c > 0, "
                   "and unbounded only in the limit c -> 0.")


def check_indicator_slopes(answer, exercise: str = "1.2") -> object:
    """answer = (limiting slope lim h'(u), limit of (h(u) - h(0))/u) for h = I[u > 0]."""
    if (early := screen(answer, exercise, want="any")) is not None:
        return early
    try:
        limiting, quotient = (float(v) for v in answer)
    except (TypeError, ValueError):
        return wrong(exercise, "expected a pair of numbers (use math.inf for an unbounded limit).")
    h = penalties.indicator()
    u = np.geomspace(1e-12, 1e-3, 10)
    derivative = h.derivative(u)  # h'(u) for u > 0
    quotients = [_quotient(h, float(v)) for v in u]
    expected_limiting = float(derivative[0])
    growing = all(a > b for a, b in zip(quotients, quotients[1:]))
    problems = []
    if limiting != expected_limiting:
        problems.append(f"h'(u) = {expected_limiting:g} for every u > 0 (h is flat there), so the limiting "
                        f"slope is {expected_limiting:g}, not {limiting:g}")
    if not (growing and quotient == math.inf):
        problems.append(f"(h(u) - h(0))/u = 1/u ({quotients[0]:.3g} at u = 1e-12) grows without bound, "
                        f"so its limit is inf, not {quotient:g}")
    if problems:
        return wrong(exercise, "; ".join(problems) + ".")
    from proofs_check.theorem4 import indicator_passes_limiting_slope_test

    step = indicator_passes_limiting_slope_test()
    return correct(exercise, f"the two notions disagree at a jump; proofs_check says {step.status.value}: "
                   f"{step.detail}.")


def _classify(h) -> dict | str:
    """Numerical shape of h on u in [0, 10] (grid 1e-12 .. 10): the four properties of the exercise."""
    u = np.geomspace(1e-12, 10.0, 401)
    values = evaluate(h, u)
    if isinstance(values, str):
        return values
    h0 = evaluate(h, np.array([0.0]))
    if isinstance(h0, str):
        return h0
    h0 = float(h0.reshape(-1)[0])
    if values.shape != u.shape or not np.all(np.isfinite(values)) or math.isnan(h0) or h0 == math.inf:
        return "your h must return one finite value per u > 0 (and h(0) finite or -inf)."
    scale = 1.0 + np.abs(values).max()
    ulp = np.finfo(float).eps
    secants = np.diff(values) / np.diff(u)
    # a secant over a short step inherits the values' round-off divided by the step
    secant_noise = 8 * ulp * scale / np.diff(u) + 8 * ulp * np.abs(secants)
    finite_h0 = math.isfinite(h0)
    gap = np.abs(values - h0) if finite_h0 else None
    quotients = (values[[0, 100]] - h0) / u[[0, 100]] if finite_h0 else None  # at u = 1e-12 and 1e-8
    return {
        "non_decreasing": bool(np.all(np.diff(values) >= -8 * ulp * scale)),
        # concave: secant slopes do not increase (relative round-off allowed)
        "concave": bool(np.all(np.diff(secants) <= secant_noise[1:] + secant_noise[:-1])),
        # continuous at 0: finite h(0) and a gap |h(u) - h(0)| that keeps shrinking from u = 1e-4 to 1e-12
        "continuous_at_zero": bool(finite_h0 and gap[0] <= 0.5 * gap[200]),
        # bounded slope: the difference quotient stops growing (log-log slope above -0.05 on [1e-12, 1e-8])
        "bounded_slope": bool(finite_h0 and np.all(quotients > 0)
                              and math.log(quotients[0] / quotients[1]) / math.log(1e4) < 0.05),
    }


def check_penalty_classification(answer, h, exercise: str = "1.3") -> object:
    """answer: dict with bool values for concave, non_decreasing, continuous_at_zero, bounded_slope of h."""
    if (early := screen(answer, exercise, want="any")) is not None:
        return early
    keys = ("concave", "non_decreasing", "continuous_at_zero", "bounded_slope")
    if not isinstance(answer, dict) or set(answer) != set(keys):
        return wrong(exercise, f"expected a dict with the keys {', '.join(keys)}.")
    measured = _classify(h)
    if isinstance(measured, str):
        return wrong(exercise, measured)
    mismatches = [f"{k}: you said {answer[k]}, the grid u = 1e-12 .. 10 says {measured[k]}" for k in keys
                  if bool(answer[k]) != measured[k]]
    if mismatches:
        return wrong(exercise, "; ".join(mismatches) + ".")
    verdict = ""
    if measured["concave"] and measured["non_decreasing"]:
        eps_star = theorem4.crossover_eps(h, 0.7)
        verdict = (f" On Theorem 4's data (C = 0.7) theorem4.crossover_eps gives eps* = {eps_star:.4g}: "
                   + ("no failure region." if eps_star == 0 else "a failure region eps < eps*."))
    return correct(exercise, "your classification matches the numbers." + verdict)


def check_vanishing_gap(answer, c: float = 1e-2, exercise: str = "1.4") -> object:
    """answer: the set of names in penalties.penalty_family(c) for which h(eps^2) - h(0) -> 0 as eps -> 0."""
    if (early := screen(answer, exercise, want="any")) is not None:
        return early
    family = penalties.penalty_family(c)
    try:
        names = set(answer)
    except TypeError:
        return wrong(exercise, "expected a set of names, e.g. {'linear', 'ratio'}.")
    unknown = names - set(family)
    if unknown:
        return wrong(exercise, f"unknown names {sorted(unknown)}; choose from {sorted(family)}.")
    gaps = {}
    for name, h in family.items():
        h0 = float(h(0.0))
        gaps[name] = [math.inf if h0 == -math.inf else float(h(e**2)) - h0 for e in (1e-4, 1e-8)]
    vanishing = {name for name, (g4, g8) in gaps.items() if g8 < g4 < 1e-3}
    if names == vanishing:
        return correct(exercise, "every one of them is continuous at 0 with a finite h(0), sqrt included; only "
                       "log (h(0) = -inf) and the indicator (a jump) keep h(eps^2) - h(0) from shrinking.")
    lines = [f"{name}: h(eps^2) - h(0) = {gaps[name][0]:.3g} at eps = 1e-4 and {gaps[name][1]:.3g} at 1e-8"
             for name in sorted(names ^ vanishing)]
    return wrong(exercise, "look again at " + "; ".join(lines) + ".")
