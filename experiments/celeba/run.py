"""`infgrad celeba`: main-text Figure 4 (section 4), learned gamma against gamma fixed at gamma*, with
the network of supplement section 7 (experiments/celeba/net.py) trained by experiments/core/train.py.

Arm 1 learns gamma (the decoder VARIANCE, in log space); its final value is gamma*. Arm 2 retrains the
same network from scratch (same seed, same data order, same noise) with gamma FIXED at gamma*. Both
log per iteration gamma, ||dL/dz||_2, encoder / decoder gradient norms, the loss terms and the active
latent dimensions; at the end the held-out reconstruction error and the latent MMD (experiments/core/mmd.py).
Optional (`--gamma-floors F ...`): one more arm per floor F, learning gamma clamped below at the
variance F (TrainConfig.gamma_var_floor), same seed, data order and noise, run folder floor_<F>.
Definitions of every quantity: experiments/celeba/metrics.py.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import shlex
import shutil
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from experiments.celeba.data import ImageSource, load_split
from experiments.celeba.metrics import IterationMetrics, curve_summary, evaluate
from experiments.celeba.net import CelebaVAE
from experiments.celeba.report import (ARMS, BARS_PNG, CURVES_PNG, FLOOR_PREFIX, arm_label,
                                       floor_arm, format_summary, plot_bars, plot_curves)
from experiments.core.cli import add_config_arguments, add_output_arguments, check_out, config_from_args
from experiments.core.device import check_model_fits, torch_threads
from experiments.core.flops import step_seconds, time_estimate, vae_flops
from experiments.core.models import gamma_values
from experiments.core.runs import read_metrics
from experiments.core.train import (TrainConfig, leave_distributed, seed_everything,
                                    setup_distributed, train)

RESULTS_JSON, SUMMARY_MD = "results.json", "summary.md"


def check_floors(floors) -> list[float]:
    """--gamma-floors as a list of distinct positive finite variances (ValueError otherwise)."""
    floors = [float(f) for f in floors or ()]
    for floor in floors:
        if not (math.isfinite(floor) and floor > 0):
            raise ValueError(f"--gamma-floors {floor}: each floor is a decoder variance, finite and > 0")
    if len(set(floors)) != len(floors):
        raise ValueError(f"--gamma-floors {' '.join(map(str, floors))}: a floor is repeated")
    return floors


@dataclass(frozen=True)
class CelebaPreset:
    """A training configuration (TrainConfig: iters, lr, ...; its eval_images is the number of
    held-out images scored, 0 = all) plus what only this experiment needs."""

    train: TrainConfig
    width: float = 1.0            # channel-width factor of celeba/net.py (1 = the paper's widths)
    train_images: int = 0         # first N training images of the split (0 = all)
    mmd_repeats: int = 10         # independent (posterior noise, prior sample) draws for the error bar


def presets() -> dict[str, CelebaPreset]:
    """paper: supplement section 7 (Adam lr 1e-4 on everything, 40K iterations, full width; batch 64
    is our choice, the supplement does not state it). quick: minutes for both arms on a 2-core CPU
    with FashionMNIST at 64x64: one full-width step measures ~3.6 s there, so the channels are
    1/8 of the paper's (8/16/32/64/128; depth, kernels, strides, bottleneck and latent size kept),
    ~0.1-0.2 s per step with --threads 1, 3,000 iterations per arm; as in the outlier quick preset,
    log_gamma_var gets its own Adam rate 1e-2 (at 1e-4 gamma cannot leave 1 within a few thousand
    steps) -- a stated deviation. smoke: seconds, for the tests (on the CPU wherever it runs)."""
    return {
        "paper": CelebaPreset(TrainConfig(iters=40_000, batch_size=64, lr=1e-4, lr_log_gamma=1e-4,
                                          log_every=1, ckpt_every=2_000, eval_images=10_000,
                                          eval_batch_size=256), width=1.0, mmd_repeats=10),
        "quick": CelebaPreset(TrainConfig(iters=3_000, batch_size=64, lr=1e-4, lr_log_gamma=1e-2,
                                          log_every=1, ckpt_every=500, eval_images=2_000,
                                          eval_batch_size=500), width=0.125, mmd_repeats=10),
        # The quick preset run 5x longer, the weights kept at log-spaced steps (snapshots/) so that the
        # reconstruction error, the MMD and gamma can be followed over training for both arms.
        "long": CelebaPreset(TrainConfig(iters=15_000, batch_size=64, lr=1e-4, lr_log_gamma=1e-2,
                                         log_every=1, ckpt_every=500, keep_from=100,
                                         eval_images=2_000, eval_batch_size=500), width=0.125,
                             mmd_repeats=10),
        "smoke": CelebaPreset(TrainConfig(iters=8, batch_size=4, lr=1e-3, lr_log_gamma=1e-2,
                                          log_every=1, ckpt_every=4, progress=False, eval_images=64,
                                          eval_batch_size=32, device="cpu"),
                              width=1 / 16, train_images=256, mmd_repeats=3),
    }


# ----------------------------------------------------------------------------- command line
def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data-dir", help="CelebA root: img_align_celeba/*.jpg + list_eval_partition.txt "
                                           "(train on partition 0, score partition 2)")
    source.add_argument("--image-folder", help="any folder of images (fixed-seed 90/10 train/test split)")
    source.add_argument("--fashion-mnist", action="store_true",
                        help="FashionMNIST at 64x64, the CPU stand-in (data from INFGRAD_FASHION_MNIST_DIR "
                             "or /usr/share/datasets/fashion-mnist)")
    parser.add_argument("--size", type=int, choices=(64, 128), default=None,
                        help="image side (default: 128 for CelebA / image folders as in Figure 4, "
                             "64 for FashionMNIST)")
    parser.add_argument("--preset", choices=("paper", "long", "quick", "smoke"), default="quick",
                        help="paper: 40K iterations at full width (GPU); long: 15K iterations per arm "
                             "at the quick width, weights kept at log-spaced steps; quick: 3K per arm "
                             "(minutes on a CPU); smoke: seconds. Every run prints its time estimate "
                             "before it starts; measured times: README (default: quick)")
    add_output_arguments(parser, "celeba_runs",
                         "learned_gamma/, fixed_gamma/, summary.md, results.json, plots")
    chosen = presets()
    parser.add_argument("--width", type=float, default=None,
                        help="channel-width factor of the network (default: the preset's, " +
                             ", ".join(f"{n} {p.width:g}" for n, p in chosen.items()) + ")")
    parser.add_argument("--train-images", type=int, default=None,
                        help="use the first N training images, 0 = all (default: the preset's, " +
                             ", ".join(f"{n} {p.train_images}" for n, p in chosen.items()) + ")")
    parser.add_argument("--mmd-repeats", type=int, default=None,
                        help="draws behind the MMD error bar (default: the preset's, " +
                             ", ".join(f"{n} {p.mmd_repeats}" for n, p in chosen.items()) + ")")
    parser.add_argument("--gamma-floors", type=float, nargs="+", default=None, metavar="F",
                        help="optional bounded-gradient variants: one more arm per F, learning gamma "
                             "clamped below at the decoder variance F, run folder floor_F (default: none)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's choice). On a CPU shared with other "
                             "jobs, 1 is several times faster than 2 (no spinning thread barrier)")
    # learn_gamma is set by the protocol (arm 1 learns, arm 2 fixes), floors come as extra arms
    # (--gamma-floors); iw_samples is not used here
    add_config_arguments(parser, {name: preset.train for name, preset in chosen.items()},
                         exclude=("iw_samples", "learn_gamma", "gamma_var_floor"))
    from experiments.celeba import curve  # the --curve options (evaluating kept weights, no training)

    curve.add_arguments(parser)


def preset_from_args(args) -> CelebaPreset:
    """The preset named --preset with every command-line override applied (type-checked)."""
    preset = presets()[args.preset]
    chosen = replace(preset, train=config_from_args(args, preset.train))
    for name in ("width", "train_images", "mmd_repeats"):
        if getattr(args, name, None) is not None:
            chosen = replace(chosen, **{name: getattr(args, name)})
    if not chosen.width > 0:
        raise ValueError(f"--width {chosen.width}: must be positive")
    if chosen.train_images < 0:
        raise ValueError(f"--train-images {chosen.train_images}: must be >= 0 (0 = all)")
    if chosen.mmd_repeats < 2:
        raise ValueError(f"--mmd-repeats {chosen.mmd_repeats}: the error bar needs at least 2 draws")
    return chosen


def _source(args):
    if args.fashion_mnist:
        return ImageSource("fashion-mnist"), args.size or 64
    if args.data_dir is not None:
        return ImageSource("celeba", Path(args.data_dir)), args.size or 128
    return ImageSource("folder", Path(args.image_folder)), args.size or 128


def command_line(args, preset: CelebaPreset) -> str:
    """The command that reproduces this run, rebuilt from the parsed arguments."""
    words = ["infgrad", "celeba"]
    if args.fashion_mnist:
        words.append("--fashion-mnist")
    elif args.data_dir is not None:
        words += ["--data-dir", str(args.data_dir)]
    else:
        words += ["--image-folder", str(args.image_folder)]
    words += ["--size", str(_source(args)[1]), "--preset", args.preset, "--out", str(args.out)]
    for name in ("width", "train_images", "mmd_repeats", "threads"):
        if getattr(args, name, None) is not None:
            words += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    if getattr(args, "gamma_floors", None):
        words += ["--gamma-floors", *(repr(float(f)) for f in args.gamma_floors)]
    for f in dataclasses.fields(preset.train):
        if getattr(args, f.name, None) is not None:
            words.append(f"--{f.name.replace('_', '-')}={getattr(args, f.name)}")
    return " ".join(shlex.quote(w) for w in words)


# ----------------------------------------------------------------------------- the protocol
def plan(name: str, preset: CelebaPreset, size: int, channels: int, arms: int, held_out: int) -> str:
    """The line printed before the arms start: what will be trained and evaluated, and how long that
    takes here (FLOPs counted from the layer shapes, at the rate of one timed training step)."""
    config = preset.train
    build = lambda: CelebaVAE(size=size, image_channels=channels, kappa=64, width=preset.width)
    per = vae_flops(build, (channels, size, size))
    flops = arms * (config.iters * config.batch_size * per.train + held_out * per.forward)
    step_s = step_seconds(build, (channels, size, size), config.batch_size, torch.device(config.device),
                          config.precision)
    cost = time_estimate(flops, config.batch_size * per.train, step_s)
    return (f"[celeba] preset {name}: {arms} arms of {config.iters} iterations at batch "
            f"{config.batch_size}, {size}x{size}, width {preset.width:g}, on {config.device}, then "
            f"{held_out} held-out images each; {cost}")


def _describe_device(device: str, threads: int) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name()
    return f"{platform.processor() or platform.machine()} CPU, {os.cpu_count()} cores, {threads} torch thread(s)"


def _floor_folders(out: Path) -> list[Path]:
    """Run folders of floor arms already in --out (from this or an earlier command)."""
    return sorted(p for p in out.glob(FLOOR_PREFIX + "*") if p.is_dir()) if out.is_dir() else []


def run(args) -> int:
    """`infgrad celeba`: the two arms of the Figure 4 protocol, then evaluation, plots, summary."""
    preset = preset_from_args(args)
    with torch_threads(args.threads):
        if getattr(args, "curve", False):
            from experiments.celeba.curve import run_curve

            return run_curve(args, *_source(args), preset.mmd_repeats, preset.train.progress)
        return _run_protocol(args, preset)


def _run_protocol(args, preset: CelebaPreset) -> int:
    """Both arms, evaluation, plots and summary (see `run`)."""
    config = preset.train
    floors = check_floors(getattr(args, "gamma_floors", None))
    out = Path(args.out)
    arm_dirs = [*(out / a for a in ARMS), *_floor_folders(out)]
    check_out(out, [out / RESULTS_JSON, out / SUMMARY_MD, *arm_dirs], args.resume, args.force,
              runs=arm_dirs)
    source, size = _source(args)
    build = lambda: CelebaVAE(size=size, image_channels=1 if source.kind == "fashion-mnist" else 3,
                              kappa=64, width=preset.width)
    check_model_fits(build, torch.device(config.device), f"--width {preset.width:g}")
    train_images = load_split(source, "train", size, limit=preset.train_images or None,
                              progress=config.progress)
    held_out = load_split(source, "test", size, limit=config.eval_images or None,
                          progress=config.progress)
    if len(held_out) < 2:
        raise ValueError(f"the held-out split of {source.describe()} has {len(held_out)} image(s); "
                         f"the MMD needs at least 2")
    rank, _, device = setup_distributed(config.device)
    channels = train_images.shape[1]
    if rank == 0:
        print(plan(args.preset, preset, size, channels, 2 + len(floors), len(held_out)), file=sys.stderr)
    if args.force:
        for name in (RESULTS_JSON, SUMMARY_MD, CURVES_PNG, BARS_PNG):
            (out / name).unlink(missing_ok=True)
        if rank == 0:  # floor arms of an earlier command that this one does not rerun
            for folder in _floor_folders(out):
                if folder.name not in {floor_arm(f) for f in floors}:
                    shutil.rmtree(folder)

    model_args = {"model": "CelebaVAE", "size": size, "image_channels": channels, "kappa": 64,
                  "width": preset.width, "source": source.describe(), "preset": args.preset,
                  "train_images": len(train_images)}
    results = {"command": command_line(args, preset), "preset": args.preset, "size": size,
               "source": source.describe(), "train_images": len(train_images),
               "config": asdict(config), "width": preset.width, "mmd_repeats": preset.mmd_repeats,
               "device": _describe_device(config.device, torch.get_num_threads()),
               "gamma_floors": floors, "arms": {}}
    arm_configs = {"learned_gamma": replace(config, learn_gamma=True)}
    # after the protocol: learned gamma clamped below at each floor (same seed, data order and noise)
    arm_configs.update({floor_arm(f): replace(config, learn_gamma=True, gamma_var_floor=f)
                        for f in floors})
    arms = [*ARMS, *(floor_arm(f) for f in floors)]
    for arm in arms:
        if arm == "fixed_gamma":  # gamma* = arm 1's final gamma; same seed, data order and noise
            arm_configs[arm] = replace(config, learn_gamma=False, log_gamma_var_init=log_gamma_star)
        run_dir = out / arm
        if rank == 0:
            print(f"[celeba] {arm_label(arm)}: training in {run_dir}", file=sys.stderr)
        seed_everything(config.seed)
        model = CelebaVAE(size=size, image_channels=channels, kappa=64, width=preset.width)
        hook = IterationMetrics(model)
        result = train(model, train_images, arm_configs[arm], run_dir, resume=args.resume,
                       force=args.force, hook=hook, model_args={**model_args, "arm": arm})
        if result["interrupted"]:
            print(f"infgrad celeba: interrupted at step {result['step']} of {arm}; checkpoint saved in "
                  f"{run_dir}; rerun with --resume to continue", file=sys.stderr)
            leave_distributed()
            return 130
        gamma = gamma_values(model.log_gamma_var)  # every rank holds the same weights
        if arm == "learned_gamma":
            log_gamma_star = gamma["log_gamma_var"]
        if rank != 0:
            continue
        rows = read_metrics(run_dir / "metrics.csv")
        results["arms"][arm] = {
            "steps": result["step"], "gamma_var_floor": arm_configs[arm].gamma_var_floor, **gamma,
            "seconds_per_1k_iters": 1000 * rows[-1]["time_s"] / max(1, len(rows)),
            "grad_z_norm": curve_summary(rows, "grad_z_norm", config.iters),
            "loss": curve_summary(rows, "loss", config.iters),
            **evaluate(model, held_out, batch_size=config.eval_batch_size, device=device,
                       mmd_repeats=preset.mmd_repeats, seed=config.seed, progress=config.progress),
        }
    if rank == 0:
        (out / RESULTS_JSON).write_text(json.dumps(results, indent=2) + "\n")
        plot_curves({arm: read_metrics(out / arm / "metrics.csv") for arm in arms}, out / CURVES_PNG,
                    title=f"{source.kind} {size}x{size}, preset {args.preset}")
        plot_bars(results, out / BARS_PNG)
        (out / SUMMARY_MD).write_text(format_summary(results))
        print((out / SUMMARY_MD).read_text())
    leave_distributed()  # the other ranks wait for rank 0's evaluation before leaving
    return 0
