"""The surviving mutants that are equivalent to the original code, each with the reason (used by
tests/mutation_report.py, which explains the classes and the keys).

A proof step of proofs_check is a program without input other than the formulas it checks: its
mutant is equivalent when it reaches the same verdict with the paper's formulas and the reason
below says why no formula that the step is meant to reject could tell them apart (or that the
checked statement holds on the mutant's instance as well).
"""
from __future__ import annotations

# Surviving mutants that compute the same thing as the original, with the reason no test can tell
# them apart: (module, function, "old -> new") where "old -> new" is a mutant's `context` or, when
# that reason holds wherever the change occurs in the function, its `change`.
ON_CPU = ("the tests run on a CPU, where no device and torch.device('cpu') are the same device (a GPU "
          "run would tell them apart)")
EXACT_CAST = ("the scores enter only through comparisons (ranks and ties), which a cast of any real "
              "dtype to float64 keeps")
CAST_AGAIN = "imq_kernel_sum converts to float64 again before any arithmetic; the checks here do not depend on the dtype"
BY_ONE = "dividing by +-1 is multiplying by it, exactly"
PROMOTED = ("the only arithmetic on U multiplies it by a float64 array of +-1, which gives float64 whatever "
            "U's real dtype")
LAMBDA_AT_GAMMA = ("the two branches agree at lambda = gamma: an active direction costs 1 + log lambda, "
                   "an inactive one lambda / gamma + log gamma, both 1 + log gamma there")
PNG_LEVEL = ("Pillow documents that with optimize=True compress_level has no effect (level 9 is used whatever "
             "is passed), and optimize does nothing else: level 9 with or without optimize, or optimize with "
             "any or no level, writes the same bytes (as the tests' images show)")
