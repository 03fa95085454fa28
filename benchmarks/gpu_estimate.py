"""How long the `paper` preset of Table 1 (200K steps at batch 64 for each of the six kappa, then the
K = 100 importance-weighted BPD of 80,000 images) should take on an H100-class GPU: ESTIMATED FROM
FLOPs, NOT MEASURED (no GPU was available where this was written).

Counted here, exactly: the FLOPs of every training step and of the evaluation (experiments.core.flops,
from the layer shapes), and the kernels a training step launches (the aten operations of one step on
the CPU that do arithmetic, counted with a dispatch mode; views and detaches launch nothing).
Assumed, with their sources in ASSUMPTIONS: the H100 SXM's dense peaks, and what an eager PyTorch
operation costs on the host and on the device. A step takes at least its FLOPs at the peak and at
least its kernel count times the per-operation cost; at batch 64 the second is the larger by far, so
six processes sharing one GPU (`infgrad outlier --parallel-kappa`) are limited by the device time
of their kernels, not by arithmetic.

    python -m benchmarks.gpu_estimate            # the markdown table of benchmarks/RESULTS.md
"""
from __future__ import annotations

import argparse

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from experiments.core.evaluate import per_image_bpd
from experiments.core.flops import duration, vae_flops
from experiments.core.losses import NegativeELBO
from experiments.outlier.model import OutlierVAE
from experiments.outlier.presets import PRESETS

KAPPAS = (16, 32, 64, 128, 256, 512)  # Table 1
EVAL_SETS = (60_000, 10_000, 10_000)  # FashionMNIST train and test, MNIST test (eval_images = 0: all)
EVAL_IMAGES = sum(EVAL_SETS)
ASSUMPTIONS = {
    # NVIDIA H100 SXM5 datasheet, dense (no sparsity). cuDNN runs float32 convolutions on TF32
    # tensor cores by default in torch (torch.backends.cudnn.allow_tf32 = True).
    "tf32_peak_flops": 495e12,
    "bf16_peak_flops": 989e12,
    "fp32_peak_flops": 67e12,
    # Host time of one eager PyTorch operation (Python, dispatcher, kernel launch): 5-20 us is the
    # usual range; the middle is used and the range is shown.
    "host_s_per_op": 10e-6,
    "host_s_per_op_range": (5e-6, 20e-6),
    # Device time of a kernel that does almost no arithmetic (launch latency, a few waves of
    # threads): about 3 us.
    "device_s_per_kernel": 3e-6,
}
_NO_KERNEL = {"detach", "t", "view", "_unsafe_view", "reshape", "expand", "as_strided", "permute",
              "transpose", "squeeze", "unsqueeze", "alias", "slice", "select", "empty", "lift_fresh"}


