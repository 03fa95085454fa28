"""The computation behind Figures 5 and 10: Theorem 4's counterexample between its endpoints. The
paper compares theta = 0 and theta = 1 only (Eq. 23, 24, in theory/theorem4.py); the cost along
theta in [0, 1] (Eq. 22 with zero reconstruction) and gradient descent on the decoder (20) are this
project's exploration. Conventions of theory/theorem4.py: X, Z are (2, n); the decoder is (20) with
the curve pi and the logistic t of that module; row energies u_k = (1/n)||z_k||^2.
"""
from __future__ import annotations

import math

import numpy as np

from theory._checks import dimension, finite_array, finite_scalar, positive_scalar
from theory.penalties import Penalty
from theory.theorem4 import decoder_eq20, logistic, pi_map, sparse_code_theta1

__all__ = [
    "pi_map_derivative",
    "zero_reconstruction_codes",
    "path_cost",
    "cost_along_theta",
    "objective_penalized",
    "gradient_penalized",
    "descend",
]


def _arc_slopes(eps, C) -> tuple[float, float]:
    """The two slopes a'(s) of the angle of pi (on [0, C) and on [C, 1]), read off pi_map as the exact
    secants of its two linear pieces (a thin adapter: theorem4 does not export the derivative)."""
    def angle(t):
        x1, x2 = pi_map(t, eps, C)
        return float(np.arctan2(x2, x1))

    return (angle(C) - angle(0.0)) / C, (angle(1.0) - angle(C)) / (1.0 - C)


def pi_map_derivative(s, eps, C, slopes: tuple[float, float] | None = None) -> np.ndarray:
    """d pi / ds for the curve of theory/theorem4.py, shape (2, *s.shape).

    That curve is an arc of radius rho = |pi(s)| whose angle a(s) is linear on [0, C) and on [C, 1],
    so pi'(s) = a'(s) (-pi_2(s), pi_1(s)). `slopes` (from `_arc_slopes`) may be passed to skip
    recomputing the two constant slopes in a loop.
    """
    s = finite_array("s", s)
    slope_low, slope_high = _arc_slopes(eps, C) if slopes is None else slopes
    slope = np.where(s >= C, slope_high, slope_low)
    point = pi_map(s, eps, C)
    return slope * np.stack([-point[1], point[0]])


def _bisect(F, lo, hi, iterations: int = 64):
    """Vectorized bisection of F on brackets [lo, hi] with F(lo), F(hi) of opposite sign (or zero)."""
    f_lo = F(lo)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        f_mid = F(mid)
        left = np.sign(f_mid) == np.sign(f_lo)
        lo = np.where(left, mid, lo)
        f_lo = np.where(left, f_mid, f_lo)
        hi = np.where(left, hi, mid)
    return 0.5 * (lo + hi)


