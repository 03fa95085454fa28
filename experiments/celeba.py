"""`infgrad celeba`: main-text Figure 4 (section 4), learned gamma against gamma fixed at gamma*, with
the network of supplement section 7 (experiments/celeba_net.py) trained by experiments/train.py.

Arm 1 learns gamma (the decoder VARIANCE, in log space); its final value is gamma*. Arm 2 retrains the
same network from scratch (same seed, same data order, same noise) with gamma FIXED at gamma*. Both
log per iteration gamma, ||dL/dz||_2, encoder / decoder gradient norms, the loss terms and the active
latent dimensions; at the end the held-out reconstruction error and the latent MMD (experiments/mmd.py).
Optional (issue 6, `--gamma-floors F ...`): one more arm per floor F, learning gamma clamped below at
the variance F (train.py's gamma_var_floor), same seed, data order and noise, run folder floor_<F>.

Definitions (written into every summary):
* ||dL/dz||_2: L_i is sample i's negative ELBO in nats (= half its Eq. 3 braces plus constants), z_i
  the reparameterized draw mu_z + sigma_z * eps fed to the decoder; train.py's backward of the batch
  mean leaves (1/B) d(sum_j L_j)/dz_i in z.grad, so grad_z_norm = mean_i || B * z.grad[i] ||_2. Only
  the decoder sees z (the KL terms use mu_z, sigma_z), so this is (1/gamma) J^T (x_i - mu_x(z_i)),
  exactly dL_i/dz_i but for the coupling through the decoder's training-mode batch-norm statistics
  (tests/test_celeba.py checks both readings). Eq. (3)'s own scale is twice this.
* encoder / decoder gradient norms: the l2 norm over all parameters of each part (log_gamma_var in
  neither) of the gradient of the batch-mean negative ELBO.
* active latent dimensions: k with mean over the batch of sigma_z,k(x) < ACTIVE_SIGMA_Z (an inactive
  dimension keeps q(z_k|x) close to N(0, 1), sigma ~ 1; an informative one has sigma far below 1).
* reconstruction error: per held-out image sum over pixels and channels of (x - mu_x(mu_z(x)))^2 on
  [0, 1] pixels (the decoder mean at the posterior mean; batch norm in eval mode), averaged over images.
* MMD: experiments/mmd.py (unbiased MMD^2, sum of IMQ kernels, one z per held-out image against as
  many N(0, I) draws, mean and std over `mmd_repeats` draws).
"""
from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path

ARMS = ("learned_gamma", "fixed_gamma")
ARM_LABELS = {"learned_gamma": "learned gamma", "fixed_gamma": "fixed gamma = gamma*"}
# main-text Figure 4(a), CelebA 128x128, QUOTED (not computed here): reconstruction error and MMD
PAPER_FIGURE4A = {"learned_gamma": {"rec_err": 352.8, "mmd": 93.3},
                  "fixed_gamma": {"rec_err": 349.9, "mmd": 291.8}}
FLOOR_PREFIX = "floor_"  # run folder of the arm with gamma clamped below at a floor: floor_<repr(F)>
ACTIVE_SIGMA_Z = 0.1
RESULTS_JSON, SUMMARY_MD = "results.json", "summary.md"
CURVES_PNG, BARS_PNG = "gradient_and_gamma.png", "mmd_and_reconstruction.png"


def floor_arm(floor: float) -> str:
    """The arm (and run folder) name of the learned-gamma arm with gamma >= `floor` (a variance)."""
    return f"{FLOOR_PREFIX}{float(floor)!r}"


def arm_label(arm: str) -> str:
    """Human-readable name of an arm: the two protocol arms, or 'learned gamma, floor F'."""
    if arm.startswith(FLOOR_PREFIX):
        return f"learned gamma, floor {float(arm[len(FLOOR_PREFIX):]):g}"
    return ARM_LABELS[arm]


def check_floors(floors) -> list[float]:
    """--gamma-floors as a list of distinct positive finite variances (ValueError otherwise)."""
    floors = [float(f) for f in floors or ()]
    for floor in floors:
        if not (math.isfinite(floor) and floor > 0):
            raise ValueError(f"--gamma-floors {floor}: each floor is a decoder variance, finite and > 0")
    if len(set(floors)) != len(floors):
        raise ValueError(f"--gamma-floors {' '.join(map(str, floors))}: a floor is repeated")
    return floors


