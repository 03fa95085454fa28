"""`infgrad manifold`: does a learned-gamma VAE find the manifold dimension, and do bounded penalties?

    infgrad manifold --suite {smoke,quick,benchmark} --out DIR [--resume] [--force] [--device cpu]
                     [--manifold KIND:D:R ...]

Per manifold (DIR/<manifold>/, resumable: a finished one is read back from its result.json, an
unfinished stage continues from its checkpoint): the VAE protocol of protocol.py and the baselines.
Then the squeezed-curve sweep of curve.py (DIR/curve/), and DIR/results.json, DIR/table.md and the
figures rhat_vs_r.png, loss_vs_log_gamma.png, curve_active.png.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import time
from pathlib import Path

import torch
from tqdm import tqdm

from experiments.core.cli import add_output_arguments, check_out
from experiments.core.device import DEVICES, resolve_device, torch_threads
from experiments.core.runs import CHECKPOINT_NAME, read_metrics, write_json_atomic
from experiments.manifold import baselines, report
from experiments.manifold.curve import run_sweep
from experiments.manifold.protocol import estimate_row
from experiments.manifold.suites import SUITES, parse_manifold


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--suite", default="quick", metavar="NAME",
                        help=f"one of {', '.join(SUITES)} (default quick)")
    add_output_arguments(parser, "manifold_runs", "one folder per manifold, curve/, the table and figures")
    parser.add_argument("--device", default="cpu", metavar="NAME",
                        help=f"one of {', '.join(DEVICES)} (default cpu: these MLPs are small, and auto "
                             "would make a CPU run and a GPU run of the same command differ)")
    parser.add_argument("--manifold", action="append", default=[], metavar="KIND:D:R",
                        help="run these instead of the suite's manifolds (subspace, sphere, torus, relu); "
                             "repeatable, e.g. --manifold subspace:784:30")
    parser.add_argument("--no-curve", action="store_true", help="skip the squeezed-curve sweep")
    parser.add_argument("--curve-only", action="store_true", help="only the squeezed-curve sweep")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (default 1: these MLPs are too small to gain from "
                             "more, and on a busy machine the hand-offs dominate: a 200-step run took "
                             "121 s with 2 threads against 3 s with 1 under load)")


def _plan(args):
    if args.suite not in SUITES:
        raise ValueError(f"unknown suite {args.suite!r}; choose from {', '.join(SUITES)}")
    if args.device not in DEVICES:
        raise ValueError(f"--device must be one of {', '.join(DEVICES)}, got {args.device!r}")
    device = resolve_device(args.device)
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda requested but torch sees no CUDA device; use --device cpu or auto")
    suite = SUITES[args.suite]
    if args.curve_only and (args.no_curve or args.manifold):
        raise ValueError("--curve-only contradicts --no-curve and --manifold")
    specs = () if args.curve_only else \
        tuple(parse_manifold(text) for text in args.manifold) or suite.manifolds
    curve = None if (args.no_curve or args.manifold) else suite.curve
    recipe = dataclasses.replace(suite.recipe, device=device)
    if curve is not None:
        curve = dataclasses.replace(curve, device=device)
    return suite, specs, recipe, curve


def _curve_histories(out: Path, summary: dict) -> dict:
    """(model, theta) -> (steps, active counts) of the runs at the smallest eps, from metrics.csv."""
    eps = min(summary["settings"]["eps_values"])
    histories = {}
    for model in summary["settings"]["models"]:
        for theta in (1.0, 0.0):
            path = out / "curve" / f"{model}_eps{eps:g}_theta{theta:g}" / "metrics.csv"
            if path.exists():
                rows = read_metrics(path)
                histories[(model, theta)] = ([r["step"] for r in rows], [r["active"] for r in rows])
    return histories


def run(args) -> int:
    with torch_threads(args.threads):
        return _run(args)


def _run(args) -> int:
    suite, specs, recipe, curve = _plan(args)
    out = Path(args.out)
    labels = [s.label for s in specs]
    candidates = [out / label for label in labels] + [out / "curve", out / "results.json"]
    # --resume needs a checkpoint somewhere below --out (a stage of a manifold or a curve run)
    check_out(out, candidates, args.resume, args.force,
              runs=[path.parent for path in out.glob(f"**/{CHECKPOINT_NAME}")] if out.is_dir() else [])
    if args.force:
        for path in candidates:
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    out.mkdir(parents=True, exist_ok=True)
    ok, why = baselines.available()
    if not ok:
        print(f"infgrad manifold: baselines skipped: {why}")
    t0, cpu0 = time.perf_counter(), time.process_time()
    total = len(specs) + (len(curve.models) * len(curve.eps_values) * 2 if curve else 0)
    rows = []
    with tqdm(total=total, desc="manifold", unit="run", dynamic_ncols=True) as bar:
        for spec_, label in zip(specs, labels):
            bar.set_postfix_str(label)
            result_path = out / label / "result.json"
            if args.resume and result_path.exists():
                row = json.loads(result_path.read_text())
            else:
                manifold = spec_.build(n=suite.n, seed=recipe.seed)
                row = estimate_row(manifold, dataclasses.replace(recipe, **dict(spec_.recipe_changes)),
                                   out / label, resume=args.resume)
                write_json_atomic(result_path, row)
            rows.append(row)
            bar.update(1)
        summary = None
        if curve is not None:
            bar.set_postfix_str("squeezed curve")
            summary = run_sweep(curve, out, args.resume, progress=bar)
    seconds = time.perf_counter() - t0
    # CPU seconds of this process: on a busy machine the honest measure of the work (one thread)
    results = {"suite": args.suite, "rows": rows, "mae": report.mean_absolute_errors(rows),
               "curve": summary, "seconds_this_call": seconds,
               "cpu_seconds_this_call": time.process_time() - cpu0}
    write_json_atomic(out / "results.json", results)
    table = report.format_table(rows) + ("\n" + report.format_curve(summary) if summary else "")
    (out / "table.md").write_text(table)
    report.plot_rhat_vs_r(rows, out / "rhat_vs_r.png")
    report.plot_loss_vs_log_gamma(rows, out / "loss_vs_log_gamma.png")
    if summary is not None:
        report.plot_curve(summary, _curve_histories(out, summary), out / "curve_active.png")
    print(table)
    print(f"infgrad manifold: {args.suite} suite written to {out} in {seconds:.0f} s")
    return 0