def zero_reconstruction_codes(X, theta, eps, C, grid_size: int = 1201) -> list[np.ndarray]:
    """Every code z with mu_x(z; theta) = x under Eq. (20), per sample, for 0 < theta < 1.

    Row 1 of (20) is a 1-D equation F(z1) = theta pi_1(t(z1)) + (1 - theta) z1 - x1 = 0; every root
    lies in |z1| <= L = (|x1| + theta |pi|) / (1 - theta). Roots are bracketed on a sinh-spaced grid
    of [-L, L] (fine near 0, where t varies, coarse far out, where t is flat) and bisected to
    float64 precision; row 2 then gives z2 = (x2 - theta pi_2(t(z1))) / (1 - theta).
    Returns a list of n arrays of shape (2, m_i), m_i >= 1 roots of sample i.
    """
    X = finite_array("X", X, ndim=2)
    theta = finite_scalar("theta", theta)
    if not 0.0 < theta < 1.0:
        raise ValueError(f"theta: zero_reconstruction_codes needs 0 < theta < 1, got {theta!r}")
    n = X.shape[1]
    radius = float(np.max(np.hypot(*pi_map(np.array([0.0, 1.0]), eps, C))))
    bound = (np.abs(X[0]) + theta * radius) / (1.0 - theta) * (1 + 1e-9) + 1e-300
    u = np.linspace(-1.0, 1.0, grid_size)
    grid = np.sinh(u[None, :] * np.arcsinh(bound)[:, None])  # (n, grid): spans [-L_i, L_i]

    def F(z1, x1):
        return theta * pi_map(logistic(z1), eps, C)[0] + (1.0 - theta) * z1 - x1

    values = F(grid, X[0][:, None])
    change = np.sign(values[:, :-1]) * np.sign(values[:, 1:]) <= 0
    rows, cols = np.nonzero(change)
    z1 = _bisect(lambda z: F(z, X[0][rows]), grid[rows, cols], grid[rows, cols + 1])
    # a root exactly on a grid point is bracketed twice (the two cells it closes): keep one
    z2 = (X[1][rows] - theta * pi_map(logistic(z1), eps, C)[1]) / (1.0 - theta)
    codes = []
    for i in range(n):
        mine = rows == i
        pts = np.stack([z1[mine], z2[mine]])
        if pts.shape[1] > 1:
            order = np.argsort(pts[0])
            pts = pts[:, order]
            keep = np.concatenate([[True], np.diff(pts[0]) > 1e-12 * (1 + np.abs(pts[0, 1:]))])
            pts = pts[:, keep]
        if pts.shape[1] == 0:
            raise ValueError("theta: no zero-reconstruction code found (grid too coarse)")
        codes.append(pts)
    return codes


def _weighted_choice(codes, weights) -> np.ndarray:
    """Per sample, the root minimizing w1 z1^2 + w2 z2^2. Returns Z (2, n)."""
    return np.stack([c[:, np.argmin(weights[0] * c[0] ** 2 + weights[1] * c[1] ** 2)] for c in codes], axis=1)


def _row_costs(h: Penalty, Z) -> float:
    """(1/d) sum_k h((1/n)||z_k||^2) with d = 2: the latent part of Eq. (22)."""
    return float(0.5 * np.sum(h(np.mean(Z**2, axis=1))))


def _nearest_choice(codes, Z_previous) -> np.ndarray:
    """Per sample, the root closest to a previous code (continuation along theta). Returns Z (2, n)."""
    return np.stack([c[:, np.argmin(np.sum((c - Z_previous[:, [i]]) ** 2, axis=0))]
                     for i, c in enumerate(codes)], axis=1)


def _best_choice(h: Penalty, codes, iterations: int = 20, Z_previous=None) -> tuple[float, np.ndarray]:
    """Pick one zero-reconstruction code per sample, minimizing (1/2) sum_k h(u_k) (see path_cost).
    Z_previous (2, n), if given, adds a start: the roots nearest to it."""
    if all(c.shape[1] == 1 for c in codes):
        Z = np.concatenate(codes, axis=1)
        return _row_costs(h, Z), Z
    best = None
    starts = [_weighted_choice(codes, np.ones(2)), np.stack([c[:, np.argmax(c[0])] for c in codes], axis=1)]
    if Z_previous is not None:
        starts.append(_nearest_choice(codes, Z_previous))
    for Z in starts:
        for _ in range(iterations):
            energies = np.mean(Z**2, axis=1)
            if np.any(energies == 0):
                break
            weights = h.derivative(energies)
            if not np.all(weights > 0):  # a flat h (the indicator): every choice costs the same
                break
            Z_next = _weighted_choice(codes, weights)
            if np.array_equal(Z_next, Z):
                break
            Z = Z_next
        cost = _row_costs(h, Z)
        if best is None or cost < best[0]:
            best = (cost, Z)
    return best