def _train_config(**kwargs):
    from experiments.train import TrainConfig

    return TrainConfig(**kwargs)


@dataclass(frozen=True)
class CelebaPreset:
    """A training configuration (train.TrainConfig: iters, lr, ...; its eval_images is the number of
    held-out images scored, 0 = all) plus what only this experiment needs."""

    train: object                 # experiments.train.TrainConfig
    width: float = 1.0            # channel-width factor of celeba_net (1 = the paper's widths)
    train_images: int = 0         # first N training images of the split (0 = all)
    mmd_repeats: int = 10         # independent (posterior noise, prior sample) draws for the error bar


def presets() -> dict[str, CelebaPreset]:
    """paper: supplement section 7 (Adam lr 1e-4 on everything, 40K iterations, full width; batch 64
    is our choice, the supplement does not state it). quick: about 15 min for both arms on a 2-core
    CPU with FashionMNIST at 64x64: one full-width step measures ~3.6 s there, so the channels are
    1/8 of the paper's (8/16/32/64/128; depth, kernels, strides, bottleneck and latent size kept),
    ~0.1-0.2 s per step with --threads 1, 3,000 iterations per arm; as in the outlier quick preset,
    log_gamma_var gets its own Adam rate 1e-2 (at 1e-4 gamma cannot leave 1 within a few thousand
    steps) -- a stated deviation. smoke: seconds, for the tests."""
    return {
        "paper": CelebaPreset(_train_config(iters=40_000, batch_size=64, lr=1e-4, lr_log_gamma=1e-4,
                                            log_every=1, ckpt_every=2_000, eval_images=10_000,
                                            eval_batch_size=256), width=1.0, mmd_repeats=10),
        "quick": CelebaPreset(_train_config(iters=3_000, batch_size=64, lr=1e-4, lr_log_gamma=1e-2,
                                            log_every=1, ckpt_every=500, eval_images=2_000,
                                            eval_batch_size=500), width=0.125, mmd_repeats=10),
        # The quick preset run 5x longer, the weights kept at log-spaced steps (snapshots/) so that the
        # reconstruction error, the MMD and gamma can be followed over training for both arms.
        "long": CelebaPreset(_train_config(iters=15_000, batch_size=64, lr=1e-4, lr_log_gamma=1e-2,
                                           log_every=1, ckpt_every=500, keep_from=100,
                                           eval_images=2_000, eval_batch_size=500), width=0.125,
                             mmd_repeats=10),
        "smoke": CelebaPreset(_train_config(iters=8, batch_size=4, lr=1e-3, lr_log_gamma=1e-2,
                                            log_every=1, ckpt_every=4, progress=False, eval_images=64,
                                            eval_batch_size=32), width=1 / 16, train_images=256,
                              mmd_repeats=3),
    }


# ----------------------------------------------------------------------------- command line
def add_arguments(parser: argparse.ArgumentParser) -> None:
    from experiments.train import add_config_arguments

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
                             "at the quick width, weights kept at log-spaced steps; quick: ~15 min for "
                             "both arms on a 2-core CPU; smoke: seconds")
    parser.add_argument("--out", default="celeba_runs", help="output folder (learned_gamma/, fixed_gamma/, "
                                                            "summary.md, results.json, plots)")
    parser.add_argument("--resume", action="store_true", help="continue the runs in --out from their checkpoints")
    parser.add_argument("--force", action="store_true", help="delete earlier results in --out first")
    parser.add_argument("--width", type=float, default=None,
                        help="channel-width factor of the network (preset: paper 1, quick 1/8)")
    parser.add_argument("--train-images", type=int, default=None,
                        help="use the first N training images (0 = all)")
    parser.add_argument("--mmd-repeats", type=int, default=None,
                        help="draws behind the MMD error bar (preset: 10)")
    parser.add_argument("--gamma-floors", type=float, nargs="+", default=None, metavar="F",
                        help="optional bounded-gradient variants: one more arm per F, learning gamma "
                             "clamped below at the decoder variance F (run folder floor_F)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's choice). On a CPU shared with other "
                             "jobs, 1 is several times faster than 2 (no spinning thread barrier)")
    # learn_gamma is set by the protocol (arm 1 learns, arm 2 fixes), floors come as extra arms
    # (--gamma-floors); iw_samples is not used here
    add_config_arguments(parser, exclude=("iw_samples", "learn_gamma", "gamma_var_floor"),
                         presets={name: preset.train for name, preset in presets().items()})


