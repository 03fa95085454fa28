"""The command-line layer shared by the experiments (`infgrad outlier`, `infgrad celeba`): one
--key=value option per TrainConfig field, type-checked overrides of a preset, and the check that a
command never overwrites earlier results without --resume or --force.
"""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

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


def add_config_arguments(parser: argparse.ArgumentParser, presets: dict[str, TrainConfig],
                         exclude: tuple[str, ...] = ()) -> None:
    """One --key=value option per TrainConfig field (default None = keep the preset's value);
    the help lists each field's value in `presets`."""
    group = parser.add_argument_group("training configuration (override the preset)")
    for field in dataclasses.fields(TrainConfig):
        if field.name in exclude:
            continue
        group.add_argument(f"--{field.name.replace('_', '-')}", dest=field.name, default=None,
                           type=str, metavar=str(field.type).upper(),
                           help="preset values: " + ", ".join(
                               f"{name} {getattr(preset, field.name)}" for name, preset in presets.items()))


def config_from_args(args: argparse.Namespace, base: TrainConfig) -> TrainConfig:
    """`base` (a preset) with every --key=value given on the command line applied (type-checked)."""
    changes = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
               if getattr(args, f.name, None) is not None}
    return override(base, **changes)


def check_out(out: Path, candidates: list[Path], resume: bool, force: bool) -> None:
    """Fail before any work if earlier results would be overwritten: `out` must be a folder (or not
    exist yet), and a file or a non-empty folder among `candidates` needs --resume (continue it) or
    --force (start over)."""
    if resume and force:
        raise ValueError("--resume and --force contradict each other: choose one")
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} exists and is not a folder")
    taken = [str(p) for p in candidates if p.exists() and (p.is_file() or any(p.iterdir()))]
    if taken and not (resume or force):
        raise ValueError(f"the output already holds earlier results ({', '.join(taken)}): pass "
                         f"--resume to continue or --force to overwrite")