def path_cost(h: Penalty, X, theta, eps, C) -> tuple[float, np.ndarray]:
    """min over Z of Eq. (22) at this theta with zero reconstruction (g = I_inf, g(0) = 0).

    theta = 0: Z = X (Eq. 24). theta = 1: the sparse code, z2 = 0 (Eq. 23). 0 < theta < 1: every
    sample has a finite set of zero-reconstruction codes (`zero_reconstruction_codes`); choosing one
    per sample is combinatorial, so we use majorize-minimize: h is concave, so
    h(u) <= h(u0) + h'(u0)(u - u0), and picking per sample the root that minimizes
    h'(u1) z1^2 + h'(u2) z2^2 never increases (1/2) sum_k h(u_k). Started from the smallest-norm
    roots and from the largest-z1 roots, iterated to a fixed point, best of the two kept. Exact when
    every sample has a single root (most theta); otherwise an upper bound on the minimum.
    Returns (cost, Z (2, n)).
    """
    X = finite_array("X", X, ndim=2)
    theta = finite_scalar("theta", theta)
    if theta == 0.0:
        return _row_costs(h, X), X.copy()
    if theta == 1.0:
        Z = sparse_code_theta1(X, eps, C)
        return _row_costs(h, Z), Z
    return _best_choice(h, zero_reconstruction_codes(X, theta, eps, C))


def cost_along_theta(penalties: dict, X, thetas, eps, C) -> dict:
    """path_cost of every penalty at each theta of `thetas` (1-D, in [0, 1]), sharing the root finding.

    In the several-roots regime the majorize-minimize of `path_cost` gets a third start, the roots
    nearest to the previous theta's choice (continuation), so the curve follows a branch when it pays.
    Returns {name: costs (len(thetas),)} plus "max_roots": the largest number of zero-reconstruction
    codes of any sample at each theta (1 means the minimum over Z is exact and unique).
    """
    thetas = finite_array("thetas", thetas, ndim=1)
    if ((thetas < 0) | (thetas > 1)).any():
        raise ValueError("thetas: must lie in Theta = [0, 1]")
    X = finite_array("X", X, ndim=2)
    out = {name: np.empty(thetas.size) for name in penalties}
    previous = {name: None for name in penalties}  # each penalty's choice at the previous theta
    max_roots = np.ones(thetas.size, dtype=int)
    for j, theta in enumerate(thetas):
        if 0.0 < theta < 1.0:
            codes = zero_reconstruction_codes(X, theta, eps, C)
            max_roots[j] = max(c.shape[1] for c in codes)
            for name, h in penalties.items():
                out[name][j], previous[name] = _best_choice(h, codes, Z_previous=previous[name])
        else:
            for name, h in penalties.items():
                out[name][j], previous[name] = path_cost(h, X, theta, eps, C)
    out["max_roots"] = max_roots
    return out


# --- gradient descent on (22) with g(u) = weight * u -------------------------------------------

def objective_penalized(h: Penalty, X, Z, theta, eps, C, weight) -> float:
    """Eq. (22) with g(u) = weight * u, a penalty standing in for g = I_inf (d = 2):
    weight * (1/(dn)) ||X - mu_x(Z; theta)||^2 + (1/d) sum_k h((1/n)||z_k||^2)."""
    recon = decoder_eq20(Z, theta, eps, C)
    mse = float(np.sum((X - recon) ** 2) / X.size)
    return weight * mse + _row_costs(h, Z)


