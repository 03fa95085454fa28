# %% [markdown]
# # Lesson 6: a small VAE on a low-dimensional manifold
#
# Builds on **Figure 9** (main-text Figure 1) and sections 7-8 of the figure lesson:
# [figures/README.md, sections 7-9](../figures/README.md)
# (![outliers on a manifold](../figures/img/fig09_outlier_manifold.png)).
#
# Data fill a curved R-dimensional manifold inside R^D. A VAE with KAPPA > R latent dimensions and a
# learned decoder variance gamma is trained with Adam on Eq. (3). Lemma 2 and Definition 1 predict how
# many latent dimensions stay informative; Lemma 3 (Eq. 16) predicts where gamma goes. This lesson
# needs torch (the `experiments` extra); everything else in the lessons is numpy.

# %% tags=["parameters"]
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from lessons.checks import check_active_dimensions, check_gamma_ratio, check_gamma_star_of_run

QUICK = False  # True: 200 steps on 256 samples instead of STEPS on N
D, R, KAPPA = 6, 1, 4  # ambient dimension, manifold dimension (R <= D / 2), latent dimensions
N, STEPS, LR, HIDDEN, SEED = 512, 3000, 3e-3, 64, 0
ACTIVE_BELOW = 0.5  # a latent dimension is active when its mean posterior variance is below this

# %% [markdown]
# ## Data: a product of R arcs, embedded in R^D
# Each ground-truth coordinate s_j ~ Uniform[0, 1] bends onto an arc (cos a, sin a), a = pi (0.1 + 0.8 s_j):
# R arcs give an R-dimensional curved manifold in R^(2R), rotated into R^D and standardised.

# %%
rng = np.random.default_rng(SEED)
n = 256 if QUICK else N
s = rng.uniform(0.0, 1.0, (n, R))
angle = np.pi * (0.1 + 0.8 * s)
embedding = np.linalg.qr(rng.standard_normal((D, 2 * R)))[0]  # orthonormal columns
X_np = np.concatenate([np.cos(angle), np.sin(angle)], axis=1) @ embedding.T  # (N, D)
X_np = (X_np - X_np.mean(axis=0)) / X_np.std()
print("data covariance eigenvalues:", np.array2string(np.linalg.eigvalsh(np.cov(X_np.T))[::-1], precision=3))

# %% [markdown]
# The covariance has 2R nonzero eigenvalues: a linear model (PCA) would need 2R dimensions, the
# curved manifold has R degrees of freedom.
#
# ## The VAE of Eq. (3)
# Encoder and decoder are two-hidden-layer tanh networks; gamma is a learned VARIANCE stored as its log.
# The loss is Eq. (3) with one draw z ~ q(z | x) per sample (constants dropped, the KL part shifted by
# kappa so that an inactive dimension costs 0).

