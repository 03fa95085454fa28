"""Wrong implementations of what each `infgrad verify` row checks (used by tests/test_verify.py).

Each Mutation names a row, the project function it replaces ("module.function") and how the wrong
version is built from the right one: the mistakes one could plausibly make in the formula (a factor
off, a norm for a squared norm, a forgotten term, the paper's own misprint). Every row has at least
one; test_verify.py fails when a row is added without one.
"""
from __future__ import annotations

import math

import numpy as np

from tests.mutations import Mutation


def _scan_with(change):
    def make(original):
        def scan(*args, **kwargs):
            out = dict(original(*args, **kwargs))
            change(out)
            return out
        return scan
    return make


def _shift_norms(out):
    out["column_sq_norms"] = out["column_sq_norms"] + np.exp(out["log_gammas"])[:, None]


def _slope_plus_one(out):
    out["slope"] = out["slope"] + 1.0


def _printed_omega(original):
    def reparameterize(W, mu_z):
        omega = np.sum(W**2, axis=0)  # the text's omega_k = ||w_k||^2
        return W / omega, omega, omega[:, None] * mu_z
    return reparameterize


def _eq19_not_divided_by_d(original):
    def loss(X, recon_at_mu, Z):
        mse = float(np.mean((X - recon_at_mu) ** 2))
        return math.log(mse) + float(np.sum(np.log(np.mean(Z**2, axis=1))))
    return loss


def _theta1_cost_without_the_zero_row(original):
    from theory import theorem4

    def cost(h, X, eps, C):
        z1 = theorem4.sparse_code_theta1(X, eps, C)[0]
        return float(0.5 * np.asarray(h(np.array([np.mean(z1**2)]))).sum())
    return cost


def _keeps_exact_reconstruction(original):
    from theory import theorem4

    def unconstrained(h, X):
        return {"cost": theorem4.cost_theta0(h, X), "shrink": np.ones(2), "recon_mse": 0.0, "Z": X}
    return unconstrained


def _sqrt_closed_form_like_linear(original):
    def closed_form(name, C, n=256, seed=0, c=None):
        return original("linear" if name == "sqrt" else name, C, n=n, seed=seed, c=c)
    return closed_form


L2, L3, T4 = "theory.lemma2", "theory.lemma3", "theory.theorem4"
GAMMA_ROWS = ["lemma2.gamma_to_zero[d=4, kappa=4, r=2]", "lemma2.gamma_to_zero[d=5, kappa=3, r=2]"]

MUTATIONS: list[Mutation] = [
    Mutation("lemma2.sigma_star.shared", f"{L2}.log_sigma_z_star",
             lambda f: lambda W, lg: f(W, lg) + 0.5 * math.log(2.0), "sigma_k^2 off by a factor 2"),
    Mutation("lemma2.sigma_star.per_sample", f"{L2}.log_sigma_z_star",
             lambda f: lambda W, lg: 0.5 * (lg - np.logaddexp(lg, np.log(np.linalg.norm(W, axis=0)))),
             "gamma / (gamma + ||w_k||): the norm for the squared norm"),
    Mutation("lemma2.eq11_constant", f"{L2}.eq11_constant", lambda f: lambda kappa: f(kappa) + 1.0,
             "the dropped constant off by one"),
    Mutation("lemma2.eq11_constant", f"{L2}.loss_eq11",
             lambda f: lambda X, W, b, mu, lg: f(X, W, b, mu, lg) + W.shape[1] * lg,
             "(11) with d log gamma instead of (d - kappa) log gamma"),
    Mutation("lemma2.reparameterization", f"{L2}.reparameterize_eq13", _printed_omega,
             "the text's omega_k = ||w_k||^2"),
    Mutation("lemma2.omega_star", f"{L2}.omega_star", lambda f: lambda Z: f(Z) ** 2, "omega_k squared"),
    Mutation("lemma2.eq15_constant", f"{L2}.reduced_cost_eq15",
             lambda f: lambda Z: float(np.sum(np.log(np.sum(Z**2, axis=1)))), "||z_k||^2 without the 1/n"),
    Mutation("lemma2.eq12_limit", f"{L2}.eq12_expression", lambda f: lambda a, b, c, g: f(a, b, 0.0, g),
             "the c log gamma term dropped"),
    *[Mutation(f"{row}.slope", f"{L2}.gamma_to_zero_scan", _scan_with(_slope_plus_one), "the slope d - r off by one")
      for row in GAMMA_ROWS],
    *[Mutation(f"{row}.active", f"{L2}.gamma_to_zero_scan", _scan_with(_shift_norms),
               "column norms reported as gamma + ||w_k||^2") for row in GAMMA_ROWS],
    Mutation("lemma2.ppca_optimum", f"{L2}.optimal_affine_vae",
             lambda f: lambda X, kappa, lg: f(X, kappa, 0.5 * lg), "log gamma_std passed as log gamma_var"),
    Mutation("lemma3.gamma_star", f"{L3}.gamma_star", lambda f: lambda X, recon: f(X, recon) * X.shape[0],
             "gamma* = error / n (sum over d, not the mean)"),
    Mutation("lemma3.eq17_constant", f"{L3}.eq17_constant",
             lambda f: lambda d, log_sigma_z, n=None: f(d, log_sigma_z) - d, "the constant d forgotten"),
    Mutation("lemma3.eq18_limit", f"{L3}.loss_eq18",
             lambda f: lambda X, recon, Z: f(X, recon, Z) + X.shape[0] * math.log(X.size),
             "the error summed, not averaged over d n"),
    Mutation("lemma3.eq19_is_eq22", f"{L3}.loss_eq19", _eq19_not_divided_by_d, "the log energies not divided by d"),
    *[Mutation(f"theorem4.crossover[{name}]", f"{T4}.crossover_eps", lambda f: lambda *a, **k: 1.5 * f(*a, **k),
               "eps* off by a factor 1.5") for name in ("log_shift", "linear", "sqrt_shift", "ratio")],
    Mutation("theorem4.crossover[ratio]", f"{T4}.crossover_eps", lambda f: lambda *a, **k: (1 + 1e-5) * f(*a, **k),
             "eps* off by 1e-5 relative (10^4 times the root finder's accuracy)"),
    Mutation("theorem4.crossover[sqrt_shift]", f"{T4}.cost_theta0", lambda f: lambda h, X: 2.0 * f(h, X),
             "(24) without the 1/2"),
    Mutation("theorem4.crossover_family", f"{T4}.crossover_eps", lambda f: lambda *a, **k: f(*a, **k) ** 2,
             "eps*^2 (the energy scale) returned for eps*"),
    Mutation("theorem4.sparse_wins[log]", f"{T4}.cost_theta1", _theta1_cost_without_the_zero_row,
             "(23) without the zero row's h(0)"),
    Mutation("theorem4.sparse_wins[indicator]", f"{T4}.cost_theta1", lambda f: lambda h, X, eps, C: 2.0 * f(h, X, eps, C),
             "(23) without the 1/2"),
    Mutation("theorem4.sqrt_crossover", f"{T4}.crossover_eps_closed_form", _sqrt_closed_form_like_linear,
             "sqrt's eps* written like the linear one, sqrt(u / (m_1 + m_2))"),
    Mutation("theorem4.theta1_bound", f"{T4}.row_energy_theta1_lower_bound", lambda f: lambda C: C**2,
             "the (23) bound back to the text's C^2"),
    Mutation("theorem4.identity_g", f"{T4}.unconstrained_cost_identity_g", _keeps_exact_reconstruction,
             "g = identity minimum that keeps the exact reconstruction Z = X"),
]