class _OpCounter(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.kernels = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__.split(".")[-1]
        if name.rstrip("_") not in _NO_KERNEL:
            self.kernels += 1
        return func(*args, **(kwargs or {}))


def kernels_per_step(kappa: int = 64, batch_size: int = 64) -> int:
    """Arithmetic aten operations of one steady-state training step (forward, backward, fused Adam)."""
    torch.manual_seed(0)
    model = OutlierVAE(kappa)
    optimizer = torch.optim.Adam(model.parameters(), fused=True)
    x, eps = torch.rand(batch_size, 1, 32, 32), torch.randn(batch_size, kappa)
    for _ in range(2):  # the second step: Adam's state exists
        with _OpCounter() as counter:
            loss = NegativeELBO()(model, x, eps)["loss"].mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return counter.kernels


def kernels_per_eval_batch(iw_samples: int, kappa: int = 64) -> int:
    """Arithmetic aten operations of per_image_bpd on one batch (ELBO pass and the K-sample bound):
    counted at K = 1 and K = 2 (the bound's loop repeats the same operations per sample) and
    extrapolated linearly to `iw_samples`; the count does not depend on the batch size."""
    torch.manual_seed(0)
    model = OutlierVAE(kappa).eval()
    images = torch.rand(2, 1, 32, 32)
    counts = []
    for k in (1, 2):
        with _OpCounter() as counter:
            per_image_bpd(model, images, iw_samples=k, batch_size=2)
        counts.append(counter.kernels)
    return counts[0] + (iw_samples - 1) * (counts[1] - counts[0])


def estimate() -> dict:
    """The numbers of the table (see the module docstring for what is counted and what assumed)."""
    config = PRESETS["paper"]
    train, evaluation = {}, {}
    for kappa in KAPPAS:
        per = vae_flops(lambda: OutlierVAE(kappa), (1, 32, 32))
        train[kappa] = config.iters * config.batch_size * per.train
        evaluation[kappa] = EVAL_IMAGES * (2 * per.encode + (config.iw_samples + 1) * per.decode)
    kernels = kernels_per_step()
    a = ASSUMPTIONS
    step_flops = train[64] / config.iters
    host_step = kernels * a["host_s_per_op"]
    device_step = kernels * a["device_s_per_kernel"] + step_flops / a["tf32_peak_flops"]
    eval_batches = sum(-(-n // config.eval_batch_size) for n in EVAL_SETS)
    eval_kernels = eval_batches * kernels_per_eval_batch(config.iw_samples)
    eval_host = eval_kernels * a["host_s_per_op"]  # per kappa
    eval_device = eval_kernels * a["device_s_per_kernel"] + evaluation[64] / a["tf32_peak_flops"]
    return {"eval_kernels": eval_kernels, "eval_s": len(KAPPAS) * max(eval_host, eval_device),
            "eval_concurrent_s": max(eval_host, len(KAPPAS) * eval_device),"iters": config.iters, "batch": config.batch_size, "iw": config.iw_samples,
            "train": train, "eval": evaluation, "kernels": kernels, "step_flops": step_flops,
            "flop_step": {k: step_flops / a[f"{k}_peak_flops"] for k in ("tf32", "bf16", "fp32")},
            "host_step": host_step, "host_step_range": tuple(kernels * t for t in a["host_s_per_op_range"]),
            "device_step": device_step,
            # one process per kappa, one after another: each step waits for the host
            "sequential_s": len(KAPPAS) * config.iters * max(host_step, device_step),
            # six processes at once: each host keeps launching, the device runs one kernel at a time
            "concurrent_s": config.iters * max(host_step, len(KAPPAS) * device_step)}


def format_markdown(e: dict) -> str:
    a = ASSUMPTIONS
    total_train, total_eval = sum(e["train"].values()), sum(e["eval"].values())
    lo, hi = e["host_step_range"]
    return "\n".join([
        f"Paper preset: {e['iters']:,} steps at batch {e['batch']} per kappa, six kappa, then the K = "
        f"{e['iw']} bound on {EVAL_IMAGES:,} images. ESTIMATED FROM FLOPs, NOT MEASURED.", "",
        "| quantity | value | counted or assumed |", "|---|---|---|",
        f"| one training step, kappa = 64 | {e['step_flops'] / 1e9:.1f} GFLOP | counted (layer shapes) |",
        f"| training, six kappa | {total_train / 1e15:.2f} PFLOP | counted |",
        f"| evaluation, six kappa | {total_eval / 1e15:.2f} PFLOP | counted |",
        f"| one step at the H100 SXM peak: TF32 {a['tf32_peak_flops'] / 1e12:.0f} / BF16 "
        f"{a['bf16_peak_flops'] / 1e12:.0f} / FP32 {a['fp32_peak_flops'] / 1e12:.0f} TFLOP/s | "
        f"{e['flop_step']['tf32'] * 1e6:.0f} / {e['flop_step']['bf16'] * 1e6:.0f} / "
        f"{e['flop_step']['fp32'] * 1e6:.0f} us | peaks assumed (datasheet, dense) |",
        f"| kernels launched per step | {e['kernels']} | counted (aten operations on the CPU) |",
        f"| host time per step at {a['host_s_per_op'] * 1e6:.0f} us per operation | "
        f"{e['host_step'] * 1e3:.2f} ms ({lo * 1e3:.1f}-{hi * 1e3:.1f} ms at "
        f"{a['host_s_per_op_range'][0] * 1e6:.0f}-{a['host_s_per_op_range'][1] * 1e6:.0f} us) | assumed per operation |",
        f"| device time per step ({a['device_s_per_kernel'] * 1e6:.0f} us per kernel + FLOPs at TF32 peak) | "
        f"{e['device_step'] * 1e3:.2f} ms | assumed per kernel |",
        f"| kernels of the evaluation, per kappa | {e['eval_kernels']:,} | counted (K = 1, 2; linear in K) |",
        f"| **training, six kappa one after another** | **{duration(e['sequential_s'])}** (host-bound; "
        f"{duration(e['sequential_s'] * lo / e['host_step'])} to "
        f"{duration(e['sequential_s'] * hi / e['host_step'])}) | estimated |",
        f"| **training, six kappa at once** (`--parallel-kappa`) | **{duration(e['concurrent_s'])}** "
        f"(device-bound) | estimated |",
        f"| evaluation, six kappa (one after another / at once) | {duration(e['eval_s'])} / "
        f"{duration(e['eval_concurrent_s'])} | estimated |"])


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m benchmarks.gpu_estimate",
                            description=__doc__.split("\n\n")[0]).parse_args(argv)
    print(format_markdown(estimate()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
