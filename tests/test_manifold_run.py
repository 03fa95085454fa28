"""`infgrad manifold` end to end on the smoke suite: known answers, resume, one-line errors."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from tests.experiments_support import needs_experiments

needs_experiments()

from experiments.manifold import baselines, curve, estimators  # noqa: E402
from infgrad.cli import main  # noqa: E402
from infgrad.tolerances import TRAINED_SLOPE_ATOL  # noqa: E402


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("manifold") / "smoke"
    assert main(["manifold", "--suite", "smoke", "--out", str(out)]) == 0
    return out


def test_smoke_learned_gamma_vae_finds_r_on_a_linear_subspace(smoke):
    """Definition 1 on data of rank 2 in R^6: the learned-gamma VAE keeps exactly 2 active latent
    dimensions (both gap rules), its decoder Jacobian has rank 2, and Lemma 2's slope reads 2."""
    row = json.loads((smoke / "results.json").read_text())["rows"][0]
    assert (row["r"], row["embedding_target"]) == (2, 2)
    est = row["estimates"]
    assert (est["active_sigma"], est["active_energy"], est["jacobian_rank"]) == (2, 2, 2)
    assert est["lemma2_slope"] == pytest.approx(2, abs=TRAINED_SLOPE_ATOL)


def test_smoke_squeezed_curve_follows_theorem4(smoke):
    """Theorem 4 (Eq. 23-25) trained: u/(u + c), c = 0.01, prefers one active row at eps = 1 and two at
    eps = 0.01 (theory's crossover 0.157 lies between); the learned-gamma VAE prefers one at both."""
    summary = json.loads((smoke / "curve" / "results.json").read_text())
    best = curve.preferred(summary["runs"])
    assert [best[("ratio", eps)]["active"] for eps in (1.0, 0.01)] == [1, 2]
    assert [best[("vae", eps)]["active"] for eps in (1.0, 0.01)] == [1, 1]
    crossing = summary["crossover"]["ratio"]
    assert 0.01 < crossing["measured"] < 1.0 and 0.01 < crossing["predicted"] < 1.0


def test_smoke_writes_table_figures_and_mae(smoke):
    table = (smoke / "table.md").read_text()
    for column in ("manifold", "target", "active (sigma gap)", "Lemma 2 slope", "MAE vs its target"):
        assert column in table
    for figure in ("rhat_vs_r.png", "loss_vs_log_gamma.png", "curve_active.png"):
        assert (smoke / figure).stat().st_size > 1000
    mae = json.loads((smoke / "results.json").read_text())["mae"]
    assert mae["active_sigma"]["aims_at"] == "embedding" and mae["active_sigma"]["mae"] == 0.0


def _outcome(out) -> tuple:
    """What a suite measured (not how long it took): the table, each manifold's estimates, and each
    curve run's final objective and active count."""
    results = json.loads((out / "results.json").read_text())
    return ((out / "table.md").read_text(), [row["estimates"] for row in results["rows"]],
            [(run["model"], run["eps"], run["theta"], run["objective"], run["active"])
             for run in results["curve"]["runs"]])


def _interrupted_smoke(out, monkeypatch) -> None:
    """The smoke suite killed during the squeezed-curve sweep, after the manifold and two curve runs."""
    real, calls = curve.run_one, []

    def interrupt_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(curve, "run_one", interrupt_third)
    assert main(["manifold", "--suite", "smoke", "--out", str(out)]) == 130
    monkeypatch.setattr(curve, "run_one", real)


def test_interrupted_then_resumed_suite_gives_the_same_table(smoke, tmp_path, monkeypatch, capsys):
    """Killed, then resumed: the table and every measured number equal the uninterrupted run's; a
    resume that claims the finished runs without loading their weights (the wrong implementation)
    changes them."""
    out = tmp_path / "smoke"
    _interrupted_smoke(out, monkeypatch)
    assert main(["manifold", "--suite", "smoke", "--out", str(out)]) == 2  # no silent overwrite
    assert "--resume" in capsys.readouterr().err
    wrong = tmp_path / "wrong"
    shutil.copytree(out, wrong)
    assert main(["manifold", "--suite", "smoke", "--out", str(out), "--resume"]) == 0
    assert _outcome(out) == _outcome(smoke)

    def finished_without_loading(model, config, run_dir):
        return (run_dir / "checkpoint.pt").exists()

    monkeypatch.setattr(curve, "finished_stage", finished_without_loading)
    assert main(["manifold", "--suite", "smoke", "--out", str(wrong), "--resume"]) == 0
    assert _outcome(wrong) != _outcome(smoke)


def test_resume_of_an_empty_folder_is_a_one_line_error(tmp_path, capsys):
    assert main(["manifold", "--suite", "smoke", "--out", str(tmp_path / "none"), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "holds no run to continue" in err and len(err.strip().splitlines()) == 1


def test_smoke_count_on_the_wrong_side_of_the_gap_is_not_r(smoke):
    """Companion of the smoke count: the trained encoder's variances (kappa = 6) fed to a count on the
    wrong side of the largest gap give the 4 unused dimensions, not r = 2."""
    row = json.loads((smoke / "results.json").read_text())["rows"][0]
    log_var = np.array(row["mean_log_sigma_sq"])
    assert estimators.active_dims_from_variance(log_var).count == 2
    assert log_var.size - estimators.active_dims_from_variance(log_var).count != 2


@pytest.mark.parametrize("extra, message", [
    (["--suite", "huge"], "unknown suite"),
    (["--manifold", "subspace:5:6"], "does not fit in d = 5"),
    (["--manifold", "cone:5:2"], "expected KIND:D:R"),
    (["--device", "tpu"], "--device"),
    (["--curve-only", "--no-curve"], "contradicts"),
])
def test_bad_arguments_are_one_line_errors(tmp_path, capsys, extra, message):
    code = main(["manifold", "--out", str(tmp_path / "o"), *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_out_that_is_a_file_is_a_one_line_error(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    assert main(["manifold", "--suite", "smoke", "--out", str(target)]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_missing_scikit_dimension_skips_every_baseline_with_the_reason(monkeypatch):
    monkeypatch.setattr(baselines, "available", lambda: (False, "scikit-dimension is not installed"))
    values, skipped = baselines.estimate_all([[0.0, 1.0], [1.0, 0.0]])
    assert values == {} and set(skipped) == set(baselines.BASELINES)
    assert all("not installed" in why for why in skipped.values())
