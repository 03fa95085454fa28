"""Figures 2-4: Theorem 4's counterexample (supplement Eq. 20-25) from theory/theorem4.py.
Fig. 2: the squeezed manifold and the two zero-reconstruction codes; Fig. 3: the theta = 1 and
theta = 0 costs against eps; Fig. 4: the crossover eps against h'(0+)."""
from __future__ import annotations

import numpy as np

from figures._common import COLORS, figure_penalties, note_panel
from theory import penalties, theorem4

C = 0.7  # data on the arc pi(t) for t in [C, 1): C above theorem4.PAPER_BOUND_THRESHOLD
N = 256  # samples (theorem4.crossover_eps's default: the same data in every figure)
SEED = 0
EPS_SHOWN = 0.1  # Fig. 2: below the crossover of every bounded-gradient penalty of Fig. 3


# --- Figure 2 --------------------------------------------------------------------------------

def intuition_compute(quick: bool = False) -> dict:
    """The data in the eps-square, the curve, both codes, and the two costs of Eq. (8) per h."""
    X = theorem4.sample_data_eq21(N, EPS_SHOWN, C, SEED)
    curve = theorem4.pi_map(np.linspace(0.0, 1.0, 60 if quick else 300), EPS_SHOWN, C)
    sparse = theorem4.sparse_code_theta1(X, EPS_SHOWN, C)
    rows = []
    for name, h in figure_penalties().items():
        rows.append({"name": name, "label": h.label, "bounded": h.bounded_gradient,
                     "sparse_cost": theorem4.cost_theta1(h, X, EPS_SHOWN, C),
                     "dense_cost": theorem4.cost_theta0(h, X)})
    return {"eps": EPS_SHOWN, "C": C, "X": X[:, :64], "curve": curve, "sparse_code": sparse[:, :64],
            "dense_code": X[:, :64], "costs": rows}


def intuition_draw(data: dict):
    import matplotlib.pyplot as plt

    fig, (ax_x, ax_z, ax_c) = plt.subplots(1, 3, figsize=(11, 3.5), gridspec_kw={"width_ratios": [1, 1.25, 1.35]})
    eps = data["eps"]
    X, curve = np.asarray(data["X"]), np.asarray(data["curve"])
    ax_x.add_patch(plt.Rectangle((0, 0), eps, eps, fill=False, ls="--", color="0.4"))
    ax_x.plot(*curve, color="0.6", lw=4, alpha=0.4, label="$\\pi([0,1])$: range of decoder $\\theta=1$")
    ax_x.plot(*X, ".", color="#2471a3", ms=4, label="data $x = \\pi(t(z_{gt}))$, Eq. (21)")
    ax_x.set(aspect="equal", xlim=(-0.1 * eps, 1.15 * eps), ylim=(-0.1 * eps, 1.25 * eps),
             xlabel="$x_1$", ylabel="$x_2$", title=f"(a) data inside the $\\epsilon$-square, $\\epsilon={eps:g}$")
    ax_x.legend(loc="upper center", frameon=False, fontsize=6.5)

    sparse, dense = np.asarray(data["sparse_code"]), np.asarray(data["dense_code"])
    ax_z.plot(*dense, "o", ms=3, color=COLORS["linear"], label="$z' = x$ (decoder $\\theta = 0$): two small rows")
    ax_z.plot(*sparse, "s", ms=3, color=COLORS["log"], label="$z^* = (t^{-1}(\\pi^{-1}(x)), 0)$ ($\\theta = 1$): one row")
    ax_z.axhline(0, color="0.3", lw=0.6)
    ax_z.set(xlabel="$z_1$", ylabel="$z_2$", title="(b) the two zero-reconstruction codes (Eq. 7)")
    ax_z.legend(loc="upper left", frameon=False, fontsize=6.5)
    ax_z.set_ylim(-0.3, 0.6)

    rows = data["costs"]
    y = np.arange(len(rows))
    for j, row in enumerate(rows):
        sparse_cost = float(row["sparse_cost"]) if row["sparse_cost"] != "-inf" else None
        dense_cost = float(row["dense_cost"])
        winner = "sparse" if sparse_cost is None or sparse_cost < dense_cost else "dense"
        shown = "$-\\infty$" if sparse_cost is None else f"{sparse_cost:.3g}"
        verdict = "sparse wins" if winner == "sparse" else "NON-sparse wins"
        text = f"{shown} vs {dense_cost:.3g}  -> {verdict}"
        ax_c.text(0.02, y[j], row["label"], va="center", fontsize=7.5, color=COLORS[row["name"]])
        ax_c.text(0.45, y[j], text, va="center", fontsize=7.5,
                  fontweight="bold" if winner == "dense" else "normal")
    ax_c.set(xlim=(0, 1), ylim=(len(rows) - 0.5, -1.2), xticks=[], yticks=[],
             title="(c) Eq. (8): $h(u_1^*) + h(0)$ vs $h(u_1') + h(u_2')$ (halved)")
    ax_c.text(0.02, -0.8, "penalty $h$", fontsize=7.5, fontweight="bold")
    ax_c.text(0.45, -0.8, "$\\theta = 1$ cost vs $\\theta = 0$ cost", fontsize=7.5, fontweight="bold")
    ax_c.grid(False)
    for side in ("left", "bottom"):
        ax_c.spines[side].set_visible(False)
    fig.tight_layout()
    return fig


