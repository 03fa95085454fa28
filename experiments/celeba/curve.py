"""`infgrad celeba --curve`: the Figure 4 protocol (main text, section 4) against training length, from the
weights both arms keep at log-spaced steps (TrainConfig.keep_from; the `long` preset keeps them from step 100).

At every kept step of learned_gamma/ and fixed_gamma/ (read only): the held-out reconstruction error and
latent MMD^2 of experiments/celeba/metrics.py `evaluate` (the end-of-run evaluation of `infgrad celeba`,
same images, draws and seed) and gamma (decoder VARIANCE; std = its square root). The question: does the
reconstruction gap between the arms close with training, as Figure 4(a) reports at 40K iterations
(352.8 learned, 349.9 fixed), while the MMD ratio fixed / learned stays above 1 (paper: 291.8 / 93.3)?
Per-snapshot results are cached (experiments/core/snapshots.py): a killed evaluation resumes.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: the plots are written to files, the same on any machine
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from experiments.celeba.data import ImageSource, load_split  # noqa: E402
from experiments.celeba.metrics import evaluate  # noqa: E402
from experiments.celeba.net import CelebaVAE  # noqa: E402
from experiments.celeba.report import ARM_LABELS, ARMS, PAPER_FIGURE4A  # noqa: E402
from experiments.celeba.run import presets  # noqa: E402
from experiments.core.models import gamma_values  # noqa: E402
from experiments.core.snapshots import (add_curve_arguments, evaluate_snapshots,  # noqa: E402
                                        missing_steps, portable_path, run_config, time_note,
                                        training_time)
from experiments.core.trend import extrapolate  # noqa: E402

CURVE_JSON, CURVE_MD, CURVE_PNG = "curve.json", "curve.md", "curve.png"
TARGET_STEPS = presets()["paper"].train.iters  # the paper's 40K iterations per arm
# The ratios are fitted from step 1000 on: before it they are not monotone (in the long run the
# reconstruction gap grows from 14% at step 100 to 60% at step 200 before it falls).
FIT_FROM = 1000
_CACHE_VERSION = 1  # bump when the scores' definition changes: old cache files are then recomputed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = add_curve_arguments(parser, "OUT/learned_gamma and OUT/fixed_gamma")
    group.add_argument("--results", default=None, help="folder for curve.md, curve.json, curve.png (default: OUT)")


def score_state(state: dict, held_out, settings: dict, progress: bool = False) -> dict:
    """Held-out reconstruction error, MMD^2 and gamma of one snapshot (flat numbers for the cache)."""
    args = state["model_args"]
    model = CelebaVAE(size=args["size"], image_channels=args["image_channels"], kappa=args["kappa"],
                      width=args["width"])
    model.load_state_dict(state["model"])
    result = evaluate(model, held_out, batch_size=settings["eval_batch_size"], device="cpu",
                      mmd_repeats=settings["mmd_repeats"], seed=settings["seed"], progress=progress)
    return {"log_gamma_var": gamma_values(model.log_gamma_var)["log_gamma_var"], "rec_err": result["rec_err"],
            "rec_err_sem": result["rec_err_sem"], "mmd_mean": result["mmd"]["mean"],
            "mmd_std": result["mmd"]["std"], "mmd_sem": result["mmd"]["sem"],
            "active_dims": result["active_dims"]}


def _check_source(config: dict, source: ImageSource, size: int, run_dir: Path) -> None:
    if config.get("source") != source.describe() or config.get("size") != size:
        raise ValueError(f"--curve: {run_dir} was trained on {config.get('source')} at {config.get('size')}x"
                         f"{config.get('size')}, not on {source.describe()} at {size}x{size}")


def run_curve(args, source: ImageSource, size: int, mmd_repeats: int, progress: bool) -> int:
    """Evaluate both arms' snapshots, write curve.json, curve.md and curve.png."""
    out = Path(args.out)
    arms = {arm: out / arm for arm in ARMS if (out / arm / "config.json").is_file()}
    if "learned_gamma" not in arms:
        raise ValueError(f"--curve: no learned_gamma run folder in {out}")
    cache = Path(args.cache) if args.cache else out / "curve_cache"
    results_dir = Path(args.results) if args.results else out
    configs = {arm: run_config(path) for arm, path in arms.items()}
    for arm, path in arms.items():
        _check_source(configs[arm], source, size, path)
    config = configs["learned_gamma"]
    settings = {"version": _CACHE_VERSION, "eval_images": config["eval_images"], "seed": config["seed"],
                "eval_batch_size": config["eval_batch_size"], "mmd_repeats": mmd_repeats,
                "source": source.describe(), "size": size}
    held_out = load_split(source, "test", size, limit=config["eval_images"] or None, progress=progress)
    report = {"settings": settings, "arms": {}}
    for arm, run_dir in arms.items():
        print(f"[celeba --curve] {ARM_LABELS[arm]}: {run_dir}", file=sys.stderr)
        scores = evaluate_snapshots(run_dir, cache / arm, lambda s: score_state(s, held_out, settings, progress),
                                    settings, steps=args.steps, progress=progress, desc=f"{arm} snapshots")
        steps = [{"step": step, **{k: float(v) for k, v in s.items()}} for step, s in scores.items()]
        for s in steps:
            s.update(gamma_values(s["log_gamma_var"]))
        report["arms"][arm] = {"run_dir": portable_path(run_dir), "config": configs[arm], "steps": steps,
                               "missing_steps": missing_steps(run_dir, scores),
                               "training_time": training_time(run_dir)}
    report["comparison"] = compare_arms(report)
    report["extrapolation"] = extrapolate_ratios(report["comparison"])
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / CURVE_JSON).write_text(json.dumps(report, indent=2) + "\n")
    (results_dir / CURVE_MD).write_text(format_curve(report))
    plot_curve(report, results_dir / CURVE_PNG)
    print((results_dir / CURVE_MD).read_text())
    return 0


