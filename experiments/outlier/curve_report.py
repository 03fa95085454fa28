"""The report of `infgrad outlier --curve` (experiments/outlier/curve.py): Table 1's numbers against training
length, the extrapolation of each curve to the paper's 200K iterations (labelled as an extrapolation), and
the outlier scores of later work (dequantized BPD, input-complexity-corrected BPD) for both gamma arms.
"""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: the plots are written to files, the same on any machine
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from experiments.core.evaluate import auroc_se  # noqa: E402
from experiments.core.snapshots import time_note  # noqa: E402
from experiments.core.trend import FORMS, extrapolate, fit_trend  # noqa: E402
from experiments.outlier.presets import PRESETS  # noqa: E402
from experiments.outlier.report import PAPER_TABLE1, SETS  # noqa: E402

TARGET_STEPS = PRESETS["paper"].iters  # the paper's 200K iterations
# Fit from step 1000 on: before that gamma still relaxes from its start value 1 toward its Eq. (16)
# optimum (in the kappa = 64 long run, gamma_var at step 500 is 0.029 against recon_sq / d = 0.018 of
# the same batch; at step 1000 0.0137 against 0.0130), so later points follow the weights alone.
FIT_FROM = 1000
FIT_SERIES = ("FashionMNIST-Test", "MNIST-Test", "FashionMNIST-Train", "gamma_std")
SCORES = {"elbo": "BPD (ELBO)", "iw": "BPD (IW)", "iw-png": "BPD (IW) - PNG bits", "iw-zlib": "BPD (IW) - zlib bits"}
SHORT = {"as_given": "no deq.", "dequantized": "deq."}
ARM_NAMES = {"learned_gamma": "learned gamma", "fixed_gamma": "gamma fixed at gamma*"}


def _paper(row: str, kappa: int):
    table = PAPER_TABLE1
    return table[row][table["kappa"].index(kappa)] if kappa in table["kappa"] else None


