"""experiments/celeba/curve.py end to end: `infgrad celeba --curve` on the smoke preset (generated
CelebA-layout folder), both arms keeping their weights from step 1 on."""
from __future__ import annotations

import json

import numpy as np

import pytest

from tests.experiments_support import needs_experiments

needs_experiments()

from experiments.celeba import curve
from infgrad.cli import main
from tests.test_celeba_data import make_celeba_folder
from tests.test_celeba_run import PARTITION
from infgrad.tolerances import ROUNDOFF_RTOL

KEPT = [1, 2, 3, 5, 7, 8]  # train.snapshot_steps(8, 1): 1, 1.5 -> 1, 2, 3, 5, 7 and the last step 8


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("celeba_curve")
    data = make_celeba_folder(root / "data", PARTITION)
    common = ["celeba", "--data-dir", str(data), "--size", "64", "--preset", "smoke", "--out", str(root / "out"),
              "--threads", "1"]
    assert main([*common, "--keep-from", "1"]) == 0
    assert main([*common, "--curve", "--cache", str(root / "cache"), "--results", str(root / "results")]) == 0
    return root, common, json.loads((root / "results" / curve.CURVE_JSON).read_text())


def test_curve_scores_every_kept_step_of_both_arms_and_ends_at_the_runs_own_evaluation(runs):
    """Steps 1, 2, 3, 5, 7, 8 per arm; at step 8 (end of training) the reconstruction error and MMD^2
    equal the run's own end-of-run evaluation (results.json: same weights, images, draws and seed)."""
    root, _, report = runs
    final = json.loads((root / "out" / "results.json").read_text())
    for arm in ("learned_gamma", "fixed_gamma"):
        steps = report["arms"][arm]["steps"]
        assert [s["step"] for s in steps] == KEPT and report["arms"][arm]["missing_steps"] == []
        assert steps[-1]["rec_err"] == pytest.approx(final["arms"][arm]["rec_err"], rel=ROUNDOFF_RTOL)
        assert steps[-1]["mmd_mean"] == pytest.approx(final["arms"][arm]["mmd"]["mean"], rel=ROUNDOFF_RTOL)
    fixed_gammas = {s["log_gamma_var"] for s in report["arms"]["fixed_gamma"]["steps"]}
    assert fixed_gammas == {report["arms"]["learned_gamma"]["steps"][-1]["log_gamma_var"]}


def test_arm_comparison_is_gap_and_ratio_at_equal_steps_and_the_report_answers_the_question(runs):
    """gap = fixed - learned reconstruction error, ratio = fixed / learned MMD^2, at every common step;
    curve.md states whether the gap shrinks and whether the ratio stays above 1."""
    root, _, report = runs
    learned = {s["step"]: s for s in report["arms"]["learned_gamma"]["steps"]}
    for row, fixed in zip(report["comparison"], report["arms"]["fixed_gamma"]["steps"]):
        assert row["step"] == fixed["step"]
        assert row["rec_gap"] == pytest.approx(fixed["rec_err"] - learned[row["step"]]["rec_err"], rel=ROUNDOFF_RTOL)
        assert row["mmd_ratio"] == pytest.approx(fixed["mmd_mean"] / learned[row["step"]]["mmd_mean"],
                                                 rel=ROUNDOFF_RTOL)
    text = (root / "results" / curve.CURVE_MD).read_text()
    assert "* Reconstruction gap (fixed - learned)" in text and "* MMD^2 ratio fixed / learned" in text
    assert (root / "results" / curve.CURVE_PNG).read_bytes()[:4] == b"\x89PNG"


def test_curve_on_other_data_than_the_run_is_a_one_line_error(runs, capsys):
    root, common, _ = runs
    other = make_celeba_folder(root / "other", PARTITION)
    code = main([*[str(other) if a == common[2] else a for a in common], "--curve",
                 "--cache", str(root / "cache2")])
    assert code == 2 and "was trained on" in capsys.readouterr().err


def test_ratio_extrapolation_continues_an_exact_log_trend_to_40k_and_refuses_too_few_steps(runs):
    """Ratios with log(ratio) = a + b log(t / t_max) exactly are continued to 40K exactly (round-off of a
    linear least-squares fit); the smoke run (steps below 1000) gets a "too few" entry instead."""
    steps = [1000, 1500, 2000, 3000, 5000, 7000, 10_000, 15_000]
    rec = [np.exp(0.05 - 0.12 * np.log(t / 15_000)) for t in steps]
    mmd = [np.exp(0.64 - 0.24 * np.log(t / 15_000)) for t in steps]
    rows = [{"step": t, "rec_gap_relative": r - 1.0, "mmd_ratio": m} for t, r, m in zip(steps, rec, mmd)]
    fits = curve.extrapolate_ratios(rows)
    at = np.log(curve.TARGET_STEPS / 15_000)
    assert curve.TARGET_STEPS == 40_000
    assert fits["rec_err_ratio"]["log"]["prediction"] == pytest.approx(0.05 - 0.12 * at, rel=ROUNDOFF_RTOL)
    assert fits["mmd_ratio"]["log"]["prediction"] == pytest.approx(0.64 - 0.24 * at, rel=ROUNDOFF_RTOL)
    _, _, report = runs
    assert "too few" in report["extrapolation"]["mmd_ratio"]["error"]
