"""Supplement section 8.1 (proof of Lemma 2) re-derived step by step with sympy.

Conventions: gamma is the decoder VARIANCE; the encoder variance is shared across samples,
sigma_z(x) = s, with v_k = s_k^2; ||w_k||^2 is the squared norm of column k of W (d x kappa).
Entrywise identities use concrete small sizes (d, kappa, n); scalar facts use free symbols.
"""
from __future__ import annotations

import sympy as sp

from proofs_check.steps import (
    Step,
    erratum,
    gaussian_expectation,
    proved,
    require,
    require_zero,
    step,
)

STEPS: list[Step] = []

gamma = sp.Symbol("gamma", positive=True)  # decoder variance


def _sq(vector) -> sp.Expr:
    return sum(entry**2 for entry in vector)


# The formulas the steps confirm, one function each, so that a wrong one can be fed to a step
# (tests/proofs_mutations.py) and the step seen to fail.

def affine_error_closed_form(x, W, mu, b, s) -> sp.Expr:
    """Claimed E_q||x - W z - b||^2 for z ~ N(mu, diag(s)^2): ||x - W mu - b||^2 + sum_k ||w_k||^2 s_k^2."""
    return _sq(x - W * mu - b) + sum(_sq(W[:, k]) * s[k] ** 2 for k in range(W.shape[1]))


def s_terms(norm_sq_w, v):
    """The v_k = s_k^2 terms of (3) for one latent k: ||w_k||^2 v / gamma + v - log v."""
    return norm_sq_w * v / gamma + v - sp.log(v)


def sigma_sq_star(norm_sq_w) -> sp.Expr:
    """Claimed minimizer of `s_terms` in v = s_k^2: gamma / (gamma + ||w_k||^2)."""
    return gamma / (gamma + norm_sq_w)


def eq11_log_term(norm_sq_w) -> sp.Expr:
    """The term of (11) for one column of W: log(gamma + ||w_k||^2)."""
    return sp.log(gamma + norm_sq_w)


def eq11_per_sample(residual, mu_sq, norm_sq_w, d) -> sp.Expr:
    """Claimed (11) for one sample: ||x - W mu - b||^2/gamma + sum_k log(gamma + ||w_k||^2) + ||mu||^2
    + (d - kappa) log gamma, kappa = len(norm_sq_w)."""
    kappa = len(norm_sq_w)
    return residual / gamma + sum(eq11_log_term(w) for w in norm_sq_w) + mu_sq + (d - kappa) * sp.log(gamma)


def error_term(a) -> sp.Expr:
    """The reconstruction term of (11), a residual a over the decoder variance: a / gamma."""
    return a / gamma


def omega_of_column(column) -> sp.Expr:
    """Claimed omega_k of (14): the norm ||w_k||_2 (the text prints ||w_k||_2^2)."""
    return sp.sqrt(_sq(column))


def eq14_row_term(u, energy) -> sp.Expr:
    """One row of (14) in u = omega_k^2: log(omega_k^2) + (1/n)||z_k||^2 / omega_k^2."""
    return sp.log(u) + energy / u


def eq15_cost(row_energies) -> sp.Expr:
    """(15): sum_k log((1/n)||z_k||^2)."""
    return sum(sp.log(r) for r in row_energies)


def closing_expression(a, b, c) -> sp.Expr:
    """The expression closing 8.1: a / gamma + log(b + gamma) + c log gamma."""
    return error_term(a) + sp.log(b + gamma) + c * sp.log(gamma)


@step(
    STEPS,
    equations="(3), affine decoder",
    claim="E_q||x - W z - b||^2 = ||x - W mu - b||^2 + sum_k "
    "||w_k||^2 s_k^2 for z ~ N(mu, diag(s)^2)",
    method="Gaussian moments of the expanded polynomial, d=3, kappa=2",
)
def affine_reconstruction_expectation():
    d, kappa = 3, 2
    x = sp.Matrix(sp.symbols(f"x1:{d + 1}", real=True))
    b = sp.Matrix(sp.symbols(f"b1:{d + 1}", real=True))
    mu = sp.Matrix(sp.symbols(f"mu1:{kappa + 1}", real=True))
    s = sp.Matrix(sp.symbols(f"s1:{kappa + 1}", positive=True))
    W = sp.Matrix(d, kappa, lambda j, k: sp.Symbol(f"W{j + 1}{k + 1}", real=True))
    noise = list(sp.symbols(f"eps1:{kappa + 1}", real=True))
    z = mu + sp.Matrix([s[k] * noise[k] for k in range(kappa)])
    expectation = gaussian_expectation(_sq(x - W * z - b), noise)
    closed_form = affine_error_closed_form(x, W, mu, b, s)
    require_zero(expectation - closed_form, "expected reconstruction error")
    return proved("the noise adds sum_k ||w_k||^2 s_k^2 to the residual; cross terms have mean 0")


