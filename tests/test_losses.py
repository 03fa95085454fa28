"""experiments/core/losses.py: Eq. (3) in torch against the float64 theory, the 8-bit BPD conversion, and
the importance-weighted bound."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tests.experiments_support import needs_experiments

torch = needs_experiments()

from experiments.core.losses import (NegativeELBO, eq3_pass, eq3_terms, gaussian_log_density,
                                     importance_weighted_nll, nats_to_bpd, vae_forward)
from experiments.core.models import set_log_gamma_var
from experiments.outlier.model import OutlierVAE
from infgrad.tolerances import FLOAT32_RTOL, MC_SIGMAS, ROUNDOFF_RTOL
from theory.vae_loss import neg_elbo_per_sample, vae_loss_eq3, vae_loss_eq3_per_sample


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _batch(seed: int, n: int = 6, kappa: int = 5, side: int = 32, log_gamma_var: float = -3.0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, side, side, generator=g)
    x_mean = x + 0.1 * torch.randn(x.shape, generator=g)
    mu_z = torch.randn(n, kappa, generator=g)
    log_sigma_z = -1.0 + 0.5 * torch.randn(n, kappa, generator=g)
    return x, x_mean, mu_z, log_sigma_z, torch.tensor(log_gamma_var)


@pytest.mark.parametrize("seed,log_gamma_var", [(0, 0.0), (1, -3.0), (2, -9.0)])
def test_eq3_terms_equal_theory_vae_loss_eq3_float32_vs_float64(seed, log_gamma_var):
    """Eq. (3): the trainer's float32 per-sample braces equal theory.vae_loss's float64 ones
    (same inputs, S = 1), and so do their mean over the batch."""
    x, x_mean, mu_z, log_sigma_z, lgv = _batch(seed, log_gamma_var=log_gamma_var)
    terms = eq3_terms(x, x_mean, mu_z, log_sigma_z, lgv)
    n = x.shape[0]
    X = x.reshape(n, -1).double().numpy().T            # (d, n)
    recon = x_mean.reshape(n, -1).double().numpy().T   # (d, n)
    args = (X, recon, mu_z.double().numpy().T, log_sigma_z.double().numpy().T, log_gamma_var)
    np.testing.assert_allclose(terms["eq3"].double().numpy(), vae_loss_eq3_per_sample(*args),
                               rtol=FLOAT32_RTOL)
    assert float(terms["eq3"].double().mean()) == pytest.approx(vae_loss_eq3(*args), rel=FLOAT32_RTOL)


def test_neg_elbo_is_half_eq3_plus_constants_as_in_theory():
    """-ELBO = 0.5 (Eq. 3 + d log 2 pi - kappa) (theory.vae_loss.neg_elbo_per_sample): the factor 2
    and both constants, per sample."""
    x, x_mean, mu_z, log_sigma_z, lgv = _batch(3)
    terms = eq3_terms(x, x_mean, mu_z, log_sigma_z, lgv)
    d, kappa = x[0].numel(), mu_z.shape[1]
    expected = [neg_elbo_per_sample(float(e), d, kappa) for e in terms["eq3"].double()]
    np.testing.assert_allclose(terms["neg_elbo"].double().numpy(), expected, rtol=FLOAT32_RTOL)


def test_neg_elbo_equals_gaussian_log_likelihood_plus_kl_from_torch_distributions():
    """-ELBO (one draw) = -log N(x; mu_x, gamma I) + KL(N(mu, sigma^2) || N(0, I)), the two computed
    independently with torch.distributions in float64: checks Eq. (3)'s constants from scratch."""
    x, x_mean, mu_z, log_sigma_z, lgv = (t.double() for t in _batch(4))
    terms = eq3_terms(x, x_mean, mu_z, log_sigma_z, lgv)
    n = x.shape[0]
    decoder = torch.distributions.Normal(x_mean.reshape(n, -1), torch.exp(0.5 * lgv))
    posterior = torch.distributions.Normal(mu_z, torch.exp(log_sigma_z))
    prior = torch.distributions.Normal(torch.zeros_like(mu_z), torch.ones_like(mu_z))
    expected = (-decoder.log_prob(x.reshape(n, -1)).sum(1)
                + torch.distributions.kl_divergence(posterior, prior).sum(1))
    np.testing.assert_allclose(terms["neg_elbo"].numpy(), expected.numpy(), rtol=ROUNDOFF_RTOL)


