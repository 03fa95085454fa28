"""experiments/outlier/model.py: the outlier-experiment VAE of supplement section 7, and the VAE protocol
of experiments/core/models.py."""
from __future__ import annotations

import math

import pytest

from tests.experiments_support import needs_experiments

torch = needs_experiments()
from torch import nn

from experiments.core.models import VAEProtocol, gamma_std, gamma_values, gamma_var, set_log_gamma_var
from experiments.outlier.model import OutlierVAE
from infgrad.tolerances import FLOAT32_RTOL


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return OutlierVAE(kappa=16)


def test_encoder_is_three_conv_k5_s2_layers_64_128_256_with_batchnorm_relu(model):
    """Section 7: 3 conv layers, kernel 5, stride 2, channels 64/128/256, each then BN and ReLU."""
    convs = [m for m in model.encoder.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(1, 64), (64, 128), (128, 256)]
    assert all(c.kernel_size == (5, 5) and c.stride == (2, 2) for c in convs)
    for block in list(model.encoder)[:3]:
        assert [type(m) for m in block] == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU]


def test_latent_heads_have_dimension_kappa_from_the_flattened_4x4x256_map(model):
    """Our reading of section 7: two fully connected heads 4096 -> kappa (kappa = Table 1's latent
    dimension); the 32x32 input is halved three times to 4x4 with 256 channels, 4 * 4 * 256 = 4096."""
    assert (model.fc_mu_z.in_features, model.fc_mu_z.out_features) == (4096, 16)
    assert (model.fc_log_sigma_z.in_features, model.fc_log_sigma_z.out_features) == (4096, 16)
    x = torch.rand(3, 1, 32, 32)
    mu_z, log_sigma_z = model.encode(x)
    assert mu_z.shape == log_sigma_z.shape == (3, 16)


def test_decoder_mirrors_the_encoder_and_returns_the_input_shape(model):
    """The decoder reverses the encoder: kappa -> 4096 -> transposed convs 256 -> 128 -> 64 -> 1."""
    deconvs = [m for m in model.decoder.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [(c.in_channels, c.out_channels) for c in deconvs] == [(256, 128), (128, 64), (64, 1)]
    assert all(c.kernel_size == (5, 5) and c.stride == (2, 2) for c in deconvs)
    assert model.decode(torch.randn(2, 16)).shape == (2, 1, 32, 32)


def test_outlier_vae_follows_the_vae_protocol(model):
    """The trainer's protocol: encode, decode, kappa, and a scalar log_gamma_var parameter."""
    assert isinstance(model, VAEProtocol)
    assert isinstance(model.log_gamma_var, nn.Parameter) and model.log_gamma_var.dim() == 0
    assert model.kappa == 16


def test_gamma_std_and_variance_read_log_gamma_var_as_log_variance():
    """gamma = exp(log_gamma_var) is the variance; Table 1's 0.0055 as a std is variance 3.025e-5."""
    vae = OutlierVAE(kappa=2, channels=(4, 4, 4))
    set_log_gamma_var(vae, 2.0 * math.log(0.0055))
    assert gamma_std(vae) == pytest.approx(0.0055, rel=FLOAT32_RTOL)  # log_gamma_var is a float32 parameter
    assert gamma_var(vae) == pytest.approx(0.0055**2, rel=FLOAT32_RTOL)  # log_gamma_var is a float32 parameter
    values = gamma_values(vae.log_gamma_var)
    assert values == {"log_gamma_var": vae.log_gamma_var.item(), "gamma_var": gamma_var(vae),
                      "gamma_std": gamma_std(vae)}


def test_a_new_model_starts_at_gamma_one_and_set_log_gamma_var_fixes_or_frees_it():
    """The network creates gamma = 1; the run's value and whether it is learned come from one setter."""
    vae = OutlierVAE(kappa=2, channels=(4, 4, 4))
    assert gamma_var(vae) == 1.0 and vae.log_gamma_var.requires_grad
    set_log_gamma_var(vae, -2.0, learn=False)
    assert vae.log_gamma_var.item() == -2.0 and not vae.log_gamma_var.requires_grad


@pytest.mark.parametrize("kwargs,match", [({"kappa": 0}, "kappa"),
                                          ({"kappa": 4, "image_size": 30}, "image_size")])
def test_bad_shapes_are_one_line_value_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        OutlierVAE(**kwargs)
