"""The one training loop of the experiments: Adam on a per-sample objective, by default the negative
ELBO of Eq. (3) (supplement section 7); the manifold experiment trains Eq. (22)'s L_{g,h} with it too.

Conventions: gamma is the decoder VARIANCE, `model.log_gamma_var` (learned or fixed); the default
loss is the batch mean of the negative ELBO in nats, 0.5 * (Eq. 3 + d log 2 pi - kappa), whose
gradient is half that of Eq. (3) (same minimizers; Adam is insensitive to the scale).

    cfg = PRESETS["quick"]                    # experiments.outlier.presets, or TrainConfig(...)
    rank, world, device = setup_distributed(cfg.device)  # torchrun-aware; (0, 1, cfg.device) alone
    seed_everything(cfg.seed)                 # before building the model: same init everywhere
    result = train(OutlierVAE(kappa=64), data, cfg, run_dir="runs/k64", resume=False, force=False,
                   hook=None, model_args={"kappa": 64}, objective=None)
    leave_distributed()                       # every rank, at the end (barrier + destroy)

* `data`: a CPU tensor (N, ...), images (N, C, H, W) or vectors (N, d), float (images in [0, 1]) or
  uint8 pixels (converted per batch by `as_unit_float`). `cfg.device` "auto" is CUDA when torch sees
  one; the whole set moves there once when it fits (experiments/core/device.py), else batch by batch.
  `cfg.precision` "bf16" runs the forward pass under bfloat16 autocast (weights, Adam and the loss
  sums stay float32).
* `objective(model, x, eps) -> dict` (default `losses.NegativeELBO()` for a models.VAEProtocol
  model): x is this rank's batch (B, ...), float, on the device; eps its rows of the step's standard
  normal draw (B, model.kappa), or (B, 0) for a model without `kappa`: one (batch_size, kappa) block
  per step from a generator seeded with seed + 1, whatever the objective. The dict holds tensors:
    "loss"  (B,) per-sample losses whose mean is minimized, or 0-dim: the batch loss itself, for an
            objective that is not a sum over samples (Eq. 22's L_{g,h} penalizes h(u_k) of the row
            energies u_k = (1/n) ||z_k||^2, estimated on the batch);
    "z"     optional: the latent tensor the decoder saw (the hook reads dL/dz from its .grad);
    others  named terms, (B,) per sample or 0-dim per batch: the hook's `terms`; the logged rows
            hold their batch means (a 0-dim term as it is) after "loss".
  `objective.columns(means, d)` (optional) maps those means (floats averaged over ranks, "loss"
  first) and d = data[0].numel() to the logged columns; the default's are loss, eq3, recon_sq,
  kl_nats, bpd_elbo. Under data parallel a 0-dim term sees this rank's share of the batch only.
* gamma, for a model with a `log_gamma_var` parameter: set to `log_gamma_var_init`, then learned
  with its own Adam rate `lr_log_gamma` (`learn_gamma=True`) or FIXED (e.g. at math.log(gamma_star));
  `gamma_var_floor` > 0 clamps the learned gamma below at that variance after every step (0: never
  touched); rows end with log_gamma_var, gamma_var, gamma_std. A model without that parameter (a
  deterministic autoencoder) has one Adam group at `lr`, no gamma columns; the gamma fields are unused.
* `hook(step, model, x, terms, z) -> dict | None` runs every step (`step` counts from 1, as the
  rows do) after backward (gradients all-reduced, optimizer not yet stepped): `z.grad` holds dL/dz of
  the batch-mean loss (a per-sample gradient is z.shape[0] * z.grad[i], z.shape[0] this rank's share
  of batch_size; train-mode batch norm in the decoder couples the rows: experiments/celeba/metrics.py);
  parameters hold their .grad; `terms` are the objective's (the default's: losses.eq3_terms); z is
  None if the objective returns none. Its dict joins the rows that are logged (every `log_every`
  steps); keep the same keys each call.
* `run_dir` (optional) gets config.json, metrics.csv, checkpoint.pt and, with `keep_from` > 0, the
  weights of the `snapshot_steps` in snapshots/ (experiments/core/runs.py). Checkpoints are atomic,
  written every `ckpt_every` steps, at the end, and on SIGINT/SIGTERM, after which train returns with
  result["interrupted"] = True. `resume=True` reproduces the uninterrupted run: the checkpoint holds
  model, optimizer, step, config and the RNG states; the data order is a pure function of (seed, step);
  one stderr line says from which step it continues.
* Data parallel: under `torchrun --nproc_per_node N`, `batch_size` is the GLOBAL batch; rank r
  takes its slice of the same global batch and the same noise rows, gradients are averaged with
  one all-reduce (gloo on CPU, nccl on CUDA). Batch norm uses per-rank statistics on CPU (SyncBatchNorm
  needs CUDA; on CUDA the model is converted to it), the one difference from a single process.
* Returns {"step", "interrupted", "metrics" (last logged row), "run_dir"}.
"""
from __future__ import annotations

