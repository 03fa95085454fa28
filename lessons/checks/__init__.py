"""The exercise checks of the lessons, one module per lesson. Each `check_...` takes the student's
answer first and returns a CheckResult (CORRECT, WRONG with the reason, or NOT ANSWERED); the expected
answer is computed from theory/ and proofs_check/ when the check runs, never read from a table."""
from lessons.checks._result import CheckResult
from lessons.checks.lesson1 import (
    check_indicator_slopes,
    check_penalty_classification,
    check_slope_at_zero,
    check_vanishing_gap,
)
from lessons.checks.lesson2 import check_crossover, check_crossover_rates, check_failure_eps, check_theta1_bound
from lessons.checks.lesson3 import (
    check_active_columns,
    check_finite_gamma_penalty,
    check_lemma2_slope,
    check_rescaling,
)
from lessons.checks.lesson4 import (
    check_gamma_star,
    check_learned_gamma_objective,
    check_log_axis_shape,
    check_ppca_gamma_star,
)
from lessons.checks.lesson5 import (
    check_omega_power,
    check_paper_bound_threshold,
    check_ratio_crossover,
    check_theta1_bound_symbolic,
)
from lessons.checks.lesson6 import check_active_dimensions, check_gamma_ratio, check_gamma_star_of_run

__all__ = [
    "CheckResult",
    "check_active_columns",
    "check_active_dimensions",
    "check_crossover",
    "check_crossover_rates",
    "check_failure_eps",
    "check_finite_gamma_penalty",
    "check_gamma_ratio",
    "check_gamma_star",
    "check_gamma_star_of_run",
    "check_indicator_slopes",
    "check_learned_gamma_objective",
    "check_lemma2_slope",
    "check_log_axis_shape",
    "check_omega_power",
    "check_paper_bound_threshold",
    "check_penalty_classification",
    "check_ppca_gamma_star",
    "check_ratio_crossover",
    "check_rescaling",
    "check_slope_at_zero",
    "check_theta1_bound",
    "check_theta1_bound_symbolic",
    "check_vanishing_gap",
]