# --- Figure 3 --------------------------------------------------------------------------------

def costs_compute(quick: bool = False) -> dict:
    """cost_theta1 (Eq. 23, independent of eps) and cost_theta0 (Eq. 24) on an eps grid, per h,
    with theorem4.crossover_eps from the same data (n = N, seed = SEED)."""
    eps_grid = np.geomspace(1e-4, 10.0, 25 if quick else 121)
    X_unit = theorem4.sample_data_eq21(N, 1.0, C, SEED)
    rows = []
    for name, h in figure_penalties().items():
        dense = np.array([theorem4.cost_theta0(h, eps * X_unit) for eps in eps_grid])
        rows.append({"name": name, "label": h.label, "bounded": h.bounded_gradient,
                     "grad_at_zero": h.grad_at_zero,
                     "sparse_cost": theorem4.cost_theta1(h, X_unit, 1.0, C),
                     "dense_cost": dense,
                     "crossover_eps": theorem4.crossover_eps(h, C, n=N, seed=SEED)})
    return {"eps": eps_grid, "C": C, "n": N, "costs": rows}


def _finite(value) -> float | None:
    return None if isinstance(value, str) else float(value)


def _slope_at_zero(row: dict) -> str:
    """The title line giving h'(0+), the difference quotient (h(u) - h(0))/u as u -> 0+ (the lesson's
    notation, Penalty.grad_at_zero); where the limiting slope lim h'(u) differs (the indicator: its
    jump makes the quotient 1/u, its flat part makes h' = 0), both are named."""
    gz = row["grad_at_zero"]
    slope = "$h'(0^+) = " + ("\\infty" if gz == "inf" else f"{float(gz):g}") + "$"
    if row["name"] == "indicator":
        slope += ", but $h'(u) \\to 0$"
    return slope


