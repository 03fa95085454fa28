"""Run folders shared by every experiment: config JSON, metrics CSV, atomic checkpoints, resume/force.

A run folder holds `config.json` (what produced it), `metrics.csv` (one row per logged step),
`checkpoint.pt` (one dict with everything needed to resume) and, optionally, snapshots/step_XXXXXXX.pt
(the weights at chosen steps). Nothing is overwritten without `force`; a SIGINT/SIGTERM during a run
is caught (`StopFlag`) so that the loop can checkpoint before it returns.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
from pathlib import Path

import torch

CONFIG_NAME = "config.json"
METRICS_NAME = "metrics.csv"
CHECKPOINT_NAME = "checkpoint.pt"
SNAPSHOT_DIR = "snapshots"  # weights kept at log-spaced steps (TrainConfig.keep_from)


def prepare_run_dir(run_dir: str | Path, config: dict, *, resume: bool = False,
                    force: bool = False, defaults: dict | None = None) -> Path:
    """Create (or reopen with `resume`) a run folder and write its config.json.

    An existing non-empty folder without `resume` or `force` is a ValueError (never overwrite);
    `force` deletes it first; `resume` keeps it and checks that the config matches the saved one
    in every key but the ones that only change how the run is executed (see `RESUME_FREE_KEYS`).
    `defaults` fills keys the saved config lacks (fields added to the code after the run was made)
    before that comparison, so such a run still resumes when the new field keeps its default.
    """
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"run folder {run_dir} exists and is not a folder")
    occupied = run_dir.is_dir() and any(run_dir.iterdir())
    if occupied and force:
        shutil.rmtree(run_dir)
        occupied = False
    if occupied and not resume:
        raise ValueError(f"run folder {run_dir} already holds a run: pass --resume to continue it "
                         f"or --force to start over")
    run_dir.mkdir(parents=True, exist_ok=True)
    config_path = run_dir / CONFIG_NAME
    if resume and config_path.exists():
        # a key the saved config lacks was added to the code later: the run used its default
        saved = {**(defaults or {}), **json.loads(config_path.read_text())}
        changed = sorted(k for k in set(saved) | set(config)
                         if k not in RESUME_FREE_KEYS and saved.get(k) != config.get(k))
        if changed:
            raise ValueError(f"--resume with a different configuration in {run_dir}: "
                             f"{', '.join(changed)} differ from {config_path}")
    write_json_atomic(config_path, config)
    return run_dir


# keys that may change between a run and its resumption without changing the result
RESUME_FREE_KEYS = {"device", "progress", "ckpt_every", "log_every", "num_threads"}


def write_json_atomic(path: str | Path, obj) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def save_checkpoint(path: str | Path, state: dict) -> None:
    """torch.save to a temporary file in the same folder, then os.replace: a kill never leaves a
    half-written checkpoint behind (the previous one stays valid until the rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_checkpoint(path: str | Path, map_location="cpu") -> dict:
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no checkpoint at {path} to resume from")
    # weights_only=False: the checkpoint holds RNG states and the config dict, written by us
    return torch.load(path, map_location=map_location, weights_only=False)


class MetricsCSV:
    """Append-only metrics file; the columns are fixed by the first row written.

    On resume, rows logged after the checkpoint's step (written before the kill but not covered by
    the checkpoint) are dropped, so the file ends up as an uninterrupted run would have written it.
    """

    def __init__(self, path: str | Path, resume_step: int | None = None):
        self.path = Path(path)
        self.fieldnames: list[str] | None = None
        if resume_step is not None and self.path.exists():
            with open(self.path, newline="") as f:
                reader = csv.DictReader(f)
                self.fieldnames = reader.fieldnames
                rows = [r for r in reader if int(r["step"]) <= resume_step]
            self._rewrite(rows)
        elif self.path.exists():
            self.path.unlink()

    def _rewrite(self, rows: list[dict]) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.fieldnames)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, self.path)

    def write(self, row: dict) -> None:
        if self.fieldnames is None:
            self.fieldnames = list(row)
            self._rewrite([])
        with open(self.path, "a", newline="") as f:
            csv.DictWriter(f, fieldnames=self.fieldnames, extrasaction="raise").writerow(row)


def read_metrics(path: str | Path) -> list[dict]:
    """Rows of a metrics CSV as dicts of floats."""
    with open(path, newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


class StopFlag:
    """Within `with StopFlag() as stop:`, SIGINT/SIGTERM set `stop.signum` instead of killing the
    process: the training loop checkpoints at the end of the current step and returns."""

    def __init__(self):
        self.signum = 0
        self._previous = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread: no handlers, the run just cannot be stopped
                pass
        return self

    def _handle(self, signum, frame):
        self.signum = signum

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