import functools
import gc
import math
import os
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from tqdm import tqdm

from experiments.core.device import PRECISIONS, autocast, place_data, resolve_device
from experiments.core.losses import NegativeELBO
from experiments.core.models import (LOG_GAMMA_VAR_RANGE, clamp_log_gamma_var, gamma_values,
                                     has_log_gamma_var, set_log_gamma_var)
from experiments.core.runs import (CHECKPOINT_NAME, METRICS_NAME, SNAPSHOT_DIR, MetricsCSV,
                                   StopFlag, load_checkpoint, prepare_run_dir, save_checkpoint)


@dataclass(frozen=True)
class TrainConfig:
    """Every knob of a run. Presets are named instances (e.g. experiments.outlier.presets); override
    with experiments.core.cli.override (type-checked) or on the command line as --key=value."""

    iters: int = 200_000              # optimizer steps (paper: 200K for Table 1, 40K for CelebA)
    batch_size: int = 64              # global batch; the supplement does not state it (our choice)
    lr: float = 1e-4                  # Adam learning rate of the network weights (paper: 1e-4)
    lr_log_gamma: float = 1e-4        # Adam learning rate of log_gamma_var (paper: same as lr)
    learn_gamma: bool = True          # False: gamma fixed at exp(log_gamma_var_init)
    log_gamma_var_init: float = 0.0   # log of the decoder variance at step 0 (0: gamma = 1)
    gamma_var_floor: float = 0.0      # lower bound on the decoder VARIANCE after each step (0: none)
    seed: int = 0                     # model init, data order and reparameterization noise
    device: str = "auto"              # auto (cuda when torch sees one, else cpu) | cpu | cuda
    precision: str = "float32"        # float32 | bf16 (autocast of the forward pass; weights stay float32)
    channels_last: bool = False       # memory format for conv layers (kept only where it measures faster)
    log_every: int = 50               # metrics.csv row every this many steps
    ckpt_every: int = 1000            # atomic checkpoint every this many steps
    keep_from: int = 0                # keep the weights at the log-spaced steps >= this (0: none)
    progress: bool = True             # tqdm bar (rank 0 only)
    # evaluation (experiments/core/evaluate.py, used by the outlier experiment)
    eval_images: int = 0              # images per evaluation set; 0 = the whole set
    eval_batch_size: int = 256
    iw_samples: int = 100             # K of the importance-weighted bound


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
    low, high = LOG_GAMMA_VAR_RANGE
    if not low <= config.log_gamma_var_init <= high:  # NaN fails too
        raise ValueError(f"log_gamma_var_init {config.log_gamma_var_init:g} is outside [{low:g}, {high:g}]: "
                         f"gamma = exp({config.log_gamma_var_init:g}) and the squared errors divided by "
                         f"it must stay finite float32 numbers (largest e^88.7)")
    if not (math.isfinite(config.gamma_var_floor) and config.gamma_var_floor >= 0):
        raise ValueError(f"gamma_var_floor must be finite and >= 0 (0 = no floor), "
                         f"got {config.gamma_var_floor}")
    if (config.gamma_var_floor > 0 and not config.learn_gamma
            and config.log_gamma_var_init < math.log(config.gamma_var_floor)):
        raise ValueError(f"gamma_var_floor {config.gamma_var_floor:g} is above the fixed gamma "
                         f"exp(log_gamma_var_init) = {math.exp(config.log_gamma_var_init):g}")
    if resolve_device(config.device) == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda requested but torch sees no CUDA device; use --device cpu or auto")
    if config.precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {config.precision!r}")
    return config


def as_unit_float(x: torch.Tensor) -> torch.Tensor:
    """A batch as float in [0, 1]: uint8 pixels v become v / 255 (large image sets, e.g. CelebA at
    128x128, stay at one byte per pixel in memory and are converted one batch at a time)."""
    return x.float().div_(255.0) if x.dtype == torch.uint8 else x


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (call before building the model so every rank inits alike)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def setup_distributed(device: str = "auto") -> tuple[int, int, torch.device]:
    """Join the process group when launched by torchrun (WORLD_SIZE > 1): gloo on CPU, nccl on CUDA.

    Returns (rank, world_size, device); a plain process gets (0, 1, device). device "auto": cuda
    when torch sees one, else cpu.
    """
    device = resolve_device(device)
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
        # Free the gloo group while the interpreter is whole: left to shutdown, its destructor can
        # abort ("terminate called without an active exception", 1 run in 12 with the barrier alone).
        gc.collect()


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


