"""Penalty functions g and h of the objective L_{g,h} (supplement Eq. 22, main-text Eq. 6).

Each penalty acts on u = (1/n)||z_k||^2 >= 0 (a row energy) or on a mean squared reconstruction
error. All are concave and non-decreasing on u >= 0, as Theorem 4 (section 8.3) assumes.
`grad_at_zero` is the right derivative at zero, lim_{u->0+} (h(u) - h(0)) / u: it equals
lim_{u->0+} h'(u) for the continuous penalties and is +inf for log (h(0) = -inf) and for the
indicator (a jump at 0), which is why the supplement counts the indicator as unbounded-gradient.
Section 8.3 itself defines h'(0) as lim_{u->0+} h'(u), which is 0 for the indicator: its bound
h(eps^2) - h(0) <= h'(0+) eps^2 needs h right-continuous at 0 (the Eq. (25) finding of
proofs_check/REPORT.md). The difference quotient used here is the definition under which it holds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = [
    "Penalty",
    "log_penalty",
    "log_shift",
    "linear",
    "sqrt_penalty",
    "sqrt_shift",
    "ratio",
    "indicator",
    "penalty_family",
]


def _as_energy(u, *, strictly_positive: bool = False) -> np.ndarray:
    """Validate u (a row energy or mean squared error): finite float64, u >= 0 (u > 0 if asked)."""
    try:
        u = np.asarray(u, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"u: expected a real number or array, got {u!r}") from None
    if np.isnan(u).any():
        raise ValueError("u: contains NaN")
    if np.isinf(u).any():
        # u/(u + c) would be inf/inf = NaN: an infinite energy has no penalty value
        raise ValueError("u: contains inf")
    if strictly_positive:
        if (u <= 0).any():
            raise ValueError("u: the derivative is defined for u > 0 only")
    elif (u < 0).any():
        raise ValueError("u: penalties are defined for u >= 0 only")
    return u


def _check_shift(c: float) -> float:
    c = float(c)
    if not (math.isfinite(c) and c > 0):
        raise ValueError(f"c: the shift must be finite and > 0, got {c!r}")
    return c


@dataclass(frozen=True)
class Penalty:
    """A concave, non-decreasing penalty h on u >= 0 with its derivative.

    name: short identifier (a key of `penalty_family`); label: matplotlib mathtext for plots;
    grad_at_zero: h'(0+) as defined in the module docstring (math.inf when unbounded).
    `value` and `derivative` take arrays of any shape and return float64 arrays of that shape;
    calling the penalty, h(u), is the same as h.value(u).
    """

    name: str
    label: str
    grad_at_zero: float
    value_fn: Callable[[np.ndarray], np.ndarray] = field(repr=False, compare=False)
    derivative_fn: Callable[[np.ndarray], np.ndarray] = field(repr=False, compare=False)

    def value(self, u) -> np.ndarray:
        """h(u) for u >= 0 (h(0) may be -inf, returned without a floating-point warning)."""
        return np.asarray(self.value_fn(_as_energy(u)), dtype=np.float64)

    def derivative(self, u) -> np.ndarray:
        """h'(u) for u > 0."""
        return np.asarray(self.derivative_fn(_as_energy(u, strictly_positive=True)), dtype=np.float64)

    def __call__(self, u) -> np.ndarray:
        return self.value(u)

    @property
    def bounded_gradient(self) -> bool:
        """True when h'(0+) is finite: the case Theorem 4 shows cannot guarantee sparsity."""
        return math.isfinite(self.grad_at_zero)


def _log_with_zero(u: np.ndarray) -> np.ndarray:
    # log(0) = -inf is the intended value (supplement Eq. 15/19), not a floating-point accident.
    out = np.full(u.shape, -np.inf)
    positive = u > 0
    out[positive] = np.log(u[positive])
    return out


def log_penalty() -> Penalty:
    """h(u) = log u: the penalty the VAE induces (Lemma 2, Eq. 15; Lemma 3, Eq. 19)."""
    return Penalty("log", r"$\log u$", math.inf, _log_with_zero, lambda u: 1.0 / u)


def log_shift(c: float) -> Penalty:
    """h(u) = log(u + c), c > 0: bounded gradient 1/c at zero."""
    c = _check_shift(c)
    return Penalty(
        f"log_shift(c={c:g})",
        rf"$\log(u + c)$, $c={c:g}$",
        1.0 / c,
        lambda u: np.log(u + c),
        lambda u: 1.0 / (u + c),
    )


def linear() -> Penalty:
    """h(u) = u: the ridge-like penalty, gradient 1 everywhere."""
    return Penalty("linear", r"$u$", 1.0, lambda u: u.copy(), lambda u: np.ones_like(u))


def sqrt_penalty() -> Penalty:
    """h(u) = sqrt(u): square-root-lasso-like (main text after Eq. 6), h'(0+) = inf."""
    return Penalty("sqrt", r"$\sqrt{u}$", math.inf, np.sqrt, lambda u: 0.5 / np.sqrt(u))


def sqrt_shift(c: float) -> Penalty:
    """h(u) = sqrt(u + c) - sqrt(c), c > 0: h(0) = 0, h'(0+) = 1 / (2 sqrt(c))."""
    c = _check_shift(c)
    root_c = math.sqrt(c)
    return Penalty(
        f"sqrt_shift(c={c:g})",
        rf"$\sqrt{{u + c}} - \sqrt{{c}}$, $c={c:g}$",
        0.5 / root_c,
        # u / (sqrt(u + c) + sqrt(c)) is the same number without the cancellation for u << c.
        lambda u: u / (np.sqrt(u + c) + root_c),
        lambda u: 0.5 / np.sqrt(u + c),
    )


def ratio(c: float) -> Penalty:
    """h(u) = u / (u + c), c > 0: bounded by 1, h'(0+) = 1/c."""
    c = _check_shift(c)
    return Penalty(
        f"ratio(c={c:g})",
        rf"$u / (u + c)$, $c={c:g}$",
        1.0 / c,
        lambda u: u / (u + c),
        lambda u: c / (u + c) ** 2,
    )


def indicator() -> Penalty:
    """h(u) = I[u > 0] (end of section 8.3): counts active rows; a jump at 0, so h'(0+) = inf."""
    return Penalty(
        "indicator",
        r"$\mathcal{I}[u > 0]$",
        math.inf,
        lambda u: (u > 0).astype(np.float64),
        lambda u: np.zeros_like(u),
    )


def penalty_family(c: float = 1e-2) -> dict[str, Penalty]:
    """Every penalty of the project, the shifted ones with shift c, keyed by a short name."""
    return {
        "log": log_penalty(),
        "log_shift": log_shift(c),
        "linear": linear(),
        "sqrt": sqrt_penalty(),
        "sqrt_shift": sqrt_shift(c),
        "ratio": ratio(c),
        "indicator": indicator(),
    }
