"""experiments/outlier/curve.py, curve_report.py and arms.py end to end on the smoke preset: the gamma-fixed
arm (`--fixed-gamma-from`), and `infgrad outlier --curve` over the kept weights of both arms (Table 1 against
training length, dequantized BPD, input-complexity AUROC, the extrapolation table and plot)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tests.experiments_support import MNIST_DIR, needs_experiments

torch = needs_experiments()

from experiments.core import datasets
from experiments.core.evaluate import auroc, compressor_bpd
from experiments.core.runs import load_checkpoint, read_metrics, save_checkpoint
from experiments.core.snapshots import read_cache
from experiments.outlier import curve
from experiments.outlier.arms import gamma_star_from
from infgrad.cli import main
from infgrad.tolerances import ROUNDOFF_RTOL
from tests.test_outlier_run import _data_args

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SMOKE = ["--preset", "smoke", "--kappa", "4", "--iters", "4", "--keep-from", "1", "--eval-images", "16"]


@pytest.fixture(scope="module")
def arms(tmp_path_factory):
    """A learned-gamma smoke run and its gamma-fixed twin, both keeping weights at steps 1, 2, 3, 4."""
    root = tmp_path_factory.mktemp("curve")
    assert main(["outlier", *SMOKE, "--out", str(root / "learned"), *_data_args()]) == 0
    assert main(["outlier", *SMOKE, "--out", str(root / "fixed"), *_data_args(),
                 "--fixed-gamma-from", str(root / "learned" / "kappa_4")]) == 0
    return root


@pytest.fixture(scope="module")
def report(arms):
    assert main(["outlier", "--preset", "smoke", "--kappa", "4", "--curve", "--out", str(arms / "learned"),
                 "--fixed-out", str(arms / "fixed"), "--cache", str(arms / "cache"),
                 "--results", str(arms / "results"), *_data_args()]) == 0
    return json.loads((arms / "results" / curve.CURVE_JSON).read_text())


def test_fixed_arm_keeps_gamma_at_the_learned_runs_final_gamma(arms):
    """The gamma-fixed arm starts at, and never leaves, the learned run's final log_gamma_var (the
    same float32 value), and records where it came from."""
    learned = load_checkpoint(arms / "learned" / "kappa_4" / "checkpoint.pt")
    config = json.loads((arms / "fixed" / "kappa_4" / "config.json").read_text())
    log_gamma_star = float(learned["model"]["log_gamma_var"])
    assert config["learn_gamma"] is False and config["log_gamma_var_init"] == log_gamma_star
    assert config["gamma_star_step"] == 4 and config["gamma_star_from"].endswith("checkpoint.pt")
    rows = read_metrics(arms / "fixed" / "kappa_4" / "metrics.csv")
    # the CSV holds the float32 value printed as a float64: the same number to round-off
    assert [r["log_gamma_var"] for r in rows] == pytest.approx([log_gamma_star] * len(rows), rel=ROUNDOFF_RTOL)


def test_gamma_star_source_errors_are_one_line_value_errors(arms, tmp_path):
    """A half-trained run folder, another kappa, a gamma-fixed source, or several --kappa: refused."""
    state = load_checkpoint(arms / "learned" / "kappa_4" / "checkpoint.pt")
    save_checkpoint(tmp_path / "half" / "checkpoint.pt", {**state, "step": 2})
    with pytest.raises(ValueError, match="stopped at step 2 of 4"):
        gamma_star_from(tmp_path / "half", kappa=4)
    with pytest.raises(ValueError, match="kappa=4, this one kappa=16"):
        gamma_star_from(arms / "learned" / "kappa_4" / "checkpoint.pt", kappa=16)
    with pytest.raises(ValueError, match="was fixed, not learned"):
        gamma_star_from(arms / "fixed" / "kappa_4", kappa=4)
    with pytest.raises(ValueError, match="no such file"):
        gamma_star_from(tmp_path / "nothing.pt", kappa=4)
    code = main(["outlier", "--preset", "smoke", "--kappa", "4", "16", "--out", str(tmp_path / "x"),
                 "--fixed-gamma-from", str(arms / "learned" / "kappa_4"), *_data_args()])
    assert code == 2


def test_curve_scores_every_kept_step_of_both_arms_and_its_last_point_is_the_runs_own_evaluation(arms, report):
    """Steps 1, 2, 3, 4 of each arm; at step 4 (the end of training) the no-dequantization BPD equals
    the run's own evaluation (eval.json: same weights, images, seed, code path)."""
    for arm in ("learned_gamma", "fixed_gamma"):
        assert [s["step"] for s in report["arms"][arm]["4"]["steps"]] == [1, 2, 3, 4]
    last = report["arms"]["learned_gamma"]["4"]["steps"][-1]
    own = json.loads((arms / "learned" / "kappa_4" / "eval.json").read_text())
    for name in ("FashionMNIST-Train", "FashionMNIST-Test", "MNIST-Test"):
        for bound in ("elbo", "iw"):
            assert last["bpd"]["as_given"][name][bound]["mean"] == pytest.approx(
                own[f"bpd_{bound}"][name]["mean"], rel=ROUNDOFF_RTOL)
    assert last["gamma_std"] ** 2 == pytest.approx(last["gamma_var"], rel=ROUNDOFF_RTOL)


