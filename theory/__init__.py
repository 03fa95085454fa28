"""Numerical side of the theory of Dai, Wenliang & Wipf (NeurIPS 2021), float64 numpy/scipy only.

The paper's objects under their paper names: the VAE loss of Eq. (3) (`vae_loss`), Lemma 2 and
its reduced losses (11)-(15) (`lemma2`), Lemma 3 and (16)-(19) (`lemma3`), the penalties g, h and
the objective L_{g,h} of Eq. (22) (`penalties`, `objective`) and Theorem 4's counterexample (20)-(25)
(`theorem4`). The computations behind the figures that illustrate them (main-text Figures 1 and 3,
Theorem 4 between theta = 0 and 1) live in figures/. gamma is the decoder VARIANCE, passed as
log_gamma_var. Never imports torch.
"""
from theory.lemma2 import (
    eq11_constant,
    eq12_expression,
    loss_eq11,
    omega_star,
    optimal_affine_vae,
    reduced_cost_eq15,
    sigma_z_star,
)
from theory.lemma3 import gamma_star, gamma_star_affine, loss_eq17, loss_eq18, loss_eq19
from theory.objective import active_rows, infinite_indicator, is_optimal_sparse, objective_eq22
from theory.penalties import (
    Penalty,
    indicator,
    linear,
    log_penalty,
    log_shift,
    penalty_family,
    ratio,
    sqrt_penalty,
    sqrt_shift,
)
from theory.theorem4 import (
    cost_theta0,
    cost_theta1,
    crossover_eps,
    decoder_eq20,
    logistic,
    logit,
    pi_inverse,
    pi_map,
    sample_data_eq21,
)
from theory.vae_loss import affine_vae_loss_eq3, neg_elbo_per_sample, vae_loss_eq3

__all__ = [
    "Penalty", "active_rows", "affine_vae_loss_eq3", "cost_theta0", "cost_theta1", "crossover_eps",
    "decoder_eq20", "eq11_constant", "eq12_expression", "gamma_star", "gamma_star_affine",
    "indicator", "infinite_indicator", "is_optimal_sparse", "linear", "log_penalty", "log_shift",
    "logistic", "logit", "loss_eq11", "loss_eq17", "loss_eq18", "loss_eq19", "neg_elbo_per_sample",
    "objective_eq22", "omega_star", "optimal_affine_vae", "penalty_family", "pi_inverse", "pi_map",
    "ratio", "reduced_cost_eq15", "sample_data_eq21", "sigma_z_star", "sqrt_penalty", "sqrt_shift",
    "vae_loss_eq3",
]