@step(
    STEPS,
    equations="(3) -> (11)",
    claim="each s_k^2 is minimized at gamma/(gamma + ||w_k||^2), a strict global minimum",
    method="solve f'(v)=0, f''>0, f -> oo at both ends",
)
def sigma_k_minimizer():
    v = sp.Symbol("v", positive=True)
    norm_sq_w = sp.Symbol("omega_sq", nonnegative=True)  # ||w_k||^2
    f = s_terms(norm_sq_w, v)
    stationary = sp.solve(sp.diff(f, v), v)
    require(len(stationary) == 1, "one stationary point in v > 0")
    v_star = stationary[0]
    require_zero(v_star - sigma_sq_star(norm_sq_w), "minimizer gamma/(gamma+||w_k||^2)")
    curvature = sp.factor(sp.diff(f, v, 2).subs(v, v_star))
    require_zero(curvature - ((gamma + norm_sq_w) / gamma) ** 2, "second derivative at v*")
    require(curvature.is_positive, "second-order condition f''(v*) > 0")
    require(sp.limit(f, v, 0, "+") == sp.oo, "f -> oo as v -> 0+")
    require(sp.limit(f, v, sp.oo) == sp.oo, "f -> oo as v -> oo")
    require_zero(f.subs(v, v_star) - (1 + sp.log(gamma + norm_sq_w) - sp.log(gamma)), "f(v*)")
    return proved("s_k^2* = gamma/(gamma+||w_k||^2), f'' = ((gamma+||w_k||^2)/gamma)^2 > 0, "
                  "min = 1 + log(gamma+||w_k||^2) - log gamma")


@step(
    STEPS,
    equations="(3) -> (11)",
    claim="min over s of (3) equals (11) plus the constant kappa; "
    "the (d - kappa) log gamma term is right",
    method="substitute s*, expand logs; kappa = 1, 2, 3, symbolic d, n = 2",
)
def eq11_and_dropped_constant():
    d = sp.Symbol("d", positive=True, integer=True)
    n = 2
    residual = sp.symbols("rho1:3", nonnegative=True)  # ||x_i - W mu_i - b||^2
    mu_sq = sp.symbols("m1:3", nonnegative=True)  # ||mu_i||^2
    for kappa in (1, 2, 3):
        norm_sq_w = sp.symbols(f"omega_sq1:{kappa + 1}", positive=True)
        v_star = [sigma_sq_star(w) for w in norm_sq_w]
        eq3 = sum(
            error_term(residual[i]) + d * sp.log(gamma) + mu_sq[i]
            + sum(s_terms(norm_sq_w[k], v_star[k]) for k in range(kappa))
            for i in range(n)
        ) / n
        eq11 = sum(eq11_per_sample(residual[i], mu_sq[i], norm_sq_w, d) for i in range(n)) / n
        require_zero(eq3 - eq11 - kappa, f"min_s (3) - (11) = kappa for kappa = {kappa}")
    return proved(
        "min_s (3) - (11) = kappa exactly (kappa = 1, 2, 3)",
        note="Eq. (11): candidate 'wrong constant or log-gamma term' refuted; (11) drops only +kappa.",
    )


@step(
    STEPS,
    equations="(11) -> (12)",
    claim="(1/gamma) a -> oo as gamma -> 0+ when the residual a > 0, and -> 0 when a = 0",
    method="sympy limit",
)
def limit_eq12():
    a = sp.Symbol("a", positive=True)
    require(sp.limit(error_term(a), gamma, 0, "+") == sp.oo, "a/gamma -> oo for a > 0")
    require(sp.limit(error_term(sp.Integer(0)), gamma, 0, "+") == 0, "0/gamma -> 0")
    return proved(
        "lim = oo (a > 0), 0 (a = 0): the indicator I_oo of the residual x - W mu - b",
        note="Eq. (12): I_oo is defined on u but applied to the statement x = W mu + b; "
             "read it as I_oo(x - W mu - b) (notation only).",
    )