def test_curve_aurocs_are_recomputed_from_the_cached_per_image_scores(arms, report):
    """AUROC of BPD and of BPD - PNG bits (dequantized) at step 2, from the cache file of that step."""
    entry = report["arms"]["learned_gamma"]["4"]
    scores = read_cache(arms / "cache" / "learned_gamma" / "kappa_4", 2, entry["settings"])
    step = entry["steps"][1]
    fashion, mnist = "FashionMNIST-Test", "MNIST-Test"
    assert step["auroc"]["iw"]["as_given"] == auroc(scores[f"{fashion}__iw"], scores[f"{mnist}__iw"])
    fashion_png = compressor_bpd(datasets.pad_to_32(datasets.load_fashion_mnist("test", download=False)[0])[:16])
    mnist_png = compressor_bpd(datasets.pad_to_32(datasets.load_mnist("test", MNIST_DIR, download=False)[0])[:16])
    expected = auroc(scores[f"{fashion}__iw_deq"] - fashion_png, scores[f"{mnist}__iw_deq"] - mnist_png)
    assert step["auroc"]["iw-png"]["dequantized"] == expected
    assert np.all(scores[f"{mnist}__iw_deq"] != scores[f"{mnist}__iw"])  # another input, another score


def test_curve_report_labels_both_conventions_and_marks_the_extrapolation(arms, report):
    """Every table names its BPD convention; the extrapolation section says what it is; both arms are
    compared at the fixed arm's last step; one plot per kappa."""
    text = (arms / "results" / curve.CURVE_MD).read_text()
    assert "no deq.** = nll(v/255)" in text and "**deq.** = the same at v/255 + u/256" in text
    assert "(no deq.)" in text and "(deq.)" in text
    assert "EXTRAPOLATION" in text and "Both gamma arms at step 4" in text
    assert (arms / "results" / "curve_kappa_4.png").read_bytes()[:4] == b"\x89PNG"


def test_a_second_curve_run_scores_nothing_again(arms, report, monkeypatch):
    """Everything is in the cache: scoring a snapshot again would raise."""
    def no_scoring(*args, **kwargs):
        raise AssertionError("a cached snapshot was scored again")

    monkeypatch.setattr(curve, "score_state", no_scoring)
    assert main(["outlier", "--preset", "smoke", "--kappa", "4", "--curve", "--out", str(arms / "learned"),
                 "--fixed-out", str(arms / "fixed"), "--cache", str(arms / "cache"),
                 "--results", str(arms / "again"), *_data_args()]) == 0
    assert json.loads((arms / "again" / curve.CURVE_JSON).read_text())["arms"] == report["arms"]


def test_curve_without_run_folders_is_a_one_line_error(tmp_path, capsys):
    code = main(["outlier", "--preset", "smoke", "--kappa", "4", "--curve", "--out", str(tmp_path), *_data_args()])
    assert code == 2 and "no run folder" in capsys.readouterr().err
