"""The computation behind Figure 6, an illustration (main-text Figure 3): 1-D slices through the VAE
loss, Eq. (3), for fixed gamma. The paper's objects it uses live in theory/ (lemma2, vae_loss).

The VAE is single-layer and linear: encoder mean mu_z(x) = A x + c, shared encoder std at its optimum
for the decoder (Lemma 2's closed form, `lemma2.log_sigma_z_star`), affine decoder W z + b; the loss
is `vae_loss.affine_vae_loss_eq3`. X is (d, n) on a random r-dimensional affine subspace; gamma is the
decoder VARIANCE. A slice is P(s) = P_sparse + s D: the optimal sparse representation sits at s = 0.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize_scalar

from theory._checks import dimension, finite_array, log_variance, positive_scalar
from theory._linalg import random_orthonormal
from theory.lemma2 import log_sigma_z_star, optimal_affine_vae
from theory.vae_loss import affine_vae_loss_eq3

__all__ = [
    "subspace_data",
    "sparse_optimum",
    "twin_direction",
    "random_direction",
    "slice_loss",
    "slice_minima",
    "slice_study",
]

# gamma used to evaluate the gamma -> 0 limit of the optimal affine VAE: far below the data's
# eigenvalues (~0.1 .. 1), far above the round-off eigenvalues (~1e-17) of the rank-deficient covariance.
SPARSE_LIMIT_LOG_GAMMA = math.log(1e-12)
# slice_minima's bracket tolerance on s: far below the grid spacing (>= 1e-3) and the smallest
# minimizer of Figure 6 (~6e-4 at gamma = 1e-3)
MINIMA_XATOL = 1e-10


def subspace_data(d: int, r: int, n: int, seed: int, scales=(0.8, 0.55)) -> np.ndarray:
    """X (d, n) on a random r-dimensional affine subspace: x = offset + U diag(scales) g, g ~ N(0, I_r).

    U is a random orthonormal (d, r) basis (`random_orthonormal`: QR with diag(R) > 0, so the same U
    whatever LAPACK's sign choices) and the offset a random N(0, 0.25 I) point (seeded).
    `scales` (length r) are the standard deviations along the subspace.
    """
    d, r, n = dimension("d", d), dimension("r", r), dimension("n", n)
    if r >= d:
        raise ValueError(f"r: the subspace dimension must be below d = {d}, got {r}")
    scales = finite_array("scales", scales, ndim=1)
    if scales.size != r or (scales <= 0).any():
        raise ValueError(f"scales: expected {r} positive standard deviations, got {scales.tolist()}")
    rng = np.random.default_rng(seed)
    U = random_orthonormal(rng, d, r)
    offset = 0.5 * rng.standard_normal(d)
    return offset[:, None] + U @ (scales[:, None] * rng.standard_normal((r, n)))


def sparse_optimum(X, kappa: int) -> dict:
    """The optimal sparse representation of a linear VAE: the gamma -> 0 limit of `optimal_affine_vae`.

    Decoder W (d, kappa) = [U_r Lambda_r^{1/2}, 0], b = mean of X; encoder A (kappa, d), c (kappa,)
    with A x + c the limit of the ridge mean (W^T W + gamma I)^{-1} W^T (x - b): rows
    w_k^T / ||w_k||^2 on the r active columns, zero rows on the kappa - r inactive ones (their latents
    stay at the prior, sigma = 1). Returns dict(A, c, W, b, active).
    """
    X = finite_array("X", X, ndim=2)
    kappa = dimension("kappa", kappa)
    opt = optimal_affine_vae(X, kappa, SPARSE_LIMIT_LOG_GAMMA)
    W, b = opt["W"], opt["b"]
    col_sq = np.sum(W**2, axis=0)
    A = np.zeros((kappa, X.shape[0]))
    A[opt["active"]] = (W[:, opt["active"]] / col_sq[opt["active"]]).T
    return {"A": A, "c": -A @ b, "W": W, "b": b, "active": opt["active"]}


_KEYS = ("A", "c", "W", "b")


def twin_direction(point: dict, seed: int, perturbation: float = 0.05) -> dict:
    """D = P_twin - P_sparse: the line from the sparse optimum (s = 0) to its sign-flipped twin (s = 1).

    The twin (-A, -c, -W, b) has exactly the same loss (z -> -z leaves Eq. 3 unchanged); adding
    seeded N(0, perturbation^2) noise to its entries makes it only a LOCAL minimum candidate.
    Half way, at s = 1/2, the encoder and decoder weights pass near 0: the collapsed VAE.
    """
    perturbation = positive_scalar("perturbation", perturbation)
    rng = np.random.default_rng(seed)
    twin = {"A": -point["A"], "c": -point["c"], "W": -point["W"], "b": point["b"]}
    return {k: twin[k] + perturbation * rng.standard_normal(np.shape(point[k])) - point[k] for k in _KEYS}


def random_direction(point: dict, seed: int) -> dict:
    """A seeded Gaussian direction in (A, c, W, b) space scaled to the norm of the sparse point."""
    rng = np.random.default_rng(seed)
    D = {k: rng.standard_normal(np.shape(point[k])) for k in _KEYS}
    scale = math.sqrt(sum(np.sum(point[k] ** 2) for k in _KEYS) / sum(np.sum(D[k] ** 2) for k in _KEYS))
    return {k: scale * D[k] for k in _KEYS}


def slice_loss(X, point: dict, direction: dict, s_values, log_gamma_var) -> np.ndarray:
    """Eq. (3) at P(s) = point + s direction for each s, the shared encoder std at its optimum.

    point, direction: dicts with A (kappa, d), c (kappa,), W (d, kappa), b (d,).
    Returns the losses, shape (len(s_values),).
    """
    X = finite_array("X", X, ndim=2)
    s_values = finite_array("s_values", s_values, ndim=1)
    log_gamma_var = log_variance("log_gamma_var", log_gamma_var)
    out = np.empty(s_values.size)
    for j, s in enumerate(s_values):
        A, c, W, b = (point[k] + s * direction[k] for k in _KEYS)
        mu_z = A @ X + c[:, None]
        out[j] = affine_vae_loss_eq3(X, W, b, mu_z, log_sigma_z_star(W, log_gamma_var), log_gamma_var)
    return out


def slice_minima(X, point, direction, s_grid, losses, log_gamma_var, xatol: float = MINIMA_XATOL) -> dict:
    """Local minima of a sampled slice, each refined by a bounded scalar search between the grid
    neighbours of a grid point lower than both. Returns dict(s (m,), loss (m,), global_index)."""
    s_grid = finite_array("s_grid", s_grid, ndim=1)
    losses = finite_array("losses", losses, ndim=1)
    interior = np.nonzero((losses[1:-1] < losses[:-2]) & (losses[1:-1] <= losses[2:]))[0] + 1
    s_min, l_min = [], []
    for j in interior:
        res = minimize_scalar(
            lambda s: float(slice_loss(X, point, direction, [s], log_gamma_var)[0]),
            bounds=(s_grid[j - 1], s_grid[j + 1]), method="bounded", options={"xatol": xatol})
        s_min.append(float(res.x))
        l_min.append(float(res.fun))
    s_min, l_min = np.array(s_min), np.array(l_min)
    return {"s": s_min, "loss": l_min, "global_index": int(np.argmin(l_min)) if l_min.size else -1}


def slice_study(gammas=(1.0, 1e-1, 1e-2, 1e-3), d: int = 6, r: int = 2, kappa: int = 4, n: int = 50,
                seed: int = 0, grid_size: int = 1201) -> dict:
    """Everything Figure 6 plots: for both slices (twin line, s in [-0.5, 1.5]; random direction,
    s in [-1, 1]) and each gamma, the sampled loss, its local minima and its largest |dL/ds| on the
    grid (a finite difference of the samples, for the plot's "steeper walls" only)."""
    X = subspace_data(d, r, n, seed)
    point = sparse_optimum(X, kappa)
    slices = {
        "twin": (twin_direction(point, seed + 1), np.linspace(-0.5, 1.5, grid_size)),
        "random": (random_direction(point, seed + 2), np.linspace(-1.0, 1.0, grid_size)),
    }
    out = {"gammas": np.asarray(gammas, dtype=np.float64), "X": X, "active": point["active"]}
    for name, (direction, s_grid) in slices.items():
        rows = []
        for gamma in gammas:
            log_gamma = math.log(positive_scalar("gammas", gamma))
            losses = slice_loss(X, point, direction, s_grid, log_gamma)
            minima = slice_minima(X, point, direction, s_grid, losses, log_gamma)
            rows.append({
                "loss": losses,
                "minima_s": minima["s"],
                "minima_loss": minima["loss"],
                "global_s": float(minima["s"][minima["global_index"]]),
                "max_abs_slope": float(np.max(np.abs(np.diff(losses) / np.diff(s_grid)))),
            })
        out[name] = {"s": s_grid, "per_gamma": rows}
    return out
