"""What the Figure 4 protocol measures (main text, section 4): the per-iteration quantities of
Figure 4(b) (a train-loop hook) and the held-out reconstruction error and latent MMD of Figure 4(a).

Definitions (written into every summary, experiments/celeba/report.py):
* ||dL/dz||_2: L_i is sample i's negative ELBO in nats (= half its Eq. 3 braces plus constants), z_i
  the reparameterized draw mu_z + sigma_z * eps fed to the decoder; the training loop's backward of the batch
  mean leaves (1/B) d(sum_j L_j)/dz_i in z.grad, so grad_z_norm = mean_i || B * z.grad[i] ||_2. Only
  the decoder sees z (the KL terms use mu_z, sigma_z), so this is (1/gamma) J^T (x_i - mu_x(z_i)),
  exactly dL_i/dz_i but for the coupling through the decoder's training-mode batch-norm statistics
  (tests/test_celeba_run.py checks both readings). Eq. (3)'s own scale is twice this.
* encoder / decoder gradient norms: the l2 norm over all parameters of each part (log_gamma_var in
  neither) of the gradient of the batch-mean negative ELBO.
* active latent dimensions: k with mean over the batch of sigma_z,k(x) < ACTIVE_SIGMA_Z (an inactive
  dimension keeps q(z_k|x) close to N(0, 1), sigma ~ 1; an informative one has sigma far below 1).
* reconstruction error: per held-out image sum over pixels and channels of (x - mu_x(mu_z(x)))^2 on
  [0, 1] pixels (the decoder mean at the posterior mean; batch norm in eval mode), averaged over images.
* MMD: experiments/core/mmd.py (unbiased MMD^2, sum of IMQ kernels, one z per held-out image against as
  many N(0, I) draws, mean and std over `mmd_repeats` draws).
"""
from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

from experiments.core.mmd import posterior_prior_mmd
from experiments.core.train import as_unit_float

ACTIVE_SIGMA_Z = 0.1


class IterationMetrics:
    """The training loop's hook: the Figure 4(b) quantities of every step (definitions: module docstring).

    A forward hook on the model's log_sigma_z head keeps the batch's sigma_z (no second encoder pass)."""

    def __init__(self, model):
        self.model = model
        self._log_sigma_z = None
        model.fc_log_sigma_z.register_forward_hook(self._keep)

    def _keep(self, module, inputs, output):
        self._log_sigma_z = output.detach()

    @staticmethod
    def _norm(params) -> float:
        squares = [p.grad.detach().pow(2).sum() for p in params if p.grad is not None]
        return float(torch.stack(squares).sum().sqrt()) if squares else 0.0

    def __call__(self, step, model, x, terms, z) -> dict:
        batch = z.shape[0]
        grad_z = z.grad.detach() * batch  # rows: d(sum_j neg ELBO_j)/dz_i (module docstring)
        sigma_z = self._log_sigma_z.exp()
        return {
            "grad_z_norm": float(grad_z.norm(dim=1).mean()),
            "grad_encoder_norm": self._norm(model.encoder_parameters()),
            "grad_decoder_norm": self._norm(model.decoder_parameters()),
            "recon_term": float(terms["recon_term"].detach().mean()),
            "log_gamma_term": float(terms["log_gamma_term"].detach().mean()),
            "kl_term": float(terms["kl_term"].detach().mean()),
            "mean_sigma_z": float(sigma_z.mean()),
            "active_dims": int((sigma_z.mean(dim=0) < ACTIVE_SIGMA_Z).sum()),
        }


def evaluate(model, images, *, batch_size: int, device, mmd_repeats: int, seed: int,
             progress: bool = False) -> dict:
    """Held-out reconstruction error, latent MMD and active dimensions (definitions: module docstring)."""
    was_training = model.training
    model.eval()
    mu, log_sigma, sse = [], [], []
    with torch.inference_mode():
        for start in tqdm(range(0, len(images), batch_size), desc="encode held-out", leave=False,
                          disable=not progress, dynamic_ncols=True):
            x = as_unit_float(images[start:start + batch_size].to(device))
            mu_z, log_sigma_z = model.encode(x)
            recon = model.decode(mu_z)
            sse.append((x - recon).pow(2).flatten(1).sum(1).double().cpu())
            mu.append(mu_z.double().cpu())
            log_sigma.append(log_sigma_z.double().cpu())
    model.train(was_training)
    sse = torch.cat(sse).numpy()
    mu, log_sigma = torch.cat(mu).numpy(), torch.cat(log_sigma).numpy()
    mmd = posterior_prior_mmd(mu, log_sigma, repeats=mmd_repeats, seed=seed, progress=progress)
    mean_sigma = np.exp(log_sigma).mean(axis=0)
    return {"rec_err": float(sse.mean()), "rec_err_sem": float(sse.std(ddof=1) / np.sqrt(len(sse)))
            if len(sse) > 1 else 0.0, "n_images": int(len(sse)), "mmd": mmd,
            "active_dims": int((mean_sigma < ACTIVE_SIGMA_Z).sum()),
            "mean_sigma_z_per_dim_sorted": np.sort(mean_sigma).round(4).tolist()}


def curve_summary(rows: list[dict], key: str, iters: int) -> dict:
    """Mean of `key` over the first and the last 1% of the iterations (at least one row each)."""
    window = max(1, iters // 100)
    values = np.array([r[key] for r in rows])
    return {"initial": float(values[:window].mean()), "final": float(values[-window:].mean()),
            "max": float(values.max()), "window": window}
