"""Theorem 4's counterexample (supplement section 8.3, Eq. 20-25): d = kappa = 2, r = 1.

Data lie on a curve pi inside the square (0, eps)^2 (Eq. 21); the decoder (20) mixes the curve,
theta = 1 (one active latent row), with the identity, theta = 0 (two active rows). Z is (2, n),
X is (2, n); t is the logistic function; costs use g = I_inf (zero reconstruction forced, g(0) = 0).

The curve pi (our concrete choice; the paper leaves pi arbitrary). For eps > 0 and 0 < C < 1,
    pi(s) = 0.9 eps (cos a(s), sin a(s)),   s in [0, 1],
a quarter-circle arc of radius 0.9 eps with an angle a(s) that is piecewise linear and strictly
increasing: a(s) = (pi/2)(0.1 + 0.8 (s - C)/(1 - C)) on [C, 1] (the data segment spans the angles
9 deg .. 81 deg whatever C is), and a(s) = (pi/2)(0.05 + 0.05 s / C) on [0, C). So pi is
injective on [0, 1], continuous, and maps all of [0, 1] (in particular [C, 1]) into (0, eps)^2.

Erratum in (23), carried into (25). The supplement bounds (1/n)||z_1||^2 >= C^2 at theta = 1.
With the logistic t, exact reconstruction forces z_1 = t^{-1}(s) = logit(s) for s = pi^{-1}(x) in
[C, 1) (t never reaches 1), so the bound that holds is (1/n)||z_1||^2 >= logit(C)^2 when C >= 1/2
(sharp: all s at C) and only >= 0 when C < 1/2 (s = 1/2 lies in [C, 1) and gives z_1 = 0). For
C >= 1/2, the printed C^2 <= logit(C)^2 exactly when C >= 0.65905 (`PAPER_BOUND_THRESHOLD`, the
root of logit(c) = c): the printed bound holds only there. Accordingly the normalisation of (25)
must be h(logit(C)^2) = 1, not h(C^2) = 1. The proof survives: what it needs is that
(1/n)||z_1||^2 does not shrink with eps, which holds for any data not all at s = 1/2.

The range of eps. Section 8.3 asks pi to map into the unit square [0, 1]^2, so the theorem's
setting is eps <= 1. The functions here accept any eps > 0 (the crossover search runs on log eps
over a wide range); a crossover eps* > 1 means that theta = 0 is the cheaper solution at EVERY eps
of the theorem's setting, and the crossing itself happens only once the data leave the unit square.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq, minimize, minimize_scalar
from scipy.special import expit
from scipy.special import logit as _logit

from theory._checks import dimension, finite_array, finite_scalar, positive_scalar
from theory._linalg import one_blas_thread
from theory.penalties import Penalty

__all__ = [
    "PAPER_BOUND_THRESHOLD",
    "RADIUS_FRACTION",
    "logistic",
    "logit",
    "pi_map",
    "pi_inverse",
    "decoder_eq20",
    "sample_data_eq21",
    "sparse_code_theta1",
    "row_energy_theta1_lower_bound",
    "cost_theta1",
    "cost_theta0",
    "crossover_eps",
    "crossover_eps_closed_form",
    "unconstrained_cost_identity_g",
    "unconstrained_cost_identity_g_theta1",
]

RADIUS_FRACTION = 0.9  # the arc pi has radius 0.9 eps, so it stays strictly inside (0, eps)^2
_A_LOW, _A_C, _A_HIGH = 0.05, 0.1, 0.9  # a(0), a(C), a(1) as fractions of pi/2
# Root of logit(c) = c (brentq to 1e-15): above it the paper's bound C^2 <= logit(C)^2 holds.
PAPER_BOUND_THRESHOLD = 0.6590460684074066


def _check_c(C) -> float:
    C = positive_scalar("C", C)
    if C >= 1:
        raise ValueError(f"C: must satisfy 0 < C < 1, got {C!r}")
    return C


def _check_theorem_c(C) -> float:
    """C for Theorem 4's conclusion (the crossover eps*): 1/2 < C < 1 (the erratum in (23))."""
    C = _check_c(C)
    if C <= 0.5:
        raise ValueError(
            f"C: Theorem 4 needs C > 1/2, got {C!r}: for C <= 1/2 the data segment [C, 1) contains "
            "t = 1/2, whose code z_1 = logit(1/2) = 0, so (23) bounds the theta = 1 cost by nothing")
    return C


