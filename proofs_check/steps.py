"""The step framework of proofs_check: one proof step = one named, timed symbolic check.

A step's check function returns a `Result`: PASS (the claim holds as written), FINDING (the
supplement's literal statement fails or is ill-formed; the check proved the corrected statement and
exhibited the failure), or, when an assertion or an exception stops it, FAIL.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum
from typing import Callable

import sympy as sp


class Status(str, Enum):
    PASS = "PASS"
    FINDING = "FINDING"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Result:
    """What a check established.

    detail: one line saying what sympy derived (a minimizer, a limit, a constant).
    finding: FINDING only; starts with the equation number, says what is wrong as printed and what
        holds instead.
    note: PASS only, optional; a candidate erratum that the check refuted, or a caveat.
    """

    status: Status
    detail: str
    finding: str = ""
    note: str = ""


def proved(detail: str, note: str = "") -> Result:
    """The claim holds as the supplement states it."""
    return Result(Status.PASS, detail, note=note)


def erratum(detail: str, finding: str) -> Result:
    """The corrected claim holds and the literal one was shown to fail; `finding` cites 'Eq. (..)'."""
    if not finding.startswith("Eq. ("):
        raise ValueError(f"finding must start with the equation number 'Eq. (', got {finding[:30]!r}")
    return Result(Status.FINDING, detail, finding=finding)


class DerivationError(AssertionError):
    """A symbolic claim that sympy could not confirm: the step fails."""


def require(condition, message: str) -> None:
    """Fail the step unless `condition` is decidedly true (a sympy relational left undecided fails)."""
    if condition is True or condition is sp.true:
        return
    raise DerivationError(f"{message} (got {condition})")


def require_zero(expr, message: str) -> None:
    """Fail unless `expr` is identically zero: expand (logs of positive factors split), then cancel."""
    reduced = sp.expand(sp.expand_log(sp.expand(expr)))
    if reduced != 0:
        reduced = sp.cancel(sp.together(reduced))
    if reduced != 0:
        raise DerivationError(f"{message}: not identically zero, left {reduced}")


@dataclass(frozen=True)
class Step:
    """One step of a proof: which equations it connects, what it claims, how sympy checks it."""

    module: str
    name: str
    equations: str
    claim: str
    method: str
    check: Callable[[], Result]

    @property
    def id(self) -> str:
        return f"{self.module}.{self.name}"

    def run(self) -> "Outcome":
        start = time.perf_counter()
        try:
            result = self.check()
            if not isinstance(result, Result):
                raise DerivationError(f"check returned {type(result).__name__}, not a Result")
        except Exception as err:  # a failing step is reported, never hidden
            message = str(err).splitlines()[0] if str(err) else ""
            result = Result(Status.FAIL, f"{type(err).__name__}: {message}")
        return Outcome(self, result, time.perf_counter() - start)


@dataclass(frozen=True)
class Outcome:
    step: Step
    result: Result
    seconds: float


def step(registry: list[Step], *, equations: str, claim: str, method: str):
    """Decorator: register the check function as a Step named after it in `registry`."""

    def register(check: Callable[[], Result]) -> Callable[[], Result]:
        module = check.__module__.rsplit(".", 1)[-1]
        registry.append(Step(module, check.__name__, equations, claim, method, check))
        return check

    return register


def gaussian_expectation(expr, noise: list[sp.Symbol]):
    """E[expr] for a polynomial in independent standard normals `noise` (E eps^m = (m-1)!!, m even)."""
    poly = sp.Poly(sp.expand(expr), *noise)
    total = sp.Integer(0)
    for powers, coeff in poly.terms():
        moment = sp.Integer(1)
        for m in powers:
            moment *= 0 if m % 2 else sp.factorial2(m - 1)
        total += coeff * moment
    return sp.expand(total)
