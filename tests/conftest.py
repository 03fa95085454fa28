"""Suite-wide settings: hypothesis profiles (defined in pyproject.toml) and float64 numpy errors.

INFGRAD_HYPOTHESIS_PROFILE=thorough runs ten times the examples of the default `ci` profile.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def _register_profiles() -> str:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    profiles = config["tool"]["infgrad"]["hypothesis"]
    for name, options in profiles.items():
        options = dict(options)
        if options.get("deadline") == 0:
            options["deadline"] = None
        settings.register_profile(
            name, suppress_health_check=[HealthCheck.too_slow], **options
        )
    # mutmut sets MUTANT_UNDER_TEST in the processes that run the tests for it (tests/MUTATION.md)
    default = "mutation" if "MUTANT_UNDER_TEST" in os.environ else "ci"
    chosen = os.environ.get("INFGRAD_HYPOTHESIS_PROFILE", default)
    if chosen not in profiles:
        raise ValueError(
            f"INFGRAD_HYPOTHESIS_PROFILE={chosen!r}: choose one of {sorted(profiles)}"
        )
    settings.load_profile(chosen)
    return chosen


def _examples_independent_of_loaded_modules() -> None:
    """Hypothesis (since 6.131) now and then draws a literal found in the source of the loaded modules
    of the project under test instead of a random value (`_get_local_constants` in
    hypothesis.internal.conjecture.providers). Which project modules are loaded depends on which test
    files pytest collects and on the order the tests run, so the derandomized `ci` profile drew other
    examples for `pytest tests/test_lemma2.py` than for the whole suite. With the pool of such
    literals left empty, an example depends only on the test function (derandomize) and the
    hypothesis version. No public setting turns the pool off; without the private hook (another
    hypothesis version) examples may again vary with the files collected, which a tolerance derived
    from the problem must survive anyway (infgrad/tolerances.py)."""
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants
    except ImportError:  # pragma: no cover - a hypothesis without local constants
        return
    if hasattr(providers, "_get_local_constants"):
        empty = Constants()
        providers._get_local_constants = lambda: empty


HYPOTHESIS_PROFILE = _register_profiles()
_examples_independent_of_loaded_modules()


def pytest_report_header(config):
    return f"hypothesis profile: {HYPOTHESIS_PROFILE} (set INFGRAD_HYPOTHESIS_PROFILE=thorough for more)"


# An overflow or a division by zero in the theory code fails the test instead of passing as inf.
np.seterr(all="raise", under="ignore")


@pytest.fixture(scope="module")
def one_torch_thread():
    """Small torch models run many small ops: one intra-op thread avoids OpenMP spin-waiting on a
    shared 2-core machine (measured: the experiments' tests took 80-107 s with 2 threads, 24 s with
    one). The previous setting is restored for the rest of the suite. Use it in a module with
    `pytestmark = pytest.mark.usefixtures("one_torch_thread")`."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
