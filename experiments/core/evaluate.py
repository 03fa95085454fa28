"""Scoring shared by the experiments, first used for Table 1 (supplement section 6): BPD per image,
uniform dequantization, the bits of a lossless compressor, and AUROC.

Per image: BPD from the negative ELBO (analytic KL, one reconstruction draw) and from the K-sample
importance-weighted bound (losses.importance_weighted_nll); 8-bit conversion in losses.nats_to_bpd.
Two conventions for the input (`dequantize`): the pixels v/255 as given (the paper's Table 1), or
uniformly dequantized (later likelihood-based outlier work). Outlier score = BPD (higher = more
outlying), or BPD minus a compressor's bits per dimension (`compressor_bpd`, the input-complexity
correction of Serra et al., ICLR 2020); AUROC = P(score(outlier) > score(inlier)), ties 1/2.
"""
from __future__ import annotations

import io
import zlib

import numpy as np
import torch
from tqdm import tqdm

from experiments.core.losses import importance_weighted_nll, nats_to_bpd, vae_forward
from experiments.core.train import as_unit_float


def per_image_bpd(model, images: torch.Tensor, *, iw_samples: int, batch_size: int = 256,
                  device: str | torch.device = "cpu", seed: int = 0,
                  progress: bool = False, desc: str = "eval") -> dict[str, np.ndarray]:
    """BPD of every image: {"elbo": (N,), "iw": (N,)} float64 numpy arrays.

    `images` (N, C, H, W) float in [0, 1] or uint8 pixels (as the trainer takes them). The model is
    put in eval mode (batch norm running statistics), and the noise comes from a generator seeded
    with `seed`, so a call is reproducible.
    """
    if images.shape[0] == 0:
        raise ValueError("images: nothing to evaluate (0 images)")
    device = torch.device(device)
    was_training = model.training
    model.eval()
    generator = torch.Generator(device=device).manual_seed(seed)
    d = images[0].numel()
    elbo, iw = [], []
    with torch.inference_mode():
        for start in tqdm(range(0, images.shape[0], batch_size), desc=desc, disable=not progress,
                          leave=False, dynamic_ncols=True):
            x = as_unit_float(images[start:start + batch_size].to(device))
            terms, _ = vae_forward(model, x, generator)
            elbo.append(terms["neg_elbo"].double().cpu())
            iw.append(importance_weighted_nll(model, x, iw_samples, generator).double().cpu())
    model.train(was_training)
    return {"elbo": nats_to_bpd(torch.cat(elbo), d).numpy(),
            "iw": nats_to_bpd(torch.cat(iw), d).numpy()}


def auroc(inlier_scores: np.ndarray, outlier_scores: np.ndarray) -> float:
    """Area under the ROC curve of `score` as a detector of outliers (Mann-Whitney U / (n_in n_out)).

    1.0: every outlier scores above every inlier; 0.5: no separation; ties count one half.
    """
    inlier_scores = np.asarray(inlier_scores, dtype=np.float64).ravel()
    outlier_scores = np.asarray(outlier_scores, dtype=np.float64).ravel()
    if inlier_scores.size == 0 or outlier_scores.size == 0:
        raise ValueError("auroc needs at least one inlier and one outlier score")
    if not (np.all(np.isfinite(inlier_scores)) and np.all(np.isfinite(outlier_scores))):
        raise ValueError("auroc: scores must be finite")
    # 1-based ranks of the pooled scores, tied values sharing their average rank
    _, inverse, counts = np.unique(np.concatenate([inlier_scores, outlier_scores]),
                                   return_inverse=True, return_counts=True)
    last = np.cumsum(counts)
    ranks = ((last - counts + 1 + last) / 2.0)[inverse]
    n_in, n_out = inlier_scores.size, outlier_scores.size
    u_out = ranks[n_in:].sum() - n_out * (n_out + 1) / 2.0
    return float(u_out / (n_in * n_out))


def auroc_se(area: float, n_inliers: int, n_outliers: int) -> float:
    """Standard error of an AUROC estimated from n_inliers and n_outliers independent scores (Hanley and
    McNeil, Radiology 1982): se^2 = [A(1 - A) + (n_out - 1)(Q1 - A^2) + (n_in - 1)(Q2 - A^2)] / (n_in n_out)
    with Q1 = A / (2 - A) (two outliers above one inlier) and Q2 = 2 A^2 / (1 + A) (one outlier above two
    inliers). The variance of the Mann-Whitney estimate is exactly this expression in (A, Q1, Q2); the two
    Q formulas are exact for exponentially distributed scores and a close approximation otherwise."""
    q1, q2 = area / (2.0 - area), 2.0 * area**2 / (1.0 + area)
    variance = (area * (1.0 - area) + (n_outliers - 1) * (q1 - area**2)
                + (n_inliers - 1) * (q2 - area**2)) / (n_inliers * n_outliers)
    return float(np.sqrt(max(variance, 0.0)))