def compare_arms(report: dict) -> list[dict]:
    """At every step both arms were scored: the reconstruction gap fixed - learned (with the standard
    error of two independent means, conservative: both arms see the same images) and the MMD ratio
    fixed / learned with the z-score of the MMD difference (std over draws of each arm's mean)."""
    if "fixed_gamma" not in report["arms"]:
        return []
    learned = {s["step"]: s for s in report["arms"]["learned_gamma"]["steps"]}
    rows = []
    for f in report["arms"]["fixed_gamma"]["steps"]:
        l_ = learned.get(f["step"])
        if l_ is None:
            continue
        gap = f["rec_err"] - l_["rec_err"]
        gap_se = math.hypot(f["rec_err_sem"], l_["rec_err_sem"])
        mmd_se = math.hypot(f["mmd_sem"], l_["mmd_sem"])
        rows.append({"step": f["step"], "rec_gap": gap, "rec_gap_se": gap_se,
                     "rec_gap_relative": gap / l_["rec_err"],
                     "mmd_ratio": f["mmd_mean"] / l_["mmd_mean"] if l_["mmd_mean"] > 0 else float("nan"),
                     "mmd_difference_z": (f["mmd_mean"] - l_["mmd_mean"]) / mmd_se if mmd_se > 0 else float("nan")})
    return rows


def extrapolate_ratios(rows: list[dict]) -> dict:
    """The two ratios fixed / learned (reconstruction error, MMD^2) fitted in log from FIT_FROM on and
    continued to the paper's TARGET_STEPS (core/trend.py: power and log forms): an EXTRAPOLATION."""
    rows = [r for r in rows if r["step"] >= FIT_FROM]
    steps = np.array([r["step"] for r in rows], dtype=np.float64)
    series = {"rec_err_ratio": [1.0 + r["rec_gap_relative"] for r in rows],
              "mmd_ratio": [r["mmd_ratio"] for r in rows]}
    result = {}
    for name, values in series.items():
        if len(rows) < 3 or min(values) <= 0:
            result[name] = {"error": f"{len(rows)} common steps from {FIT_FROM} on: too few to fit"}
            continue
        result[name] = extrapolate(steps, np.log(values), TARGET_STEPS, repeats=500)
    return result