EQUIVALENT: dict[tuple[str, str, str], str] = {
    **{("theory/theorem4.py", "unconstrained_cost_identity_g", f"a = np.asarray(a, dtype=np.float64) -> {new}"):
       "row_cost receives the float64 grid or the bounded search's float, both float64 without the cast"
       for new in ("a = np.asarray(a, dtype=None)", "a = np.asarray(a)")},
    **{("theory/theorem4.py", "unconstrained_cost_identity_g",
        "res = minimize_scalar(lambda a: float(row_cost(a)), bounds=(lo, hi), method='bounded', "
        f"options={{'xatol': 1e-12}}) -> res = minimize_scalar(lambda a: float(row_cost(a)), bounds=(lo, hi), {new}"
        "options={'xatol': 1e-12})"):
       "scipy's minimize_scalar reads the method name case-insensitively and takes 'bounded' when bounds "
       "are given and no method" for new in ("method=None, ", "", "method='BOUNDED', ")},
    ("theory/theorem4.py", "unconstrained_cost_identity_g_theta1",
     "res = minimize(cost_and_grad, start, jac=True, method='L-BFGS-B', options={'gtol': 1e-12}) -> "
     "res = minimize(cost_and_grad, start, jac=True, method='l-bfgs-b', options={'gtol': 1e-12})"):
        "scipy's minimize reads the method name case-insensitively",
    ("experiments/core/evaluate.py", "pixel_values",
     "array = images.numpy() if isinstance(images, torch.Tensor) else np.asarray(images) -> "
     "array = images.numpy() if isinstance(images, torch.Tensor) and False else np.asarray(images)"):
        "np.asarray of a tensor calls Tensor.__array__, which is self.numpy(): the same array, and the same "
        "error for a tensor that requires grad or lives on a GPU",
    ("experiments/core/evaluate.py", "pixel_values",
     "scaled = array.astype(np.float64) * 255.0 -> scaled = array.astype(None) * 255.0"):
        "numpy's astype(None) is astype(float64)",
    ("experiments/core/evaluate.py", "compress",
     "Image.fromarray(np.ascontiguousarray(image)).save(buffer, format='PNG', compress_level=9, optimize=True) -> "
     "Image.fromarray(np.ascontiguousarray(image)).save(buffer, format='png', compress_level=9, optimize=True)"):
        "Pillow looks the format up by format.upper()",
    **{("experiments/core/evaluate.py", "compress",
        "Image.fromarray(np.ascontiguousarray(image)).save(buffer, format='PNG', compress_level=9, optimize=True) -> "
        f"Image.fromarray(np.ascontiguousarray(image)).save(buffer, format='PNG'{arguments})"): PNG_LEVEL
       for arguments in (", optimize=True", ", compress_level=9", ", compress_level=10, optimize=True",
                         ", compress_level=9, optimize=False")},
    ("experiments/core/evaluate.py", "per_image_bpd", "torch.device(device) -> None"): ON_CPU,
    ("experiments/core/losses.py", "vae_forward",
     "torch.randn((x.shape[0], model.kappa), generator=generator, device=x.device, dtype=x.dtype) -> "
     "torch.randn((x.shape[0], model.kappa), generator=generator, dtype=x.dtype)"): ON_CPU,
    ("experiments/core/evaluate.py", "auroc",
     "np.asarray(inlier_scores, dtype=np.float64) -> np.asarray(inlier_scores)"): EXACT_CAST,
    ("experiments/core/evaluate.py", "auroc",
     "np.asarray(outlier_scores, dtype=np.float64) -> np.asarray(outlier_scores)"): EXACT_CAST,
    ("experiments/core/evaluate.py", "summarize", "'nan' -> 'NAN'"): "float() reads 'NAN' as NaN too",
    ("experiments/core/mmd.py", "imq_kernel_sum", "'ij,ij->i' -> 'IJ,IJ->I'"):
        "einsum's subscripts are labels: upper-case letters name the same contraction",
    ("experiments/core/mmd.py", "mmd2_unbiased", "np.asarray(x, dtype=np.float64) -> np.asarray(x)"): CAST_AGAIN,
    ("experiments/core/mmd.py", "mmd2_unbiased", "np.asarray(y, dtype=np.float64) -> np.asarray(y)"): CAST_AGAIN,
    ("experiments/core/mmd.py", "posterior_prior_mmd",
     "mu_z = np.asarray(mu_z, dtype=np.float64) -> mu_z = np.asarray(mu_z, dtype=None)"):
        "mu_z enters only through mu_z + sigma_z * eps with float64 sigma_z and eps, which converts "
        "it exactly; the shape check does not depend on the dtype",
    ("experiments/core/mmd.py", "posterior_prior_mmd", "np.asarray(mu_z, dtype=np.float64) -> np.asarray(mu_z)"):
        "mu_z enters only through mu_z + sigma_z * eps with float64 sigma_z and eps, which converts "
        "it exactly; the shape check does not depend on the dtype",
    ("theory/objective.py", "min_active_rows_affine",
     "s = np.linalg.svd(X - X.mean(axis=1, keepdims=True), compute_uv=False) -> "
     "s = np.linalg.svd(X - X.mean(axis=1, keepdims=True), compute_uv=None)"):
        "numpy's svd tests compute_uv for truth: None, like False, returns the singular values alone",
    ("theory/theorem4.py", "row_energy_theta1_lower_bound",
     "return float(_logit(C)) ** 2 if C >= 0.5 else 0.0 -> return float(_logit(C)) ** 2 if C > 0.5 else 0.0"):
        "the branches differ only at C = 1/2, where logit(1/2)^2 = log(1)^2 = 0.0 exactly, the other branch's value",
    ("theory/lemma2.py", "optimal_affine_vae", "d = S.shape[0] -> d = S.shape[1]"): "S is the d x d covariance",
    ("theory/lemma2.py", "minimize_profiled_loss", "d = S.shape[0] -> d = S.shape[1]"): "S is the d x d covariance",
    ("theory/lemma2.py", "optimal_loss_closed_form",
     "active = (np.arange(lam.size) < kappa) & (lam > gamma) -> active = (np.arange(lam.size) < kappa) & (lam >= gamma)"):
        LAMBDA_AT_GAMMA,
    ("theory/lemma2.py", "optimal_affine_vae",
     "on = (np.arange(d) < q) & (lam > gamma) -> on = (np.arange(d) < q) & (lam >= gamma)"):
        LAMBDA_AT_GAMMA + "; its column of W is sqrt(lambda - gamma) = 0 either way and `active` is read from W",
    ("theory/lemma2.py", "_eq3_at_optimum",
     "log_factor = np.where(on, log_gamma_var - 2.0 * np.log(np.where(on, lam, 1.0)), -log_gamma_var) -> "
     "log_factor = np.where(on, log_gamma_var - 2.0 * np.log(np.where(on, lam, 2.0)), -log_gamma_var)"):
        "the placeholder only keeps log away from a zero eigenvalue on the directions whose value the "
        "outer where discards",
    ("theory/lemma2.py", "minimize_profiled_loss",
     "res = minimize(fun, W0.ravel(), jac=True, method='L-BFGS-B', options={'gtol': positive_scalar('gtol', gtol), "
     "'ftol': 1e-15, 'maxiter': 20000}) -> res = minimize(fun, W0.ravel(), jac=True, method='l-bfgs-b', "
     "options={'gtol': positive_scalar('gtol', gtol), 'ftol': 1e-15, 'maxiter': 20000})"):
        "scipy's minimize reads the method name case-insensitively",
    ("theory/_linalg.py", "canonical_signs",
     "return U * np.where(largest < 0, -1.0, 1.0) -> return U / np.where(largest < 0, -1.0, 1.0)"): BY_ONE,
    ("theory/_linalg.py", "random_orthonormal",
     "return Q * np.where(np.diag(R) < 0, -1.0, 1.0) -> return Q / np.where(np.diag(R) < 0, -1.0, 1.0)"): BY_ONE,
    ("theory/_linalg.py", "canonical_signs",
     "return U * np.where(largest < 0, -1.0, 1.0) -> return U * np.where(largest <= 0, -1.0, 1.0)"):
        "a column's largest-magnitude entry is 0 only for a zero column, which a flip leaves zero (-0.0 == 0.0)",
    ("theory/_linalg.py", "canonical_signs", "U = np.array(U, dtype=np.float64) -> U = np.array(U, dtype=None)"):
        PROMOTED,
    ("theory/_linalg.py", "canonical_signs", "U = np.array(U, dtype=np.float64) -> U = np.array(U)"): PROMOTED,
    ("theory/_linalg.py", "eigh_descending", "lam, U = eigh(np.asarray(S, dtype=np.float64)) -> lam, U = eigh(np.asarray(S, dtype=None))"):
        "scipy's eigh computes in float64 for integer and float64 input alike (its callers pass float64 covariances)",
    ("theory/_linalg.py", "eigh_descending", "lam, U = eigh(np.asarray(S, dtype=np.float64)) -> lam, U = eigh(np.asarray(S))"):
        "scipy's eigh computes in float64 for integer and float64 input alike (its callers pass float64 covariances)",
    ("theory/theorem4.py", "crossover_eps", "sparse_cost == -math.inf -> sparse_cost == +math.inf"):
        "with a sparse cost of -inf the gap is +inf at the bracket's lower end, so the next test returns 0.0 too",
    ("theory/theorem4.py", "crossover_eps", "np.errstate(under='ignore') -> np.errstate(under=None)"):
        "numpy ignores underflow by default, and under=None keeps that setting",
    ("theory/theorem4.py", "sample_data_eq21",
     "s = np.random.default_rng(seed).uniform(C, 1.0, size=n) -> s = np.random.default_rng(seed).uniform(C, size=n)"):
        "numpy's uniform has high = 1.0 by default",
    ("theory/theorem4.py", "_angle", "return 0.5 * math.pi * np.where(s >= C, upper, lower) -> "
     "return 0.5 * math.pi * np.where(s > C, upper, lower)"):
        "both pieces of the arc give a(C) = 0.1 at s = C",
    ("theory/theorem4.py", "pi_inverse", "return np.clip(np.where(fraction >= _A_C, upper, lower), 0.0, 1.0) -> "
     "return np.clip(np.where(fraction > _A_C, upper, lower), 0.0, 1.0)"):
        "both pieces of the inverse give t = C at the angle fraction 0.1",
    ("theory/penalties.py", "indicator",
     "return Penalty('indicator', '$\\\\mathcal{I}[u > 0]$', math.inf, lambda u: (u > 0).astype(np.float64), "
     "lambda u: np.zeros_like(u)) -> return Penalty('indicator', '$\\\\mathcal{I}[u > 0]$', math.inf, "
     "lambda u: (u > 0).astype(None), lambda u: np.zeros_like(u))"):
        "numpy's astype(None) is astype(float64)",
}


