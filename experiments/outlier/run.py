"""`infgrad outlier`: Table 1 of the supplement (section 6), FashionMNIST inliers vs MNIST outliers.

For each kappa: train the section-7 VAE (outlier.model.OutlierVAE) with a learned gamma on FashionMNIST-Train
(32x32, zero-padded), then score FashionMNIST-Train/-Test and MNIST-Test in bits per dimension.
gamma conventions: the theory's gamma is a VARIANCE; Table 1's gamma row reads as a standard
deviation, so we report both and label the table row "std". Why: with gamma at its optimum (Eq. 16,
the mean squared error per pixel) the negative ELBO per pixel is about 0.5 log(2 pi gamma) + 0.5 nats,
so kappa = 64's gamma 0.0030 gives 1.67 bits/dim plus the KL's share if it is a standard deviation
(gamma = 9e-6), near Table 1's 2.084, but 5.86 if it is the variance.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from experiments.core import datasets
from experiments.core.cli import (add_config_arguments, add_output_arguments, check_out, config_from_args,
                                  override)
from experiments.core.device import check_model_fits
from experiments.core.evaluate import auroc, per_image_bpd, summarize
from experiments.core.flops import step_seconds, time_estimate, vae_flops
from experiments.core.models import gamma_values
from experiments.core.parallel import run_processes
from experiments.core.train import TrainConfig, leave_distributed, seed_everything, setup_distributed, train
from experiments.outlier.arms import gamma_star_from
from experiments.outlier.model import OutlierVAE
from experiments.outlier.presets import PRESETS
from experiments.outlier.report import format_table, plot_histograms

RESULTS_JSON, TABLE_MD, HISTOGRAM_PNG = "results.json", "table.md", "bpd_histograms.png"
EVAL_JSON, BPD_NPZ = "eval.json", "bpd_per_image.npz"  # a kappa's evaluation, in its run folder
SET_SIZES = {"FashionMNIST-Train": 60_000, "FashionMNIST-Test": 10_000, "MNIST-Test": 10_000}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kappa", type=int, nargs="+", default=[16, 32, 64, 128, 256, 512],
                        help="latent dimensions to train, one run folder each (default: Table 1's "
                             "16 32 64 128 256 512)")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="quick",
                        help="paper: 200K iterations (GPU); long: 24K; quick: 2K (minutes per kappa on a "
                             "CPU); smoke: seconds. Every run prints its time estimate before it "
                             "starts; measured times: README (default: quick)")
    parser.add_argument("--data-dir", default=None,
                        help="FashionMNIST IDX folder (or a parent with fashion-mnist/ and mnist/); "
                             "default: INFGRAD_FASHION_MNIST_DIR, /usr/share/datasets/fashion-mnist, "
                             "or the download cache")
    parser.add_argument("--mnist-dir", default=None,
                        help="MNIST IDX folder (t10k files); default: DATA_DIR/mnist if present, "
                             "else INFGRAD_MNIST_DIR or the download cache")
    add_output_arguments(parser, "outlier_runs", "one run folder per kappa")
    parser.add_argument("--results", default=None,
                        help="folder for results.json, table.md and the histogram PNG (small files "
                             "worth keeping); default: --out")
    parser.add_argument("--no-download", action="store_true",
                        help="never download missing data, stop with an error instead (default: off)")
    parser.add_argument("--parallel-kappa", action="store_true",
                        help="train every kappa at once, one process each (e.g. all six on one GPU); "
                             "their output goes to --out/logs/kappa_K.log (default: off, one after another)")
    # a child of --parallel-kappa trains and evaluates its kappa; the parent writes the report
    parser.add_argument("--skip-report", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fixed-gamma-from", default=None, metavar="WEIGHTS",
                        help="train with gamma FIXED at the learned gamma* of another run of the same "
                             "kappa: a snapshots/step_*.pt or checkpoint.pt file, or a finished run folder "
                             "(default: none, gamma is learned)")
    add_config_arguments(parser, PRESETS)
    from experiments.outlier import curve  # the --curve options (scoring kept weights, no training)

    curve.add_arguments(parser)


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


def plan(preset: str, config: TrainConfig, kappas: list[int]) -> str:
    """The line printed before the runs start: what will be trained and evaluated, and how long
    that takes here (FLOPs counted per kappa, at the rate of one timed step of the largest kappa)."""
    n_eval = sum(min(config.eval_images or n, n) for n in SET_SIZES.values())
    flops = 0.0
    for kappa in kappas:
        per = vae_flops(lambda: OutlierVAE(kappa), (1, 32, 32))
        # evaluation per image: the ELBO pass (encode, decode) and the K-sample bound (encode, K decodes)
        flops += config.iters * config.batch_size * per.train + n_eval * (
            2 * per.encode + (config.iw_samples + 1) * per.decode)
    build = lambda: OutlierVAE(max(kappas))
    step_s = step_seconds(build, (1, 32, 32), config.batch_size, torch.device(config.device),
                          config.precision)
    cost = time_estimate(flops, config.batch_size * vae_flops(build, (1, 32, 32)).train, step_s)
    return (f"[outlier] preset {preset}: kappa {' '.join(map(str, kappas))}, {config.iters} iterations "
            f"each at batch {config.batch_size} on {config.device}, then BPD of {n_eval} images "
            f"(K = {config.iw_samples}); {cost}")


def _cached_entry(run_dir: Path) -> tuple[dict, dict] | None:
    """A trained kappa's evaluation as saved in its run folder: (results entry, histograms), or None."""
    if not ((run_dir / EVAL_JSON).exists() and (run_dir / BPD_NPZ).exists()):
        return None
    with np.load(run_dir / BPD_NPZ) as saved:
        histograms = {n: saved[f"{n}_elbo"] for n in ("FashionMNIST-Test", "MNIST-Test")}
    return json.loads((run_dir / EVAL_JSON).read_text()), histograms