def _extrapolation_lines(fits: dict) -> list[str]:
    lines = [f"## Extrapolation of the ratios to {TARGET_STEPS:,} iterations (an EXTRAPOLATION, not a measurement)",
             "", f"log(ratio) fitted from step {FIT_FROM} on with a + b (t/t_max)^-c and a + b log(t/t_max) "
             "(experiments/core/trend.py); 95% interval: 500 bootstrap refits over the points; backtest: the "
             "form fitted without the last 2 points, largest miss on them (in log).", "",
             "| ratio fixed / learned | form | at 40K | bootstrap 95% | AIC | backtest miss (log) | paper (quoted) |",
             "|---|---|---|---|---|---|---|"]
    paper = {"rec_err_ratio": PAPER_FIGURE4A["fixed_gamma"]["rec_err"] / PAPER_FIGURE4A["learned_gamma"]["rec_err"],
             "mmd_ratio": PAPER_FIGURE4A["fixed_gamma"]["mmd"] / PAPER_FIGURE4A["learned_gamma"]["mmd"]}
    for name, forms in fits.items():
        if "error" in forms:
            lines.append(f"| {name} | - | not fitted: {forms['error']} | | | | {paper[name]:.3f} |")
            continue
        for form, fit in forms.items():
            if "error" in fit:
                lines.append(f"| {name} | {form} | not fitted: {fit['error']} | | | | {paper[name]:.3f} |")
                continue
            b, miss = fit["bootstrap"], fit.get("backtest", {}).get("max_abs_miss")
            band = "-" if "error" in b else f"{math.exp(b['p2.5']):.3f} - {math.exp(b['p97.5']):.3f}"
            lines.append(f"| {name} | {form} | {math.exp(fit['prediction']):.3f} | {band} | {fit['aic']:.1f} | "
                         f"{'-' if miss is None else f'{miss:.3f}'} | {paper[name]:.3f} |")
    return lines + [""]


def format_curve(report: dict) -> str:
    """curve.md: per-arm table over steps, the arm comparison over steps, and the answer to the question."""
    s = report["settings"]
    paper_l, paper_f = PAPER_FIGURE4A["learned_gamma"], PAPER_FIGURE4A["fixed_gamma"]
    lines = ["# Figure 4 protocol against training length (`infgrad celeba --curve`)", "",
             f"{s['source']} {s['size']}x{s['size']}; {s['eval_images']} held-out images; reconstruction error = "
             "per-image sum of squared errors on [0, 1] pixels at the posterior mean (mean +- s.e. over images); "
             f"MMD^2 between q(z) and N(0, I), mean +- std over {s['mmd_repeats']} draws "
             "(experiments/celeba/metrics.py). gamma: decoder variance (std in brackets).", ""]
    for arm, entry in report["arms"].items():
        c = entry["config"]
        lines += [f"## {ARM_LABELS[arm]} ({entry['run_dir']})", "",
                  f"{c['iters']:,} iterations, preset `{c.get('preset')}`. Not yet written by the run: "
                  f"{', '.join(map(str, entry['missing_steps'])) or 'none'}. {time_note(entry.get('training_time'))}",
                  "",
                  "| step | Rec. Err. | MMD^2 | gamma variance (std) | active dims |", "|---|---|---|---|---|"]
        for r in entry["steps"]:
            lines.append(f"| {r['step']} | {r['rec_err']:.2f} +- {r['rec_err_sem']:.2f} | {r['mmd_mean']:.4f} +- "
                         f"{r['mmd_std']:.4f} | {r['gamma_var']:.4g} ({r['gamma_std']:.4f}) | {r['active_dims']:.0f} |")
        lines.append("")
    rows = report["comparison"]
    lines += ["## The arms compared at equal steps", "",
              "| step | Rec. Err. gap fixed - learned (s.e.) | gap / learned | MMD^2 ratio fixed / learned | "
              "MMD difference / s.e. |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['step']} | {r['rec_gap']:+.2f} ({r['rec_gap_se']:.2f}) | "
                     f"{100 * r['rec_gap_relative']:+.1f}% "
                     f"| {r['mmd_ratio']:.3f} | {r['mmd_difference_z']:+.1f} |")
    lines.append(f"| paper, 40K (quoted) | {paper_f['rec_err'] - paper_l['rec_err']:+.1f} | "
                 f"{100 * (paper_f['rec_err'] / paper_l['rec_err'] - 1):+.1f}% | "
                 f"{paper_f['mmd'] / paper_l['mmd']:.3f} | - |")
    lines += ["", *verdict(rows), ""]
    if report.get("extrapolation"):
        lines += _extrapolation_lines(report["extrapolation"])
    return "\n".join(lines)


