"""Every tolerance of the project, named by the SOURCE of the error rather than by the test.

Shared by the test suite (tests/) and the `infgrad verify` reporter (infgrad/verify.py): a check
imports the entry whose reason fits; a local override carries a comment saying why.
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

# --- bfloat16 autocast against float32 (TrainConfig.precision = "bf16") ------------------------
# bf16 keeps 8 significant bits: a rounded value is off by at most u = 2^-8 relative. Convolutions
# and matmuls accumulate their products in float32 and round each output once, so each of the
# BF16_LAYERS conv / transposed-conv / linear layers on the encode-decode path of the outlier VAE
# (3 convs, the mu_z / log_sigma_z head, the decoder's linear layer, 3 transposed convs) adds at most
# u relative error to what it passes on: to first order mu_x and (mu_z, log_sigma_z) are off by at
# most L u relative. The loss sums in float32 (losses.at_least_float32), so the SIZE of the sums
# (d = 1024 pixels, kappa latents) adds only 2^-24 per term: the bf16 error of a sum of squares is
# the error of its terms, whatever d. Per sample: |delta ||x - mu_x||^2| <= 2 L u ||mu_x|| ||x - mu_x||
# and |delta kl_term| <= 2 L u kl_term (its terms mu^2 and e^{2s} - 1 - 2s are >= 0 and quadratic
# near 0); the negative ELBO's error is half the sum of the two, the first divided by gamma.
# Measured on FashionMNIST at initialization: 13-18% of this first-order bound.
BF16_UNIT_ROUNDOFF = 2.0**-8
BF16_LAYERS = 8

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
# A rate read off far inside its asymptotic regime: eps* of a log-like penalty with shift gamma is
# (gamma u / (m_1 m_2))^(1/4) (1 + O(sqrt(gamma / (m_1 m_2 u))) + O(gamma / eps*^2)) (closed form in
# theorem4.crossover_eps_closed_form; both corrections are <= 1e-3 for gamma <= 1e-5 on the data of
# Theorem 4 with C = 0.7), so a slope fitted there, or a ratio of two such rates, is off by < 2e-3.
ASYMPTOTIC_RATE_ATOL = 2e-3

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

# --- answers typed or computed by a student (lessons/checks) ----------------------------------
# A number read off a printout or found by the student's own bisection: 6 significant digits.
TYPED_NUMBER_RTOL = 1e-6
# A leading-order expansion in a small x <= 1e-3 whose next term is relatively x/4 (lesson 3's
# finite-gamma penalty, 2 sqrt(u / gamma) against the exact profile): 1e-2 is ample.
LEADING_ORDER_RTOL = 1e-2
# A mean over ~2.5e4 float32 values from the torch trainer, summed in float32 by the student: the
# error grows like sqrt(N) times float32's 6e-8, about 1e-5; 1e-4 leaves room for the summation order.
FLOAT32_MEAN_RTOL = 1e-4

# --- value-only minimizers (Brent on float64 values, no gradient formula) ------------------------
# Brent's xtol; scipy adds an absolute 1e-11 to it, so the argmin's own stopping error in the
# log-parameter is below 2 (1e-12 |x| + 1e-11) <~ 1e-10 for |x| <~ 10.
BRENT_XTOL = 1e-12


def value_only_argmin_rtol(value: float, curvature: float, power: float = 1.0) -> float:
    """How well an argmin found from float64 values alone pins down exp(power * v), v the log-parameter.

    Values within ~4 eps |f| of the minimum are indistinguishable, and f(v* + delta) - f(v*) =
    (curvature / 2) delta^2, so |delta| <= sqrt(8 eps |f| / curvature) (|f| at least 1: the
    absolute round-off of O(1) terms); exp(power v) moves by power |delta| relative. 1e-10 covers
    Brent's own stopping error (BRENT_XTOL's note).
    """
    eps = 2.220446049250313e-16  # float64 machine epsilon
    return power * (8.0 * eps * max(abs(value), 1.0) / curvature) ** 0.5 + 1e-10


# --- switched-off latent columns (Lemma 2, gamma -> 0) ------------------------------------------
# A column of W is "off" when ||w_k||^2 / gamma < 1e-6, i.e. its posterior variance
# gamma / (gamma + ||w_k||^2) is the prior's 1 to within 1e-6. At gamma = 1e-8 L-BFGS (gtol 1e-10)
# leaves the off columns at ratios <= 2e-13 (measured), the active ones at (lambda_j - gamma) / gamma
# >= 1e6 for any eigenvalue lambda_j >= 1e-2: the threshold sits far from both.
SWITCHED_OFF_RATIO = 1e-6

# --- crossover eps* of Theorem 4: where the two costs change order --------------------------------
# The sign of cost_theta0 - cost_theta1 is checked at eps* (1 -/+ CROSSOVER_SIGN_STEP): 1e3 times
# ROOT_FIND_RTOL away from the root, and the cost gap has an O(1) slope in log eps there, so its
# value (~1e-6 times the costs) is ten orders of magnitude above the costs' float64 round-off.
CROSSOVER_SIGN_STEP = 1e-6
