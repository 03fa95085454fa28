# %% [markdown]
# # Lesson 5: the errata, derived with sympy
#
# Builds on the erratum under **Figure 3** of the figure lesson
# ([figures/README.md, section 3](../figures/README.md)) and on `proofs_check/REPORT.md`, which re-derives
# every step of the supplement's proofs with sympy (`python -m proofs_check`)
# (![costs against eps](../figures/img/fig03_theorem4_costs.png)).
#
# Three printed statements do not hold as written: the bound of Eq. (23), the normalisation of
# Eq. (25) that rests on it, and omega_k in Eq. (14). You will derive the corrected statements and find
# where the printed bound stops holding.

# %% tags=["parameters"]
import sympy as sp

from lessons.checks import check_omega_power, check_paper_bound_threshold, check_ratio_crossover, check_theta1_bound_symbolic

QUICK = False  # nothing here is slow; kept for a uniform interface
C = sp.Symbol("C", positive=True)  # Theorem 4's constant: the data have t(z_gt) in [C, 1)
c, m = sp.symbols("c m", positive=True)  # a penalty's shift c; m = logit(C)
u = sp.Symbol("u", positive=True)  # a row energy


def t(z):
    """The squashing function of Eq. (20): the logistic function."""
    return 1 / (1 + sp.exp(-z))


# %% [markdown]
# ## Eq. (23): what theta = 1 must pay
# At theta = 1 the decoder is pi(t(z_1)), so zero reconstruction forces t(z_1) = s for each sample's
# s = t(z_gt) in [C, 1). Solve for z_1 with sympy:

# %%
z, s_ = sp.symbols("z s", positive=True)
print(sp.solve(sp.Eq(t(z), s_), z))

# %% [markdown]
# ### Exercise 5.1
# Give the sharp lower bound on (1/n)||z_1||^2 at theta = 1, for C >= 1/2, as a sympy expression in `C`.

# %% tags=["exercise"]
answer_5_1 = None

# %% tags=["solution"]
# z_1 = log(s / (1 - s)) is increasing in s and >= 0 for s >= 1/2, so z_1^2 >= log(C / (1 - C))^2,
# attained when every sample has s = C. The supplement's C^2 is not this bound.
answer_5_1 = sp.log(C / (1 - C)) ** 2

# %%
check_theta1_bound_symbolic(answer_5_1)

# %% [markdown]
# ### Exercise 5.2
# The printed bound C^2 is still a valid (weaker) bound when C^2 <= logit(C)^2. Find the C0 in (1/2, 1)
# above which that holds (a float, 6 digits or better).

# %% tags=["exercise"]
answer_5_2 = None

# %% tags=["solution"]
# logit(C) - C is increasing (its derivative 1/(C(1-C)) - 1 > 0) with one root: solve numerically.
answer_5_2 = float(sp.nsolve(sp.log(C / (1 - C)) - C, C, 0.66))
print("C0 =", answer_5_2)

# %%
check_paper_bound_threshold(answer_5_2)

# %% [markdown]
# ### Exercise 5.3: the corrected Eq. (25)
# Normalise h so that h(0) = 0 and h(m^2) = 1 with m = logit(C) (the bound of 5.1; the supplement
# writes h(C^2) = 1). Then theta = 1 costs at least 1/2, and theta = 0 costs at most h(eps^2). For
# h(u) = u/(u + c), give eps_c^2, the eps^2 at which h(eps^2) = 1/2, as a sympy expression in `c`, `m`.

# %% tags=["exercise"]
answer_5_3 = None

# %% tags=["solution"]
e = sp.Symbol("e", positive=True)  # e = eps^2
h = u / (u + c)
normalised = h / h.subs(u, m**2)
(answer_5_3,) = sp.solve(sp.Eq(normalised.subs(u, e), sp.Rational(1, 2)), e)
print("eps_c^2 =", answer_5_3, "; C = 3/4, c = 0.01: eps_c =",
      float(sp.sqrt(answer_5_3.subs({c: sp.Rational(1, 100), m: sp.log(3)}))))

# %%
check_ratio_crossover(answer_5_3)

# %% [markdown]
# ### Exercise 5.4: Eq. (14)
# The reparameterization of Lemma 2 writes W = W_unit Omega and z = Omega mu with Omega =
# diag(omega_k). The supplement prints omega_k = ||w_k||^2. For which power p in omega_k = ||w_k||^p
# do (13) and (14) describe the same objective (W_unit z = W mu and log omega_k^2 = log ||w_k||^2)?

# %% tags=["exercise"]
answer_5_4 = None

# %% tags=["solution"]
# W_unit z = (W / ||w||) ||w||^p mu = W mu needs p = 1; then log omega^2 = log ||w||^2 as (13) has it.
answer_5_4 = 1

# %%
check_omega_power(answer_5_4)

# %% [markdown]
# ## What to take away
# The conclusion of Theorem 4 survives every erratum: what the proof needs is that the theta = 1 code
# does not shrink with eps, and logit(C)^2 > 0 for C > 1/2 provides it. The printed constants are
# wrong, not the theorem (`proofs_check/REPORT.md`, findings 1, 4 and 5).
