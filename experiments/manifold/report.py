"""The results table and figures of `infgrad manifold` (markdown, JSON-ready dicts, matplotlib Agg).

Each estimate is scored against the target it aims at (protocol.ESTIMATOR_TARGETS: "r" for the
neighbourhood estimators and the Jacobian rank, "embedding" for the active-dimension counts and the
Lemma 2 slope) and, for completeness, against the other one.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from experiments.manifold.protocol import ESTIMATOR_TARGETS

ORDER = ("active_sigma", "active_energy", "lemma2_slope", "jacobian_rank", "sigma_below_half",
         "fixed_gamma_active", "mle", "twonn", "danco", "lpca")
LABELS = {"active_sigma": "active (sigma gap)", "active_energy": "active (u_k gap)",
          "lemma2_slope": "Lemma 2 slope", "jacobian_rank": "Jacobian rank",
          "sigma_below_half": "sigma^2 < 0.5", "fixed_gamma_active": "fixed gamma*: active",
          "mle": "MLE", "twonn": "TwoNN", "danco": "DANCo",
          "lpca": "lPCA"}


def _target(row: dict, which: str) -> int:
    return row["r"] if which == "r" else row["embedding_target"]


def mean_absolute_errors(rows: list[dict]) -> dict[str, dict]:
    """Per estimator: the target it aims at, its MAE against that target and against each target,
    and the number of manifolds it was measured on."""
    out = {}
    for name in ORDER:
        measured = [row for row in rows if name in row["estimates"]]
        if not measured:
            continue
        errors = {which: float(np.mean([abs(row["estimates"][name] - _target(row, which))
                                        for row in measured])) for which in ("r", "embedding")}
        aims = ESTIMATOR_TARGETS[name]
        out[name] = {"aims_at": aims, "mae": errors[aims], "mae_vs_r": errors["r"],
                     "mae_vs_embedding": errors["embedding"], "manifolds": len(measured)}
    return out


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not float(value).is_integer():
        return f"{value:.2f}"
    return f"{int(value)}"


def format_table(rows: list[dict]) -> str:
    """Markdown: one row per manifold (each estimate with its absolute error against the target it
    aims at), then the MAE of every estimator over the suite."""
    names = [n for n in ORDER if any(n in row["estimates"] for row in rows)]
    head = ["manifold", "d", "r", "target", "gamma*"] + [LABELS[n] for n in names]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row["manifold"], str(row["d"]), str(row["r"]), str(row["embedding_target"]),
                 f"{row['gamma_star']:.1e}"]
        for name in names:
            value = row["estimates"].get(name)
            if value is None:
                cells.append("-")
            else:
                error = abs(value - _target(row, ESTIMATOR_TARGETS[name]))
                cells.append(f"{_fmt(value)} ({_fmt(error)})")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Cells: estimate (absolute error against the target the estimator aims at).", "",
              "| estimator | aims at | MAE vs its target | MAE vs r | MAE vs embedding target | manifolds |",
              "|---|---|---|---|---|---|"]
    for name, mae in mean_absolute_errors(rows).items():
        lines.append(f"| {LABELS[name]} | {mae['aims_at']} | {mae['mae']:.2f} | {mae['mae_vs_r']:.2f} "
                     f"| {mae['mae_vs_embedding']:.2f} | {mae['manifolds']} |")
    skipped = sorted({f"{name}: {why}" for row in rows for name, why in row.get("skipped", {}).items()})
    if skipped:
        lines += ["", "Skipped: " + "; ".join(skipped)]
    return "\n".join(lines) + "\n"


def format_curve(summary: dict) -> str:
    """Markdown: per model, the preferred theta's active count at each eps and the crossovers."""
    eps_values = summary["settings"]["eps_values"]
    lines = ["| model | " + " | ".join(f"eps {e:g}" for e in eps_values) +
             " | measured eps* | theory eps* |", "|---|" + "---|" * (len(eps_values) + 2)]
    best = {}
    for run in summary["runs"]:
        key = (run["model"], run["eps"])
        if key not in best or run["objective"] < best[key]["objective"]:
            best[key] = run
    for model in summary["settings"]["models"]:
        cells = [f"{best[(model, e)]['active']}" for e in eps_values]
        cross = summary["crossover"][model]
        lines.append(f"| {model} | " + " | ".join(cells) + f" | {_eps(cross['measured'])} | "
                     f"{_eps(cross['predicted'])} |")
    lines += ["", "Cells: active latent dimensions of the preferred solution (lower final objective of the "
              "theta = 1 and theta = 0 runs). eps*: below it theta = 0 (two active) is preferred; "
              "0 = never, inf = at every eps of the grid."]
    return "\n".join(lines) + "\n"


def _eps(value) -> str:
    if value is None:
        return "none"
    return "inf" if math.isinf(value) else f"{value:.3g}"


