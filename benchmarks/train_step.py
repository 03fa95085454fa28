"""Speed of one training step of the outlier VAE (supplement section 7) against this machine's peak.

Measures, in ONE run so that every number shares the machine's state: the float32 matmul peak
(a large torch.mm: before, after, and once per round), the model's FLOPs per image (analytic,
cross-checked with torch.utils.flop_counter.FlopCounterMode), and iterations/s and images/s of
(a) a plain reference loop (encode, reparameterize, decode, Eq. 3, torch.optim.Adam with torch's
defaults; nothing else) and (b) the project's trainer `experiments.core.train.train`, each with and
without channels_last, and (c) the plain loop with Adam(fused=True). Optional: evaluation under
torch.no_grad vs torch.inference_mode (--eval), torch.compile of the plain step (--compile).

Variants are timed in many short interleaved rounds (A B C D, A B C D, ...) so that a burst of
load from other processes on a shared machine hits every variant alike. Every step is timed; the
table gives the fastest step (the machine's capability, least disturbed by other processes; what
the rates and fractions use) and the median step.

    python -m benchmarks.train_step                      # about a minute on 2 quiet cores
    python -m benchmarks.train_step --eval --compile     # the optional measurements (separately)
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from experiments.core import datasets as data
from experiments.core.cli import override
from experiments.core.flops import vae_flops
from experiments.core.losses import eq3_terms, vae_forward
from experiments.core.train import train
from experiments.outlier.model import OutlierVAE
from experiments.outlier.presets import PRESETS


# ----------------------------------------------------------------------------- machine peak
def matmul_peak_gflops(n: int = 2048, repeats: int = 5) -> float:
    """Best float32 GFLOP/s of an n x n by n x n torch.mm (2 n^3 FLOPs) over `repeats` timings."""
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    torch.mm(a, b)  # warm-up: thread pool, MKL dispatch
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


# ----------------------------------------------------------------------------- FLOPs per image
# The count from the layer shapes is experiments.core.flops.vae_flops (its rule and what it leaves
# out are in that module's docstring); torch's own FlopCounterMode cross-checks it here.
def flop_counter_flops(model: nn.Module, batch: int = 4, image_shape=(1, 32, 32)) -> dict[str, int]:
    """FLOPs per image that torch's FlopCounterMode attributes to one forward and one training step."""
    x = torch.rand(batch, *image_shape)
    model.train()
    with FlopCounterMode(display=False) as forward_counter:
        with torch.no_grad():
            mu_z, log_sigma_z = model.encode(x)
            model.decode(mu_z)
    with FlopCounterMode(display=False) as train_counter:
        terms, _ = vae_forward(model, x)
        terms["neg_elbo"].mean().backward()
    model.zero_grad(set_to_none=True)
    return {"forward": forward_counter.get_total_flops() // batch,
            "train": train_counter.get_total_flops() // batch}


# ----------------------------------------------------------------------------- the two loops
class PlainLoop:
    """The reference: random batch, encode, z = mu + sigma * eps, decode, Eq. (3) loss, Adam step."""

    def __init__(self, model: nn.Module, images: torch.Tensor, batch_size: int, lr: float = 1e-4,
                 channels_last: bool = False, fused_adam: bool = False, seed: int = 0):
        self.model, self.images, self.batch_size = model, images, batch_size
        self.channels_last = channels_last
        if channels_last:
            model.to(memory_format=torch.channels_last)
        # fused=None is torch's default: on CPU a Python loop of ~7 elementwise ops per parameter
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr, fused=fused_adam or None)
        self.generator = torch.Generator().manual_seed(seed)
        model.train()

    def step(self) -> None:
        index = torch.randint(0, self.images.shape[0], (self.batch_size,), generator=self.generator)
        x = self.images[index]
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        mu_z, log_sigma_z = self.model.encode(x)
        z = mu_z + torch.exp(log_sigma_z) * torch.randn(mu_z.shape, generator=self.generator)
        x_mean = self.model.decode(z)
        loss = eq3_terms(x, x_mean, mu_z, log_sigma_z, self.model.log_gamma_var)["neg_elbo"].mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()

    def run(self, steps: int) -> list[float]:
        """Seconds of each of `steps` steps."""
        times = []
        for _ in range(steps):
            t0 = time.perf_counter()
            self.step()
            times.append(time.perf_counter() - t0)
        return times