def _child_command(args, config: TrainConfig, kappa: int) -> list[str]:
    """The `infgrad outlier` command that trains and evaluates one kappa of a --parallel-kappa run."""
    words = [sys.executable, "-m", "infgrad", "outlier", "--kappa", str(kappa), "--preset", args.preset,
             "--out", str(args.out), "--skip-report"]
    for name in ("data_dir", "mnist_dir", "fixed_gamma_from"):
        if getattr(args, name, None) is not None:
            words += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    words += [f"--{name.replace('_', '-')}" for name in ("resume", "force", "no_download")
              if getattr(args, name)]
    changed = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)
               if getattr(config, f.name) != getattr(PRESETS[args.preset], f.name)}
    changed["progress"] = False  # one bar per process would garble a shared terminal
    return words + [f"--{k.replace('_', '-')}={v}" for k, v in changed.items()]


def _run_in_parallel(args, config: TrainConfig, kappas: list[int], out: Path) -> None:
    """Every kappa in its own process (see run_processes); a failed or interrupted kappa stops the
    command with one line (its log has the rest)."""
    labels = {f"kappa={k}": k for k in kappas}
    codes = run_processes({label: _child_command(args, config, k) for label, k in labels.items()},
                          {label: out / "logs" / f"kappa_{k}.log" for label, k in labels.items()},
                          append=args.resume, prefix="[outlier] ")
    if len(codes) < len(labels) or any(code in (130, -2, -15) for code in codes.values()):
        raise KeyboardInterrupt  # a child checkpointed and stopped: rerun with --resume
    failed = [f"{label} (exit {code})" for label, code in codes.items() if code != 0]
    if failed:
        raise ValueError(f"{', '.join(failed)} failed; see {out / 'logs'}")


def run(args) -> int:
    if args.preset not in PRESETS:
        raise ValueError(f"unknown preset {args.preset!r}; choose from {', '.join(PRESETS)}")
    if getattr(args, "curve", False):
        from experiments.outlier.curve import run_curve

        return run_curve(args, _load_images)
    config = config_from_args(args, PRESETS[args.preset])
    kappas = list(dict.fromkeys(args.kappa))
    if any(k < 1 for k in kappas):
        raise ValueError(f"--kappa values must be positive integers, got {args.kappa}")
    if args.parallel_kappa and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise ValueError("--parallel-kappa starts its own processes: do not combine it with torchrun")
    fixed = None
    if getattr(args, "fixed_gamma_from", None) is not None:
        if len(kappas) != 1:
            raise ValueError("--fixed-gamma-from takes one --kappa, the one of the run it reads gamma* from")
        fixed = gamma_star_from(args.fixed_gamma_from, kappas[0])
        config = override(config, learn_gamma=False, log_gamma_var_init=fixed["log_gamma_var"])
    out = Path(args.out)
    results_dir = Path(args.results) if args.results else out
    report = not args.skip_report
    # every output checked before any data is read, folder written or model built
    earlier = [results_dir / RESULTS_JSON] if report else []
    check_out(out, [*earlier, *(out / f"kappa_{k}" for k in kappas)], args.resume, args.force,
              folders=(("--results", results_dir),), runs=sorted(out.glob("kappa_*")))
    for kappa in kappas:
        check_model_fits(lambda: OutlierVAE(kappa), torch.device(config.device), f"--kappa {kappa}")
    images = _load_images(args)  # the data is checked here too, before any process starts
    if args.force and report:
        (results_dir / RESULTS_JSON).unlink(missing_ok=True)
    rank, _, device = setup_distributed(config.device)
    if rank == 0 and report:
        print(plan(args.preset, config, kappas), file=sys.stderr)

    if args.parallel_kappa:
        del images  # each process reads its own
        _run_in_parallel(args, config, kappas, out)
        done = {kappa: _cached_entry(out / f"kappa_{kappa}") for kappa in kappas}
    else:
        done = _train_and_evaluate(args, config, kappas, images, out, rank, device, fixed)
        if done is None:
            leave_distributed()
            return 130
    if rank == 0 and report:
        arguments = {k: v for k, v in vars(args).items()
                     if k in ("kappa", "preset", "data_dir", "mnist_dir", "out", "resume", "force")}
        results = {"preset": args.preset, "config": asdict(config), "arguments": arguments,
                   "kappa": {str(kappa): entry for kappa, (entry, _) in done.items()}}
        results_dir.mkdir(parents=True, exist_ok=True)
        (results_dir / RESULTS_JSON).write_text(json.dumps(results, indent=2) + "\n")
        (results_dir / TABLE_MD).write_text(format_table(results))
        plot_histograms({kappa: histograms for kappa, (_, histograms) in done.items()},
                        results_dir / HISTOGRAM_PNG,
                        title=f"Per-image BPD (negative ELBO), preset {args.preset}")
        print((results_dir / TABLE_MD).read_text())
    leave_distributed()  # the other ranks wait for rank 0's evaluation before leaving
    return 0


