"""`infgrad outlier --curve`: Table 1 (supplement section 6) against training length, from the weights a run
keeps at log-spaced steps (TrainConfig.keep_from), and the outlier scores of later likelihood work.

At every kept step of each run folder OUT/kappa_K (and of a gamma-fixed arm, `--fixed-out`): per-image
BPD of FashionMNIST-Train/-Test and MNIST-Test from the negative ELBO and the importance-weighted bound,
each under two input conventions (core/evaluate.dequantize): the pixels v/255 as given (the paper's
Table 1) and uniformly dequantized; gamma (decoder variance and std); AUROC of MNIST-Test against
FashionMNIST-Test for BPD and for BPD minus a lossless compressor's bits per dimension (PNG, zlib: the
input-complexity score of Serra et al., ICLR 2020). The run's own evaluation settings are used (its
config.json: eval_images, iw_samples, eval_batch_size, seed). Per-snapshot scores are cached
(core/snapshots.py): a killed evaluation resumes where it stopped; run folders are only read.
Tables, plots and the extrapolation to 200K iterations: experiments/outlier/curve_report.py.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from experiments.core.cli import config_from_args
from experiments.core.evaluate import (COMPRESSORS, auroc, compressor_bpd, dequantize, per_image_bpd,
                                       summarize)
from experiments.core.models import gamma_values
from experiments.core.snapshots import (add_curve_arguments, evaluate_snapshots, missing_steps, portable_path,
                                        run_config, training_time)
from experiments.outlier.model import OutlierVAE
from experiments.outlier.presets import PRESETS
from experiments.outlier.report import SETS

CONVENTIONS = {"as_given": "", "dequantized": "_deq"}  # key suffix of the cached per-image scores
CONVENTION_LABELS = {"as_given": "no dequantization (density at v/255)",
                     "dequantized": "uniform dequantization (v/255 + u/256)"}
BOUNDS = ("elbo", "iw")
CURVE_JSON, CURVE_MD = "curve.json", "curve.md"
_CACHE_VERSION = 1  # bump when the scores' definition changes: old cache files are then recomputed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = add_curve_arguments(parser, "the run folders OUT/kappa_K")
    group.add_argument("--fixed-out", default=None,
                       help="the --out of a --fixed-gamma-from run: its kappa_K folders are scored as the "
                            "gamma-fixed arm beside the learned-gamma runs of OUT (default: none, no gamma-fixed arm)")


def dequantization_seed(seed: int, set_index: int) -> int:
    """The u of set `set_index` (in SETS order) comes from seed + 1 + index: other draws than the
    model's noise (seeded with `seed`), one per set."""
    return seed + 1 + set_index


def score_state(state: dict, images: dict, settings: dict, progress: bool = False) -> dict:
    """Per-image BPD of every set, bound and convention for one snapshot: {"SET__elbo", "SET__iw",
    "SET__elbo_deq", "SET__iw_deq": (N,) arrays, "log_gamma_var": float}. `images`: {set: (plain,
    dequantized)} tensors; the model noise is seeded as in the run's own evaluation (outlier/run.py)."""
    model = OutlierVAE(int(state["model_args"]["kappa"]))
    model.load_state_dict(state["model"])
    scores = {"log_gamma_var": gamma_values(model.log_gamma_var)["log_gamma_var"]}
    for name, pair in images.items():
        for convention, suffix in CONVENTIONS.items():
            tensor = pair[0] if convention == "as_given" else pair[1]
            bpd = per_image_bpd(model, tensor, iw_samples=settings["iw_samples"],
                                batch_size=settings["eval_batch_size"], seed=settings["seed"],
                                progress=progress, desc=f"step {state['step']} {name}{suffix}")
            for bound in BOUNDS:
                scores[f"{name}__{bound}{suffix}"] = bpd[bound]
    return scores


def summarize_step(step: int, scores: dict, compressor: dict) -> dict:
    """The numbers of one snapshot: gamma, mean BPD per convention / set / bound, AUROCs.

    `compressor`: {codec: {set: (N,) bits per dimension}}. AUROC keys: a bound ("elbo", "iw") for BPD,
    "iw-png" / "iw-zlib" for BPD minus the compressor's bits (Serra et al.'s S(x))."""
    entry = {"step": step, **gamma_values(float(scores["log_gamma_var"])), "bpd": {}, "auroc": {}}
    for convention, suffix in CONVENTIONS.items():
        entry["bpd"][convention] = {name: {bound: summarize(scores[f"{name}__{bound}{suffix}"])
                                           for bound in BOUNDS} for name in SETS}
        inlier, outlier = "FashionMNIST-Test", "MNIST-Test"
        for bound in BOUNDS:
            entry["auroc"].setdefault(bound, {})[convention] = auroc(
                scores[f"{inlier}__{bound}{suffix}"], scores[f"{outlier}__{bound}{suffix}"])
        for codec in COMPRESSORS:
            entry["auroc"].setdefault(f"iw-{codec}", {})[convention] = auroc(
                scores[f"{inlier}__iw{suffix}"] - compressor[codec][inlier],
                scores[f"{outlier}__iw{suffix}"] - compressor[codec][outlier])
    return entry


