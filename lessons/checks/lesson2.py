"""Checks of lesson 2 (Theorem 4 by hand; Figures 2-4), from theory.theorem4, theory.penalties and
proofs_check.theorem4."""
from __future__ import annotations

import math

import numpy as np

from infgrad.tolerances import ASYMPTOTIC_RATE_ATOL, ROUNDOFF_RTOL, TYPED_NUMBER_RTOL
from lessons.checks._result import as_number, close, correct, evaluate, screen, wrong
from theory import penalties, theorem4

_C_GRID = (0.6, 0.5, 0.55, 0.65, 0.7, 0.8, 0.9, 0.99)  # 0.6 first: the erratum's example


def check_theta1_bound(answer, exercise: str = "2.1") -> object:
    """answer(C): the sharp lower bound on (1/n)||z_1||^2 at theta = 1 for data with t(z_gt) in [C, 1), C >= 1/2."""
    if (early := screen(answer, exercise, of="C")) is not None:
        return early
    from proofs_check.theorem4 import theta1_bound_eq23

    for C in _C_GRID:
        sharp = theorem4.row_energy_theta1_lower_bound(C)  # attained when every sample has t = C
        yours = evaluate(answer, C)
        if isinstance(yours, str):
            return wrong(exercise, yours)
        yours = float(yours)
        if close(yours, sharp, ROUNDOFF_RTOL, 1e-15):
            continue
        if yours > sharp:
            return wrong(exercise, f"not a bound: at C = {C:g}, data with every t = C have (1/n)||z_1||^2 = "
                         f"logit(C)^2 = {sharp:.4g} < your {yours:.4g}. proofs_check: "
                         f"{theta1_bound_eq23().finding}")
        return wrong(exercise, f"a valid bound at C = {C:g} but not the sharp one ({yours:.4g} < {sharp:.4g}, "
                     "which data with every t = C attain).")
    return correct(exercise, "logit(C)^2: z_1 = t^{-1}(s) with s >= C. The supplement's C^2 holds only for "
                   f"C >= {theorem4.PAPER_BOUND_THRESHOLD:.4f} (the erratum of Eq. 23).")


def check_crossover(answer, h, C: float, n: int, seed: int, exercise: str = "2.2") -> object:
    """answer: eps* for the penalty h on the data sample_data_eq21(n, eps, C, seed)."""
    if (early := screen(answer, exercise, want="any")) is not None:
        return early
    eps = as_number(answer)
    if eps is None or eps < 0:
        return wrong(exercise, "expected a number eps* >= 0 (0 if theta = 1 always wins, math.inf if never).")
    expected = theorem4.crossover_eps(h, C, n=n, seed=seed)
    if close(eps, expected, TYPED_NUMBER_RTOL):
        return correct(exercise, f"eps* = {expected:.6g}: below it the two tiny rows of theta = 0 cost less "
                       "than the one O(1) row of theta = 1.")
    if not (0 < eps < math.inf):
        return wrong(exercise, f"theorem4.crossover_eps finds eps* = {expected:.6g}.")
    X = theorem4.sample_data_eq21(n, eps, C, seed)
    cost0, cost1 = theorem4.cost_theta0(h, X), theorem4.cost_theta1(h, X, eps, C)
    side = "theta = 0 is still cheaper, so eps* is larger" if cost0 < cost1 else \
        "theta = 1 is already cheaper, so eps* is smaller"
    return wrong(exercise, f"at eps = {eps:.6g} theta = 0 costs {cost0:.6g} and theta = 1 costs {cost1:.6g}: {side}.")


def _fitted_exponents(C: float, n: int, seed: int) -> dict:
    """Slopes of log eps* against log c on c in [1e-8, 1e-5] for log(u + c) and u/(u + c)."""
    shifts = np.geomspace(1e-8, 1e-5, 4)
    out = {}
    for name, make in (("log_shift", penalties.log_shift), ("ratio", penalties.ratio)):
        eps_star = [theorem4.crossover_eps(make(c), C, n=n, seed=seed) for c in shifts]
        out[name] = float(np.polyfit(np.log(shifts), np.log(eps_star), 1)[0])
    return out


def check_crossover_rates(answer, C: float = 0.7, n: int = 256, seed: int = 0, exercise: str = "2.3") -> object:
    """answer: {"log_shift": p, "ratio": q} with eps* ~ c^p for log(u + c) and c^q for u/(u + c)."""
    if (early := screen(answer, exercise, want="any")) is not None:
        return early
    if not isinstance(answer, dict) or set(answer) != {"log_shift", "ratio"}:
        return wrong(exercise, 'expected a dict {"log_shift": p, "ratio": q}.')
    measured = _fitted_exponents(C, n, seed)
    off = [f"{name}: you said {answer[name]}, the fitted slope of log eps* against log c is {measured[name]:.4f}"
           for name in measured if as_number(answer[name]) is None
           or abs(float(answer[name]) - measured[name]) > ASYMPTOTIC_RATE_ATOL]
    if off:
        return wrong(exercise, "; ".join(off) + ".")
    return correct(exercise, "log(u + c): (eps^2 m_1 + c)(eps^2 m_2 + c) = c(u + c) gives eps^4 ~ c u/(m_1 m_2); "
                   "u/(u + c): eps^2 (m_1 + m_2)/c ~ 1 gives eps^2 ~ c. "
                   f"Fitted: {measured['log_shift']:.4f} and {measured['ratio']:.4f}.")


def check_failure_eps(answer, h, C: float, n: int, seed: int, exercise: str = "2.4") -> object:
    """answer: an eps in (0, 1] at which theta = 0 is strictly cheaper than theta = 1 for h."""
    if (early := screen(answer, exercise, want="any")) is not None:
        return early
    eps = as_number(answer)
    if eps is None or not 0 < eps <= 1:
        return wrong(exercise, "expected an eps in (0, 1]: the data must stay in the unit square of Theorem 4.")
    h0 = evaluate(h, np.array(0.0))
    if isinstance(h0, str) or not math.isfinite(float(h0)):
        return wrong(exercise, "this exercise is about an h with a finite h(0).")
    X = theorem4.sample_data_eq21(n, eps, C, seed)
    cost0, cost1 = theorem4.cost_theta0(h, X), theorem4.cost_theta1(h, X, eps, C)
    if cost0 < cost1:
        return correct(exercise, f"at eps = {eps:g}: theta = 0 costs {cost0:.4g} < {cost1:.4g}. Continuity at 0 "
                       "with a finite h(0) is all it takes: (1/2) sum_k h(eps^2 m_k) -> h(0) < (h(0) + h(u))/2, "
                       "whatever the slope at 0.")
    return wrong(exercise, f"at eps = {eps:g} theta = 0 costs {cost0:.4g} >= {cost1:.4g}: take a smaller eps.")