def _as_h(h):
    if isinstance(h, Penalty):
        return h
    if callable(h):
        return lambda u: np.asarray(h(np.asarray(u, dtype=np.float64)), dtype=np.float64)
    raise ValueError(f"h: expected a Penalty or a callable, got {type(h).__name__}")


def logistic(z) -> np.ndarray:
    """t(z) = 1 / (1 + exp(-z)), the squashing function t: R -> (0, 1) of Eq. (20)."""
    return expit(finite_array("z", z))


def logit(t) -> np.ndarray:
    """t^{-1}(s) = log(s / (1 - s)) for s in (0, 1)."""
    s = finite_array("t", t)
    if ((s <= 0) | (s >= 1)).any():
        raise ValueError("t: logit is defined on the open interval (0, 1)")
    return _logit(s)


def _angle(s: np.ndarray, C: float) -> np.ndarray:
    upper = _A_C + (_A_HIGH - _A_C) * (s - C) / (1.0 - C)
    lower = _A_LOW + (_A_C - _A_LOW) * s / C
    return 0.5 * math.pi * np.where(s >= C, upper, lower)


def pi_map(t, eps, C) -> np.ndarray:
    """pi(t) of Eq. (20)-(21): the arc of the module docstring. t in [0, 1], any shape -> (2, *shape)."""
    s = finite_array("t", t)
    eps = positive_scalar("eps", eps)
    C = _check_c(C)
    if ((s < 0) | (s > 1)).any():
        raise ValueError("t: pi is defined on [0, 1]")
    angle = _angle(s, C)
    return RADIUS_FRACTION * eps * np.stack([np.cos(angle), np.sin(angle)])


def pi_inverse(x, eps, C, rtol: float = 1e-9) -> np.ndarray:
    """pi^{-1}: a point (2, ...) on the arc back to t in [0, 1] (shape (...)).

    Raises ValueError when x is off the curve by more than rtol relative in radius or angle.
    """
    x = finite_array("x", x)
    eps = positive_scalar("eps", eps)
    C = _check_c(C)
    if x.ndim == 0 or x.shape[0] != 2:
        raise ValueError(f"x: expected shape (2, ...), got {x.shape}")
    radius = np.hypot(x[0], x[1])
    if (np.abs(radius - RADIUS_FRACTION * eps) > rtol * eps).any():
        raise ValueError("x: not on the curve pi (wrong distance from the origin)")
    fraction = np.arctan2(x[1], x[0]) / (0.5 * math.pi)
    if ((fraction < _A_LOW - rtol) | (fraction > _A_HIGH + rtol)).any():
        raise ValueError("x: not on the curve pi (angle outside the arc)")
    upper = C + (1.0 - C) * (fraction - _A_C) / (_A_HIGH - _A_C)
    lower = C * (fraction - _A_LOW) / (_A_C - _A_LOW)
    return np.clip(np.where(fraction >= _A_C, upper, lower), 0.0, 1.0)


def decoder_eq20(Z, theta, eps, C) -> np.ndarray:
    """Eq. (20): mu_x(z; theta) = theta pi(t(z_1)) + (1 - theta) z.  Z (2, n) -> (2, n), theta in [0, 1]."""
    Z = finite_array("Z", Z, ndim=2)
    if Z.shape[0] != 2:
        raise ValueError(f"Z: expected shape (2, n), got {Z.shape}")
    theta = finite_scalar("theta", theta)
    if not 0.0 <= theta <= 1.0:
        raise ValueError(f"theta: must lie in Theta = [0, 1], got {theta!r}")
    return theta * pi_map(expit(Z[0]), eps, C) + (1.0 - theta) * Z


