"""Checks of lesson 3 (Lemma 2: the affine VAE as gamma -> 0; Figure 7 and the bridge of section 7),
from theory.lemma2, theory.objective and proofs_check.lemma2."""
from __future__ import annotations

import math

import numpy as np

from infgrad.tolerances import LEADING_ORDER_RTOL
from lessons.checks._result import as_number, close, correct, evaluate, screen, wrong
from theory import lemma2
from theory.objective import min_active_rows_affine


def _eigenvalues(X, kappa: int) -> np.ndarray:
    return lemma2.optimal_affine_vae(X, kappa, math.log(1e-9))["eigenvalues"]


def check_lemma2_slope(answer, X, kappa: int, exercise: str = "3.1") -> object:
    """answer: the slope of min Eq. (3) against log gamma as gamma -> 0 for the data X (d, n)."""
    if (early := screen(answer, exercise, want="number")) is not None:
        return early
    slope = as_number(answer)
    lam = _eigenvalues(X, kappa)
    # far below the data's eigenvalues, far above the round-off eigenvalues (~1e-16) of the missing
    # directions, whose lambda / gamma <= 1e-7 tilts the fitted slope by less than 1e-6
    log_gammas = np.log(np.geomspace(1e-9, 1e-7, 3))
    losses = [lemma2.optimal_loss_closed_form(lam, kappa, lg) for lg in log_gammas]
    measured = float(np.polyfit(log_gammas, losses, 1)[0])
    d, r = X.shape[0], min_active_rows_affine(X)
    if close(slope, measured, 0.0, 1e-6):
        return correct(exercise, f"d - min(r, kappa) = {d} - {min(r, kappa)}: each active column contributes "
                       "log lambda_j, each of the other d - r directions log gamma.")
    return wrong(exercise, f"the closed-form optimum falls by {measured:.6g} per unit of log gamma here "
                 f"(d = {d}, the data's rank r = {r}, kappa = {kappa}).")


def check_active_columns(answer, X, kappa: int, exercise: str = "3.2") -> object:
    """answer(gamma): the number of nonzero columns of W in the optimal affine VAE at this gamma."""
    if (early := screen(answer, exercise, of="gamma")) is not None:
        return early
    lam = _eigenvalues(X, kappa)
    gammas = np.concatenate([np.geomspace(1e-8, 10.0, 10), lam[lam > 1e-8] * 0.9, lam[lam > 1e-8] * 1.1])
    for gamma in np.sort(gammas):
        expected = int(lemma2.optimal_affine_vae(X, kappa, math.log(gamma))["active"].sum())
        yours = evaluate(answer, float(gamma))
        if isinstance(yours, str):
            return wrong(exercise, yours)
        if float(yours) != expected:
            return wrong(exercise, f"at gamma = {gamma:.4g} the optimum has {expected} active columns, you said "
                         f"{float(yours):g} (data eigenvalues {np.array2string(lam, precision=3)}).")
    return correct(exercise, "a column is active while its eigenvalue exceeds gamma (at most kappa of them); "
                   "below the smallest nonzero eigenvalue the count stays at r: the optimum is sparse.")


def _pca_code(X, kappa: int) -> np.ndarray:
    """The active rows of the gamma -> 0 optimum's codes (rows with a nonzero decoder column)."""
    opt = lemma2.optimal_affine_vae(X, kappa, math.log(1e-12))
    return opt["mu_z"][opt["active"]]


def check_rescaling(answer, X, kappa: int, exercise: str = "3.3") -> object:
    """answer(t, k): the change of (15) when (W, Z) -> (t W, Z / t) with k active rows."""
    if (early := screen(answer, exercise, of="(t, k)")) is not None:
        return early
    Z = _pca_code(X, kappa)
    k = Z.shape[0]
    base = lemma2.reduced_cost_eq15(Z)
    for t in (2.0, 10.0, 100.0):
        change = lemma2.reduced_cost_eq15(Z / t) - base
        yours = evaluate(answer, t, k)
        if isinstance(yours, str):
            return wrong(exercise, yours)
        if not close(float(yours), change, 1e-9, 1e-9):
            return wrong(exercise, f"with t = {t:g} and k = {k}, lemma2.reduced_cost_eq15 changes by {change:.6g}, "
                         f"you said {float(yours):.6g}.")
    from proofs_check.lemma2 import column_norm_constraint_eq15

    step = column_norm_constraint_eq15()
    return correct(exercise, f"-2 k log t: x = (tW)(Z/t) + b is unchanged while (15) goes to -infinity, so the "
                   f"unit-norm columns of Theta are needed. proofs_check: {step.status.value}: {step.detail}.")


def check_finite_gamma_penalty(answer, exercise: str = "3.4") -> object:
    """answer(u, gamma): the leading behaviour of f(u) - f(0) as u -> 0 for the row penalty of Eq. (11)."""
    if (early := screen(answer, exercise, of="(u, gamma)")) is not None:
        return early
    for gamma in (1e-2, 1e-4):
        f = lemma2.row_penalty_eq11(math.log(gamma))
        for x in (1e-4, 1e-3):  # x = sqrt(u / gamma): the next term is relatively x/4
            u = gamma * x**2
            exact = float(f(u)) - float(f(0.0))
            yours = evaluate(answer, u, gamma)
            if isinstance(yours, str):
                return wrong(exercise, yours)
            if not close(float(yours), exact, LEADING_ORDER_RTOL):
                hint = (" That is the column penalty log(gamma + u) - log gamma; minimized over omega, the row "
                        "penalty is steeper." if close(float(yours), u / gamma, LEADING_ORDER_RTOL) else "")
                return wrong(exercise, f"at gamma = {gamma:g}, u = {u:.3g}: f(u) - f(0) = {exact:.6g} "
                             f"(lemma2.row_penalty_eq11), you said {float(yours):.6g}.{hint}")
    return correct(exercise, "2 sqrt(u / gamma): an unbounded slope at 0 with a finite f(0) = log gamma, the "
                   "situation of sqrt in Theorem 4, so a failure region remains at every finite gamma.")


