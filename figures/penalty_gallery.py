"""Figure 1: the penalty gallery. h(u) and h'(u) near u = 0 for every penalty of theory/penalties.py:
the bounded-gradient penalties flatten to h'(0+) = 1/c (or 1), the unbounded ones keep climbing."""
from __future__ import annotations

import numpy as np

from figures._common import COLORS
from theory import penalties

SHIFTS = (1e-1, 1e-2, 1e-3)  # the c of log(u + c): the family whose limit c -> 0 is log u


def _gallery_penalties() -> list:
    family = [penalties.log_penalty(), penalties.sqrt_penalty()]
    family += [penalties.log_shift(c) for c in SHIFTS]
    family += [penalties.sqrt_shift(1e-2), penalties.ratio(1e-2), penalties.linear(), penalties.indicator()]
    return family


def gallery_compute(quick: bool = False) -> dict:
    """h on a linear grid of [0, 1] (normalized to h(0) = 0, h(1) = 1 where h(0) is finite) and h' on
    a geometric grid of [1e-8, 1]. Every value comes from Penalty.value / Penalty.derivative."""
    u_lin = np.linspace(0.0, 1.0, 101 if quick else 401)
    u_log = np.geomspace(1e-8, 1.0, 41 if quick else 161)
    curves = []
    for h in _gallery_penalties():
        at_0, at_1 = h.value(0.0), h.value(1.0)
        normalized = (h.value(u_lin) - at_0) / (at_1 - at_0) if np.isfinite(at_0) else None
        curves.append({
            "name": h.name, "label": h.label, "family": h.name.split("(")[0],
            "grad_at_zero": h.grad_at_zero, "bounded_gradient": h.bounded_gradient,
            "value_normalized": normalized, "derivative": h.derivative(u_log),
        })
    return {"u_lin": u_lin, "u_log": u_log, "curves": curves}


def gallery_draw(data: dict):
    import matplotlib.pyplot as plt

    fig, (ax_h, ax_d) = plt.subplots(1, 2, figsize=(9.5, 3.8))
    u_lin, u_log = np.asarray(data["u_lin"]), np.asarray(data["u_log"])
    for curve in data["curves"]:
        color = COLORS[curve["family"]]
        style = "-" if curve["bounded_gradient"] else "-"
        width = 1.0 if curve["bounded_gradient"] else 2.2
        alpha = {"log_shift(c=0.1)": 0.45, "log_shift(c=0.01)": 0.7}.get(curve["name"], 1.0)
        label = curve["label"] + ("" if curve["bounded_gradient"] else "  (unbounded)")
        if curve["value_normalized"] is not None:
            ax_h.plot(u_lin, curve["value_normalized"], style, color=color, lw=width, alpha=alpha, label=label)
        derivative = np.asarray(curve["derivative"], dtype=float)
        if np.all(derivative > 0):
            ax_d.loglog(u_log, derivative, style, color=color, lw=width, alpha=alpha, label=label)
    ax_h.set(xlabel="$u = \\|z_k\\|^2 / n$", ylabel="$(h(u) - h(0)) \\,/\\, (h(1) - h(0))$",
             title="(a) penalties, rescaled to [0, 1]", xlim=(0, 1), ylim=(0, 1.05))
    ax_h.text(0.35, 0.12, "$\\log u$ has $h(0) = -\\infty$:\nno rescaling; it is the\n"
              "$c \\to 0$ limit of $\\log(u + c)$", fontsize=7.5, color=COLORS["log"])
    ax_h.legend(loc="lower right", frameon=False, fontsize=6.5)
    ax_d.set(xlabel="$u$", ylabel="$h'(u)$", title="(b) gradient near zero: bounded or not")
    # the two slopes at zero of the lesson: the limiting slope lim h'(u) and the difference quotient
    ax_d.text(1.5e-8, 0.12, "$\\mathcal{I}[u>0]$: $h'(u) = 0$ for $u > 0$ (limiting slope 0);\n"
              "its jump at 0 makes $(h(u) - h(0))/u = 1/u$ unbounded",
              fontsize=7.5, color=COLORS["indicator"])
    ax_d.legend(loc="upper right", frameon=False, fontsize=6.5)
    fig.tight_layout()
    return fig