def sample_data_eq21(n, eps, C, seed, return_latent: bool = False):
    """Eq. (21): x^(i) = pi(t(z_gt^(i))) with t(z_gt) ~ Uniform[C, 1), so z_gt = logit(s).

    Returns X (2, n); with return_latent also s = t(z_gt) (n,). The draw of s depends only on
    (n, C, seed), so X scales exactly linearly with eps for a fixed seed.
    """
    n = dimension("n", n)
    eps = positive_scalar("eps", eps)
    C = _check_c(C)
    s = np.random.default_rng(seed).uniform(C, 1.0, size=n)
    X = pi_map(s, eps, C)
    return (X, s) if return_latent else X


def sparse_code_theta1(X, eps, C) -> np.ndarray:
    """The unique Z (2, n) with zero reconstruction at theta = 1 and z_2 = 0: z_1 = logit(pi^{-1}(x)).

    z_2 does not enter the decoder at theta = 1 and h is non-decreasing, so z_2 = 0 is optimal.
    """
    X = finite_array("X", X, ndim=2)
    s = pi_inverse(X, eps, C)
    if ((s <= 0) | (s >= 1)).any():
        raise ValueError("X: a point maps to t = 0 or 1, which the logistic t never reaches")
    return np.stack([_logit(s), np.zeros_like(s)])


def row_energy_theta1_lower_bound(C) -> float:
    """inf over s in [C, 1) of logit(s)^2: the correct bound on (1/n)||z_1||^2 in (23) (see erratum)."""
    C = _check_c(C)
    return float(_logit(C)) ** 2 if C >= 0.5 else 0.0


def cost_theta1(h, X, eps, C) -> float:
    """Eq. (23), exact: min over Z of (22) at theta = 1 with zero reconstruction (g(0) = 0).

    = (1/2) [h(0) + h((1/n)||z_1||^2)] with z_1 forced (`sparse_code_theta1`). Raw h, not the
    normalisation h(0) = 0, h(C^2) = 1 of (25) (corrected: h(logit(C)^2) = 1, see the erratum in
    the module docstring): an increasing affine change of h rescales both costs alike and moves no
    crossover. For h = log, h(0) = -inf and the cost is -inf.
    """
    h = _as_h(h)
    Z = sparse_code_theta1(X, eps, C)
    energies = np.mean(Z**2, axis=1)  # (1/n)||z_k||^2, k = 1, 2
    return float(0.5 * np.sum(h(energies)))


def cost_theta0(h, X) -> float:
    """Eq. (24), exact: at theta = 0 the decoder is the identity, so zero reconstruction forces
    Z = X and the cost is (1/2) sum_k h((1/n)||x_k||^2) (g(0) = 0; raw h, as in cost_theta1)."""
    h = _as_h(h)
    X = finite_array("X", X, ndim=2)
    if X.shape[0] != 2:
        raise ValueError(f"X: expected shape (2, n), got {X.shape}")
    return float(0.5 * np.sum(h(np.mean(X**2, axis=1))))


def _energies_unit_eps(C, n, seed):
    X1, s = sample_data_eq21(n, 1.0, C, seed, return_latent=True)
    data_energy = np.mean(X1**2, axis=1)  # (1/n)||x_k||^2 at eps = 1; scales as eps^2
    code_energy = float(np.mean(_logit(s) ** 2))  # (1/n)||z_1||^2, independent of eps
    return data_energy, code_energy


