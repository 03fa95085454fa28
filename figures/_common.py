"""Shared plumbing for every figure: deterministic PNG/SVG output, the plotted data beside it, and
the one penalty family (from theory/penalties.py) that the Theorem 4 figures share.

A figure module provides `compute(quick: bool) -> dict` (every plotted number, from theory/) and
`draw(data: dict) -> matplotlib Figure`. Nothing here computes mathematics.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: figures build the same on a laptop, a server and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from theory.penalties import Penalty, penalty_family  # noqa: E402

# One palette for the whole tutorial: unbounded-gradient penalties warm, bounded ones cool.
COLORS = {
    "log": "#c0392b",
    "sqrt": "#e67e22",
    "indicator": "#8e44ad",
    "log_shift": "#2471a3",
    "sqrt_shift": "#17a589",
    "ratio": "#5d6d7e",
    "linear": "#7f8c8d",
}

# The order of the panels and table rows of Figures 2, 3, 5 and 10: unbounded h'(0+) first.
PENALTY_ORDER = ("log", "sqrt", "indicator", "log_shift", "sqrt_shift", "ratio", "linear")
PENALTY_SHIFT = 1e-2  # the c of log(u + c), sqrt(u + c) - sqrt(c) and u/(u + c) in those figures


def figure_penalties() -> dict[str, Penalty]:
    """theory.penalties.penalty_family(PENALTY_SHIFT) in the figures' PENALTY_ORDER."""
    family = penalty_family(PENALTY_SHIFT)
    return {name: family[name] for name in PENALTY_ORDER}


STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 7.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "svg.hashsalt": "infgrad",  # fixed ids inside the SVG: byte-stable files
    "svg.fonttype": "path",
    "path.simplify": False,
}


def note_panel(ax, text: str) -> None:
    """Turn a spare subplot into a text panel that explains the figure next to it."""
    ax.axis("off")
    ax.text(0.0, 0.5, text, transform=ax.transAxes, fontsize=7.5, va="center")


def to_jsonable(value):
    """numpy arrays and scalars -> lists and floats; inf/nan kept as strings so the file is strict JSON."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        value = float(value)
        if math.isfinite(value):
            return value
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def write_data(data: dict, path: Path) -> None:
    """Write the plotted numbers as sorted, indented JSON (diffable; byte-stable on one machine)."""
    text = json.dumps(to_jsonable(data), indent=1, sort_keys=True)
    path.write_text(text + "\n")


def read_data(path: Path) -> dict:
    """Read a data file written by `write_data`; "inf", "-inf", "nan" strings stay strings."""
    return json.loads(Path(path).read_text())


def render(draw, data: dict, out_dir: Path, name: str, dpi: int, formats=("png", "svg")) -> list[Path]:
    """Draw under the tutorial's style and save name.png and name.svg with no dates or versions.

    The style is applied with rc_context around drawing AND saving (svg.hashsalt is read at save
    time), so the caller's global rcParams are left untouched.
    """
    metadata = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None}}
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{name}.{ext}" for ext in formats]
    with plt.rc_context(STYLE):
        fig = draw(data)
        try:
            for path, ext in zip(paths, formats):
                fig.savefig(path, dpi=dpi, metadata=metadata[ext], bbox_inches="tight")
        finally:
            plt.close(fig)
    return paths