def test_eq3_braces_one_by_one_in_float64():
    """The braces of Eq. (3) per sample: recon_sq = ||x - mu_x(z)||^2, recon_term = recon_sq / gamma,
    log_gamma_term = d log gamma and kl_term = ||mu_z||^2 + ||sigma_z||^2 - log|diag(sigma_z^2)| - kappa,
    computed here from the definitions in numpy (float64 round-off)."""
    x, x_mean, mu_z, log_sigma_z, lgv = (t.double() for t in _batch(5))
    terms = eq3_terms(x, x_mean, mu_z, log_sigma_z, lgv)
    n, d, kappa = x.shape[0], x[0].numel(), mu_z.shape[1]
    residual = (x - x_mean).reshape(n, -1).numpy()
    recon_sq = (residual**2).sum(axis=1)
    gamma = math.exp(float(lgv))
    mu, sigma_sq = mu_z.numpy(), np.exp(2.0 * log_sigma_z.numpy())
    expected = {"recon_sq": recon_sq, "recon_term": recon_sq / gamma,
                "log_gamma_term": np.full(n, d * math.log(gamma)),
                "kl_term": (mu**2 + sigma_sq - np.log(sigma_sq)).sum(axis=1) - kappa}
    for name, value in expected.items():
        np.testing.assert_allclose(terms[name].numpy(), value, rtol=ROUNDOFF_RTOL, err_msg=name)


@pytest.mark.parametrize("per", ["pixel", "image"])
def test_gaussian_log_density_with_a_variance_per_pixel_or_per_image(per):
    """log N(x; mean, diag(exp(log_var))) summed over the pixels, for a log-variance of the image's
    shape (batch, C, H, W) or one per image (batch,), against torch.distributions.Normal (float64)."""
    g = torch.Generator().manual_seed(6)
    x, mean = (torch.rand(3, 1, 4, 4, generator=g, dtype=torch.float64) for _ in range(2))
    shape = x.shape if per == "pixel" else x.shape[:1]
    log_var = torch.randn(shape, generator=g, dtype=torch.float64)
    std = torch.exp(0.5 * log_var).reshape(3, *([1, 1, 1] if per == "image" else [1, 4, 4]))
    expected = torch.distributions.Normal(mean, std.expand_as(x)).log_prob(x).sum(dim=(1, 2, 3))
    np.testing.assert_allclose(gaussian_log_density(x, mean, log_var).numpy(), expected.numpy(),
                               rtol=ROUNDOFF_RTOL)


def test_bf16_network_outputs_are_summed_in_float32():
    """Under autocast the network gives bf16 x_mean, mu_z, log_sigma_z: the braces of Eq. (3) are then
    the float32 computation on the same (bf16-rounded) values, not a bf16 sum (8-bit mantissa)."""
    x, x_mean, mu_z, log_sigma_z, lgv = _batch(7)
    x_mean, mu_z, log_sigma_z = (t.bfloat16() for t in (x_mean, mu_z, log_sigma_z))
    terms = eq3_terms(x, x_mean, mu_z, log_sigma_z, lgv)
    in_float32 = eq3_terms(x, x_mean.float(), mu_z.float(), log_sigma_z.float(), lgv)
    for name, value in in_float32.items():
        assert terms[name].dtype == torch.float32 and torch.equal(terms[name], value), name


