"""Supplement section 8.3 (proof of Theorem 4) re-derived step by step with sympy.

Conventions: d = kappa = 2, r = 1; u >= 0 is a row energy (1/n)||z_k||^2; t is the logistic
function, so z_1 = t^{-1}(u) = logit(u) = log(u / (1 - u)); m = logit(C) is the smallest |z_1|
that zero reconstruction at theta = 1 allows when C >= 1/2; c > 0 is a penalty's shape parameter.
"""
from __future__ import annotations

import sympy as sp

from proofs_check.steps import Step, erratum, proved, require, require_zero, step

STEPS: list[Step] = []

u = sp.Symbol("u", positive=True)  # row energy (1/n)||z_k||^2 > 0
c = sp.Symbol("c", positive=True)
eps = sp.Symbol("epsilon", positive=True)
m = sp.Symbol("m", positive=True)  # t^{-1}(C) = logit(C) for C > 1/2

# h concave, non-decreasing on u >= 0, h'(0+) finite: the bounded members of the penalty family.
BOUNDED_PENALTIES = {
    "log(u+c)": sp.log(u + c),
    "u": u,
    "sqrt(u+c)-sqrt(c)": sp.sqrt(u + c) - sp.sqrt(c),
    "u/(u+c)": u / (u + c),
}


def logit(value):
    return sp.log(value / (1 - value))


# The formulas the steps confirm, one function each, so that a wrong one can be fed to a step
# (tests/proofs_mutations.py) and the step seen to fail.

def indicator(value) -> sp.Integer:
    """h = I[u > 0] on a row energy u >= 0: 0 at 0, 1 elsewhere."""
    return sp.Integer(0) if value == 0 else sp.Integer(1)


def log_penalty(value) -> sp.Expr:
    """h = log."""
    return sp.log(value)


def theta1_energy_bound(C) -> sp.Expr:
    """Claimed sharp bound of (23) on (1/n)||z_1||^2 at theta = 1, for C >= 1/2: logit(C)^2."""
    return logit(C) ** 2


def row_energy(squared_entries) -> sp.Expr:
    """(1/n)||x_k||^2 from the n squared entries of row k."""
    return sum(squared_entries) / len(squared_entries)


# Claimed crossover eps_c^2 of (25) for two bounded penalties, normalised h(0) = 0, h(m^2) = 1,
# m = logit(C): (h, eps_c^2 solving h(eps^2) = 1/2).
CROSSOVER_THRESHOLDS = {
    "u/(u+c)": (u / (u + c), c * m**2 / (m**2 + 2 * c)),
    "log(1+u/c)": (sp.log(1 + u / c), sp.sqrt(c) * sp.sqrt(c + m**2) - c),
}


def _logit_rate_in_p():
    """d logit/du and d(logit(u) - u)/du at u = p/(1+p), which covers (0, 1) for p > 0."""
    p = sp.Symbol("p", positive=True)
    rate = sp.diff(logit(u), u).subs(u, p / (1 + p))
    return sp.factor(rate), sp.factor(rate - 1)