def crossover_eps(h, C, n: int = 256, seed: int = 0, log_eps_range=(-150.0, 150.0)) -> float:
    """The eps below which the non-sparse theta = 0 solution is strictly cheaper (Eq. 23-25).

    Data from `sample_data_eq21(n, eps, C, seed)`; only their scale depends on eps. cost_theta0
    is non-decreasing in eps (h non-decreasing) and cost_theta1 does not depend on eps, so
    {eps : cost_theta0 < cost_theta1} is an interval (0, eps*): we return eps*, the root of
    cost_theta0 = cost_theta1 found by brentq on log eps (relative accuracy ~1e-12).
    Never crossing: 0.0 when theta = 1 is at least as cheap at every eps in the range (h = log:
    cost_theta1 = -inf; the indicator: 1/2 against 1), math.inf when theta = 0 is cheaper at every
    eps in the range. eps* > 1 (u, sqrt and sqrt(u + c) - sqrt(c), c = 0.01, at C = 0.7) lies outside the
    theorem's setting eps <= 1 (module docstring): there theta = 0 wins at every admissible eps.
    C <= 1/2 is refused (ValueError): the theorem needs C > 1/2 (the erratum in (23)).
    """
    h = _as_h(h)
    n = dimension("n", n)
    data_energy, code_energy = _energies_unit_eps(_check_theorem_c(C), n, seed)
    sparse_cost = float(0.5 * np.sum(h(np.array([0.0, code_energy]))))
    if sparse_cost == -math.inf:
        return 0.0

    def gap(log_eps: float) -> float:
        # cost_theta0 - cost_theta1 at eps = exp(log_eps); exp keeps tiny eps^2 without underflow
        with np.errstate(under="ignore"):
            energies = np.exp(2.0 * log_eps + np.log(data_energy))
        return float(0.5 * np.sum(h(energies))) - sparse_cost

    low, high = (float(v) for v in log_eps_range)
    if gap(low) >= 0:
        return 0.0
    if gap(high) < 0:
        return math.inf
    root = brentq(gap, low, high, xtol=1e-13, rtol=1e-14, maxiter=500)
    return float(np.exp(root))


def crossover_eps_closed_form(name: str, C, n: int = 256, seed: int = 0, c: float | None = None) -> float:
    """Closed-form eps* for linear, sqrt and log_shift(c) h, from the same data as `crossover_eps`.

    With m_k = (1/n)||x_k||^2 at eps = 1 and u = (1/n)||z_1||^2 (cost_theta1 = (h(0) + h(u))/2):
      linear:       eps^2 (m_1 + m_2) = u;
      sqrt:         eps (sqrt m_1 + sqrt m_2) = sqrt u (unbounded h'(0+), yet a crossover);
      log_shift(c): (eps^2 m_1 + c)(eps^2 m_2 + c) = c (u + c), a quadratic in E = eps^2:
                    m_1 m_2 E^2 + c (m_1 + m_2) E - c u = 0, E = 2 c u / (c(m_1+m_2) + sqrt(disc)).
    """
    (m1, m2), u = _energies_unit_eps(_check_theorem_c(C), dimension("n", n), seed)
    if name == "linear":
        return math.sqrt(u / (m1 + m2))
    if name == "sqrt":
        return math.sqrt(u) / (math.sqrt(m1) + math.sqrt(m2))
    if name == "log_shift":
        c = positive_scalar("c", c)
        disc = (c * (m1 + m2)) ** 2 + 4.0 * m1 * m2 * c * u
        return math.sqrt(2.0 * c * u / (c * (m1 + m2) + math.sqrt(disc)))
    raise ValueError(f"name: no closed form for {name!r}; choose linear, sqrt or log_shift")


def unconstrained_cost_identity_g(h, X) -> dict:
    """min over Z of (22) at theta = 0 with g = identity, i.e. reconstruction no longer forced.

    L = (1/(2n)) ||X - Z||_F^2 + (1/2) sum_k h((1/n)||z_k||^2). The rows separate; for a fixed
    norm the best z_k points along x_k, and scaling past x_k costs in both terms, so z_k = a_k x_k
    with a_k in [0, 1] minimizing (1/2)[(1 - a)^2 m_k + h(a^2 m_k)], m_k = (1/n)||x_k||^2
    (a 2001-point grid on [0, 1], then a bounded scalar search around the best grid point).
    Returns dict(cost, shrink (2,), recon_mse = (1/(dn)) ||X - Z||^2, Z).

    What it shows: every h with finite h(0) pays at most (1/2)[sum_k m_k + 2 h(0)] for Z = 0,
    i.e. h(0) + O(eps^2), below the zero-reconstruction cost (1/2)(h(0) + h(u)) of the sparse
    theta = 1 solution once eps is small: with g = identity neither exact solution is optimal
    (not even for the indicator), and the optimum gives up reconstruction. The theorem's
    comparison is meaningful for g = I_inf (g(0) = 0, g(u > 0) = inf), the gamma -> 0 limit (12),
    which is what cost_theta0 / cost_theta1 implement. `unconstrained_cost_identity_g_theta1`
    shows the same at theta = 1.
    """
    h = _as_h(h)
    X = finite_array("X", X, ndim=2)
    if X.shape[0] != 2:
        raise ValueError(f"X: expected shape (2, n), got {X.shape}")
    grid = np.linspace(0.0, 1.0, 2001)
    shrink = np.empty(2)
    row_costs = np.empty(2)
    for k, m in enumerate(np.mean(X**2, axis=1)):
        def row_cost(a, m=m):
            a = np.asarray(a, dtype=np.float64)
            return 0.5 * ((1.0 - a) ** 2 * m + h(a**2 * m))

        values = row_cost(grid)
        best = int(np.argmin(values))
        a_best, f_best = grid[best], float(values[best])
        if np.isfinite(f_best):
            lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)]
            res = minimize_scalar(lambda a: float(row_cost(a)), bounds=(lo, hi), method="bounded",
                                  options={"xatol": 1e-12})
            if res.fun < f_best:
                a_best, f_best = float(res.x), float(res.fun)
        shrink[k], row_costs[k] = a_best, f_best
    Z = shrink[:, None] * X
    recon_mse = float(np.sum((X - Z) ** 2) / X.size)
    return {"cost": float(np.sum(row_costs)), "shrink": shrink, "recon_mse": recon_mse, "Z": Z}


