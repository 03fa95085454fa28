"""Factorizations with one convention each, so that a result does not depend on the BLAS/LAPACK kernel,
and one BLAS thread for the small optimizations.

LAPACK leaves some choices to the implementation: the sign of each eigenvector or singular vector,
the signs of the columns of Q in a QR factorization, and the value of an eigenvalue that is zero in
exact arithmetic (round-off of either sign). OpenBLAS picks a kernel per CPU (and per thread count)
that sums in its own order, so two machines can make different choices. Each function fixes one:
after it, two machines differ only by round-off, never by a sign or by a spurious eigenvalue.
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache

import numpy as np
from scipy.linalg import eigh
from threadpoolctl import ThreadpoolController

__all__ = ["canonical_signs", "eigh_descending", "random_orthonormal", "one_blas_thread"]


def canonical_signs(U) -> np.ndarray:
    """U (d, k) with each column multiplied by the sign of its entry of largest magnitude.

    The sign of an eigenvector or singular vector is arbitrary; this one is decided by an entry of
    size >= 1/sqrt(d) of a unit column, so round-off cannot flip it unless two entries of opposite
    sign tie in magnitude to round-off (not the case for the random data of this project).
    """
    U = np.array(U, dtype=np.float64)
    largest = U[np.argmax(np.abs(U), axis=0), np.arange(U.shape[1])]
    return U * np.where(largest < 0, -1.0, 1.0)


def eigh_descending(S) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (d,) of a positive semi-definite S (d, d) (a covariance), decreasing, and unit
    eigenvectors U (d, d) as columns.

    Eigenvalues below 100 d eps max|lambda| are set to exactly 0. LAPACK bounds the error of each
    eigenvalue by p(d) eps ||S|| with p a modest function of d that it leaves unspecified; on 20 000
    random rank-deficient covariances (d <= 10) under three OpenBLAS kernels the zero eigenvalues came
    out as round-off of either sign up to 18 eps lambda_1, so the floor keeps a margin of 10 or more.
    Only 0 is reproducible for them. Eigenvector signs follow `canonical_signs`; the eigenvectors of
    a repeated (or zero) eigenvalue are any basis of its eigenspace, which no sign convention fixes.
    """
    lam, U = eigh(np.asarray(S, dtype=np.float64))
    order = np.argsort(lam)[::-1]
    lam, U = lam[order], U[:, order]
    floor = 100 * lam.size * np.finfo(np.float64).eps * float(np.max(np.abs(lam), initial=0.0))
    lam = np.where(lam <= floor, 0.0, lam)
    return lam, canonical_signs(U)


def random_orthonormal(rng: np.random.Generator, d: int, r: int) -> np.ndarray:
    """A random (d, r) matrix with orthonormal columns: the Q of a QR factorization of a (d, r)
    standard normal draw, with the convention diag(R) > 0.

    With that convention Q is unique (Gram-Schmidt of the draw's columns in order) and distributed
    uniformly (Haar) over such matrices; without it, Q's column signs are LAPACK's choice.
    """
    Q, R = np.linalg.qr(rng.standard_normal((d, r)))
    return Q * np.where(np.diag(R) < 0, -1.0, 1.0)


@lru_cache(maxsize=1)
def _blas_controller() -> ThreadpoolController:
    # created on first use, after scipy.optimize has loaded its own OpenBLAS next to numpy's
    return ThreadpoolController()


@contextmanager
def one_blas_thread():
    """Run the block with one BLAS thread, then restore the caller's setting.

    For scipy's L-BFGS-B on this project's problems (at most a few dozen variables): its C core
    calls BLAS/LAPACK on tiny arrays, where extra threads only add wake-up latency. Measured on a
    loaded 2-core machine: `minimize_profiled_loss` took 1.46 s with two OpenBLAS threads and
    0.02 s with one (`infgrad verify` 7.6 s against 2.0 s). Results do not depend on it.
    """
    with _blas_controller().limit(limits=1, user_api="blas"):
        yield
