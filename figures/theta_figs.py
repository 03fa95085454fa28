"""Figures 5 and 10: Theorem 4's decoder (20) between its endpoints. Fig. 5: the cost along theta,
minimized over Z with zero reconstruction; Fig. 10: projected Adam on (Z, theta) under each h.
Numbers from figures/theta_path.py (built on theory/theorem4.py)."""
from __future__ import annotations

import numpy as np

from figures._common import COLORS, figure_penalties
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


# logit-axis ticks: 1 - 10^-2 and 1 - 10^-5 sit far enough apart to keep their labels apart
PATH_TICKS = (1e-2, 0.5, 1 - 1e-2, 1 - 1e-5)
PATH_TICK_LABELS = ("$10^{-2}$", "$\\frac{1}{2}$", "$1 - 10^{-2}$", "$1 - 10^{-5}$")


def _path_legend(ax, eps: float) -> None:
    """The legend of every panel (drawn once, in the spare panel) above the note on the plateau."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Line2D([], [], color="0.3", lw=1.6, label="$0 < \\theta < 1$: cheapest exact $Z$"),
               Line2D([], [], color="k", ls=":", lw=1, label="$\\theta = 0$ (Eq. 24)"),
               Line2D([], [], color="k", ls="--", lw=1, label="$\\theta = 1$ (Eq. 23)"),
               Patch(color="0.85", lw=0, label="several roots per sample:\nan upper bound"),
               Line2D([], [], ls="none", marker="*", ms=10, color="#c0392b", mec="k", mew=0.5,
                      label="global minimum over $\\theta$")]
    ax.axis("off")
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, 1.08), frameon=False, fontsize=7)
    ax.text(0.0, 0.0, (f"Cost (1/2) sum_k h(u_k), eps = {eps:g}.\n"
            "Toward theta = 1 the codes grow like\neps / (1 - theta): a wall. Where the\n"
            "curve drops just before theta = 1, it\nlands on a plateau ABOVE the theta = 1\n"
            "cost (a second branch of codes, with\nu_2 = O(1)); only at theta = 1 exactly\n"
            "does z_2 drop to 0."),
            transform=ax.transAxes, fontsize=7, va="bottom")


def path_draw(data: dict):
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    theta = np.asarray(data["theta"])
    inner = slice(1, len(theta) - 1)
    fig, axes = plt.subplots(2, 4, figsize=(11, 5), sharex=True)
    lo, hi = theta[1] / 3, 1 - (1 - theta[-2]) / 3
    multi = np.asarray(data["max_roots"])[inner] > 1
    for ax, row in zip(axes.flat, data["costs"]):
        cost = np.array([_num(v) for v in row["cost"]])
        color = COLORS[row["name"]]
        ax.plot(theta[inner], cost[inner], color=color, lw=1.6)
        ax.set_xscale("logit")
        ax.axhline(cost[0], color="k", ls=":", lw=1)
        if np.isfinite(cost[-1]):
            ax.axhline(cost[-1], color="k", ls="--", lw=1)
        else:
            ax.text(0.97, 0.12, "$\\theta = 1$: $-\\infty$", transform=ax.transAxes, ha="right", fontsize=7.5)
        if multi.any():
            ax.axvspan(theta[inner][multi][0], hi, color="0.85", lw=0)
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
    ax.set_xticks(PATH_TICKS, PATH_TICK_LABELS)  # shared x: sets every panel's ticks
    ax.xaxis.set_minor_formatter(NullFormatter())
    _path_legend(axes.flat[-1], data["eps"])
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


# (line style, marker, filled marker) per penalty: log(u + c) and u/(u + c) follow nearly the same
# path (their smaller rows agree within 0.14 decades), so u/(u + c) is dashed with filled squares
# over a thick solid log(u + c) with hollow circles; the markers are staggered per penalty so that
# coinciding curves still show each one's markers
DESCENT_STYLE = {"log": ("-", None, False), "sqrt": ("-", None, False), "log_shift": ("-", "o", False),
                 "ratio": ((0, (4, 2)), "s", True), "linear": ("-", "^", False)}


def _descent_line(ax, k: int, run: dict, x, y) -> None:
    linestyle, marker, filled = DESCENT_STYLE[run["name"]]
    color = COLORS[run["name"]]
    ax.plot(x, y, color=color, ls=linestyle, lw=2.4 if run["name"] == "log_shift" else 1.4, marker=marker,
            mfc=color if filled else "white", ms=4, markevery=(3 * k, 15), label=run["label"])


def descent_draw(data: dict):
    import matplotlib.pyplot as plt

    titles = {"near_sparse": "(a) start near the sparse solution, $\\theta_0 = 0.9$",
              "half_way": "(b) start half way, $\\theta_0 = 0.5$, exact reconstruction"}
    row_tol, eps = data["row_tol"], data["eps"]
    threshold = f"RMS $\\sqrt{{u_k}} > {row_tol:g}$, {row_tol / eps:.0%} of $\\epsilon$"
    fig, axes = plt.subplots(2, 3, figsize=(12, 5.6))
    for row, init_name in enumerate(titles):  # a fixed order: the JSON file stores its keys sorted
        ax_t, ax_r, ax_a = axes[row]
        for k, run in enumerate(data["runs"][init_name]):
            step = np.asarray(run["step"])
            _descent_line(ax_t, k, run, step, run["theta"])
            rms = np.asarray(run["row_rms"])
            _descent_line(ax_r, k, run, step, np.maximum(rms.min(axis=1), 1e-30))
            # offsets keep the integer counts of the five penalties apart
            _descent_line(ax_a, k, run, step, np.asarray(run["active_rows"]) + 0.04 * (k - 2))
        ax_t.set(ylim=(-0.05, 1.05), ylabel="$\\theta$", title=titles[init_name])
        ax_r.set_yscale("log")
        ax_r.axhline(row_tol, color="k", ls=":", lw=1)
        ax_r.set(ylabel="RMS $\\sqrt{u_k}$ (floor $10^{-30}$)",
                 title=f"smaller latent row of $Z$ (dotted: {row_tol:g})")
        ax_a.set(ylim=(0.5, 2.5), yticks=[1, 2], ylabel="active latent rows")
        ax_a.set_title(f"active rows: {threshold}", fontsize=9)
    for ax in axes[1]:
        ax.set_xlabel("Adam step")
    axes[0, 0].legend(loc="center right", frameon=False, fontsize=7)
    fig.tight_layout()
    return fig