def _optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Adam:
    """Adam over the weights at `lr`, plus log_gamma_var at `lr_log_gamma` when it is learned (it is
    set to `log_gamma_var_init` first, learned or fixed)."""
    groups = [{"params": [p for name, p in model.named_parameters() if name != "log_gamma_var"],
               "lr": config.lr}]
    if has_log_gamma_var(model):
        set_log_gamma_var(model, config.log_gamma_var_init, learn=config.learn_gamma)
        if config.learn_gamma:
            groups.append({"params": [model.log_gamma_var], "lr": config.lr_log_gamma})
    try:
        # One fused kernel per step instead of ~7 elementwise ops per parameter: 2% faster on an idle
        # 2-core CPU and far steadier on a busy one (benchmarks/RESULTS.md); CPU support needs torch >= 2.4.
        return torch.optim.Adam(groups, fused=True)
    except RuntimeError:
        return torch.optim.Adam(groups)


def _batch_mean(name: str, value: torch.Tensor, batch: int) -> torch.Tensor:
    """The batch mean of a (batch,) per-sample tensor; a 0-dim per-batch tensor as it is."""
    if value.dim() == 1 and value.shape[0] == batch:
        return value.mean()
    if value.dim() != 0:
        raise ValueError(f"objective {name!r} has shape {tuple(value.shape)}; expected ({batch},) "
                         f"per sample or () per batch")
    return value


def _average_over_ranks(tensors: list[torch.Tensor], stop_now: bool, world: int) -> bool:
    """Replace each tensor by its mean over ranks with one all-reduce that also carries the stop
    flag (all ranks stop at the same step); returns whether any rank was asked to stop."""
    flag = torch.tensor([float(stop_now)], device=tensors[0].device)
    flat = torch.cat([t.reshape(-1) for t in tensors] + [flag])
    dist.all_reduce(flat)
    flat /= world
    offset = 0
    for t in tensors:
        t.copy_(flat[offset:offset + t.numel()].view_as(t))
        offset += t.numel()
    return float(flat[-1]) > 0


