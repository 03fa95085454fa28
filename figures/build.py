"""`infgrad figures` (and `python -m figures`): build every figure of the tutorial figures/README.md.

Each figure is computed from theory/ and the figure computations beside this module (float64 numpy),
drawn with matplotlib's Agg backend and saved as PNG + SVG with its plotted numbers beside it as
JSON. Rebuilt on the same machine the files are byte-identical; on another machine the numbers agree
within the tolerances of infgrad/tolerances.py.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Callable

from figures import lemma_figs, manifold_fig, penalty_gallery, slices_fig, theorem4_figs, theta_figs

HERE = Path(__file__).resolve().parent
COMMITTED = HERE / "img"  # the copies committed with the project; `--out figures/img` refreshes them
DEFAULT_OUT = Path("infgrad-figures")  # relative: a folder in the current directory, never the package

# file name -> (compute(quick) -> data, draw(data) -> Figure), in the order of the lesson
FIGURES: dict[str, tuple[Callable, Callable]] = {
    "fig01_penalty_gallery": (penalty_gallery.gallery_compute, penalty_gallery.gallery_draw),
    "fig02_theorem4_intuition": (theorem4_figs.intuition_compute, theorem4_figs.intuition_draw),
    "fig03_theorem4_costs": (theorem4_figs.costs_compute, theorem4_figs.costs_draw),
    "fig04_crossover_vs_gradient": (theorem4_figs.crossover_compute, theorem4_figs.crossover_draw),
    "fig05_theta_path": (theta_figs.path_compute, theta_figs.path_draw),
    "fig06_vae_slices": (slices_fig.slices_compute, slices_fig.slices_draw),
    "fig07_lemma2_infinite_gradient": (lemma_figs.lemma2_compute, lemma_figs.lemma2_draw),
    "fig08_lemma3_gamma_star": (lemma_figs.lemma3_compute, lemma_figs.lemma3_draw),
    "fig09_outlier_manifold": (manifold_fig.manifold_compute, manifold_fig.manifold_draw),
    "fig10_gradient_descent_theta": (theta_figs.descent_compute, theta_figs.descent_draw),
}
NAMES = list(FIGURES)


def full_name(name: str) -> str:
    """The file name of a figure given as "fig06_vae_slices" or just "vae_slices"."""
    for full in NAMES:
        if name in (full, full.split("_", 1)[1]):
            return full
    raise ValueError(f"--only: unknown figure {name!r}; choose from {', '.join(NAMES)}")


def figure_functions(name: str):
    """(compute, draw) for the figure called name (e.g. "fig06_vae_slices" or just "vae_slices")."""
    return FIGURES[full_name(name)]


def build(names: list[str], out_dir: Path, dpi: int = 150, quick: bool = False, progress=print) -> dict:
    """Compute, draw and save the named figures into out_dir. Returns {name: seconds}."""
    from figures._common import render, to_jsonable, write_data

    timings = {}
    for name in names:
        full = full_name(name)
        compute, draw = FIGURES[full]
        start = time.perf_counter()
        # draw from exactly what the JSON file holds (inf/nan as strings), so the data file and the
        # picture can never disagree
        data = to_jsonable(compute(quick=quick))
        out_dir.mkdir(parents=True, exist_ok=True)
        write_data(data, out_dir / f"{full}.json")
        render(draw, data, out_dir, full, dpi)
        timings[full] = time.perf_counter() - start
        progress(f"{full:34s} {timings[full]:6.2f} s  -> {out_dir / full}.png/.svg/.json")
    return timings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"output folder (default: ./{DEFAULT_OUT}, in the current directory); "
                             f"--out {COMMITTED.relative_to(HERE.parent)} refreshes the committed copies "
                             "(from the repository root)")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="build only this figure (repeatable; default: all): " + ", ".join(NAMES))
    parser.add_argument("--dpi", type=int, default=150, help="PNG resolution (default: 150)")
    parser.add_argument("--quick", action="store_true",
                        help="coarse grids and short runs, for a fast look; refused for the committed copies "
                             "(default: off)")


def run(args) -> int:
    if args.dpi < 20 or args.dpi > 1200:
        raise ValueError(f"--dpi must lie in [20, 1200], got {args.dpi}")
    if args.quick and Path(args.out).resolve() == COMMITTED.resolve():
        raise ValueError(f"--quick: the committed copies in {COMMITTED} are built at full resolution; "
                         "drop --quick or choose another --out")
    names = args.only or NAMES
    for name in names:
        figure_functions(name)  # a bad --only fails before any work
    start = time.perf_counter()
    timings = build(names, Path(args.out), dpi=args.dpi, quick=args.quick)
    print(f"{len(timings)} figure(s) in {time.perf_counter() - start:.1f} s")
    return 0
