# %% [markdown]
# # Lesson 2: Theorem 4 by hand
#
# Builds on **Figures 2, 3 and 4** of the figure lesson: [figures/README.md, sections 2-4](../figures/README.md)
# (![costs against eps](../figures/img/fig03_theorem4_costs.png)).
#
# Theorem 4's counterexample (supplement section 8.3, Eq. 20-25) in a few lines of numpy. Data lie on a
# curve pi inside an eps x eps square (Eq. 21). The decoder (20), mu_x(z; theta) = theta pi(t(z_1)) +
# (1 - theta) z with theta in Theta = [0, 1], reconstructs them exactly in two ways:
#
# * theta = 1: **one** active row, z_1 = logit(pi^{-1}(x)), of size O(1) whatever eps is;
# * theta = 0: the identity, Z = X, **two** active rows, both of size O(eps).
#
# With g = I_inf only exact solutions compete and the cost is (1/2) sum_k h(u_k) (Eq. 22, d = 2). You
# will compute both costs, the crossover eps* below which theta = 0 is cheaper, and its rate in c.

# %% tags=["parameters"]
import math

import numpy as np

from lessons.checks import check_crossover, check_crossover_rates, check_failure_eps, check_theta1_bound
from theory import penalties, theorem4

QUICK = False  # True: fewer samples, for a fast run
EPS = 0.1  # the size of the square holding the data
C = 0.7  # the data have t(z_gt) in [C, 1): the prior of Eq. (21) here is uniform in t on [C, 1)
N = 256  # number of samples
SEED = 0
C_SHIFT = 0.01  # c of log(u + c) and u/(u + c)


def my_h(u):
    """Your own penalty (concave, non-decreasing on u >= 0)."""
    return np.log1p(u / 0.05)


# %%
n = 64 if QUICK else N
X, s = theorem4.sample_data_eq21(n, EPS, C, SEED, return_latent=True)  # X (2, n); s = t(z_gt)
print("data: radius", np.hypot(*X[:, :3]).round(4), "... all inside the square of side", EPS)
Z_sparse = theorem4.sparse_code_theta1(X, EPS, C)  # theta = 1: z_1 = logit(s), z_2 = 0
Z_dense = X.copy()  # theta = 0: the identity decoder needs Z = X
for name, Z in (("theta = 1", Z_sparse), ("theta = 0", Z_dense)):
    print(f"{name}: row energies u_k = (1/n)||z_k||^2 =", np.mean(Z**2, axis=1).round(6))

# %% [markdown]
# The theta = 1 code does not shrink with eps: z_1 = logit(s) >= logit(C) whatever the square's size.
#
# ### Exercise 2.1
# Give the sharp lower bound on (1/n)||z_1||^2 at theta = 1 as a function of C, for C >= 1/2
# (`answer_2_1 = lambda C: ...`). The supplement prints C^2 (Eq. 23): is that right?

# %% tags=["exercise"]
answer_2_1 = None

# %% tags=["solution"]
# Zero reconstruction at theta = 1 forces t(z_1) = s >= C, i.e. z_1 = logit(s) >= logit(C) >= 0 for
# C >= 1/2. Every sample at s = C attains the bound. C^2 is below logit(C)^2 only for C >= 0.659.
from scipy.special import logit  # noqa: E402

answer_2_1 = lambda C_: float(logit(C_)) ** 2  # noqa: E731

# %%
check_theta1_bound(answer_2_1)

# %% [markdown]
# ## The two costs against eps
# `theorem4.cost_theta1` and `theorem4.cost_theta0` are Eq. (23) and (24) with raw h (no
# normalisation). The data scale exactly with eps for a fixed seed, so we can sweep eps.

# %%
h = penalties.log_shift(C_SHIFT)
for eps in (1e-3, 1e-2, 1e-1, 1.0):
    Xe = theorem4.sample_data_eq21(n, eps, C, SEED)
    cost1, cost0 = theorem4.cost_theta1(h, Xe, eps, C), theorem4.cost_theta0(h, Xe)
    print(f"eps = {eps:6g}: theta = 1 costs {cost1:8.4f}, theta = 0 costs {cost0:8.4f}",
          "-> theta = 0 cheaper" if cost0 < cost1 else "-> theta = 1 cheaper")

# %% [markdown]
# The same comparison for your `my_h` on a grid of eps, drawn as in Figure 3.

# %%
import matplotlib.pyplot as plt  # noqa: E402

