"""lessons/checks: every exercise check rejects a wrong answer (with a reason), reports a missing one as
NOT ANSWERED, and never raises on a student's mistake. The correct answers are exercised by running the
teacher notebooks (tests/test_lessons.py); these tests need no notebook machinery."""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

import lessons.checks as checks
from lessons.checks import CheckResult
from theory.subspace import subspace_data

C_DATA, N_DATA, SEED = 0.7, 64, 0


X = subspace_data(6, 2, 50, seed=0, scales=(0.9, 0.6), offset_std=0.5)
Csym, c, m = sp.Symbol("C", positive=True), *sp.symbols("c m", positive=True)
RUN = {"X": np.ones((3, 5)), "recon": np.ones((2, 3, 5)) + 0.1}

# check name -> (wrong answer, the other arguments, a fragment the reason must contain)
WRONG = {
    "check_slope_at_zero": (lambda c_: 1 / c_**2, {}, "(h(u) - h(0))/u"),
    "check_indicator_slopes": ((math.inf, math.inf), {}, "limiting slope is 0"),
    "check_penalty_classification": ({"concave": True, "non_decreasing": True, "continuous_at_zero": True,
                                      "bounded_slope": True}, {"h": np.cbrt}, "bounded_slope"),
    "check_vanishing_gap": ({"linear", "ratio", "log_shift", "sqrt_shift"}, {}, "sqrt"),
    "check_theta1_bound": (lambda C_: C_**2, {}, "not a bound"),
    "check_crossover": (0.5, {"h": np.log1p, "C": C_DATA, "n": N_DATA, "seed": SEED}, "theta = 0 costs"),
    "check_crossover_rates": ({"log_shift": 0.5, "ratio": 0.5}, {}, "fitted slope"),
    "check_failure_eps": (1.0, {"h": lambda u: np.minimum(u, 1e-3), "C": C_DATA, "n": N_DATA, "seed": SEED},
                          "smaller eps"),
    "check_lemma2_slope": (6, {"X": X, "kappa": 4}, "per unit of log gamma"),
    "check_active_columns": (lambda g: 2, {"X": X, "kappa": 4}, "active columns"),
    "check_rescaling": (lambda t, k: -k * math.log(t), {"X": X, "kappa": 4}, "changes by"),
    "check_finite_gamma_penalty": (lambda u, g: u / g, {}, "column penalty"),
    "check_gamma_star": (lambda X_, R_: float(np.mean(np.sum((X_[None] - R_) ** 2, axis=1))), {}, "divide by d"),
    "check_ppca_gamma_star": (lambda g0, r, d: g0, {"X": X, "kappa": 4}, "gamma_star_affine"),
    "check_learned_gamma_objective": ((np.log, np.log), {}, "log transformation"),
    "check_log_axis_shape": (lambda t, d: d * t**2 / 2, {"X": X, "kappa": 4}, "rises by"),
    "check_theta1_bound_symbolic": (Csym**2, {}, "sharp bound"),
    "check_paper_bound_threshold": (0.5, {}, "root of logit(C) = C"),
    "check_ratio_crossover": (c * m**2 / (m**2 + c), {}, "Solve h(e)/h(m^2)"),
    "check_omega_power": (2, {}, "W_unit Omega mu"),
    "check_active_dimensions": (2, {"r": 1, "kappa": 4, "measured": 1}, "Definition 1"),
    "check_gamma_star_of_run": (3 * 0.01, RUN, "divide by d"),
    "check_gamma_ratio": (2.0, {"gamma_learned": 2e-3, "gamma_star_value": 1e-3}, "dgamma = 0"),
}


def test_every_check_has_a_wrong_answer_case():
    """A new check without a case here would go untested: the table must cover them all."""
    names = {name for name in checks.__all__ if name.startswith("check_")}
    assert names == set(WRONG)


@pytest.mark.parametrize("name", sorted(WRONG))
def test_check_rejects_a_wrong_answer_and_says_why(name):
    answer, kwargs, reason = WRONG[name]
    result = getattr(checks, name)(answer, **kwargs)
    assert isinstance(result, CheckResult)
    assert result.status == "WRONG", str(result)
    assert reason in result.message or reason in str(result), str(result)


@pytest.mark.parametrize("name", sorted(WRONG))
def test_check_reports_a_missing_answer_as_not_answered(name):
    _, kwargs, _ = WRONG[name]
    result = getattr(checks, name)(None, **kwargs)
    assert result.status == "NOT ANSWERED" and str(result).startswith(f"Exercise {result.exercise}: NOT ANSWERED")


@pytest.mark.parametrize("name", ["check_slope_at_zero", "check_theta1_bound", "check_active_columns",
                                  "check_gamma_star", "check_log_axis_shape"])
def test_check_turns_an_answer_that_raises_into_a_wrong_verdict(name):
    """A student's function that raises is reported, not propagated: the notebook keeps running."""
    _, kwargs, _ = WRONG[name]

    def broken(*args):
        raise ZeroDivisionError("oops")

    result = getattr(checks, name)(broken, **kwargs)
    assert result.status == "WRONG" and "ZeroDivisionError" in result.message


def test_check_accepts_the_derived_answers_in_process():
    """A few correct answers, derived here from the statements (the teacher notebooks cover all)."""
    from scipy.special import logit

    assert checks.check_slope_at_zero(lambda c_: 1 / c_).correct
    assert checks.check_theta1_bound(lambda C_: float(logit(C_)) ** 2).correct
    assert checks.check_crossover_rates({"log_shift": 0.25, "ratio": 0.5}).correct
    assert checks.check_rescaling(lambda t, k: -2 * k * math.log(t), X, 4).correct
    assert checks.check_omega_power(1).correct
    assert checks.check_theta1_bound_symbolic(sp.log(Csym / (1 - Csym)) ** 2).correct