def _series(entry: dict, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of one curve from FIT_FROM on; gamma_std as log(gamma_std) (it spans decades)."""
    steps = np.array([s["step"] for s in entry["steps"]], dtype=np.float64)
    if name == "gamma_std":
        values = np.array([math.log(s["gamma_std"]) for s in entry["steps"]])
    else:
        values = np.array([s["bpd"]["as_given"][name]["iw"]["mean"] for s in entry["steps"]])
    keep = steps >= FIT_FROM
    return steps[keep], values[keep]


def extrapolations(report: dict) -> dict:
    """{kappa: {series: extrapolate(...) at TARGET_STEPS}} for the learned-gamma runs; gamma_std's
    predictions are of log(gamma_std)."""
    result = {}
    for kappa, entry in report["arms"]["learned_gamma"].items():
        result[kappa] = {}
        for name in FIT_SERIES:
            steps, values = _series(entry, name)
            result[kappa][name] = extrapolate(steps, values, TARGET_STEPS, repeats=500)
    return result


def _fmt_prediction(name: str, value: float) -> str:
    return f"{math.exp(value):.4f}" if name == "gamma_std" else f"{value:.3f}"


def _extrapolation_table(kappa: int, fits: dict) -> list[str]:
    lines = [f"### Extrapolation to {TARGET_STEPS:,} iterations (an EXTRAPOLATION of the fitted trend, not a "
             "measurement)", "",
             f"Fitted on the snapshots from step {FIT_FROM} on (BPD: IW bound, no dequantization; gamma: "
             "log of the std, shown as the std). power: a + b (t/t_max)^-c; log: a + b log(t/t_max). "
             "Intervals: percentiles of 500 bootstrap refits over the points; backtest: the same form "
             "fitted without the last 2 points, largest miss on them.", "",
             "| quantity | form | points | at 200K | delta-method se | bootstrap 68% | bootstrap 95% | AIC | "
             "backtest miss | Table 1 (quoted) |", "|---" * 10 + "|"]
    for name in FIT_SERIES:
        paper = _paper(name, kappa)
        for form in FORMS:
            fit = fits[name][form]
            if "error" in fit:
                lines.append(f"| {name} | {form} | - | not fitted: {fit['error']} | | | | | | {paper or '-'} |")
                continue
            b = fit["bootstrap"]
            show = lambda v: _fmt_prediction(name, v)  # noqa: E731
            se = (f"{fit['delta_se']:.3f} (in log)" if name == "gamma_std" else f"{fit['delta_se']:.3f}")
            miss = fit["backtest"].get("max_abs_miss")
            bands = ("- | -" if "error" in b else
                     f"{show(b['p16'])} - {show(b['p84'])} | {show(b['p2.5'])} - {show(b['p97.5'])}")
            lines.append(f"| {name} | {form} | {fit['n']} | {show(fit['prediction'])} | {se} | {bands} | "
                         f"{fit['aic']:.1f} | {'-' if miss is None else f'{miss:.3f}'} | {paper or '-'} |")
    return lines + [""]


def _curve_tables(kappa: int, entry: dict) -> list[str]:
    k = entry["settings"]["iw_samples"]
    lines = [f"### BPD (IW bound, K={k}) and gamma", "",
             "| step | gamma std | gamma variance | " + " | ".join(f"{n} ({SHORT[c]})" for c in SHORT
                                                         for n in SETS) + " |",
             "|---" * (3 + 2 * len(SETS)) + "|"]
    for s in entry["steps"]:
        cells = [f"{s['bpd'][c][n]['iw']['mean']:.3f}" for c in SHORT for n in SETS]
        lines.append(f"| {s['step']} | {s['gamma_std']:.4f} | {s['gamma_var']:.3g} | " + " | ".join(cells) + " |")
    paper = [f"{_paper(n, kappa)}" if _paper(n, kappa) else "-" for n in SETS]
    lines.append(f"| Table 1 (quoted, 200K) | {_paper('gamma_std', kappa) or '-'} | - | " + " | ".join(paper)
                 + " | - | - | - |")
    lines += ["", "### AUROC, MNIST-Test (outliers) against FashionMNIST-Test", "",
              "| step | " + " | ".join(f"{SCORES[s]}, {SHORT[c]}" for s in SCORES for c in SHORT) + " |",
              "|---" * (1 + 2 * len(SCORES)) + "|"]
    for s in entry["steps"]:
        lines.append(f"| {s['step']} | " + " | ".join(f"{s['auroc'][score][c]:.4f}" for score in SCORES
                                                     for c in SHORT) + " |")
    return lines + ["", _se_note(entry["steps"][-1]), ""]


def _counts(step_entry: dict) -> tuple[int, int]:
    """(inliers, outliers) behind the AUROCs of one step: FashionMNIST-Test and MNIST-Test images."""
    bpd = step_entry["bpd"]["as_given"]
    return bpd["FashionMNIST-Test"]["iw"]["n"], bpd["MNIST-Test"]["iw"]["n"]


def best_scores(step_entry: dict) -> tuple[str, float, float, list[str]]:
    """The score (and convention) with the highest AUROC at one step, its Hanley-McNeil s.e., and every
    other score within 2 s.e. of it (not told apart from the best on these images)."""
    options = {f"{SCORES[s]}, {SHORT[c]}": step_entry["auroc"][s][c] for s in SCORES for c in SHORT}
    name = max(options, key=options.get)
    se = auroc_se(options[name], *_counts(step_entry))
    ties = [other for other, value in options.items() if other != name and options[name] - value <= 2 * se]
    return name, options[name], se, ties


def _se_note(step_entry: dict) -> str:
    n_in, n_out = _counts(step_entry)
    cells = ", ".join(f"{SCORES[s]} (no deq.) {auroc_se(step_entry['auroc'][s]['as_given'], n_in, n_out):.4f}"
                      for s in ("iw", "iw-png"))
    return (f"AUROC standard errors at step {step_entry['step']} (Hanley and McNeil 1982, {n_in} inliers, "
            f"{n_out} outliers): {cells}.")


def _arm_comparison(report: dict) -> list[str]:
    """Learned and fixed gamma at the fixed arm's last step (the learned run's snapshot of that step)."""
    lines = []
    for kappa, fixed in report["arms"].get("fixed_gamma", {}).items():
        learned = report["arms"]["learned_gamma"].get(kappa)
        step = fixed["steps"][-1]["step"]
        rows = {"fixed_gamma": fixed["steps"][-1]}
        if learned is not None:
            rows = {"learned_gamma": next((s for s in learned["steps"] if s["step"] == step), None), **rows}
        lines += [f"## Both gamma arms at step {step}, kappa = {kappa}: dequantization and input complexity", "",
                  f"gamma* = the learned run's gamma at step {fixed['config'].get('gamma_star_step', '?')} "
                  f"({fixed['config'].get('gamma_star_from', '?')}); the fixed arm trains with the same "
                  "seed, data order and noise.", "",
                  "| arm | gamma std | " + " | ".join(f"{n} BPD (IW, {SHORT[c]})" for c in SHORT
                                                    for n in ("FashionMNIST-Test", "MNIST-Test"))
                  + " | " + " | ".join(f"AUROC {SCORES[s]}, {SHORT[c]}" for s in SCORES for c in SHORT)
                  + " | best |", "|---" * (3 + 4 + 2 * len(SCORES)) + "|"]
        for arm, s in rows.items():
            if s is None:
                lines.append(f"| {ARM_NAMES[arm]} | no snapshot at step {step} |")
                continue
            bpd = " | ".join(f"{s['bpd'][c][n]['iw']['mean']:.3f}" for c in SHORT
                             for n in ("FashionMNIST-Test", "MNIST-Test"))
            au = " | ".join(f"{s['auroc'][score][c]:.4f}" for score in SCORES for c in SHORT)
            best, value, se, ties = best_scores(s)
            lines.append(f"| {ARM_NAMES[arm]} | {s['gamma_std']:.4f} | {bpd} | {au} | {best} ({value:.4f} +- "
                         f"{se:.4f}; within 2 s.e.: {'; '.join(ties) or 'none'}) |")
        lines.append("")
    return lines


def format_curve(report: dict) -> str:
    """curve.md: per kappa the BPD/gamma and AUROC tables over steps, the extrapolation; the arm comparison."""
    lines = ["# Table 1 against training length (`infgrad outlier --curve`)", "",
             "BPD conventions, in every table: **no deq.** = nll(v/255) / (d ln 2) + 8, the density at the "
             "pixels v/255 (the paper's Table 1 scale, not a code length); **deq.** = the same at "
             "v/255 + u/256, u ~ U[0, 1) per pixel, one draw per image (a bound on a code length; "
             "experiments/core/evaluate.py `dequantize`). d = 32 x 32. AUROC: MNIST-Test as outliers, "
             "higher score = more outlying. BPD - PNG/zlib bits: Serra et al.'s input-complexity score "
             "(compressor bits per dimension of the same 32x32 8-bit image).", ""]
    for kappa, entry in report["arms"]["learned_gamma"].items():
        steps = [s["step"] for s in entry["steps"]]
        c = entry["config"]
        lines += [f"## kappa = {kappa}, learned gamma ({entry['run_dir']})", "",
                  f"Preset `{c.get('preset')}`: {c['iters']:,} iterations, lr {c['lr']:g} (weights), "
                  f"lr {c['lr_log_gamma']:g} (log gamma), batch {c['batch_size']}; scored on the first "
                  f"{c['eval_images'] or 'all'} images of each set. Snapshots scored: {', '.join(map(str, steps))}. "
                  f"Not yet written by the run: {', '.join(map(str, entry['missing_steps'])) or 'none'}. "
                  + time_note(entry.get("training_time")), ""]
        lines += _curve_tables(int(kappa), entry)
        lines += _extrapolation_table(int(kappa), report["extrapolation"][kappa])
        comp = entry["compressor_bpd"]
        lines += ["Compressor bits per dimension (mean over the scored images): " + "; ".join(
            f"{codec}: " + ", ".join(f"{n} {v['mean']:.3f}" for n, v in per_set.items())
            for codec, per_set in comp.items()) + ". The compressor alone as a detector (fewer bits = more "
            "outlying, no model): AUROC " + ", ".join(f"{codec} {v:.4f}" for codec, v in
                                                     entry["compressor_only_auroc"].items()) + ".", ""]
    lines += _arm_comparison(report)
    return "\n".join(lines)


def plot_curve(report: dict, kappa: int, path: str | Path) -> Path:
    """One figure per kappa: BPD (both conventions), gamma std and AUROC against log iterations, Table 1's
    values as horizontal dotted lines, the fitted trends continued to 200K (thin: power, dash-dot: log)."""
    entry = report["arms"]["learned_gamma"][str(kappa)]
    fixed = report["arms"].get("fixed_gamma", {}).get(str(kappa))
    steps = np.array([s["step"] for s in entry["steps"]], dtype=np.float64)
    grid = np.geomspace(FIT_FROM, TARGET_STEPS, 100)
    colors = dict(zip(SETS, ("tab:green", "tab:blue", "tab:red")))
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))

    def trends(ax, name, transform, color):
        """Both fitted forms continued to 200K, and at 200K the 95% bootstrap interval of each."""
        t, y = _series(entry, name)
        for form, style, shift in zip(FORMS, ("--", "-."), (0.93, 1.07)):
            try:
                fit = fit_trend(t, y, form)
            except (ValueError, RuntimeError):
                continue
            ax.plot(grid, transform(fit.predict(grid)), style, color=color, lw=0.9, alpha=0.7)
            band = report["extrapolation"][str(kappa)][name][form].get("bootstrap", {})
            if "p2.5" in band:
                low, mid, high = transform(np.array([band["p2.5"], band["median"], band["p97.5"]]))
                ax.errorbar([TARGET_STEPS * shift], [mid], yerr=[[mid - low], [high - mid]], color=color,
                            capsize=2, lw=0.9)

    ax = axes[0]
    for name in SETS:
        for convention, style, marker in (("as_given", "-", "o"), ("dequantized", ":", ".")):
            values = [s["bpd"][convention][name]["iw"]["mean"] for s in entry["steps"]]
            ax.plot(steps, values, style, marker=marker, color=colors[name], ms=4,
                    label=f"{name} ({SHORT[convention]})")
        if _paper(name, kappa) is not None:
            ax.axhline(_paper(name, kappa), color=colors[name], ls=(0, (1, 3)), lw=1.2)
        trends(ax, name, lambda v: v, colors[name])
        if fixed is not None:
            ax.plot([s["step"] for s in fixed["steps"]], [s["bpd"]["as_given"][name]["iw"]["mean"]
                                                          for s in fixed["steps"]], "x", color=colors[name])
    ax.set_ylabel("bits per dimension (IW bound)")
    ax.set_title("BPD; dotted horizontal: Table 1; x: gamma fixed at gamma*", fontsize=9)
    ax = axes[1]
    ax.plot(steps, [s["gamma_std"] for s in entry["steps"]], "o-", color="k", ms=4, label="learned gamma (std)")
    if _paper("gamma_std", kappa) is not None:
        ax.axhline(_paper("gamma_std", kappa), color="k", ls=(0, (1, 3)), lw=1.2, label="Table 1 (std)")
    trends(ax, "gamma_std", np.exp, "k")
    if fixed is not None:
        ax.plot([s["step"] for s in fixed["steps"]], [s["gamma_std"] for s in fixed["steps"]], "x",
                color="tab:purple", label="gamma fixed at gamma*")
    ax.set_yscale("log")
    ax.set_title("gamma as a standard deviation", fontsize=9)
    ax = axes[2]
    for score, color in zip(("iw", "iw-png", "iw-zlib"), ("tab:blue", "tab:orange", "tab:brown")):
        for convention, style in (("as_given", "-"), ("dequantized", ":")):
            ax.plot(steps, [s["auroc"][score][convention] for s in entry["steps"]], style, marker=".",
                    color=color, label=f"{SCORES[score]} ({SHORT[convention]})")
    ax.set_title("AUROC, MNIST-Test vs FashionMNIST-Test", fontsize=9)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlim(300, TARGET_STEPS * 1.3)
        ax.axvline(TARGET_STEPS, color="0.6", lw=0.8)
        ax.set_xlabel("iteration")
        ax.legend(fontsize=6.5)
    fig.suptitle(f"kappa = {kappa}: Table 1 against training length", fontsize=10)
    fig.text(0.5, 0.01, "grey vertical line: the paper's 200K iterations; dashed / dash-dot: power / log trend "
             "fitted from step 1000 and EXTRAPOLATED, bars at 200K: 95% bootstrap intervals", ha="center",
             fontsize=8)
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.17, top=0.88, wspace=0.22)
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