def test_kl_term_never_negative_for_tiny_log_sigma():
    """2 KL = mu^2 + expm1(2 log sigma) - 2 log sigma >= 0 even where exp(v) - 1 - v cancels."""
    log_sigma_z = torch.tensor([[1e-9, -1e-9, 1e-30, 0.0]], dtype=torch.float32)
    terms = eq3_terms(torch.zeros(1, 4), torch.zeros(1, 4), torch.zeros(1, 4), log_sigma_z,
                      torch.tensor(0.0))
    assert float(terms["kl_term"]) >= 0.0


def test_bpd_of_a_gaussian_whose_std_is_one_256th_is_half_log2_two_pi():
    """Hand-computed case: residual 0 and decoder std 1/256 give nll = d (0.5 log 2pi + log(1/256)),
    so BPD = nll / (d ln 2) + 8 = 0.5 log2(2 pi) exactly (the log 256 terms cancel)."""
    d = 1024
    x = torch.full((1, d), 0.3, dtype=torch.float64)
    log_var = torch.tensor(2.0 * math.log(1.0 / 256.0), dtype=torch.float64)
    nll = -gaussian_log_density(x, x, log_var)
    assert float(nats_to_bpd(nll, d)) == pytest.approx(0.5 * math.log2(2 * math.pi), rel=ROUNDOFF_RTOL)


@pytest.mark.parametrize("sigma", [0.02, 0.1])
def test_bpd_approximates_the_probability_of_the_8bit_bin(sigma):
    """8-bit conversion: for a pixel v/255 under N(m, sigma^2) with sigma >> 1/255, -log2 of the
    exact probability of the bin [v - 1/2, v + 1/2]/255 (erf) equals the density-based BPD with
    log2(255) in place of the conventional log2(256) = 8, to the bin's second-order term
    (relative (1/255 / sigma)^2 / 24); the convention's +8 overstates by log2(256/255) = 0.0056."""
    v, m = 100, 0.37
    x = v / 255.0
    width = 1.0 / 255.0
    cdf = lambda t: 0.5 * (1.0 + math.erf((t - m) / (sigma * math.sqrt(2.0))))
    exact_bits = -math.log2(cdf(x + width / 2) - cdf(x - width / 2))
    nll = float(-gaussian_log_density(torch.tensor([[x]], dtype=torch.float64),
                                      torch.tensor([[m]], dtype=torch.float64),
                                      torch.tensor(2.0 * math.log(sigma), dtype=torch.float64)))
    density_bits = float(nats_to_bpd(nll, 1)) - 8.0 + math.log2(255.0)
    second_order = ((width / sigma) ** 2 / 24.0) * (1.0 + ((x - m) / sigma) ** 2) / math.log(2.0)
    assert abs(density_bits - exact_bits) <= 2.0 * second_order


@pytest.fixture(scope="module")
def small_vae():
    torch.manual_seed(0)
    model = OutlierVAE(kappa=6, channels=(8, 16, 16)).eval()
    set_log_gamma_var(model, -4.0)
    x = torch.rand(16, 1, 32, 32, generator=torch.Generator().manual_seed(1))
    return model, x


def test_importance_weighted_bound_is_jensen_tighter_on_the_same_draws(small_vae):
    """log (1/K) sum_k w_k >= (1/K) sum_k log w_k (Jensen) for every image: the K-sample IW bound is
    at least as tight as the ELBO estimated from the same K draws (float32 round-off only)."""
    model, x = small_vae
    with torch.no_grad():
        nll, log_w = importance_weighted_nll(model, x, 8, torch.Generator().manual_seed(2),
                                             return_log_weights=True)
    elbo_nll = -log_w.mean(dim=0)
    slack = FLOAT32_RTOL * elbo_nll.abs()
    assert torch.all(nll <= elbo_nll + slack)
    assert torch.all(elbo_nll - nll > slack)  # strictly tighter: the weights are not all equal


