"""Figures 5 and 10: Theorem 4's decoder (20) between its endpoints. Fig. 5: the cost along theta,
minimized over Z with zero reconstruction; Fig. 10: projected Adam on (Z, theta) under each h.
Numbers from figures/theta_path.py (built on theory/theorem4.py)."""
from __future__ import annotations

import numpy as np

from figures._common import COLORS, figure_penalties, note_panel
from figures import theta_path
from theory import penalties, theorem4
from theory.objective import active_rows

C, N, SEED = 0.7, 32, 0
EPS = 0.1  # below the crossover eps of every bounded-gradient h (Fig. 3): theta = 0 is their optimum


def path_compute(quick: bool = False) -> dict:
    """theta_path.cost_along_theta on 0, a logistic grid of (0, 1), and 1."""
    X = theorem4.sample_data_eq21(N, EPS, C, SEED)
    inner = 1.0 / (1.0 + np.exp(-np.linspace(-6.0, 12.0, 37 if quick else 97)))
    thetas = np.concatenate([[0.0], inner, [1.0]])
    family = figure_penalties()
    costs = theta_path.cost_along_theta(family, X, thetas, EPS, C)
    rows = []
    for name, h in family.items():
        cost = costs[name]
        rows.append({"name": name, "label": h.label, "cost": cost,
                     "argmin_theta": float(thetas[int(np.argmin(cost))])})
    return {"eps": EPS, "C": C, "n": N, "theta": thetas, "max_roots": costs["max_roots"], "costs": rows}


def _num(value) -> float:
    return float(value)  # "inf"/"-inf" strings from the JSON file become floats


def path_draw(data: dict):
    import matplotlib.pyplot as plt

    theta = np.asarray(data["theta"])
    inner = slice(1, len(theta) - 1)
    fig, axes = plt.subplots(2, 4, figsize=(11, 5), sharex=True)
    lo, hi = theta[1] / 3, 1 - (1 - theta[-2]) / 3
    multi = np.asarray(data["max_roots"])[inner] > 1
    for ax, row in zip(axes.flat, data["costs"]):
        cost = np.array([_num(v) for v in row["cost"]])
        color = COLORS[row["name"]]
        ax.plot(theta[inner], cost[inner], color=color, lw=1.6, label="$0 < \\theta < 1$")
        ax.set_xscale("logit")
        ax.axhline(cost[0], color="k", ls=":", lw=1, label="$\\theta = 0$ (Eq. 24)")
        if np.isfinite(cost[-1]):
            ax.axhline(cost[-1], color="k", ls="--", lw=1, label="$\\theta = 1$ (Eq. 23)")
        else:
            ax.text(0.97, 0.12, "$\\theta = 1$: $-\\infty$", transform=ax.transAxes, ha="right", fontsize=7.5)
        if multi.any():
            ax.axvspan(theta[inner][multi][0], hi, color="0.85", lw=0, label="several roots per sample")
        best = row["argmin_theta"]
        y_best = np.nanmin(cost) if np.isfinite(np.nanmin(cost)) else None
        x_best = lo if best == 0.0 else (hi if best == 1.0 else best)
        if y_best is not None:
            ax.plot(x_best, y_best, "*", ms=12, color="#c0392b", mec="k", mew=0.5, clip_on=False, zorder=5)
        finite = cost[np.isfinite(cost)]
        top = np.quantile(finite, 0.8)
        span = top - finite.min()
        ax.set_ylim(finite.min() - 0.1 * span - 1e-9, top + 0.1 * span + 1e-9)
        ax.set_xlim(lo, hi)
        ax.set_title(f"{row['label']}: best $\\theta = {best:g}$", fontsize=8.5)
    axes.flat[0].legend(loc="upper left", frameon=False, fontsize=6.5)
    note_panel(axes.flat[-1], ("Cost (1/2) sum_k h(u_k) of the best zero-\nreconstruction Z at each theta "
            f"(eps = {data['eps']:g}).\nRed star: global minimum over theta.\n\n"
            "Near theta = 1 the codes blow up like\neps / (1 - theta) (a wall), then at\n"
            "theta = 1 exactly z2 is free and set to 0:\nthe sparse solution is an isolated\n"
            "point, cheaper only for log and the\nindicator."))
    for ax in axes[1]:
        ax.set_xlabel("$\\theta$ (logit scale)")
    fig.tight_layout()
    return fig