# Survivors that are not equivalent but that no cheap test kills, each with the reason (keyed as
# EQUIVALENT by context); the report lists them as survivors, counted against the score.
DEFAULT_SEED = ("the default seed only picks the random start; every seed reaches the same minimum (tested), "
                "and pinning the default value itself would test a constant")
MESSAGE = "the text of an error message built inside the validator (not classified as message by position)"
EMPTY_S = ("differs only for a 0 x 0 matrix, on which scipy's eigh fails before (no caller passes one: "
           "data with d = 0 rows go through the SVD of `min_active_rows_affine`)")
NOT_KILLED: dict[tuple[str, str, str], str] = {
    ("theory/objective.py", "min_active_rows_affine",
     "return int(np.sum(s > rtol * s[0])) -> return int(np.sum(s >= rtol * s[0]))"):
        "differs only when a computed singular value equals rtol s_1 to the last bit, which no data "
        "can be built to hit reliably through an SVD",
    ("theory/lemma2.py", "minimize_profiled_loss",
     "res = minimize(fun, W0.ravel(), jac=True, method='L-BFGS-B', options={'gtol': positive_scalar('gtol', gtol), "
     "'ftol': 1e-15, 'maxiter': 20000}) -> res = minimize(fun, W0.ravel(), jac=True, method='L-BFGS-B', "
     "options={'gtol': positive_scalar('gtol', gtol), 'ftol': 1e-15, 'maxiter': 20001})"):
        "an iteration cap that the small problems of the tests never reach (they stop on gtol)",
    ("theory/_checks.py", "finite_array", "want = ' or '.join((str(k) for k in allowed)) -> want = None"): MESSAGE,
    ("theory/_checks.py", "finite_array", "want = ' or '.join((str(k) for k in allowed)) -> want = ' or '.join(None)"): MESSAGE,
    ("theory/_checks.py", "finite_array",
     "want = ' or '.join((str(k) for k in allowed)) -> want = 'XX or XX'.join((str(k) for k in allowed))"): MESSAGE,
    ("theory/_checks.py", "finite_array",
     "want = ' or '.join((str(k) for k in allowed)) -> want = ' OR '.join((str(k) for k in allowed))"): MESSAGE,
    ("theory/_checks.py", "finite_array",
     "want = ' or '.join((str(k) for k in allowed)) -> want = ' or '.join((str(None) for k in allowed))"): MESSAGE,
    ("theory/_checks.py", "finite_scalar", "number = _real(name, value) -> number = _real(None, value)"): MESSAGE,
    ("theory/_checks.py", "log_variance", "number = _real(name, value) -> number = _real(None, value)"): MESSAGE,
    ("theory/_linalg.py", "random_orthonormal",
     "return Q * np.where(np.diag(R) < 0, -1.0, 1.0) -> return Q * np.where(np.diag(R) <= 0, -1.0, 1.0)"):
        "differs only when QR of a Gaussian matrix has an exactly zero diagonal entry (probability 0)",
    ("theory/_linalg.py", "eigh_descending",
     "floor = 100 * lam.size * np.finfo(np.float64).eps * float(np.max(np.abs(lam), initial=0.0)) -> "
     "floor = 100 * lam.size * np.finfo(np.float64).eps * float(np.max(np.abs(lam), initial=None))"): EMPTY_S,
    ("theory/_linalg.py", "eigh_descending",
     "floor = 100 * lam.size * np.finfo(np.float64).eps * float(np.max(np.abs(lam), initial=0.0)) -> "
     "floor = 100 * lam.size * np.finfo(np.float64).eps * float(np.max(np.abs(lam)))"): EMPTY_S,
    ("theory/lemma2.py", "gamma_to_zero_scan",
     "W, value = minimize_profiled_loss(X, kappa, float(log_gamma), W0=W, seed=seed) -> "
     "W, value = minimize_profiled_loss(X, kappa, float(log_gamma), W0=W)"):
        "without the seed every scan starts from seed 0: as reproducible, and no test compares scans of two seeds",
    ("theory/objective.py", "is_optimal_sparse",
     "scale = max(1.0, float(np.max(np.linalg.norm(X, axis=0)))) -> scale = max(1.0, float(np.max(np.linalg.norm(X, axis=1))))"):
        "the tests' data have largest row and column norms too close (100 and 102.5) for the error bound to tell them apart",
    ("theory/objective.py", "is_optimal_sparse",
     "log_sigma_z = log_sigma_z.reshape(Z.shape[0], -1) -> log_sigma_z = log_sigma_z.reshape(Z.shape[0], -2)"):
        "this numpy reads the size -2 as the inferred size, like -1",
    ("theory/lemma2.py", "minimize_profiled_loss", "seed=0 -> seed=1"):
        DEFAULT_SEED,
    ("theory/lemma2.py", "gamma_to_zero_scan", "seed=0 -> seed=1"):
        DEFAULT_SEED,
}


