# %% [markdown]
# # Lesson 1: penalties and their slope at zero
#
# Builds on **Figure 1** of the figure lesson: [figures/README.md, section 1](../figures/README.md)
# (![penalty gallery](../figures/img/fig01_penalty_gallery.png)).
#
# The objective of the paper (main-text Eq. 6, supplement Eq. 22) charges each latent row energy
# u_k = (1/n)||z_k||^2 a penalty h(u_k). Theorem 4 is about one number of h: its slope at zero. This
# lesson computes that number two ways, because the two ways disagree exactly where the paper's
# argument is delicate.
#
# * the **limiting slope** lim_{u->0+} h'(u), the supplement's definition (section 8.3);
# * the **difference quotient** (h(u) - h(0))/u as u -> 0+, what the proof of Theorem 4 uses.
#
# Change the parameters in the next cell and run the notebook top to bottom. Exercises end with a
# `check_...` call that says whether your answer is right, and why not.

# %% tags=["parameters"]
import math

import numpy as np

from lessons.checks import (
    check_indicator_slopes,
    check_penalty_classification,
    check_slope_at_zero,
    check_vanishing_gap,
)
from theory import penalties

QUICK = False  # True: smaller grids, for a fast run
C_SHIFT = 0.01  # the shift c of log(u + c), u/(u + c), sqrt(u + c) - sqrt(c)


def my_h(u):
    """Your own penalty: any function of u >= 0 (numpy arrays in, arrays out). Try u**(1/3),
    np.log1p(u / 0.05), np.minimum(u, 0.1), ..."""
    return np.cbrt(u)


# %% [markdown]
# ## The family of the paper
#
# `penalties.penalty_family(c)` holds every penalty of the project. For each we print h(0), the
# derivative h'(u) at a tiny u, the difference quotient at the same u, and `grad_at_zero`, the slope
# at zero that `theory.penalties` stores.

# %%
tiny = 1e-12 if QUICK else 1e-14
family = penalties.penalty_family(C_SHIFT)
print(f"{'name':12s} {'h(0)':>10s} {'h_prime(tiny)':>14s} {'(h(tiny)-h(0))/tiny':>20s} {'grad_at_zero':>12s}")
for name, h in family.items():
    h0 = float(h(0.0))
    quotient = math.inf if h0 == -math.inf else (float(h(tiny)) - h0) / tiny
    print(f"{name:12s} {h0:10.4g} {float(h.derivative(tiny)):14.4g} {quotient:20.4g} {h.grad_at_zero:12.4g}")

# %% [markdown]
# Read the indicator's row: its derivative is 0 for every u > 0, yet its difference quotient is
# 1/u. For every penalty that is continuous at 0 the two columns agree.
#
# ### Exercise 1.1
# Give the slope at zero of h(u) = log(u + c) as a function of c (`answer_1_1 = lambda c: ...`).

# %% tags=["exercise"]
answer_1_1 = None

# %% tags=["solution"]
# h'(u) = 1/(u + c), so h'(0+) = 1/c; the function is continuous at 0, so the quotient agrees.
answer_1_1 = lambda c: 1.0 / c  # noqa: E731

# %%
check_slope_at_zero(answer_1_1, family="log_shift", exercise="1.1")

# %% [markdown]
# ### Exercise 1.2
# For the indicator h(u) = I[u > 0], give the pair (limiting slope, limit of the difference quotient)
# (use `math.inf` for an unbounded limit).

# %% tags=["exercise"]
answer_1_2 = None

# %% tags=["solution"]
# h = 1 on u > 0, so h'(u) = 0 there and its limit is 0; (h(u) - h(0))/u = 1/u -> infinity.
answer_1_2 = (0.0, math.inf)

# %%
check_indicator_slopes(answer_1_2)

# %% [markdown]
# ### Exercise 1.3: your own penalty
# Classify `my_h` (defined at the top): is it concave, non-decreasing, continuous at 0, and is its
# slope at 0 (the difference quotient) bounded? The check measures the four properties on the grid
# u = 1e-12 .. 10 and then runs Theorem 4's construction (lesson 2) on your h.

# %%
u = np.geomspace(1e-12, 1.0, 7 if QUICK else 13)
h0 = float(np.asarray(my_h(np.array(0.0))))
print("h(0) =", h0)
print("u:                 ", np.array2string(u, precision=1))
print("(h(u) - h(0)) / u: ", np.array2string((my_h(u) - h0) / u, precision=3))

# %% tags=["exercise"]
answer_1_3 = None

# %% tags=["solution"]
# For the default my_h = u^(1/3): concave and increasing, continuous at 0 (h(0) = 0), and its
# quotient u^(-2/3) grows without bound. The printout above shows the growth.
answer_1_3 = {"concave": True, "non_decreasing": True, "continuous_at_zero": True, "bounded_slope": False}

# %%
check_penalty_classification(answer_1_3, my_h)

# %% [markdown]
# ### Exercise 1.4
# For which penalties of the family does the gap h(eps^2) - h(0) shrink to 0 as eps -> 0? Give the
# set of their names. (This gap, not the slope, is what Theorem 4's proof compares: lesson 2.)

# %% tags=["exercise"]
answer_1_4 = None

# %% tags=["solution"]
# Every penalty continuous at 0 with a finite h(0): also sqrt, whose slope at 0 is unbounded.
answer_1_4 = {name for name, h in family.items()
              if math.isfinite(float(h(0.0))) and float(h(1e-16)) - float(h(0.0)) < 1e-6}

# %%
check_vanishing_gap(answer_1_4, c=C_SHIFT)

# %% [markdown]
# ## What to take away
# An unbounded slope at 0 is what Theorem 4 asks for, but sqrt shows it is not enough: its gap
# h(eps^2) - h(0) = eps still vanishes. What protects log is h(0) = -infinity, and what protects the
# indicator is its jump. Lesson 2 turns this into the counterexample of the theorem.
