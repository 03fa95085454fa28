"""Checks of lesson 4 (Lemma 3: gamma* = error / d, and what learning gamma gives; Figure 8), from
theory.lemma3, theory.lemma2, theory.objective and theory.vae_loss."""
from __future__ import annotations

import math

import numpy as np

from infgrad.tolerances import ROUNDOFF_RTOL
from lessons.checks._result import close, correct, evaluate, screen, wrong
from theory import lemma2, lemma3
from theory.objective import min_active_rows_affine, objective_eq22
from theory.vae_loss import affine_vae_loss_eq3


def check_gamma_star(answer, exercise: str = "4.1") -> object:
    """answer(X, recon): gamma* of Eq. (16) from data X (d, n) and decoder samples recon (S, d, n)."""
    if (early := screen(answer, exercise, of="(X, recon)")) is not None:
        return early
    rng = np.random.default_rng(0)
    for d, n, S in ((3, 5, 1), (6, 10, 4), (2, 7, 3)):
        X = rng.standard_normal((d, n))
        recon = X[None] + 0.3 * rng.standard_normal((S, d, n))
        expected = lemma3.gamma_star(X, recon)
        yours = evaluate(answer, X, recon)
        if isinstance(yours, str):
            return wrong(exercise, yours)
        yours = float(yours)
        if not close(yours, expected, ROUNDOFF_RTOL):
            ratio = yours / expected
            hint = f" Yours is {ratio:.4g} times gamma*" + (f" (d = {d}: divide by d)." if close(ratio, d, 1e-9)
                                                          else ".")
            return wrong(exercise, f"for d = {d}, n = {n}, S = {S}: gamma* = {expected:.6g}.{hint}")
    return correct(exercise, "gamma* = mean over samples, draws and coordinates of (x - mu_x(z))^2: "
                   "d(Eq. 3)/dgamma = -e/gamma^2 + d/gamma vanishes at gamma = e/d.")


def _fitted(X, kappa: int, gamma_0: float) -> dict:
    return lemma2.optimal_affine_vae(X, kappa, math.log(gamma_0))


def check_ppca_gamma_star(answer, X, kappa: int, exercise: str = "4.2") -> object:
    """answer(gamma_0, r, d): gamma* of the optimal affine VAE fitted at gamma_0 (below the data eigenvalues)."""
    if (early := screen(answer, exercise, of="(gamma_0, r, d)")) is not None:
        return early
    d, r = X.shape[0], min_active_rows_affine(X)
    lam_r = float(_fitted(X, kappa, 1.0)["eigenvalues"][r - 1])
    for gamma_0 in (0.5 * lam_r, 1e-2 * lam_r, 1e-4 * lam_r):
        opt = _fitted(X, kappa, gamma_0)
        expected = lemma3.gamma_star_affine(X, opt["W"], opt["b"], opt["mu_z"], opt["log_sigma_z"])
        yours = evaluate(answer, gamma_0, r, d)
        if isinstance(yours, str):
            return wrong(exercise, yours)
        # the expected value is a sum of ~d n terms: round-off relative ~1e-13, far inside 1e-9
        if not close(float(yours), expected, 1e-9):
            return wrong(exercise, f"at gamma_0 = {gamma_0:.4g} (d = {d}, r = {r}) lemma3.gamma_star_affine gives "
                         f"{expected:.6g}, you said {float(yours):.6g}.")
    return correct(exercise, "r gamma_0 / d: each active direction leaves gamma_0^2/lambda of ridge shrinkage plus "
                   "(lambda - gamma_0) gamma_0/lambda of encoder noise, gamma_0 in all.")


def _random_instance(seed: int):
    rng = np.random.default_rng(seed)
    d, kappa, n = 4, 3, 6
    X = rng.standard_normal((d, n))
    return X, rng.standard_normal((kappa, n)), X + 0.2 * rng.standard_normal((d, n))


def check_learned_gamma_objective(answer, exercise: str = "4.3") -> object:
    """answer = (g, h): Eq. (18) equals d * L_{g,h} of Eq. (22) with these g and h."""
    if (early := screen(answer, exercise, want="pair")) is not None:
        return early
    try:
        g, h = answer
    except (TypeError, ValueError):
        return wrong(exercise, "expected a pair (g, h) of functions.")
    for seed in range(3):
        X, Z, recon = _random_instance(seed)
        d = X.shape[0]
        eq18 = lemma3.loss_eq18(X, recon, Z)
        try:
            yours = d * objective_eq22(X, Z, recon, g, h)
        except Exception as err:
            return wrong(exercise, f"objective_eq22 with your (g, h) raised {type(err).__name__}: {err}")
        if not close(yours, eq18, ROUNDOFF_RTOL, 1e-12):
            eq19 = d * lemma3.loss_eq19(X, recon, Z)
            hint = (" Yours is d times Eq. (19): that needs the log transformation which Lemma 3 assumes, not "
                    "what learning gamma gives." if close(yours, eq19, ROUNDOFF_RTOL, 1e-12) else "")
            return wrong(exercise, f"on a random instance Eq. (18) = {eq18:.6g} but d L_(g,h) = {yours:.6g}.{hint}")
    return correct(exercise, "g = log and h = u: the latent term of Eq. (18) is the linear penalty, which "
                   "Theorem 4 defeats (eps* = 2.78 in Figure 3); h = log needs the assumed log transformation.")


def check_log_axis_shape(answer, X, kappa: int, gamma_0s=(0.3, 1e-2, 1e-4), exercise: str = "4.4") -> object:
    """answer(t, d): L(log gamma* + t) - L(log gamma*) for Eq. (3) with the decoder and encoder fixed."""
    if (early := screen(answer, exercise, of="(t, d)")) is not None:
        return early
    d = X.shape[0]
    for gamma_0 in gamma_0s:
        opt = _fitted(X, kappa, gamma_0)
        args = (X, opt["W"], opt["b"], opt["mu_z"], opt["log_sigma_z"])
        log_star = math.log(lemma3.gamma_star_affine(*args))
        base = affine_vae_loss_eq3(*args, log_star)
        for t in (-2.0, -0.5, 0.5, 2.0):
            exact = affine_vae_loss_eq3(*args, log_star + t) - base
            yours = evaluate(answer, t, d)
            if isinstance(yours, str):
                return wrong(exercise, yours)
            # a difference of two losses of size |base|: round-off ~1e-15 |base|
            if not close(float(yours), exact, 1e-9, 1e-9 * (1 + abs(base))):
                return wrong(exercise, f"decoder fitted at gamma_0 = {gamma_0:g}, t = {t:g}: the loss rises by "
                             f"{exact:.6g}, you said {float(yours):.6g}.")
    return correct(exercise, "d (e^(-t) + t - 1) for every decoder: on a log-gamma axis the minima are one shape "
                   "shifted; the curvature d/gamma*^2 in gamma itself is what grows.")
