"""Input validation shared by the theory modules: every bad input becomes a ValueError that names
the argument, so the `infgrad` CLI can print it as one line (never a silent NaN)."""
from __future__ import annotations

import math
import numbers

import numpy as np


def finite_array(name: str, value, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """`value` as a float64 array with no NaN or inf, and `ndim` dimensions when given."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name}: not a numeric array ({err})") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if array.ndim not in allowed:
            want = " or ".join(str(k) for k in allowed)
            raise ValueError(f"{name}: expected {want} dimensions, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name}: contains NaN or inf")
    return array


def _real(name: str, value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a real number, got {value!r}") from None


def finite_scalar(name: str, value) -> float:
    """`value` as a finite float."""
    number = _real(name, value)
    if not math.isfinite(number):
        raise ValueError(f"{name}: must be finite, got {number!r}")
    return number


def positive_scalar(name: str, value) -> float:
    """`value` as a finite float > 0."""
    number = finite_scalar(name, value)
    if number <= 0:
        raise ValueError(f"{name}: must be > 0, got {number!r}")
    return number


def log_variance(name: str, value) -> float:
    """A log-variance such as log_gamma_var: finite, so that the variance exp(value) is > 0."""
    number = _real(name, value)
    if math.isnan(number):
        raise ValueError(f"{name}: is NaN")
    if number == -math.inf:
        raise ValueError(f"{name}: -inf means a variance of 0; the variance must be > 0")
    if not math.isfinite(number):
        raise ValueError(f"{name}: must be finite, got {number!r}")
    if abs(number) > 700.0:
        # exp(+-700) is near the float64 limits (1e+-304): 1/variance would overflow
        raise ValueError(f"{name}: {number!r} is outside [-700, 700], beyond float64's range")
    return number


def dimension(name: str, value, minimum: int = 1) -> int:
    """An integer dimension or count >= minimum (kappa, n, r, ...)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}: expected an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name}: must be >= {minimum}, got {value}")
    return int(value)


def same(name_a: str, size_a: int, name_b: str, size_b: int, what: str) -> None:
    """Raise unless two sizes agree (shape mismatches name both arguments)."""
    if size_a != size_b:
        raise ValueError(f"{name_b}: {what} is {size_b} but {name_a} has {size_a}")
