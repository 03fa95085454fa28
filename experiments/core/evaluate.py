"""Scoring shared by the experiments, first used for Table 1 (supplement section 6): BPD per image
and AUROC.

Per image: BPD from the negative ELBO (analytic KL, one reconstruction draw) and from the K-sample
importance-weighted bound (losses.importance_weighted_nll); 8-bit conversion in losses.nats_to_bpd.
Outlier score = BPD (higher = more outlying); AUROC = P(score(outlier) > score(inlier)), ties 1/2.
"""
from __future__ import annotations

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


def summarize(bpd: np.ndarray) -> dict[str, float]:
    """Mean BPD with its standard error over images (the images are the only randomness counted)."""
    bpd = np.asarray(bpd, dtype=np.float64)
    sem = float(bpd.std(ddof=1) / np.sqrt(bpd.size)) if bpd.size > 1 else float("nan")
    return {"mean": float(bpd.mean()), "sem": sem, "n": int(bpd.size)}