class TrainerLoop:
    """The project's trainer, `experiments.core.train.train` (quick preset settings, no run folder, no
    progress bar). A hook stamps the time once per step, so the interval between two stamps is one
    whole step (optimizer step, next batch, forward, backward); the hook's only side effect is
    `z.retain_grad()` on a (batch, kappa) tensor."""

    def __init__(self, model: nn.Module, images: torch.Tensor, batch_size: int,
                 channels_last: bool = False):
        self.model, self.images = model, images
        self.config = override(PRESETS["quick"], batch_size=batch_size, progress=False,
                               channels_last=channels_last, device="cpu")

    def run(self, steps: int) -> list[float]:
        stamps = []
        config = dataclasses.replace(self.config, iters=steps + 1)
        train(self.model, self.images, config, hook=lambda *_: stamps.append(time.perf_counter()))
        return list(np.diff(stamps))


def compiled_plain_loop(model: nn.Module, images: torch.Tensor, batch_size: int, steps: int,
                        rounds: int) -> dict:
    """torch.compile of the loss (forward; backward through AOTAutograd); Adam stays eager."""

    class Loss(nn.Module):
        def __init__(self, vae):
            super().__init__()
            self.vae = vae

        def forward(self, x, eps):
            mu_z, log_sigma_z = self.vae.encode(x)
            x_mean = self.vae.decode(mu_z + torch.exp(log_sigma_z) * eps)
            return eq3_terms(x, x_mean, mu_z, log_sigma_z, self.vae.log_gamma_var)["neg_elbo"].mean()

    loss_fn = torch.compile(Loss(model))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    generator = torch.Generator().manual_seed(0)
    model.train()

    def step():
        index = torch.randint(0, images.shape[0], (batch_size,), generator=generator)
        eps = torch.randn(batch_size, model.kappa, generator=generator)
        loss = loss_fn(images[index], eps)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    t0 = time.perf_counter()
    step()  # compiles forward and backward graphs
    compile_s = time.perf_counter() - t0
    step()
    times = []
    for _ in range(rounds * steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return {"compile_s": compile_s, "steps_s": times}


# ----------------------------------------------------------------------------- evaluation modes
def evaluation_modes(model: nn.Module, images: torch.Tensor, batch_size: int, n_images: int,
                     rounds: int) -> dict[str, float]:
    """Seconds per image of one ELBO evaluation pass under no_grad and under inference_mode
    (fastest and median of `rounds` interleaved passes)."""
    model.eval()
    x_all = images[:n_images]
    generator = torch.Generator()

    def one_pass():
        for start in range(0, n_images, batch_size):
            vae_forward(model, x_all[start:start + batch_size], generator)

    results: dict[str, list[float]] = {"no_grad": [], "inference_mode": []}
    for _ in range(rounds):
        for mode, context in (("no_grad", torch.no_grad), ("inference_mode", torch.inference_mode)):
            with context():
                t0 = time.perf_counter()
                one_pass()
                results[mode].append((time.perf_counter() - t0) / n_images)
    model.train()
    return {f"{mode}_{stat.__name__}": stat(times) for mode, times in results.items()
            for stat in (min, statistics.median)}


# ----------------------------------------------------------------------------- Adam alone
def adam_step_times(model: nn.Module, repeats: int = 20) -> dict[str, dict[str, float]]:
    """Milliseconds of one optimizer.step() (random gradients) for torch's default Adam on CPU
    (a Python loop of elementwise ops per parameter tensor), foreach=True and fused=True."""
    for p in model.parameters():
        p.grad = torch.randn_like(p)
    results = {}
    for label, options in (("default", {}), ("foreach", {"foreach": True}), ("fused", {"fused": True})):
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, **options)
        optimizer.step()  # creates the state
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            optimizer.step()
            times.append(time.perf_counter() - t0)
        results[label] = {"fastest_ms": min(times) * 1e3, "median_ms": statistics.median(times) * 1e3}
    model.zero_grad(set_to_none=True)
    return results