def plot_rhat_vs_r(rows: list[dict], path: Path) -> None:
    """r_hat against the target each estimator aims at: the VAE's counts and slope against the
    embedding target (left), the Jacobian rank and the baselines against r (right). Nothing to draw
    without rows (a curve-only call)."""
    if not rows:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
    markers = dict(zip(ORDER, "osD^vxP*h<"))
    for ax, which in zip(axes, ("embedding", "r")):
        top = 1
        for name in ORDER:
            if ESTIMATOR_TARGETS[name] != which:
                continue
            pts = [(_target(row, which), row["estimates"][name]) for row in rows if name in row["estimates"]]
            if pts:
                t, v = np.array(pts, dtype=float).T
                ax.scatter(t, v, marker=markers[name], s=28, alpha=0.75, label=LABELS[name])
                top = max(top, float(np.max(t)), float(np.max(v)))
        if top > 20:  # targets from 1 to 71 (the benchmark): a log scale keeps the small ones legible
            ax.set_xscale("log")
            ax.set_yscale("log")
        ax.plot([0.8, top], [0.8, top], color="k", lw=0.8)
        ax.set_xlabel("embedding target" if which == "embedding" else "intrinsic dimension r")
        ax.set_ylabel("estimate")
        ax.legend(fontsize=8)
    axes[0].set_title("aim at the embedding target (VAE)")
    axes[1].set_title("aim at r")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_loss_vs_log_gamma(rows: list[dict], path: Path) -> None:
    """Eq. (3) at gamma* and at each rung of the ladder against log gamma, with the line of slope
    d - target through the rung the Lemma 2 estimate used (Lemma 2: L* ~ (d - r) log gamma)."""
    if not rows:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(3, len(rows))
    nrows = math.ceil(len(rows) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 3.3 * nrows), squeeze=False)
    for ax, row in zip(axes.flat, rows):
        lg = [math.log(row["gamma_star"])] + [math.log(r["gamma_var"]) for r in row["ladder"]]
        loss = [row["learned_eq3"]["eq3"]] + [r["eq3"] for r in row["ladder"]]
        ax.plot(lg, loss, "o", color="C0", label="Eq. (3): gamma*, then the ladder")
        slope = row["d"] - row["embedding_target"]
        xs = np.array([min(lg), max(lg)])
        factor = row["slope"]["rung_factor"]
        anchor = next((r for r in row["ladder"] if r["factor"] == factor), None)
        if anchor is not None:
            ax.plot(xs, anchor["eq3"] + slope * (xs - math.log(anchor["gamma_var"])), "--", color="C3",
                    label=f"slope d - target = {slope}")
            title = f"{row['manifold']} (Lemma 2 r_hat {row['slope']['r_hat']:.2f})"
        else:
            title = f"{row['manifold']} (every rung switched dimensions off)"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("log gamma")
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(rows):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_curve(summary: dict, histories: dict, path: Path) -> None:
    """Squeezed curve: (left) active dimensions of the preferred solution against eps per model,
    theory's eps* dashed; (right) active dimensions over training of both theta runs at the smallest
    eps (`histories[(model, theta)]` = (steps, counts))."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2))
    best = {}
    for run in summary["runs"]:
        key = (run["model"], run["eps"])
        if key not in best or run["objective"] < best[key]["objective"]:
            best[key] = run
    eps_values = sorted(summary["settings"]["eps_values"])
    for k, model in enumerate(summary["settings"]["models"]):
        color = f"C{k}"
        counts = [best[(model, e)]["active"] + 0.04 * (k - 2) for e in eps_values]
        ax.step(eps_values, counts, "o-", where="mid", color=color, label=model)
        cross = summary["crossover"][model]
        if cross["predicted"] and math.isfinite(cross["predicted"]) and \
                eps_values[0] <= cross["predicted"] <= eps_values[-1]:
            ax.axvline(cross["predicted"], color=color, ls="--", lw=0.9)
        if cross["measured"] and math.isfinite(cross["measured"]):
            ax.plot([cross["measured"]], [1.5 + 0.04 * (k - 2)], "v", color=color, ms=8)
        for theta, style in ((1.0, "-"), (0.0, ":")):
            if (model, theta) in histories:
                steps, values = histories[(model, theta)]
                bx.plot(steps, np.asarray(values) + 0.04 * (k - 2), style, color=color,
                        label=f"{model}, theta = {theta:g}")
    ax.set_xscale("log")
    ax.set_yticks([0, 1, 2])
    ax.set_xlabel("eps (data inside the eps x eps square)")
    ax.set_ylabel("active latent dimensions (preferred theta)")
    ax.set_title("dashed: theory's eps*; triangle: measured eps*", fontsize=10)
    ax.legend(fontsize=8)
    bx.set_yticks([0, 1, 2])
    bx.set_xlabel("training step")
    bx.set_ylabel("active latent dimensions")
    bx.set_title(f"over training at eps = {eps_values[0]:g}")
    bx.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
