"""Every tolerance of the suite, named by the SOURCE of the error rather than by the test.

A test imports the entry whose reason fits; a local override carries a comment saying why.
Append new entries at the end of the section they belong to, with the reason beside them.
"""

# --- exact: sympy identities and integer counts ------------------------------------------------
EXACT = 0.0  # symbolic results and counts are compared with ==

# --- round-off: two float64 formulas for one quantity -----------------------------------------
ROUNDOFF_RTOL = 1e-12  # a few hundred float64 operations on O(1) numbers, summed over n <= 200
ROUNDOFF_ATOL = 1e-12  # same source, for quantities that are exactly 0

# --- optimizer: a numerical minimizer against a closed form -----------------------------------
# scipy's L-BFGS-B / bounded scalar minimizers stop at a gradient or bracket tolerance, not at the
# exact minimizer: the argmin agrees to about sqrt(gtol) relative, the minimum value to about gtol.
OPTIMIZER_ARGMIN_RTOL = 1e-5
OPTIMIZER_VALUE_RTOL = 1e-8

# --- Monte Carlo: seeded samples, compared within k standard errors ---------------------------
MC_SIGMAS = 5.0  # a 5-sigma band fails a correct seeded test with probability below 1e-6

# --- float32 trainer against float64 theory ---------------------------------------------------
FLOAT32_RTOL = 1e-5  # float32 epsilon 1.2e-7 times sums of ~1e3 terms of mixed sign
# Data-parallel vs one process (tests/test_distributed.py): the same float32 gradient summed in a
# different order (all-reduce of two half-batch means vs one full-batch mean) differs by ~1e-7
# relative per step (measured: 2e-7 over 8 Adam steps); Adam's normalization can amplify such
# differences in near-zero gradient coordinates, hence a 50x margin.
DATA_PARALLEL_RTOL = 1e-5

# --- derivatives, root finding and fitted rates (theory/) --------------------------------
# Central difference f'(u) ~ (f(u+s) - f(u-s))/(2s) with s = 1e-5 u: truncation s^2 |f'''|/(6|f'|)
# <= 1e-10 relative for the penalties (|f'''/f'| <= 6/u^2 on u > 0), round-off eps/s ~ 1e-11.
FINITE_DIFFERENCE_RTOL = 1e-6
# brentq on log eps with xtol 1e-13, rtol 1e-14: eps* to ~1e-13 relative; the cost gap has an
# O(1) slope in log eps at the root, so its float64 round-off moves the root by ~1e-15 more.
ROOT_FIND_RTOL = 1e-9
# Lemma 2 slope d - r fitted to L-BFGS minima (gtol 1e-10) on log gamma in [log 1e-8, log 1e-2]:
# the minima are off by at most ~1e-7 absolute (measured 4e-8 at gamma = 1e-8: gtol times the
# 1/gamma curvature), which moves a least-squares slope over a log-gamma span of 13.8 by < 1e-7.
OPTIMIZER_SLOPE_ATOL = 1e-5
# Slope 2 of the (17) - (18) gap against log sigma_z on sigma in [1e-5, 1e-2]: the gap is
# a sigma^2 + b sigma^4 + ..., so the fitted slope is 2 + O((b/a) sigma^2) <= 2 + 1e-3 for |b/a| <= 10.
RATE_SLOPE_ATOL = 1e-2

# --- rates and data files behind the figures (figures/) ---------------------------------
# A slope fitted on gamma in {1e-1, 1e-2, 1e-3} to log(a/gamma + b) (or log(a gamma + b gamma^2)):
# log(1 + b gamma / a) tilts it by about (b/a) * 0.1 / ln(100) at the largest gamma, <= 0.03 for
# |b/a| <= 1, the size of the O(1) terms of Eq. (3) on the slices of Figure 6.
FIGURE_RATE_SLOPE_ATOL = 0.05
# The committed figure data against a fresh run of the same code: identical on one machine; another
# CPU/numpy may sum in another order (last-bit changes), which 1500 Adam steps can grow by a few
# orders of magnitude but not to 1e-6 relative on the plotted values.
FIGURE_DATA_RTOL = 1e-6
FIGURE_DATA_ATOL = 1e-9

# --- trained networks against derived counts (experiments/manifold) ----------------------
# Lemma 2's envelope read-out r_hat = E||x - mu_x||^2 / gamma after a few hundred Adam steps per
# rung: the encoder noise that makes up the optimum's error r gamma is a few percent short of its
# optimum (measured 1.94-1.99 for r = 2 in the smoke suite); the estimate is then read as an
# integer, so a band of 0.5 is what "gives r" means.
TRAINED_SLOPE_ATOL = 0.5