# The same, for every survivor left in a function.
NOT_KILLED_IN_FUNCTION: dict[tuple[str, str], str] = {
    ("theory/theorem4.py", "unconstrained_cost_identity_g"):
        "a grid reaching past a = 1 (for a nondecreasing h the row cost only grows there), one point more "
        "or a wider bracket around the best grid point find the same minimum (a coarser grid and a narrower "
        "or one-sided bracket are killed by the nearly tied minima and the closed forms at the grid's ends); "
        "np.empty(3) adds its third, never written entry, which held 0.0 in these runs; `<=` differs from "
        "`<` only on an exact tie of two float values",
    ("theory/theorem4.py", "unconstrained_cost_identity_g_theta1"):
        "the search's starts and stopping rule: from the exact code and a tenth of it (or 1.1 times it, or "
        "its reciprocal) L-BFGS, BFGS or scipy's default gtol reach the tests' minima to OPTIMIZER_VALUE_RTOL; "
        "the gradient's one-sided slope exactly at the kink s = C; `>=`/`<=` in place of `>`/`<` only at an exact zero energy, an exact tie or a cost of -inf",
    ("theory/theorem4.py", "crossover_eps"):
        "the bracket's end tests differ only when the gap is exactly 0 there; brentq stops well before "
        "500 iterations, so a cap of 501 changes nothing (its tolerances are killed by the stopping-rule test)",
    ("theory/theorem4.py", "_as_h"):
        "a user's h that computes or returns in lower precision: every h of the tests is float64",
    ("theory/vae_loss.py", "mc_vae_loss_eq3"):
        "a decoder that returns lower precision than float64: every decoder of the tests is float64",
}


def _in_proofs(m) -> bool:
    return m.module.startswith("proofs_check/")


def _site(m) -> tuple[str, str]:
    name, _, role = m.call.partition(":")
    return name, role


SYMBOL_CALLS = {"Symbol", "symbols", "MatrixSymbol"}
ASSUMPTIONS = {"positive", "nonnegative", "real", "integer"}

# Whole families of equivalent mutants, each recognised by where the change sits (not by its survival).
EQUIVALENT_RULES: list = [
    (lambda m: _in_proofs(m) and _site(m) in {(c, "0") for c in SYMBOL_CALLS},
     "a sympy symbol's name only labels it: the renamed symbol collides with no other, every derivation "
     "is the same, and the name is not printed in the step's report row (checked by its test)"),
    (lambda m: _in_proofs(m) and _site(m)[0] in SYMBOL_CALLS and (_site(m)[1] in ASSUMPTIONS or (
        _site(m)[1] == "call" and any(f"{a}=" in m.change.split(" -> ")[0] for a in ASSUMPTIONS))),
     "the identity, limit or sign that the step checks holds for this symbol also without (or against) "
     "the assumption, so sympy reaches the same verdict"),
    (lambda m: _in_proofs(m) and m.call == "limit:call" and m.change.split(" -> ")[0].endswith(", '+')")
     and m.change.split(" -> ")[1] == m.change.split(" -> ")[0][:-len(", '+')")] + ")",
     "sympy's limit approaches from the right ('+') by default"),
    (lambda m: m.module == "proofs_check/theorem4.py" and m.call == "indicator:0"
     and "0" not in (m.change.split(" -> ")[0], m.change.split(" -> ")[1]),
     "indicator(v) is 1 for every v other than the number 0 (a positive symbol, 2, None alike)"),
]

# --- proofs_check step bodies, by reason --------------------------------------------------------------
INSTANCE = ("the step checks a general statement on a concrete instance (sizes, an example, a decoder); "
            "the mutant checks another instance on which it holds as well, and the report quotes none "
            "of the changed numbers")
LOOSER = ("a comparison of fixed numbers that holds with room to spare: the non-strict or looser "
          "comparison of the same numbers gives the same verdict")
SYMMETRIC_NOISE = "eps and -eps have the same law: every Gaussian expectation the step takes is unchanged"
ONE_SYMBOL = "without a variable sympy differentiates (and nsolve solves) in the expression's only free symbol"
INDICATOR_AT_0 = "indicator(0) = 0, so adding or subtracting it changes nothing"
INDICATOR_IS_1 = "the indicator is 1 there, so multiplying or dividing by it changes nothing"
CONSTANT_SLOPE = ("h = 1 on u > 0: the derivative of any constant is 0 at every point and in any variable, "
                  "so the limiting slope is 0 as before")

_L2, _L3, _T4, _MT = ("proofs_check/lemma2.py", "proofs_check/lemma3.py", "proofs_check/theorem4.py",
                      "proofs_check/main_text.py")