def gradient_penalized(h: Penalty, X, Z, theta, eps, C, weight, slopes=None) -> tuple[np.ndarray, float]:
    """Analytic gradient of `objective_penalized` with respect to (Z, theta).

    With r = mu_x - x and s = t(z1): d/dZ of the data term is (2 weight / (dn)) J^T r, where
    dmu/dz1 = theta pi'(s) s (1 - s) + (1 - theta) e1 and dmu/dz2 = (1 - theta) e2; the penalty adds
    (1/d) h'(u_k) (2 / n) z_k; d/dtheta = (2 weight / (dn)) sum_i r_i . (pi(s_i) - z_i).
    Returns (dZ (2, n), dtheta). Needs every row energy > 0 (h' may be infinite at 0).
    """
    d, n = X.shape
    s = logistic(Z[0])
    curve = pi_map(s, eps, C)
    resid = theta * curve + (1.0 - theta) * Z - X
    scale = 2.0 * weight / (d * n)
    tangent = theta * pi_map_derivative(s, eps, C, slopes) * (s * (1.0 - s))
    dZ = np.empty_like(Z)
    dZ[0] = scale * (np.sum(resid * tangent, axis=0) + (1.0 - theta) * resid[0])
    dZ[1] = scale * (1.0 - theta) * resid[1]
    energies = np.mean(Z**2, axis=1)
    dZ += (1.0 / d) * h.derivative(energies)[:, None] * (2.0 / n) * Z
    return dZ, scale * float(np.sum(resid * (curve - Z)))


def descend(h: Penalty, X, Z0, theta0, eps, C, weight, steps: int = 2000, lr: float = 1e-2,
            record_every: int = 10) -> dict:
    """Projected Adam on (Z, theta): an Adam step (beta1 0.9, beta2 0.999, the optimizer of the
    paper's experiments) with the rate decaying linearly from lr to 0, then theta clipped to
    Theta = [0, 1], so both ends can be reached exactly.

    Deterministic given its inputs. Records theta, the row energies u_k = (1/n)||z_k||^2 and the
    objective every `record_every` steps. Returns dict(step, theta, energies (T, 2), objective, Z,
    theta_final).
    """
    X = finite_array("X", X, ndim=2)
    Z = finite_array("Z0", Z0, ndim=2).copy()
    theta = finite_scalar("theta0", theta0)
    if not 0.0 <= theta <= 1.0:
        raise ValueError(f"theta0: must lie in Theta = [0, 1], got {theta!r}")
    if Z.shape != X.shape:
        raise ValueError(f"Z0: expected shape {X.shape}, got {Z.shape}")
    weight = positive_scalar("weight", weight)
    steps = dimension("steps", steps)
    lr = positive_scalar("lr", lr)
    record_every = dimension("record_every", record_every)
    m_Z, v_Z = np.zeros_like(Z), np.zeros_like(Z)
    m_t = v_t = 0.0
    beta1, beta2, tiny = 0.9, 0.999, 1e-12
    slopes = _arc_slopes(eps, C)
    record = {"step": [], "theta": [], "energies": [], "objective": []}
    for step in range(steps + 1):
        if step % record_every == 0 or step == steps:
            record["step"].append(step)
            record["theta"].append(theta)
            record["energies"].append(np.mean(Z**2, axis=1))
            record["objective"].append(objective_penalized(h, X, Z, theta, eps, C, weight))
        if step == steps:
            break
        gZ, gt = gradient_penalized(h, X, Z, theta, eps, C, weight, slopes)
        m_Z = beta1 * m_Z + (1 - beta1) * gZ
        v_Z = beta2 * v_Z + (1 - beta2) * gZ**2
        m_t = beta1 * m_t + (1 - beta1) * gt
        v_t = beta2 * v_t + (1 - beta2) * gt**2
        corr1, corr2 = 1 - beta1 ** (step + 1), 1 - beta2 ** (step + 1)
        rate = lr * (1.0 - step / steps)  # linear decay to 0: lets Adam settle instead of jittering
        Z = Z - rate * (m_Z / corr1) / (np.sqrt(v_Z / corr2) + tiny)
        theta = min(1.0, max(0.0, theta - rate * (m_t / corr1) / (math.sqrt(v_t / corr2) + tiny)))
    return {
        "step": np.array(record["step"]),
        "theta": np.array(record["theta"]),
        "energies": np.array(record["energies"]),
        "objective": np.array(record["objective"]),
        "Z": Z,
        "theta_final": theta,
    }
