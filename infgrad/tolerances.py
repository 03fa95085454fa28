"""Every tolerance of the project, named by the SOURCE of the error rather than by the test.

Shared by the test suite (tests/) and the `infgrad verify` reporter (infgrad/verify.py): a check
imports the entry whose reason fits; a local override carries a comment saying why.
Append new entries at the end of the section they belong to, with the reason beside them.
"""
import math

import numpy as np

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
# A minimizer that sees only float64 values (Brent's method in tests/test_lemma2.py, test_lemma3.py)
# cannot order two points whose values differ by less than the round-off of two evaluations. A sum
# of m rounded terms of total magnitude A is off by at most m u A (u = 2^-53; Higham, Accuracy and
# Stability of Numerical Algorithms, 2nd ed., sec. 4.2), so along a coordinate of curvature L'' the
# argmin is found to sqrt(4 m u A / L''), plus Brent's stopping width (xtol 1e-12 |x| and scipy's
# fixed 1e-11, twice: below 1e-10 for |x| < 10). A is the magnitude of the TERMS, not of their sum:
# Eq. (3)'s terms cancel (d log gamma < 0 against the error over gamma), and with the sum in place
# of A an example drawn with n = 1, kappa = 3 failed by a factor 1.2.


def value_only_argmin_atol(magnitude: float, curvature: float, n_terms: int) -> float:
    """The VALUE_ONLY_ARGMIN bound above: how far a value-only argmin can lie from the true one."""
    return math.sqrt(4.0 * n_terms * 2.0**-53 * magnitude / curvature) + 1e-10


def eq3_magnitude(sq_error, d: int, log_gamma_var: float, mu_z, log_sigma_z) -> float:
    """A of value_only_argmin_atol for Eq. (3) averaged over n samples: the mean over samples of
    |E||x - mu_x||^2 / gamma| + d |log gamma| + kappa + sum_k (|expm1(2 log sigma)| + |2 log sigma|)
    + ||mu||^2, the terms that vae_loss.kl_terms_eq3 and the error term add up.
    sq_error (n,), mu_z (kappa, n), log_sigma_z (kappa, n) or (kappa,)."""
    mu_z = np.asarray(mu_z, float)
    v = 2.0 * np.broadcast_to(np.reshape(log_sigma_z, (mu_z.shape[0], -1)), mu_z.shape)
    per_sample = (np.asarray(sq_error, float) * math.exp(-log_gamma_var) + d * abs(log_gamma_var)
                  + mu_z.shape[0] + np.sum(np.abs(np.expm1(v)) + np.abs(v), axis=0) + np.sum(mu_z**2, axis=0))
    return float(np.mean(per_sample))


def affine_sigma_argmin_rtol(X, W, b, mu_z, log_gamma_var: float, found, curvature: float) -> float:
    """value_only_argmin_atol for sigma^2 = exp(2 log sigma), found by a coordinate-wise value-only
    search of the affine Eq. (3) started at log sigma = 0. While one coordinate is searched, every
    other one sits at its start or at its found value, so Eq. (3)'s terms are at most those at the
    start plus those at `found`; `curvature` is Eq. (3)'s in one log sigma at the optimum (4 for a
    shared coordinate, 4/n for one sample's); sigma^2 moves by twice log sigma.
    X (d, n), W (d, kappa), b (d,), mu_z (kappa, n), found (kappa,) or (kappa, n)."""
    from theory.vae_loss import affine_expected_sq_error

    (d, n), kappa = np.shape(X), np.shape(W)[1]
    magnitude = sum(eq3_magnitude(affine_expected_sq_error(X, W, b, mu_z, ls), d, log_gamma_var, mu_z, ls)
                    for ls in (np.zeros_like(found), found))
    n_terms = d * kappa + d + 3 * kappa + n + 10  # W mu, the sums over d and kappa, the mean over n
    return 2.0 * value_only_argmin_atol(magnitude, curvature, n_terms)