# ----------------------------------------------------------------------------- main
VARIANTS = ("plain", "trainer", "plain-channels-last", "trainer-channels-last", "plain-fused-adam")


def summarize(steps_s: list[float], flops_per_step: float, peak_gflops: float) -> dict:
    """Best and median seconds per step, and the rates the best one implies."""
    best, median = min(steps_s), statistics.median(steps_s)
    return {"step_s": best, "median_step_s": median, "steps_s": steps_s,
            "it_per_s": 1 / best, "gflops": flops_per_step / best / 1e9,
            "fraction_of_peak": flops_per_step / best / 1e9 / peak_gflops,
            "median_fraction_of_peak": flops_per_step / median / 1e9 / peak_gflops}


def load_images(limit: int | None) -> tuple[torch.Tensor, str]:
    try:
        images, _ = data.load_fashion_mnist("train", download=False)
        source = "FashionMNIST train"
    except data.DataError:
        images = np.random.default_rng(0).integers(0, 256, (60_000, 28, 28), dtype=np.uint8)
        source = "random uint8 images (FashionMNIST not found)"
    if limit:
        images = images[:limit]
    return data.pad_to_32(images), source


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.train_step", description=__doc__.split("\n\n")[0])
    parser.add_argument("--kappa", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=5, help="timed steps per round and variant")
    parser.add_argument("--rounds", type=int, default=8, help="interleaved rounds (best and median reported)")
    parser.add_argument("--variants", default=",".join(VARIANTS[:5]),
                        help=f"comma-separated, from {', '.join(VARIANTS)}")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads (default: torch's choice, one per core)")
    parser.add_argument("--eval", action="store_true", help="also time no_grad vs inference_mode")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (slow to compile)")
    parser.add_argument("--adam", action="store_true", help="also time optimizer.step() alone")
    parser.add_argument("--json", default=None, help="write the raw numbers to this file")
    parser.add_argument("--budget-s", type=float, default=120.0,
                        help="stop starting new rounds after this many seconds of timing")
    args = parser.parse_args(argv)
    for name in ("kappa", "batch_size", "steps", "rounds"):
        if getattr(args, name) < 1:
            print(f"error: --{name.replace('_', '-')} must be >= 1", file=sys.stderr)
            return 2
    variants = [v for v in args.variants.split(",") if v]
    if set(variants) - set(VARIANTS):
        print(f"error: --variants: unknown {sorted(set(variants) - set(VARIANTS))}; choose from "
              f"{', '.join(VARIANTS)}", file=sys.stderr)
        return 2
    if args.threads is not None:
        if args.threads < 1:
            print("error: --threads must be >= 1", file=sys.stderr)
            return 2
        torch.set_num_threads(args.threads)

    torch.manual_seed(0)
    images, source = load_images(None)
    peak_before = matmul_peak_gflops()
    probe = OutlierVAE(kappa=args.kappa)
    counted_flops = vae_flops(lambda: OutlierVAE(kappa=args.kappa), (1, 32, 32))
    flops = {"forward": counted_flops.forward, "train": counted_flops.train}
    counted = flop_counter_flops(probe)

    def make(variant: str):
        torch.manual_seed(0)
        model = OutlierVAE(kappa=args.kappa)
        channels_last = variant.endswith("channels-last")
        if variant.startswith("plain"):
            loop = PlainLoop(model, images, args.batch_size, channels_last=channels_last,
                             fused_adam=variant == "plain-fused-adam")
        else:
            loop = TrainerLoop(model, images, args.batch_size, channels_last=channels_last)
        loop.run(2)  # warm-up: allocator, oneDNN primitive cache
        return loop

    loops = {v: make(v) for v in variants}
    per_step = {v: [] for v in variants}
    peak_probes = []  # one matmul timing per round: the peak sees the same load as the steps
    t_start = time.perf_counter()
    for completed in range(1, args.rounds + 1):
        for v in variants:
            per_step[v].extend(loops[v].run(args.steps))
        peak_probes.append(matmul_peak_gflops(repeats=1))
        if time.perf_counter() - t_start > args.budget_s:
            break
    args.rounds = completed  # what was actually run (the budget may cut rounds short)
    peak_after = matmul_peak_gflops()
    peak = max(peak_before, peak_after, *peak_probes)

    results = {"machine": {"nproc": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                           "torch": torch.__version__, "python": platform.python_version(),
                           "cpu": platform.processor() or platform.machine()},
               "config": vars(args), "data": source,
               "peak_gflops": {"before": peak_before, "after": peak_after, "probes": peak_probes,
                               "used": peak},
               "flops_per_image": {"analytic_forward": flops["forward"], "analytic_train": flops["train"],
                                   "counter_forward": counted["forward"], "counter_train": counted["train"]},
               "variants": {}}
    for v in variants:
        results["variants"][v] = summarize(per_step[v], flops["train"] * args.batch_size, peak)

    if args.adam:
        results["adam_step"] = adam_step_times(OutlierVAE(kappa=args.kappa))
    if args.eval:
        model = OutlierVAE(kappa=args.kappa)
        results["eval_s_per_image"] = evaluation_modes(model, images, 256, 1024, args.rounds)
    if args.compile:
        torch.manual_seed(0)
        model = OutlierVAE(kappa=args.kappa)
        compiled = compiled_plain_loop(model, images, args.batch_size, args.steps, args.rounds)
        results["compiled"] = {**summarize(compiled["steps_s"], flops["train"] * args.batch_size, peak),
                               "compile_s": compiled["compile_s"]}

    print(format_markdown(results))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2, default=str)
    return 0