eps_grid = np.geomspace(1e-3, 10.0, 25 if QUICK else 81)
theta0 = [theorem4.cost_theta0(my_h, theorem4.sample_data_eq21(n, e, C, SEED)) for e in eps_grid]
theta1 = theorem4.cost_theta1(my_h, X, EPS, C)  # does not depend on eps
fig, ax = plt.subplots(figsize=(5, 3))
ax.semilogx(eps_grid, theta0, label="theta = 0 (Eq. 24)")
ax.axhline(theta1, color="k", ls="--", label="theta = 1 (Eq. 23)")
ax.axvspan(1.0, eps_grid[-1], color="0.9", label="eps > 1: outside the unit square")
ax.set(xlabel="eps", ylabel="cost (raw h)", title="my_h: the two exact solutions")
ax.legend(frameon=False, fontsize=8)
fig.tight_layout()

# %% [markdown]
# ### Exercise 2.2: eps* for your own h
# Find the crossover eps* for `my_h` on these data by bisection on log eps (write the loop yourself;
# use `theorem4.sample_data_eq21`, `cost_theta0` and `cost_theta1`). Give it to 6 digits.

# %% tags=["exercise"]
answer_2_2 = None

# %% tags=["solution"]
def gap(log_eps):
    """cost_theta0 - cost_theta1 at eps = exp(log_eps): negative below eps*."""
    eps = math.exp(log_eps)
    Xe = theorem4.sample_data_eq21(n, eps, C, SEED)
    return theorem4.cost_theta0(my_h, Xe) - theorem4.cost_theta1(my_h, Xe, eps, C)


low, high = math.log(1e-6), math.log(1e6)  # gap(low) < 0 < gap(high) for this h
for _ in range(80):
    mid = 0.5 * (low + high)
    low, high = (mid, high) if gap(mid) < 0 else (low, mid)
answer_2_2 = math.exp(0.5 * (low + high))
print("eps* =", answer_2_2)

# %%
check_crossover(answer_2_2, my_h, C, n, SEED)

# %% [markdown]
# ### Exercise 2.3: the rate in c
# As c -> 0, log(u + c) and u/(u + c) get an unbounded slope at 0, and eps* shrinks. Derive the
# exponents p and q in eps* ~ c^p (log(u + c)) and eps* ~ c^q (u/(u + c)); the check fits them from
# `theorem4.crossover_eps`. Hint: with m_k = (1/n)||x_k||^2 at eps = 1 and u = (1/n)||z_1||^2, the
# crossover of log(u + c) solves (eps^2 m_1 + c)(eps^2 m_2 + c) = c (u + c).

# %% tags=["exercise"]
answer_2_3 = None

# %% tags=["solution"]
# log(u + c): for small c the left side is ~ eps^4 m_1 m_2 (eps^2 m >> c at the crossover) and the right
# side ~ c u, so eps^4 ~ c u / (m_1 m_2): p = 1/4. u/(u + c): the theta = 1 cost is ~ 1/2, the theta = 0
# cost (1/2) sum_k eps^2 m_k / (eps^2 m_k + c) reaches 1/2 when eps^2 m ~ c: q = 1/2.
answer_2_3 = {"log_shift": 0.25, "ratio": 0.5}

# %%
check_crossover_rates(answer_2_3, C=C)

# %% [markdown]
# ### Exercise 2.4: every h continuous at 0 with a finite h(0) fails
# Take h(u) = u^(1/3): its slope at 0 is unbounded. Give an eps in (0, 1] at which the non-sparse
# theta = 0 solution is strictly cheaper. Then explain why such an eps exists for every h that is
# continuous at 0 with a finite h(0).

# %%
def cube_root(u):
    return np.cbrt(u)


# %% tags=["exercise"]
answer_2_4 = None

# %% tags=["solution"]
# theta = 0 costs (1/2) sum_k h(eps^2 m_k) -> h(0) as eps -> 0 (continuity), while theta = 1 costs
# (1/2)(h(0) + h(u)) > h(0) since h(u) > h(0) for the O(1) energy u. So a small enough eps works:
# halve eps until theta = 0 is cheaper.
eps = 1.0
while True:
    Xe = theorem4.sample_data_eq21(n, eps, C, SEED)
    if theorem4.cost_theta0(cube_root, Xe) < theorem4.cost_theta1(cube_root, Xe, eps, C):
        break
    eps /= 2
answer_2_4 = eps

# %%
check_failure_eps(answer_2_4, cube_root, C, n, SEED)

# %% [markdown]
# ## What to take away
# A bounded slope makes h(eps^2) - h(0) vanish, but so does any continuity at 0 with a finite h(0):
# the unbounded slope is necessary (Theorem 4), not sufficient. Only h(0) = -infinity (log) or a jump
# (the indicator) keeps the sparse theta = 1 solution optimal for every eps. Section 7 of the figure
# lesson shows that the VAE at a finite gamma is in the failing class too, with eps* ~ gamma^(1/4).
