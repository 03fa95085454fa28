"""Main-text Eq. (5) and Eq. (8) where they restate the supplement's derivations (main_text_notes.md).

Conventions: gamma is the decoder VARIANCE; in Eq. (8) h acts on squared entries u = z^2 (a single
sample, so u is the row energy of (22)); z1* > 0 is the one active entry of the sparse decoder and
the identity decoder's entries are at most eps.
"""
from __future__ import annotations

import sympy as sp

from proofs_check.lemma3 import R, d, derive_gamma_star
from proofs_check.steps import Step, erratum, proved, require, require_zero, step

STEPS: list[Step] = []

u, c, eps = sp.symbols("u c epsilon", positive=True)
z1_star = sp.Symbol("a", positive=True)  # the one active entry of the sparse decoder
# Claimed crossover eps of Eq. (8) (sparse side = dense side) for two penalties that fail it:
# (h, the eps below which the dense identity code is cheaper).
EQ8_CROSSOVERS = {
    "sqrt(u)": (sp.sqrt(u), z1_star / 2),
    "u/(u+c)": (u / (u + c), sp.sqrt(c * z1_star**2 / (z1_star**2 + 2 * c))),
}


def eq5_value_at_optimum(R_value, d_value) -> sp.Expr:
    """Claimed value of the gamma terms of main Eq. (5) at gamma* = R/d: d log(R/d) + d."""
    return d_value * sp.log(R_value / d_value) + d_value


@step(
    STEPS,
    equations="main (5) = supp. (16)",
    claim="gamma* = R/d, and at gamma* the gamma terms d log gamma* + d -> -oo as the error R -> 0",
    method="same solve as (16); sympy limit R -> 0+",
)
def eq5_unbounded_below():
    gamma_star = derive_gamma_star()
    at_optimum = R / gamma_star + d * sp.log(gamma_star)
    require_zero(at_optimum - eq5_value_at_optimum(R, d), "value at gamma*")
    require(sp.limit(at_optimum, R, 0, "+") == -sp.oo, "unbounded below as R -> 0+")
    return proved("d log(R/d) + d -> -oo as R -> 0+")


@step(
    STEPS,
    equations="main (7)-(8)",
    claim="h(z1*^2) + h(0) < h(z1'^2) + h(z2'^2) for every eps holds "
    "for h = log, not for sqrt or a bounded h",
    method="solve the crossover eps for sqrt and u/(u+c); limits for log",
)
def eq8_comparison():
    # log: the sparse side is -oo, the dense side finite for every eps > 0
    require(sp.limit(sp.log(z1_star**2) + sp.log(u), u, 0, "+") == -sp.oo, "log: sparse side -oo")
    require((2 * sp.log(eps**2)).is_finite, "log: dense side finite")
    # sqrt (infinite slope at 0, h(0) = 0) and u/(u+c) (slope 1/c): the dense side -> 0 with eps
    for name, (h, claimed) in EQ8_CROSSOVERS.items():
        sparse = h.subs(u, z1_star**2) + h.subs(u, 0)
        dense = 2 * h.subs(u, eps**2)  # z1' = z2' = eps, the most the identity decoder needs
        require(sp.limit(dense, eps, 0, "+") == 0, f"{name}: dense side -> 0")
        roots = sp.solve(sp.Eq(sparse, dense), eps)
        require(len(roots) == 1, f"{name}: one crossover")
        require_zero(sp.factor(roots[0]) ** 2 - claimed**2, f"{name}: crossover")
    return erratum(
        "log: holds for all eps; sqrt: only for eps > z1*/2; u/(u+c): only for eps^2 > c z1*^2/(z1*^2+2c)",
        "Eq. (8) (main text, as restated in main_text_notes.md): an infinite slope at 0 does not by "
        "itself make the sparse solution win for small eps: with h = sqrt (h'(0+) = oo, h(0) = 0) "
        "the inequality fails for eps < z1*/2, just as for a bounded h. It holds for every eps when "
        "h(0) = -oo (log) or h jumps at 0 (I[u>0]); Theorem 4's slope condition is necessary only.",
    )