def format_markdown(results: dict) -> str:
    m, f, p = results["machine"], results["flops_per_image"], results["peak_gflops"]
    cfg = results["config"]
    lines = [
        f"machine: nproc={m['nproc']}, torch threads={m['torch_threads']}, torch {m['torch']}, "
        f"Python {m['python']}; data: {results['data']}",
        f"kappa={cfg['kappa']}, batch={cfg['batch_size']}, {cfg['rounds']} interleaved rounds of "
        f"{cfg['steps']} steps per variant",
        "",
        f"float32 matmul peak (2048^3 torch.mm): best of 5 {p['before']:.1f} GFLOP/s before, "
        f"{p['after']:.1f} after, one per round {min(p['probes']):.1f} to {max(p['probes']):.1f}; "
        f"fractions below use the highest, {p['used']:.1f}",
        f"FLOPs per image: forward {f['analytic_forward'] / 1e6:.2f} M analytic "
        f"({f['counter_forward'] / 1e6:.2f} M FlopCounterMode); training step "
        f"{f['analytic_train'] / 1e6:.2f} M analytic = 3 x forward - first conv "
        f"({f['counter_train'] / 1e6:.2f} M FlopCounterMode)",
        "",
        "| loop | s/step fastest (median) | it/s | images/s | GFLOP/s | fraction of matmul peak "
        "fastest (median) |",
        "|---|---|---|---|---|---|",
    ]
    rows = dict(results["variants"])
    if "compiled" in results:
        rows["plain + torch.compile"] = results["compiled"]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['step_s']:.3f} ({r['median_step_s']:.3f}) | "
                     f"{1 / r['step_s']:.2f} | {cfg['batch_size'] / r['step_s']:.0f} | "
                     f"{r['gflops']:.1f} | {r['fraction_of_peak']:.0%} "
                     f"({r['median_fraction_of_peak']:.0%}) |")
    if "compiled" in results:
        lines.append(f"\ntorch.compile: first step (compiling forward + backward) took "
                     f"{results['compiled']['compile_s']:.1f} s")
    if "adam_step" in results:
        lines.append("\nAdam optimizer.step() alone, ms fastest (median): " + ", ".join(
            f"{k} {v['fastest_ms']:.1f} ({v['median_ms']:.1f})" for k, v in results["adam_step"].items()))
    if "eval_s_per_image" in results:
        e = results["eval_s_per_image"]
        lines.append(
            f"\nevaluation (ELBO pass, batch 256, 1024 images, eval mode), ms/image fastest (median): "
            f"no_grad {e['no_grad_min'] * 1e3:.3f} ({e['no_grad_median'] * 1e3:.3f}), inference_mode "
            f"{e['inference_mode_min'] * 1e3:.3f} ({e['inference_mode_median'] * 1e3:.3f})")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
