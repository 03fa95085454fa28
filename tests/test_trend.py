"""experiments/core/trend.py: the fits behind the extrapolation of Table 1's convergence curves to 200K
iterations, checked on synthetic curves whose answer is known."""
from __future__ import annotations

import numpy as np
import pytest

from experiments.core.trend import backtest, bootstrap_prediction, extrapolate, fit_trend
from infgrad.tolerances import MC_SIGMAS, OPTIMIZER_ARGMIN_RTOL, ROUNDOFF_RTOL

STEPS = np.array([1000, 1500, 2000, 3000, 5000, 7000, 10_000, 15_000, 20_000, 24_000], dtype=np.float64)
TARGET = 200_000.0


def power_law(t, a, b, c):
    return a + b * (t / STEPS.max()) ** (-c)


@pytest.mark.parametrize("a,b,c", [(2.5, 0.6, 0.5), (6.3, -0.4, 0.8), (-4.0, 1.2, 0.3)])
def test_power_trend_recovers_a_noiseless_curve_and_its_value_at_200k(a, b, c):
    """y = a + b (t/t_max)^-c exactly: the fit returns (a, b, c) and the curve's own value at 200K."""
    fit = fit_trend(STEPS, power_law(STEPS, a, b, c), "power")
    # least_squares (trf) stops on its xtol/ftol rules: a minimizer's stopping error
    np.testing.assert_allclose(fit.params, [a, b, c], rtol=OPTIMIZER_ARGMIN_RTOL)
    assert fit.predict(TARGET) == pytest.approx(power_law(TARGET, a, b, c), rel=OPTIMIZER_ARGMIN_RTOL)


def test_log_trend_prediction_and_its_standard_error_are_the_textbook_regression_formulas():
    """Straight line in x = log(t/t_max): the prediction at x0 and its standard error
    s sqrt(1/n + (x0 - mean x)^2 / Sxx), s^2 = RSS / (n - 2), from the simple-regression formulas."""
    rng = np.random.default_rng(3)
    y = 7.0 - 0.25 * np.log(STEPS / STEPS.max()) + rng.normal(0.0, 0.02, STEPS.size)
    fit = fit_trend(STEPS, y, "log")
    x = np.log(STEPS / STEPS.max())
    sxx = np.sum((x - x.mean()) ** 2)
    slope = np.sum((x - x.mean()) * (y - y.mean())) / sxx
    intercept = y.mean() - slope * x.mean()
    x0 = np.log(TARGET / STEPS.max())
    s2 = np.sum((y - intercept - slope * x) ** 2) / (STEPS.size - 2)
    assert fit.predict(TARGET) == pytest.approx(intercept + slope * x0, rel=ROUNDOFF_RTOL)
    assert fit.predict_se(TARGET)[0] == pytest.approx(np.sqrt(s2 * (1 / STEPS.size + (x0 - x.mean()) ** 2 / sxx)),
                                                      rel=ROUNDOFF_RTOL)


def test_noisy_power_law_extrapolation_to_200k_covers_the_true_value():
    """Seeded noise of std 0.01 on a power-law curve: the prediction at 200K lies within MC_SIGMAS
    delta-method standard errors of the true value, which the bootstrap's 95% interval contains."""
    a, b, c = 2.5, 0.6, 0.5
    y = power_law(STEPS, a, b, c) + np.random.default_rng(1).normal(0.0, 0.01, STEPS.size)
    truth = power_law(TARGET, a, b, c)
    fit = fit_trend(STEPS, y, "power")
    assert abs(fit.predict(TARGET) - truth) < MC_SIGMAS * fit.predict_se(TARGET)[0]
    band = bootstrap_prediction(STEPS, y, "power", TARGET, repeats=200, seed=0)
    assert band["p2.5"] <= truth <= band["p97.5"]
    assert band["p2.5"] <= band["p16"] <= band["median"] <= band["p84"] <= band["p97.5"]


def test_the_wrong_form_is_exposed_by_aic_and_by_the_backtest():
    """Companion: on a curve that levels off (power law, c = 0.8) the log form, a wrong model, has the
    higher AIC and misses the held-out last points by more than the power form; on a straight line in
    log t the power form buys nothing (its extra parameter costs AIC)."""
    y = power_law(STEPS, 2.0, 0.5, 0.8) + np.random.default_rng(2).normal(0.0, 0.002, STEPS.size)
    report = extrapolate(STEPS, y, TARGET, repeats=50)
    assert report["log"]["aic"] > report["power"]["aic"]
    assert report["log"]["backtest"]["max_abs_miss"] > 5 * report["power"]["backtest"]["max_abs_miss"]
    line = 7.0 - 0.25 * np.log(STEPS / STEPS.max()) + np.random.default_rng(4).normal(0.0, 0.01, STEPS.size)
    report = extrapolate(STEPS, line, TARGET, repeats=50)
    assert report["log"]["aic"] < report["power"]["aic"]


def test_backtest_misses_are_the_held_out_residuals_of_the_shorter_fit():
    """The backtest fits the first n - 2 points and reports prediction - value on the last 2."""
    y = power_law(STEPS, 2.0, 0.5, 0.8) + np.random.default_rng(5).normal(0.0, 0.01, STEPS.size)
    short = fit_trend(STEPS[:-2], y[:-2], "power")
    result = backtest(STEPS, y, "power", hold_out=2)
    np.testing.assert_allclose(result["misses"], short.predict(STEPS[-2:]) - y[-2:], rtol=ROUNDOFF_RTOL)
    assert (result["fitted_up_to"], result["predicted_up_to"]) == (15_000.0, 24_000.0)


def test_too_few_points_or_bad_values_are_value_errors_and_extrapolate_reports_them():
    with pytest.raises(ValueError, match="at least 4 distinct"):
        fit_trend(STEPS[:3], STEPS[:3] * 0.0, "power")
    with pytest.raises(ValueError, match="iterations > 0"):
        fit_trend(np.array([0.0, 1, 2, 3]), np.zeros(4), "log")
    with pytest.raises(ValueError, match="unknown trend form"):
        fit_trend(STEPS, STEPS, "cubic")
    report = extrapolate(STEPS[:3], np.array([3.0, 2.0, 1.5]), TARGET, repeats=10)
    assert "error" in report["power"] and "prediction" in report["log"]


def test_bootstrap_needs_two_points_more_than_parameters():
    """With k + 1 points every usable resample is the data itself (no spread): refused, and extrapolate
    keeps the fit but reports the bootstrap as an error."""
    y = np.array([3.0, 2.0, 1.5])
    with pytest.raises(ValueError, match="at least 4 distinct"):
        bootstrap_prediction(STEPS[:3], y, "log", TARGET)
    report = extrapolate(STEPS[:3], y, TARGET, forms=("log",), repeats=10)
    assert "prediction" in report["log"] and "error" in report["log"]["bootstrap"]