@step(
    STEPS,
    equations="(11) -> (13), d = kappa",
    claim="with d = kappa, log(gamma + ||w_k||^2) -> log ||w_k||^2 as gamma -> 0+",
    method="sympy limit; ||w_k|| = 0 separately",
)
def limit_eq13_square_case():
    norm_sq_w = sp.Symbol("omega_sq", positive=True)
    require(sp.limit(eq11_log_term(norm_sq_w), gamma, 0, "+") == sp.log(norm_sq_w), "limit")
    require(sp.limit(eq11_log_term(0), gamma, 0, "+") == -sp.oo, "zero column")
    return proved("limit log ||w_k||^2 for ||w_k|| > 0; -oo for a zero column, as h = log at 0")


@step(
    STEPS,
    equations="(13) -> (14)",
    claim="(14) holds with omega_k = ||w_k||_2 (NOT ||w_k||_2^2), z = Omega mu, x = W~ z + b",
    method="entrywise identity d=kappa=2, n=3; exact counterexample for the printed omega_k",
)
def reparameterization_eq13_to_eq14():
    dim, n = 2, 3
    W = sp.Matrix(dim, dim, lambda j, k: sp.Symbol(f"W{j + 1}{k + 1}", real=True))
    mu = sp.Matrix(dim, n, lambda k, i: sp.Symbol(f"mu{k + 1}_{i + 1}", real=True))
    norms = [omega_of_column(W[:, k]) for k in range(dim)]
    W_unit = W * sp.diag(*[1 / r for r in norms])
    Z = sp.diag(*norms) * mu
    for k in range(dim):  # Theta: unit columns (any omega keeps W~ z = W mu; this pins omega down)
        require_zero(_sq(W_unit[:, k]) - 1, f"column {k + 1} of W~ has unit norm")
    require_zero((W_unit * Z - W * mu).norm() ** 2, "W~ z = W mu (same reconstruction)")
    eq13 = sum(
        sum(sp.log(_sq(W[:, k])) for k in range(dim)) + _sq(mu[:, i]) for i in range(n)
    ) / n
    eq14_first = sum(
        sum(sp.log(norms[k] ** 2) + Z[k, i] ** 2 / norms[k] ** 2 for k in range(dim)) for i in range(n)
    ) / n
    eq14_second = sum(sp.log(norms[k] ** 2) + _sq(Z[k, :]) / n / norms[k] ** 2 for k in range(dim))
    require_zero(eq13 - eq14_first, "(13) = first line of (14)")
    require_zero(eq14_first - eq14_second, "first line = second line of (14)")
    # the printed definition omega_k = ||w_k||^2, on w_1 = (3, 4) (norm 5), mu = (1, 0)
    W_num = sp.Matrix([[3, 0], [4, 1]])
    mu_num = sp.Matrix([1, 0])
    omega_printed = [_sq(W_num[:, k]) for k in range(dim)]
    W_num_unit = W_num * sp.diag(*[1 / sp.sqrt(w) for w in omega_printed])
    recon_printed = W_num_unit * sp.diag(*omega_printed) * mu_num
    require(W_num * mu_num == sp.Matrix([3, 4]), "W mu")
    require(recon_printed == sp.Matrix([15, 20]), "printed omega: W~ Omega mu = 5 W mu")
    # the log term of (14): log(omega_1^2) = log 625 with the printed omega, log ||w_1||^2 = log 25
    require(omega_printed[0] ** 2 == 625, "printed omega: log(omega_1^2) = log 625")
    require(_sq(W_num[:, 0]) == 25, "log ||w_1||^2 = log 25")
    return erratum(
        "identity exact with omega_k = ||w_k||; printed omega_k: W~ Omega mu = (15, 20) != W mu = (3, 4)",
        "Eq. (14) (definition above it): omega_k must be ||w_k||_2, not ||w_k||_2^2. With the printed "
        "omega_k = ||w_k||^2, w_1 = (3, 4), mu = (1, 0): W~ Omega mu = (15, 20) != W mu = (3, 4), and "
        "log(omega_1^2) = log 625 != log ||w_1||^2 = log 25; with omega_k = ||w_k|| (14) is exact.",
    )


