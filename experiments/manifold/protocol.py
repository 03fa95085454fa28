"""One manifold, start to finish: the learned-gamma VAE (Eq. 3) in stages on the shared training loop,
the Lemma 2 ladder of fixed gammas above gamma*, every estimate of r, and the baselines.

Stages (each a run folder of experiments.core.train, resumable, started from the previous one's weights):
  warmup    gamma FIXED at `warmup_gamma` (standardized data: the mean squared coordinate is 1), so that
            spare latent dimensions are switched off before gamma is small: with gamma learned from
            the start it falls to the decoder's error in a few hundred steps, and then every spare
            dimension pays for itself by encoding a residual (measured: 64 of 64 active on a
            30-dimensional subspace of R^784; with this warmup at gamma = 1, 30 of 30);
  learned   gamma learned in log space at its own rate `lr_log_gamma` (Eq. 16 tracked as the error falls);
  finetune  the same at a tenth of both rates (the loop has no schedule; a step decay in stages);
  rung_k    gamma FIXED at gamma* x `rungs[k]`, fresh Adam, from the previous rung (the ladder UP of
            estimators.slope_rhat_envelope);
  fixed     (with `fixed_gamma_run`) a fresh VAE with gamma FIXED at the learned run's gamma* from
            step 0, as many steps as the three learned stages: the paper's section 4 comparison.
Conventions: data standardized (data.standardize); gamma is the decoder VARIANCE.
"""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from experiments.core.models import gamma_values
from experiments.core.runs import CHECKPOINT_NAME, load_checkpoint
from experiments.core.train import TrainConfig, seed_everything, train
from experiments.manifold import baselines, estimators
from experiments.manifold.data import Manifold, standardize
from experiments.manifold.measure import decoder_jacobian_rank, encoder_statistics, expected_eq3
from experiments.manifold.models import MLPVAE

# estimator -> the target it aims at ("r" intrinsic, "embedding" the embedding target of data.py)
ESTIMATOR_TARGETS = {
    "active_sigma": "embedding", "active_energy": "embedding", "lemma2_slope": "embedding",
    "sigma_below_half": "embedding", "jacobian_rank": "r", "fixed_gamma_active": "embedding",
    **{name: "r" for name in baselines.BASELINES},
}


@dataclass(frozen=True)
class Recipe:
    """Every knob of the VAE protocol for one manifold (see the module docstring)."""

    kappa_cap: int = 72            # kappa = min(d, kappa_cap): covers every benchmark target (71)
    hidden: int = 256
    depth: int = 2
    batch_size: int = 256
    lr: float = 1e-3
    lr_log_gamma: float = 1e-2
    gamma_warmup: float | None = None  # None: `warmup_gamma`'s rule from the data
    warmup_iters: int = 2500
    learned_iters: int = 2000
    finetune_iters: int = 500
    rungs: tuple[float, ...] = (10.0, 100.0, 1000.0)
    rung_iters: int = 300
    # The rungs continue at the finetune rate: a larger one lifts the error by its own noise (measured
    # on a 7-dimensional subspace of R^50, rung x1000 after 300 steps: 7.07 at 1e-4, 7.25 at 3e-4,
    # 7.73 at 1e-3, 10.1 at 1e-2; 1e-2 diverges in R^784), a smaller one has not converged
    lr_rung: float = 1e-4
    fixed_gamma_run: bool = False
    jacobian_points: int = 32
    seed: int = 0
    device: str = "cpu"

    def kappa(self, d: int) -> int:
        return min(d, self.kappa_cap)


def warmup_gamma(x: np.ndarray) -> float:
    """The warmup's fixed gamma for standardized x (n, d): min(1, lambda_95 / 4), lambda_95 the mean
    variance of the principal directions that hold 95% of the variance.

    Why: at a fixed gamma a direction of variance lambda stays active only if lambda > gamma (the
    affine optimum, theory.lemma2.optimal_loss_closed_form), and the larger gamma the faster spare
    dimensions are switched off. A factor 4 below the directions that carry the data keeps them all;
    the cap 1 is the mean coordinate variance. Measured: gamma = 1 gives 30 of 30 on a 30-dimensional
    subspace of R^784 (lambda_95 = 26) where 0.25 gives 31 and 0.01 gives 64 of 64, while on 20
    isotropic dimensions (lambda_95 = 1) gamma = 1 switches every direction off and 0.25 keeps all 20.
    """
    eig = np.sort(np.linalg.eigvalsh(np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1])))[::-1]
    eig = np.clip(eig, 0.0, None)
    k95 = int(np.searchsorted(np.cumsum(eig) / eig.sum(), 0.95) + 1)
    return float(min(1.0, eig[:k95].mean() / 4.0))


