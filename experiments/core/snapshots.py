"""Scores of the weights a run keeps at log-spaced steps (TrainConfig.keep_from, snapshots/step_XXXXXXX.pt):
the convergence curves of the experiments (Table 1, Figure 4) evaluated after, or during, training.

One cache file per snapshot (cache_dir/step_XXXXXXX.npz, written atomically), so a killed evaluation
loses at most the snapshot it was scoring and a rerun scores only what is new. Nothing is written into
the run folder: it may belong to a run still in progress.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import numpy as np
from tqdm import tqdm

from experiments.core.runs import CONFIG_NAME, METRICS_NAME, SNAPSHOT_DIR, load_checkpoint
from experiments.core.train import snapshot_steps

_SNAPSHOT_NAME = re.compile(r"^step_(\d+)\.pt$")
_SETTINGS_KEY = "__settings__"


def add_curve_arguments(parser, folders: str):
    """--curve, --cache and --steps, shared by the experiments' convergence curves; returns the argument
    group for the experiment's own additions. `folders` names the run folders read, for the help."""
    group = parser.add_argument_group("convergence curve (--curve: evaluate kept weights, no training)")
    group.add_argument("--curve", action="store_true",
                       help=f"evaluate every kept snapshot of {folders} (read only) instead of training; "
                            "the tables and plots go to --results (default: off, train)")
    group.add_argument("--cache", default=None,
                       help="folder for the per-snapshot results (default: OUT/curve_cache); a rerun "
                            "evaluates only snapshots that are not there yet")
    group.add_argument("--steps", type=int, nargs="+", default=None, metavar="STEP",
                       help="evaluate only the snapshots of these steps (default: every kept step)")
    return group


def portable_path(path: str | Path, keep: int = 3) -> str:
    """`path` as a committed report may name it: as given when relative, relative to the working directory
    when it lies under it, else its last `keep` parts (an absolute path is this machine's folder layout,
    which a report must not carry; /data/runs/outlier_long/kappa_64 -> runs/outlier_long/kappa_64)."""
    path = Path(path)
    if not path.is_absolute():
        return path.as_posix()
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return Path(*path.parts[-keep:]).as_posix()


def snapshot_files(run_dir: str | Path) -> dict[int, Path]:
    """{step: path} of the snapshots a run folder holds now, in step order (temporary files ignored)."""
    folder = Path(run_dir) / SNAPSHOT_DIR
    if not folder.is_dir():
        return {}
    found = {int(m.group(1)): p for p in folder.iterdir() if (m := _SNAPSHOT_NAME.match(p.name))}
    return dict(sorted(found.items()))


def run_config(run_dir: str | Path) -> dict:
    """The run's config.json (TrainConfig fields and model arguments); ValueError when absent."""
    path = Path(run_dir) / CONFIG_NAME
    if not path.is_file():
        raise ValueError(f"{run_dir}: not a run folder (no {CONFIG_NAME})")
    return json.loads(path.read_text())


def expected_steps(config: dict) -> list[int]:
    """The snapshot steps a run of this config keeps once it has finished (train.snapshot_steps)."""
    return snapshot_steps(int(config["iters"]), int(config.get("keep_from", 0)))


def missing_steps(run_dir: str | Path, scored) -> list[int]:
    """Snapshot steps the finished run will hold that are not among `scored` (the steps evaluated)."""
    return [s for s in expected_steps(run_config(run_dir)) if s not in set(scored)]


def training_time(run_dir: str | Path) -> dict | None:
    """{"step", "time_s", "s_per_step"} of the last complete row of the run's metrics.csv (time_s: wall
    seconds since the start, summed over resumptions); None without rows. The run may be appending to
    the file: a row cut short is skipped."""
    path = Path(run_dir) / METRICS_NAME
    last = None
    if path.is_file():
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                try:
                    last = {"step": int(float(row["step"])), "time_s": float(row["time_s"])}
                except (TypeError, ValueError, KeyError):
                    continue
    if last is None or last["step"] < 1:
        return None
    return {**last, "s_per_step": last["time_s"] / last["step"]}


def time_note(timing: dict | None) -> str:
    """One sentence on the wall time of training so far (metrics.csv time_s), or nothing."""
    if not timing:
        return ""
    return (f"Training wall time: {timing['time_s'] / 3600:.2f} h for {timing['step']:,} iterations "
            f"({timing['s_per_step']:.2f} s per iteration, including any load from other jobs on the machine).")


def cache_path(cache_dir: str | Path, step: int) -> Path:
    return Path(cache_dir) / f"step_{step:07d}.npz"


def read_cache(cache_dir: str | Path, step: int, settings: dict) -> dict[str, np.ndarray] | None:
    """The cached scores of `step`, or None when there are none or they were made with other settings."""
    path = cache_path(cache_dir, step)
    if not path.is_file():
        return None
    with np.load(path) as saved:
        if str(saved[_SETTINGS_KEY]) != _settings_text(settings):
            return None
        return {k: saved[k] for k in saved.files if k != _SETTINGS_KEY}


def write_cache(cache_dir: str | Path, step: int, settings: dict, scores: dict) -> Path:
    """Scores (name -> array or number) of `step` with the settings that made them; atomic (temporary
    file, then os.replace), so a kill leaves the previous state, never half a file."""
    path = cache_path(cache_dir, step)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{k: np.asarray(v) for k, v in scores.items()},
                        **{_SETTINGS_KEY: np.array(_settings_text(settings))})
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(buffer.getvalue())
    os.replace(tmp, path)
    return path


def _settings_text(settings: dict) -> str:
    return json.dumps(settings, sort_keys=True, default=str)


def evaluate_snapshots(run_dir: str | Path, cache_dir: str | Path, score, settings: dict, *,
                       steps=None, progress: bool = True,
                       desc: str = "snapshots") -> dict[int, dict[str, np.ndarray]]:
    """Score every snapshot the run folder holds now (or those of `steps` among them): {step:
    score(state)}, cached per step.

    `score(state) -> dict[str, array-like]`, state the snapshot's dict (model state_dict, step,
    model_args, config). `settings` (JSON-able) names everything the scores depend on besides the
    weights (data, sample counts, seeds); a cache file made with other settings is scored again."""
    files = snapshot_files(run_dir)
    if steps is not None:
        files = {step: path for step, path in files.items() if step in set(steps)}
    results = {}
    bar = tqdm(files.items(), desc=desc, unit="snapshot", disable=not progress, dynamic_ncols=True)
    for step, path in bar:
        cached = read_cache(cache_dir, step, settings)
        if cached is None:
            bar.set_postfix(step=step)
            cached = score(load_checkpoint(path))
            write_cache(cache_dir, step, settings, cached)
            cached = read_cache(cache_dir, step, settings)  # the same types whether fresh or cached
        results[step] = cached
    return results
