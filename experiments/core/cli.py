"""The command-line layer shared by the experiments (`infgrad outlier`, `infgrad celeba`): one
--key=value option per TrainConfig field, type-checked overrides of a preset, and the check, before
any work, that every output folder can be written and that no earlier results are overwritten
without --resume or --force.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
from pathlib import Path

from experiments.core.device import resolve_device
from experiments.core.runs import CHECKPOINT_NAME
from experiments.core.train import TrainConfig, validate


def _parse_bool(text: str) -> bool:
    lowered = str(text).lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected a boolean (true/false), got {text!r}")


def _field_type(field: dataclasses.Field):
    return {"int": int, "float": float, "bool": _parse_bool, "str": str}[str(field.type)]


def override(config: TrainConfig, **changes) -> TrainConfig:
    """dataclasses.replace with a type check: unknown keys and wrong types are a ValueError."""
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    checked = {}
    for key, value in changes.items():
        if key not in fields:
            raise ValueError(f"unknown config key {key!r}; choose from {', '.join(fields)}")
        kind = _field_type(fields[key])
        try:
            converted = kind(value) if isinstance(value, str) else value
        except ValueError as err:
            raise ValueError(f"--{key.replace('_', '-')}: {err}") from None
        expected = {_parse_bool: bool}.get(kind, kind)
        if expected is float and isinstance(converted, int) and not isinstance(converted, bool):
            converted = float(converted)
        if type(converted) is not expected:
            raise ValueError(f"--{key.replace('_', '-')}: expected {expected.__name__}, "
                             f"got {value!r}")
        checked[key] = converted
    return validate(dataclasses.replace(config, **checked))


def add_output_arguments(parser: argparse.ArgumentParser, default: str, contents: str) -> None:
    """--out (a folder holding `contents`), --resume and --force, as every experiment has them."""
    parser.add_argument("--out", default=default, help=f"output folder: {contents} (default: {default})")
    parser.add_argument("--resume", action="store_true",
                        help="continue the runs in --out from their checkpoints (default: off)")
    parser.add_argument("--force", action="store_true",
                        help="delete earlier results in --out first (default: off)")


def add_config_arguments(parser: argparse.ArgumentParser, presets: dict[str, TrainConfig],
                         exclude: tuple[str, ...] = ()) -> None:
    """One --key=value option per TrainConfig field (None = keep the preset's value); the help
    gives each preset's value, the default."""
    group = parser.add_argument_group("training configuration (override the preset)")
    for field in dataclasses.fields(TrainConfig):
        if field.name in exclude:
            continue
        values = {getattr(preset, field.name) for preset in presets.values()}
        default = (f"default {values.pop()} in every preset" if len(values) == 1 else
                   "default: the preset's, " + ", ".join(f"{name} {getattr(preset, field.name)}"
                                                        for name, preset in presets.items()))
        group.add_argument(f"--{field.name.replace('_', '-')}", dest=field.name, default=None,
                           type=str, metavar=str(field.type).upper(), help=default)


def config_from_args(args: argparse.Namespace, base: TrainConfig) -> TrainConfig:
    """`base` (a preset) with every --key=value given on the command line applied (type-checked),
    device "auto" resolved to the device that will run (so config.json records it)."""
    changes = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
               if getattr(args, f.name, None) is not None}
    config = override(base, **changes)
    return dataclasses.replace(config, device=resolve_device(config.device))


def _check_writable(label: str, folder: Path) -> None:
    """`folder` is a folder or can be made one, and files can be created in it (or in its nearest
    existing parent): one line naming the option and the reason otherwise. Nothing is left behind."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{label} {folder} exists and is not a folder")
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(f"{label} {folder}: {existing} is a file, not a folder")
    try:
        os.rmdir(tempfile.mkdtemp(dir=existing, prefix=".infgrad-write-check-"))
    except OSError as err:
        raise ValueError(f"{label} {folder}: cannot create anything in {existing} "
                         f"({err.strerror or err})") from None


def check_out(out: Path, candidates: list[Path], resume: bool, force: bool, *,
              folders: tuple[tuple[str, Path], ...] = (), runs: list[Path] | None = None) -> None:
    """Fail before any work when the outputs cannot be written or would overwrite earlier results.

    `out` (--out) and every (option, folder) of `folders` (e.g. ("--results", path)) must be a folder
    or creatable, and writable. A file or a non-empty folder among `candidates` needs --resume
    (continue it) or --force (start over). With --resume, at least one run folder of `runs` must hold
    a checkpoint: a mistyped or empty --out is an error, not a silent fresh start."""
    if resume and force:
        raise ValueError("--resume and --force contradict each other: choose one")
    for label, folder in (("--out", out), *folders):
        _check_writable(label, Path(folder))
    taken = [str(p) for p in candidates if p.exists() and (p.is_file() or any(p.iterdir()))]
    if taken and not (resume or force):
        raise ValueError(f"the output already holds earlier results ({', '.join(taken)}): pass "
                         f"--resume to continue or --force to overwrite")
    if resume and not any((run / CHECKPOINT_NAME).is_file() for run in runs or ()):
        raise ValueError(f"--resume: {out} holds no run to continue (no {CHECKPOINT_NAME} in its run "
                         f"folders); check the path, or leave out --resume to start")