@step(
    STEPS,
    equations="8.3, before (25)",
    claim="h concave, non-decreasing, h'(0+) = L finite (h continuous at "
    "0) => 0 <= h(eps^2) - h(0) <= L eps^2 -> 0",
    method="argument: MVT + h' non-increasing; sympy: L u - h(u) + h(0) = int int (-h'') for 4 penalties",
)
def bounded_slope_gap():
    # General h: h(eps^2) - h(0) = h'(xi) eps^2 for some xi in (0, eps^2) (mean value theorem, which
    # needs h continuous on [0, eps^2]); h' is non-increasing (concavity), so h'(xi) <= h'(0+) = L.
    # For each family member sympy checks the hypotheses and the same bound in integral form.
    r, t = sp.symbols("r t", positive=True)
    slopes = []
    for name, h in BOUNDED_PENALTIES.items():
        h1, h2 = sp.diff(h, u), sp.diff(h, u, 2)
        require(sp.factor(h1).is_nonnegative, f"{name}: non-decreasing")
        require(sp.factor(h2).is_nonpositive, f"{name}: concave")
        slope = sp.limit(h1, u, 0, "+")
        require(slope.is_positive, f"{name}: h'(0+) > 0")
        require(slope.is_finite, f"{name}: h'(0+) < oo")
        require_zero(sp.limit(h, u, 0, "+") - h.subs(u, 0), f"{name}: continuous at 0")
        gap_room = slope * u - (h - h.subs(u, 0))  # L u - (h(u) - h(0))
        double_integral = sp.integrate(sp.integrate(-h2.subs(u, r), (r, 0, t)), (t, 0, u))
        require_zero(gap_room - double_integral, f"{name}: L u - gap = int_0^u int_0^t -h''")
        gap = h.subs(u, eps**2) - h.subs(u, 0)
        require(sp.limit(gap, eps, 0, "+") == 0, f"{name}: gap -> 0")
        require_zero(sp.limit(gap / eps**2, eps, 0, "+") - slope, f"{name}: gap ~ L eps^2")
        slopes.append(f"{name}: L={slope}")
    return proved("L u - (h(u) - h(0)) = int int (-h'') >= 0 and gap/eps^2 -> L; " + ", ".join(slopes))


@step(
    STEPS,
    equations="8.3, before (25)",
    claim="the hypothesis needs h continuous at 0: I[u>0] is "
    "concave, non-decreasing, lim h'(u) = 0, gap = 1",
    method="exact evaluation of the concavity inequality, limits",
)
def indicator_passes_limiting_slope_test():
    lam = sp.Symbol("lambda", positive=True)  # a mixing weight in (0, 1)
    b = sp.Symbol("b", positive=True)

    # concavity h(lam a + (1-lam) b) >= lam h(a) + (1-lam) h(b) for a = 0 < b and for a, b > 0
    require(sp.Eq(indicator(1) - (lam * indicator(0) + (1 - lam) * indicator(b)), lam), "a = 0 < b")
    require(indicator(1) - (lam * indicator(1) + (1 - lam) * indicator(1)) == 0, "a, b > 0")
    limiting_slope = sp.limit(sp.diff(sp.Integer(1), u), u, 0, "+")  # h = 1 on u > 0
    require(limiting_slope == 0, "lim_{u->0+} h'(u) = 0")
    quotient = (indicator(u) - indicator(0)) / u
    require(sp.limit(quotient, u, 0, "+") == sp.oo, "right difference quotient unbounded")
    require(indicator(eps**2) - indicator(0) == 1, "gap = 1 for every eps > 0")
    return erratum(
        "lim_{u->0+} h'(u) = 0 but (h(u) - h(0))/u = 1/u -> oo and h(eps^2) - h(0) = 1",
        "Eq. (25) (its hypothesis in 8.3): 8.3 defines h'(0) as lim_{u->0+} h'(u) and says "
        "differentiability at 0 can be relaxed, but that limit being bounded does not make "
        "h(eps^2) - h(0) small unless h is right-continuous at 0 (equivalently, require sup_u "
        "(h(u)-h(0))/u <= L). I[u>0] is concave and non-decreasing on u >= 0 with lim h'(u) = 0, yet "
        "its gap is 1; it also contradicts 'the limiting gradient cannot be zero, otherwise h is flat'.",
    )


def logistic(value):
    return 1 / (1 + sp.exp(-value))