def summarize(bpd: np.ndarray) -> dict[str, float]:
    """Mean BPD with its standard error over images (the images are the only randomness counted)."""
    bpd = np.asarray(bpd, dtype=np.float64)
    sem = float(bpd.std(ddof=1) / np.sqrt(bpd.size)) if bpd.size > 1 else float("nan")
    return {"mean": float(bpd.mean()), "sem": sem, "n": int(bpd.size)}


PIXEL_LEVELS = 256  # 8-bit pixels v in {0, ..., 255}
COMPRESSORS = ("png", "zlib")


def pixel_values(images) -> np.ndarray:
    """The 8-bit pixels v of `images` (N, ...): uint8 v as they are, floats x = v/255 rounded back.

    A float pixel farther than 1e-3 / 255 from every v/255 is a ValueError (those images are not
    8-bit pixels scaled by 1/255; float32 keeps v/255 within 3e-8 of it)."""
    array = images.numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    if array.dtype == np.uint8:
        return array
    scaled = array.astype(np.float64) * 255.0
    values = np.rint(scaled)
    if array.size and (np.abs(scaled - values).max() > 1e-3 or values.min() < 0 or values.max() > 255):
        raise ValueError("images are not 8-bit pixels v/255 (v in 0..255): cannot dequantize or compress them")
    return values.astype(np.uint8)


def dequantize(images, seed: int) -> torch.Tensor:
    """Uniformly dequantized images x~ = v/255 + u/256, u ~ U[0, 1) per pixel (N, ...) float32.

    Why this is a code length (the convention of later likelihood-based outlier work, e.g. Theis et al.
    2016, Nalisnick et al. 2019, there written (v + u)/256): the model is a density p on the scaled
    pixels x = v/255. Give each 8-bit image v the box B_v = v/255 + [0, 1/256)^d. Since 1/256 < 1/255
    the boxes of different v are disjoint (each pixel's interval ends 1/255 - 1/256 = 1.5e-5 before the
    next level starts, far above float32 round-off), so P(v) = integral of p over B_v sums to at most 1
    over all v: a probability mass function on 8-bit images, and -log2 P(v) a code length. With u
    uniform on the box, P(v) = 256^-d E_u[p(v/255 + u/256)], and by Jensen
        -log2 P(v) <= E_u[-log2 p(x~)] + 8 d,
    so the dequantized BPD, E_u[-log2 p(x~)] / d + 8 (one u per image here: an unbiased estimate of
    that expectation, averaged over images), bounds a true code length. The box starts at v/255, the
    point the model was trained on; the bin width 1/256 gives the same + 8 as `losses.nats_to_bpd`.
    Without dequantization, -log2 p(v/255)/d + 8 is a density value, not a bound: a density peaked on
    the pixels (gamma -> 0) can take it below any code length.

    `images`: uint8 v or float v/255 (`pixel_values`). u comes from a torch generator seeded with `seed`.
    """
    values = torch.from_numpy(pixel_values(images).astype(np.float32))
    u = torch.rand(values.shape, generator=torch.Generator().manual_seed(seed))
    return values / 255.0 + u / PIXEL_LEVELS


def compressor_bpd(images, codec: str = "png") -> np.ndarray:
    """Bits per dimension of each image under a lossless compressor, (N,) float64: 8 * bytes / d.

    The input-complexity term L(x) of Serra et al. (ICLR 2020). `images` (N, H, W) or (N, 1, H, W),
    uint8 v or float v/255, compressed as 8-bit grey images: "png" (pillow, level 9, optimize; header and
    checksums included) or "zlib" (level 9 on the raw bytes). d = H * W, the pixels the model scores."""
    if codec not in COMPRESSORS:
        raise ValueError(f"unknown compressor {codec!r}; choose from {', '.join(COMPRESSORS)}")
    values = pixel_values(images)
    if values.ndim == 4 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 3:
        raise ValueError(f"compressor_bpd takes grey images (N, H, W) or (N, 1, H, W), got {values.shape}")
    d = values.shape[1] * values.shape[2]
    return np.array([8.0 * len(compress(image, codec)) / d for image in values])


def compress(image: np.ndarray, codec: str) -> bytes:
    """The lossless code of one grey uint8 image (H, W): a PNG file or a zlib stream of the raw bytes."""
    if codec == "zlib":
        return zlib.compress(np.ascontiguousarray(image).tobytes(), 9)
    from PIL import Image

    buffer = io.BytesIO()
    # a 2-D uint8 array is an 8-bit grey ("L") image
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format="PNG", compress_level=9, optimize=True)
    return buffer.getvalue()
