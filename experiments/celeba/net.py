"""The VAE of the CelebA experiment (main-text Figure 4; supplement section 7, "Gradient Magnitude and
MMD Experiments"), following the VAE protocol of experiments/core/models.py.

Convention: decoder N(mu_x(z), gamma I) with one scalar gamma, the theory's decoder VARIANCE, stored as
the 0-dim parameter `log_gamma_var`; `requires_grad=False` on it keeps gamma fixed (arm 2 of Figure 4).
"""
from __future__ import annotations

import torch
from torch import nn

PAPER_CHANNELS = (64, 128, 256, 512, 1024)  # supplement section 7, encoder conv layers 1..5
BOTTLENECK_FEATURES = 64  # 4 x 4 x 4 after the 1x1 conv at 128x128, kept at 64x64 (see CelebaVAE)
SIZES = (64, 128)


def scaled_channels(width: float) -> tuple[int, ...]:
    """The paper's channel counts times `width` (rounded, at least 1): width 1 is the paper's
    network, width 1/8 gives 8/16/32/64/128 with the same depth, kernels, strides and latent size."""
    if not width > 0:
        raise ValueError(f"width={width}: the channel-width factor must be positive")
    return tuple(max(1, round(c * width)) for c in PAPER_CHANNELS)


def _down(c_in: int, c_out: int) -> nn.Sequential:
    # kernel 5, stride 2, padding 2: the side halves exactly (128 -> 64 -> 32 -> 16 -> 8 -> 4)
    return nn.Sequential(nn.Conv2d(c_in, c_out, 5, stride=2, padding=2, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


def _up(c_in: int, c_out: int) -> nn.Sequential:
    # the mirror image: output_padding=1 doubles the side exactly
    return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, 5, stride=2, padding=2, output_padding=1,
                                            bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class CelebaVAE(nn.Module):
    """Section 7's CelebA VAE on (image_channels, size, size) images, size in {64, 128}.

    Encoder: 5 conv layers (kernel 5, stride 2, padding 2; 64/128/256/512/1024 channels times
    `width`; batch norm + ReLU after each), size -> size/32. At 128x128 this is the paper's
    4 x 4 x 1024 map; a 1x1 conv (linear, no norm or activation) maps it to 4 x 4 x 4 = 64 features,
    flattened, and two parallel fully connected layers 64 -> kappa (= 64) give mu_z and log_sigma_z.

    64x64 variant (the supplement gives shapes for 128 only): the same five layers and channels,
    so the last map is 2 x 2 x 1024 (times `width`), and the 1x1 conv maps it to 2 x 2 x 16, keeping
    the flattened feature at 64 numbers as at 128. Depth, kernels, channels and the bottleneck size
    are those of the 128 network; only the spatial side of every map is halved.

    Decoder (the encoder reversed): fully connected kappa -> 64, reshaped to (b, s, s) (b = 4, s = 4 at
    128; b = 16, s = 2 at 64), a 1x1 conv b -> 1024 with batch norm + ReLU, four transposed convs
    (kernel 5, stride 2; 512/256/128/64 channels times `width`; batch norm + ReLU) and a fifth to
    `image_channels` with no activation: mu_x(z) is unconstrained, as in experiments/outlier/model.py.
    """

    def __init__(self, size: int = 128, image_channels: int = 3, kappa: int = 64,
                 width: float = 1.0):
        super().__init__()
        if size not in SIZES:
            raise ValueError(f"size={size}: the CelebA network is defined for {SIZES}")
        if image_channels < 1 or kappa < 1:
            raise ValueError(f"image_channels={image_channels}, kappa={kappa}: both must be >= 1")
        c1, c2, c3, c4, c5 = scaled_channels(width)
        self.kappa = kappa
        self.size = size
        self.width = width
        side = size // 32
        bottleneck_channels = BOTTLENECK_FEATURES // side ** 2  # 4 at 128x128, 16 at 64x64
        self.bottleneck_shape = (bottleneck_channels, side, side)
        self.encoder = nn.Sequential(
            _down(image_channels, c1), _down(c1, c2), _down(c2, c3), _down(c3, c4), _down(c4, c5),
            nn.Conv2d(c5, bottleneck_channels, 1), nn.Flatten())
        self.fc_mu_z = nn.Linear(BOTTLENECK_FEATURES, kappa)
        self.fc_log_sigma_z = nn.Linear(BOTTLENECK_FEATURES, kappa)
        self.fc_decoder = nn.Linear(kappa, BOTTLENECK_FEATURES)
        self.decoder = nn.Sequential(
            nn.Conv2d(bottleneck_channels, c5, 1, bias=False), nn.BatchNorm2d(c5), nn.ReLU(inplace=True),
            _up(c5, c4), _up(c4, c3), _up(c3, c2), _up(c2, c1),
            nn.ConvTranspose2d(c1, image_channels, 5, stride=2, padding=2, output_padding=1))
        # gamma = exp(log_gamma_var) is the decoder VARIANCE, created at gamma = 1; a run sets it
        # from TrainConfig.log_gamma_var_init (experiments.core.models.set_log_gamma_var)
        self.log_gamma_var = nn.Parameter(torch.tensor(0.0))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (batch, image_channels, size, size) -> (mu_z, log_sigma_z), each (batch, kappa)."""
        h = self.encoder(x)
        return self.fc_mu_z(h), self.fc_log_sigma_z(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (batch, kappa) -> mu_x(z) (batch, image_channels, size, size)."""
        return self.decoder(self.fc_decoder(z).view(z.shape[0], *self.bottleneck_shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction at the posterior mean: decode(mu_z(x))."""
        return self.decode(self.encode(x)[0])

    def encoder_parameters(self) -> list[nn.Parameter]:
        """Parameters of q(z|x): conv stack, 1x1 conv and the mu_z / log_sigma_z heads."""
        return [*self.encoder.parameters(), *self.fc_mu_z.parameters(),
                *self.fc_log_sigma_z.parameters()]

    def decoder_parameters(self) -> list[nn.Parameter]:
        """Parameters of mu_x(z) (log_gamma_var excluded: it is logged as gamma itself)."""
        return [*self.fc_decoder.parameters(), *self.decoder.parameters()]
