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
