"""`python -m proofs_check`: run every symbolic proof step, print the table and the Findings.

Exit status 0 when no step fails (findings are not failures), 1 when a step fails, 2 on bad
arguments or an unwritable --markdown path.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from proofs_check import all_steps
from proofs_check.report import render_markdown, render_text, run_steps
from proofs_check.steps import Status, Step

PROG = "python -m proofs_check"


def select_steps(steps: list[Step], only: list[str] | None) -> list[Step]:
    """Steps whose id ('lemma2.sigma_k_minimizer') or module ('lemma2') is in `only` (all if None)."""
    if not only:
        return list(steps)
    known = {s.id for s in steps} | {s.module for s in steps}
    unknown = [name for name in only if name not in known]
    if unknown:
        raise ValueError(f"--only: unknown step or module {', '.join(unknown)} "
                         f"(modules: {', '.join(sorted({s.module for s in steps}))})")
    return [s for s in steps if s.id in only or s.module in only]


def main(argv: list[str] | None = None, steps: list[Step] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", metavar="PATH", type=Path,
                        help="also write the report (without timings) as Markdown to PATH")
    parser.add_argument("--only", metavar="STEP", action="append",
                        help="run only this step id or module (repeatable), e.g. theorem4")
    args = parser.parse_args(argv)
    try:
        chosen = select_steps(all_steps() if steps is None else steps, args.only)
        outcomes = run_steps(chosen)
        sys.stdout.write(render_text(outcomes))
        if args.markdown is not None:
            args.markdown.write_text(render_markdown(outcomes))
    except (ValueError, OSError) as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    return 1 if any(o.result.status is Status.FAIL for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
