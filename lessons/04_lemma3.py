# %% [markdown]
# # Lesson 4: Lemma 3, gamma* = error / d, and what learning gamma gives
#
# Builds on **Figure 8** of the figure lesson: [figures/README.md, section 8](../figures/README.md)
# (![Lemma 3](../figures/img/fig08_lemma3_gamma_star.png)).
#
# Hold a VAE's decoder and encoder fixed and vary only the decoder variance gamma: Eq. (3) depends on
# it through e / gamma + d log gamma, with e the expected squared reconstruction error per sample.
# Lemma 3 (supplement section 8.2) plugs in the optimum gamma* (Eq. 16), lets sigma_z -> 0 (Eq. 18)
# and then applies a log transformation to each row energy (Eq. 19). You will compute gamma*, predict it
# for decoders fitted by pPCA, and find which penalties learning gamma really gives.

# %% tags=["parameters"]
import math

import numpy as np

from lessons.checks import check_gamma_star, check_learned_gamma_objective, check_log_axis_shape, check_ppca_gamma_star
from theory import lemma2, lemma3
from theory.subspace import subspace_data
from theory.vae_loss import affine_vae_loss_eq3

QUICK = False  # True: a coarser gamma grid
D, R, N, KAPPA, SEED = 6, 2, 50, 4, 0  # data in R^D on an R-dimensional affine subspace
SCALES = (0.9, 0.6)  # standard deviations along the subspace (the data prior)
GAMMA_0S = (0.3, 1e-2, 1e-4)  # the variances at which the three decoders are fitted

# %%
X = subspace_data(D, R, N, SEED, scales=SCALES, offset_std=0.5)
decoders = {g0: lemma2.optimal_affine_vae(X, KAPPA, math.log(g0)) for g0 in GAMMA_0S}
log_gammas = np.linspace(math.log(1e-7), math.log(10.0), 15 if QUICK else 61)
for g0, opt in decoders.items():
    args = (X, opt["W"], opt["b"], opt["mu_z"], opt["log_sigma_z"])
    losses = np.array([affine_vae_loss_eq3(*args, lg) for lg in log_gammas])
    best = math.exp(log_gammas[np.argmin(losses)])
    print(f"decoder fitted at gamma_0 = {g0:g}: Eq. (3) is lowest near gamma = {best:.3g} on the grid; "
          f"gamma* (Eq. 16) = {lemma3.gamma_star_affine(*args):.4g}")

# %% [markdown]
# ### Exercise 4.1
# Write gamma* of Eq. (16) from the data X (d, n) and decoder outputs recon (S, d, n) at S samples
# z ~ q(z | x) per data point: `answer_4_1 = lambda X, recon: ...`.

# %% tags=["exercise"]
answer_4_1 = None

# %% tags=["solution"]
# d(Eq. 3)/dgamma = -e/gamma^2 + d/gamma = 0 at gamma = e/d, with e = (1/n) sum_i E||x_i - mu_x(z)||^2:
# the mean of the squared error over draws, samples AND coordinates.
answer_4_1 = lambda X_, recon: float(np.mean((X_[None] - recon) ** 2))  # noqa: E731

# %%
check_gamma_star(answer_4_1)

# %% [markdown]
# ### Exercise 4.2
# The decoders above are the pPCA optimum at gamma_0 (every data eigenvalue above gamma_0). Predict
# their gamma* as a function of (gamma_0, r, d). Hint: along an active direction with eigenvalue
# lambda the ridge mean shrinks by gamma_0 / lambda and the encoder adds noise of variance
# gamma_0 / lambda through a column of squared norm lambda - gamma_0.

# %% tags=["exercise"]
answer_4_2 = None

# %% tags=["solution"]
# Per active direction: shrinkage error lambda (gamma_0/lambda)^2 = gamma_0^2/lambda, noise
# (lambda - gamma_0) gamma_0/lambda; together gamma_0. The other directions hold no data. e = r gamma_0.
answer_4_2 = lambda gamma_0, r_, d_: r_ * gamma_0 / d_  # noqa: E731

# %%
check_ppca_gamma_star(answer_4_2, X, KAPPA)

# %% [markdown]
# ### Exercise 4.3: what learning gamma gives
# With gamma = gamma* and sigma_z -> 0, Eq. (3) becomes Eq. (18): d log(error) + sum_k u_k. Give the
# pair (g, h) of functions for which Eq. (18) = d * L_{g,h} (Eq. 22, `objective.objective_eq22`).

# %% tags=["exercise"]
answer_4_3 = None

# %% tags=["solution"]
# d L_{g,h} = d g(error) + sum_k h(u_k): g = log, h = u. Not h = log: that is Eq. (19), reached only
# through the log transformation of each u_k that Lemma 3 assumes (a change of objective).
answer_4_3 = (np.log, lambda u: u)

# %%
check_learned_gamma_objective(answer_4_3)

# %% [markdown]
# ### Exercise 4.4: sharper minima?
# Figure 8 draws Eq. (3) against gamma on a log axis. Give L(log gamma* + t) - L(log gamma*) as a
# function of (t, d) for a fixed decoder and encoder. Does a better decoder give a sharper minimum?

# %% tags=["exercise"]
answer_4_4 = None

# %% tags=["solution"]
# L = d gamma*/gamma + d log gamma + (gamma-free terms). With gamma = gamma* e^t:
# L(t) - L(0) = d (e^(-t) - 1) + d t. The same curve for every decoder: on a log axis the minima are
# equally sharp; in gamma itself the curvature d / gamma*^2 grows as gamma* shrinks.
answer_4_4 = lambda t, d_: d_ * (math.exp(-t) + t - 1.0)  # noqa: E731

# %%
check_log_axis_shape(answer_4_4, X, KAPPA, GAMMA_0S)

# %% [markdown]
# ## What to take away
# Learning gamma gives g = log (the d log gamma* term) and sends the loss to -infinity as the error
# goes to 0; it does not, by itself, give h = log: the latent term of Eq. (18) is the linear h = u,
# which Theorem 4 defeats (eps* = 2.78 in Figure 3). The VAE's log comes from the encoder variances
# (Lemma 2, lesson 3).
