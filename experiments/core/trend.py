"""Trends of a convergence curve y(t) against the iteration t, and their extrapolation (labelled as such)
to a longer run, e.g. from the 24K iterations of a CPU run to the paper's 200K (Table 1).

Two forms, fitted by least squares in t / t_max (so the parameters stay of order one):
  "power"  y = a + b (t / t_max)^(-c), c > 0: a curve that levels off at the asymptote a
           (learning curves of SGD-trained networks are commonly of this shape);
  "log"    y = a + b log(t / t_max): a straight line on a log-iteration axis that never levels off
           (the limit c -> 0 of the power form).
Uncertainty of a prediction: the delta method on the least-squares covariance (residual variance from
the fit), and a bootstrap over the points (resampled with replacement, refitted). Neither knows that the
points come from ONE training trajectory scored on the same images (their errors are correlated) or that
the form may be wrong past the data: the backtest (fit without the last points, predict them) shows how
far such an extrapolation missed within the data.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit, minimize_scalar

FORMS = ("power", "log")
_POWER_C_GRID = np.geomspace(1e-3, 5.0, 120)  # start values of the exponent for the profile search
_POWER_C_BOUNDS = (1e-4, 10.0)


@dataclass(frozen=True)
class Fit:
    """A fitted trend: form, params (a, b[, c]), their covariance, the scale t_max and the residual
    sum of squares of the n points it was fitted to."""

    form: str
    params: np.ndarray
    cov: np.ndarray
    t_max: float
    rss: float
    n: int

    def predict(self, t) -> np.ndarray:
        return _model(self.form, np.asarray(t, dtype=np.float64) / self.t_max, *self.params)

    def predict_se(self, t) -> np.ndarray:
        """Standard error of predict(t) from the parameter covariance (delta method)."""
        u = np.atleast_1d(np.asarray(t, dtype=np.float64) / self.t_max)
        grad = _gradient(self.form, u, self.params)  # (n_params, len(u))
        return np.sqrt(np.einsum("iu,ij,ju->u", grad, self.cov, grad))

    @property
    def aic(self) -> float:
        """Akaike's criterion for Gaussian least squares, n log(RSS / n) + 2 k (lower is better)."""
        return float(self.n * np.log(max(self.rss, 1e-300) / self.n) + 2 * len(self.params))


def _model(form: str, u, a, b, c=None):
    if form == "power":
        return a + b * u ** (-c)
    return a + b * np.log(u)


def _gradient(form: str, u: np.ndarray, params: np.ndarray) -> np.ndarray:
    if form == "power":
        _, b, c = params
        return np.stack([np.ones_like(u), u ** (-c), -b * u ** (-c) * np.log(u)])
    return np.stack([np.ones_like(u), np.log(u)])


