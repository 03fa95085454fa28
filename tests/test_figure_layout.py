"""figures/: the drawn layout. No two texts of a figure (titles, axis and tick labels, annotations,
legend entries) overlap, and a figure does not depend on the key order of its data (the JSON files
store their keys sorted; `infgrad figures` draws from the computation's own order). Each figure is
drawn from its committed data file, which tests/test_figures.py checks is current."""
import itertools
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from figures import build
from figures._common import STYLE, read_data, render


def _committed(name: str) -> dict:
    return read_data(build.COMMITTED / f"{name}.json")


def _tick_labels(axis) -> list:
    """The tick labels that are drawn: those of ticks inside the view interval (matplotlib keeps
    label objects for ticks outside it, which it does not draw)."""
    low, high = sorted(axis.get_view_interval())
    labels = []
    for locs, ticks in ((axis.get_majorticklocs(), axis.get_major_ticks),
                        (axis.get_minorticklocs(), axis.get_minor_ticks)):
        for loc, tick in zip(locs, ticks(len(locs))):
            if low <= loc <= high:
                labels += [label for label in (tick.label1, tick.label2) if label.get_visible()]
    return labels


def _drawn_texts(fig) -> list:
    """Every non-empty text artist the figure draws; axes turned off contribute only their own texts."""
    texts = list(fig.texts)
    for ax in fig.axes:
        if ax.axison:
            for axis in (ax.xaxis, ax.yaxis):
                texts += _tick_labels(axis) + [axis.label, axis.get_offset_text()]
        texts += [ax.title] + list(ax.texts)  # the figures set only the centre title
        legend = ax.get_legend()
        if legend is not None:
            texts += list(legend.get_texts()) + [legend.get_title()]
    return [t for t in texts if t.get_visible() and t.get_text().strip()]


def overlapping_texts(fig) -> list[tuple[str, str]]:
    """Pairs of drawn texts whose window extents intersect (strictly: touching boxes do not count)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in _drawn_texts(fig)]
    return [(a, b) for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2) if box_a.overlaps(box_b)]


@pytest.mark.parametrize("name", build.NAMES)
def test_no_two_texts_of_a_figure_overlap(name):
    """Titles, axis labels, tick labels, annotations and legend entries keep clear of one another
    (Figure 5's logit ticks and Figure 10's y-labels once collided)."""
    _, draw = build.figure_functions(name)
    with plt.rc_context(STYLE):
        fig = draw(_committed(name))
        try:
            assert overlapping_texts(fig) == []
        finally:
            plt.close(fig)


def test_overlap_check_finds_colliding_tick_labels():
    """Companion: the check reports the logit ticks 1 - 10^-2 and 1 - 10^-4 of a narrow panel, the
    collision the earlier Figure 5 had, and passes the same panel without the second tick."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(2.5, 2))
        ax.set_xscale("logit")
        ax.set_xlim(8e-4, 1 - 2e-6)
        ax.set_xticks([1e-2, 0.5, 1 - 1e-2, 1 - 1e-4], ["$10^{-2}$", "$1/2$", "$1 - 10^{-2}$", "$1 - 10^{-4}$"])
        found = overlapping_texts(fig)
        ax.set_xticks([1e-2, 0.5, 1 - 1e-2], ["$10^{-2}$", "$1/2$", "$1 - 10^{-2}$"])
        after = overlapping_texts(fig)
        plt.close(fig)
    assert found == [("$1 - 10^{-2}$", "$1 - 10^{-4}$")]
    assert after == []


def _reversed_keys(value):
    """The same data with every dict's keys in reverse order."""
    if isinstance(value, dict):
        return {k: _reversed_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed_keys(v) for v in value]
    return value


def _png(draw, data: dict, folder: Path) -> bytes:
    (path,) = render(draw, data, folder, "figure", dpi=30, formats=("png",))
    return path.read_bytes()


@pytest.mark.parametrize("name", build.NAMES)
def test_a_figure_does_not_depend_on_the_key_order_of_its_data(name, tmp_path):
    """Drawn from its data with every dict's keys reversed, a figure gives the same PNG bytes (the data
    file sorts its keys; the build draws from the computation's order)."""
    _, draw = build.figure_functions(name)
    data = _committed(name)
    assert _png(draw, data, tmp_path / "a") == _png(draw, _reversed_keys(data), tmp_path / "b")


def test_key_order_check_catches_a_draw_that_follows_dict_order(tmp_path):
    """Companion: a draw whose panel order follows the order of data["runs"] fails the check."""
    def draw(data):
        fig, axes = plt.subplots(1, len(data["runs"]), figsize=(4, 2))
        for ax, (start, runs) in zip(axes, data["runs"].items()):
            ax.set_title(start)
        return fig

    data = _committed("fig10_gradient_descent_theta")
    assert _png(draw, data, tmp_path / "a") != _png(draw, _reversed_keys(data), tmp_path / "b")