@step(
    STEPS,
    equations="(20)-(23)",
    claim="for pi(s) = (eps/2)(s, s^2) and two distinct samples, zero error with one nonzero row of Z "
    "forces theta = 1",
    method="solve (20) per case; G(s) strictly decreasing (t' <= 1/4, eps < 8)",
)
def theta1_needed_for_one_active_row():
    # theta = q^2 with 0 < q < 1; data x = pi(s) with s = t(z_gt) in [C, 1); tau = t(z_1).
    q, s, tau, r = sp.symbols("q s tau r", positive=True)
    z = sp.Symbol("z", real=True)
    theta = q**2

    def pi(value):
        return (eps / 2 * value, eps / 2 * value**2)

    # Row 2 zero, 0 < theta < 1: solve the second then the first coordinate of (20) = x.
    taus = sp.solve(sp.Eq(theta * pi(tau)[1], pi(s)[1]), tau)
    require(taus == [s / q], "second coordinate: t(z_1) = s / sqrt(theta)")
    z1s = sp.solve(sp.Eq(theta * pi(taus[0])[0] + (1 - theta) * z, pi(s)[0]), z)
    require(len(z1s) == 1, "first coordinate: one z_1")
    require_zero(z1s[0] - eps * s / (2 * (1 + q)), "z_1 = eps s / (2 (1 + sqrt(theta)))")
    # Both hold iff G(s) = t(eps s / (2(1+q))) - s/q = 0. With t' = t(1-t) = 1/4 - (t-1/2)^2 <= 1/4,
    # G'(s) <= eps / (8(1+q)) - 1/q, negative for eps = 8(1 - r) < 8: G has at most one root,
    # so two samples with distinct s cannot both be reconstructed.
    y, w = sp.Symbol("y", real=True), sp.Symbol("w", real=True)
    require_zero(sp.diff(logistic(y), y) - logistic(y) * (1 - logistic(y)), "t' = t(1 - t)")
    require_zero(w * (1 - w) - (sp.Rational(1, 4) - (w - sp.Rational(1, 2)) ** 2), "t(1-t) <= 1/4")
    slope_bound = (8 * (1 - r)) / (8 * (1 + q)) - 1 / q
    require(sp.factor(sp.together(-slope_bound)).is_positive, "G' < 0")
    # Row 1 zero: x_1 = theta t(0) eps/2 = theta eps/4 for every sample, but x_1 = eps s/2 varies.
    require(sp.Eq(theta * pi(logistic(0))[0], theta * eps / 4), "x_1 constant when z_1 = 0")
    # theta = 0: z = x, whose two entries are positive, so both rows are nonzero.
    # theta = 1: x = pi(t(z_1)) with z_1 = logit(s) and z_2 = 0 reconstructs exactly.
    require(sp.simplify(logistic(logit(s)) - s) == 0, "theta = 1: t(logit(s)) = s")
    return proved("only theta = 1 (z_1 = logit(s), z_2 = 0) reconstructs two distinct samples "
                  "with one nonzero row")


