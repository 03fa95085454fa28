"""The strategies deliver what their names promise (a strategy that silently draws only easy cases
would make every property test built on it vacuous)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from hypothesis import given

from tests.strategies import (
    affine_vae_problems,
    decoder_problems,
    log_gamma_vars,
    positive_log_uniform,
    subspace_data,
    theorem4_settings,
)


@given(data=subspace_data())
def test_subspace_data_has_rank_exactly_r(data):
    """Centred X has r singular values of the size of the data and d - r at float64 round-off."""
    d, n = data.X.shape
    assert 1 <= data.r < d and n > data.r
    s = np.linalg.svd(data.X - data.X.mean(axis=1, keepdims=True), compute_uv=False)
    assert s[data.r - 1] > 1e-3 * s[0]  # at least sqrt(min_eig = 0.05) = 0.22 of s[0] by construction
    assert np.all(s[data.r:] < 1e-12 * s[0])  # QR + matmul round-off, ~1e-16 s[0]


@given(data=subspace_data())
def test_subspace_eigenvalues_are_those_of_the_sample_covariance(data):
    """The eigenvalues the strategy reports match those of X's (1/n) covariance (round-off)."""
    centred = data.X - data.X.mean(axis=1, keepdims=True)
    lam = np.sort(np.linalg.eigvalsh(centred @ centred.T / data.X.shape[1]))[::-1]
    np.testing.assert_allclose(lam, data.eigenvalues, rtol=0, atol=1e-12 * data.eigenvalues[0])


def test_subspace_data_covers_every_rank():
    """Over many draws, every r in 1..d-1 appears for d up to 6 (the strategy is not stuck at r = 1)."""
    seen = set()

    @given(data=subspace_data())
    def collect(data):
        seen.add((data.X.shape[0], data.r))

    collect()
    assert {r for _, r in seen} >= {1, 2, 3}
    assert any(r >= 2 for _, r in seen)


@given(problem=affine_vae_problems())
def test_affine_problems_have_consistent_shapes(problem):
    """W has kappa columns matching mu_z's rows; every array is finite; gamma > 0 on a log scale."""
    p = problem
    assert p.W.shape == (p.d, p.kappa) and p.mu_z.shape == (p.kappa, p.X.shape[1])
    assert p.log_sigma_z.shape == p.mu_z.shape and p.b.shape == (p.d,)
    assert all(np.isfinite(a).all() for a in (p.X, p.W, p.b, p.mu_z, p.log_sigma_z))
    assert np.log(1e-4) <= p.log_gamma_var <= np.log(1e2)


@given(problem=decoder_problems())
def test_decoder_problems_map_latents_to_data_shape(problem):
    p = problem
    assert p.decoder(p.mu_z).shape == p.X.shape


@given(C_n_seed=theorem4_settings(), value=positive_log_uniform(1e-3, 1e3), log_gamma=log_gamma_vars())
def test_scalar_strategies_stay_in_range(C_n_seed, value, log_gamma):
    C, n, _ = C_n_seed
    assert 0 < C < 1 and n >= 2
    assert 1e-3 * (1 - 1e-12) <= value <= 1e3 * (1 + 1e-12)
    assert np.isfinite(log_gamma)


_DRAW_EXAMPLES = """
import json, sys
import tests.conftest  # the suite's hypothesis settings
if sys.argv[1] == "all":
    import figures.build, infgrad.verify, proofs_check.steps
    for name in figures.build.NAMES:
        figures.build.figure_functions(name)
from hypothesis import given, settings, strategies as st
seen = []

@settings(derandomize=True, database=None, max_examples=30)
@given(st.integers(0, 2**32 - 1), st.floats(-1e3, 1e3), st.integers(1, 6))
def collect(i, x, k):
    seen.append((i, x, k))

collect()
print(json.dumps(seen))
"""


def test_examples_do_not_depend_on_the_modules_loaded():
    """The derandomized examples of a test are the same whether a run has loaded a few project
    modules or all of them (tests/conftest.py empties hypothesis' pool of literals collected from
    loaded modules): every test file, and every single test, sees the examples of the full run."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    runs = [subprocess.run([sys.executable, "-c", _DRAW_EXAMPLES, which], cwd=root, env=env,
                           capture_output=True, text=True, timeout=300) for which in ("few", "all")]
    assert all(run.returncode == 0 for run in runs), [run.stderr[-2000:] for run in runs]
    assert runs[0].stdout == runs[1].stdout and len(runs[0].stdout) > 100
