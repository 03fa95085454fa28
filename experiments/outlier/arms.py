"""The gamma-fixed arm of the outlier experiment (Table 1 protocol, with main-text Figure 4's second arm):
train the same VAE with gamma FIXED at the gamma* a learned-gamma run reached (Eq. 16: at its optimum
the learned gamma equals the reconstruction error per dimension), so that the two arms differ only in
whether gamma moves during training.

gamma is the decoder VARIANCE; the weights files store it as `log_gamma_var`.
"""
from __future__ import annotations

import math
from pathlib import Path

from experiments.core.runs import CHECKPOINT_NAME, load_checkpoint


def gamma_star_from(path: str | Path, kappa: int) -> dict:
    """gamma* of a learned-gamma outlier run: {"log_gamma_var", "step", "source"}.

    `path` is a weights file of that run (snapshots/step_XXXXXXX.pt or checkpoint.pt) or its run folder,
    whose checkpoint.pt must then be the FINISHED run (step == iters): a half-trained run's gamma is not
    its gamma*. The file's kappa must be `kappa` (the arm compares one architecture with itself).
    """
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
        if not path.is_file():
            raise ValueError(f"--fixed-gamma-from {path.parent}: no {CHECKPOINT_NAME} in that folder")
        state = load_checkpoint(path)
        if state["step"] != state["config"]["iters"]:
            raise ValueError(f"--fixed-gamma-from {path.parent}: the run stopped at step {state['step']} "
                             f"of {state['config']['iters']}; name one of its snapshots/ files instead")
    elif path.is_file():
        state = load_checkpoint(path)
    else:
        raise ValueError(f"--fixed-gamma-from {path}: no such file or folder")
    if "model" not in state or "log_gamma_var" not in state["model"]:
        raise ValueError(f"--fixed-gamma-from {path}: not a checkpoint of a model with a learned gamma")
    source_kappa = state.get("model_args", {}).get("kappa")
    if source_kappa != kappa:
        raise ValueError(f"--fixed-gamma-from {path}: the run has kappa={source_kappa}, this one kappa={kappa}")
    if not state.get("config", {}).get("learn_gamma", True):
        raise ValueError(f"--fixed-gamma-from {path}: that run's gamma was fixed, not learned")
    log_gamma_var = float(state["model"]["log_gamma_var"])
    if not math.isfinite(log_gamma_var):
        raise ValueError(f"--fixed-gamma-from {path}: log_gamma_var is {log_gamma_var}")
    return {"log_gamma_var": log_gamma_var, "step": int(state["step"]), "source": str(path)}