def config_from_args(args) -> CelebaPreset:
    """The preset named --preset with every command-line override applied (type-checked by train.py)."""
    import dataclasses

    from experiments.train import TrainConfig, override

    preset = presets()[args.preset]
    changes = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
               if getattr(args, f.name, None) is not None}
    chosen = replace(preset, train=override(preset.train, **changes))
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
    from experiments.celeba_data import ImageSource

    if args.fashion_mnist:
        return ImageSource("fashion-mnist"), args.size or 64
    if args.data_dir is not None:
        return ImageSource("celeba", Path(args.data_dir)), args.size or 128
    return ImageSource("folder", Path(args.image_folder)), args.size or 128


def command_line(args, preset: CelebaPreset) -> str:
    """The command that reproduces this run, rebuilt from the parsed arguments."""
    import dataclasses

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


# ----------------------------------------------------------------------------- per-iteration metrics
class IterationMetrics:
    """The train.py hook: the Figure 4(b) quantities of every step (definitions: module docstring).

    A forward hook on the model's log_sigma_z head keeps the batch's sigma_z (no second encoder pass)."""

    def __init__(self, model):
        self.model = model
        self._log_sigma_z = None
        model.fc_log_sigma_z.register_forward_hook(self._keep)

    def _keep(self, module, inputs, output):
        self._log_sigma_z = output.detach()

    @staticmethod
    def _norm(params) -> float:
        import torch

        squares = [p.grad.detach().pow(2).sum() for p in params if p.grad is not None]
        return float(torch.stack(squares).sum().sqrt()) if squares else 0.0

    def __call__(self, step, model, x, terms, z) -> dict:
        batch = z.shape[0]
        grad_z = z.grad.detach() * batch  # rows: d(sum_j neg ELBO_j)/dz_i (module docstring)
        sigma_z = self._log_sigma_z.exp()
        return {
            "grad_z_norm": float(grad_z.norm(dim=1).mean()),
            "grad_encoder_norm": self._norm(model.encoder_parameters()),
            "grad_decoder_norm": self._norm(model.decoder_parameters()),
            "recon_term": float(terms["recon_term"].detach().mean()),
            "log_gamma_term": float(terms["log_gamma_term"].detach().mean()),
            "kl_term": float(terms["kl_term"].detach().mean()),
            "mean_sigma_z": float(sigma_z.mean()),
            "active_dims": int((sigma_z.mean(dim=0) < ACTIVE_SIGMA_Z).sum()),
        }


# ----------------------------------------------------------------------------- evaluation
def evaluate(model, images, *, batch_size: int, device, mmd_repeats: int, seed: int,
             progress: bool = False) -> dict:
    """Held-out reconstruction error, latent MMD and active dimensions (definitions: module docstring)."""
    import numpy as np
    import torch
    from tqdm import tqdm

    from experiments.mmd import posterior_prior_mmd
    from experiments.train import as_unit_float

    was_training = model.training
    model.eval()
    mu, log_sigma, sse = [], [], []
    with torch.inference_mode():
        for start in tqdm(range(0, len(images), batch_size), desc="encode held-out", leave=False,
                          disable=not progress, dynamic_ncols=True):
            x = as_unit_float(images[start:start + batch_size].to(device))
            mu_z, log_sigma_z = model.encode(x)
            recon = model.decode(mu_z)
            sse.append((x - recon).pow(2).flatten(1).sum(1).double().cpu())
            mu.append(mu_z.double().cpu())
            log_sigma.append(log_sigma_z.double().cpu())
    model.train(was_training)
    sse = torch.cat(sse).numpy()
    mu, log_sigma = torch.cat(mu).numpy(), torch.cat(log_sigma).numpy()
    mmd = posterior_prior_mmd(mu, log_sigma, repeats=mmd_repeats, seed=seed, progress=progress)
    mean_sigma = np.exp(log_sigma).mean(axis=0)
    return {"rec_err": float(sse.mean()), "rec_err_sem": float(sse.std(ddof=1) / np.sqrt(len(sse)))
            if len(sse) > 1 else 0.0, "n_images": int(len(sse)), "mmd": mmd,
            "active_dims": int((mean_sigma < ACTIVE_SIGMA_Z).sum()),
            "mean_sigma_z_per_dim_sorted": np.sort(mean_sigma).round(4).tolist()}