@step(
    STEPS,
    equations="(23)",
    claim="theta = 1 with zero error forces (1/n)||z_1||^2 >= logit(C)^2 (C >= 1/2), not >= C^2",
    method="monotone logit (u = p/(1+p)), exact counterexamples, nsolve for the crossover C",
)
def theta1_bound_eq23():
    rate, rate_minus_one = _logit_rate_in_p()
    require(rate.is_positive, "logit is increasing on (0, 1)")
    require(rate_minus_one.is_positive, "logit(u) - u is increasing on (0, 1)")
    half = sp.Rational(1, 2)
    require(logit(half) == 0, "logit(1/2) = 0")
    # C >= 1/2: z_1^(i) = logit(u_i) >= logit(C) >= 0, so every z_1^(i)^2 >= logit(C)^2; attained
    # by u_i = C, so logit(C)^2 is the sharp bound. Printed bound C^2, at C = 3/5 with all u_i = C:
    C = sp.Rational(3, 5)
    require(sp.Eq(logit(C), sp.log(sp.Rational(3, 2))), "logit(3/5) = log(3/2)")
    all_at_C = row_energy([logit(C) ** 2] * 3)  # three samples, every u_i = C: the sharp case
    require_zero(theta1_energy_bound(C) - all_at_C, "the bound is attained by data all at u = C")
    require(theta1_energy_bound(C) < C**2, "log(3/2)^2 < 9/25: the printed bound fails")
    # C < 1/2: u_i = 1/2 lies in [C, 1) and gives z_1 = 0: no positive lower bound at all.
    # logit(C) - C is increasing with one root C0: the printed bound holds iff C >= C0.
    crossover = sp.nsolve(logit(u) - u, u, 0.66)
    require(abs(logit(crossover) - crossover) < 1e-12, "crossover root")
    return erratum(
        f"sharp bound logit(C)^2; printed C^2 holds only for C >= C0 = {float(crossover):.4f}",
        "Eq. (23): with t logistic, zero reconstruction at theta = 1 gives z_1 = t^{-1}(u), u in [C, 1), "
        "so (1/n)||z_1||^2 >= t^{-1}(C)^2 = logit(C)^2 when C >= 1/2 (sharp), not C^2: for C = 3/5 "
        f"and u_i = C it equals log(3/2)^2 = {float(sp.log(1.5) ** 2):.4f} < 9/25. The printed bound "
        f"holds iff C >= {float(crossover):.4f}; for C < 1/2 (u_i = 1/2 gives z_1 = 0) there is no "
        "positive bound, so the proof needs C > 1/2 (and pi injective on [C, 1)).",
    )


@step(
    STEPS,
    equations="(24)",
    claim="theta = 0: min_Z (22) <= value at Z = X = g(0) + (1/2) "
    "sum_k h((1/n)||x_k||^2) <= g(0) + h(eps^2)",
    method="each squared entry eps^2 - delta (delta > 0), n = 3; h non-decreasing",
)
def theta0_bound_eq24():
    n = 3
    delta = sp.Matrix(2, n, lambda k, i: sp.Symbol(f"delta{k}{i}", positive=True))
    for k in range(2):
        energy = row_energy([eps**2 - delta[k, i] for i in range(n)])  # (1/n)||x_k||^2
        require((eps**2 - energy).is_positive, f"row {k + 1}: (1/n)||x_k||^2 < eps^2")
    return proved(
        "(1/n)||x_k||^2 < eps^2 for both rows, so (1/2) sum_k h(.) <= h(eps^2)",
        note="Eq. (24): the equality sign presumes the optimal Z reconstructs exactly; the bound only "
             "needs min <= the value at Z = X.",
    )


