"""Data with a known intrinsic dimension r in R^d for the manifold-dimension experiment (seeded, no download).

Every generator returns a `Manifold`: the samples x (n, d) float64, rows are samples, the intrinsic
dimension r (what nearest-neighbour estimators aim at) and the embedding target: the fewest latent
dimensions a CONTINUOUS encoder can use on the data, i.e. the smallest m such that the data set embeds
topologically in R^m (r + 1 for the sphere S^r, which does not embed in R^r; r for a set homeomorphic
to a subset of R^r). Definition 1 counts the latent dimensions a VAE keeps active, and a VAE's
encoder mu_z is continuous, so the active count aims at the embedding target, not at r.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from theory.theorem4 import sample_data_eq21


@dataclass(frozen=True)
class Manifold:
    """A data set x (n, d) lying on an r-dimensional manifold; `embedding_target` as in the module doc."""

    name: str
    x: np.ndarray = field(repr=False)
    r: int
    embedding_target: int
    note: str = ""

    @property
    def n(self) -> int:
        return self.x.shape[0]

    @property
    def d(self) -> int:
        return self.x.shape[1]


def _check(n: int, d: int, r: int, *, at_most: int | None = None) -> None:
    if n < 2:
        raise ValueError(f"n must be >= 2 samples, got {n}")
    if r < 1:
        raise ValueError(f"r must be >= 1, got {r}")
    limit = d if at_most is None else at_most
    if r > limit:
        raise ValueError(f"r = {r} does not fit in d = {d} (needs r <= {limit})")


def random_frame(d: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """A (d, k) matrix with orthonormal columns, uniformly distributed (QR of a Gaussian, signs fixed)."""
    q, upper = np.linalg.qr(rng.standard_normal((d, k)))
    return q * np.sign(np.diag(upper))  # makes the draw a function of rng alone, not of the LAPACK sign choice


def linear_subspace(n: int, d: int, r: int, noise: float = 0.0, seed: int = 0) -> Manifold:
    """x = Q z + noise * e: z ~ N(0, I_r), Q (d, r) a random orthonormal frame, e ~ N(0, I_d).

    Noise-free, the centred data have rank exactly r (embedding target r). With noise > 0 (a standard
    deviation per coordinate) the data are full rank; r and the target still describe the signal,
    whose per-direction variance 1 sits far above noise^2 for the small noise this is meant for.
    """
    _check(n, d, r)
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be finite and >= 0, got {noise}")
    rng = np.random.default_rng(seed)
    frame = random_frame(d, r, rng)
    x = rng.standard_normal((n, r)) @ frame.T
    if noise > 0:
        x = x + noise * rng.standard_normal((n, d))
    tag = f"subspace_d{d}_r{r}" + (f"_noise{noise:g}" if noise > 0 else "")
    return Manifold(tag, x, r, r, "noise-free" if noise == 0 else f"noise std {noise:g}")


def sphere(n: int, d: int, r: int, seed: int = 0) -> Manifold:
    """The unit sphere S^r in R^{r+1} (uniform), placed in R^d by a random orthonormal frame.

    Every sample has norm exactly 1 and the data span r + 1 dimensions. S^r is compact without
    boundary, so it embeds in R^{r+1} but not in R^r: embedding target r + 1.
    """
    _check(n, d, r, at_most=d - 1)
    rng = np.random.default_rng(seed)
    frame = random_frame(d, r + 1, rng)
    g = rng.standard_normal((n, r + 1))
    x = (g / np.linalg.norm(g, axis=1, keepdims=True)) @ frame.T
    return Manifold(f"sphere_d{d}_r{r}", x, r, r + 1, "S^r: compact, embeds in R^(r+1)")


def torus(n: int, d: int, r: int, seed: int = 0) -> Manifold:
    """The flat torus T^r: r unit circles, (cos t_k, sin t_k) with t_k uniform, in R^{2r}, placed in
    R^d (d >= 2r) by a random orthonormal frame.

    T^r is compact without boundary: it does not embed in R^r; it embeds in R^{r+1} (the doughnut for
    r = 2, and by induction for every r): embedding target r + 1.
    """
    _check(n, d, r, at_most=d // 2)
    rng = np.random.default_rng(seed)
    frame = random_frame(d, 2 * r, rng)
    angles = rng.uniform(0.0, 2.0 * math.pi, size=(n, r))
    circles = np.stack([np.cos(angles), np.sin(angles)], axis=2).reshape(n, 2 * r)
    return Manifold(f"torus_d{d}_r{r}", circles @ frame.T, r, r + 1,
                    "T^r: compact, embeds in R^(r+1)")


def relu_network_weights(d: int, r: int, widths: tuple[int, ...], seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """He-scaled Gaussian weights (in, out) and N(0, 0.1^2) biases of the layers r -> widths -> d."""
    rng = np.random.default_rng(seed)
    sizes = (r, *widths, d)
    return [(rng.standard_normal((a, b)) * math.sqrt(2.0 / a), 0.1 * rng.standard_normal(b))
            for a, b in zip(sizes[:-1], sizes[1:])]


def relu_network_map(z: np.ndarray, weights) -> np.ndarray:
    """f(z) = W_L relu(... relu(z W_1 + b_1) ...) + b_L for z (n, r) -> (n, d); the last layer is linear."""
    h = z
    for i, (w, b) in enumerate(weights):
        h = h @ w + b
        if i < len(weights) - 1:
            h = np.maximum(h, 0.0)
    return h


def relu_network_jacobian(z: np.ndarray, weights) -> np.ndarray:
    """df/dz at each row of z (n, r) -> (n, d, r): the product of the layers' weights, each hidden
    layer masked by its active units (piecewise linear, so exact away from the kinks)."""
    h, jac = z, np.broadcast_to(np.eye(z.shape[1]), (z.shape[0], z.shape[1], z.shape[1]))
    for i, (w, b) in enumerate(weights):
        h = h @ w + b
        jac = jac @ w  # (n, r, width): d h / d z, transposed
        if i < len(weights) - 1:
            active = h > 0
            h = np.where(active, h, 0.0)
            jac = jac * active[:, None, :]
    return np.transpose(jac, (0, 2, 1))


def relu_network(n: int, d: int, r: int, seed: int = 0, widths: tuple[int, ...] | None = None) -> Manifold:
    """The image of z ~ N(0, I_r) under a random-weight ReLU network R^r -> R^d (a curved, piecewise
    linear r-manifold). Default hidden widths (4r, 8r): each layer at least doubles the width, the
    expansivity under which random ReLU layers are injective with high probability, so the image is
    homeomorphic to R^r and the embedding target is r. The Jacobian has rank r at every sample (tested).
    """
    _check(n, d, r)
    widths = (4 * r, 8 * r) if widths is None else tuple(widths)
    weights = relu_network_weights(d, r, widths, seed)
    z = np.random.default_rng(seed + 1).standard_normal((n, r))
    return Manifold(f"relu_d{d}_r{r}", relu_network_map(z, weights), r, r,
                    f"random ReLU network, hidden widths {widths}")


def squeezed_curve(n: int, eps: float, C: float = 0.7, seed: int = 0) -> Manifold:
    """Theorem 4's data (supplement Eq. 21): a 1-D arc of radius 0.9 eps inside the eps x eps square,
    x = pi(s), s ~ Uniform[C, 1) (theory.theorem4.sample_data_eq21). d = 2, r = 1; an arc is
    homeomorphic to an interval, so the embedding target is 1 as well."""
    _check(n, 2, 1)
    x = sample_data_eq21(n, eps, C, seed).T  # theory returns (2, n)
    return Manifold(f"squeezed_eps{eps:g}", np.ascontiguousarray(x), 1, 1,
                    f"Theorem 4 arc, eps {eps:g}, C {C:g}")


# Embedding targets of scikit-dimension's 24 benchmark manifolds (intrinsic r from its own table):
# the fewest dimensions a continuous injective encoder needs, with the reason.
BENCHMARK_EMBEDDING_TARGETS: dict[str, tuple[int, str]] = {
    "M1_Sphere": (11, "S^10: compact, embeds in R^11 only"),
    "M2_Affine_3to5": (3, "affine image of a 3-cube"),
    "M3_Nonlinear_4to6": (4, "injective image of a 4-cube"),
    "M4_Nonlinear": (4, "injective polar-type image of a 4-cube"),
    "M5a_Helix1d": (2, "closed curve (a circle): embeds in R^2 only"),
    "M5b_Helix2d": (2, "a helicoidal sheet over a rectangle"),
    "M6_Nonlinear": (6, "injective polar-type image of a 6-cube"),
    "M7_Roll": (2, "Swiss roll: a rolled rectangle"),
    "M8_Nonlinear": (12, "injective polar-type image of a 12-cube"),
    "M9_Affine": (20, "a 20-cube in R^20"),
    "M10a_Cubic": (11, "boundary of an 11-cube, a 10-sphere: embeds in R^11 only"),
    "M10b_Cubic": (18, "boundary of an 18-cube, a 17-sphere"),
    "M10c_Cubic": (25, "boundary of a 25-cube, a 24-sphere"),
    "M10d_Cubic": (71, "boundary of a 71-cube, a 70-sphere"),
    "M11_Moebius": (3, "Moebius band: non-orientable, does not embed in R^2"),
    "M12_Norm": (20, "Gaussian in R^20"),
    "M13a_Scurve": (2, "S-curve: a bent rectangle"),
    "M13b_Spiral": (1, "an open helix curve"),
    "Mbeta": (10, "smooth image of a 10-cube"),
    "Mn1_Nonlinear": (18, "smooth image of an 18-cube"),
    "Mn2_Nonlinear": (24, "smooth image of a 24-cube"),
    "Mp1_Paraboloid": (3, "graph over a 3-cube"),
    "Mp2_Paraboloid": (6, "graph over a 6-cube"),
    "Mp3_Paraboloid": (9, "graph over a 9-cube"),
}


def benchmark_names() -> list[str]:
    """The 24 manifolds of scikit-dimension's benchmark (Hein and Audibert; Campadelli et al.)."""
    return list(BENCHMARK_EMBEDDING_TARGETS)


