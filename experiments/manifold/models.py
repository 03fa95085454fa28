"""Networks of the manifold-dimension experiment: MLP VAEs and autoencoders on vector data (n, d),
and Theorem 4's decoder (supplement Eq. 20) in torch.

Conventions: x is (batch, d); the encoder gives (mu_z, log_sigma_z), each (batch, kappa); the decoder
is N(mu_x(z), gamma I) with gamma the decoder VARIANCE, stored as the 0-dim parameter
`log_gamma_var` (learned or fixed by the training loop). An autoencoder's encoder gives mu_z only.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from theory.theorem4 import pi_map


def mlp(n_in: int, hidden: int, n_out: int, depth: int) -> nn.Sequential:
    """depth hidden layers of width `hidden` with ReLU, then a linear output layer."""
    layers, width = [], n_in
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


class MLPVAE(nn.Module):
    """The VAE of Eq. (3) on vectors: encoder x -> (mu_z, log_sigma_z), decoder z -> mu_x(z).

    Both maps are an MLP plus a linear path (no bias) beside it: mu_x(z) = MLP(z) + W z. The linear path
    lets a decoder represent an affine manifold with zero error at any width, so gamma can follow the
    error down instead of stalling at the MLP's fitting floor (a stated choice of this experiment).
    """

    def __init__(self, d: int, kappa: int, hidden: int = 256, depth: int = 2,
                 linear_path: bool = True):
        super().__init__()
        if d < 1 or kappa < 1 or hidden < 1 or depth < 1:
            raise ValueError(f"d, kappa, hidden and depth must be >= 1, got {d}, {kappa}, {hidden}, {depth}")
        self.d, self.kappa = d, kappa
        self.encoder = mlp(d, hidden, 2 * kappa, depth)
        self.decoder = mlp(kappa, hidden, d, depth)
        self.encoder_linear = nn.Linear(d, 2 * kappa, bias=False) if linear_path else None
        self.decoder_linear = nn.Linear(kappa, d, bias=False) if linear_path else None
        self.log_gamma_var = nn.Parameter(torch.tensor(0.0))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (batch, d) -> (mu_z, log_sigma_z), each (batch, kappa)."""
        h = self.encoder(x)
        if self.encoder_linear is not None:
            h = h + self.encoder_linear(x)
        mu_z, log_sigma_z = h.chunk(2, dim=1)
        return mu_z, log_sigma_z

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (batch, kappa) -> mu_x(z) (batch, d)."""
        out = self.decoder(z)
        return out + self.decoder_linear(z) if self.decoder_linear is not None else out


class MLPAutoencoder(MLPVAE):
    """A deterministic autoencoder for L_{g,h} (Eq. 22): the MLPVAE's networks with the encoder's
    variance head ignored (z = mu_z(x)); `log_gamma_var` is kept (never trained) so that it follows
    the same protocol as the VAEs."""

    def codes(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode(x)[0]


def _arc_angles(eps: float, C: float) -> tuple[float, float, float]:
    """The angles of the curve pi at s = 0, C and 1, read off theory.theorem4.pi_map (the curve's
    angle is linear in s on [0, C) and on [C, 1], so these three numbers define it)."""
    points = pi_map(np.array([0.0, C, 1.0]), eps, C)
    angles = np.arctan2(points[1], points[0])
    return float(angles[0]), float(angles[1]), float(angles[2])


class CurveDecoder(nn.Module):
    """Eq. (20) in torch: mu_x(z; theta) = theta pi(t(z_1)) + (1 - theta) z, z (batch, 2), theta FIXED
    (0: the identity, two active rows needed; 1: the curve, one row), t the logistic function and pi
    theory.theorem4's arc of radius 0.9 eps (the same function, tested against theory.decoder_eq20)."""

    def __init__(self, eps: float, C: float, theta: float):
        super().__init__()
        if not 0.0 <= theta <= 1.0:
            raise ValueError(f"theta must lie in [0, 1], got {theta}")
        self.theta = float(theta)
        self.radius = math.hypot(*pi_map(np.array([C]), eps, C)[:, 0])
        self.C = float(C)
        self.a0, self.aC, self.a1 = _arc_angles(eps, C)

    def curve(self, s: torch.Tensor) -> torch.Tensor:
        """pi(s) for s (batch,) in [0, 1] -> (batch, 2)."""
        upper = self.aC + (self.a1 - self.aC) * (s - self.C) / (1.0 - self.C)
        lower = self.a0 + (self.aC - self.a0) * s / self.C
        angle = torch.where(s >= self.C, upper, lower)
        return self.radius * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.theta * self.curve(torch.sigmoid(z[:, 0])) + (1.0 - self.theta) * z


class CurveModel(nn.Module):
    """Theorem 4's model: an MLP encoder (the paper allows any encoder; amortized here) and the
    fixed-theta decoder of Eq. (20). Inputs are divided by `input_scale` (the data's RMS) and the
    code means multiplied by exp(log_code_scale) (learned, one per latent, started at `code_scale`):
    Adam moves every weight by about its learning rate per step, so a code that must sit at 1e-3
    to 1e-6 relative precision (theta = 0 reconstructs z = x, of size eps) is only reachable when
    its scale is a log-space parameter; neither changes what the model can represent.
    As a VAE it has log_gamma_var and a variance head; as an autoencoder z = mu_z(x)."""

    def __init__(self, eps: float, C: float, theta: float, input_scale: float,
                 code_scale: float = 1.0, hidden: int = 64):
        super().__init__()
        self.kappa = 2
        self.input_scale = float(input_scale)
        self.log_code_scale = nn.Parameter(torch.full((2,), math.log(code_scale)))
        self.encoder = mlp(2, hidden, 4, 2)
        # a linear path beside the MLP: theta = 0 needs z = x to round-off, which an MLP alone
        # reaches only to ~1% in a few thousand steps (that error, priced by g, decides the comparison)
        self.encoder_linear = nn.Linear(2, 4, bias=False)
        self.decoder = CurveDecoder(eps, C, theta)
        self.log_gamma_var = nn.Parameter(torch.tensor(0.0))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scaled = x / self.input_scale
        mu_z, log_sigma_z = (self.encoder(scaled) + self.encoder_linear(scaled)).chunk(2, dim=1)
        return mu_z * torch.exp(self.log_code_scale), log_sigma_z

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def codes(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode(x)[0]