@step(
    STEPS,
    equations="(23)-(24) -> (25)",
    claim="normalising h(logit(C)^2) = 1, g(0) = h(0) = 0: theta = 1 "
    "cost >= 1/2 > theta = 0 cost for eps < eps_c",
    method="solve h(eps^2) = 1/2 for u/(u+c) and log(1+u/c); exact instance; printed normalisation refuted",
)
def conclusion_eq25():
    half = sp.Rational(1, 2)
    e = sp.Symbol("e", positive=True)  # eps^2
    for name, (h, expected) in CROSSOVER_THRESHOLDS.items():
        normalised = h / h.subs(u, m**2)  # h(0) = 0 already
        require(sp.factor(sp.diff(normalised, u)).is_positive, f"{name}: increasing")
        solutions = sp.solve(sp.Eq(normalised.subs(u, e), half), e)
        require(len(solutions) == 1, f"{name}: one crossover")
        require_zero(solutions[0] - expected, f"{name}: eps_c^2")
        # exact instance C = 3/4 (m = log 3), c = 1/100: below eps_c the theta = 0 cost is < 1/2, and
        # the slope bound h(eps^2) <= L eps^2 of `bounded_slope_gap` gives the smaller threshold 1/(2L)
        values = {m: logit(sp.Rational(3, 4)), c: sp.Rational(1, 100)}
        eps_c_sq = expected.subs(values)
        require(normalised.subs(values).subs(u, eps_c_sq / 4) < half, f"{name}: cost < 1/2 below eps_c")
        slope = sp.limit(sp.diff(normalised, u), u, 0, "+")
        require((1 / (2 * slope)).subs(values) <= eps_c_sq, f"{name}: 1/(2L) <= eps_c^2")
    h = u / (u + c)
    eps_c_sq = CROSSOVER_THRESHOLDS["u/(u+c)"][1].subs(values)
    # the printed normalisation h(C^2) = 1 with C = 3/5: the theta = 1 bound (1/2) h(logit(C)^2) < 1/2
    C = sp.Rational(3, 5)
    printed = (h / h.subs(u, C**2)).subs(c, sp.Rational(1, 100))
    theta1_printed = half * printed.subs(u, logit(C) ** 2)
    require(theta1_printed < half, "printed normalisation: bound below 1/2")
    return erratum(
        f"eps_c^2 = c m^2/(m^2+2c) (u/(u+c)), sqrt(c(c+m^2)) - c (log(1+u/c)); C=3/4, c=0.01: "
        f"eps_c = {float(sp.sqrt(eps_c_sq)):.4f}",
        "Eq. (25): '>= 1/2' needs the normalisation h(t^{-1}(C)^2) = 1, i.e. h(logit(C)^2) = 1, the "
        "bound actually proved in (23); with the printed h(C^2) = 1, C = 3/5 and h = u/(u+0.01) the "
        f"theta = 1 cost is only >= {float(theta1_printed):.4f}. Corrected, theta = 0 wins for "
        "eps^2 < c m^2/(m^2+2c) (h = u/(u+c)) and eps^2 < sqrt(c(c+m^2)) - c (h = log(1+u/c)), "
        "m = logit(C); the conclusion stands for C > 1/2.",
    )


@step(
    STEPS,
    equations="(23)-(25), h = log",
    claim="h = log escapes the counterexample: h'(0+) = oo, h(0) = "
    "-oo, so theta = 1 (one active row) is optimal",
    method="sympy limits; theta = 0 cost finite for every eps > 0",
)
def log_keeps_sparse_optimum():
    require(sp.limit(sp.diff(log_penalty(u), u), u, 0, "+") == sp.oo, "h'(0+) = oo")
    require(sp.limit(log_penalty(u), u, 0, "+") == -sp.oo, "h(0) = -oo: cannot normalise h(0) = 0")
    active = sp.Symbol("a", positive=True)  # (1/n)||z_1||^2 >= m^2 > 0 at theta = 1
    theta1 = (log_penalty(u) + log_penalty(active)) / 2  # row 2 energy u -> 0
    require(sp.limit(theta1, u, 0, "+") == -sp.oo, "theta = 1 cost -> -oo")
    x_energy = sp.symbols("e1:3", positive=True)  # (1/n)||x_k||^2 > 0: data entries nonzero
    theta0 = (log_penalty(x_energy[0]) + log_penalty(x_energy[1])) / 2
    require(theta0.is_finite, "theta = 0 cost finite")
    return proved("theta = 1 cost -oo < theta = 0 cost (finite) for every eps > 0 (g(0) = 0, g = I_oo)")


@step(
    STEPS,
    equations="8.3, last paragraphs",
    claim="h = I[u>0] escapes the counterexample: theta = 1 "
    "costs 1/2, zero-error theta = 0 costs 1",
    method="exact evaluation",
)
def indicator_keeps_sparse_optimum():
    half = sp.Rational(1, 2)
    theta1 = half * (indicator(0) + indicator(m**2))
    x_energy = sp.symbols("e1:3", positive=True)
    theta0 = half * (indicator(x_energy[0]) + indicator(x_energy[1]))
    require(theta1 == half and theta0 == 1, "costs 1/2 and 1")
    return proved("1/2 < 1 for every eps > 0, as the supplement states")