def verdict(rows: list[dict]) -> list[str]:
    """Plain statements: gap at the first and last common step, whether it shrank and whether it is within
    2 s.e. of 0 at the end; whether the MMD ratio stayed above 1 at every common step."""
    if not rows:
        return ["The gamma-fixed arm has no snapshots yet: no comparison."]
    first, last = rows[0], rows[-1]
    closes = abs(last["rec_gap"]) < abs(first["rec_gap"])
    closed = abs(last["rec_gap"]) < 2 * last["rec_gap_se"]
    above = all(r["mmd_ratio"] > 1 for r in rows)
    return [f"* Reconstruction gap (fixed - learned): {first['rec_gap']:+.2f} at step {first['step']}, "
            f"{last['rec_gap']:+.2f} ({100 * last['rec_gap_relative']:+.1f}%) at step {last['step']}: it "
            f"{'shrinks' if closes else 'does NOT shrink'}, and at the last step it is "
            f"{'within' if closed else 'NOT within'} 2 s.e. of zero.",
            f"* MMD^2 ratio fixed / learned: {'above 1 at every' if above else 'NOT above 1 at every'} common step "
            f"(from {first['mmd_ratio']:.3f} at step {first['step']} to {last['mmd_ratio']:.3f} at step "
            f"{last['step']})."]


def plot_curve(report: dict, path: str | Path) -> Path:
    """Reconstruction error, MMD^2 (error bars: std over draws) and gamma against log iterations, both arms;
    the paper's reconstruction errors are on another scale (CelebA 128x128), so they are not drawn."""
    colors = {"learned_gamma": "tab:blue", "fixed_gamma": "tab:red"}
    fig, axes = plt.subplots(1, 4, figsize=(19, 4))
    for arm, entry in report["arms"].items():
        steps = np.array([r["step"] for r in entry["steps"]])
        get = lambda key: np.array([r[key] for r in entry["steps"]])  # noqa: E731
        axes[0].errorbar(steps, get("rec_err"), yerr=get("rec_err_sem"), fmt="o-", ms=3, color=colors[arm],
                         label=ARM_LABELS[arm])
        axes[1].errorbar(steps, get("mmd_mean"), yerr=get("mmd_std"), fmt="o-", ms=3, color=colors[arm],
                         label=ARM_LABELS[arm])
        axes[2].plot(steps, get("gamma_var"), "o-", ms=3, color=colors[arm], label=ARM_LABELS[arm])
    titles = ("held-out reconstruction error (per-image SSE)", "MMD^2 between q(z) and N(0, I)",
              "gamma (decoder variance)")
    for ax, title in zip(axes, titles):
        ax.set_xscale("log")
        ax.set_xlabel("iteration")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    for ax in axes[:3]:
        ax.set_yscale("log")
    ax = axes[3]  # the two questions: does the reconstruction ratio reach 1 while the MMD ratio stays above?
    rows = report["comparison"]
    if rows:
        steps = [r["step"] for r in rows]
        ax.plot(steps, [1 + r["rec_gap_relative"] for r in rows], "o-", ms=3, color="tab:green",
                label="Rec. Err. fixed / learned")
        ax.plot(steps, [r["mmd_ratio"] for r in rows], "s-", ms=3, color="tab:purple", label="MMD^2 fixed / learned")
        paper = PAPER_FIGURE4A
        ax.axhline(paper["fixed_gamma"]["rec_err"] / paper["learned_gamma"]["rec_err"], color="tab:green",
                   ls=":", label="paper, Rec. Err. ratio (40K)")
        ax.axhline(paper["fixed_gamma"]["mmd"] / paper["learned_gamma"]["mmd"], color="tab:purple", ls=":",
                   label="paper, MMD ratio (40K, its own scale)")
    ax.axhline(1.0, color="0.5", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("iteration")
    ax.set_title("fixed / learned at equal steps", fontsize=9)
    ax.legend(fontsize=7)
    fig.suptitle("Figure 4 protocol against training length", fontsize=10)
    fig.subplots_adjust(left=0.04, right=0.99, bottom=0.13, top=0.87, wspace=0.22)
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
