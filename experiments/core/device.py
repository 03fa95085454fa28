"""Where and how a run computes: the device (`auto` is CUDA when torch sees one, else the CPU), the
precision (float32, or bfloat16 autocast of the forward pass), the training data staged on the
device once when it fits, and a check that the model's training state fits before it is built.
"""
from __future__ import annotations

import contextlib
import os

import torch

DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("float32", "bf16")
# Training keeps four float32 copies of every parameter: the weights, their gradients and Adam's
# two moments (activations come on top; they scale with the batch, not with the model).
TRAINING_COPIES = 4
# The data set is staged on an accelerator only if it takes at most this share of its free memory,
# leaving the rest to the weights, the activations and the allocator's slack.
DATA_SHARE = 0.5


def resolve_device(name: str) -> str:
    """"auto" -> "cuda" when torch sees a CUDA device, else "cpu"; "cpu" and "cuda" as they are."""
    if name not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {name!r}")
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return name


def autocast(device: torch.device, precision: str):
    """The context of the forward pass: nothing for float32; bfloat16 autocast for "bf16" (convs and
    matmuls in bf16 with float32 accumulation, the weights and Adam's state stay float32; the
    losses cast their inputs back to float32 before summing, experiments.core.losses). Its bound
    against float32 is derived in infgrad/tolerances.py (BF16_*). Caution: bf16 rounds the decoder
    mean by up to 2^-9 = 0.002 for pixels in [0.5, 1), the size of Table 1's final gamma as a
    standard deviation, so late in training the rounding is as large as what gamma measures."""
    if precision == "float32":
        return contextlib.nullcontext()
    if precision != "bf16":
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def available_memory(device: torch.device) -> int:
    """Bytes free on `device`: the CUDA allocator's free memory, or the CPU's available memory
    (MemAvailable of /proc/meminfo; elsewhere the free physical pages)."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def _gigabytes(n_bytes: float) -> str:
    return f"{n_bytes / 1e9:.3g} GB" if n_bytes < 1e12 else f"{n_bytes / 1e12:.3g} TB"


def check_model_fits(build, device: torch.device, what: str) -> int:
    """Build the model on torch's meta device (shapes only, no memory), count its parameters and
    raise a one-line ValueError naming `what` (e.g. "--kappa 100000000") when their training state
    (TRAINING_COPIES float32 copies) exceeds the memory available on `device`. Returns the count."""
    with torch.device("meta"):
        model = build()
    n_parameters = sum(p.numel() for p in model.parameters())
    needed = n_parameters * 4 * TRAINING_COPIES
    available = available_memory(device)
    if needed > available:
        raise ValueError(f"{what}: the model has {n_parameters:.3g} parameters, {_gigabytes(needed)} with "
                         f"gradients and Adam's two moments, more than the {_gigabytes(available)} "
                         f"available on {device.type}")
    return n_parameters


def place_data(data: torch.Tensor, device: torch.device, free_bytes: int | None = None) -> torch.Tensor:
    """The training set on `device` once, when it takes at most DATA_SHARE of its free memory
    (`free_bytes`, default: measured), so that a step indexes it there instead of copying a batch
    from the CPU; otherwise (or on the CPU) `data` as it is."""
    if device.type == "cpu" or data.device == device:
        return data
    free = available_memory(device) if free_bytes is None else free_bytes
    return data.to(device) if data.numel() * data.element_size() <= DATA_SHARE * free else data


@contextlib.contextmanager
def torch_threads(threads: int | None):
    """Run the block with `threads` CPU threads in torch (None: leave the count as it is), and give
    the caller its own count back afterwards (a caller in the same process, e.g. the tests)."""
    if threads is not None and threads < 1:
        raise ValueError(f"--threads must be >= 1, got {threads}")
    previous = torch.get_num_threads()
    try:
        if threads is not None:
            torch.set_num_threads(threads)
        yield
    finally:
        torch.set_num_threads(previous)
