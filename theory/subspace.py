"""Data on an r-dimensional affine subspace of R^d: the setting of Lemma 2's gamma -> 0 limit.

One generator for every check that needs such data (the `infgrad verify` rows, the hypothesis
strategy of the tests, the Lemma 2 tests). X is (d, n); the basis U is (d, r) with orthonormal columns.
"""
from __future__ import annotations

import numpy as np

from theory._checks import dimension, finite_array, positive_scalar
from theory._linalg import random_orthonormal

__all__ = ["subspace_data"]


def subspace_data(d, r, n, seed, scales=None, offset_std: float = 1.0, return_basis: bool = False):
    """X (d, n) = offset + U diag(scales) G on a random r-dimensional affine subspace of R^d.

    From `np.random.default_rng(seed)`, in this order: U = `theory._linalg.random_orthonormal` (d, r), the offset
    ~ N(0, offset_std^2 I_d), and G (r, n) standard normal. `scales` (r,) > 0 are the standard
    deviations along U's columns (all 1 when None). 1 <= r < d. The centred data have rank r
    whenever n > r (G then has full row rank with probability 1). With return_basis, returns (X, U).
    """
    d, r, n = dimension("d", d), dimension("r", r), dimension("n", n)
    if r >= d:
        raise ValueError(f"r: the subspace dimension must be below d = {d}, got {r}")
    scales = np.ones(r) if scales is None else finite_array("scales", scales, ndim=1)
    if scales.size != r or (scales <= 0).any():
        raise ValueError(f"scales: expected {r} positive standard deviations, got {scales.tolist()}")
    offset_std = positive_scalar("offset_std", offset_std)
    rng = np.random.default_rng(seed)
    U = random_orthonormal(rng, d, r)
    offset = offset_std * rng.standard_normal(d)
    X = offset[:, None] + U @ (scales[:, None] * rng.standard_normal((r, n)))
    return (X, U) if return_basis else X
