"""Figures 7 and 8: Lemma 2 (the affine VAE's optimum as gamma -> 0, Eq. 11-15) and Lemma 3 (gamma*
for a fixed decoder, Eq. 16-17). Numbers from theory/lemma2.py, theory/lemma3.py, theory/vae_loss.py."""
from __future__ import annotations

import math

import numpy as np

from theory import lemma2, lemma3
from figures.slices import subspace_data
from theory.vae_loss import affine_vae_loss_eq3

D, R, KAPPA, N, SEED = 6, 2, 4, 50, 0  # the data of Figure 6: d = 6, on a random 2-D subspace


def lemma2_compute(quick: bool = False) -> dict:
    """The optimal affine-VAE loss (lemma2.optimal_affine_vae) on a log-gamma grid, the number of
    active columns of W, and the least-squares slope of loss on log gamma below the smallest
    eigenvalue; a few points from the numerical optimizer (lemma2.gamma_to_zero_scan) as a check."""
    X = subspace_data(D, R, N, SEED)
    log_gammas = np.linspace(math.log(1e-8), math.log(10.0), 40 if quick else 161)
    losses, active = [], []
    for lg in log_gammas:
        opt = lemma2.optimal_affine_vae(X, KAPPA, lg)
        losses.append(opt["loss"])
        active.append(int(np.sum(opt["active"])))
    losses = np.array(losses)
    eig = lemma2.optimal_affine_vae(X, KAPPA, 0.0)["eigenvalues"]
    # dL/dlog(gamma) of the sampled optimal-loss curve (np.gradient: second-order differences)
    dloss_dlog_gamma = np.gradient(losses, log_gammas)
    below = np.exp(log_gammas) < 0.1 * eig[R - 1]
    slope = float(np.polyfit(log_gammas[below], losses[below], 1)[0])
    scan_log_gammas = np.log([1e-1, 1e-3, 1e-5]) if quick else np.log([1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6])
    scan = lemma2.gamma_to_zero_scan(X, KAPPA, scan_log_gammas, seed=SEED)
    return {"d": D, "r": R, "kappa": KAPPA, "log_gammas": log_gammas, "losses": losses,
            "active_columns": np.array(active), "eigenvalues": eig,
            "dloss_dgamma": dloss_dlog_gamma / np.exp(log_gammas), "slope_small_gamma": slope,
            "scan_log_gammas": scan["log_gammas"], "scan_losses": scan["losses"]}


def lemma2_draw(data: dict):
    import matplotlib.pyplot as plt

    fig, (ax_l, ax_a, ax_g) = plt.subplots(1, 3, figsize=(11, 3.5))
    gammas = np.exp(np.asarray(data["log_gammas"]))
    ax_l.semilogx(gammas, data["losses"], color="#2471a3", lw=1.8, label="closed form (pPCA)")
    ax_l.semilogx(np.exp(data["scan_log_gammas"]), data["scan_losses"], "o", mfc="none", color="k", ms=5,
                  label="L-BFGS over W (independent)")
    ax_l.set(xlabel="$\\gamma$ (decoder variance)", ylabel="min Eq. (3)",
             title=f"(a) optimum $\\to -\\infty$, slope $d - r = {data['d'] - data['r']}$\n"
                   f"(fitted: {data['slope_small_gamma']:.4f} per unit of $\\log\\gamma$)")
    ax_l.legend(frameon=False, loc="upper left")
    ax_a.semilogx(gammas, data["active_columns"], drawstyle="steps-mid", color="#c0392b", lw=1.8)
    for lam in data["eigenvalues"][: data["r"]]:
        ax_a.axvline(lam, color="0.5", ls=":", lw=1)
    ax_a.set(xlabel="$\\gamma$", ylabel="active columns of $W$", yticks=range(data["kappa"] + 1),
             title=f"(b) active columns: $r = {data['r']}$ of $\\kappa = {data['kappa']}$\n"
                   "(dotted: data eigenvalues)")
    ax_g.loglog(gammas, np.abs(data["dloss_dgamma"]), color="#8e44ad", lw=1.8, label="$|dL^*/d\\gamma|$")
    ax_g.loglog(gammas, (data["d"] - data["r"]) / gammas, "--", color="0.4", lw=1, label="$(d - r)/\\gamma$")
    ax_g.set(xlabel="$\\gamma$", ylabel="$|dL^* / d\\gamma|$", title="(c) the infinite gradient as $\\gamma \\to 0$")
    ax_g.legend(frameon=False)
    fig.tight_layout()
    return fig