def eq3_gamma_argmin_rtol(sq_error, d: int, log_gamma_star: float, mu_z, log_sigma_z,
                          n_terms: int) -> float:
    """value_only_argmin_atol for gamma = e^v found by a value-only search of Eq. (3) over v = log gamma:
    Eq. (3) is e e^{-v} + d v + const there, curvature d at the minimum; the magnitude is that of its
    terms at gamma*, and gamma moves by the error in v relative. sq_error (n,), d the data dimension,
    n_terms the number of rounded terms summed into one value of Eq. (3)."""
    magnitude = eq3_magnitude(sq_error, d, log_gamma_star, mu_z, log_sigma_z)
    return value_only_argmin_atol(magnitude, float(d), n_terms)

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
# crossover_eps stops brentq on log eps with xtol 1e-13, rtol 1e-14: its root is within
# 1e-13 + 1e-14 |log eps*| of the exact one, which is eps*'s relative error to first order. Added to
# it: the round-off of the gap near its root (an O(1) slope in log eps, O(1) costs: ~1e-16) and of the
# closed forms it is compared with (a few float64 operations: ~1e-15), 1e-14 in all.
CROSSOVER_LOG_XTOL = 1e-13
CROSSOVER_LOG_RTOL = 1e-14
CROSSOVER_ROUNDOFF = 1e-14
# The figures' data files (figures/img/*.json) against a fresh build. On one machine a rebuild is
# byte-identical; another CPU, BLAS kernel or thread count sums in another order and its libm rounds
# differently, so every plotted number moves by its computation's round-off times its conditioning.
# tests/test_figures.py names the source of each data key:
# - a closed form (most keys): each value is a float64 sum of at most ~1e4 rounded terms (Eq. 3 over
#   n = 50 samples, d = 6, kappa = 4: 1e4 u = 1.1e-12 of the terms' size), and the terms are at most
#   100 times the value, or, in an array that crosses zero, at most the array's largest |value|
#   (which is then the absolute scale of the comparison). Measured across the kernels: <= 2e-12.
FIGURE_ROUNDOFF_RTOL = 1e-10
# - exactly 0 in exact arithmetic, computed as a squared round-off (the error of a 2-component PCA
#   of 2-D data, Figure 9): at most (10 eps R)^2 with R = 2 bounding the points' norms.
FIGURE_SQUARED_ROUNDOFF_ATOL = (10 * 2.220446049250313e-16 * 2.0) ** 2
# - a bounded scalar search (Figure 6's minima on a slice): its xatol, plus the flat width within
#   which the slice's round-off (FIGURE_ROUNDOFF_RTOL of its largest |L|) hides the curvature L''
#   that tests/test_figures.py reads off the sampled slice. Measured across the kernels: <= 8e-9.
# - root finding (Figures 3, 4: ROOT_FIND_RTOL) and L-BFGS minima (Figure 7: OPTIMIZER_VALUE_RTOL).
# - projected Adam (Figure 10). The half-way start reconstructs the data exactly, so the data
#   gradient there is round-off, which Adam's normalization turns into steps of order 1e-5; under log
#   and sqrt (h'(0+) = inf) the switched-off row then rattles at the step size. A change of the data
#   in its last bit moved theta by up to 7e-5 and the active rows' RMS by up to 1e-3 relative, and
#   flips the rattling row above and below the activity threshold (measured). So the test rebuilds
#   the figure from the data scaled by 1 +- 2^-52 and allows FIGURE_ADAM_ENVELOPE times the largest
#   change it sees; a series that this moves by more than FIGURE_ADAM_RATTLE of its values is the
#   rattle and is compared as a band [min / FIGURE_ADAM_ENVELOPE, max * FIGURE_ADAM_ENVELOPE] of the
#   values seen. (A last-bit change of every gradient instead moved theta by less than 1e-14.)
FIGURE_ADAM_ENVELOPE = 10.0
FIGURE_ADAM_RATTLE = 0.1

# --- trained networks against derived counts (experiments/manifold) ----------------------
# Lemma 2's envelope read-out r_hat = E||x - mu_x||^2 / gamma after a few hundred Adam steps per
# rung: the encoder noise that makes up the optimum's error r gamma is a few percent short of its
# optimum (measured 1.94-1.99 for r = 2 in the smoke suite); the estimate is then read as an
# integer, so a band of 0.5 is what "gives r" means.
TRAINED_SLOPE_ATOL = 0.5
