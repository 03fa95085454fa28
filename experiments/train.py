"""The training loop for the VAEs of supplement section 7: Adam on the per-sample negative ELBO (Eq. 3).

Conventions: gamma is the decoder VARIANCE, learned as `model.log_gamma_var` (or fixed); the loss is
the batch mean of the negative ELBO in nats, 0.5 * (Eq. 3 + d log 2 pi - kappa), whose gradient is
half that of Eq. (3) (same minimizers; Adam is insensitive to the scale).

API (stable; new parameters only get defaults):

    from experiments.train import (TrainConfig, PRESETS, train, seed_everything, setup_distributed,
                                   leave_distributed)
    cfg = PRESETS["quick"]                        # or TrainConfig(...); dataclasses.replace to change
    rank, world, device = setup_distributed(cfg.device)  # torchrun-aware; (0, 1, cfg.device) alone
    seed_everything(cfg.seed)                     # before building the model: same init everywhere
    model = OutlierVAE(kappa=64)                  # anything following models.VAEProtocol
    result = train(model, images, cfg, run_dir="runs/k64", resume=False, force=False,
                   hook=None, model_args={"kappa": 64})
    leave_distributed()                           # every rank, at the end (barrier + destroy)

* `images`: float tensor (N, C, H, W) in [0, 1], or uint8 pixels (converted per batch by
  `as_unit_float`), on the CPU; batches move to `cfg.device`.
* gamma: `learn_gamma=True` learns log_gamma_var from `log_gamma_var_init` with its own Adam
  learning rate `lr_log_gamma`; `learn_gamma=False` keeps it FIXED at `log_gamma_var_init`
  (natural log of the variance; e.g. math.log(gamma_star)). `gamma_var_floor` > 0 clamps the
  learned gamma below at that variance after every optimizer step (a bounded-gradient variant of
  issue 6); the default 0 never touches it.
* `hook(step, model, x, terms, z) -> dict | None` runs every step (`step` counts from 1, as the
  metrics rows do) after backward (gradients all-reduced, optimizer not yet stepped): `z.grad`
  holds dL/dz of the batch-mean loss (so a per-sample gradient is z.shape[0] * z.grad[i], with
  z.shape[0] this rank's share of batch_size; train-mode batch norm in the decoder couples the rows,
  see experiments/celeba.py), parameters hold their .grad, `terms` is losses.eq3_terms of the batch.
  Its dict is added to the metrics row of the steps that are logged (every `log_every` steps; use
  log_every=1 for per-iteration rows); keep the same keys each call.
* `run_dir` (optional) gets config.json, metrics.csv and checkpoint.pt (experiments/runs.py);
  checkpoints are atomic, written every `ckpt_every` steps, at the end, and on SIGINT/SIGTERM,
  after which train returns with result["interrupted"] = True. `resume=True` continues from the
  checkpoint and reproduces the uninterrupted run: the checkpoint holds model, optimizer, step,
  config and the RNG states; the data order is a pure function of (seed, step).
* Data parallel: under `torchrun --nproc_per_node N`, `batch_size` is the GLOBAL batch; rank r
  takes its slice of the same global batch and the same noise rows, gradients are averaged with
  one all-reduce (gloo on CPU, nccl on CUDA). Batch norm uses per-rank statistics on CPU (SyncBatchNorm
  needs CUDA; on CUDA the model is converted to it), the one difference from a single process.
* Returns {"step", "interrupted", "metrics" (last logged row), "run_dir"}.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import os
import random
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from experiments.losses import eq3_terms, nats_to_bpd
from experiments.runs import (CHECKPOINT_NAME, METRICS_NAME, SNAPSHOT_DIR, MetricsCSV,
                              load_checkpoint, prepare_run_dir, save_checkpoint)


@dataclass(frozen=True)
class TrainConfig:
    """Every knob of a run. Presets are named instances (PRESETS); override with dataclasses.replace
    or on the command line as --key=value (type-checked, see `add_config_arguments`)."""

    iters: int = 200_000              # optimizer steps (paper: 200K for Table 1, 40K for CelebA)
    batch_size: int = 64              # global batch; the supplement does not state it (our choice)
    lr: float = 1e-4                  # Adam learning rate of the network weights (paper: 1e-4)
    lr_log_gamma: float = 1e-4        # Adam learning rate of log_gamma_var (paper: same as lr)
    learn_gamma: bool = True          # False: gamma fixed at exp(log_gamma_var_init)
    log_gamma_var_init: float = 0.0   # log of the decoder variance at step 0 (0: gamma = 1)
    gamma_var_floor: float = 0.0      # lower bound on the decoder VARIANCE after each step (0: none)
    seed: int = 0                     # model init, data order and reparameterization noise
    device: str = "cpu"               # cpu | cuda
    channels_last: bool = False       # memory format for conv layers (kept only where it measures faster)
    log_every: int = 50               # metrics.csv row every this many steps
    ckpt_every: int = 1000            # atomic checkpoint every this many steps
    keep_from: int = 0                # keep the weights at the log-spaced steps >= this (0: none)
    progress: bool = True             # tqdm bar (rank 0 only)
    # evaluation (experiments/evaluate.py, used by the outlier experiment)
    eval_images: int = 0              # images per evaluation set; 0 = the whole set
    eval_batch_size: int = 256
    iw_samples: int = 100             # K of the importance-weighted bound


PRESETS: dict[str, TrainConfig] = {
    # The paper's protocol (supplement section 7): Adam lr 1e-4 on everything, 200K iterations.
    "paper": TrainConfig(iters=200_000, log_every=100, ckpt_every=5000, iw_samples=100),
    # About 10 minutes per kappa on a 2-core CPU (~0.28 s per step at batch 64). At lr 1e-4 log gamma
    # moves at most ~1e-4 per Adam step, so in 2K steps gamma stays near 1 and nothing separates;
    # remedy (a stated deviation): log_gamma_var gets its own Adam learning rate 1e-2, which lets
    # gamma reach the scale of the reconstruction error (its Eq. 16 optimum) within a few hundred
    # steps while the weights keep the paper's 1e-4. Evaluation on the first 2,000 images of each set.
    "quick": TrainConfig(iters=2_000, lr_log_gamma=1e-2, log_every=20, ckpt_every=250,
                         eval_images=2_000, iw_samples=16),
    # About an hour per kappa on a 2-core CPU (0.13-0.16 s per step at batch 64 on a quiet machine):
    # the quick preset run 12x longer, the weights still at the paper's lr 1e-4, log gamma at 1e-2
    # as in quick. The weights are kept at log-spaced steps (snapshots/) so that one run gives the
    # convergence curve toward Table 1 (`infgrad outlier --curve`).
    "long": TrainConfig(iters=24_000, lr_log_gamma=1e-2, log_every=100, ckpt_every=500,
                        keep_from=500, eval_images=2_000, iw_samples=16),
    # Seconds: the tests' end-to-end run.
    "smoke": TrainConfig(iters=6, batch_size=8, lr=1e-3, lr_log_gamma=1e-2, log_every=1,
                         ckpt_every=3, progress=False, eval_images=32, eval_batch_size=32,
                         iw_samples=3),
}


# ----------------------------------------------------------------------------- config overrides
def _parse_bool(text: str) -> bool:
    lowered = str(text).lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected a boolean (true/false), got {text!r}")


def _field_type(field: dataclasses.Field):
    return {"int": int, "float": float, "bool": _parse_bool, "str": str}[str(field.type)]


def override(config: TrainConfig, **changes) -> TrainConfig:
    """dataclasses.replace with a type check: unknown keys and wrong types are a ValueError."""
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    checked = {}
    for key, value in changes.items():
        if key not in fields:
            raise ValueError(f"unknown config key {key!r}; choose from {', '.join(fields)}")
        kind = _field_type(fields[key])
        try:
            converted = kind(value) if isinstance(value, str) else value
        except ValueError as err:
            raise ValueError(f"--{key.replace('_', '-')}: {err}") from None
        expected = {_parse_bool: bool}.get(kind, kind)
        if expected is float and isinstance(converted, int) and not isinstance(converted, bool):
            converted = float(converted)
        if type(converted) is not expected:
            raise ValueError(f"--{key.replace('_', '-')}: expected {expected.__name__}, "
                             f"got {value!r}")
        checked[key] = converted
    return validate(dataclasses.replace(config, **checked))


def validate(config: TrainConfig) -> TrainConfig:
    """One-line ValueErrors for settings that cannot run."""
    for name in ("iters", "batch_size", "log_every", "ckpt_every", "eval_batch_size", "iw_samples"):
        if getattr(config, name) < 1:
            raise ValueError(f"{name} must be >= 1, got {getattr(config, name)}")
    for name in ("lr", "lr_log_gamma"):
        if not getattr(config, name) > 0:
            raise ValueError(f"{name} must be > 0, got {getattr(config, name)}")
    if config.eval_images < 0:
        raise ValueError(f"eval_images must be >= 0 (0 = all), got {config.eval_images}")
    if not math.isfinite(config.log_gamma_var_init):
        raise ValueError(f"log_gamma_var_init must be finite, got {config.log_gamma_var_init}")
    if not (math.isfinite(config.gamma_var_floor) and config.gamma_var_floor >= 0):
        raise ValueError(f"gamma_var_floor must be finite and >= 0 (0 = no floor), "
                         f"got {config.gamma_var_floor}")
    if (config.gamma_var_floor > 0 and not config.learn_gamma
            and config.log_gamma_var_init < math.log(config.gamma_var_floor)):
        raise ValueError(f"gamma_var_floor {config.gamma_var_floor:g} is above the fixed gamma "
                         f"exp(log_gamma_var_init) = {math.exp(config.log_gamma_var_init):g}")
    if config.device not in {"cpu", "cuda"}:
        raise ValueError(f"device must be cpu or cuda, got {config.device!r}")
    if config.device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda requested but torch sees no CUDA device; use --device cpu")
    return config


def add_config_arguments(parser, exclude: tuple[str, ...] = (),
                         presets: dict[str, TrainConfig] | None = None) -> None:
    """One --key=value option per TrainConfig field (default None = keep the preset's value);
    the help lists each field's value in `presets` (default: this module's PRESETS)."""
    presets = PRESETS if presets is None else presets
    group = parser.add_argument_group("training configuration (override the preset)")
    for field in dataclasses.fields(TrainConfig):
        if field.name in exclude:
            continue
        group.add_argument(f"--{field.name.replace('_', '-')}", dest=field.name, default=None,
                           type=str, metavar=str(field.type).upper(),
                           help="preset values: " + ", ".join(
                               f"{name} {getattr(preset, field.name)}" for name, preset in presets.items()))


def config_from_args(args, preset: str) -> TrainConfig:
    """The preset named `preset` with every --key=value given on the command line applied."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
    changes = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
               if getattr(args, f.name, None) is not None}
    return override(PRESETS[preset], **changes)


