"""`infgrad verify`: one numerical check per claim of Lemma 2, Lemma 3 and Theorem 4 (Eq. 3, 11-25).

Each row states the claim, its equation, what was measured (by calling the theory function the claim
names), what was expected (derived independently: a numerical minimizer, a root, a closed form or
a second project function for the same quantity, or our correction of the paper, marked "erratum"),
the tolerance and its entry in infgrad/tolerances.py, and PASS or FAIL. Exit status 0 only if every
row passes. `--json` prints the rows as a JSON list of objects with the keys id, claim, equation,
quantity, measured, expected, tolerance, tolerance_source, passed, status and note; measured and
expected are JSON numbers (or lists of numbers) where they are numbers, strings for a qualitative
expectation (">= 0", "0 < eps* < inf, sign change at eps*"), and the strings "inf", "-inf", "nan" for non-finite values.
numpy/scipy only (no torch). The rows live in infgrad/verify/{lemma2,lemma3,theorem4}.py.
"""
from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict

import numpy as np

from infgrad.verify import lemma2, lemma3, theorem4
from infgrad.verify.rows import Check, Row, Settings, fmt
from theory._checks import dimension, finite_scalar

__all__ = ["CHECKS", "Check", "Row", "Settings", "settings_from", "collect_rows", "summary_line", "format_table",
           "to_json", "add_arguments", "run"]

CHECKS: list[Check] = [*lemma2.CHECKS, *lemma3.CHECKS, *theorem4.CHECKS]  # in paper order
DEFAULTS = Settings()


def settings_from(seed=DEFAULTS.seed, segment_low=DEFAULTS.segment_low, penalty_shift=DEFAULTS.penalty_shift,
                  n=DEFAULTS.n) -> Settings:
    """Validated settings; a ValueError names the argument."""
    segment_low = finite_scalar("segment_low", segment_low)
    if not 0.5 < segment_low < 1:
        raise ValueError(
            f"segment_low: Theorem 4 needs 1/2 < C < 1, got {segment_low!r} (for C <= 1/2 the data may sit "
            "at t = 1/2, where the sparse code z_1 = 0, and the bound of Eq. (23) is lost)")
    penalty_shift = finite_scalar("penalty_shift", penalty_shift)
    if penalty_shift <= 0:
        raise ValueError(f"penalty_shift: the shift c of the bounded penalties must be > 0, got {penalty_shift!r}")
    n = dimension("n", n, minimum=2)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: expected an integer >= 0, got {seed!r}")
    return Settings(seed=seed, segment_low=segment_low, penalty_shift=penalty_shift, n=n)


def collect_rows(seed=DEFAULTS.seed, segment_low=DEFAULTS.segment_low, penalty_shift=DEFAULTS.penalty_shift,
                 n=DEFAULTS.n) -> list[Row]:
    """Every check of CHECKS, in paper order. Raises ValueError (naming the argument) for bad settings."""
    settings = settings_from(seed, segment_low, penalty_shift, n)
    return [row for one in CHECKS for row in one.run(settings)]


def summary_line(rows: list[Row]) -> str:
    return f"{sum(r.passed for r in rows)}/{len(rows)} claims pass"


def format_table(rows: list[Row]) -> str:
    header = ("claim", "eq.", "measured", "expected", "")
    table = [header]
    for r in rows:
        expected = fmt(r.expected) + (f" (tol {r.tolerance:.1e})" if r.tolerance else "")
        table.append((r.claim, r.equation, f"{r.quantity}: {fmt(r.measured)}", expected, r.status))
    widths = [max(len(line[j]) for line in table) for j in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(f"\n{summary_line(rows)}")
    return "\n".join(lines)


def _json_value(value):
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, (str, bool)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    number = float(value)
    if math.isfinite(number):
        return number
    return "nan" if math.isnan(number) else ("inf" if number > 0 else "-inf")


def to_json(rows: list[Row]) -> str:
    """The rows as a JSON list (numbers as JSON numbers, non-finite values as strings)."""
    out = []
    for r in rows:
        item = asdict(r)
        item.update(measured=_json_value(r.measured), expected=_json_value(r.expected),
                    tolerance=None if r.tolerance is None else _json_value(r.tolerance), status=r.status)
        out.append(item)
    return json.dumps(out, indent=2)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the rows as a JSON list (numbers as numbers)")
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed, help="seed of every random problem (default %(default)s)")
    parser.add_argument("--segment-low", type=float, default=DEFAULTS.segment_low, metavar="C",
                        help="Theorem 4: the data's t(z) is uniform on [C, 1), Eq. (21); the theorem needs "
                             "1/2 < C < 1 (default %(default)s)")
    parser.add_argument("--penalty-shift", type=float, default=DEFAULTS.penalty_shift, metavar="c",
                        help="Theorem 4: shift c of the bounded penalties log(u + c), sqrt(u + c) - sqrt(c), "
                             "u/(u + c) (default %(default)s)")
    parser.add_argument("--n", type=int, default=DEFAULTS.n, help="Theorem 4: number of samples (default %(default)s)")


def run(args) -> int:
    rows = collect_rows(seed=args.seed, segment_low=args.segment_low, penalty_shift=args.penalty_shift, n=args.n)
    print(to_json(rows) if args.json else format_table(rows))
    return 0 if all(r.passed for r in rows) else 1
