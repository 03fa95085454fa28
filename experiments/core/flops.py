"""FLOPs of a VAE's encoder and decoder, counted from the layer shapes, and what they predict for a
run's time on this machine (from one timed training step). Used by the experiments' commands (the
line they print before a run) and by benchmarks/.

Counted: 2 x the multiply-adds of every Conv2d (2 C_in k^2 C_out H_out W_out / groups), ConvTranspose2d
(2 C_in k^2 C_out H_in W_in / groups: every input pixel is scattered through a C_out x k x k kernel)
and Linear (2 in out) layer, per image. Batch norm, ReLU, the loss and Adam are elementwise
(O(activations + parameters), under 1% here) and not counted. A training step is forward + backward:
one product for the weight gradients of every layer and one for the input gradients of every layer
but the first (its input, the image, needs none), so train = 3 forward - forward(first layer).
The network is built on torch's meta device: shapes only, nothing allocated or computed.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn

from experiments.core.device import autocast
from experiments.core.losses import NegativeELBO

_COUNTED = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)


def layer_flops(model: nn.Module, call) -> list[tuple[str, int]]:
    """(layer name, FLOPs) of every counted layer that `call()` runs, in call order, divided by the
    batch size of each layer's input (so per image for a batch of images)."""
    names = {m: n for n, m in model.named_modules() if isinstance(m, _COUNTED)}
    per_layer: list[tuple[str, int]] = []

    def hook(module, inputs, output):
        x = inputs[0]
        if isinstance(module, nn.Linear):
            flops = 2 * module.in_features * module.out_features
        else:
            k = module.kernel_size[0] * module.kernel_size[1]
            pixels = output.shape[-2] * output.shape[-1] if isinstance(module, nn.Conv2d) \
                else x.shape[-2] * x.shape[-1]
            flops = 2 * module.in_channels * k * module.out_channels * pixels // module.groups
        per_layer.append((names[module], flops))

    handles = [m.register_forward_hook(hook) for m in names]
    try:
        call()
    finally:
        for h in handles:
            h.remove()
    return per_layer


@dataclass(frozen=True)
class VAEFlops:
    """FLOPs per image of one encoder pass, one decoder pass and one training step."""

    encode: int
    decode: int
    first_layer: int  # the encoder's first layer: no input gradient in the backward pass
    layers: tuple[tuple[str, int], ...]

    @property
    def forward(self) -> int:
        return self.encode + self.decode

    @property
    def train(self) -> int:
        return 3 * self.forward - self.first_layer


def vae_flops(build, input_shape: tuple[int, ...]) -> VAEFlops:
    """Count the VAE that `build()` returns (a models.VAEProtocol) on images of `input_shape`
    (C, H, W), built on the meta device."""
    with torch.device("meta"):
        model = build().eval()
        x = torch.zeros(1, *input_shape)
        encoder = layer_flops(model, lambda: model.encode(x))
        decoder = layer_flops(model, lambda: model.decode(torch.zeros(1, model.kappa)))
    return VAEFlops(encode=sum(f for _, f in encoder), decode=sum(f for _, f in decoder),
                    first_layer=encoder[0][1], layers=tuple(encoder + decoder))


def step_seconds(build, input_shape: tuple[int, ...], batch_size: int, device: torch.device,
                 precision: str = "float32", timed: int = 2) -> float:
    """Seconds of one training step of the VAE `build()` returns (negative ELBO, Adam) on random
    images of `input_shape` at `batch_size` on `device`: the fastest of `timed` steps after one
    warm-up step (allocator, kernel choice). Global RNG draws are the caller's to reseed."""
    model = build().to(device)
    optimizer = torch.optim.Adam(model.parameters())
    x = torch.rand(batch_size, *input_shape, device=device)
    eps = torch.randn(batch_size, model.kappa, device=device)
    best = float("inf")
    for step in range(1 + timed):
        start = time.perf_counter()
        with autocast(device, precision):
            loss = NegativeELBO()(model, x, eps)["loss"].mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        if step:
            best = min(best, time.perf_counter() - start)
    return best


def duration(seconds: float) -> str:
    """A rough duration: '40 s', '12 min', '3.4 h'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def time_estimate(total_flops: float, step_flops: float, step_s: float) -> str:
    """`total_flops` at the rate of one timed training step (`step_flops` in `step_s` seconds), as
    the phrase a command prints before a run; evaluation is assumed to run at the same rate."""
    rate = step_flops / step_s
    return (f"{total_flops / 1e12:.3g} TFLOP, about {duration(total_flops / rate)} at the "
            f"{rate / 1e9:.3g} GFLOP/s of one timed training step here")