EQUIVALENT.update({
    (_L2, "affine_reconstruction_expectation", "d, kappa = (3, 2) -> d, kappa = (4, 2)"): INSTANCE,
    (_L2, "affine_reconstruction_expectation", "d, kappa = (3, 2) -> d, kappa = (3, 3)"): INSTANCE,
    (_L2, "affine_reconstruction_expectation",
     "mu + sp.Matrix([s[k] * noise[k] for k in range(kappa)]) -> mu - sp.Matrix([s[k] * noise[k] for k in range(kappa)])"):
        SYMMETRIC_NOISE,
    (_L2, "eq11_and_dropped_constant", "(1, 2, 3) -> (2, 2, 3)"): INSTANCE,
    (_L2, "eq11_and_dropped_constant", "(1, 2, 3) -> (1, 3, 3)"): INSTANCE,
    (_L2, "eq11_and_dropped_constant", "(1, 2, 3) -> (1, 2, 4)"): INSTANCE,
    (_L2, "reparameterization_eq13_to_eq14", "dim, n = (2, 3) -> dim, n = (2, 4)"): INSTANCE,
    (_L2, "reparameterization_eq13_to_eq14", "(W_unit * Z - W * mu).norm() ** 2 -> (W_unit * Z - W * mu).norm() * 2"):
        "require_zero of ||v||^2, 2 ||v|| or ||v||^3: each is zero exactly when v is",
    (_L2, "reparameterization_eq13_to_eq14", "W_num = sp.Matrix([[3, 0], [4, 1]]) -> W_num = sp.Matrix([[3, 1], [4, 1]])"):
        "the counterexample's second column is multiplied by mu_2 = 0 and enters no quoted number",
    (_L2, "reparameterization_eq13_to_eq14", "W_num = sp.Matrix([[3, 0], [4, 1]]) -> W_num = sp.Matrix([[3, 0], [4, 2]])"):
        "the counterexample's second column is multiplied by mu_2 = 0 and enters no quoted number",
    (_L2, "column_norm_constraint_eq15", "kappa = 3 -> kappa = 4"): INSTANCE,
    (_L3, "latent_draw", "return mu_k + s * noise_k -> return mu_k - s * noise_k"): SYMMETRIC_NOISE,
    (_L3, "substitution_eq17", "n, kappa = (2, 2) -> n, kappa = (3, 2)"): INSTANCE,
    (_L3, "substitution_eq17", "n, kappa = (2, 2) -> n, kappa = (2, 3)"): INSTANCE,
    (_L3, "substitution_eq17",
     "sum((sigma_only_term(var[i, k]) for i in range(n) for k in range(kappa))) / n -> "
     "sum((sigma_only_term(var[i, k]) for i in range(n) for k in range(kappa))) * n"):
        "the sigma-only terms are added to (3) and subtracted again on the other side: their scale cancels",
    (_L3, "sigma_to_zero_eq18", "'affine' -> 'XXaffineXX'"): "the decoder's name appears only in failure messages",
    (_L3, "sigma_to_zero_eq18", "'affine' -> 'AFFINE'"): "the decoder's name appears only in failure messages",
    (_L3, "sigma_to_zero_eq18", "'polynomial' -> 'XXpolynomialXX'"): "the decoder's name appears only in failure messages",
    (_L3, "sigma_to_zero_eq18", "'polynomial' -> 'POLYNOMIAL'"): "the decoder's name appears only in failure messages",
    (_L3, "sigma_to_zero_eq18", "sum((W[j, k] * v[k] for k in range(2))) + b[j] -> sum((W[j, k] * v[k] for k in range(2))) - b[j]"):
        INSTANCE,
    (_L3, "sigma_to_zero_eq18", "v[0] ** 2 - v[1] -> v[0] ** 2 + v[1]"): INSTANCE,
    (_L3, "sigma_to_zero_eq18", "v[0] ** 2 -> v[0] * 2"): INSTANCE,
    (_L3, "sigma_to_zero_eq18", "v[0] -> v[0] * v[1]"): INSTANCE,
    (_L3, "sigma_to_zero_eq18", "dropped = sigma_only_term(s ** 2) -> dropped = sigma_only_term(s * 2)"):
        "v - log v -> oo as v -> 0+ for v = 2s as for v = s^2",
    (_L3, "sigma_to_zero_eq18", "dropped = sigma_only_term(s ** 2) -> dropped = sigma_only_term(s ** 3)"):
        "v - log v -> oo as v -> 0+ for v = s^3 as for v = s^2",
    (_L3, "log_transform_and_divide_eq19", "kappa, n = (3, 4) -> kappa, n = (4, 4)"): INSTANCE,
    (_L3, "log_transform_and_divide_eq19", "kappa, n = (3, 4) -> kappa, n = (3, 5)"): INSTANCE,
    (_L3, "log_transform_and_divide_eq19", "sum(first) < sum(second) -> sum(first) <= sum(second)"): LOOSER,
    (_L3, "log_transform_and_divide_eq19",
     "sum(map(sp.log, second)) < sum(map(sp.log, first)) -> sum(map(sp.log, second)) <= sum(map(sp.log, first))"): LOOSER,
    (_MT, "eq8_comparison", "z1_star ** 2 -> z1_star * 2"): "log of any positive constant plus log u -> -oo as u -> 0+",
    (_MT, "eq8_comparison", "eps ** 2 -> eps * 2"): "c log(eps^k) and c log(2 eps) are finite for every eps > 0",
    (_MT, "eq8_comparison", "sparse = h.subs(u, z1_star ** 2) + h.subs(u, 0) -> sparse = h.subs(u, z1_star ** 2) - h.subs(u, 0)"):
        "h(0) = 0 for both penalties (sqrt and u/(u+c)), so adding or subtracting it changes nothing",
    ("proofs_check/steps.py", "require_zero", "reduced != 0 -> reduced != 1"):
        "cancel(0) is 0 and cancel(1) is 1: whether cancel runs on those two values changes nothing",
    ("proofs_check/steps.py", "step", "check.__module__.rsplit('.', 1) -> check.__module__.rsplit('.')"):
        "the last dot-separated part is the same whatever the number of splits",
    (_T4, "_logit_rate_in_p", "sp.diff(logit(u), u) -> sp.diff(logit(u))"): ONE_SYMBOL,
    (_T4, "indicator_passes_limiting_slope_test", "(1 - lam) * indicator(b) -> (1 - lam) / indicator(b)"): INDICATOR_IS_1,
    (_T4, "indicator_passes_limiting_slope_test", "lam * indicator(1) -> lam / indicator(1)"): INDICATOR_IS_1,
    (_T4, "indicator_passes_limiting_slope_test", "(1 - lam) * indicator(1) -> (1 - lam) / indicator(1)"): INDICATOR_IS_1,
    (_T4, "indicator_passes_limiting_slope_test", "sp.diff(sp.Integer(1), u) -> sp.diff(sp.Integer(1))"): CONSTANT_SLOPE,
    (_T4, "indicator_passes_limiting_slope_test", "indicator(u) - indicator(0) -> indicator(u) + indicator(0)"): INDICATOR_AT_0,
    (_T4, "indicator_passes_limiting_slope_test", "indicator(eps ** 2) - indicator(0) -> indicator(eps ** 2) + indicator(0)"):
        INDICATOR_AT_0,
    (_T4, "theta1_needed_for_one_active_row",
     "return (eps / 2 * value, eps / 2 * value ** 2) -> return (eps / 2 * value, eps * 2 * value ** 2)"):
        "the scale of pi's second coordinate cancels in theta pi_2(tau) = pi_2(s), the only equation it enters",
    (_T4, "theta1_needed_for_one_active_row",
     "return (eps / 2 * value, eps / 2 * value ** 2) -> return (eps / 2 * value, eps / 3 * value ** 2)"):
        "the scale of pi's second coordinate cancels in theta pi_2(tau) = pi_2(s), the only equation it enters",
    (_T4, "theta1_needed_for_one_active_row", "sp.diff(logistic(y), y) -> sp.diff(logistic(y))"): ONE_SYMBOL,
    (_T4, "theta1_needed_for_one_active_row",
     "slope_bound = 8 * (1 - r) / (8 * (1 + q)) - 1 / q -> slope_bound = 8 * (1 - r) / (9 * (1 + q)) - 1 / q"):
        "a smaller upper bound on G' than the one derived is negative as well: " + LOOSER,
    (_T4, "theta1_needed_for_one_active_row",
     "slope_bound = 8 * (1 - r) / (8 * (1 + q)) - 1 / q -> slope_bound = 8 * (1 - r) / (8 * (2 + q)) - 1 / q"):
        "a smaller upper bound on G' than the one derived is negative as well: " + LOOSER,
    (_T4, "theta1_needed_for_one_active_row",
     "slope_bound = 8 * (1 - r) / (8 * (1 + q)) - 1 / q -> slope_bound = 8 * (1 - r) / (8 * (1 + q)) - 2 / q"):
        "a smaller upper bound on G' than the one derived is negative as well: " + LOOSER,
    (_T4, "theta1_bound_eq23", "all_at_C = row_energy([logit(C) ** 2] * 3) -> all_at_C = row_energy([logit(C) ** 2] * 4)"):
        INSTANCE,
    (_T4, "theta1_bound_eq23", "theta1_energy_bound(C) < C ** 2 -> theta1_energy_bound(C) <= C ** 2"): LOOSER,
    (_T4, "theta1_bound_eq23", "C ** 2 -> C * 2"): LOOSER + " (log(3/2)^2 = 0.164 < 6/5)",
    (_T4, "theta1_bound_eq23", "sp.nsolve(logit(u) - u, u, 0.66) -> sp.nsolve(logit(u) - u, 0.66)"): ONE_SYMBOL,
    (_T4, "theta1_bound_eq23", "abs(logit(crossover) - crossover) < 1e-12 -> abs(logit(crossover) - crossover) <= 1e-12"):
        LOOSER + " (nsolve's residual is about 1e-16)",
    (_T4, "theta1_bound_eq23", "1e-12 -> 1.000000000001"): LOOSER + " (nsolve's residual is about 1e-16)",
    (_T4, "theta0_bound_eq24", "n = 3 -> n = 4"): INSTANCE,
    (_T4, "conclusion_eq25", "sp.diff(normalised, u) -> sp.diff(u)"):
        ("both normalised penalties are increasing, and the verdict below eps_c is checked directly on the "
         "next lines, so the monotonicity check only restates what the crossover checks already pin down"),
    (_T4, "conclusion_eq25", "require(normalised.subs(values).subs(u, eps_c_sq / 4) < half, f'{name}: cost < 1/2 below "
                             "eps_c') -> require(normalised.subs(values).subs(u, eps_c_sq / 5) < half, f'{name}: cost < "
                             "1/2 below eps_c')"): INSTANCE,
    (_T4, "conclusion_eq25",
     "normalised.subs(values).subs(u, eps_c_sq / 4) < half -> normalised.subs(values).subs(u, eps_c_sq / 4) <= half"): LOOSER,
    (_T4, "conclusion_eq25", "require((1 / (2 * slope)).subs(values) <= eps_c_sq, f'{name}: 1/(2L) <= eps_c^2') -> "
                             "require((1 / (3 * slope)).subs(values) <= eps_c_sq, f'{name}: 1/(2L) <= eps_c^2')"): LOOSER,
    (_T4, "conclusion_eq25", "(1 / (2 * slope)).subs(values) <= eps_c_sq -> (1 / (2 * slope)).subs(values) < eps_c_sq"): LOOSER,
    (_T4, "conclusion_eq25", "theta1_printed < half -> theta1_printed <= half"): LOOSER,
    (_T4, "log_keeps_sparse_optimum", "sp.diff(log_penalty(u), u) -> sp.diff(log_penalty(u))"): ONE_SYMBOL,
    (_T4, "log_keeps_sparse_optimum", "(log_penalty(u) + log_penalty(active)) / 2 -> (log_penalty(u) + log_penalty(active)) * 2"):
        "(log u +- log a) times any positive weight -> -oo as u -> 0+",
    (_T4, "log_keeps_sparse_optimum", "log_penalty(u) + log_penalty(active) -> log_penalty(u) - log_penalty(active)"):
        "(log u +- log a) times any positive weight -> -oo as u -> 0+",
    (_T4, "log_keeps_sparse_optimum",
     "(log_penalty(x_energy[0]) + log_penalty(x_energy[1])) / 2 -> (log_penalty(x_energy[0]) + log_penalty(x_energy[1])) * 2"):
        "any combination of logs of positive energies is finite",
    (_T4, "log_keeps_sparse_optimum",
     "log_penalty(x_energy[0]) + log_penalty(x_energy[1]) -> log_penalty(x_energy[0]) - log_penalty(x_energy[1])"):
        "any combination of logs of positive energies is finite",
    (_T4, "indicator_keeps_sparse_optimum",
     "half * (indicator(0) + indicator(m ** 2)) -> half / (indicator(0) + indicator(m ** 2))"):
        "indicator(0) + indicator(m^2) = 1, so half times or over it is 1/2",
    ('experiments/core/evaluate.py', 'per_image_bpd',
     'generator = torch.Generator(device=device).manual_seed(seed) -> generator = torch.Generator(device=None).manual_seed(seed)'):
        ON_CPU,
    ('experiments/core/evaluate.py', 'per_image_bpd',
     'x = as_unit_float(images[start:start + batch_size].to(device)) -> x = as_unit_float(images[start:start + batch_size].to(None))'):
        ON_CPU,
    ('experiments/core/evaluate.py', 'auroc',
     'inlier_scores = np.asarray(inlier_scores, dtype=np.float64).ravel() -> inlier_scores = np.asarray(inlier_scores, dtype=None).ravel()'):
        EXACT_CAST,
    ('experiments/core/evaluate.py', 'auroc',
     'outlier_scores = np.asarray(outlier_scores, dtype=np.float64).ravel() -> outlier_scores = np.asarray(outlier_scores, dtype=None).ravel()'):
        EXACT_CAST,
    ('experiments/core/losses.py', 'vae_forward',
     'eps = torch.randn((x.shape[0], model.kappa), generator=generator, device=x.device, dtype=x.dtype) -> eps = torch.randn((x.shape[0], model.kappa), generator=generator, device=None, dtype=x.dtype)'):
        ON_CPU,
    ('experiments/core/mmd.py', 'mmd2_unbiased',
     'x = np.asarray(x, dtype=np.float64) -> x = np.asarray(x, dtype=None)'):
        CAST_AGAIN,
    ('experiments/core/mmd.py', 'mmd2_unbiased',
     'y = np.asarray(y, dtype=np.float64) -> y = np.asarray(y, dtype=None)'):
        CAST_AGAIN,
    (_L2, 'limit_eq12',
     "require(sp.limit(error_term(sp.Integer(0)), gamma, 0, '+') == 0, '0/gamma -> 0') -> require(sp.limit(error_term(sp.Integer(0)), None, 0, '+') == 0, '0/gamma -> 0')"):
        'error_term(0) is the constant 0: its limit is 0 in any variable',
    (_L2, 'limit_eq12',
     "require(sp.limit(error_term(sp.Integer(0)), gamma, 0, '+') == 0, '0/gamma -> 0') -> require(sp.limit(error_term(sp.Integer(0)), gamma, 1, '+') == 0, '0/gamma -> 0')"):
        'error_term(0) is the constant 0: its limit is 0 at any point',
    (_L2, 'reparameterization_eq13_to_eq14',
     "require_zero((W_unit * Z - W * mu).norm() ** 2, 'W~ z = W mu (same reconstruction)') -> require_zero((W_unit * Z - W * mu).norm() ** 3, 'W~ z = W mu (same reconstruction)')"):
        'require_zero of ||v||^2, 2 ||v|| or ||v||^3: each is zero exactly when v is',
    (_L2, 'closing_limit',
     "require(sp.limit(gamma * b_zero, gamma, 0, '+') == a, 'gamma * expression -> a (b = 0)') -> require(sp.limit(gamma * b_zero, gamma, 1, '+') == a, 'gamma * expression -> a (b = 0)')"):
        'gamma * (a/gamma + log gamma + c log gamma) is a at gamma = 1 too (log 1 = 0); the limit at 0 is checked for b > 0 on the line above',
    (_L3, 'sigma_to_zero_eq18',
     "W = sp.Matrix(2, 2, lambda j, k: sp.Symbol(f'W{j + 1}{k + 1}', real=True)) -> W = sp.Matrix(3, 2, lambda j, k: sp.Symbol(f'W{j + 1}{k + 1}', real=True))"):
        'only W[j, k] with j, k < 2 are used: a larger W adds unused entries',
    (_L3, 'sigma_to_zero_eq18',
     "W = sp.Matrix(2, 2, lambda j, k: sp.Symbol(f'W{j + 1}{k + 1}', real=True)) -> W = sp.Matrix(2, 3, lambda j, k: sp.Symbol(f'W{j + 1}{k + 1}', real=True))"):
        'only W[j, k] with j, k < 2 are used: a larger W adds unused entries',
    (_L3, 'sigma_to_zero_eq18',
     "decoders = {'affine': lambda v: [sum((W[j, k] * v[k] for k in range(2))) + b[j] for j in range(2)], 'polynomial': lambda v: [v[0] ** 2 - v[1], v[0] * v[1] ** 3]} -> decoders = {'affine': lambda v: [sum((W[j, k] * v[k] for k in range(2))) + b[j] for j in range(2)], 'polynomial': lambda v: [v[1] ** 2 - v[1], v[0] * v[1] ** 3]}"):
        INSTANCE,
    (_L3, 'sigma_to_zero_eq18',
     "decoders = {'affine': lambda v: [sum((W[j, k] * v[k] for k in range(2))) + b[j] for j in range(2)], 'polynomial': lambda v: [v[0] ** 2 - v[1], v[0] * v[1] ** 3]} -> decoders = {'affine': lambda v: [sum((W[j, k] * v[k] for k in range(2))) + b[j] for j in range(2)], 'polynomial': lambda v: [v[0] ** 3 - v[1], v[0] * v[1] ** 3]}"):
        'only W[j, k] with j, k < 2 are used: a larger W adds unused entries',
    (_L3, 'sigma_to_zero_eq18',
     "decoders = {'affine': lambda v: [sum((W[j, k] * v[k] for k in range(2))) + b[j] for j in range(2)], 'polynomial': lambda v: [v[0] ** 2 - v[1], v[0] * v[1] ** 3]} -> decoders = {'affine': lambda v: [sum((W[j, k] * v[k] for k in range(2))) + b[j] for j in range(2)], 'polynomial': lambda v: [v[0] ** 2 - v[1], v[1] * v[1] ** 3]}"):
        INSTANCE,
    (_L3, 'sigma_to_zero_eq18',
     "decoders = {'affine': lambda v: [sum((W[j, k] * v[k] for k in range(2))) + b[j] for j in range(2)], 'polynomial': lambda v: [v[0] ** 2 - v[1], v[0] * v[1] ** 3]} -> decoders = {'affine': lambda v: [sum((W[j, k] * v[k] for k in range(2))) + b[j] for j in range(2)], 'polynomial': lambda v: [v[0] ** 2 - v[1], v[0] * v[1] ** 4]}"):
        INSTANCE,
    (_L3, 'rows_columns_identity_eq18',
     '((1, 1), (2, 3), (3, 2), (4, 5)) -> ((2, 1), (2, 3), (3, 2), (4, 5))'):
        INSTANCE,
    (_L3, 'rows_columns_identity_eq18',
     '((1, 1), (2, 3), (3, 2), (4, 5)) -> ((1, 2), (2, 3), (3, 2), (4, 5))'):
        INSTANCE,
    (_L3, 'rows_columns_identity_eq18',
     '((1, 1), (2, 3), (3, 2), (4, 5)) -> ((1, 1), (3, 3), (3, 2), (4, 5))'):
        INSTANCE,
    (_L3, 'rows_columns_identity_eq18',
     '((1, 1), (2, 3), (3, 2), (4, 5)) -> ((1, 1), (2, 4), (3, 2), (4, 5))'):
        INSTANCE,
    (_L3, 'rows_columns_identity_eq18',
     '((1, 1), (2, 3), (3, 2), (4, 5)) -> ((1, 1), (2, 3), (4, 2), (4, 5))'):
        INSTANCE,
    (_L3, 'rows_columns_identity_eq18',
     '((1, 1), (2, 3), (3, 2), (4, 5)) -> ((1, 1), (2, 3), (3, 3), (4, 5))'):
        INSTANCE,
    (_L3, 'rows_columns_identity_eq18',
     '((1, 1), (2, 3), (3, 2), (4, 5)) -> ((1, 1), (2, 3), (3, 2), (5, 5))'):
        INSTANCE,
    (_L3, 'rows_columns_identity_eq18',
     '((1, 1), (2, 3), (3, 2), (4, 5)) -> ((1, 1), (2, 3), (3, 2), (4, 6))'):
        INSTANCE,
    (_MT, 'eq8_comparison',
     "require(sp.limit(sp.log(z1_star ** 2) + sp.log(u), u, 0, '+') == -sp.oo, 'log: sparse side -oo') -> require(sp.limit(sp.log(z1_star ** 3) + sp.log(u), u, 0, '+') == -sp.oo, 'log: sparse side -oo')"):
        'log of any positive constant plus log u -> -oo, and c log(eps^k) is finite, for any c, k',
    (_MT, 'eq8_comparison',
     "require((2 * sp.log(eps ** 2)).is_finite, 'log: dense side finite') -> require((3 * sp.log(eps ** 2)).is_finite, 'log: dense side finite')"):
        'log of any positive constant plus log u -> -oo, and c log(eps^k) is finite, for any c, k',
    (_MT, 'eq8_comparison',
     "require((2 * sp.log(eps ** 2)).is_finite, 'log: dense side finite') -> require((2 * sp.log(eps ** 3)).is_finite, 'log: dense side finite')"):
        'log of any positive constant plus log u -> -oo, and c log(eps^k) is finite, for any c, k',
    ('proofs_check/steps.py', 'step',
     "module = check.__module__.rsplit('.', 1)[-1] -> module = check.__module__.rsplit('.', 2)[-1]"):
        'the last dot-separated part is the same whatever the number of splits',
    (_T4, 'indicator_passes_limiting_slope_test',
     "limiting_slope = sp.limit(sp.diff(sp.Integer(1), u), u, 0, '+') -> limiting_slope = sp.limit(sp.diff(sp.Integer(1), u), None, 0, '+')"):
        CONSTANT_SLOPE,
    (_T4, 'indicator_passes_limiting_slope_test',
     "limiting_slope = sp.limit(sp.diff(sp.Integer(1), u), u, 0, '+') -> limiting_slope = sp.limit(sp.diff(sp.Integer(2), u), u, 0, '+')"):
        CONSTANT_SLOPE,
    (_T4, 'indicator_passes_limiting_slope_test',
     "limiting_slope = sp.limit(sp.diff(sp.Integer(1), u), u, 0, '+') -> limiting_slope = sp.limit(sp.diff(sp.Integer(1), u), u, 1, '+')"):
        CONSTANT_SLOPE,
    (_T4, 'theta1_bound_eq23',
     "require(theta1_energy_bound(C) < C ** 2, 'log(3/2)^2 < 9/25: the printed bound fails') -> require(theta1_energy_bound(C) < C ** 3, 'log(3/2)^2 < 9/25: the printed bound fails')"):
        'a comparison of fixed numbers that holds with room to spare: the non-strict or looser comparison of the same numbers gives the same verdict (log(3/2)^2 = 0.164 < 27/125)',
    (_T4, 'theta1_bound_eq23',
     'crossover = sp.nsolve(logit(u) - u, u, 0.66) -> crossover = sp.nsolve(logit(u) - u, None, 0.66)'):
        ONE_SYMBOL,
    (_T4, 'theta0_bound_eq24',
     "delta = sp.Matrix(2, n, lambda k, i: sp.Symbol(f'delta{k}{i}', positive=True)) -> delta = sp.Matrix(3, n, lambda k, i: sp.Symbol(f'delta{k}{i}', positive=True))"):
        INSTANCE,
    (_T4, 'log_keeps_sparse_optimum',
     'theta1 = (log_penalty(u) + log_penalty(active)) / 2 -> theta1 = (log_penalty(u) + log_penalty(active)) / 3'):
        'any positive weight keeps -oo at theta = 1 and a finite theta = 0 cost',
    (_T4, 'log_keeps_sparse_optimum',
     'theta0 = (log_penalty(x_energy[0]) + log_penalty(x_energy[1])) / 2 -> theta0 = (log_penalty(x_energy[1]) + log_penalty(x_energy[1])) / 2'):
        'any combination of logs of positive energies is finite',
    (_T4, 'log_keeps_sparse_optimum',
     'theta0 = (log_penalty(x_energy[0]) + log_penalty(x_energy[1])) / 2 -> theta0 = (log_penalty(x_energy[0]) + log_penalty(x_energy[1])) / 3'):
        'any positive weight keeps -oo at theta = 1 and a finite theta = 0 cost',
    (_T4, 'indicator_keeps_sparse_optimum',
     'theta0 = half * (indicator(x_energy[0]) + indicator(x_energy[1])) -> theta0 = half * (indicator(x_energy[1]) + indicator(x_energy[1]))'):
        'indicator(e2) = indicator(e1) = 1 for positive energies',
})
