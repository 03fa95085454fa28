"""experiments/manifold/models.py and measure.py: Eq. (20) in torch equals theory's; the measured
statistics equal their definitions on models with known answers."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tests.experiments_support import needs_experiments

torch = needs_experiments()

from experiments.manifold import measure  # noqa: E402
from experiments.manifold.models import CurveDecoder, CurveModel, MLPVAE  # noqa: E402
from infgrad.tolerances import FLOAT32_RTOL, ROUNDOFF_RTOL  # noqa: E402
from theory.theorem4 import decoder_eq20  # noqa: E402


@pytest.mark.parametrize("theta", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("eps", [1.0, 1e-3])
def test_curve_decoder_is_eq20_of_theory(theta, eps):
    """mu_x(z; theta) = theta pi(t(z_1)) + (1 - theta) z with theory.theorem4's arc (float64)."""
    z = np.random.default_rng(0).standard_normal((50, 2)) * 3.0
    got = CurveDecoder(eps, 0.7, theta)(torch.tensor(z, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(got, decoder_eq20(z.T, theta, eps, 0.7).T, rtol=ROUNDOFF_RTOL,
                               atol=ROUNDOFF_RTOL * eps)


def test_a_wrong_curve_would_be_caught():
    """Companion: the arc without its lower piece (a(s) linear on all of [0, 1]) differs from Eq. (20)."""
    dec = CurveDecoder(1.0, 0.7, 1.0)
    dec.a0 = dec.aC - (dec.a1 - dec.aC) * 0.7 / 0.3
    z = torch.tensor([[-2.0, 0.0]], dtype=torch.float64)  # t(z_1) = 0.12 < C: the lower piece
    assert not np.allclose(dec(z).numpy(), decoder_eq20(z.numpy().T, 1.0, 1.0, 0.7).T)


def test_curve_model_codes_start_at_the_given_scale():
    model = CurveModel(0.01, 0.7, 0.0, input_scale=0.006, code_scale=0.006)
    assert torch.allclose(torch.exp(model.log_code_scale), torch.full((2,), 0.006))


def _linear_vae(rank: int, d: int = 9, kappa: int = 5) -> MLPVAE:
    """An MLPVAE whose decoder is exactly z -> W z, W of the given rank with its nonzero singular
    values in [1, 2] (a spread spectrum is not a rank question: the gap rule splits it at its widest
    gap), the MLP path zeroed."""
    torch.manual_seed(0)
    model = MLPVAE(d, kappa, hidden=16, depth=1).double()
    u, _ = torch.linalg.qr(torch.randn(d, rank, dtype=torch.float64))
    v, _ = torch.linalg.qr(torch.randn(kappa, rank, dtype=torch.float64))
    with torch.no_grad():
        model.decoder[-1].weight.zero_()
        model.decoder[-1].bias.zero_()
        model.decoder_linear.weight.copy_(u @ torch.diag(torch.linspace(1.0, 2.0, rank, dtype=torch.float64)) @ v.T)
    return model


@pytest.mark.parametrize("rank", [1, 3, 5])
def test_decoder_jacobian_rank_of_a_linear_decoder_is_its_rank(rank):
    model = _linear_vae(rank)
    assert measure.decoder_jacobian_rank(model, torch.randn(6, 9, dtype=torch.float64)).count == rank


def test_encoder_statistics_are_the_means_of_their_definitions():
    model = _linear_vae(2)
    x = torch.randn(40, 9, dtype=torch.float64)
    stats = measure.encoder_statistics(model, x, chunk=7)  # chunks must not change the means
    mu_z, log_sigma_z = model.encode(x)
    np.testing.assert_allclose(stats["energies"], (mu_z**2).mean(0).detach().numpy(), rtol=ROUNDOFF_RTOL)
    np.testing.assert_allclose(stats["mean_log_sigma_sq"], (2 * log_sigma_z).mean(0).detach().numpy(),
                               rtol=ROUNDOFF_RTOL)


def test_expected_eq3_at_zero_encoder_noise_is_the_deterministic_eq3():
    """With sigma_z = e^-30 the draws are the means: E||x - mu_x||^2 is the plain squared error and
    Eq. (3) is its closed form (float32 model: FLOAT32_RTOL)."""
    model = _linear_vae(2)
    with torch.no_grad():
        model.encoder[-1].weight[5:].zero_()
        model.encoder[-1].bias[5:].fill_(-30.0)
        model.encoder_linear.weight[5:].zero_()
        model.log_gamma_var.fill_(math.log(0.1))
    model = model.float()
    x = torch.randn(30, 9)
    got = measure.expected_eq3(model, x, draws=2)
    mu_z, log_sigma_z = model.encode(x)
    recon = ((x - model.decode(mu_z)) ** 2).sum(1).mean().item()
    kl = ((mu_z**2).sum(1) + torch.expm1(2 * log_sigma_z).sum(1) - (2 * log_sigma_z).sum(1)).mean().item()
    assert got["recon_sq"] == pytest.approx(recon, rel=FLOAT32_RTOL)
    assert got["eq3"] == pytest.approx(recon / 0.1 + 9 * math.log(0.1) + kl + 5, rel=FLOAT32_RTOL)