def unconstrained_cost_identity_g_theta1(h: Penalty, X, eps, C) -> dict:
    """min over Z of (22) at theta = 1 with g = identity (reconstruction not forced).

    z_2 only adds h, so z_2 = 0; over z_1 (n,) the cost is
        L(z_1) = (1/(2n)) sum_i ||x_i - pi(t(z_1i))||^2 + (1/2)[h(0) + h((1/n)||z_1||^2)].
    The least of: Z = 0, and L-BFGS (analytic gradient, needs a Penalty for h') started from the
    exact code logit(pi^{-1}(x)) and from a tenth of it. Returns dict(cost, recon_mse, Z).
    As at theta = 0 (`unconstrained_cost_identity_g`), Z = 0 already costs h(0) + O(eps^2): for
    small eps the optimum trades the exact code for a smaller latent energy.
    """
    if not isinstance(h, Penalty):
        raise ValueError(f"h: expected a Penalty (its derivative is needed), got {type(h).__name__}")
    X = finite_array("X", X, ndim=2)
    eps = positive_scalar("eps", eps)
    C = _check_c(C)
    exact = sparse_code_theta1(X, eps, C)[0]
    n = X.shape[1]
    h0 = float(h(0.0))
    slope = 0.5 * math.pi * np.array([(_A_C - _A_LOW) / C, (_A_HIGH - _A_C) / (1.0 - C)])

    def cost_and_grad(z1: np.ndarray) -> tuple[float, np.ndarray]:
        s = expit(z1)
        angle = _angle(s, C)
        residual = RADIUS_FRACTION * eps * np.stack([np.cos(angle), np.sin(angle)]) - X
        energy = float(np.mean(z1**2))
        value = 0.5 * np.sum(residual**2) / n + 0.5 * (h0 + float(h(energy)))
        dpi_ds = RADIUS_FRACTION * eps * np.stack([-np.sin(angle), np.cos(angle)]) * slope[(s >= C).astype(int)]
        grad = np.sum(residual * dpi_ds, axis=0) * s * (1.0 - s) / n
        if energy > 0:
            grad = grad + float(h.derivative(energy)) * z1 / n
        return value, grad

    zero_recon = pi_map(np.full(n, 0.5), eps, C)
    best_z1 = np.zeros(n)
    best = 0.5 * np.sum((X - zero_recon) ** 2) / n + h0  # Z = 0: t(0) = 1/2, both rows at h(0)
    if best > -math.inf:
        for start in (exact, 0.1 * exact):
            with one_blas_thread():
                res = minimize(cost_and_grad, start, jac=True, method="L-BFGS-B", options={"gtol": 1e-12})
            if res.fun < best:
                best, best_z1 = float(res.fun), res.x
    Z = np.stack([best_z1, np.zeros(n)])
    recon_mse = float(np.mean((X - decoder_eq20(Z, 1.0, eps, C)) ** 2))
    return {"cost": float(best), "recon_mse": recon_mse, "Z": Z}
