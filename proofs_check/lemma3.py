"""Supplement section 8.2 (proof of Lemma 3) re-derived step by step with sympy.

Conventions: gamma is the decoder VARIANCE; R = (1/n) sum_i E_q||x_i - mu_x(z)||^2 > 0 is the mean
expected reconstruction error; Z (kappa x n) has rows z_k and columns z^(i) = mu_z(x_i).
"""
from __future__ import annotations

import sympy as sp

from proofs_check.steps import Step, gaussian_expectation, proved, require, require_zero, step

STEPS: list[Step] = []

gamma = sp.Symbol("gamma", positive=True)  # decoder variance
d = sp.Symbol("d", positive=True, integer=True)
R = sp.Symbol("R", positive=True)  # (1/n) sum_i E_q||x_i - mu_x(z)||^2


def gamma_terms(R_value, d_value):
    """The gamma-dependent part of (3): R/gamma + d log gamma."""
    return R_value / gamma + d_value * sp.log(gamma)


# The formulas the steps confirm, one function each, so that a wrong one can be fed to a step
# (tests/proofs_mutations.py) and the step seen to fail.

def sigma_only_term(variance) -> sp.Expr:
    """The encoder-variance terms of (3) for one latent and sample: sigma^2 - log sigma^2."""
    return variance - sp.log(variance)


def eq17(R_value, mu_sq, n: int) -> sp.Expr:
    """Claimed (17): d log gamma* + (1/n) sum_i ||mu_i||^2 with gamma* = R/d."""
    return d * sp.log(R_value / d) + sum(mu_sq) / n


def latent_draw(mu_k, s, noise_k) -> sp.Expr:
    """z_k = mu_k + s eps_k: the reparameterized draw from q(z|x) = N(mu, s^2 I)."""
    return mu_k + s * noise_k


def sum_over_columns(Z: sp.Matrix) -> sp.Expr:
    """sum_i ||z^(i)||^2, the columns z^(i) = mu_z(x_i) of Z."""
    return sum(sum(Z[k, i] ** 2 for k in range(Z.shape[0])) for i in range(Z.shape[1]))


def sum_over_rows(Z: sp.Matrix) -> sp.Expr:
    """sum_k ||z_k||^2, the rows z_k of Z."""
    return sum(sum(Z[k, i] ** 2 for i in range(Z.shape[1])) for k in range(Z.shape[0]))


def eq19(mse, rows_sq, n: int) -> sp.Expr:
    """Claimed (19): log(mse) + (1/d) sum_k log((1/n)||z_k||^2), rows_sq the ||z_k||^2."""
    return sp.log(mse) + sum(sp.log(q / n) for q in rows_sq) / d


def derive_gamma_star():
    """Eq. (16): the unique stationary point of R/gamma + d log gamma, checked to be the global min."""
    f = gamma_terms(R, d)
    stationary = sp.solve(sp.diff(f, gamma), gamma)
    require(stationary == [R / d], f"one stationary point R/d, got {stationary}")
    gamma_star = stationary[0]
    curvature = sp.simplify(sp.diff(f, gamma, 2).subs(gamma, gamma_star))
    require_zero(curvature - d**3 / R**2, "f''(gamma*) = d^3/R^2")
    require(curvature.is_positive, "second-order condition")
    require(sp.limit(f, gamma, 0, "+") == sp.oo, "f -> oo as gamma -> 0+")
    require(sp.limit(f, gamma, sp.oo) == sp.oo, "f -> oo as gamma -> oo")
    return gamma_star


@step(
    STEPS,
    equations="(3) -> (16)",
    claim="gamma* = (1/(dn)) sum_i E_q||x_i - mu_x(z)||^2 = R/d is "
    "the global minimizer of (3) in gamma",
    method="solve d(3)/dgamma = 0, f''(gamma*) = d^3/R^2 > 0, f -> oo at both ends",
)
def gamma_star_eq16():
    derive_gamma_star()
    return proved("gamma* = R/d, f''(gamma*) = d^3/R^2 > 0, unique stationary point")


@step(
    STEPS,
    equations="(16) -> (17)",
    claim="(3) at gamma* = (17) + d + (1/n) sum_i sum_k (sigma_ik^2 - log sigma_ik^2)",
    method="substitute gamma*, expand logs; n = 2, kappa = 2, symbolic d",
)
def substitution_eq17():
    gamma_star = derive_gamma_star()
    n, kappa = 2, 2
    mu_sq = sp.symbols("m1:3", nonnegative=True)  # ||mu_z(x_i)||^2
    var = sp.Matrix(n, kappa, lambda i, k: sp.Symbol(f"v{i + 1}{k + 1}", positive=True))  # sigma^2
    sigma_only = sum(sigma_only_term(var[i, k]) for i in range(n) for k in range(kappa)) / n
    eq3 = gamma_terms(R, d).subs(gamma, gamma_star) + sum(mu_sq) / n + sigma_only
    require_zero(eq3 - eq17(R, mu_sq, n) - d - sigma_only, "(3)|gamma* - (17) = d + sigma-only terms")
    return proved("d log gamma* + R/gamma* = d log(R/d) + d; dropped: d and the sigma-only terms")


