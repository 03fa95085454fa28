"""Theorem 4 trained (supplement Eq. 20-25): the squeezed curve, each penalty h and the learned-gamma VAE.

For every eps and every model (an autoencoder on L_{g,h} for each h, and the VAE of Eq. 3 with gamma
learned), the two decoders of Eq. (20) are trained separately: theta = 1 (the curve; one active row
is enough) and theta = 0 (the identity; two rows needed), each with its own MLP encoder. The one with
the lower final objective is the model's preferred solution; theory.theorem4.crossover_eps predicts
the eps below which a bounded-gradient h prefers theta = 0. Why two runs and not a learned theta: on
the path between them the cost rises like eps / (1 - theta) for every h (figures/README.md, section
5), so descent from either side stays on that side; which side is preferred is a comparison of the
two minima, which is what the theorem states.

Conventions: data x (n, 2) are NOT standardized (their scale eps is the point); codes z (n, 2);
row energies u_k = (1/n)||z_k||^2.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from experiments.core.models import gamma_var
from experiments.core.runs import CHECKPOINT_NAME, write_json_atomic
from experiments.core.train import TrainConfig, seed_everything, train
from experiments.manifold import estimators
from experiments.manifold.data import squeezed_curve
from experiments.manifold.measure import encoder_statistics, expected_eq3
from experiments.manifold.models import CurveModel
from experiments.manifold.objectives import LghObjective, theory_penalty
from experiments.manifold.protocol import finished_stage, interrupted
from theory.theorem4 import crossover_eps

CURVE_C = 0.7          # Eq. (21)'s C: the data are pi(s), s in [C, 1); theory's examples use 0.7 too
CURVE_N = 256          # samples, one full batch per step (as in theory.theorem4.crossover_eps)
RECON_WEIGHT = 1e3     # g(u) = 1e3 u / (mean squared coordinate): see objectives.LghObjective
SHIFT_C = 1e-2         # c of log(u + c) and u / (u + c)
# The VAE's gamma starts at 1% of the data's mean squared coordinate. Started at 100% (Eq. 16's value
# for a decoder that outputs 0), the fixed curve decoder's gain (about 0.0075 at eps = 0.01) gives
# an encoded z_1 almost no advantage over the prior, and the posterior collapses (measured: sigma_1^2
# about 1 after 1,500 steps, gamma stuck at the data variance).
GAMMA_START = 1e-2


@dataclass(frozen=True)
class CurveSettings:
    """What a squeezed-curve sweep trains: `models` are penalty names and/or "vae"."""

    eps_values: tuple[float, ...]
    models: tuple[str, ...]
    iters: int = 1500
    lr: float = 3e-3
    lr_log_gamma: float = 1e-2
    seed: int = 0
    device: str = "cpu"


class ActiveHook:
    """Logs the active latent count on the full data at every logged step (the estimators' gap
    rules: row energies for an autoencoder, encoder variances for a VAE)."""

    def __init__(self, x: torch.Tensor, vae: bool, every: int):
        self.x, self.vae, self.every, self.last = x, vae, every, {"active": -1.0}

    def __call__(self, step, model, x, terms, z):
        if step % self.every == 0 or step == 1:
            stats = encoder_statistics(model, self.x)
            count = (estimators.active_dims_from_variance(stats["mean_log_sigma_sq"]) if self.vae
                     else estimators.active_dims_from_energy(stats["energies"])).count
            self.last = {"active": float(count)}
        return self.last


def _config(settings: CurveSettings, vae: bool, scale_sq: float) -> TrainConfig:
    return TrainConfig(iters=settings.iters, batch_size=CURVE_N, lr=settings.lr,
                       lr_log_gamma=settings.lr_log_gamma, learn_gamma=vae,
                       # relative to the data's scale, so every eps starts at the same relative point
                       log_gamma_var_init=math.log(scale_sq * GAMMA_START), seed=settings.seed,
                       log_every=max(1, settings.iters // 30), ckpt_every=max(1, settings.iters // 3),
                       progress=False, device=settings.device)


def run_one(model_name: str, eps: float, theta: float, settings: CurveSettings, run_dir: Path,
            resume: bool = False) -> dict:
    """Train one (model, eps, theta) and return its final objective, active count and energies."""
    vae = model_name == "vae"
    data = squeezed_curve(CURVE_N, eps, CURVE_C, settings.seed)
    x = torch.tensor(data.x, dtype=torch.float32)
    scale_sq = float(np.mean(data.x**2))
    config = _config(settings, vae, scale_sq)
    seed_everything(settings.seed)
    # codes start at the scale each decoder needs: the data's RMS for the identity (theta = 0), 1
    # for the logistic of the curve (theta = 1); the scale stays learned
    model = CurveModel(eps, CURVE_C, theta, input_scale=math.sqrt(scale_sq),
                       code_scale=math.sqrt(scale_sq) if theta == 0.0 else 1.0).to(settings.device)
    objective = None if vae else LghObjective(model_name, RECON_WEIGHT, scale_sq, SHIFT_C)
    x_dev = x.to(settings.device)
    if not (resume and finished_stage(model, config, run_dir)):
        interrupted(train(model, x, config, run_dir, resume=resume and (run_dir / CHECKPOINT_NAME).exists(),
                          force=not resume, objective=objective, hook=ActiveHook(x_dev, vae, config.log_every),
                          model_args={"model": model_name, "eps": eps, "theta": theta, "C": CURVE_C}))
    model.eval()
    x = x_dev
    stats = encoder_statistics(model, x)
    if vae:
        final = expected_eq3(model, x, draws=16, seed=settings.seed)["eq3"]
        active = estimators.active_dims_from_variance(stats["mean_log_sigma_sq"]).count
    else:
        with torch.no_grad():
            final = float(objective(model, x, torch.zeros(CURVE_N, 0, device=x.device))["loss"])
        active = estimators.active_dims_from_energy(stats["energies"]).count
    return {"model": model_name, "eps": eps, "theta": theta, "objective": final, "active": active,
            "energies": stats["energies"].tolist(),
            "gamma_var": gamma_var(model) if vae else None}


def preferred(results: list[dict]) -> dict[tuple[str, float], dict]:
    """For each (model, eps), the theta run with the lower final objective."""
    best: dict[tuple[str, float], dict] = {}
    for res in results:
        key = (res["model"], res["eps"])
        if key not in best or res["objective"] < best[key]["objective"]:
            best[key] = res
    return best


def measured_crossover(results: list[dict], model_name: str) -> float | None:
    """The eps where the preferred theta switches, by linear interpolation in log eps of the objective
    gap J(theta = 1) - J(theta = 0) between the two grid points that bracket its sign change (the
    largest such eps). 0.0: theta = 1 preferred at every eps of the grid; inf: theta = 0 at every eps."""
    gaps = {}
    for res in results:
        if res["model"] == model_name:
            sign = 1.0 if res["theta"] == 1.0 else -1.0
            gaps[res["eps"]] = gaps.get(res["eps"], 0.0) + sign * res["objective"]
    eps_sorted = sorted(gaps, reverse=True)
    values = [gaps[e] for e in eps_sorted]
    if all(v < 0 for v in values):
        return 0.0
    if all(v >= 0 for v in values):
        return math.inf
    for (e_hi, g_hi), (e_lo, g_lo) in zip(zip(eps_sorted, values), zip(eps_sorted[1:], values[1:])):
        if g_hi < 0 <= g_lo:
            t = g_hi / (g_hi - g_lo)
            return float(math.exp(math.log(e_hi) + t * (math.log(e_lo) - math.log(e_hi))))
    return None  # the sign changes the other way only: no crossover of the theorem's kind


def predicted_crossover(model_name: str, seed: int = 0) -> float:
    """theory.theorem4.crossover_eps for this h on the same data (n, C, seed); 0 for the VAE, whose
    gamma -> 0 limit is h = log (Lemma 3), for which theta = 1 is preferred at every eps."""
    name = "log" if model_name == "vae" else model_name
    return crossover_eps(theory_penalty(name, SHIFT_C), CURVE_C, n=CURVE_N, seed=seed)


def run_sweep(settings: CurveSettings, out: Path, resume: bool, progress=None) -> dict:
    """Every (model, eps, theta) of `settings` under out/curve/; results.json holds all of them.
    A run whose checkpoint is complete is read back, not retrained (resume)."""
    results = []
    for model_name in settings.models:
        for eps in settings.eps_values:
            for theta in (1.0, 0.0):
                run_dir = out / "curve" / f"{model_name}_eps{eps:g}_theta{theta:g}"
                results.append(run_one(model_name, eps, theta, settings, run_dir, resume))
                if progress is not None:
                    progress.update(1)
    summary = {"settings": asdict(settings), "C": CURVE_C, "n": CURVE_N, "recon_weight": RECON_WEIGHT,
               "shift_c": SHIFT_C, "runs": results,
               "crossover": {m: {"measured": measured_crossover(results, m),
                                 "predicted": predicted_crossover(m, settings.seed)}
                             for m in settings.models}}
    write_json_atomic(out / "curve" / "results.json", summary)
    return summary