def _curve_summary(rows: list[dict], key: str, iters: int) -> dict:
    """Mean of `key` over the first and the last 1% of the iterations (at least one row each)."""
    import numpy as np

    window = max(1, iters // 100)
    values = np.array([r[key] for r in rows])
    return {"initial": float(values[:window].mean()), "final": float(values[-window:].mean()),
            "max": float(values.max()), "window": window}


# ----------------------------------------------------------------------------- the protocol
def _describe_device(device: str, threads: int) -> str:
    import os
    import platform

    if device == "cuda":
        import torch

        return torch.cuda.get_device_name()
    return f"{platform.processor() or platform.machine()} CPU, {os.cpu_count()} cores, {threads} torch thread(s)"


def _floor_folders(out: Path) -> list[Path]:
    """Run folders of floor arms already in --out (from this or an earlier command)."""
    return sorted(p for p in out.glob(FLOOR_PREFIX + "*") if p.is_dir()) if out.is_dir() else []


def _check_out(out: Path, resume: bool, force: bool) -> None:
    if resume and force:
        raise ValueError("--resume and --force contradict each other: choose one")
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} exists and is not a folder")
    candidates = [out / RESULTS_JSON, out / SUMMARY_MD, *(out / a for a in ARMS), *_floor_folders(out)]
    taken = [p.name for p in candidates if p.exists() and (p.is_file() or any(p.iterdir()))]
    if taken and not (resume or force):
        raise ValueError(f"--out {out} already holds {', '.join(taken)}: pass --resume to continue "
                         f"or --force to overwrite")


def run(args) -> int:
    """`infgrad celeba`: the two arms of the Figure 4 protocol, then evaluation, plots, summary."""
    import torch

    preset = config_from_args(args)
    if args.threads is not None and args.threads < 1:
        raise ValueError(f"--threads {args.threads}: must be >= 1")
    threads_before = torch.get_num_threads()
    try:
        if args.threads is not None:
            torch.set_num_threads(args.threads)
        return _run_protocol(args, preset)
    finally:  # a caller in the same process (the tests) gets its thread count back
        torch.set_num_threads(threads_before)


def _run_protocol(args, preset: CelebaPreset) -> int:
    """Both arms, evaluation, plots and summary (see `run`)."""
    import torch

    from experiments.celeba_data import load_split
    from experiments.celeba_net import CelebaVAE
    from experiments.runs import read_metrics
    from experiments.train import leave_distributed, seed_everything, setup_distributed, train

    config = preset.train
    floors = check_floors(getattr(args, "gamma_floors", None))
    out = Path(args.out)
    _check_out(out, args.resume, args.force)
    source, size = _source(args)
    train_images = load_split(source, "train", size, limit=preset.train_images or None,
                              progress=config.progress)
    held_out = load_split(source, "test", size, limit=config.eval_images or None,
                          progress=config.progress)
    if len(held_out) < 2:
        raise ValueError(f"the held-out split of {source.describe()} has {len(held_out)} image(s); "
                         f"the MMD needs at least 2")
    rank, _, device = setup_distributed(config.device)
    channels = train_images.shape[1]
    if args.force:
        for name in (RESULTS_JSON, SUMMARY_MD, CURVES_PNG, BARS_PNG):
            (out / name).unlink(missing_ok=True)
        if rank == 0:  # floor arms of an earlier command that this one does not rerun
            import shutil

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
        log_gamma_var = model.log_gamma_var.item()  # every rank holds the same weights
        if arm == "learned_gamma":
            log_gamma_star = log_gamma_var
        if rank != 0:
            continue
        rows = read_metrics(run_dir / "metrics.csv")
        results["arms"][arm] = {
            "steps": result["step"], "gamma_var_floor": arm_configs[arm].gamma_var_floor,
            "log_gamma_var": log_gamma_var,
            "gamma_var": math.exp(log_gamma_var), "gamma_std": math.exp(0.5 * log_gamma_var),
            "seconds_per_1k_iters": 1000 * rows[-1]["time_s"] / max(1, len(rows)),
            "grad_z_norm": _curve_summary(rows, "grad_z_norm", config.iters),
            "loss": _curve_summary(rows, "loss", config.iters),
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


# ----------------------------------------------------------------------------- plots and summary
def _smooth(values, fraction: float = 0.1):
    """Trailing mean over the last `fraction` of the iterations so far (point i averages i*fraction
    points, at least 1): a window of constant width on a log iteration axis, so early iterations
    keep their detail and late ones lose their noise, without lag on the log scale."""
    import numpy as np

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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