def test_importance_weighted_bound_is_below_the_analytic_negative_elbo(small_vae):
    """E[IW_K] <= -ELBO for K > 1 (Burda et al.): the mean over images of the K = 16 bound lies below
    the negative ELBO (analytic KL, 64 reconstruction draws) by more than MC_SIGMAS standard errors."""
    model, x = small_vae
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        iw = importance_weighted_nll(model, x, 16, g)
        # 64 draws per image in one batch (eval-mode batch norm: the images do not interact)
        elbo_draws = vae_forward(model, x.repeat(64, 1, 1, 1), g)[0]["neg_elbo"].view(64, -1)
    elbo = elbo_draws.mean(dim=0)
    gap = (elbo - iw).double()
    standard_error = float(elbo_draws.double().std(dim=0).max()) / math.sqrt(64)
    assert float(gap.mean()) > MC_SIGMAS * standard_error


def test_importance_weighted_bound_rejects_zero_samples(small_vae):
    model, x = small_vae
    with pytest.raises(ValueError, match="num_samples"):
        importance_weighted_nll(model, x, 0)


class LinearGaussianVAE:
    """Prior N(0, I_kappa), decoder N(W z + b, gamma I_d) with orthogonal columns of W, and as encoder
    the EXACT posterior N((W^T W + gamma I)^{-1} W^T (x - b), gamma (W^T W + gamma I)^{-1}), which is
    diagonal because W^T W is. Then p(x, z) / q(z|x) = p(x) for every z, so every importance weight
    is log p(x) and the K-sample bound equals log p(x) for EVERY K. float64 throughout."""

    def __init__(self, d: int = 5, kappa: int = 3, gamma: float = 0.3, seed: int = 0):
        rng = np.random.default_rng(seed)
        basis = np.linalg.qr(rng.standard_normal((d, kappa)))[0]  # orthonormal columns
        self.W = torch.tensor(basis * rng.uniform(0.5, 2.0, kappa), dtype=torch.float64)  # (d, kappa)
        self.b = torch.tensor(rng.standard_normal(d), dtype=torch.float64)
        self.kappa = kappa
        self.log_gamma_var = torch.tensor(math.log(gamma), dtype=torch.float64)
        self.precision = (self.W**2).sum(dim=0) + gamma  # diag(W^T W + gamma I), (kappa,)

    def encode(self, x):
        mu_z = (x.reshape(x.shape[0], -1) - self.b) @ self.W / self.precision
        log_sigma_z = 0.5 * (self.log_gamma_var - torch.log(self.precision)).expand_as(mu_z)
        return mu_z, log_sigma_z

    def decode(self, z):
        return z @ self.W.T + self.b

    def neg_log_marginal(self, x) -> np.ndarray:
        """-log N(x; b, W W^T + gamma I) in closed form (numpy float64), (batch,)."""
        W, b, x = self.W.numpy(), self.b.numpy(), x.reshape(x.shape[0], -1).numpy()
        cov = W @ W.T + math.exp(float(self.log_gamma_var)) * np.eye(W.shape[0])
        centred = x - b
        mahalanobis = np.sum(centred * np.linalg.solve(cov, centred.T).T, axis=1)
        return 0.5 * (mahalanobis + np.linalg.slogdet(cov)[1] + W.shape[0] * math.log(2.0 * math.pi))


@pytest.mark.parametrize("num_samples", [1, 2, 16])
def test_importance_weighted_bound_is_log_marginal_when_the_encoder_is_the_exact_posterior(num_samples):
    """Closed form behind the inequality tests above: for a linear-Gaussian VAE whose encoder is the
    exact posterior, -log (1/K) sum_k w_k = -log p(x) = -log N(x; b, W W^T + gamma I) for every K
    and every draw (float64 round-off). The posterior stds are below 1, so this also checks the
    log q of draws at sigma != 1."""
    model = LinearGaussianVAE()
    x = torch.tensor(np.random.default_rng(1).standard_normal((7, 5)) * 2.0)
    nll, log_w = importance_weighted_nll(model, x, num_samples, torch.Generator().manual_seed(num_samples),
                                         return_log_weights=True)
    expected = model.neg_log_marginal(x)
    assert torch.all(model.encode(x)[1] < 0)  # sigma_z < 1
    np.testing.assert_allclose(nll.numpy(), expected, rtol=ROUNDOFF_RTOL)
    np.testing.assert_allclose(-log_w.numpy(), np.broadcast_to(expected, log_w.shape), rtol=ROUNDOFF_RTOL)


