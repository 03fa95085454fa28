"""Checks of lesson 6 (a small torch VAE on a low-dimensional manifold: active dimensions and gamma),
from Definition 1 and theory.lemma3; the run's numbers are passed in as numpy arrays."""
from __future__ import annotations

import numpy as np

from infgrad.tolerances import FLOAT32_MEAN_RTOL, ROUNDOFF_RTOL
from lessons.checks._result import as_number, close, correct, screen, wrong
from theory import lemma3


def check_active_dimensions(answer, r: int, kappa: int, measured: int, exercise: str = "6.1") -> object:
    """answer: how many of the kappa latent dimensions an optimal sparse representation of data on an
    r-dimensional manifold keeps active (Definition 1); `measured` is what this run ended with."""
    if (early := screen(answer, exercise, want="number")) is not None:
        return early
    value = as_number(answer)
    run = (f" This run ended with {measured} active (posterior variance below 1/2)"
           + ("." if measured == r else "; more steps (QUICK = False) bring it closer."))
    if value == r:
        return correct(exercise, f"r = {r}: zero error needs r informative dimensions, and Definition 1 leaves the "
                       f"other kappa - r = {kappa - r} at the prior N(0, 1)." + run)
    hint = " That is what this run shows, but" if value == measured else ""
    return wrong(exercise, f"{hint} Definition 1 asks for zero error with as few informative dimensions as "
                 f"possible, and the data have {r} degrees of freedom." + run)


def check_gamma_star_of_run(answer, X, recon, exercise: str = "6.2") -> object:
    """answer: gamma* of Eq. (16) for the trained model, from X (d, n) and decoder samples recon (S, d, n)."""
    if (early := screen(answer, exercise, want="number")) is not None:
        return early
    value = as_number(answer)
    X = np.asarray(X, dtype=np.float64)
    recon = np.asarray(recon, dtype=np.float64)
    expected = lemma3.gamma_star(X, recon)
    if close(value, expected, FLOAT32_MEAN_RTOL):
        return correct(exercise, f"gamma* = {expected:.6g}: the mean squared error per coordinate.")
    ratio = value / expected if expected else float("inf")
    return wrong(exercise, f"lemma3.gamma_star gives {expected:.6g}; yours is {ratio:.4g} times that"
                 + (f" (d = {X.shape[0]}: divide by d)." if close(ratio, X.shape[0], 1e-3) else "."))


def check_gamma_ratio(answer, gamma_learned: float, gamma_star_value: float, exercise: str = "6.3") -> object:
    """answer: the ratio gamma / gamma* that Eq. (3) has at a stationary point in gamma (all else fixed)."""
    if (early := screen(answer, exercise, want="number")) is not None:
        return early
    value = as_number(answer)
    measured = gamma_learned / gamma_star_value
    run = f" In this run gamma / gamma* = {measured:.3g} at the last step (Adam follows a moving target)."
    if close(value, 1.0, ROUNDOFF_RTOL):
        return correct(exercise, "1: d(Eq. 3)/dgamma = -e/gamma^2 + d/gamma vanishes only at gamma = e/d = "
                       "gamma* (Eq. 16), so a learned gamma tracks the reconstruction error." + run)
    return wrong(exercise, "set d(Eq. 3)/dgamma = 0 with the error e fixed." + run)
