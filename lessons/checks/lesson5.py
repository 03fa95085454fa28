"""Checks of lesson 5 (the errata, derived with sympy; REPORT findings 1, 4 and 5), from
proofs_check.theorem4, proofs_check.lemma2, theory.theorem4 and theory.lemma2."""
from __future__ import annotations

import math

import numpy as np
import sympy as sp

from infgrad.tolerances import ROUNDOFF_RTOL, TYPED_NUMBER_RTOL
from lessons.checks._result import as_number, close, correct, screen, wrong
from proofs_check import theorem4 as proof
from theory import lemma2, theorem4


def _by_name(expr, allowed: dict):
    """expr with its free symbols replaced by the symbols of `allowed` of the same name, or a reason."""
    if not isinstance(expr, sp.Basic):
        try:
            expr = sp.sympify(expr)
        except (sp.SympifyError, TypeError):
            return "expected a sympy expression."
    names = {s.name for s in expr.free_symbols}
    if not names <= set(allowed):
        return f"use only the symbols {sorted(allowed)}; found {sorted(names)}."
    return expr.subs({s: allowed[s.name] for s in expr.free_symbols})


def check_theta1_bound_symbolic(answer, exercise: str = "5.1") -> object:
    """answer: a sympy expression in C for the sharp lower bound on (1/n)||z_1||^2 at theta = 1, C >= 1/2."""
    if (early := screen(answer, exercise, want="expression")) is not None:
        return early
    C = sp.Symbol("C", positive=True)
    expr = _by_name(answer, {"C": C})
    if isinstance(expr, str):
        return wrong(exercise, expr)
    for value in (0.6, 0.5, 0.7, 0.9):  # 0.6 first: the erratum's example
        expected = theorem4.row_energy_theta1_lower_bound(value)
        yours = as_number(sp.N(expr.subs(C, value)))
        if yours is None or not close(yours, expected, ROUNDOFF_RTOL, 1e-15):
            return wrong(exercise, f"at C = {value:g} the sharp bound (every sample at t = C) is {expected:.6g}, your "
                         f"expression gives {yours}. proofs_check: {proof.theta1_bound_eq23().finding}")
    same = sp.simplify(sp.expand_log(expr - proof.logit(C) ** 2, force=True)) == 0
    return correct(exercise, "logit(C)^2 = log(C/(1 - C))^2" + (" (sympy: identical)." if same else
                   " (equal at every C checked)."))


def check_paper_bound_threshold(answer, exercise: str = "5.2") -> object:
    """answer: the C0 in (1/2, 1) above which the printed bound C^2 <= logit(C)^2 holds."""
    if (early := screen(answer, exercise, want="number")) is not None:
        return early
    value = as_number(answer)
    u = sp.Symbol("u", positive=True)
    root = float(sp.nsolve(proof.logit(u) - u, u, 0.66))  # proofs_check's logit, solved afresh
    if close(value, root, TYPED_NUMBER_RTOL) and close(root, theorem4.PAPER_BOUND_THRESHOLD, 1e-12):
        return correct(exercise, f"C0 = {root:.10f}, the root of logit(C) = C; below it the supplement's C^2 "
                       "overstates what theta = 1 must pay.")
    if 0.5 <= value < 1:
        ratio = math.log(value / (1 - value)) ** 2
        side = "still fails" if value**2 > ratio else "already holds"
        return wrong(exercise, f"at C = {value:.6g}: C^2 = {value**2:.6g} and logit(C)^2 = {ratio:.6g}, so the "
                     f"printed bound {side} there; the switch is the root of logit(C) = C.")
    return wrong(exercise, "C0 lies in (1/2, 1).")


def check_ratio_crossover(answer, exercise: str = "5.3") -> object:
    """answer: sympy eps_c^2 in c and m = logit(C) for h = u/(u + c) normalised by h(m^2) = 1 (corrected Eq. 25)."""
    if (early := screen(answer, exercise, want="expression")) is not None:
        return early
    expr = _by_name(answer, {"c": proof.c, "m": proof.m})
    if isinstance(expr, str):
        return wrong(exercise, expr)
    e = sp.Symbol("e", positive=True)
    h = proof.u / (proof.u + proof.c)
    normalised = (h / h.subs(proof.u, proof.m**2)).subs(proof.u, e)
    (expected,) = sp.solve(sp.Eq(normalised, sp.Rational(1, 2)), e)
    if sp.simplify(expr - expected) == 0:
        return correct(exercise, f"eps_c^2 = {expected}: the theta = 0 cost h(eps^2) reaches 1/2 there; with C = 3/4, "
                       f"c = 0.01: eps_c = {float(sp.sqrt(expected.subs({proof.c: 0.01, proof.m: sp.log(3)}))):.4f}.")
    at = {proof.c: sp.Rational(1, 100), proof.m: sp.log(3)}
    return wrong(exercise, f"at c = 0.01, C = 3/4 (m = log 3): eps_c^2 = {float(expected.subs(at)):.6g}, yours "
                 f"{float(sp.N(expr.subs(at))):.6g}. Solve h(e)/h(m^2) = 1/2 for e = eps^2.")


def check_omega_power(answer, exercise: str = "5.4") -> object:
    """answer: the power p in omega_k = ||w_k||^p that makes (13) and (14) the same objective."""
    if (early := screen(answer, exercise, want="number")) is not None:
        return early
    p = as_number(answer)
    W, mu = np.array([[3.0], [4.0]]), np.array([[1.0]])  # the example of proofs_check's finding
    norm = np.linalg.norm(W, axis=0)
    omega = norm**p
    W_unit, Z = W / norm, omega[:, None] * mu
    recon_ok = np.allclose(W_unit @ Z, W @ mu, rtol=ROUNDOFF_RTOL, atol=0)
    cost_ok = close(lemma2.cost_eq14(Z, omega), lemma2.cost_eq13(W, mu), ROUNDOFF_RTOL, 1e-12)
    if recon_ok and cost_ok:
        return correct(exercise, "omega_k = ||w_k||: then W_unit (Omega mu) = W mu and log omega_k^2 = log ||w_k||^2. "
                       "The supplement prints ||w_k||^2 (finding 1 of the REPORT).")
    return wrong(exercise, f"with w = (3, 4), mu = 1 and p = {p:g}: W_unit Omega mu = {(W_unit @ Z).ravel()} "
                 f"against W mu = {(W @ mu).ravel()}; (14) = {lemma2.cost_eq14(Z, omega):.6g} against "
                 f"(13) = {lemma2.cost_eq13(W, mu):.6g}.")
