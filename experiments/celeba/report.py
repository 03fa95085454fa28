"""The report of the Figure 4 protocol (main text, section 4): Figure 4(b)'s curves against iteration,
Figure 4(a)'s bars, and the summary in Figure 4(a)'s layout beside the paper's quoted numbers.
Arms: learned gamma, gamma fixed at gamma*, and optional learned-gamma arms with a floor on gamma.
"""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: the plots are written to files, the same on any machine
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from experiments.celeba.metrics import ACTIVE_SIGMA_Z  # noqa: E402

ARMS = ("learned_gamma", "fixed_gamma")
ARM_LABELS = {"learned_gamma": "learned gamma", "fixed_gamma": "fixed gamma = gamma*"}
# main-text Figure 4(a), CelebA 128x128, QUOTED (not computed here): reconstruction error and MMD
PAPER_FIGURE4A = {"learned_gamma": {"rec_err": 352.8, "mmd": 93.3},
                  "fixed_gamma": {"rec_err": 349.9, "mmd": 291.8}}
FLOOR_PREFIX = "floor_"  # run folder of the arm with gamma clamped below at a floor: floor_<repr(F)>
CURVES_PNG, BARS_PNG = "gradient_and_gamma.png", "mmd_and_reconstruction.png"


def floor_arm(floor: float) -> str:
    """The arm (and run folder) name of the learned-gamma arm with gamma >= `floor` (a variance)."""
    return f"{FLOOR_PREFIX}{float(floor)!r}"


def arm_label(arm: str) -> str:
    """Human-readable name of an arm: the two protocol arms, or 'learned gamma, floor F'."""
    if arm.startswith(FLOOR_PREFIX):
        return f"learned gamma, floor {float(arm[len(FLOOR_PREFIX):]):g}"
    return ARM_LABELS[arm]


def _smooth(values, fraction: float = 0.1):
    """Trailing mean over the last `fraction` of the iterations so far (point i averages i*fraction
    points, at least 1): a window of constant width on a log iteration axis, so early iterations
    keep their detail and late ones lose their noise, without lag on the log scale."""
    values = np.asarray(values, dtype=np.float64)
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    upper = np.arange(1, len(values) + 1)
    lower = upper - np.maximum(1, (fraction * upper).astype(int))
    return (cumulative[upper] - cumulative[lower]) / (upper - lower)


