"""Tests of experiments/celeba/net.py: the network of supplement section 7 ("Gradient Magnitude and
MMD Experiments") at 128x128 and in its 64x64 variant, and the channel-width factor."""
from __future__ import annotations

import pytest

from tests.experiments_support import needs_experiments

torch = needs_experiments()
from torch import nn  # noqa: E402

from experiments.celeba.net import PAPER_CHANNELS, CelebaVAE, scaled_channels
from experiments.core.models import VAEProtocol, set_log_gamma_var


def _encoder_maps(model: CelebaVAE, x: torch.Tensor) -> list[tuple[int, ...]]:
    """Output shapes (C, H, W) of every conv of the encoder, in order."""
    shapes = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape[1:])))
             for m in model.encoder.modules() if isinstance(m, nn.Conv2d)]
    model.encode(x)
    for h in hooks:
        h.remove()
    return shapes


@pytest.mark.parametrize("size, last_map, bottleneck", [
    (128, (1024, 4, 4), (4, 4, 4)),   # supplement section 7: 4x4x1024, 1x1 conv to 4x4x4
    (64, (1024, 2, 2), (16, 2, 2)),   # our 64x64 variant: same layers, flattened feature kept at 64
])
def test_paper_width_encoder_follows_section7_shapes(size, last_map, bottleneck):
    """5 convs of kernel 5 / stride 2 with 64..1024 channels halve the side 5 times; the 1x1 conv
    leaves 64 features; two heads give 64-dim mu_z and log sigma_z; the decoder returns the input shape."""
    torch.manual_seed(0)
    model = CelebaVAE(size=size, image_channels=3, width=1.0)
    convs = [m for m in model.encoder.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.kernel_size, c.stride) for c in convs[:5]] == [((5, 5), (2, 2))] * 5
    assert convs[5].kernel_size == (1, 1)
    x = torch.rand(2, 3, size, size)
    with torch.no_grad():
        shapes = _encoder_maps(model, x)
    expected = [(c, size // 2 ** (k + 1), size // 2 ** (k + 1)) for k, c in enumerate(PAPER_CHANNELS)]
    assert shapes == expected + [bottleneck]
    assert shapes[4] == last_map
    with torch.no_grad():
        mu_z, log_sigma_z = model.encode(x)
        assert mu_z.shape == log_sigma_z.shape == (2, 64)
        assert model.decode(mu_z).shape == x.shape


def test_width_factor_scales_channels_and_keeps_depth_and_latent_size():
    """width 1/8: 8/16/32/64/128 channels, the same number of layers and a 64-dim latent space."""
    assert scaled_channels(1.0) == PAPER_CHANNELS
    assert scaled_channels(0.125) == (8, 16, 32, 64, 128)
    narrow, wider = CelebaVAE(size=64, image_channels=1, width=0.125), CelebaVAE(size=64, image_channels=1, width=0.5)
    layer_types = lambda m: [type(x).__name__ for x in m.modules()]  # noqa: E731
    assert layer_types(narrow) == layer_types(wider)
    x = torch.rand(3, 1, 64, 64)
    assert _encoder_maps(narrow, x)[:5] == [(c, 64 // 2 ** (k + 1), 64 // 2 ** (k + 1))
                                            for k, c in enumerate((8, 16, 32, 64, 128))]
    assert narrow.encode(x)[0].shape == (3, 64) and narrow(x).shape == x.shape


def test_network_implements_the_vae_protocol_and_splits_its_parameters():
    """models.VAEProtocol (encode, decode, log_gamma_var = log of the decoder VARIANCE, kappa); the
    encoder / decoder parameter lists plus log_gamma_var cover every parameter exactly once."""
    model = CelebaVAE(size=64, image_channels=3, width=0.125)
    set_log_gamma_var(model, -2.0)
    assert isinstance(model, VAEProtocol) and model.kappa == 64
    assert model.log_gamma_var.dim() == 0 and model.log_gamma_var.item() == -2.0
    ids = [id(p) for p in model.encoder_parameters() + model.decoder_parameters()]
    ids.append(id(model.log_gamma_var))
    assert sorted(ids) == sorted(id(p) for p in model.parameters())


@pytest.mark.parametrize("kwargs, match", [
    ({"size": 96}, "size=96"), ({"width": 0.0}, "width=0.0"), ({"kappa": 0}, "kappa=0"),
])
def test_bad_arguments_are_value_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CelebaVAE(**kwargs)
