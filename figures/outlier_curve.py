"""The computation behind Figure 9, an illustration (main-text Figure 1): why a sparse representation
screens outliers.

Inliers lie on a curved 1-D manifold in R^2 (an arc of the unit circle); outliers lie off it. X is (2, n),
columns are samples. The 1-latent nonlinear model is the closed-form projection onto the arc (encoder
z = angle of x clipped to the arc, decoder z -> (cos z, sin z)), standing in for a trained autoencoder.
"""
from __future__ import annotations

import numpy as np

from theory._checks import dimension, finite_array, finite_scalar
from theory._linalg import canonical_signs

ARC_START = 0.15 * np.pi  # the arc of inliers, in radians: a curve that no single line fits
ARC_END = 0.85 * np.pi


def _check_points(X: np.ndarray, name: str = "X") -> np.ndarray:
    X = finite_array(name, X, ndim=2)
    if X.shape[0] != 2:
        raise ValueError(f"{name}: expected shape (2, n), got {X.shape}")
    return X


def curve_decode(z: np.ndarray) -> np.ndarray:
    """Decoder of the 1-latent model: the arc point at angle z. z: (n,) or (1, n) -> (2, n)."""
    z = np.asarray(z, dtype=np.float64).reshape(-1)
    return np.stack([np.cos(z), np.sin(z)])


def _circular_distance(alpha: np.ndarray, phi: float) -> np.ndarray:
    """|alpha - phi| wrapped to [0, pi]."""
    return np.abs(np.angle(np.exp(1j * (alpha - phi))))


def curve_encode(X: np.ndarray) -> np.ndarray:
    """Encoder of the 1-latent model: the angle of the closest arc point. X: (2, n) -> z: (1, n).

    The squared distance from x to the circle point at angle phi is |x|^2 + 1 - 2|x| cos(phi - alpha),
    alpha = atan2(x2, x1): it grows with the circular gap |phi - alpha|. So the closest arc point is at
    alpha when alpha is on the arc, else at the arc end with the smaller circular gap.
    """
    X = _check_points(X)
    alpha = np.arctan2(X[1], X[0])
    gap_start = _circular_distance(alpha, ARC_START)
    gap_end = _circular_distance(alpha, ARC_END)
    nearer_end = np.where(gap_start <= gap_end, ARC_START, ARC_END)
    on_arc = (alpha >= ARC_START) & (alpha <= ARC_END)
    return np.where(on_arc, alpha, nearer_end)[None, :]


def sample_inliers(n: int, seed: int) -> np.ndarray:
    """n points exactly on the arc, angles uniform on [ARC_START, ARC_END]. Returns X (2, n)."""
    n = dimension("n", n)
    rng = np.random.default_rng(seed)
    return curve_decode(rng.uniform(ARC_START, ARC_END, size=n))


def sample_outliers(n: int, seed: int, radial_gap: float = 0.25) -> np.ndarray:
    """n points at angles on the arc but at radius 1 +- (radial_gap .. 2 radial_gap): off the manifold.

    Every outlier is at distance >= radial_gap from the arc, so the curve model's error on it is
    >= radial_gap**2 by construction. Returns X (2, n).
    """
    n = dimension("n", n)
    radial_gap = finite_scalar("radial_gap", radial_gap)
    if not 0.0 < radial_gap < 0.5:
        raise ValueError(f"radial_gap: must lie in (0, 0.5), got {radial_gap}")
    rng = np.random.default_rng(seed)
    angle = rng.uniform(ARC_START, ARC_END, size=n)
    sign = rng.choice([-1.0, 1.0], size=n)
    radius = 1.0 + sign * radial_gap * rng.uniform(1.0, 2.0, size=n)
    return radius * curve_decode(angle)


def pca_fit(X: np.ndarray, n_components: int) -> tuple[np.ndarray, np.ndarray]:
    """PCA of the columns of X (2, n): returns (mean (2,), U (2, n_components)) with orthonormal U,
    each column signed so that its largest entry is positive (`canonical_signs`: LAPACK's sign is
    arbitrary, and Figure 9 draws the PCA line from mean - 1.2 u to mean + 1.2 u)."""
    X = _check_points(X)
    n_components = dimension("n_components", n_components)
    if n_components > 2:
        raise ValueError(f"n_components: must be 1 or 2 for 2-D data, got {n_components}")
    mean = X.mean(axis=1)
    U, _, _ = np.linalg.svd(X - mean[:, None], full_matrices=False)
    return mean, canonical_signs(U[:, :n_components])


def pca_reconstruct(X: np.ndarray, mean: np.ndarray, U: np.ndarray) -> np.ndarray:
    """Project the columns of X onto the affine subspace mean + span(U). Returns (2, n)."""
    X = _check_points(X)
    centred = X - mean[:, None]
    return mean[:, None] + U @ (U.T @ centred)


def curve_reconstruct(X: np.ndarray) -> np.ndarray:
    """decode(encode(X)) of the 1-latent curve model. Returns (2, n)."""
    return curve_decode(curve_encode(X))


def reconstruction_error(X: np.ndarray, recon: np.ndarray) -> np.ndarray:
    """Per-sample squared error ||x_i - recon_i||^2, shape (n,)."""
    X = _check_points(X)
    recon = _check_points(recon, "recon")
    if recon.shape != X.shape:
        raise ValueError(f"recon: expected the shape of X {X.shape}, got {recon.shape}")
    return np.sum((X - recon) ** 2, axis=0)


def outlier_screening(n_inliers: int = 60, n_outliers: int = 20, seed: int = 0) -> dict:
    """Everything Figure 9 plots: the data and each model's per-sample reconstruction error.

    PCA is fitted on the inliers only (as a model trained on inlier data would be) and applied to both
    sets; the curve model needs no fit. Returns a dict of arrays.
    """
    inliers = sample_inliers(n_inliers, seed)
    outliers = sample_outliers(n_outliers, seed + 1)
    out = {"inliers": inliers, "outliers": outliers}
    for k in (1, 2):
        mean, U = pca_fit(inliers, k)
        out[f"pca{k}_inlier_error"] = reconstruction_error(inliers, pca_reconstruct(inliers, mean, U))
        out[f"pca{k}_outlier_error"] = reconstruction_error(outliers, pca_reconstruct(outliers, mean, U))
    out["curve_inlier_error"] = reconstruction_error(inliers, curve_reconstruct(inliers))
    out["curve_outlier_error"] = reconstruction_error(outliers, curve_reconstruct(outliers))
    out["curve_outlier_recon"] = curve_reconstruct(outliers)
    return out