def benchmark(name: str, n: int = 2500, seed: int = 0) -> Manifold:
    """One of skdim.datasets.BenchmarkManifolds (noise-free), with its intrinsic r from the package's
    table and the embedding target of BENCHMARK_EMBEDDING_TARGETS. Needs the `baselines` extra."""
    if name not in BENCHMARK_EMBEDDING_TARGETS:
        raise ValueError(f"unknown benchmark manifold {name!r}; choose from {', '.join(benchmark_names())}")
    try:
        from skdim.datasets import BenchmarkManifolds
    except ImportError as err:
        raise ValueError(f"benchmark manifolds need scikit-dimension and pandas "
                         f"(pip install 'infgrad[baselines]'): {err}") from None
    generator = BenchmarkManifolds(random_state=seed)
    r = int(generator.truth.loc[name, "Intrinsic Dimension"])
    d = int(generator.truth.loc[name, "Number of variables"])
    description = str(generator.truth.loc[name, "Description"])
    x = np.asarray(generator.generate(name, n=n, dim=d, d=r), dtype=np.float64)
    target, why = BENCHMARK_EMBEDDING_TARGETS[name]
    return Manifold(name, x, int(r), target, f"{description}; target: {why}")


def standardize(x: np.ndarray) -> np.ndarray:
    """Centre and divide by ONE scale, the root mean square coordinate (the shape of the data and so
    every dimension count are unchanged; gamma is then on the scale of a unit-variance coordinate)."""
    x = np.asarray(x, dtype=np.float64)
    centred = x - x.mean(axis=0)
    scale = math.sqrt(float(np.mean(centred**2)))
    if scale == 0:
        raise ValueError("the data are a single point: nothing to standardize")
    return centred / scale
