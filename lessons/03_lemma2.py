# %% [markdown]
# # Lesson 3: Lemma 2, the affine VAE as gamma -> 0
#
# Builds on **Figure 7** of the figure lesson: [figures/README.md, section 7](../figures/README.md)
# (![Lemma 2](../figures/img/fig07_lemma2_infinite_gradient.png)).
#
# A VAE with an affine decoder W z + b and an encoder variance shared across samples has a global
# optimum in closed form at every fixed decoder variance gamma (probabilistic PCA:
# `lemma2.optimal_affine_vae`). Lemma 2 (supplement section 8.1) says that as gamma -> 0 its loss,
# Eq. (3) minimized over the encoder variances, becomes L_{g,h} with g = I_inf and h = log, provided
# the columns of W have unit norm (a constraint of Theta). You will measure the gamma -> 0 slope on
# your own data, count the active columns, see why Theta is needed, and look at the penalty the VAE
# carries at a finite gamma.

# %% tags=["parameters"]
import math

import numpy as np

from lessons.checks import check_active_columns, check_finite_gamma_penalty, check_lemma2_slope, check_rescaling
from theory import lemma2
from theory.objective import min_active_rows_affine
from theory.subspace import subspace_data

QUICK = False  # True: fewer gamma values, for a fast run
D, R, N, KAPPA, SEED = 6, 2, 50, 4, 0  # data in R^D on an R-dimensional affine subspace; KAPPA latents
SCALES = (0.9, 0.6)  # the data prior: x = offset + U diag(SCALES) g with g ~ N(0, I_R)


def my_data(rng):
    """Your own data (d, n), or None for the subspace data above. Try a curved set: it is full rank."""
    return None


# %%
X = my_data(np.random.default_rng(SEED))
if X is None:
    X = subspace_data(D, R, N, SEED, scales=SCALES, offset_std=0.5)
d, r = X.shape[0], min_active_rows_affine(X)
print(f"d = {d}, n = {X.shape[1]}, rank of the centred data r = {r}, kappa = {KAPPA}")

gammas = np.geomspace(1e-6, 10.0, 8 if QUICK else 29)
print(f"{'gamma':>9s} {'min Eq.(3)':>12s} {'active columns':>15s}")
for gamma in gammas[::-1]:
    opt = lemma2.optimal_affine_vae(X, KAPPA, math.log(gamma))
    print(f"{gamma:9.2e} {opt['loss']:12.4f} {int(opt['active'].sum()):15d}")
print("data eigenvalues:", np.array2string(opt["eigenvalues"], precision=3))

# %% [markdown]
# ### Exercise 3.1
# By how much does the optimal loss fall per unit of log gamma as gamma -> 0, for these data? Give the
# number (Figure 7(a) shows it for the subspace data).

# %% tags=["exercise"]
answer_3_1 = None

# %% tags=["solution"]
# Below the data eigenvalues each active column contributes 1 + log lambda_j (gamma-free) and each of the
# d - r other directions contributes log gamma (`optimal_loss_closed_form`): slope d - min(r, kappa).
answer_3_1 = d - min(r, KAPPA)

# %%
check_lemma2_slope(answer_3_1, X, KAPPA)

# %% [markdown]
# ### Exercise 3.2
# Give the number of nonzero columns of W in the optimum at a given gamma, as a function of gamma.

# %% tags=["exercise"]
answer_3_2 = None

# %% tags=["solution"]
# pPCA: column j is sqrt(lambda_j - gamma) u_j when lambda_j > gamma, else 0; at most kappa of them.
eigenvalues = lemma2.optimal_affine_vae(X, KAPPA, 0.0)["eigenvalues"]
answer_3_2 = lambda gamma: min(KAPPA, int(np.sum(eigenvalues > gamma)))  # noqa: E731

# %%
check_active_columns(answer_3_2, X, KAPPA)

# %% [markdown]
# ### Exercise 3.3: why Theta needs unit-norm columns
# Eq. (15) is sum_k log((1/n)||z_k||^2) under x = W z + b. Rescale (W, Z) -> (t W, Z / t): the data are
# reconstructed exactly as before. By how much does (15) change, for k active rows? Give
# `answer_3_3 = lambda t, k: ...` (`lemma2.reduced_cost_eq15` evaluates (15)).

# %% tags=["exercise"]
answer_3_3 = None

# %% tags=["solution"]
# Each row energy is divided by t^2: log(u_k / t^2) = log u_k - 2 log t, summed over k rows.
answer_3_3 = lambda t, k: -2.0 * k * math.log(t)  # noqa: E731

# %%
check_rescaling(answer_3_3, X, KAPPA)

# %% [markdown]
# ## At a finite gamma: the bridge to Theorem 4
# Eq. (11) carries log(gamma + ||w_k||^2), the log(u + c) penalty with c = gamma on the column energy.
# Reparameterized as in (13)-(14), the penalty on a row energy u is
# f(u) = min over omega of [log(gamma + omega^2) + u / omega^2] (`lemma2.row_penalty_eq11`).

# %%
for gamma in (1e-2, 1e-4):
    f = lemma2.row_penalty_eq11(math.log(gamma))
    u = gamma * np.array([1e-8, 1e-6, 1e-4, 1.0, 1e2, 1e4])
    print(f"gamma = {gamma:g}: f(u) - f(0) =", np.array2string(f(u) - f(0.0), precision=4),
          " log u + 1 - f(u) =", np.array2string(np.log(u) + 1 - f(u), precision=3))

# %% [markdown]
# ### Exercise 3.4
# How does f(u) - f(0) behave as u -> 0 at a fixed gamma? Give the leading term as a function of
# (u, gamma). Is the slope at 0 bounded?

# %% tags=["exercise"]
answer_3_4 = None

# %% tags=["solution"]
# With x = sqrt(u / gamma) -> 0: omega^2 ~ sqrt(u gamma), so log(gamma + omega^2) - log gamma ~ x and
# u / omega^2 ~ x: f(u) - f(0) ~ 2 sqrt(u / gamma). Unbounded slope, finite f(0) = log gamma: like sqrt.
answer_3_4 = lambda u, gamma: 2.0 * math.sqrt(u / gamma)  # noqa: E731

# %%
check_finite_gamma_penalty(answer_3_4)

# %% [markdown]
# ## What to take away
# As gamma -> 0 the optimum is sparse (r active columns) and its loss falls like (d - r) log gamma:
# Lemma 2's h = log with its h(0) = -infinity. At any finite gamma the penalty has a finite value at
# 0, and lesson 2's counterexample applies (figures/README.md, section 7: eps* ~ gamma^(1/4)).