def _stage(model, data: torch.Tensor, config: TrainConfig, run_dir: Path, resume: bool,
           model_args: dict) -> None:
    """Run one stage, or read it back when its checkpoint is complete; resume a partial one."""
    finished_stage(model, config, run_dir) or interrupted(
        train(model, data, config, run_dir, resume=resume and (run_dir / CHECKPOINT_NAME).exists(),
              force=not resume, model_args=model_args))


def finished_stage(model, config: TrainConfig, run_dir: Path) -> bool:
    """Load the weights of a run whose checkpoint reached config.iters; False if there is none."""
    checkpoint = run_dir / CHECKPOINT_NAME
    if checkpoint.exists():
        state = load_checkpoint(checkpoint, map_location=config.device)
        if state["step"] >= config.iters:
            model.load_state_dict(state["model"])
            return True
    return False


def interrupted(result: dict) -> bool:
    """Stop the whole command when the loop was interrupted (it has checkpointed: --resume continues)."""
    if result["interrupted"]:
        raise KeyboardInterrupt
    return False


def _stage_config(recipe: Recipe, iters: int, **changes) -> TrainConfig:
    base = TrainConfig(iters=iters, batch_size=recipe.batch_size, lr=recipe.lr,
                       lr_log_gamma=recipe.lr_log_gamma, seed=recipe.seed, progress=False,
                       device=recipe.device,
                       log_every=max(1, iters // 20), ckpt_every=max(1, iters // 4))
    return dataclasses.replace(base, **changes)


def _counts(model, x: torch.Tensor) -> dict:
    stats = encoder_statistics(model, x)
    sigma = estimators.active_dims_from_variance(stats["mean_log_sigma_sq"])
    energy = estimators.active_dims_from_energy(stats["energies"])
    return {"active_sigma": sigma, "active_energy": energy,
            "sigma_below_half": int(np.sum(np.exp(stats["mean_log_sigma_sq"]) < 0.5)),
            "mean_log_sigma_sq": stats["mean_log_sigma_sq"].tolist()}


def fit_vae(manifold: Manifold, recipe: Recipe, out: Path, resume: bool = False) -> dict:
    """The stages and the ladder on one manifold; returns the estimates (see `estimate_row`)."""
    x_np = standardize(manifold.x)
    x = torch.tensor(x_np, dtype=torch.float32)                        # the loop moves batches
    x_dev = x.to(recipe.device)                                        # measurements on the device
    kappa = recipe.kappa(manifold.d)
    seed_everything(recipe.seed)
    model = MLPVAE(manifold.d, kappa, recipe.hidden, recipe.depth).to(recipe.device)
    args = {"manifold": manifold.name, "d": manifold.d, "kappa": kappa, "hidden": recipe.hidden,
            "depth": recipe.depth}
    gamma_warm = warmup_gamma(x_np) if recipe.gamma_warmup is None else recipe.gamma_warmup
    log_warm = math.log(gamma_warm)
    _stage(model, x, _stage_config(recipe, recipe.warmup_iters, learn_gamma=False,
                                   log_gamma_var_init=log_warm), out / "warmup", resume, args)
    _stage(model, x, _stage_config(recipe, recipe.learned_iters, log_gamma_var_init=log_warm),
           out / "learned", resume, args)
    log_gamma = gamma_values(model.log_gamma_var)["log_gamma_var"]
    _stage(model, x, _stage_config(recipe, recipe.finetune_iters, lr=recipe.lr / 10,
                                   lr_log_gamma=recipe.lr_log_gamma / 10, log_gamma_var_init=log_gamma),
           out / "finetune", resume, args)
    model.eval()
    gamma_star = gamma_values(model.log_gamma_var)["gamma_var"]
    learned = {"loss": expected_eq3(model, x_dev, seed=recipe.seed), **_counts(model, x_dev),
               "jacobian_rank": decoder_jacobian_rank(model, x_dev, recipe.jacobian_points)}
    ladder = []
    for k, factor in enumerate(recipe.rungs):
        gamma = gamma_star * factor
        model.train()
        _stage(model, x, _stage_config(recipe, recipe.rung_iters, learn_gamma=False, lr=recipe.lr_rung,
                                       log_gamma_var_init=math.log(gamma)), out / f"rung_{k + 1}",
               resume, {**args, "rung": factor})
        model.eval()
        loss = expected_eq3(model, x_dev, seed=recipe.seed)
        counts = _counts(model, x_dev)
        ladder.append({"factor": factor, "gamma_var": gamma, "eq3": loss["eq3"],
                       "recon_sq": loss["recon_sq"],
                       "r_hat": estimators.slope_rhat_envelope(loss["recon_sq"], gamma),
                       "active_sigma": counts["active_sigma"].count})
    fixed = None
    if recipe.fixed_gamma_run:
        seed_everything(recipe.seed)
        fresh = MLPVAE(manifold.d, kappa, recipe.hidden, recipe.depth).to(recipe.device)
        iters = recipe.warmup_iters + recipe.learned_iters + recipe.finetune_iters
        try:
            _stage(fresh, x, _stage_config(recipe, iters, learn_gamma=False,
                                           log_gamma_var_init=math.log(gamma_star)), out / "fixed",
                   resume, args)
        except ValueError as err:
            # a gamma fixed small from step 0 can blow the loss up (the gradients of Eq. 3 scale with
            # 1/gamma from the start: the paper's section 4); that outcome is the measurement
            if "diverged" not in str(err):
                raise
            fixed = {"diverged": str(err)}
        else:
            fresh.eval()
            fixed = {"loss": expected_eq3(fresh, x_dev, seed=recipe.seed), **_counts(fresh, x_dev)}
    return {"gamma_star": gamma_star, "kappa": kappa, "learned": learned, "ladder": ladder,
            "fixed": fixed, "gamma_warmup": gamma_warm}


def lemma2_estimate(ladder: list[dict], learned_count: int, d: int) -> dict:
    """The Lemma 2 read-out: the envelope r_hat at the highest rung that still has the learned
    model's active count (higher rungs switch dimensions off and read less than r; lower ones carry
    the decoder's error floor / gamma on top of r), and the slope fitted over those rungs. None when
    every rung switched dimensions off: on data of full dimension (d - r = 0) nothing drives gamma*
    down, and gamma* x 10 already exceeds the data's variances."""
    valid = [rung for rung in ladder if rung["active_sigma"] == learned_count]
    if not valid:
        return {"r_hat": None, "rung_factor": None, "fit_r_hat": None}
    top = max(valid, key=lambda rung: rung["gamma_var"])
    fit = None
    if len(valid) >= 2:
        fit, _ = estimators.slope_rhat_fit([math.log(r["gamma_var"]) for r in valid],
                                           [r["eq3"] for r in valid], d)
    return {"r_hat": top["r_hat"], "rung_factor": top["factor"], "fit_r_hat": fit}


def estimate_row(manifold: Manifold, recipe: Recipe, out: Path, resume: bool = False,
                 with_baselines: bool = True) -> dict:
    """Everything the results table needs for one manifold (JSON-ready)."""
    t0 = time.perf_counter()
    fit = fit_vae(manifold, recipe, out, resume)
    learned = fit["learned"]
    slope = lemma2_estimate(fit["ladder"], learned["active_sigma"].count, manifold.d)
    estimates = {"active_sigma": learned["active_sigma"].count,
                 "active_energy": learned["active_energy"].count,
                 "sigma_below_half": learned["sigma_below_half"],
                 "jacobian_rank": learned["jacobian_rank"].count}
    if slope["r_hat"] is not None:
        estimates["lemma2_slope"] = slope["r_hat"]
    fixed = fit["fixed"]
    if fixed is not None and "diverged" not in fixed:
        estimates["fixed_gamma_active"] = fixed["active_sigma"].count
    gaps = {name: [learned[name].low, learned[name].high]
            for name in ("active_sigma", "active_energy", "jacobian_rank")}
    seconds_vae = time.perf_counter() - t0
    values, skipped = baselines.estimate_all(manifold.x, recipe.seed) if with_baselines else \
        ({}, {name: "baselines not requested" for name in baselines.BASELINES})
    return {"manifold": manifold.name, "d": manifold.d, "r": manifold.r,
            "embedding_target": manifold.embedding_target, "n": manifold.n, "note": manifold.note,
            "kappa": fit["kappa"], "gamma_star": fit["gamma_star"], "gamma_warmup": fit["gamma_warmup"],
            "estimates": {**estimates, **values},
            "gaps": gaps, "skipped": skipped, "ladder": fit["ladder"], "slope": slope,
            "learned_eq3": learned["loss"], "mean_log_sigma_sq": learned["mean_log_sigma_sq"],
            "fixed": None if fixed is None else (fixed if "diverged" in fixed else
                                                 {"eq3": fixed["loss"], "active_sigma": fixed["active_sigma"].count}),
            "recipe": asdict(recipe), "seconds_vae": seconds_vae,
            "seconds_baselines": time.perf_counter() - t0 - seconds_vae}
