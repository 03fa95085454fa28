"""The pieces every `infgrad verify` row is built from: the settings, the row, the registry of checks.

A check is a function of the settings that returns one or more rows. It calls the project function
that its claim names (through its module, `lemma2.omega_star(...)`, so that a test can replace that
function by a wrong one and see the row fail) and compares its result with a number derived
independently (a numerical minimizer, a root, a closed form, another project function for the same
quantity), within a tolerance taken from `infgrad.tolerances`, named in the row.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Union

import numpy as np
from scipy.optimize import minimize_scalar

from infgrad.tolerances import BRENT_XTOL

Value = Union[float, int, str, list]


@dataclass(frozen=True)
class Settings:
    """What the user may change: the seed of every random problem and Theorem 4's data and penalties."""

    seed: int = 0
    segment_low: float = 0.7  # C of Eq. (21): t(z_gt) ~ Uniform[C, 1)
    penalty_shift: float = 1e-2  # c of log(u + c), sqrt(u + c) - sqrt(c), u / (u + c)
    n: int = 256  # Theorem 4's number of samples


@dataclass(frozen=True)
class Row:
    """One claim: what was measured against what was expected, and whether it holds.

    measured / expected: a number, a list of numbers, or (where the expectation is a property such
    as "strictly decreasing") a string. tolerance: the allowed difference, or None for an exact or
    qualitative comparison; tolerance_source names its entry in infgrad/tolerances.py.
    """

    id: str
    claim: str
    equation: str
    quantity: str
    measured: Value
    expected: Value
    passed: bool
    tolerance: float | None = None
    tolerance_source: str = ""
    note: str = ""

    def __post_init__(self):
        object.__setattr__(self, "passed", bool(self.passed))  # numpy's bool_ is not JSON

    @property
    def status(self) -> str:
        return "PASS" if self.passed else "FAIL"


@dataclass(frozen=True)
class Check:
    """A registered check: `run(settings)` returns its rows (ids starting with `id`)."""

    id: str
    run: Callable[[Settings], list[Row]] = field(repr=False)


def check(registry: list[Check], name: str | None = None):
    """Decorator: register `function(settings) -> list[Row]` as the check '<module>.<name>'."""

    def register(function):
        module = function.__module__.rsplit(".", 1)[-1]
        registry.append(Check(f"{module}.{name or function.__name__}", function))
        return function

    return register


def brent_argmin(fun: Callable[[float], float], start: float) -> float:
    """The argmin of a scalar function from its values alone (Brent, bracket search from `start`)."""
    res = minimize_scalar(fun, bracket=(start - 1.0, start), method="brent", options={"xtol": BRENT_XTOL})
    return float(res.x)


def coordinate_argmin(fun: Callable[[np.ndarray], float], shape: tuple[int, ...], start: float = 0.0) -> np.ndarray:
    """Minimize fun over an array one coordinate at a time with `brent_argmin`. For a separable fun
    (Eq. 3 in the encoder's log sigma) one sweep reaches the argmin."""
    x = np.full(shape, float(start))
    for index in np.ndindex(shape):
        def along(value, index=index):
            y = x.copy()
            y[index] = value
            return fun(y)
        x[index] = brent_argmin(along, start)
    return x


def relative_difference(found, expected) -> float:
    """max |found / expected - 1| over arrays of nonzero expected values."""
    return float(np.max(np.abs(np.asarray(found, dtype=float) / np.asarray(expected, dtype=float) - 1.0)))


def fmt(value: Value) -> str:
    """A cell of the terminal table: 4 significant digits, lists comma-separated."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt(v) for v in value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    number = float(value)
    # small numbers (differences, tolerances) in scientific notation, others with 8 digits, enough to
    # show a slope's or an eps*'s distance from its expected value; inf and nan print as such
    return f"{number:.2e}" if 0 < abs(number) < 1e-3 else f"{number:.8g}"