def _linear_fit(columns: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    coef, *_ = np.linalg.lstsq(columns, y, rcond=None)
    residual = y - columns @ coef
    return coef, float(residual @ residual)


def fit_trend(t, y, form: str) -> Fit:
    """Least-squares fit of `form` to the points (t, y), t > 0 (iterations). ValueError with fewer
    points than parameters + 1 (no residual variance, no uncertainty)."""
    if form not in FORMS:
        raise ValueError(f"unknown trend form {form!r}; choose from {', '.join(FORMS)}")
    t, y = np.asarray(t, dtype=np.float64), np.asarray(y, dtype=np.float64)
    k = 3 if form == "power" else 2
    if t.shape != y.shape or t.ndim != 1 or len(np.unique(t)) < k + 1:
        raise ValueError(f"a {form} trend needs at least {k + 1} distinct iterations, got {len(np.unique(t))}")
    if not (np.all(t > 0) and np.all(np.isfinite(y))):
        raise ValueError("trend points need iterations > 0 and finite values")
    t_max = float(t.max())
    u = t / t_max
    if form == "log":
        columns = np.stack([np.ones_like(u), np.log(u)], axis=1)
        params, rss = _linear_fit(columns, y)
        cov = rss / (len(y) - k) * np.linalg.inv(columns.T @ columns)
        return Fit(form, params, cov, t_max, rss, len(y))
    # power: for a fixed c the model is linear in (a, b); the best c of a grid starts the full fit
    profile = [(_linear_fit(_power_columns(u, c), y), c) for c in _POWER_C_GRID]
    (ab, _), c0 = min(profile, key=lambda item: item[0][1])
    if c0 == _POWER_C_GRID[0]:
        params = _power_fit_near_the_log_form(u, y)
    else:
        params = _power_fit_from(u, y, [*ab, c0])
    residual = y - _model("power", u, *params)
    rss = float(residual @ residual)
    jac = _gradient("power", u, params).T
    cov = rss / (len(y) - k) * np.linalg.pinv(jac.T @ jac)
    return Fit(form, np.asarray(params), cov, t_max, rss, len(y))


def _power_columns(u: np.ndarray, c: float) -> np.ndarray:
    return np.stack([np.ones_like(u), u ** (-c)], axis=1)


def _power_fit_near_the_log_form(u: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The power form when the best exponent of the grid is its smallest: the data follow the log
    form (the limit c -> 0, where a and b run off to -inf and +inf with b c fixed), and a joint
    search would spend its whole evaluation budget walking toward the bound (0.3 s a fit). For a
    fixed c the fit is linear in (a, b), so minimise the residual over log c alone on
    [lower bound, second grid point]: the same least-squares problem, one variable."""
    def rss(log_c: float) -> float:
        return _linear_fit(_power_columns(u, np.exp(log_c)), y)[1]
    bounds = (np.log(_POWER_C_BOUNDS[0]), np.log(_POWER_C_GRID[1]))
    log_c = minimize_scalar(rss, bounds=bounds, method="bounded", options={"xatol": 1e-10}).x
    ab, _ = _linear_fit(_power_columns(u, np.exp(log_c)), y)
    return np.array([*ab, np.exp(log_c)])


def _power_fit_from(u: np.ndarray, y: np.ndarray, start: list[float]) -> np.ndarray:
    with warnings.catch_warnings():
        # curve_fit warns when ITS covariance is singular (e.g. c at a bound); ours is computed below
        warnings.simplefilter("ignore", OptimizeWarning)
        params, _ = curve_fit(lambda uu, a, b, c: _model("power", uu, a, b, c), u, y, p0=start,
                              bounds=([-np.inf, -np.inf, _POWER_C_BOUNDS[0]],
                                      [np.inf, np.inf, _POWER_C_BOUNDS[1]]),
                              method="trf", x_scale="jac", max_nfev=20_000)
    return np.asarray(params)


def bootstrap_prediction(t, y, form: str, at: float, *, repeats: int = 1000, seed: int = 0) -> dict:
    """Percentiles of the prediction at `at` over fits to points resampled with replacement (draws with
    too few distinct iterations, or whose fit fails, are skipped and counted)."""
    t, y = np.asarray(t, dtype=np.float64), np.asarray(y, dtype=np.float64)
    rng = np.random.default_rng(seed)
    k = 3 if form == "power" else 2
    if len(np.unique(t)) < k + 2:
        # with k + 1 points every usable resample is the data itself: no spread to report
        raise ValueError(f"a bootstrap of the {form} trend needs at least {k + 2} distinct iterations")
    predictions, skipped = [], 0
    for _ in range(repeats):
        index = rng.integers(0, len(t), len(t))
        if len(np.unique(t[index])) < k + 1:
            skipped += 1
            continue
        try:
            predictions.append(float(fit_trend(t[index], y[index], form).predict(at)))
        except (ValueError, RuntimeError, np.linalg.LinAlgError):
            skipped += 1
    if not predictions:
        raise ValueError(f"bootstrap of the {form} trend: no resample could be fitted")
    p = np.percentile(predictions, [2.5, 16, 50, 84, 97.5])
    return {"p2.5": p[0], "p16": p[1], "median": p[2], "p84": p[3], "p97.5": p[4],
            "fits": len(predictions), "skipped": skipped}


def backtest(t, y, form: str, hold_out: int = 2) -> dict:
    """Fit without the last `hold_out` points and predict them: how far the form extrapolated within the
    data (the largest absolute miss, and the factor in t between the last fitted and last held-out point)."""
    order = np.argsort(t)
    t, y = np.asarray(t, dtype=np.float64)[order], np.asarray(y, dtype=np.float64)[order]
    fit = fit_trend(t[:-hold_out], y[:-hold_out], form)
    miss = fit.predict(t[-hold_out:]) - y[-hold_out:]
    return {"max_abs_miss": float(np.abs(miss).max()), "misses": miss.tolist(),
            "fitted_up_to": float(t[-hold_out - 1]), "predicted_up_to": float(t[-1])}


def extrapolate(t, y, at: float, forms=FORMS, *, repeats: int = 1000, seed: int = 0) -> dict:
    """Every form fitted to (t, y) and predicted at `at`: {form: {params, prediction, delta_se,
    bootstrap, aic, backtest}}; forms that cannot be fitted or backtested carry an "error" entry."""
    report = {}
    for form in forms:
        try:
            fit = fit_trend(t, y, form)
            entry = {"params": fit.params.tolist(), "t_max": fit.t_max,
                     "prediction": float(fit.predict(at)), "delta_se": float(fit.predict_se(at)[0]),
                     "aic": fit.aic, "rss": fit.rss, "n": fit.n}
        except (ValueError, RuntimeError) as err:
            report[form] = {"error": str(err)}
            continue
        try:
            entry["bootstrap"] = bootstrap_prediction(t, y, form, at, repeats=repeats, seed=seed)
        except ValueError as err:
            entry["bootstrap"] = {"error": str(err)}
        try:
            entry["backtest"] = backtest(t, y, form)
        except (ValueError, RuntimeError) as err:
            entry["backtest"] = {"error": str(err)}
        report[form] = entry
    return report
