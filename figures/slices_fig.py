"""Figure 6 (main-text Figure 3): 1-D slices through the linear VAE's loss, Eq. (3), with the optimal
sparse representation at s = 0, for gamma in {1, 1e-1, 1e-2, 1e-3}. Numbers from figures/slices.py."""
from __future__ import annotations

import numpy as np

from figures.slices import slice_study

GAMMAS = (1.0, 1e-1, 1e-2, 1e-3)


def slices_compute(quick: bool = False) -> dict:
    study = slice_study(gammas=GAMMAS, grid_size=121 if quick else 401)
    study.pop("X")
    return study


def slices_draw(data: dict):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(data["gammas"]), figsize=(11, 5))
    titles = {"twin": "line to the flipped twin",
              "random": "random direction"}
    for row, name in enumerate(("twin", "random")):
        s = np.asarray(data[name]["s"])
        for col, (gamma, res) in enumerate(zip(data["gammas"], data[name]["per_gamma"])):
            ax = axes[row, col]
            loss = np.asarray(res["loss"])
            base = min(res["minima_loss"])
            ax.plot(s, loss - base, color="#2471a3", lw=1.5)
            ax.axvline(0.0, color="#c0392b", ls="--", lw=0.9)
            for s_m, l_m in zip(res["minima_s"], res["minima_loss"]):
                is_global = s_m == res["global_s"]
                ax.plot(s_m, l_m - base, "*" if is_global else "o", ms=9 if is_global else 5,
                        color="#c0392b" if is_global else "#e67e22", mec="k", mew=0.5, zorder=5)
            top = np.quantile(loss - base, 0.9)
            ax.set_ylim(-0.05 * top, top)
            ax.set_title(f"$\\gamma = {gamma:g}$: argmin $s = {res['global_s']:.2g}$\n"
                         f"max $|dL/ds| \\approx {res['max_abs_slope']:.3g}$", fontsize=8.5)
            if col == 0:
                ax.set_ylabel(f"{titles[name]}\n$L(s) - \\min L$", fontsize=8)
            if row == 1:
                ax.set_xlabel("$s$ (slice coordinate; sparse optimum at 0)")
    axes[0, 0].plot([], [], "*", color="#c0392b", mec="k", label="global minimizer on the slice")
    axes[0, 0].plot([], [], "o", color="#e67e22", mec="k", label="other local minimum")
    axes[0, 0].plot([], [], "--", color="#c0392b", label="optimal sparse representation")
    axes[0, 0].legend(loc="upper center", frameon=False, fontsize=6.5)
    fig.tight_layout()
    return fig
