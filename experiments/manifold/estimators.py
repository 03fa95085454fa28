"""Estimates of the manifold dimension read off a trained model (Definition 1, Lemma 2 / Eq. 11-16).

Conventions: gamma is the decoder VARIANCE; per-dimension statistics are (kappa,) arrays over the
latent dimensions k, averaged over the n samples. Every count here is a split of sorted log values at
their LARGEST GAP: the threshold is any point inside that gap, and the count does not change for
thresholds anywhere in it, so the gap's two ends (returned) ARE the sensitivity to the threshold:
a wide gap (several nats) means a count that no reasonable threshold changes; a gap below `min_gap`
means no split at all. Which target each estimate aims at (intrinsic r or the embedding target of
experiments/manifold/data.py) is said in its docstring.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# A split needs the two groups a factor 4 apart (log 4 nats), else the values form one group. Why not
# more: on data of full dimension (r = d) Lemma 2's slope d - r is 0, nothing drives gamma down, and
# the active sigma_k^2 ~ gamma / lambda_k stay near 0.1 (measured 0.11-0.13 on 20 isotropic dimensions),
# 2.1 nats below the prior's 0: a factor 10 would call them inactive.
MIN_GAP = math.log(4.0)
ENERGY_FLOOR = 1e-12  # energies or singular values relative to the largest below this: round-off


@dataclass(frozen=True)
class GapCount:
    """A count from a largest-gap split: `count`, and the gap (low, high) in the log units of the
    statistic: any threshold strictly inside (low, high) gives the same count. No split: low = high."""

    count: int
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low


def largest_gap_split(log_values, anchor: float | None = None, min_gap: float = MIN_GAP,
                      no_split: str = "below") -> GapCount:
    """Count the values BELOW the largest gap of sorted(log_values + [anchor]).

    The anchor is a reference value known to belong to one group (e.g. the prior's log variance 0,
    where a latent dimension that carries nothing sits); it is never counted. When the largest gap is
    narrower than `min_gap`, all values form one group: `no_split` says which: "below" counts them
    all, "above" counts none.
    """
    values = np.asarray(log_values, dtype=np.float64).reshape(-1)
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError("log_values must be a non-empty array of finite numbers")
    if no_split not in ("below", "above"):
        raise ValueError(f"no_split must be 'below' or 'above', got {no_split!r}")
    points = np.sort(values if anchor is None else np.append(values, float(anchor)))
    if points.size < 2:
        return GapCount(values.size if no_split == "below" else 0, points[0], points[0])
    gaps = np.diff(points)
    k = int(np.argmax(gaps))
    low, high = float(points[k]), float(points[k + 1])
    if gaps[k] < min_gap:
        level = float(points[-1]) if no_split == "below" else float(points[0])
        return GapCount(values.size if no_split == "below" else 0, level, level)
    count = int(np.sum(values <= low))
    return GapCount(count, low, high)


def active_dims_from_variance(log_sigma_z_sq, min_gap: float = MIN_GAP) -> GapCount:
    """Active latent dimensions of a VAE from its encoder variances (Definition 1 (ii)).

    log_sigma_z_sq: (kappa,) the mean over samples of log sigma_k^2(x). An inactive dimension is
    the prior, sigma_k^2 = 1 (log 0); an active one has sigma_k^2 -> 0 with gamma (about gamma divided
    by the decoder's squared gain along it, Eq. 11's optimum gamma / (gamma + ||w_k||^2)). Count: the
    values below the largest gap of the sorted values with the anchor 0 added; one group (no gap of
    `min_gap` nats) means none active. A FIXED threshold (e.g. sigma_k^2 < 0.5) fails when spare
    dimensions encode a residual at a sigma_k^2 between the two groups; the gap does not, as long as
    the r used dimensions stay orders of magnitude lower. Aims at the embedding target (an encoder is
    continuous).
    """
    return largest_gap_split(log_sigma_z_sq, anchor=0.0, min_gap=min_gap, no_split="above")


def row_energies(mu_z) -> np.ndarray:
    """u_k = (1/n) ||z_k||^2 of the encoder means Z = mu_z(X), mu_z (n, kappa) -> (kappa,)
    (Eq. 22's argument of h; z_k is row k of the paper's (kappa, n) Z)."""
    mu_z = np.asarray(mu_z, dtype=np.float64)
    if mu_z.ndim != 2:
        raise ValueError(f"mu_z must be (n, kappa), got shape {mu_z.shape}")
    return np.mean(mu_z**2, axis=0)


def active_dims_from_energy(energies, min_gap: float = MIN_GAP) -> GapCount:
    """Active latent dimensions from the row energies u_k (Definition 1 (ii) for an autoencoder:
    mu_z(x)_k = 0 for all x on an inactive row).

    Count: the values ABOVE the largest gap of sorted log(u_k / max_k u_k) (the anchor is the largest
    row, always active); one group (no gap of `min_gap` nats) means all kappa rows active. Energies
    below 1e-12 of the largest (a squared float32 code at its round-off, ~1e-7 relative, and exact
    zeros) are placed at 1e-12: among themselves they are all inactive, and no gap inside them is
    counted. Aims at the embedding target.
    """
    u = np.asarray(energies, dtype=np.float64).reshape(-1)
    if u.size == 0 or not np.all(np.isfinite(u)) or np.any(u < 0) or u.max() <= 0:
        raise ValueError("energies must be finite, >= 0 and not all 0")
    log_rel = np.log(np.maximum(u / u.max(), ENERGY_FLOOR))
    split = largest_gap_split(-log_rel, min_gap=min_gap, no_split="below")
    # counted "below" in -log: the rows nearest the largest, i.e. above the gap in log u
    return GapCount(split.count, -split.high, -split.low)


def jacobian_rank(singular_values, floor: float = ENERGY_FLOOR, min_gap: float = MIN_GAP) -> GapCount:
    """Numerical rank of one decoder Jacobian d mu_x / dz (d, kappa) from its singular values.

    Count: the singular values above the largest gap of sorted log s; one group (no gap of `min_gap`
    nats) means full rank. Values below `floor` times the largest (exact zeros included) are placed
    at the floor. At a point of an r-manifold the decoder's image has tangent dimension r; the decoder
    may also vary along active latent directions the encoder does not use, so the rank lies between r
    and the active count. Aims at r.
    """
    s = np.asarray(singular_values, dtype=np.float64).reshape(-1)
    if s.size == 0 or not np.all(np.isfinite(s)) or np.any(s < 0) or s.max() <= 0:
        raise ValueError("singular values must be finite, >= 0 and not all 0")
    log_s = np.log(np.maximum(s / s.max(), floor))
    split = largest_gap_split(-log_s, min_gap=min_gap, no_split="below")
    shift = math.log(s.max())  # report the gap in log s, not relative to the largest
    return GapCount(split.count, shift - split.high, shift - split.low)


def median_rank(ranks) -> GapCount:
    """Combine per-point Jacobian ranks: the median count, with the narrowest gap among points at
    that count (the most threshold-sensitive one)."""
    ranks = list(ranks)
    if not ranks:
        raise ValueError("no ranks to combine")
    counts = np.array([g.count for g in ranks])
    median = int(np.round(np.median(counts)))
    at = [g for g in ranks if g.count == median] or ranks
    worst = min(at, key=lambda g: g.width)
    return GapCount(median, worst.low, worst.high)


def slope_rhat_envelope(recon_sq_mean: float, gamma_var: float) -> float:
    """Lemma 2's r from ONE converged optimum at a fixed gamma: r_hat = E||x - mu_x(z)||^2 / gamma.

    Derivation. Let L*(gamma) = min over the network of Eq. (3). By the envelope theorem its
    derivative is the partial derivative of (3) in log gamma at the optimum, and the only terms with
    gamma are ||x - mu_x||^2 / gamma + d log gamma, so dL*/d log gamma = d - E||x - mu_x||^2 / gamma,
    and r_hat = d - dL*/d log gamma = E||x - mu_x||^2 / gamma (recon_sq_mean: the mean over samples
    and encoder draws of the squared error summed over the d coordinates). Affine case (Eq. 11 at its
    closed-form optimum, theory.lemma2.optimal_affine_vae): each active direction with data variance
    lambda > gamma contributes exactly gamma (ridge residual gamma^2 / lambda plus encoder noise
    (lambda - gamma) gamma / lambda), each zero-variance direction 0, so r_hat = r exactly.

    Why the learned gamma itself cannot be used: there gamma* = E||x - mu_x||^2 / d (Eq. 16) and
    r_hat = d identically. Why a ladder DOWN from gamma* fails and a ladder UP works: the formula
    holds only AT the optimum of each rung. Below gamma* the optimum needs an error r gamma < d gamma*,
    under the decoder's error floor (about d gamma*): it cannot be reached, and the rung reads
    floor / gamma, growing without bound (108 for r = 7 in d = 50). Above gamma* the optimum's error
    r gamma is mostly encoder noise, which the encoder adds in a few steps by widening sigma_z, and
    the floor adds only floor / gamma = d gamma* / gamma: a rung at 1000 gamma* reads r + d / 1000.
    The rungs need gamma below the smallest signal variance along the manifold (else dimensions
    switch off and r_hat drops), and a fresh optimizer each (Adam's second moments scale with the
    1/gamma of the old rung's gradients: kept, they shrink the new rung's steps by the ratio).
    """
    if not (math.isfinite(recon_sq_mean) and recon_sq_mean >= 0):
        raise ValueError(f"recon_sq_mean must be finite and >= 0, got {recon_sq_mean}")
    if not (math.isfinite(gamma_var) and gamma_var > 0):
        raise ValueError(f"gamma_var must be finite and > 0, got {gamma_var}")
    return recon_sq_mean / gamma_var


def slope_rhat_fit(log_gamma_vars, losses, d: int) -> tuple[float, float]:
    """Lemma 2's slope from optimal losses L*(gamma) at several gamma: the least-squares line
    L* = a + s log gamma; returns (r_hat = d - s, intercept a). On the affine VAE at gamma below the
    smallest nonzero data variance, L* = const + (d - r) log gamma exactly (theory.lemma2
    optimal_loss_closed_form), so r_hat = r to round-off. By the envelope theorem a finite-difference
    slope between two rungs is the mean of `slope_rhat_envelope` over the interval between them."""
    log_g = np.asarray(log_gamma_vars, dtype=np.float64).reshape(-1)
    values = np.asarray(losses, dtype=np.float64).reshape(-1)
    if log_g.size < 2 or log_g.size != values.size:
        raise ValueError("need at least two (log gamma, loss) pairs of equal length")
    if not (np.all(np.isfinite(log_g)) and np.all(np.isfinite(values))):
        raise ValueError("log gamma values and losses must be finite")
    if np.ptp(log_g) == 0:
        raise ValueError("the gamma values must differ to fit a slope")
    slope, intercept = np.polyfit(log_g, values, 1)
    return float(d - slope), float(intercept)
