"""`infgrad outlier`: Table 1 of the supplement (section 6), FashionMNIST inliers vs MNIST outliers.

For each kappa: train the section-7 VAE (outlier.model.OutlierVAE) with a learned gamma on FashionMNIST-Train
(32x32, zero-padded), then score FashionMNIST-Train/-Test and MNIST-Test in bits per dimension.
gamma conventions: the theory's gamma is a VARIANCE; Table 1's gamma row reads as a standard
deviation (main_text_notes.md), so we report both and label the table row "std".
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

from experiments.core import datasets
from experiments.core.cli import add_config_arguments, check_out, config_from_args
from experiments.core.evaluate import auroc, per_image_bpd, summarize
from experiments.core.train import leave_distributed, seed_everything, setup_distributed, train
from experiments.outlier.model import OutlierVAE
from experiments.outlier.presets import PRESETS
from experiments.outlier.report import format_table, plot_histograms

RESULTS_JSON, TABLE_MD, HISTOGRAM_PNG = "results.json", "table.md", "bpd_histograms.png"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kappa", type=int, nargs="+", default=[16, 32, 64, 128, 256, 512],
                        help="latent dimensions to train, one run folder each (Table 1: 16 ... 512)")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="quick",
                        help="paper: 200K iterations (GPU); quick: ~10 min per kappa on a 2-core CPU; "
                             "smoke: seconds")
    parser.add_argument("--data-dir", default=None,
                        help="FashionMNIST IDX folder (or a parent with fashion-mnist/ and mnist/); "
                             "default: INFGRAD_FASHION_MNIST_DIR, /usr/share/datasets/fashion-mnist, "
                             "or the download cache")
    parser.add_argument("--mnist-dir", default=None,
                        help="MNIST IDX folder (t10k files); default: DATA_DIR/mnist if present, "
                             "else INFGRAD_MNIST_DIR or the download cache")
    parser.add_argument("--out", default="outlier_runs", help="output folder (one run folder per kappa)")
    parser.add_argument("--results", default=None,
                        help="folder for results.json, table.md and the histogram PNG (small files "
                             "worth keeping); default: --out")
    parser.add_argument("--resume", action="store_true",
                        help="continue the runs in --out from their checkpoints")
    parser.add_argument("--force", action="store_true", help="delete earlier results in --out first")
    parser.add_argument("--no-download", action="store_true",
                        help="never download missing data (error instead)")
    add_config_arguments(parser, PRESETS)


def _load_images(args):
    """FashionMNIST train/test and MNIST test as (N, 1, 32, 32) float tensors in [0, 1]."""
    fashion_dir = args.data_dir
    mnist_dir = args.mnist_dir
    if mnist_dir is None and fashion_dir is not None and (Path(fashion_dir) / "mnist").is_dir():
        mnist_dir = Path(fashion_dir) / "mnist"
    if fashion_dir is not None and not Path(fashion_dir).is_dir():
        raise datasets.DataError(f"--data-dir {fashion_dir}: folder does not exist; "
                                 f"{datasets.how_to_get('fashion-mnist', offer_download=False)}")
    download = not args.no_download
    fashion = datasets.load_fashion_mnist
    return {
        "FashionMNIST-Train": datasets.pad_to_32(fashion("train", fashion_dir, download)[0]),
        "FashionMNIST-Test": datasets.pad_to_32(fashion("test", fashion_dir, download)[0]),
        "MNIST-Test": datasets.pad_to_32(datasets.load_mnist("test", mnist_dir, download)[0]),
    }


def run(args) -> int:
    if args.preset not in PRESETS:
        raise ValueError(f"unknown preset {args.preset!r}; choose from {', '.join(PRESETS)}")
    config = config_from_args(args, PRESETS[args.preset])
    kappas = list(dict.fromkeys(args.kappa))
    if any(k < 1 for k in kappas):
        raise ValueError(f"--kappa values must be positive integers, got {args.kappa}")
    out = Path(args.out)
    results_dir = Path(args.results) if args.results else out
    check_out(out, [results_dir / RESULTS_JSON, *(out / f"kappa_{k}" for k in kappas)],
              args.resume, args.force)
    if args.force and (results_dir / RESULTS_JSON).exists():
        (results_dir / RESULTS_JSON).unlink()
    images = _load_images(args)
    rank, _, device = setup_distributed(config.device)
    n_eval = config.eval_images

    arguments = {k: v for k, v in vars(args).items()
                 if k in ("kappa", "preset", "data_dir", "mnist_dir", "out", "resume", "force")}
    results = {"preset": args.preset, "config": asdict(config), "arguments": arguments,
               "kappa": {}}
    histograms = {}
    for kappa in kappas:
        run_dir = out / f"kappa_{kappa}"
        if rank == 0:
            print(f"[outlier] kappa={kappa}: training in {run_dir}", file=sys.stderr)
        seed_everything(config.seed)
        model = OutlierVAE(kappa)
        result = train(model, images["FashionMNIST-Train"], config, run_dir, resume=args.resume,
                       force=args.force, model_args={"model": "OutlierVAE", "kappa": kappa,
                                                     "preset": args.preset})
        if result["interrupted"]:
            print(f"infgrad outlier: interrupted at step {result['step']} of kappa={kappa}; "
                  f"checkpoint saved in {run_dir}; rerun with --resume to continue", file=sys.stderr)
            leave_distributed()
            return 130
        if rank != 0:
            continue
        cached = run_dir / "eval.json"
        if args.resume and cached.exists() and (run_dir / "bpd_per_image.npz").exists():
            # a finished kappa of a resumed run: its (seeded, deterministic) evaluation is on disk
            results["kappa"][str(kappa)] = json.loads(cached.read_text())
            with np.load(run_dir / "bpd_per_image.npz") as saved:
                histograms[kappa] = {n: saved[f"{n}_elbo"] for n in ("FashionMNIST-Test", "MNIST-Test")}
            continue
        # evaluation: the first eval_images of each set (0 = all), ELBO and IW bound per image
        scores = {}
        for name, tensor in images.items():
            subset = tensor if n_eval == 0 else tensor[:n_eval]
            scores[name] = per_image_bpd(model, subset, iw_samples=config.iw_samples,
                                         batch_size=config.eval_batch_size, device=device,
                                         seed=config.seed, progress=config.progress,
                                         desc=f"kappa={kappa} {name}")
        np.savez_compressed(run_dir / "bpd_per_image.npz",
                            **{f"{name}_{kind}": v for name, s in scores.items() for kind, v in s.items()})
        log_gamma_var = float(model.log_gamma_var.detach())
        entry = {"steps": result["step"], "log_gamma_var": log_gamma_var,
                 "gamma_var": math.exp(log_gamma_var), "gamma_std": math.exp(0.5 * log_gamma_var),
                 "bpd_elbo": {n: summarize(s["elbo"]) for n, s in scores.items()},
                 "bpd_iw": {n: summarize(s["iw"]) for n, s in scores.items()},
                 "auroc_mnist_vs_fashion_test": {
                     kind: auroc(scores["FashionMNIST-Test"][kind], scores["MNIST-Test"][kind])
                     for kind in ("elbo", "iw")}}
        results["kappa"][str(kappa)] = entry
        histograms[kappa] = {n: scores[n]["elbo"] for n in ("FashionMNIST-Test", "MNIST-Test")}
        (run_dir / "eval.json").write_text(json.dumps(entry, indent=2) + "\n")

    if rank == 0:
        results_dir.mkdir(parents=True, exist_ok=True)
        (results_dir / RESULTS_JSON).write_text(json.dumps(results, indent=2) + "\n")
        (results_dir / TABLE_MD).write_text(format_table(results))
        plot_histograms(histograms, results_dir / HISTOGRAM_PNG,
                        title=f"Per-image BPD (negative ELBO), preset {args.preset}")
        print((results_dir / TABLE_MD).read_text())
    leave_distributed()  # the other ranks wait for rank 0's evaluation before leaving
    return 0