class _FixedPosterior:
    """An encoder with the same q(z|x) = N(mu, sigma^2) for every x, and the identity decoder."""

    kappa = 2

    def __init__(self, mu, sigma):
        self.mu, self.log_sigma = torch.tensor(mu, dtype=torch.float64), math.log(sigma)
        self.log_gamma_var = torch.tensor(0.0, dtype=torch.float64)

    def encode(self, x):
        mu = self.mu.expand(x.shape[0], self.kappa)
        return mu, torch.full_like(mu, self.log_sigma)

    def decode(self, z):
        return z


@pytest.mark.parametrize("sigma", [0.05, 3.0])
def test_reparameterized_draw_is_mu_plus_sigma_times_the_generators_normal_draw(sigma):
    """vae_forward's z = mu + sigma eps exactly (the generator's standard normal draw), at sigma != 1;
    and over 20000 draws the mean and std of z are mu and sigma within MC_SIGMAS standard errors."""
    n = 20000
    model = _FixedPosterior([0.5, -2.0], sigma)
    _, z = vae_forward(model, torch.zeros(n, 2, dtype=torch.float64), torch.Generator().manual_seed(0))
    mu = model.mu.expand(n, 2)
    eps = torch.randn((n, 2), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    # round-off relative to the summands (mu + sigma eps may cancel to near 0)
    assert torch.all((z - (mu + sigma * eps)).abs() <= ROUNDOFF_RTOL * (mu.abs() + sigma * eps.abs()))
    assert torch.all((z.mean(dim=0) - mu[0]).abs() <= MC_SIGMAS * sigma / math.sqrt(n))
    assert torch.all((z.std(dim=0) - sigma).abs() <= MC_SIGMAS * sigma / math.sqrt(2 * (n - 1)))


def test_negative_elbo_objective_is_the_per_sample_negative_elbo_with_the_loops_noise():
    """The trainer's default objective: for noise eps, z = mu_z + sigma_z eps, "loss" = -ELBO per
    sample (eq3_pass's neg_elbo) and "z" that z; its logged columns are loss, eq3, recon_sq, the KL
    in nats (half of Eq. (3)'s kl_term) and the ELBO's BPD = loss / (d ln 2) + 8."""
    model = _FixedPosterior([0.5, -2.0], 0.3)
    x = torch.tensor([[0.1, 0.2], [1.0, -1.0]], dtype=torch.float64)
    eps = torch.tensor([[1.0, -0.5], [0.0, 2.0]], dtype=torch.float64)
    out = NegativeELBO()(model, x, eps)
    terms, z = eq3_pass(model, x, eps)
    torch.testing.assert_close(out["z"], model.mu + 0.3 * eps, rtol=ROUNDOFF_RTOL, atol=0.0)
    assert torch.equal(out["z"], z) and torch.equal(out["loss"], terms["neg_elbo"])  # the same computation
    assert set(terms) <= set(out)
    means = {"loss": 3.0, "eq3": 7.0, "recon_sq": 1.5, "kl_term": 0.8}
    assert NegativeELBO.columns(means, d=4) == pytest.approx(
        {"loss": 3.0, "eq3": 7.0, "recon_sq": 1.5, "kl_nats": 0.4, "bpd_elbo": 3.0 / (4 * math.log(2.0)) + 8.0},
        rel=ROUNDOFF_RTOL)
