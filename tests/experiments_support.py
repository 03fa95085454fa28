"""What the tests of experiments/ share: their optional dependencies and where the MNIST test split is.

The experiments need the `experiments` extra (torch, tqdm, pillow: `pip install -e ".[experiments]"`).
Every test module of experiments/ starts with

    torch = needs_experiments()

so that without the extra it is skipped as a whole, at collection, with the same one-line reason.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The MNIST test split (Table 1's outliers): INFGRAD_MNIST_DIR, as for the loaders (README "Data"),
# else the data folder beside the repository.
MNIST_DIR = Path(os.environ.get("INFGRAD_MNIST_DIR") or ROOT.parent / "shared" / "data" / "mnist")


def needs_experiments():
    """Skip the calling test module unless torch, tqdm and pillow import; returns torch."""
    reason = 'the experiments need torch, tqdm and pillow: pip install -e ".[experiments]"'
    for name in ("tqdm", "PIL"):
        pytest.importorskip(name, reason=reason)
    return pytest.importorskip("torch", reason=reason)
