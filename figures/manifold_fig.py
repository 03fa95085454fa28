"""Figure 9 (main-text Figure 1): outlier screening needs the sparse (1-latent) representation.
All numbers come from figures/outlier_curve.py."""
from __future__ import annotations

import numpy as np

from figures import outlier_curve


def manifold_compute(quick: bool = False) -> dict:
    """The samples, the arc, PCA-2 / PCA-1 / curve-model errors on inliers and outliers."""
    screening = outlier_curve.outlier_screening(n_inliers=60, n_outliers=20, seed=0)
    arc_angles = np.linspace(outlier_curve.ARC_START, outlier_curve.ARC_END, 60 if quick else 200)
    screening["arc"] = outlier_curve.curve_decode(arc_angles)
    mean, U = outlier_curve.pca_fit(screening["inliers"], 1)
    screening["pca1_line"] = mean[:, None] + U * np.array([[-1.2, 1.2]])
    return screening


def manifold_draw(data: dict):
    import matplotlib.pyplot as plt

    fig, (ax_x, ax_e) = plt.subplots(1, 2, figsize=(9.5, 3.8), gridspec_kw={"width_ratios": [1.1, 1]})
    inl, out = np.asarray(data["inliers"]), np.asarray(data["outliers"])
    arc, proj = np.asarray(data["arc"]), np.asarray(data["curve_outlier_recon"])
    ax_x.plot(*arc, color="0.6", lw=6, alpha=0.35, label="the 1-D manifold (decoder range)")
    ax_x.plot(*np.asarray(data["pca1_line"]), color="#7f8c8d", ls=":", lw=1.2, label="PCA, 1 component")
    for a, b in zip(out.T, proj.T):
        ax_x.plot([a[0], b[0]], [a[1], b[1]], color="#c0392b", lw=0.8, alpha=0.7)
    ax_x.plot(*inl, "o", ms=3.5, color="#2471a3", label="inliers (on the curve)")
    ax_x.plot(*out, "x", ms=5, color="#c0392b", label="outliers; red segment = curve-model error")
    ax_x.set(aspect="equal", xlabel="$x_1$", ylabel="$x_2$", title="(a) data in $\\mathbb{R}^2$")
    ax_x.legend(loc="lower center", frameon=False, fontsize=7)
    ax_x.set_ylim(-0.35, 1.45)

    groups = [("PCA, 2 latents", "pca2"), ("PCA, 1 latent", "pca1"), ("curve, 1 latent", "curve")]
    floor = 1e-18  # zero errors drawn on the log axis at this floor (labelled "0")
    for j, (title, key) in enumerate(groups):
        for offset, (kind, color, marker) in enumerate([("inlier", "#2471a3", "o"), ("outlier", "#c0392b", "x")]):
            err = np.maximum(np.asarray(data[f"{key}_{kind}_error"]), floor)
            jitter = np.linspace(-0.12, 0.12, err.size)
            ax_e.semilogy(3 * j + offset + jitter, err, marker, ms=3.5, color=color, ls="none",
                          label=f"{kind}s" if j == 0 else None)
    ax_e.set_xticks([0.5, 3.5, 6.5], [g[0] for g in groups])
    ax_e.set_yticks([floor, 1e-12, 1e-6, 1e-2], ["0", "$10^{-12}$", "$10^{-6}$", "$10^{-2}$"])
    ax_e.set(ylabel="reconstruction error $\\|x - \\hat{x}\\|^2$", title="(b) who can tell outliers apart?")
    ax_e.legend(loc="center left", frameon=False)
    fig.tight_layout()
    return fig