def costs_draw(data: dict):
    import matplotlib.pyplot as plt

    rows = data["costs"]
    fig, axes = plt.subplots(2, 4, figsize=(11, 5), sharex=True)
    eps = np.asarray(data["eps"])
    for ax, row in zip(axes.flat, rows):
        color = COLORS[row["name"]]
        dense = np.asarray(row["dense_cost"], dtype=float)
        ax.semilogx(eps, dense, color=color, lw=1.8, label="$\\theta = 0$, Eq. (24)")
        sparse = _finite(row["sparse_cost"])
        if sparse is None:
            ax.text(0.97, 0.06, "$\\theta = 1$ cost $= -\\infty$\n($h(0) = -\\infty$):\nsparse always wins",
                    transform=ax.transAxes, ha="right", fontsize=7, color=color)
        else:
            ax.axhline(sparse, color="k", ls="--", lw=1, label="$\\theta = 1$, Eq. (23)")
        star = _finite(row["crossover_eps"])
        if star is not None and 0 < star < np.inf:
            ax.axvspan(eps[0], star, color="#f5b7b1", alpha=0.5, lw=0,
                       label="$\\theta = 0$ cheaper than $\\theta = 1$")
            ax.axvline(star, color="#c0392b", lw=0.8)
            # left of the line, at the top: every cost curve rises with eps, so that corner stays
            # clear of the curve, and the label never runs past the panel's right edge
            ax.text(star, 0.96, f"$\\epsilon^* = {star:.3g}$ ", transform=ax.get_xaxis_transform(),
                    fontsize=7, ha="right", va="top", color="#c0392b",
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 0.8})
        # Section 8.3 puts the data in the unit square: eps > 1 leaves the theorem's setting
        ax.axvspan(1.0, eps[-1], facecolor="none", edgecolor="0.7", hatch="//", lw=0,
                   label="$\\epsilon > 1$: data outside $[0,1]^2$")
        ax.set_title(row["label"] + "\n" + _slope_at_zero(row), fontsize=8.5)
        ax.set_xlim(eps[0], eps[-1])
    axes.flat[0].legend(loc="upper left", frameon=False, fontsize=6.5)
    axes.flat[4].legend(loc="upper left", frameon=False, fontsize=6.5)
    note_panel(axes.flat[-1], ("h'(0+) in the titles: the difference\nquotient (h(u) - h(0))/u as u -> 0+.\n"
            "The limiting slope lim h'(u) agrees,\nexcept for the indicator (0).\n\n"
            "Red band: the eps below which the\nnon-sparse theta = 0 solution is\ncheaper, although theta = 1\n"
            "reconstructs with ONE latent row.\n\nlog and the indicator: no band.\n"
            "sqrt: unbounded h'(0+), still a\nband: h(eps^2) = eps -> 0 as well.\n\n"
            "Hatched: eps > 1, the data leave the\nunit square of Theorem 4's setting.\n"
            "eps* > 1 (sqrt, u, sqrt(u+c) - sqrt(c)):\ntheta = 0 cheaper at EVERY eps <= 1."))
    for ax in axes[1]:
        ax.set_xlabel("$\\epsilon$ (data inside the $\\epsilon$-square)")
    for ax in axes[:, 0]:
        ax.set_ylabel("cost (raw $h$)")
    fig.tight_layout()
    return fig


# --- Figure 4 --------------------------------------------------------------------------------

FAMILY_LABELS = {"log_shift": r"$\log(u + c)$", "ratio": r"$u / (u + c)$",
                 "sqrt_shift": r"$\sqrt{u + c} - \sqrt{c}$"}


def crossover_compute(quick: bool = False) -> dict:
    """crossover_eps against h'(0+) for the three shifted families, c on a geometric grid; the
    closed form of log(u + c) (theorem4.crossover_eps_closed_form) alongside as a check."""
    shifts = np.geomspace(1e-10, 1e1, 12 if quick else 45)
    families = {"log_shift": penalties.log_shift, "ratio": penalties.ratio, "sqrt_shift": penalties.sqrt_shift}
    out = {"c": shifts, "C": C, "n": N,
           "sqrt_crossover": theorem4.crossover_eps(penalties.sqrt_penalty(), C, n=N, seed=SEED)}
    for name, make in families.items():
        hs = [make(c) for c in shifts]
        out[name] = {"label": FAMILY_LABELS[name],
                     "grad_at_zero": np.array([h.grad_at_zero for h in hs]),
                     "crossover_eps": np.array([theorem4.crossover_eps(h, C, n=N, seed=SEED) for h in hs])}
    out["log_shift"]["closed_form"] = np.array(
        [theorem4.crossover_eps_closed_form("log_shift", C, n=N, seed=SEED, c=c) for c in shifts])
    return out