def _decoders(X) -> list[tuple[str, dict]]:
    """Three fixed affine decoders (with their encoders) of decreasing reconstruction error: the
    optimal affine VAE at gamma = 1, 1e-2 and 1e-4 (lemma2.optimal_affine_vae), then held fixed."""
    return [(f"decoder fitted at $\\gamma_0 = {g:g}$", lemma2.optimal_affine_vae(X, KAPPA, math.log(g)))
            for g in (0.3, 1e-2, 1e-4)]


def lemma3_compute(quick: bool = False) -> dict:
    """Eq. (3) against log gamma with everything else fixed, and gamma* (lemma3.gamma_star_affine)."""
    X = subspace_data(D, R, N, SEED)
    log_gammas = np.linspace(math.log(1e-7), math.log(10.0), 60 if quick else 241)
    rows = []
    for label, opt in _decoders(X):
        args = (X, opt["W"], opt["b"], opt["mu_z"], opt["log_sigma_z"])
        losses = np.array([affine_vae_loss_eq3(*args, lg) for lg in log_gammas])
        g_star = lemma3.gamma_star_affine(*args)
        rows.append({"label": label, "losses": losses, "gamma_star": g_star,
                     "loss_at_gamma_star": affine_vae_loss_eq3(*args, math.log(g_star))})
    return {"log_gammas": log_gammas, "decoders": rows}


def _math_number(value: float) -> str:
    """Two significant digits in mathtext: 0.0033, or 3.3 \\times 10^{-5} instead of 3.3e-05."""
    text = f"{value:.2g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    return f"{mantissa} \\times 10^{{{int(exponent)}}}"


def lemma3_draw(data: dict):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.6, 3.8))
    gammas = np.exp(np.asarray(data["log_gammas"]))
    colors = ["#7f8c8d", "#2471a3", "#c0392b"]
    for color, row in zip(colors, data["decoders"]):
        ax.semilogx(gammas, row["losses"], color=color, lw=1.6, label=row["label"])
        ax.plot(row["gamma_star"], row["loss_at_gamma_star"], "*", ms=11, color=color, mec="k", mew=0.5)
        ax.annotate(f"$\\gamma^* = {_math_number(row['gamma_star'])}$",
                    (row["gamma_star"], row["loss_at_gamma_star"]),
                    textcoords="offset points", xytext=(4, -12), fontsize=7.5, color=color)
    low = min(r["loss_at_gamma_star"] for r in data["decoders"])
    ax.set_ylim(low - 8, low + 60)
    ax.set(xlabel="$\\gamma$ (decoder variance)", ylabel="Eq. (3), decoder and encoder fixed",
           title="Lemma 3: $\\gamma^*$ = mean squared error / $d$ (Eq. 16)\n"
                 "better decoder: smaller $\\gamma^*$, lower minimum, same shape")
    fitted = ("decoder and encoder: the optimal affine VAE\n(pPCA) at $\\gamma = \\gamma_0$, then frozen\n"
              "while $\\gamma$ varies along the axis")
    legend = ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5,
                       alignment="left", title=fitted)
    legend.get_title().set_fontsize(7.5)
    # on a log-gamma axis every curve is L(gamma*) + d (e^(-t) + t - 1) with t = log(gamma / gamma*):
    # one shape, shifted, so the minima are no sharper here (only in gamma itself, d / gamma*^2)
    ax.text(0.98, 0.04, "with $t = \\log(\\gamma / \\gamma^*)$, every curve is\n"
            "$L(\\gamma^*) + d\\,(e^{-t} + t - 1)$: one shape, shifted",
            transform=ax.transAxes, ha="right", va="bottom", fontsize=7.5)
    fig.tight_layout()
    return fig