# %%
class VAE(nn.Module):
    def __init__(self, d: int, kappa: int, hidden: int):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(d, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                     nn.Linear(hidden, 2 * kappa))
        self.decoder = nn.Sequential(nn.Linear(kappa, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                     nn.Linear(hidden, d))
        self.log_gamma_var = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        mu, log_sigma = self.encoder(x).chunk(2, dim=-1)
        recon = self.decoder(mu + torch.exp(log_sigma) * torch.randn_like(mu))
        d = x.shape[1]
        error = ((x - recon) ** 2).sum(-1)
        kl_part = (torch.expm1(2 * log_sigma) - 2 * log_sigma + mu**2).sum(-1)
        loss = error * torch.exp(-self.log_gamma_var) + d * self.log_gamma_var + kl_part
        return loss.mean(), log_sigma, recon


# A model this small runs fastest on one thread: with more, OpenMP threads spin-wait on every tiny
# operation (measured: 300 steps took 45 s with the default threads on a busy 2-core machine, 3 s
# with one).
torch.set_num_threads(1)
torch.manual_seed(SEED)
x = torch.tensor(X_np, dtype=torch.float32)
model = VAE(D, KAPPA, HIDDEN)
optimizer = torch.optim.Adam(model.parameters(), lr=LR)
steps = 200 if QUICK else STEPS
history = {"step": [], "loss": [], "gamma": [], "mse": [], "active": []}
for step in range(steps + 1):
    loss, log_sigma, recon = model(x)
    if step % max(1, steps // 30) == 0 or step == steps:
        posterior_var = torch.exp(2 * log_sigma).mean(dim=0).detach().numpy()
        history["step"].append(step)
        history["loss"].append(loss.item())
        history["gamma"].append(math.exp(model.log_gamma_var.item()))
        history["mse"].append(((x - recon) ** 2).mean().item())  # one draw: an estimate of gamma*
        history["active"].append(int(np.sum(posterior_var < ACTIVE_BELOW)))
    if step == steps:
        break
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(f"after {steps} steps: gamma = {history['gamma'][-1]:.3g}, active dimensions = {history['active'][-1]}, "
      f"posterior variances {np.array2string(posterior_var, precision=3)}")

# %%
fig, (ax_g, ax_a) = plt.subplots(1, 2, figsize=(9, 3))
ax_g.semilogy(history["step"], history["gamma"], label="learned $\\gamma$")
ax_g.semilogy(history["step"], history["mse"], "--", label="error per coordinate (one draw)")
ax_g.set(xlabel="Adam step", title="decoder variance")
ax_g.legend(frameon=False)
ax_a.step(history["step"], history["active"], where="post")
ax_a.set(xlabel="Adam step", ylabel="active latent dimensions", yticks=range(KAPPA + 1),
         title=f"posterior variance < {ACTIVE_BELOW}")
fig.tight_layout()

# %% [markdown]
# ### Exercise 6.1
# How many of the KAPPA latent dimensions does an optimal sparse representation (Definition 1) of these
# data keep informative? Give the number (in terms of the parameters).

# %% tags=["exercise"]
answer_6_1 = None

# %% tags=["solution"]
# Zero reconstruction needs the R degrees of freedom of the manifold, and Definition 1 leaves every
# other dimension at the prior: R active, KAPPA - R inactive (not 2R, what PCA would use).
answer_6_1 = R

# %%
check_active_dimensions(answer_6_1, R, KAPPA, history["active"][-1])

# %% [markdown]
# ### Exercise 6.2
# Compute gamma* of Eq. (16) for the trained model from S = 16 draws z ~ q(z | x) per sample:
# `recon_samples` (S, D, N) below holds the decoder outputs and `X_cols` (D, N) the data.

# %%
with torch.no_grad():
    recon_samples = np.stack([model(x)[2].numpy().T for _ in range(16)]).astype(np.float64)
X_cols = X_np.T.astype(np.float64)

# %% tags=["exercise"]
answer_6_2 = None

# %% tags=["solution"]
# Eq. (16): the mean over draws, samples and coordinates of the squared error.
answer_6_2 = float(np.mean((X_cols[None] - recon_samples) ** 2))

# %%
check_gamma_star_of_run(answer_6_2, X_cols, recon_samples)

# %% [markdown]
# ### Exercise 6.3
# If gamma sat exactly at a stationary point of Eq. (3) in gamma (everything else fixed), what would the
# ratio gamma / gamma* be? Compare with the run.

# %% tags=["exercise"]
answer_6_3 = None

# %% tags=["solution"]
# d(Eq. 3)/dgamma = -e/gamma^2 + d/gamma = 0 only at gamma = e/d = gamma*: the ratio is 1. Adam moves
# log gamma by about LR per step, slower than the error falls, so the learned gamma lags behind.
answer_6_3 = 1.0

# %%
check_gamma_ratio(answer_6_3, history["gamma"][-1], answer_6_2 if answer_6_2 is not None else history["mse"][-1])

# %% [markdown]
# ## What to take away
# The VAE switches off the dimensions it does not need (posterior variance back to 1, the prior) and
# keeps R of them, while gamma keeps falling with the reconstruction error: Eq. (3) is unbounded below
# as the error goes to 0 (Eq. 5). Try R = 2, or a larger KAPPA: the count of active dimensions follows
# R, not KAPPA (the paper's Table 1 makes the same point with kappa from 16 to 512).
