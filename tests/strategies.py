"""Hypothesis strategies named after the mathematical preconditions of the theory's claims.

Arrays are drawn from a numpy Generator seeded by a hypothesis-drawn integer (fast, reproducible,
and shrinkable in the dimensions); ill-conditioned draws are rejected with `assume`, never
absorbed by a looser tolerance. Their guarantees are tested in tests/test_strategies.py.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from theory.subspace import subspace_data as generate_subspace_data

seeds = st.integers(min_value=0, max_value=2**32 - 1)


def log_gamma_vars(min_gamma: float = 1e-4, max_gamma: float = 1e2):
    """gamma on a log scale: log_gamma_var uniform in [log min_gamma, log max_gamma]."""
    return st.floats(np.log(min_gamma), np.log(max_gamma), allow_nan=False, allow_infinity=False)


def positive_log_uniform(low: float, high: float):
    """A positive float whose log is uniform on [log low, log high]."""
    return st.floats(np.log(low), np.log(high)).map(lambda v: float(np.exp(v)))


@dataclass(frozen=True)
class AffineProblem:
    """A full affine-VAE parameter set: X (d, n), W (d, kappa), b (d,), mu_z (kappa, n),
    log_sigma_z (kappa, n), log_gamma_var."""

    X: np.ndarray
    W: np.ndarray
    b: np.ndarray
    mu_z: np.ndarray
    log_sigma_z: np.ndarray
    log_gamma_var: float

    @property
    def d(self) -> int:
        return self.X.shape[0]

    @property
    def kappa(self) -> int:
        return self.W.shape[1]


@st.composite
def affine_vae_problems(draw, max_d: int = 6, max_kappa: int = 6, max_n: int = 20):
    """Any W, b, mu, sigma and gamma > 0 of an affine VAE (no condition imposed: Eq. 11 holds for all)."""
    d = draw(st.integers(1, max_d))
    kappa = draw(st.integers(1, max_kappa))
    n = draw(st.integers(1, max_n))
    rng = np.random.default_rng(draw(seeds))
    scale = draw(positive_log_uniform(1e-2, 1e1))
    return AffineProblem(
        X=rng.standard_normal((d, n)) * scale,
        W=rng.standard_normal((d, kappa)) * draw(positive_log_uniform(1e-2, 1e1)),
        b=rng.standard_normal(d),
        mu_z=rng.standard_normal((kappa, n)),
        log_sigma_z=rng.uniform(-3.0, 1.0, (kappa, n)),
        log_gamma_var=draw(log_gamma_vars()),
    )


@dataclass(frozen=True)
class SubspaceData:
    """X (d, n) on an r-dimensional affine subspace; `eigenvalues` of the (1/n) sample covariance,
    decreasing, the last d - r exactly zero in exact arithmetic."""

    X: np.ndarray
    r: int
    eigenvalues: np.ndarray


@st.composite
def subspace_data(draw, d=None, r=None, n=None, min_eig: float = 0.05, max_d: int = 6):
    """Data on an r-dimensional affine subspace of R^d (1 <= r < d, n > r) from the project's one
    generator, `theory.subspace.subspace_data`, with standard deviations in [0.5, 3] along the
    subspace. Draws whose r-th covariance eigenvalue is below min_eig times the first are rejected:
    a nearly degenerate subspace is really (r - 1)-dimensional at any tolerance."""
    d = draw(st.integers(2, max_d)) if d is None else d
    r = draw(st.integers(1, d - 1)) if r is None else r
    n = draw(st.integers(r + 2, 30)) if n is None else n
    scales = draw(st.lists(st.floats(0.5, 3.0), min_size=r, max_size=r))
    X, U = generate_subspace_data(d, r, n, draw(seeds), scales=scales, return_basis=True)
    coords = U.T @ (X - X.mean(axis=1, keepdims=True))  # (r, n): the data in the subspace's basis
    lam = np.sort(np.linalg.eigvalsh(coords @ coords.T / n))[::-1]  # the nonzero spectrum
    assume(lam[-1] > min_eig * lam[0])
    return SubspaceData(X=X, r=r, eigenvalues=np.concatenate([lam, np.zeros(d - r)]))


@dataclass(frozen=True)
class DecoderProblem:
    """A one-hidden-layer tanh decoder mu_x(z) = B tanh(A z + a) + c with data X (d, n), encoder
    means mu_z (kappa, n) and log stds log_sigma_z (kappa, n)."""

    X: np.ndarray
    mu_z: np.ndarray
    log_sigma_z: np.ndarray
    A: np.ndarray
    a: np.ndarray
    B: np.ndarray
    c: np.ndarray

    def decoder(self, Z: np.ndarray) -> np.ndarray:
        return self.B @ np.tanh(self.A @ Z + self.a[:, None]) + self.c[:, None]


@st.composite
def decoder_problems(draw, max_d: int = 5, max_kappa: int = 4, max_n: int = 12, hidden: int = 8):
    """A random tanh-MLP decoder (any decoder, Lemma 3) with random data and encoder outputs."""
    d = draw(st.integers(1, max_d))
    kappa = draw(st.integers(1, max_kappa))
    n = draw(st.integers(1, max_n))
    rng = np.random.default_rng(draw(seeds))
    return DecoderProblem(
        X=rng.standard_normal((d, n)),
        mu_z=rng.standard_normal((kappa, n)),
        log_sigma_z=rng.uniform(-2.0, 0.5, (kappa, n)),
        A=rng.standard_normal((hidden, kappa)),
        a=rng.standard_normal(hidden),
        B=rng.standard_normal((d, hidden)) / np.sqrt(hidden),
        c=rng.standard_normal(d),
    )


@st.composite
def theorem4_settings(draw, theorem: bool = False):
    """(C, n, seed) for Theorem 4's data (21): 0 < C < 1 (the curve and the costs are defined there),
    or with theorem=True 1/2 < C < 1, where the theorem's conclusion (the crossover eps*) holds."""
    C = draw(st.floats(0.5, 0.95, exclude_min=True) if theorem else st.floats(0.05, 0.95))
    n = draw(st.integers(2, 64))
    return C, n, draw(seeds)