def _crossover_curves(ax, data: dict, marker_size: float) -> None:
    """The three families' eps* against h'(0+), sqrt's eps* (dotted) and the closed-form circles.
    sqrt(u + c) - sqrt(c) gets markers and the top layer: its eps* lies in the hatched band, on
    sqrt's dotted line, which it meets as c -> 0."""
    for name in ("log_shift", "ratio", "sqrt_shift"):
        fam = data[name]
        marker = {"sqrt_shift": "D"}.get(name)
        ax.loglog(fam["grad_at_zero"], fam["crossover_eps"], "-", color=COLORS[name], lw=1.8, marker=marker,
                  ms=marker_size, markevery=4, zorder=4 if name == "sqrt_shift" else 3, label=fam["label"])
    ax.loglog(data["log_shift"]["grad_at_zero"], data["log_shift"]["closed_form"], "o", mfc="none",
              color=COLORS["log_shift"], ms=4, zorder=3, label="closed form for $\\log(u+c)$")
    ax.axhline(data["sqrt_crossover"], color=COLORS["sqrt"], ls=":", lw=1.4, zorder=2,
               label="$\\sqrt{u}$ ($h'(0^+) = \\infty$): $\\epsilon^*$ stays")


def _outside_unit_square(ax, top: float) -> None:
    """Hatch eps* > 1 under the curves: Section 8.3 puts the data in the unit square, so above
    eps* = 1 theta = 0 is the cheaper solution at every admissible eps."""
    ax.axhspan(1.0, top, facecolor="none", edgecolor="0.8", hatch="//", lw=0, zorder=0,
               label="$\\epsilon^* > 1$: $\\theta = 0$ cheaper at every $\\epsilon \\leq 1$")


def crossover_draw(data: dict):
    import matplotlib.pyplot as plt

    fig, (ax, ax_zoom) = plt.subplots(1, 2, figsize=(10, 3.9), gridspec_kw={"width_ratios": [1.6, 1]})
    _crossover_curves(ax, data, marker_size=3.5)
    ax.set(xlabel="$h'(0^+)$ (= $1/c$ for $\\log(u+c)$ and $u/(u+c)$, $1/(2\\sqrt{c})$ for $\\sqrt{u+c}-\\sqrt{c}$)",
           ylabel="crossover $\\epsilon^*$ ($\\theta = 0$ cheaper below)",
           title="(a) the failure region shrinks as $h'(0^+)$ grows")
    ax.text(0.03, 0.05, "$\\log u$ and $\\mathcal{I}[u>0]$: $\\epsilon^* = 0$ (no failure region)",
            transform=ax.transAxes, fontsize=7.5, color=COLORS["log"])
    bottom, top = ax.get_ylim()
    _outside_unit_square(ax, top)
    ax.set_ylim(bottom, top)
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 0.1), frameon=False, fontsize=7)

    # (b) the band eps* > 1 of (a) on a linear axis, where the three families' large-c ends and
    # all of sqrt(u + c) - sqrt(c) lie; same colours and markers as (a)
    _crossover_curves(ax_zoom, data, marker_size=4.5)
    ax_zoom.set_yscale("linear")
    high = max(float(np.max(data[name]["crossover_eps"])) for name in ("log_shift", "ratio", "sqrt_shift"))
    grads = np.asarray(data["sqrt_shift"]["grad_at_zero"])
    ax_zoom.set(xlim=(grads.min() / 2, grads.max() * 2), ylim=(1.0, 1.05 * high), xlabel="$h'(0^+)$",
                ylabel="crossover $\\epsilon^*$ (linear axis)", title="(b) the band $\\epsilon^* > 1$ of (a)")
    ax_zoom.annotate(f"$\\sqrt{{u}}$: $\\epsilon^* = {data['sqrt_crossover']:.3g}$",
                     (grads.max(), data["sqrt_crossover"]), textcoords="offset points", xytext=(0, -12),
                     ha="right", fontsize=7, color=COLORS["sqrt"])
    fig.tight_layout()
    return fig
