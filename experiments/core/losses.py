"""Eq. (3) per sample in torch, the negative ELBO in nats, the importance-weighted bound, and BPD.

Conventions: x is flattened to d = C*H*W values in [0, 1]; gamma is the decoder VARIANCE, passed as
`log_gamma_var`; the encoder gives (mu_z, log_sigma_z) of shape (batch, kappa). Eq. (3) is TWICE
the negative ELBO without the constants d log(2 pi) and -kappa (theory/vae_loss.neg_elbo_per_sample).
"""
from __future__ import annotations

import math

import torch

LOG_2PI = math.log(2.0 * math.pi)


def at_least_float32(t: torch.Tensor) -> torch.Tensor:
    """A bf16 / float16 tensor (a network's output under autocast) as float32; float32 and float64 as
    they are. The sums over d pixels and kappa latents then round at 2^-24, not at bf16's 2^-8."""
    return t.float() if t.dtype in (torch.bfloat16, torch.float16) else t


def eq3_terms(x: torch.Tensor, x_mean: torch.Tensor, mu_z: torch.Tensor,
              log_sigma_z: torch.Tensor, log_gamma_var: torch.Tensor) -> dict[str, torch.Tensor]:
    """The braces of Eq. (3) for each sample, one Monte Carlo draw z ~ q(z|x) behind `x_mean`.

    Shapes: x, x_mean (batch, ...) flattened to (batch, d); mu_z, log_sigma_z (batch, kappa); bf16
    inputs (autocast) are summed in float32.
    Returns (batch,) tensors:
      recon_sq       ||x - mu_x(z)||^2 (sum of squared errors over the d pixels)
      recon_term     ||x - mu_x(z)||^2 / gamma
      log_gamma_term d log gamma
      kl_term        ||sigma_z||^2 - log|diag(sigma_z^2)| + ||mu_z||^2 - kappa = 2 KL(q(z|x) || N(0, I))
                     (written with expm1 so that it never goes negative from round-off)
      eq3            recon_term + log_gamma_term + kl_term + kappa  (Eq. 3 exactly, constant kappa kept)
      neg_elbo       0.5 * (eq3 + d log 2 pi - kappa), the negative ELBO in nats
    """
    x, x_mean, mu_z, log_sigma_z = map(at_least_float32, (x, x_mean, mu_z, log_sigma_z))
    batch = x.shape[0]
    d = x[0].numel()
    kappa = mu_z.shape[1]
    recon_sq = (x.reshape(batch, -1) - x_mean.reshape(batch, -1)).pow(2).sum(dim=1)
    recon_term = recon_sq * torch.exp(-log_gamma_var)
    log_gamma_term = (d * log_gamma_var).expand(batch)
    two_log_sigma = 2.0 * log_sigma_z
    kl_term = (mu_z.pow(2) + torch.expm1(two_log_sigma) - two_log_sigma).sum(dim=1)
    eq3 = recon_term + log_gamma_term + kl_term + kappa
    neg_elbo = 0.5 * (recon_term + log_gamma_term + kl_term + d * LOG_2PI)
    return {"recon_sq": recon_sq, "recon_term": recon_term, "log_gamma_term": log_gamma_term,
            "kl_term": kl_term, "eq3": eq3, "neg_elbo": neg_elbo}


def eq3_pass(model, x: torch.Tensor, eps: torch.Tensor):
    """One pass of Eq. (3) with the given noise: encode, z = mu_z + sigma_z * eps, decode.

    eps (batch, kappa) standard normal. Returns (terms dict of (batch,) tensors, z (batch, kappa))."""
    mu_z, log_sigma_z = model.encode(x)
    z = mu_z + torch.exp(log_sigma_z) * eps
    x_mean = model.decode(z)
    return eq3_terms(x, x_mean, mu_z, log_sigma_z, model.log_gamma_var), z


def vae_forward(model, x: torch.Tensor, generator: torch.Generator | None = None):
    """`eq3_pass` with eps ~ N(0, I) of shape (batch, model.kappa) drawn from `generator`."""
    eps = torch.randn((x.shape[0], model.kappa), generator=generator, device=x.device, dtype=x.dtype)
    return eq3_pass(model, x, eps)