# ----------------------------------------------------------------------------- setup helpers
def as_unit_float(x: torch.Tensor) -> torch.Tensor:
    """A batch as float in [0, 1]: uint8 pixels v become v / 255 (large image sets, e.g. CelebA at
    128x128, stay at one byte per pixel in memory and are converted one batch at a time)."""
    return x.float().div_(255.0) if x.dtype == torch.uint8 else x



def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (call before building the model so every rank inits alike)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def setup_distributed(device: str = "cpu") -> tuple[int, int, torch.device]:
    """Join the process group when launched by torchrun (WORLD_SIZE > 1): gloo on CPU, nccl on CUDA.

    Returns (rank, world_size, device); a plain process gets (0, 1, device).
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device == "cuda" else "gloo")
    rank = dist.get_rank() if dist.is_initialized() else 0
    world = dist.get_world_size() if dist.is_initialized() else 1
    if device == "cuda":
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local_rank)
        return rank, world, torch.device("cuda", local_rank)
    return rank, world, torch.device(device)


def leave_distributed() -> None:
    """Wait for every rank (rank 0 may still be evaluating), then leave the process group; a plain
    process (no group) does nothing. Without the barrier a rank that tears gloo down while its peer
    still talks can abort the peer ("terminate called without an active exception"). Call on every
    rank at the end of a run, or after an interruption (all ranks stop at the same step: the stop
    flag rides on the gradient all-reduce)."""
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def batch_indices(step: int, n_images: int, batch_size: int, seed: int) -> torch.Tensor:
    """The global batch of step `step`: epochs are fresh permutations drawn from (seed, epoch), and
    the last incomplete batch of an epoch is dropped. A pure function, so resuming needs only step."""
    per_epoch = n_images // batch_size
    if per_epoch == 0:
        raise ValueError(f"batch_size {batch_size} is larger than the {n_images} training images")
    epoch, position = divmod(step, per_epoch)
    permutation = _epoch_permutation(n_images, seed, epoch)
    return permutation[position * batch_size:(position + 1) * batch_size]


@functools.lru_cache(maxsize=2)
def _epoch_permutation(n_images: int, seed: int, epoch: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n_images, generator=generator)


def snapshot_steps(iters: int, first: int) -> list[int]:
    """The steps whose weights a run keeps: 1, 1.5, 2, 3, 5, 7 times a power of ten, from `first`
    on, and the last step (about six per decade: enough to fit a trend on a log-step axis).
    first = 0 keeps none."""
    if first <= 0:
        return []
    steps, scale = set(), 1
    while scale <= iters:
        steps.update(int(m * scale) for m in (1, 1.5, 2, 3, 5, 7))
        scale *= 10
    return sorted(s for s in steps | {iters} if first <= s <= iters)


def _clamp_log_gamma_var(model: torch.nn.Module, log_gamma_floor: float) -> None:
    """gamma >= exp(log_gamma_floor), in place, outside autograd (after the optimizer step).

    Why this bounds the gradient: only the decoder sees z, and the per-sample loss (Eq. 3 / 2) has
    dL/dz = (1/gamma) J^T (mu_x(z) - x), J the decoder Jacobian; with gamma >= floor the 1/gamma
    factor, which grows without bound as a learned gamma -> 0 (the paper's "infinite gradient"), is
    at most 1/floor. Adam's moments are left alone: the step is projected, not the optimizer."""
    with torch.no_grad():
        model.log_gamma_var.clamp_(min=log_gamma_floor)


class _StopFlag:
    """SIGINT/SIGTERM set a flag; the loop checkpoints at the end of the current step and returns."""

    def __init__(self):
        self.signum = 0
        self._previous = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread: no handlers, the run just cannot be stopped
                pass
        return self

    def _handle(self, signum, frame):
        self.signum = signum

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


# ----------------------------------------------------------------------------- the loop
def train(model: torch.nn.Module, images: torch.Tensor, config: TrainConfig,
          run_dir: str | Path | None = None, *, resume: bool = False, force: bool = False,
          hook=None, model_args: dict | None = None) -> dict:
    """Fit `model` (models.VAEProtocol) to `images` with Adam on the negative ELBO; see module doc."""
    config = validate(config)
    rank = dist.get_rank() if dist.is_initialized() else 0
    world = dist.get_world_size() if dist.is_initialized() else 1
    if config.batch_size % world:
        raise ValueError(f"batch_size {config.batch_size} is not divisible by {world} processes")
    if images.dim() != 4 or not (images.is_floating_point() or images.dtype == torch.uint8):
        raise ValueError(f"images must be a float tensor in [0, 1] or a uint8 tensor (N, C, H, W), "
                         f"got {tuple(images.shape)} {images.dtype}")
    device = torch.device(config.device, torch.cuda.current_device()) \
        if config.device == "cuda" else torch.device("cpu")
    if world > 1 and device.type == "cuda":
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model.to(device)
    if config.channels_last:
        model.to(memory_format=torch.channels_last)
    local = config.batch_size // world
    lo, hi = rank * local, (rank + 1) * local

    # --- gamma: learned in log space with its own learning rate, or fixed -----------------------
    with torch.no_grad():
        model.log_gamma_var.fill_(config.log_gamma_var_init)
    model.log_gamma_var.requires_grad_(config.learn_gamma)
    weights = [p for name, p in model.named_parameters() if name != "log_gamma_var"]
    groups = [{"params": weights, "lr": config.lr}]
    if config.learn_gamma:
        groups.append({"params": [model.log_gamma_var], "lr": config.lr_log_gamma})
    try:
        # One fused kernel per step instead of ~7 elementwise ops per parameter: 2% faster on an idle
        # 2-core CPU and far steadier on a busy one (benchmarks/RESULTS.md); CPU support needs torch >= 2.4.
        optimizer = torch.optim.Adam(groups, fused=True)
    except RuntimeError:
        optimizer = torch.optim.Adam(groups)
    trainable = [p for group in groups for p in group["params"]]
    log_gamma_floor = math.log(config.gamma_var_floor) if config.gamma_var_floor > 0 else None
    noise = torch.Generator(device=device).manual_seed(config.seed + 1)

    # --- run folder, resume ---------------------------------------------------------------------
    start_step, metrics, last_row, elapsed = 0, None, {}, 0.0
    if run_dir is not None:
        run_dir = Path(run_dir)
        if rank == 0:
            prepare_run_dir(run_dir, {**asdict(config), **(model_args or {})}, resume=resume,
                            force=force, defaults=asdict(TrainConfig()))
        if world > 1:
            dist.barrier()
        if resume and (run_dir / CHECKPOINT_NAME).exists():
            state = load_checkpoint(run_dir / CHECKPOINT_NAME)
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            noise.set_state(state["noise_rng"])
            torch.set_rng_state(state["torch_rng"])
            start_step = state["step"]
            last_row = state.get("last_row", {})
            elapsed = state.get("elapsed_s", 0.0)
        if rank == 0:
            metrics = MetricsCSV(run_dir / METRICS_NAME, resume_step=start_step if resume else None)
    elif resume:
        raise ValueError("resume needs a run_dir")
    if world > 1 and start_step == 0:  # every rank starts from rank 0's weights
        for tensor in model.state_dict().values():
            dist.broadcast(tensor, src=0)

    def checkpoint(step: int) -> None:
        if run_dir is not None and rank == 0:
            save_checkpoint(run_dir / CHECKPOINT_NAME, {
                "model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                "config": asdict(config), "model_args": model_args or {}, "world_size": world,
                "noise_rng": noise.get_state(), "torch_rng": torch.get_rng_state(),
                "last_row": last_row, "elapsed_s": time.perf_counter() - t0})

    keep = set(snapshot_steps(config.iters, config.keep_from))

    def snapshot(step: int) -> None:
        if run_dir is not None and rank == 0:
            save_checkpoint(run_dir / SNAPSHOT_DIR / f"step_{step:07d}.pt",
                            {"model": model.state_dict(), "step": step,
                             "model_args": model_args or {}, "config": asdict(config)})

    # --- the loop -------------------------------------------------------------------------------
    from tqdm import tqdm

    model.train()
    d = images[0].numel()
    step, interrupted, t0 = start_step, False, time.perf_counter() - elapsed
    bar = tqdm(total=config.iters, initial=start_step, desc="train", unit="step",
               disable=not config.progress or rank != 0, dynamic_ncols=True)
    with _StopFlag() as stop:
        while step < config.iters:
            # data: this rank's slice of the global batch of this step
            index = batch_indices(step, images.shape[0], config.batch_size, config.seed)[lo:hi]
            x = as_unit_float(images[index].to(device, non_blocking=True))
            if config.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)

            # Eq. (3): encode, reparameterize (noise rows of the GLOBAL batch), decode
            mu_z, log_sigma_z = model.encode(x)
            eps = torch.randn(config.batch_size, model.kappa, generator=noise, device=device)[lo:hi]
            z = mu_z + torch.exp(log_sigma_z) * eps
            if hook is not None:
                z.retain_grad()
            x_mean = model.decode(z)
            terms = eq3_terms(x, x_mean, mu_z, log_sigma_z, model.log_gamma_var)
            loss = terms["neg_elbo"].mean()

            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            stop_now = stop.signum != 0
            if world > 1:  # average gradients (and agree on stopping) with one all-reduce
                grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in trainable]
                flag = torch.tensor([float(stop_now)], device=device)
                flat = torch.cat([g.reshape(-1) for g in grads] + [flag])
                dist.all_reduce(flat)
                flat /= world
                offset = 0
                for p, g in zip(trainable, grads):
                    p.grad = flat[offset:offset + g.numel()].view_as(p).clone()
                    offset += g.numel()
                stop_now = float(flat[-1]) > 0
            extra = hook(step + 1, model, x, terms, z) if hook is not None else None
            optimizer.step()
            if log_gamma_floor is not None:
                _clamp_log_gamma_var(model, log_gamma_floor)
            step += 1
            bar.update(1)

            if step % config.log_every == 0 or step == config.iters:
                # the row: loss terms of this step's batch (before its update), gamma after it
                stats = torch.stack([loss.detach(), terms["eq3"].detach().mean(),
                                     terms["recon_sq"].detach().mean(),
                                     0.5 * terms["kl_term"].detach().mean()])
                if world > 1:
                    dist.all_reduce(stats)
                    stats /= world
                loss_v, eq3_v, recon_v, kl_v = stats.tolist()
                log_gamma_var = float(model.log_gamma_var.detach())
                last_row = {"step": step, "loss": loss_v, "eq3": eq3_v, "recon_sq": recon_v,
                            "kl_nats": kl_v, "bpd_elbo": nats_to_bpd(loss_v, d),
                            "log_gamma_var": log_gamma_var,
                            "gamma_var": math.exp(log_gamma_var),
                            "gamma_std": math.exp(0.5 * log_gamma_var),
                            "time_s": time.perf_counter() - t0, **(extra or {})}
                if not math.isfinite(loss_v):
                    raise ValueError(f"training diverged at step {step}: loss {loss_v}; lower the "
                                     f"learning rates (lr, lr_log_gamma)")
                if metrics is not None:
                    metrics.write(last_row)
                bar.set_postfix(loss=f"{loss_v:.1f}", gamma_std=f"{last_row['gamma_std']:.4f}")
            if step in keep:
                snapshot(step)
            if stop_now:
                interrupted = True
                checkpoint(step)
                break
            if step % config.ckpt_every == 0 or step == config.iters:
                checkpoint(step)
    bar.close()
    return {"step": step, "interrupted": interrupted, "metrics": last_row, "run_dir": run_dir}