# --- Figure 10 -------------------------------------------------------------------------------

DESCENT_PENALTIES = ("log", "sqrt", "log_shift", "ratio", "linear")
WEIGHT = 1e4  # g(u) = WEIGHT * u: reconstruction enforced by a penalty (mse ~ 1e-6 at the end)
ROW_TOL = 1e-2 * EPS  # a row is active when its RMS exceeds 1% of the data scale eps


def initializations(X) -> dict:
    """Two starts shared by every h: near the sparse solution (theta = 0.9, z1 = the theta = 1 code,
    z2 small seeded noise) and half way on the zero-reconstruction path (theta = 0.5)."""
    rng = np.random.default_rng(SEED + 1)
    near_sparse = theorem4.sparse_code_theta1(X, EPS, C)
    near_sparse[1] = 0.1 * EPS * rng.standard_normal(X.shape[1])
    _, half_way = theta_path.path_cost(penalties.linear(), X, 0.5, EPS, C)
    return {"near_sparse": (near_sparse, 0.9), "half_way": (half_way, 0.5)}


def descent_compute(quick: bool = False) -> dict:
    X = theorem4.sample_data_eq21(N, EPS, C, SEED)
    family = figure_penalties()
    steps = 300 if quick else 1500
    out = {"eps": EPS, "weight": WEIGHT, "row_tol": ROW_TOL, "steps": steps, "runs": {}}
    for init_name, (Z0, theta0) in initializations(X).items():
        runs = []
        for name in DESCENT_PENALTIES:
            res = theta_path.descend(family[name], X, Z0, theta0, EPS, C, WEIGHT, steps=steps, lr=1e-2)
            rms = np.sqrt(res["energies"])
            runs.append({"name": name, "label": family[name].label, "step": res["step"], "theta": res["theta"],
                         "row_rms": rms,
                         # active_rows takes Z; a (2, 1) column holding the two RMS values has them
                         # as its row RMS, so the recorded energies are enough
                         "active_rows": np.array([int(np.sum(active_rows(r[:, None], ROW_TOL))) for r in rms]),
                         "theta_final": res["theta_final"],
                         "final_mse": float(np.mean((X - theorem4.decoder_eq20(res["Z"], res["theta_final"], EPS, C)) ** 2))})
        out["runs"][init_name] = runs
    return out


def descent_draw(data: dict):
    import matplotlib.pyplot as plt

    titles = {"near_sparse": "start near the sparse solution ($\\theta_0 = 0.9$)",
              "half_way": "start half way ($\\theta_0 = 0.5$, zero reconstruction)"}
    fig, axes = plt.subplots(2, 3, figsize=(11, 5.2))
    for row, (init_name, runs) in enumerate(data["runs"].items()):
        ax_t, ax_r, ax_a = axes[row]
        for k, run in enumerate(runs):
            color = COLORS[run["name"]]
            step = np.asarray(run["step"])
            ax_t.plot(step, run["theta"], color=color, lw=1.5, label=run["label"])
            rms = np.asarray(run["row_rms"])
            ax_r.semilogy(step, np.maximum(rms.min(axis=1), 1e-30), color=color, lw=1.5)
            ax_a.plot(step, np.asarray(run["active_rows"]) + 0.04 * (k - 2), color=color, lw=1.5)
        ax_t.set(ylim=(-0.05, 1.05), ylabel="$\\theta$", title=titles[init_name])
        ax_r.axhline(data["row_tol"], color="k", ls=":", lw=1)
        ax_r.set(ylabel="RMS of the smaller row of $Z$ (floor $10^{-30}$)", title="smaller latent row (dotted: 1% of $\\epsilon$)")
        ax_a.set(ylim=(0.5, 2.5), yticks=[1, 2], ylabel="active latent rows", title="active rows")
    for ax in axes[1]:
        ax.set_xlabel("Adam step")
    axes[0, 0].legend(loc="center right", frameon=False, fontsize=7)
    fig.tight_layout()
    return fig
