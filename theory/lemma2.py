"""Lemma 2 (supplement section 8.1, Eq. 11-15): the affine-decoder VAE reduces to h = log as gamma -> 0.

Affine decoder mu_x(z) = W z + b, W (d, kappa), b (d,); X (d, n); mu_z, Z (kappa, n); gamma is the
decoder VARIANCE, passed as log_gamma_var. Eq. (3) minimized over the encoder variances gives (11)
plus the constant kappa; the reparameterization (13)-(14) with its optimal omega gives (15) plus kappa.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import minimize

from theory._checks import dimension, finite_array, finite_scalar, log_variance, positive_scalar, same
from theory._linalg import eigh_descending, one_blas_thread
from theory.penalties import Penalty
from theory.vae_loss import affine_vae_loss_eq3, kl_terms_eq3

__all__ = [
    "sigma_z_star",
    "log_sigma_z_star",
    "loss_eq11",
    "eq11_constant",
    "eq12_expression",
    "reparameterize_eq13",
    "cost_eq13",
    "cost_eq14",
    "omega_star",
    "reduced_cost_eq15",
    "eq15_constant",
    "row_penalty_eq11",
    "profiled_loss",
    "optimal_loss_closed_form",
    "optimal_affine_vae",
    "minimize_profiled_loss",
    "gamma_to_zero_scan",
]


def _column_sq_norms(W) -> np.ndarray:
    W = finite_array("W", W, ndim=2)
    dimension("kappa", W.shape[1])
    return np.sum(W**2, axis=0)


def log_sigma_z_star(W, log_gamma_var) -> np.ndarray:
    """log of the optimal encoder std, (kappa,): 0.5 log(gamma / (gamma + ||w_k||^2)).

    Eq. (3) is separable in v_k = sigma_k^2 with derivative ||w_k||^2/gamma + 1 - 1/v_k, zero at
    v_k = gamma / (gamma + ||w_k||^2). Nothing here depends on x, so a per-sample sigma_z(x^(i))
    has the same minimizer in every column: the shared s of main-text Lemma 2 loses nothing.
    """
    log_gamma_var = log_variance("log_gamma_var", log_gamma_var)
    omega = _column_sq_norms(W)
    log_var = np.zeros_like(omega)  # a zero column leaves the latent at the prior, sigma = 1
    positive = omega > 0
    log_var[positive] = log_gamma_var - np.logaddexp(log_gamma_var, np.log(omega[positive]))
    return 0.5 * log_var


def sigma_z_star(W, log_gamma_var) -> np.ndarray:
    """The optimal encoder VARIANCES sigma_k^2 = gamma / (gamma + ||w_k||^2), shape (kappa,).

    (Variances, not stds; `log_sigma_z_star` gives the log std that the loss functions take.)
    """
    return np.exp(2.0 * log_sigma_z_star(W, log_gamma_var))


def loss_eq11(X, W, b, mu_z, log_gamma_var) -> float:
    """Eq. (11): (1/n) sum_i ||x_i - W mu_i - b||^2 / gamma + sum_k log(gamma + ||w_k||^2)
    + (1/n) sum_i ||mu_i||^2 + (d - kappa) log gamma.  Equals min over sigma_z of Eq. (3) minus kappa."""
    X = finite_array("X", X, ndim=2)
    mu_z = finite_array("mu_z", mu_z, ndim=2)
    log_gamma_var = log_variance("log_gamma_var", log_gamma_var)
    W = finite_array("W", W, ndim=2)
    b = finite_array("b", b, ndim=1)
    d, n = X.shape
    kappa = W.shape[1]
    same("X", d, "W", W.shape[0], "d (rows)")
    same("X", d, "b", b.shape[0], "d")
    same("W", kappa, "mu_z", mu_z.shape[0], "kappa")
    same("X", n, "mu_z", mu_z.shape[1], "the number of samples (columns)")
    residual = X - W @ mu_z - b[:, None]
    omega = _column_sq_norms(W)
    log_terms = np.sum(np.logaddexp(log_gamma_var, np.log(omega, where=omega > 0, out=np.full_like(omega, -np.inf))))
    return float(np.sum(residual**2) / n * math.exp(-log_gamma_var) + log_terms
                 + np.sum(mu_z**2) / n + (d - kappa) * log_gamma_var)


def eq11_constant(kappa) -> float:
    """min over sigma_z of Eq. (3) = (11) + kappa.

    At v_k = gamma/(gamma + ||w_k||^2): ||w_k||^2 v_k / gamma + v_k - log v_k
    = 1 + log(gamma + ||w_k||^2) - log gamma; summed over k this is kappa + sum_k log(gamma + ||w_k||^2)
    - kappa log gamma, which with d log gamma gives (11)'s (d - kappa) log gamma. The supplement's (11)
    is therefore exact up to this additive kappa.
    """
    return float(dimension("kappa", kappa))


def eq12_expression(a, b, c, gamma) -> np.ndarray:
    """a / gamma + log(b + gamma) + c log gamma (end of section 8.1), gamma > 0 (array allowed).

    For a > 0, b >= 0, any c: >= a/gamma + (1 + c) log gamma (as log(b + gamma) >= log gamma),
    which tends to +inf as gamma -> 0+: a nonzero reconstruction error a cannot survive the limit.
    """
    a = finite_scalar("a", a)
    b = finite_scalar("b", b)
    c = finite_scalar("c", c)
    if b < 0:
        raise ValueError(f"b: must be >= 0, got {b!r}")
    gamma = finite_array("gamma", gamma)
    if (gamma <= 0).any():
        raise ValueError("gamma: the decoder variance must be > 0")
    return a / gamma + np.log(b + gamma) + c * np.log(gamma)


def reparameterize_eq13(W, mu_z):
    """Eq. (13) -> (14): W = W_unit diag(omega), z^(i) = diag(omega) mu^(i); returns (W_unit, omega, Z).

    Erratum: the supplement writes omega_k = ||w_k||_2^2, but (14)'s log(omega_k^2) = log ||w_k||^2
    and (z_k^(i))^2/omega_k^2 = (mu_k^(i))^2 need omega_k = ||w_k||_2 (the norm, not its square),
    which is what we use. Zero columns are not allowed (omega_k = 0 has no unit column).
    """
    W = finite_array("W", W, ndim=2)
    mu_z = finite_array("mu_z", mu_z, ndim=2)
    same("W", W.shape[1], "mu_z", mu_z.shape[0], "kappa")
    omega = np.sqrt(_column_sq_norms(W))
    if (omega == 0).any():
        raise ValueError("W: a zero column has no unit-norm direction in (14)")
    return W / omega, omega, omega[:, None] * mu_z


def cost_eq13(W, mu_z) -> float:
    """The objective of (13) (constraint aside): sum_k log ||w_k||^2 + (1/n) sum_i ||mu_i||^2."""
    mu_z = finite_array("mu_z", mu_z, ndim=2)
    omega = _column_sq_norms(W)
    if (omega == 0).any():
        return -math.inf
    return float(np.sum(np.log(omega)) + np.sum(mu_z**2) / mu_z.shape[1])


def cost_eq14(Z, omega) -> float:
    """Eq. (14): sum_k [log(omega_k^2) + (1/n)||z_k||^2 / omega_k^2], omega (kappa,) > 0."""
    Z = finite_array("Z", Z, ndim=2)
    omega = finite_array("omega", omega, ndim=1)
    same("Z", Z.shape[0], "omega", omega.shape[0], "kappa")
    if (omega <= 0).any():
        raise ValueError("omega: must be > 0")
    row_energy = np.mean(Z**2, axis=1)
    return float(np.sum(2.0 * np.log(omega) + row_energy / omega**2))


def omega_star(Z) -> np.ndarray:
    """The minimizer of (14) over omega: omega_k* = sqrt((1/n)||z_k||^2), shape (kappa,).

    d/d(omega^2) [log omega^2 + q / omega^2] = 1/omega^2 - q/omega^4 = 0 at omega^2 = q.
    """
    Z = finite_array("Z", Z, ndim=2)
    return np.sqrt(np.mean(Z**2, axis=1))


def reduced_cost_eq15(Z) -> float:
    """Eq. (15): sum_{k=1}^{kappa} log((1/n)||z_k||^2); (14) at omega* equals this + kappa
    (`eq15_constant`). Erratum: the supplement's sum runs to infinity; Z has kappa rows.

    A zero row gives -inf, returned as such: h = log is unbounded below at 0.
    """
    Z = finite_array("Z", Z, ndim=2)
    dimension("kappa", Z.shape[0])
    row_energy = np.mean(Z**2, axis=1)
    if (row_energy == 0).any():
        return -math.inf
    return float(np.sum(np.log(row_energy)))


def eq15_constant(kappa) -> float:
    """(14) at omega* = (15) + kappa: each row contributes log q + q/q = log q + 1."""
    return float(dimension("kappa", kappa))


def row_penalty_eq11(log_gamma_var) -> Penalty:
    """The penalty on a row energy u = (1/n)||z_k||^2 that Eq. (11) carries at a finite gamma.

    Reparameterize (11) as in (13)-(14), W = W_unit diag(omega), z = omega mu (omega_k = ||w_k||,
    the erratum of `reparameterize_eq13`): column k contributes log(gamma + omega_k^2) + u_k / omega_k^2,
    the reconstruction term depends on W_unit z only. Minimized over omega_k (at omega^4 = u (gamma +
    omega^2), omega^2 = sqrt(u) (sqrt(u) + sqrt(u + 4 gamma)) / 2), this is
        f(u) = log(gamma + omega^2) + 2 sqrt(u) / (sqrt(u) + sqrt(u + 4 gamma)),
    written so that u = 0 needs no 0/0. So at finite gamma and with unit-norm columns in Theta,
    (11) = (1/(n gamma)) ||X - W_unit Z - b||^2 + sum_k f(u_k) + (d - kappa) log gamma.
    f is concave and non-decreasing (a minimum of functions affine in u), f(0) = log gamma, and
    f(u) - f(0) ~ 2 sqrt(u / gamma) as u -> 0: an unbounded slope at 0 with a finite h(0), the case
    of sqrt in Theorem 4. As gamma -> 0, f(u) -> log u + 1, i.e. (15) plus its constant.
    The derivative is 1 / omega^2 (envelope theorem: the omega-derivative vanishes at omega*).
    """
    log_gamma_var = log_variance("log_gamma_var", log_gamma_var)
    gamma = math.exp(log_gamma_var)

    def omega_sq(u):
        root_u = np.sqrt(u)
        return root_u, np.sqrt(u + 4.0 * gamma), 0.5 * root_u * (root_u + np.sqrt(u + 4.0 * gamma))

    def value(u):
        root_u, root_shift, w2 = omega_sq(u)
        return np.log(gamma + w2) + 2.0 * root_u / (root_u + root_shift)

    def derivative(u):
        return 1.0 / omega_sq(u)[2]

    return Penalty(f"row_penalty_eq11(gamma={gamma:g})", rf"Eq. (11) at $\gamma={gamma:g}$",
                   math.inf, value, derivative)


def _centred(X):
    X = finite_array("X", X, ndim=2)
    dimension("n", X.shape[1])
    mean = X.mean(axis=1)
    centred = X - mean[:, None]
    return mean, centred, centred @ centred.T / X.shape[1]


def profiled_loss(X, W, log_gamma_var) -> tuple[float, np.ndarray]:
    """min over b, mu_z and sigma_z of Eq. (3) for a given W, with its gradient in W.

    min over mu_i of ||x_i - b - W mu_i||^2/gamma + ||mu_i||^2 = (x_i - b)^T C^{-1} (x_i - b) with
    C = W W^T + gamma I (ridge regression), b* = mean of X, so with S the (1/n) sample covariance
        F(W) = tr(C^{-1} S) + sum_k log(gamma + ||w_k||^2) + (d - kappa) log gamma + kappa,
    dF/dW = -2 C^{-1} S C^{-1} W + 2 W diag(1 / (gamma + ||w_k||^2)).
    """
    log_gamma_var = log_variance("log_gamma_var", log_gamma_var)
    _, _, S = _centred(X)
    W = finite_array("W", W, ndim=2)
    same("X", S.shape[0], "W", W.shape[0], "d (rows)")
    return _profiled(S, W, log_gamma_var)


def _profiled(S: np.ndarray, W: np.ndarray, log_gamma_var: float) -> tuple[float, np.ndarray]:
    """`profiled_loss` on validated inputs and the covariance S (the optimizer's inner loop)."""
    d, kappa = W.shape
    gamma = math.exp(log_gamma_var)
    factor = cho_factor(W @ W.T + gamma * np.eye(d))
    C_inv_S = cho_solve(factor, S)
    shifted = gamma + np.sum(W**2, axis=0)
    value = np.trace(C_inv_S) + np.sum(np.log(shifted)) + (d - kappa) * log_gamma_var + kappa
    grad = -2.0 * cho_solve(factor, C_inv_S.T @ W) + 2.0 * W / shifted
    return float(value), grad


def optimal_loss_closed_form(eigenvalues, kappa, log_gamma_var) -> float:
    """Global minimum over W, b, mu_z, sigma_z of Eq. (3) at fixed gamma (probabilistic PCA).

    With the sample-covariance eigenvalues lambda_1 >= ... >= lambda_d, the top min(kappa, d) with
    lambda_j > gamma are active: kappa + sum_active (1 + log lambda_j) + sum_rest (lambda_j/gamma + log gamma).
    For data on an r-dimensional affine subspace (lambda_j = 0 for j > r) and gamma < lambda_r,
    kappa >= r, this is kappa + r + sum_{j<=r} log lambda_j + (d - r) log gamma: slope d - r in log gamma.
    """
    lam = np.sort(finite_array("eigenvalues", eigenvalues, ndim=1))[::-1]
    kappa = dimension("kappa", kappa)
    log_gamma_var = log_variance("log_gamma_var", log_gamma_var)
    gamma = math.exp(log_gamma_var)
    active = (np.arange(lam.size) < kappa) & (lam > gamma)
    rest = lam[~active]
    return float(kappa + np.sum(1.0 + np.log(lam[active])) + np.sum(rest) / gamma
                 + rest.size * log_gamma_var)


def optimal_affine_vae(X, kappa, log_gamma_var) -> dict:
    """The global optimum of the affine VAE, Eq. (3), at fixed gamma: a closed form (no optimizer).

    Derivation: for fixed W, the optimal b, mu_z, sigma_z give `profiled_loss`
    F(W) = tr(C^{-1} S) + log det C + kappa + [sum_k log(gamma + ||w_k||^2) - log det(gamma I + W^T W)],
    using log det C = (d - kappa) log gamma + log det(gamma I + W^T W). The bracket is >= 0
    (Hadamard's inequality), zero iff W has orthogonal columns; the rest is the probabilistic-PCA
    negative log-likelihood (Tipping & Bishop 1999) with noise variance fixed at gamma, minimized by
    W = U_q (Lambda_q - gamma I)^{1/2}, whose columns are orthogonal: so the pPCA solution with
    R = I is optimal here. Columns with lambda_j <= gamma (or beyond d) are zero.

    Conventions that make the result the same on every machine (`theory._linalg.eigh_descending`):
    eigenvalues below LAPACK's round-off (100 d eps lambda_1) are exactly 0, i.e. X is taken to lie on
    its numerical affine span, and each column of W has the sign that makes its largest entry
    positive (Eq. 3 is invariant under w_k -> -w_k, mu_k -> -mu_k; the slices of Figure 6 are not).
    Returns dict(W (d, kappa), b (d,), mu_z (kappa, n) ridge means, log_sigma_z (kappa,) shared,
    loss (Eq. 3 evaluated at these, see `_eq3_at_optimum`), loss_closed_form, eigenvalues (d,),
    active (kappa,) bool).
    """
    mean, centred, S = _centred(X)
    kappa = dimension("kappa", kappa)
    log_gamma_var = log_variance("log_gamma_var", log_gamma_var)
    gamma = math.exp(log_gamma_var)
    d = S.shape[0]
    lam, U = eigh_descending(S)
    q = min(kappa, d)
    on = (np.arange(d) < q) & (lam > gamma)  # eigen-directions that carry an active column of W
    W = np.zeros((d, kappa))
    W[:, :q] = U[:, :q] * np.sqrt(np.where(on[:q], lam[:q] - gamma, 0.0))
    omega = np.sum(W**2, axis=0)
    # ridge mean (W^T W + gamma I)^{-1} W^T (x - b); W^T W is diagonal here
    mu_z = (W.T @ centred) / (omega + gamma)[:, None]
    log_sigma_z = log_sigma_z_star(W, log_gamma_var)
    coords = np.where(lam[:, None] > 0, U.T @ centred, 0.0)  # X - b in the eigenbasis; 0 on null directions
    return {
        "W": W,
        "b": mean,
        "mu_z": mu_z,
        "log_sigma_z": log_sigma_z,
        "loss": _eq3_at_optimum(coords, lam, on, omega, mu_z, log_sigma_z, log_gamma_var),
        "loss_closed_form": optimal_loss_closed_form(lam, kappa, log_gamma_var),
        "eigenvalues": lam,
        "active": omega > 0,
    }


def _eq3_at_optimum(coords, lam, on, omega, mu_z, log_sigma_z, log_gamma_var) -> float:
    """Eq. (3) at the parameters of `optimal_affine_vae`, written without cancellation.

    coords (d, n) is X - b in the eigenbasis of S (zero on the null directions), on (d,) marks the
    directions with an active column. There the residual x - b - W mu is y_j gamma / lambda_j,
    elsewhere y_j: formed so, not as the difference x - b - W mu, whose round-off (~eps |x|) would
    be squared and divided by gamma (Eq. 3 came out as 3.5e55 instead of about -394 at
    log gamma = -200). The expected error adds sum_k ||w_k||^2 sigma_k^2, divided by gamma in log
    space; the latent terms are those of Eq. (3) (`kl_terms_eq3`, cancellation-free).
    """
    # |residual|^2 / gamma = y^2 * (gamma / lambda^2 on active directions, 1 / gamma elsewhere)
    log_factor = np.where(on, log_gamma_var - 2.0 * np.log(np.where(on, lam, 1.0)), -log_gamma_var)
    residual_over_gamma = coords**2 * np.exp(log_factor)[:, None]
    spread = np.sum(omega * np.exp(2.0 * log_sigma_z - log_gamma_var))  # sum_k ||w_k||^2 sigma_k^2 / gamma
    per_sample = (np.sum(residual_over_gamma, axis=0) + spread + coords.shape[0] * log_gamma_var
                  + kl_terms_eq3(mu_z, log_sigma_z))
    return float(np.mean(per_sample))


def minimize_profiled_loss(X, kappa, log_gamma_var, W0=None, seed: int = 0, gtol: float = 1e-10):
    """Numerical minimum of `profiled_loss` over W by L-BFGS from W0 (random N(0, 1) if None).

    Independent of the closed form: used to check it and to measure the gamma -> 0 behaviour.
    Returns (W, value).
    """
    _, _, S = _centred(X)
    kappa = dimension("kappa", kappa)
    d = S.shape[0]
    if W0 is None:
        W0 = np.random.default_rng(seed).standard_normal((d, kappa))
    W0 = finite_array("W0", W0, ndim=2)
    if W0.shape != (d, kappa):
        raise ValueError(f"W0: expected shape {(d, kappa)}, got {W0.shape}")

    log_gamma_var = log_variance("log_gamma_var", log_gamma_var)

    def fun(flat):
        value, grad = _profiled(S, flat.reshape(d, kappa), log_gamma_var)
        return value, grad.ravel()

    with one_blas_thread():
        res = minimize(fun, W0.ravel(), jac=True, method="L-BFGS-B",
                       options={"gtol": positive_scalar("gtol", gtol), "ftol": 1e-15, "maxiter": 20000})
    return res.x.reshape(d, kappa), float(res.fun)


def gamma_to_zero_scan(X, kappa, log_gammas, seed: int = 0) -> dict:
    """Measure Lemma 2's gamma -> 0 limit with the numerical optimizer (no closed form used).

    For each log gamma (in the given order, usually decreasing), minimize `profiled_loss` over W,
    warm-started from the previous optimum (a random start for the first). Returns dict with
    log_gammas (m,), losses (m,), column_sq_norms (m, kappa) sorted decreasing, slope and intercept
    of the least-squares line losses ~ log gamma.
    """
    log_gammas = finite_array("log_gammas", log_gammas, ndim=1)
    if log_gammas.size < 2:
        raise ValueError("log_gammas: need at least two values to fit a slope")
    losses, norms, W = [], [], None
    for log_gamma in log_gammas:
        W, value = minimize_profiled_loss(X, kappa, float(log_gamma), W0=W, seed=seed)
        losses.append(value)
        norms.append(np.sort(np.sum(W**2, axis=0))[::-1])
    losses = np.array(losses)
    slope, intercept = np.polyfit(log_gammas, losses, 1)
    return {"log_gammas": log_gammas, "losses": losses, "column_sq_norms": np.array(norms),
            "slope": float(slope), "intercept": float(intercept)}