# ----------------------------------------------------------------------------- the loop
def train(model: torch.nn.Module, data: torch.Tensor, config: TrainConfig,
          run_dir: str | Path | None = None, *, resume: bool = False, force: bool = False,
          hook=None, model_args: dict | None = None, objective=None) -> dict:
    """Fit `model` to `data` (N, ...) with Adam on `objective` (default: the negative ELBO of
    Eq. 3 for a models.VAEProtocol model); see the module docstring."""
    config = validate(config)
    rank = dist.get_rank() if dist.is_initialized() else 0
    world = dist.get_world_size() if dist.is_initialized() else 1
    if config.batch_size % world:
        raise ValueError(f"batch_size {config.batch_size} is not divisible by {world} processes")
    if data.dim() < 2 or not (data.is_floating_point() or data.dtype == torch.uint8):
        raise ValueError(f"data must be a float or uint8 tensor (N, ...): images (N, C, H, W) or "
                         f"vectors (N, d), got {tuple(data.shape)} {data.dtype}")
    if config.channels_last and data.dim() != 4:
        raise ValueError(f"channels_last needs images (N, C, H, W), got data of shape {tuple(data.shape)}")
    has_gamma = has_log_gamma_var(model)
    if not has_gamma and (objective is None or config.gamma_var_floor > 0):
        raise ValueError("the negative ELBO (the default objective) and gamma_var_floor need a model "
                         "with a log_gamma_var parameter; pass an objective, or no floor")
    device = torch.device("cuda", torch.cuda.current_device()) \
        if resolve_device(config.device) == "cuda" else torch.device("cpu")
    if world > 1 and device.type == "cuda":
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model.to(device)
    if config.channels_last:
        model.to(memory_format=torch.channels_last)
    local = config.batch_size // world
    lo, hi = rank * local, (rank + 1) * local
    optimizer = _optimizer(model, config)
    trainable = [p for group in optimizer.param_groups for p in group["params"]]
    noise = torch.Generator(device=device).manual_seed(config.seed + 1)
    objective = NegativeELBO() if objective is None else objective
    noise_dim = getattr(model, "kappa", 0)

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
        if resume and rank == 0:
            print(f"{run_dir}: " + (f"resuming from step {start_step} of {config.iters}" if start_step
                                    else "no checkpoint yet, starting at step 0"), file=sys.stderr)
        if rank == 0:
            metrics = MetricsCSV(run_dir / METRICS_NAME, resume_step=start_step if resume else None)
    elif resume:
        raise ValueError("resume needs a run_dir")
    if world > 1 and start_step == 0:  # every rank starts from rank 0's weights
        for tensor in model.state_dict().values():
            dist.broadcast(tensor, src=0)

    def save(path: Path, state: dict) -> None:
        if run_dir is not None and rank == 0:
            save_checkpoint(run_dir / path, {**state, "model": model.state_dict(),
                                             "model_args": model_args or {}, "config": asdict(config)})

    def checkpoint(step: int) -> None:
        save(Path(CHECKPOINT_NAME), {
            "optimizer": optimizer.state_dict(), "step": step, "world_size": world,
            "noise_rng": noise.get_state(), "torch_rng": torch.get_rng_state(),
            "last_row": last_row, "elapsed_s": time.perf_counter() - t0})

    keep = set(snapshot_steps(config.iters, config.keep_from))

    # --- the loop -------------------------------------------------------------------------------
    model.train()
    d = data[0].numel()
    data = place_data(data, device)  # once, not per batch (stays on the CPU when it does not fit)
    step, interrupted, t0 = start_step, False, time.perf_counter() - elapsed
    bar = tqdm(total=config.iters, initial=start_step, desc="train", unit="step",
               disable=not config.progress or rank != 0, dynamic_ncols=True)
    with StopFlag() as stop:
        while step < config.iters:
            # data: this rank's slice of the global batch of this step
            index = batch_indices(step, data.shape[0], config.batch_size, config.seed)[lo:hi]
            x = as_unit_float(data[index.to(data.device)].to(device, non_blocking=True))
            if config.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)

            # the objective, with this rank's rows of the noise of the GLOBAL batch
            eps = torch.randn(config.batch_size, noise_dim, generator=noise, device=device)[lo:hi]
            with autocast(device, config.precision):
                out = objective(model, x, eps)
            terms = {k: v for k, v in out.items() if k not in ("loss", "z")}
            loss, z = _batch_mean("loss", out["loss"], x.shape[0]), out.get("z")
            if hook is not None and z is not None:
                z.retain_grad()

            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            stop_now = stop.signum != 0
            if world > 1:  # average gradients (and agree on stopping) with one all-reduce
                for p in trainable:
                    if p.grad is None:
                        p.grad = torch.zeros_like(p)
                stop_now = _average_over_ranks([p.grad for p in trainable], stop_now, world)
            extra = hook(step + 1, model, x, terms, z) if hook is not None else None
            optimizer.step()
            if config.gamma_var_floor > 0:
                clamp_log_gamma_var(model, config.gamma_var_floor)
            step += 1
            bar.update(1)

            if step % config.log_every == 0 or step == config.iters:
                # the row: loss and terms of this step's batch (before its update), gamma after it
                means = {"loss": loss.detach(), **{k: _batch_mean(k, v, x.shape[0]).detach().to(loss.dtype)
                                                   for k, v in terms.items()}}
                stats = torch.stack(list(means.values()))
                if world > 1:
                    dist.all_reduce(stats)
                    stats /= world
                means = dict(zip(means, stats.tolist()))
                columns = objective.columns(means, d) if hasattr(objective, "columns") else means
                last_row = {"step": step, **columns}
                if has_gamma:
                    last_row.update(gamma_values(model.log_gamma_var))
                last_row.update(time_s=time.perf_counter() - t0, **(extra or {}))
                if not math.isfinite(means["loss"]):
                    raise ValueError(f"training diverged at step {step}: loss {means['loss']}; "
                                     f"lower the learning rates (lr, lr_log_gamma)")
                if metrics is not None:
                    metrics.write(last_row)
                bar.set_postfix(loss=f"{means['loss']:.1f}",
                                **({"gamma_std": f"{last_row['gamma_std']:.4f}"} if has_gamma else {}))
            if step in keep:
                save(Path(SNAPSHOT_DIR) / f"step_{step:07d}.pt", {"step": step})
            if stop_now:
                interrupted = True
                checkpoint(step)
                break
            if step % config.ckpt_every == 0 or step == config.iters:
                checkpoint(step)
    bar.close()
    return {"step": step, "interrupted": interrupted, "metrics": last_row, "run_dir": run_dir}
