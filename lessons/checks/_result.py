"""What every exercise check returns (the tolerances it uses are in infgrad/tolerances.py).

A check never raises on a student's answer: a missing answer is NOT ANSWERED, an answer of the wrong
kind or one whose evaluation fails is WRONG with the reason, so a notebook always runs to the end.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

STATUSES = ("CORRECT", "WRONG", "NOT ANSWERED")


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one exercise: status is one of STATUSES; message says why."""

    exercise: str
    status: str
    message: str

    @property
    def correct(self) -> bool:
        return self.status == "CORRECT"

    def __str__(self) -> str:
        return f"Exercise {self.exercise}: {self.status}. {self.message}"

    __repr__ = __str__


def correct(exercise: str, message: str) -> CheckResult:
    return CheckResult(exercise, "CORRECT", message)


def wrong(exercise: str, message: str) -> CheckResult:
    return CheckResult(exercise, "WRONG", message)


def unanswered(exercise: str, variable: str) -> CheckResult:
    return CheckResult(exercise, "NOT ANSWERED", f"set `{variable}` in the cell above and run this cell again.")


def screen(answer, exercise: str, want: str = "function", of: str = "") -> CheckResult | None:
    """The verdict for an answer that cannot be checked yet: missing (NOT ANSWERED, naming the variable
    answer_<exercise>), or not a function / number as `want` says (WRONG). None when it can be checked."""
    if answer is None:
        return unanswered(exercise, "answer_" + exercise.replace(".", "_"))
    if want == "function" and not callable(answer):
        return wrong(exercise, f"expected a function of {of}, e.g. `lambda {of.strip('()')}: ...`.")
    if want == "number" and as_number(answer) is None:
        return wrong(exercise, "expected a number.")
    return None


def evaluate(fn: Callable, *args):
    """fn(*args) as a float64 array, or the reason it could not be evaluated (a str)."""
    try:
        value = np.asarray(fn(*args), dtype=np.float64)
    except Exception as err:  # the student's code: report, never crash the notebook
        return f"calling your answer with {args} raised {type(err).__name__}: {err}"
    return value


def as_number(value):
    """value as a float, or None when it is not a real number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if not math.isnan(number) else None


def close(a: float, b: float, rtol: float, atol: float = 0.0) -> bool:
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= atol + rtol * abs(b)