def _arm_colors(arms) -> dict[str, str]:
    """Blue and red for the protocol arms (as before floors existed), then one color per floor arm."""
    spare = ("tab:green", "tab:purple", "tab:orange", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")
    colors = {"learned_gamma": "tab:blue", "fixed_gamma": "tab:red"}
    floors = [a for a in arms if a not in colors]
    return {**colors, **{a: spare[i % len(spare)] for i, a in enumerate(floors)}}


def plot_curves(rows_by_arm: dict[str, list[dict]], path: Path, title: str) -> None:
    """Figure 4(b) and companions against iteration (log axes): ||dL/dz||_2, gamma, gradient norms
    of encoder and decoder, active latent dimensions. Thin lines: every iteration; thick: trailing
    mean over the last 10% of the iterations so far (`_smooth`)."""
    colors = _arm_colors(rows_by_arm)
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
    # plain-text labels: mathtext layout costs seconds per figure on a slow CPU
    panels = [("grad_z_norm", "||dL/dz||_2 (per sample, batch mean)", True),
              ("gamma_var", "gamma (decoder variance)", True),
              (("grad_encoder_norm", "grad_decoder_norm"), "parameter gradient norm", True),
              ("active_dims", f"active dims (mean sigma_z < {ACTIVE_SIGMA_Z})", False)]
    for ax, (key, label, log_y) in zip(axes, panels):
        for arm, rows in rows_by_arm.items():
            steps = np.array([r["step"] for r in rows])
            keys = key if isinstance(key, tuple) else (key,)
            for k, style in zip(keys, ("-", "--")):
                values = np.array([r[k] for r in rows])
                ax.plot(steps, values, style, color=colors[arm], alpha=0.2, lw=0.5)
                name = arm_label(arm) + ("" if len(keys) == 1 else f" ({k.split('_')[1]})")
                ax.plot(steps, _smooth(values), style, color=colors[arm], lw=1.5, label=name)
        ax.set_xscale("log")
        if log_y:
            ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_title(label, fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(left=0.04, right=0.99, bottom=0.14, top=0.84, wspace=0.22)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_bars(results: dict, path: Path) -> None:
    """Figure 4(a) as bars: held-out reconstruction error and latent MMD^2 per arm, with error bars
    (reconstruction: standard error over images; MMD: std over the repeated draws)."""
    arms = results["arms"]
    names = list(arms)  # the two protocol arms, then any floor arms (--gamma-floors)
    labels = [arm_label(a) for a in names]
    palette = _arm_colors(names)
    colors = [palette[a] for a in names]
    extra = len(names) > len(ARMS)  # floor arms: wider figure, slanted labels
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8 + 1.5 * (len(names) - len(ARMS)), 3.5 + extra))
    ax1.bar(labels, [arms[a]["rec_err"] for a in names], yerr=[arms[a]["rec_err_sem"] for a in names],
            color=colors, capsize=4)
    ax1.set_title("reconstruction error (per-image SSE)", fontsize=9)
    ax2.bar(labels, [arms[a]["mmd"]["mean"] for a in names], yerr=[arms[a]["mmd"]["std"] for a in names],
            color=colors, capsize=4)
    ax2.set_title("MMD^2 between q(z) and N(0, I) (std over draws)", fontsize=9)
    for ax in (ax1, ax2):
        ax.tick_params(labelsize=8)
        if extra:
            ax.tick_params(axis="x", labelrotation=20)
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.3 if extra else 0.12, top=0.9, wspace=0.3)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def format_summary(results: dict) -> str:
    """Markdown in the layout of Figure 4(a) (rows: the two arms, then any floor arms; columns:
    Rec. Err., MMD), ours beside the paper's quoted CelebA 128x128 numbers, then the Figure 4(b)
    gradient comparison."""
    arms = results["arms"]
    config = results["config"]
    learned, fixed = arms["learned_gamma"], arms["fixed_gamma"]
    mmd_l, mmd_f = learned["mmd"], fixed["mmd"]
    n = learned["n_images"]
    lines = [
        f"# Figure 4 reproduction: learned gamma vs gamma fixed at gamma* ({results['source']}, "
        f"{results['size']}x{results['size']}, preset `{results['preset']}`)", "",
        "```", results["command"], "```", "",
        f"{config['iters']} iterations per arm, batch {config['batch_size']}, Adam lr {config['lr']:g} "
        f"(log gamma: {config['lr_log_gamma']:g}), channel width x{results['width']:g} of section 7's, "
        f"{results['train_images']} training images, {n} held-out images scored. Training time per "
        f"1K iterations: {learned['seconds_per_1k_iters']:.0f} s (learned), "
        f"{fixed['seconds_per_1k_iters']:.0f} s (fixed) on {results['device']}.", "",
        "## Figure 4(a)", "",
        "| model | Rec. Err. (ours) | MMD^2 (ours, mean +- std over draws) | Rec. Err. (paper, quoted) "
        "| MMD (paper, quoted) |",
        "|---|---|---|---|---|"]
    for arm in ARMS:
        a = arms[arm]
        lines.append(f"| {ARM_LABELS[arm]} | {a['rec_err']:.2f} +- {a['rec_err_sem']:.2f} | "
                     f"{a['mmd']['mean']:.4g} +- {a['mmd']['std']:.2g} | "
                     f"{PAPER_FIGURE4A[arm]['rec_err']} | {PAPER_FIGURE4A[arm]['mmd']} |")
    floor_arms = [arm for arm in arms if arm.startswith(FLOOR_PREFIX)]
    for arm in floor_arms:  # optional variants (--gamma-floors): not in the paper
        a = arms[arm]
        lines.append(f"| {arm_label(arm)} | {a['rec_err']:.2f} +- {a['rec_err_sem']:.2f} | "
                     f"{a['mmd']['mean']:.4g} +- {a['mmd']['std']:.2g} | - | - |")
    ratio_paper = PAPER_FIGURE4A["fixed_gamma"]["mmd"] / PAPER_FIGURE4A["learned_gamma"]["mmd"]
    ratio_ours = mmd_f["mean"] / mmd_l["mean"] if mmd_l["mean"] > 0 else float("nan")
    separation = (mmd_f["mean"] - mmd_l["mean"]) / math.hypot(mmd_l["std"], mmd_f["std"]) \
        if (mmd_l["std"] > 0 or mmd_f["std"] > 0) else float("nan")
    g_l, g_f = learned["grad_z_norm"], fixed["grad_z_norm"]
    lines += [
        "", f"gamma* (arm 1's final decoder variance) = {learned['gamma_var']:.4g} "
        f"(std {learned['gamma_std']:.4g}); arm 2 keeps gamma = {fixed['gamma_var']:.4g} throughout.",
        f"Active latent dimensions on the held-out images (mean sigma_z < {ACTIVE_SIGMA_Z}): "
        f"learned {learned['active_dims']}, fixed {fixed['active_dims']} (of 64).", "",
        "Paper's numbers: CelebA 128x128, full network, 40K iterations; its MMD kernel and scale are not "
        "stated, so only the ordering and the ratio of the two arms compare.", "",
        "## What the run shows", "",
        f"* Lower MMD with learned gamma (paper: yes, fixed/learned = {ratio_paper:.2f}): "
        f"{'yes' if mmd_l['mean'] < mmd_f['mean'] else 'NO'}, fixed/learned = {ratio_ours:.3g}, "
        f"difference = {separation:.2g} combined draw std.",
        f"* ||dL/dz||_2 over the first {g_l['window']} iteration(s) (paper: large from the start with "
        f"fixed gamma, small and slowly growing with learned gamma): learned {g_l['initial']:.4g}, "
        f"fixed {g_f['initial']:.4g} (fixed/learned = {g_f['initial'] / g_l['initial']:.3g}); over the "
        f"last {g_l['window']}: learned {g_l['final']:.4g}, fixed {g_f['final']:.4g}.",
        f"* Reconstruction error (paper: about equal, 352.8 vs 349.9): learned {learned['rec_err']:.2f}, "
        f"fixed {fixed['rec_err']:.2f}.", ""]
    if floor_arms:
        lines += ["## Gamma floors (optional variants, not in the paper)", "",
                  "Learned gamma clamped below at the floor (a decoder variance) after every Adam step, "
                  "so the 1/gamma factor of dL/dz stays at most 1/floor; same seed, data order and noise.", ""]
        for arm in floor_arms:
            a, g = arms[arm], arms[arm]["grad_z_norm"]
            lines.append(f"* {arm_label(arm)}: final gamma {a['gamma_var']:.4g} (gamma* = "
                         f"{learned['gamma_var']:.4g}); ||dL/dz||_2 first {g['window']} iteration(s) "
                         f"{g['initial']:.4g}, last {g['final']:.4g}, max {g['max']:.4g} (learned without "
                         f"floor: max {g_l['max']:.4g}); active dims {a['active_dims']}; folder {arm}/.")
        lines.append("")
    lines += [
        "## Definitions", "",
        "* Rec. Err.: per held-out image, sum over pixels and channels of (x - mu_x(mu_z(x)))^2 with "
        "pixels in [0, 1]; mean +- standard error over images.",
        "* MMD^2: unbiased estimator, kernel sum_s C_s / (C_s + ||z - z'||^2) with C_s = 2 * 64 * s, "
        "s in {0.1, 0.2, 0.5, 1, 2, 5, 10}; one z = mu_z + sigma_z * eps per held-out image against as many "
        f"N(0, I) draws; mean +- std over {results['mmd_repeats']} independent draws.",
        "* ||dL/dz||_2: L_i = negative ELBO of sample i in nats (half of Eq. 3's braces plus constants), "
        "z_i the reparameterized decoder input; mean over the batch of ||dL_i/dz_i||_2, computed as "
        "||B * dL_batch_mean/dz_i||_2 (it includes the small coupling through the decoder's training-mode "
        "batch norm; Eq. 3's scale is twice this).",
        f"* Per-iteration logs: learned_gamma/metrics.csv, fixed_gamma/metrics.csv; plots: {CURVES_PNG}, "
        f"{BARS_PNG}.", ""]
    return "\n".join(lines)