@step(
    STEPS,
    equations="(14) -> (15)",
    claim="log(omega^2) + s/omega^2 is minimized at omega^2 = s = "
    "(1/n)||z_k||^2; (15) sums k = 1..kappa",
    method="solve in u = omega^2, f''>0, limits; sum to oo shown ill-formed",
)
def omega_minimizer_eq15():
    u = sp.Symbol("u", positive=True)  # omega_k^2
    s = sp.Symbol("s", positive=True)  # (1/n)||z_k||^2
    f = eq14_row_term(u, s)
    stationary = sp.solve(sp.diff(f, u), u)
    require(stationary == [s], "single stationary point omega^2 = (1/n)||z_k||^2")
    curvature = sp.diff(f, u, 2).subs(u, s)
    require_zero(curvature - 1 / s**2, "f''(s) = 1/s^2")
    require(curvature.is_positive, "second-order condition")
    require(sp.limit(f, u, 0, "+") == sp.oo, "global minimum: f -> oo as omega^2 -> 0+")
    require(sp.limit(f, u, sp.oo) == sp.oo, "global minimum: f -> oo as omega^2 -> oo")
    require_zero(f.subs(u, s) - (sp.log(s) + 1), "minimum value log s + 1")
    # The printed upper limit: there are only kappa rows; a padded zero row contributes log 0.
    require(sp.limit(sp.log(s), s, 0, "+") == -sp.oo, "an absent (zero) row contributes -oo")
    return erratum(
        "min_omega (14) = sum_{k=1}^{kappa} log((1/n)||z_k||^2) + kappa",
        "Eq. (15): the sum must run to kappa, not infinity: Z has kappa rows, and any row padded "
        "beyond them is zero and contributes log 0 = -oo. (The constant dropped is +kappa.)",
    )


@step(
    STEPS,
    equations="(15), theta in Theta",
    claim="(15) needs unit-norm columns: without it (tW, Z/t) keeps x "
    "= W z + b and lowers (15) by 2 kappa log t",
    method="exact rescaling, sympy limit t -> oo",
)
def column_norm_constraint_eq15():
    t = sp.Symbol("t", positive=True)
    kappa = 3
    rows_sq = sp.symbols(f"s1:{kappa + 1}", positive=True)  # (1/n)||z_k||^2
    cost = eq15_cost(rows_sq)
    rescaled = eq15_cost([r / t**2 for r in rows_sq])
    require_zero(rescaled - cost + 2 * kappa * sp.log(t), "rescaling lowers (15) by 2 kappa log t")
    require(sp.limit(rescaled, t, sp.oo) == -sp.oo, "unbounded below without the constraint")
    return proved(
        "without the constraint (15) -> -oo along (tW, Z/t)",
        note="Eq. (15): candidate 'W written for W~' refuted as an erratum: the text after (15) puts the "
             "unit-column constraint in Theta, so W there is W~; the step shows the constraint is essential.",
    )


@step(
    STEPS,
    equations="8.1, closing limit",
    claim="a/gamma + log(b + gamma) + c log gamma -> oo as gamma -> 0+ for a > 0, b >= 0, real c",
    method="sympy limit for b > 0 and b = 0; gamma * (expression) -> a > 0",
)
def closing_limit():
    a = sp.Symbol("a", positive=True)
    b = sp.Symbol("b", positive=True)
    c = sp.Symbol("c", real=True)
    with_b = closing_expression(a, b, c)
    b_zero = closing_expression(a, 0, c)  # log(0 + gamma) joins the c log gamma term
    require(sp.limit(with_b, gamma, 0, "+") == sp.oo, "b > 0")
    require_zero(b_zero - error_term(a) - (c + 1) * sp.log(gamma), "b = 0: log(0 + gamma) joins c log gamma")
    require(sp.limit(b_zero, gamma, 0, "+") == sp.oo, "b = 0")
    # independent argument: gamma * expression -> a > 0, so the expression behaves like a/gamma
    require(sp.limit(gamma * with_b, gamma, 0, "+") == a, "gamma * expression -> a (b > 0)")
    require(sp.limit(gamma * b_zero, gamma, 0, "+") == a, "gamma * expression -> a (b = 0)")
    return proved("oo for b > 0 and b = 0 (then c -> c + 1); several log(b_k + gamma) terms add "
                  "to c the same way, so any residual a > 0 is infeasible as gamma -> 0")
