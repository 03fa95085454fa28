"""experiments/core/snapshots.py: which kept weights a convergence curve evaluates, and that a killed
evaluation loses nothing it had finished (one cache file per snapshot, written atomically)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.experiments_support import needs_experiments

torch = needs_experiments()

from experiments.core.snapshots import (cache_path, evaluate_snapshots, expected_steps, missing_steps,
                                        portable_path, snapshot_files, training_time)
from experiments.core.train import seed_everything, train
from tests.test_train import VectorVAE, vector_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A finished 12-step run keeping its weights from step 1 on."""
    generator = torch.Generator().manual_seed(0)
    data = torch.randn(256, 6, generator=generator)
    folder = tmp_path_factory.mktemp("snapshots") / "run"
    seed_everything(0)
    train(VectorVAE(), data, vector_config(iters=12, keep_from=1), folder)
    return folder


def gamma_score(calls: list):
    """A cheap score: the snapshot's log_gamma_var and its step, recording which steps were scored."""
    def score(state):
        calls.append(state["step"])
        return {"log_gamma_var": float(state["model"]["log_gamma_var"]), "step": state["step"],
                "per_image": np.arange(3.0) * state["step"]}
    return score


def test_every_kept_step_is_evaluated_in_order_and_nothing_else(run_dir, tmp_path):
    """Steps 1, 1.5, 2, 3, 5, 7 times 10^k (int) from keep_from = 1, plus the last step 12:
    1, 2, 3, 5, 7, 10, 12 (1.5 rounds down to 1; 15, 20, ... lie past 12); each scored once, from its
    own file."""
    calls = []
    results = evaluate_snapshots(run_dir, tmp_path / "cache", gamma_score(calls), {"v": 1}, progress=False)
    assert list(results) == [1, 2, 3, 5, 7, 10, 12] == expected_steps({"iters": 12, "keep_from": 1})
    assert calls == [1, 2, 3, 5, 7, 10, 12]
    assert all(int(r["step"]) == step for step, r in results.items())
    assert missing_steps(run_dir, results) == []
    assert missing_steps(run_dir, [1, 2, 3]) == [5, 7, 10, 12]


def test_a_run_still_in_progress_is_evaluated_up_to_its_last_snapshot(run_dir, tmp_path):
    """A run that has written only some snapshots: those are scored, the rest reported missing; a
    later call scores only the new ones."""
    partial = tmp_path / "run"
    (partial / "snapshots").mkdir(parents=True)
    (partial / "config.json").write_text((run_dir / "config.json").read_text())
    for step in (1, 2, 3):
        name = f"step_{step:07d}.pt"
        (partial / "snapshots" / name).write_bytes((run_dir / "snapshots" / name).read_bytes())
    (partial / "snapshots" / "step_0000005.pt.tmp").write_bytes(b"half a file")  # being written now
    calls = []
    first = evaluate_snapshots(partial, tmp_path / "cache", gamma_score(calls), {"v": 1}, progress=False)
    assert list(first) == [1, 2, 3] and missing_steps(partial, first) == [5, 7, 10, 12]
    for step in (5, 7):
        name = f"step_{step:07d}.pt"
        (partial / "snapshots" / name).write_bytes((run_dir / "snapshots" / name).read_bytes())
    second = evaluate_snapshots(partial, tmp_path / "cache", gamma_score(calls), {"v": 1}, progress=False)
    assert list(second) == [1, 2, 3, 5, 7] and calls == [1, 2, 3, 5, 7]


class _Killed(Exception):
    pass


def test_a_killed_evaluation_resumes_from_its_cache_and_gives_the_uninterrupted_result(run_dir, tmp_path):
    """Killed while scoring step 5 (after 1, 2, 3 were cached; a half-written cache file of step 5 left
    behind): the rerun scores only 5, 7, 10, 12 and returns what an uninterrupted evaluation returns."""
    calls = []
    honest = gamma_score(calls)

    def dies_at_step_5(state):
        if state["step"] == 5:
            cache_path(tmp_path / "cache", 5).with_suffix(".npz.tmp").write_bytes(b"\x00partial")
            raise _Killed
        return honest(state)

    with pytest.raises(_Killed):
        evaluate_snapshots(run_dir, tmp_path / "cache", dies_at_step_5, {"v": 1}, progress=False)
    assert calls == [1, 2, 3]
    resumed = evaluate_snapshots(run_dir, tmp_path / "cache", honest, {"v": 1}, progress=False)
    assert calls == [1, 2, 3, 5, 7, 10, 12]
    fresh = evaluate_snapshots(run_dir, tmp_path / "fresh", gamma_score([]), {"v": 1}, progress=False)
    assert list(resumed) == list(fresh)
    for step in fresh:
        for key in fresh[step]:
            np.testing.assert_array_equal(resumed[step][key], fresh[step][key])


def test_cache_made_with_other_settings_is_scored_again(run_dir, tmp_path):
    """The settings (data, sample counts, seeds) are part of the cache key: changing them rescoring all."""
    calls = []
    evaluate_snapshots(run_dir, tmp_path / "cache", gamma_score(calls), {"iw_samples": 16}, progress=False)
    evaluate_snapshots(run_dir, tmp_path / "cache", gamma_score(calls), {"iw_samples": 16}, progress=False)
    assert len(calls) == 7
    evaluate_snapshots(run_dir, tmp_path / "cache", gamma_score(calls), {"iw_samples": 100}, progress=False)
    assert len(calls) == 14


def test_a_folder_without_snapshots_has_none(tmp_path):
    assert snapshot_files(tmp_path) == {}
    assert evaluate_snapshots(tmp_path, tmp_path / "cache", gamma_score([]), {}, progress=False) == {}


def test_training_time_reads_the_last_complete_row_of_a_file_still_being_written(tmp_path):
    """A run appending to metrics.csv: the row cut short is skipped; s_per_step = time_s / step."""
    (tmp_path / "metrics.csv").write_text("step,loss,time_s\n100,1.0,50.0\n200,0.5,120.0\n300,0.4")
    assert training_time(tmp_path) == {"step": 200, "time_s": 120.0, "s_per_step": 0.6}
    assert training_time(tmp_path / "none") is None


def test_steps_restrict_the_evaluation_to_the_named_snapshots(run_dir, tmp_path):
    """steps=[3, 12, 40]: the kept steps 3 and 12 are scored; 40 is not a snapshot of the run."""
    calls = []
    results = evaluate_snapshots(run_dir, tmp_path / "cache", gamma_score(calls), {}, steps=[3, 12, 40],
                                 progress=False)
    assert list(results) == [3, 12] and calls == [3, 12]


def test_reports_name_run_folders_without_the_machines_folder_layout(tmp_path, monkeypatch):
    """A relative folder is kept as given, one under the working directory is made relative to it, any
    other absolute folder keeps only its last `keep` parts: no committed report names /home/... or /data/..."""
    monkeypatch.chdir(tmp_path)
    assert portable_path("runs/outlier_long/kappa_64") == "runs/outlier_long/kappa_64"
    assert portable_path(tmp_path / "runs" / "celeba_long" / "learned_gamma") == "runs/celeba_long/learned_gamma"
    outside = tmp_path.parent / "elsewhere" / "runs" / "outlier_long" / "kappa_64"
    assert portable_path(outside) == "runs/outlier_long/kappa_64"
    snapshot = outside / "snapshots" / "step_0002000.pt"
    assert portable_path(snapshot, keep=5) == "runs/outlier_long/kappa_64/snapshots/step_0002000.pt"
    assert not Path(portable_path(snapshot)).is_absolute()