class NegativeELBO:
    """The default objective of experiments.core.train: the per-sample negative ELBO in nats,
    0.5 * (Eq. 3 + d log 2 pi - kappa), one reparameterized draw per sample with the loop's noise.

    Returns eq3_terms' (batch,) tensors (the hook's `terms`), "loss" = neg_elbo and "z"; its metrics
    columns are loss, eq3, recon_sq, kl_nats (the KL in nats, half of kl_term) and bpd_elbo."""

    def __call__(self, model, x: torch.Tensor, eps: torch.Tensor) -> dict[str, torch.Tensor]:
        terms, z = eq3_pass(model, x, eps)
        return {**terms, "loss": terms["neg_elbo"], "z": z}

    @staticmethod
    def columns(means: dict[str, float], d: int) -> dict[str, float]:
        return {"loss": means["loss"], "eq3": means["eq3"], "recon_sq": means["recon_sq"],
                "kl_nats": 0.5 * means["kl_term"], "bpd_elbo": nats_to_bpd(means["loss"], d)}


def gaussian_log_density(x: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """log N(x; mean, exp(log_var) I) summed over all but the first axis -> (batch,)."""
    batch = x.shape[0]
    sq = (x.reshape(batch, -1) - mean.reshape(batch, -1)).pow(2)
    log_var = log_var.reshape(batch, -1) if log_var.dim() > 0 else log_var
    return -0.5 * (sq * torch.exp(-log_var) + log_var + LOG_2PI).sum(dim=1)


@torch.no_grad()
def importance_weighted_nll(model, x: torch.Tensor, num_samples: int,
                            generator: torch.Generator | None = None,
                            return_log_weights: bool = False):
    """-log p(x) bounded above by the K-sample importance-weighted bound (Burda et al., 2016).

    -log p(x) <= -log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x),  z_k ~ q(z|x): the K = 1 case is the
    (single-sample) negative ELBO and the bound tightens as K grows. Returns nats, shape (batch,),
    and with `return_log_weights` also the log weights log p(x, z_k) - log q(z_k|x), (K, batch).
    """
    if num_samples < 1:
        raise ValueError(f"num_samples must be >= 1, got {num_samples}")
    mu_z, log_sigma_z = model.encode(x)
    log_w = []
    for _ in range(num_samples):
        eps = torch.randn(mu_z.shape, generator=generator, device=mu_z.device, dtype=mu_z.dtype)
        z = mu_z + torch.exp(log_sigma_z) * eps
        log_px_z = gaussian_log_density(x, model.decode(z), model.log_gamma_var)
        log_pz = -0.5 * (z.pow(2) + LOG_2PI).sum(dim=1)
        log_qz = -0.5 * (eps.pow(2) + LOG_2PI).sum(dim=1) - log_sigma_z.sum(dim=1)
        log_w.append(log_px_z + log_pz - log_qz)
    log_w = torch.stack(log_w, dim=0)  # (K, batch)
    nll = -(torch.logsumexp(log_w, dim=0) - math.log(num_samples))
    return (nll, log_w) if return_log_weights else nll


def nats_to_bpd(nll_nats: torch.Tensor | float, d: int, bits_per_pixel: int = 8):
    """Bits per dimension of 8-bit images from a continuous density on pixels scaled to [0, 1].

    Scaling a pixel v in {0..255} to v/255 (we use the density at v/255, NO uniform dequantization,
    as the paper's Table 1 protocol trains and scores the [0, 1] images as given) changes the density
    by the Jacobian 255 per pixel; the usual convention (Theis et al., 2016; Nalisnick et al., 2019)
    approximates the 8-bit bin of width 1/256 by its density times the bin width, which adds
    d log 256 nats. So BPD = nll / (d ln 2) + log2(256) = nll / (d ln 2) + 8.
    Without dequantization this is not a bound on a discrete code length: a density that peaks
    sharply on the data (gamma -> 0) can push it below 0. The shared gamma keeps it finite here.
    """
    return nll_nats / (d * math.log(2.0)) + bits_per_pixel
