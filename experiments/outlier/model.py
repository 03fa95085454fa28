"""The VAE of the outlier experiment (supplement section 7, "Outlier Experiments"; Table 1).

It follows experiments.core.models.VAEProtocol: the decoder is N(mu_x(z), gamma I) with ONE learned
scalar gamma, the decoder VARIANCE, stored as `log_gamma_var` = log(gamma).
"""
from __future__ import annotations

import torch
from torch import nn


def _conv_block(c_in: int, c_out: int) -> nn.Sequential:
    # kernel 5, stride 2, padding 2 halves the side exactly (32 -> 16 -> 8 -> 4)
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel_size=5, stride=2, padding=2, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


def _deconv_block(c_in: int, c_out: int) -> nn.Sequential:
    # the mirror image: output_padding=1 doubles the side exactly (4 -> 8 -> 16)
    return nn.Sequential(
        nn.ConvTranspose2d(c_in, c_out, kernel_size=5, stride=2, padding=2, output_padding=1,
                           bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class OutlierVAE(nn.Module):
    """Section 7's outlier-experiment VAE on 1 x 32 x 32 images.

    Encoder: 3 conv layers (kernel 5, stride 2; 64, 128, 256 channels; each followed by batch norm
    and ReLU), 32 -> 16 -> 8 -> 4, flattened to 256 * 4 * 4 = 4096 features, then two fully
    connected layers 4096 -> kappa giving mu_z and log_sigma_z.

    Reading of the ambiguous wording. The supplement says the feature map is "flattened to a
    kappa-dimensional feature vector" and that "two 64-dimensional fully connected layers" produce
    mu_z and log sigma_z. Taken literally the latent dimension would be 64 for every column of
    Table 1, yet Table 1 varies kappa as "the VAE latent space dimension" (section 6). We read it as:
    the two fully connected heads (one for mu_z, one for log_sigma_z) have output dimension kappa, the
    latent dimension that Table 1 varies; "64" is the CelebA network's latent size carried over.

    Decoder (mirror): fully connected kappa -> 4096, reshape to 256 x 4 x 4, two transposed convs
    (kernel 5, stride 2; 128, 64 channels; batch norm and ReLU), and a last transposed conv to one
    channel with no activation: mu_x(z) is unconstrained, as in the theory's Gaussian decoder.
    `channels` narrows the network for tests only (the paper's widths are the default).
    """

    def __init__(self, kappa: int, channels: tuple[int, int, int] = (64, 128, 256),
                 image_channels: int = 1, image_size: int = 32):
        super().__init__()
        if kappa < 1:
            raise ValueError(f"kappa must be a positive integer, got {kappa}")
        if image_size % 8:
            raise ValueError(f"image_size must be a multiple of 8 (three stride-2 layers), "
                             f"got {image_size}")
        c1, c2, c3 = channels
        self.kappa = kappa
        self.feature_shape = (c3, image_size // 8, image_size // 8)
        n_features = c3 * (image_size // 8) ** 2
        self.encoder = nn.Sequential(_conv_block(image_channels, c1), _conv_block(c1, c2),
                                     _conv_block(c2, c3), nn.Flatten())
        self.fc_mu_z = nn.Linear(n_features, kappa)
        self.fc_log_sigma_z = nn.Linear(n_features, kappa)
        self.fc_decoder = nn.Linear(kappa, n_features)
        self.decoder = nn.Sequential(
            nn.BatchNorm2d(c3), nn.ReLU(inplace=True),
            _deconv_block(c3, c2), _deconv_block(c2, c1),
            nn.ConvTranspose2d(c1, image_channels, kernel_size=5, stride=2, padding=2,
                               output_padding=1),
        )
        # gamma = exp(log_gamma_var) is the decoder VARIANCE, created at gamma = 1; a run sets it
        # from TrainConfig.log_gamma_var_init (experiments.core.models.set_log_gamma_var)
        self.log_gamma_var = nn.Parameter(torch.tensor(0.0))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (batch, 1, 32, 32) -> (mu_z, log_sigma_z), each (batch, kappa)."""
        h = self.encoder(x)
        return self.fc_mu_z(h), self.fc_log_sigma_z(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (batch, kappa) -> mu_x(z) (batch, 1, 32, 32)."""
        h = self.fc_decoder(z).view(z.shape[0], *self.feature_shape)
        return self.decoder(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction at the posterior mean: decode(mu_z(x))."""
        return self.decode(self.encode(x)[0])