def _eval_images(images: dict, n_eval: int, seed: int) -> dict:
    """The first n_eval images of each set (0 = all), plain and dequantized."""
    chosen = {name: (t if n_eval == 0 else t[:n_eval]) for name, t in images.items()}
    return {name: (t, dequantize(t, dequantization_seed(seed, i))) for i, (name, t) in enumerate(chosen.items())}


def evaluate_run(run_dir: Path, cache_dir: Path, all_images: dict, progress: bool, steps=None) -> dict:
    """Score the snapshots of one run folder; {"run_dir", "config", "steps": [summaries], "missing_steps",
    "compressor_bpd": {codec: {set: mean}}}."""
    config = run_config(run_dir)
    settings = {"version": _CACHE_VERSION, "kappa": config["kappa"], "eval_images": config["eval_images"],
                "iw_samples": config["iw_samples"], "eval_batch_size": config["eval_batch_size"],
                "seed": config["seed"]}
    images = _eval_images(all_images, config["eval_images"], config["seed"])
    compressor = {codec: {name: compressor_bpd(pair[0], codec) for name, pair in images.items()}
                  for codec in COMPRESSORS}
    scores = evaluate_snapshots(run_dir, cache_dir, lambda state: score_state(state, images, settings, progress),
                                settings, steps=steps, progress=progress, desc=f"{run_dir.name} snapshots")
    return {"run_dir": portable_path(run_dir), "config": _portable_config(config), "settings": settings,
            "steps": [summarize_step(step, s, compressor) for step, s in scores.items()],
            "missing_steps": missing_steps(run_dir, scores), "training_time": training_time(run_dir),
            "compressor_bpd": {codec: {name: summarize(v) for name, v in per_set.items()}
                               for codec, per_set in compressor.items()},
            # the compressor alone as a (model-free) detector: fewer bits = more outlying
            "compressor_only_auroc": {codec: auroc(-per_set["FashionMNIST-Test"], -per_set["MNIST-Test"])
                                      for codec, per_set in compressor.items()}}


def _portable_config(config: dict) -> dict:
    """The run's config with the gamma-fixed arm's source weights named by portable_path (run folder
    onward: runs/outlier_long/kappa_64/snapshots/step_0002000.pt)."""
    if "gamma_star_from" not in config:
        return config
    return {**config, "gamma_star_from": portable_path(config["gamma_star_from"], keep=5)}


def run_curve(args, load_images) -> int:
    """`infgrad outlier --curve`: score, then write curve.json, curve.md and one plot per kappa."""
    from experiments.outlier import curve_report

    out = Path(args.out)
    arms = {"learned_gamma": out}
    if args.fixed_out is not None:
        arms["fixed_gamma"] = Path(args.fixed_out)
    folders = {(arm, k): root / f"kappa_{k}" for arm, root in arms.items() for k in dict.fromkeys(args.kappa)}
    present = {key: path for key, path in folders.items() if (path / "config.json").is_file()}
    for key, path in folders.items():
        if key not in present:
            print(f"[outlier --curve] skipping {path}: not a run folder (yet)", file=sys.stderr)
    if not present:
        raise ValueError(f"--curve: no run folder kappa_K under {', '.join(map(str, arms.values()))}")
    cache = Path(args.cache) if args.cache else out / "curve_cache"
    results_dir = Path(args.results) if args.results else out
    images = load_images(args)
    progress = config_from_args(args, PRESETS[args.preset]).progress
    report = {"arms": {}}
    for (arm, kappa), run_dir in present.items():
        print(f"[outlier --curve] {arm} kappa={kappa}: {run_dir}", file=sys.stderr)
        entry = evaluate_run(run_dir, cache / arm / f"kappa_{kappa}", images, progress, args.steps)
        if not entry["steps"]:
            print(f"[outlier --curve] {run_dir}: no snapshots yet", file=sys.stderr)
            continue
        report["arms"].setdefault(arm, {})[str(kappa)] = entry
    if not report["arms"].get("learned_gamma"):
        raise ValueError(f"--curve: the run folders under {out} hold no snapshots yet")
    results_dir.mkdir(parents=True, exist_ok=True)
    report["extrapolation"] = curve_report.extrapolations(report)
    (results_dir / CURVE_JSON).write_text(json.dumps(report, indent=2, default=_json_default) + "\n")
    (results_dir / CURVE_MD).write_text(curve_report.format_curve(report))
    for kappa in report["arms"]["learned_gamma"]:
        curve_report.plot_curve(report, int(kappa), results_dir / f"curve_kappa_{kappa}.png")
    print((results_dir / CURVE_MD).read_text())
    return 0


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serializable: {type(value)}")