@step(
    STEPS,
    equations="(17) -> (18)",
    claim="as sigma_z -> 0, E_q||x - mu_x(z)||^2 -> ||x - "
    "mu_x(mu_z)||^2 (affine and polynomial decoders)",
    method="Gaussian moments, then s -> 0; the dropped sigma terms' limit",
)
def sigma_to_zero_eq18():
    s = sp.Symbol("s", positive=True)  # encoder std, shared by both latent units
    noise = list(sp.symbols("eps1:3", real=True))
    mu = sp.symbols("mu1:3", real=True)
    x = sp.symbols("x1:3", real=True)
    z = [latent_draw(mu[k], s, noise[k]) for k in range(2)]
    # affine: W (2 x 2) z + b; a nonlinear polynomial decoder: (z1^2 - z2, z1 z2^3)
    W = sp.Matrix(2, 2, lambda j, k: sp.Symbol(f"W{j + 1}{k + 1}", real=True))
    b = sp.symbols("b1:3", real=True)
    decoders = {
        "affine": lambda v: [sum(W[j, k] * v[k] for k in range(2)) + b[j] for j in range(2)],
        "polynomial": lambda v: [v[0] ** 2 - v[1], v[0] * v[1] ** 3],
    }
    for name, decoder in decoders.items():
        expected = gaussian_expectation(sum((x[j] - decoder(z)[j]) ** 2 for j in range(2)), noise)
        at_mean = sum((x[j] - decoder(mu)[j]) ** 2 for j in range(2))
        require_zero(sp.limit(expected, s, 0, "+") - at_mean, f"{name} decoder: limit s -> 0")
        require_zero(expected.subs(s, 0) - at_mean, f"{name} decoder: value at s = 0")
    dropped = sigma_only_term(s**2)
    require(sp.limit(dropped, s, 0, "+") == sp.oo, "dropped sigma term diverges")
    return proved(
        "the expectation is continuous at sigma_z = 0 and equals the reconstruction at mu_z",
        note="Eq. (17)-(18): the sigma-only terms removed before (17), sum(sigma^2 - log sigma^2), "
             "-> +oo as sigma_z -> 0; (18) is the limit of (3) minus that theta- and mu_z-independent "
             "term, (3) itself -> +oo (the proof's 'constants aside').",
    )


def _canonical_double_sum(expr, row, col):
    """A nested Sum of Z[a, b]**2 written with the row index `row` and column index `col`."""
    element = expr.function.base
    renamed = {element.i: row, element.j: col}
    return expr.function.subs(renamed), frozenset(
        tuple(sp.sympify(part).subs(renamed) for part in limit) for limit in expr.limits
    )


@step(
    STEPS,
    equations="(18)",
    claim="sum_i ||z^(i)||^2 = sum_k ||z_k||^2 (columns vs rows of Z)",
    method="entrywise for 4 sizes; symbolic kappa, n: both are one double sum",
)
def rows_columns_identity_eq18():
    for kappa, n in ((1, 1), (2, 3), (3, 2), (4, 5)):
        Z = sp.Matrix(kappa, n, lambda k, i: sp.Symbol(f"z{k}_{i}", real=True))
        require_zero(sum_over_columns(Z) - sum_over_rows(Z), f"kappa={kappa}, n={n}")
    kappa_s, n_s = sp.symbols("kappa n", positive=True, integer=True)
    Z = sp.MatrixSymbol("Z", kappa_s, n_s)
    i, k, row, col = sp.symbols("i k r c", integer=True)
    by_columns = sp.Sum((Z.T * Z)[i, i], (i, 0, n_s - 1)).doit()  # sum_i ||z^(i)||^2
    by_rows = sp.Sum((Z * Z.T)[k, k], (k, 0, kappa_s - 1)).doit()  # sum_k ||z_k||^2
    require(
        _canonical_double_sum(by_columns, row, col) == _canonical_double_sum(by_rows, row, col),
        "same summand over the same index set",
    )
    return proved("both are sum_{k<kappa, i<n} Z_ki^2 = ||Z||_F^2 (finite sums commute)")


@step(
    STEPS,
    equations="(18) -> (19)",
    claim="(19) = [(18) with (1/n)||z_k||^2 -> log((1/n)||z_k||^2)] / "
    "d; log ||z_k||^2 differs by kappa log n",
    method="expand logs, kappa = 3, n = 4; exact ranking example",
)
def log_transform_and_divide_eq19():
    kappa, n = 3, 4
    mse = sp.Symbol("e", positive=True)  # (1/(dn)) sum_i ||x_i - mu_x(z_i)||^2
    rows_sq = sp.symbols(f"q1:{kappa + 1}", positive=True)  # ||z_k||^2
    eq18_logged = d * sp.log(mse) + sum(sp.log(q / n) for q in rows_sq)
    require_zero(eq18_logged / d - eq19(mse, rows_sq, n), "(18 with log) / d = (19)")
    without_n = sum(sp.log(q) for q in rows_sq)
    require_zero(without_n - sum(sp.log(q / n) for q in rows_sq) - kappa * sp.log(n), "log n shift")
    # The log transformation changes the objective: two row-energy profiles swap order.
    first, second = (1, 1), (2, sp.Rational(1, 4))
    require(sum(first) < sum(second), "(18) prefers (1, 1)")
    require(sum(map(sp.log, second)) < sum(map(sp.log, first)), "(19) prefers (2, 1/4)")
    return proved(
        "exact; dividing by d > 0 keeps minimizers",
        note="Eq. (19): the log transformation is a change of objective (a hypothesis of Lemma 3), "
             f"not an equivalence: row energies {first} beat {second} under (18), lose under (19).",
    )
