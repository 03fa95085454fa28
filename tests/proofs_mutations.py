"""Wrong versions of the formulas each proofs_check step confirms (used by tests/test_proofs_check.py).

Each Mutation names a step id, the module-level sympy expression or helper the step relies on
("proofs_check.module.name") and how the wrong version is built from the right one. Every step
has at least one; test_proofs_check.py fails when a step is added without one.
"""
from __future__ import annotations

import sympy as sp

from tests.mutations import Mutation


def _wrong_moments(original):
    """Every moment of the noise doubled (E eps^2 = 2): E'[f] = 2 E[f] - f(0)."""
    def expectation(expr, noise):
        return sp.expand(2 * original(expr, noise) - expr.subs({e: 0 for e in noise}))
    return expectation


def _sum_of_row_sums_squared(original):
    def rows(Z):
        return sum(sum(Z[k, i] for i in range(Z.shape[1])) ** 2 for k in range(Z.shape[0]))
    return rows


def _unbounded_slope_in_the_bounded_family(original):
    u = sp.Symbol("u", positive=True)
    return {**original, "u": sp.sqrt(u)}


def _wrong_ratio_threshold(original):
    u, c, m = sp.Symbol("u", positive=True), sp.Symbol("c", positive=True), sp.Symbol("m", positive=True)
    return {**original, "u/(u+c)": (u / (u + c), c * m**2 / (m**2 + c))}


def _wrong_sqrt_crossover(original):
    return {**original, "sqrt(u)": (original["sqrt(u)"][0], original["sqrt(u)"][1] / 2)}


L2, L3, T4, MT = "proofs_check.lemma2", "proofs_check.lemma3", "proofs_check.theorem4", "proofs_check.main_text"
GAMMA = sp.Symbol("gamma", positive=True)
D = sp.Symbol("d", positive=True, integer=True)

PROOF_MUTATIONS: list[Mutation] = [
    Mutation("lemma2.affine_reconstruction_expectation", f"{L2}.affine_error_closed_form",
                  lambda f: lambda x, W, mu, b, s: f(x, W, mu, b, sp.Matrix([sp.sqrt(v) for v in s])),
                  "the noise term with s_k instead of s_k^2"),
    Mutation("lemma2.affine_reconstruction_expectation", f"{L2}.gaussian_expectation", _wrong_moments,
                  "the noise moments doubled (E eps^2 = 2)"),
    Mutation("lemma2.sigma_k_minimizer", f"{L2}.sigma_sq_star",
                  lambda f: lambda w: GAMMA / (GAMMA + sp.sqrt(w)), "gamma / (gamma + ||w_k||)"),
    Mutation("lemma2.eq11_and_dropped_constant", f"{L2}.eq11_per_sample",
                  lambda f: lambda residual, mu_sq, w, d: f(residual, mu_sq, w, d) + len(w) * sp.log(GAMMA),
                  "(11) with d log gamma instead of (d - kappa) log gamma"),
    Mutation("lemma2.limit_eq12", f"{L2}.error_term", lambda f: lambda a: a * GAMMA,
                  "the residual times gamma instead of over gamma"),
    Mutation("lemma2.limit_eq13_square_case", f"{L2}.eq11_log_term",
                  lambda f: lambda w: sp.log(1 + w / GAMMA), "log(1 + ||w_k||^2 / gamma) for log(gamma + ||w_k||^2)"),
    Mutation("lemma2.reparameterization_eq13_to_eq14", f"{L2}.omega_of_column",
                  lambda f: lambda column: f(column) ** 2, "the text's omega_k = ||w_k||^2"),
    Mutation("lemma2.omega_minimizer_eq15", f"{L2}.eq14_row_term",
                  lambda f: lambda u, energy: f(u, energy) - sp.log(u) / 2, "(14) with log omega_k for log omega_k^2"),
    Mutation("lemma2.column_norm_constraint_eq15", f"{L2}.eq15_cost", lambda f: lambda rows: sum(rows),
                  "(15) without the log"),
    Mutation("lemma2.closing_limit", f"{L2}.closing_expression",
                  lambda f: lambda a, b, c: f(a, b, c) - a / GAMMA + a * GAMMA, "a gamma for a / gamma"),
    Mutation("lemma3.gamma_star_eq16", f"{L3}.gamma_terms", lambda f: lambda R, d: f(R, 1),
                  "(3)'s log gamma term without its factor d"),
    Mutation("lemma3.substitution_eq17", f"{L3}.eq17", lambda f: lambda R, mu_sq, n: f(R * D, mu_sq, n),
                  "(17) with d log R instead of d log(R / d)"),
    Mutation("lemma3.sigma_to_zero_eq18", f"{L3}.latent_draw", lambda f: lambda mu, s, e: mu + e,
                  "z = mu + eps: the encoder std forgotten"),
    Mutation("lemma3.sigma_to_zero_eq18", f"{L3}.sigma_only_term", lambda f: lambda v: v + sp.log(v),
                  "sigma^2 + log sigma^2 for sigma^2 - log sigma^2"),
    Mutation("lemma3.rows_columns_identity_eq18", f"{L3}.sum_over_rows", _sum_of_row_sums_squared,
                  "||sum_i z_ki||^2 for sum_i z_ki^2"),
    Mutation("lemma3.log_transform_and_divide_eq19", f"{L3}.eq19",
                  lambda f: lambda mse, rows, n: f(mse, rows, n) * D - (D - 1) * sp.log(mse),
                  "(19) with the log energies not divided by d"),
    Mutation("theorem4.bounded_slope_gap", f"{T4}.BOUNDED_PENALTIES", _unbounded_slope_in_the_bounded_family,
                  "sqrt(u) (h'(0+) = oo) among the bounded penalties"),
    Mutation("theorem4.indicator_passes_limiting_slope_test", f"{T4}.indicator",
                  lambda f: lambda value: sp.Integer(1), "an indicator that is 1 at 0 too"),
    Mutation("theorem4.theta1_needed_for_one_active_row", f"{T4}.logistic",
                  lambda f: lambda value: 1 / (1 + sp.exp(value)), "t(z) = 1 / (1 + e^z), decreasing"),
    Mutation("theorem4.theta1_bound_eq23", f"{T4}.theta1_energy_bound", lambda f: lambda C: C**2,
                  "the (23) bound back to the text's C^2"),
    Mutation("theorem4.theta0_bound_eq24", f"{T4}.row_energy", lambda f: lambda entries: sum(entries),
                  "||x_k||^2 without the 1/n"),
    Mutation("theorem4.conclusion_eq25", f"{T4}.CROSSOVER_THRESHOLDS", _wrong_ratio_threshold,
                  "eps_c^2 = c m^2 / (m^2 + c) for u / (u + c)"),
    Mutation("theorem4.log_keeps_sparse_optimum", f"{T4}.log_penalty", lambda f: lambda value: sp.log(1 + value),
                  "log(1 + u) for log u"),
    Mutation("theorem4.indicator_keeps_sparse_optimum", f"{T4}.indicator", lambda f: lambda value: sp.Integer(1),
                  "an indicator that is 1 at 0 too"),
    Mutation("main_text.eq5_unbounded_below", f"{MT}.eq5_value_at_optimum", lambda f: lambda R, d: d * sp.log(R),
                  "d log R at gamma* (the + d and the 1/d forgotten)"),
    Mutation("main_text.eq8_comparison", f"{MT}.EQ8_CROSSOVERS", _wrong_sqrt_crossover,
                  "the sqrt crossover at z1*/4"),
]