def _train_and_evaluate(args, config: TrainConfig, kappas: list[int], images: dict, out: Path,
                        rank: int, device, fixed: dict | None = None) -> dict[int, tuple[dict, dict]] | None:
    """Each kappa in turn in this process: train, then evaluate on rank 0 (or read the evaluation
    of a finished kappa of a resumed run). Returns kappa -> (results entry, histograms), empty on
    the other ranks, None when interrupted (the checkpoint is saved)."""
    done = {}
    for kappa in kappas:
        run_dir = out / f"kappa_{kappa}"
        if rank == 0:
            print(f"[outlier] kappa={kappa}: training in {run_dir}", file=sys.stderr)
        seed_everything(config.seed)
        model = OutlierVAE(kappa)
        result = train(model, images["FashionMNIST-Train"], config, run_dir, resume=args.resume,
                       force=args.force, model_args={"model": "OutlierVAE", "kappa": kappa,
                                                     "preset": args.preset, **({
                                                         "gamma_star_from": fixed["source"],
                                                         "gamma_star_step": fixed["step"]} if fixed else {})})
        if result["interrupted"]:
            print(f"infgrad outlier: interrupted at step {result['step']} of kappa={kappa}; "
                  f"checkpoint saved in {run_dir}; rerun with --resume to continue", file=sys.stderr)
            return None
        if rank != 0:
            continue
        # a finished kappa of a resumed run: its (seeded, deterministic) evaluation is on disk
        cached = _cached_entry(run_dir) if args.resume else None
        done[kappa] = cached or _evaluate(model, images, config, device, kappa, result["step"], run_dir)
    return done


def _evaluate(model, images: dict, config: TrainConfig, device, kappa: int, steps: int,
              run_dir: Path) -> tuple[dict, dict]:
    """The first eval_images of each set (0 = all), ELBO and IW bound per image; saved in run_dir
    (eval.json, bpd_per_image.npz). Returns (results entry, histograms)."""
    n_eval = config.eval_images
    scores = {}
    for name, tensor in images.items():
        subset = tensor if n_eval == 0 else tensor[:n_eval]
        scores[name] = per_image_bpd(model, subset, iw_samples=config.iw_samples,
                                     batch_size=config.eval_batch_size, device=device,
                                     seed=config.seed, progress=config.progress,
                                     desc=f"kappa={kappa} {name}")
    np.savez_compressed(run_dir / BPD_NPZ,
                        **{f"{name}_{kind}": v for name, s in scores.items() for kind, v in s.items()})
    entry = {"steps": steps, **gamma_values(model.log_gamma_var),
             "bpd_elbo": {n: summarize(s["elbo"]) for n, s in scores.items()},
             "bpd_iw": {n: summarize(s["iw"]) for n, s in scores.items()},
             "auroc_mnist_vs_fashion_test": {
                 kind: auroc(scores["FashionMNIST-Test"][kind], scores["MNIST-Test"][kind])
                 for kind in ("elbo", "iw")}}
    (run_dir / EVAL_JSON).write_text(json.dumps(entry, indent=2) + "\n")
    return entry, {n: scores[n]["elbo"] for n in ("FashionMNIST-Test", "MNIST-Test")}
