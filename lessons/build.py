"""`infgrad lessons`: build the lessons (jupytext percent-format sources lessons/NN_*.py) into notebooks.

Two versions come from one source: the student version drops the cells tagged "solution"; the
teacher version keeps them, so every exercise is answered and every check should say CORRECT.
`--quick` inserts `QUICK = True` after the cell tagged "parameters" (small grids and short runs),
`--execute` runs the built notebooks and reports each exercise's verdict. Needs the `lessons` extra.
"""
from __future__ import annotations

import argparse
import copy
import os
import re
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VERSIONS = ("student", "teacher")
_VERDICT = re.compile(r"^Exercise (\d+\.\d+\w*): (CORRECT|WRONG|NOT ANSWERED)\.", re.MULTILINE)
_MISSING = ("the lessons need the optional dependencies jupytext and nbformat (nbclient and ipykernel "
            "to --execute): pip install -e '.[lessons]'")


def sources() -> list[Path]:
    """The lesson sources in order: lessons/01_*.py, lessons/02_*.py, ..."""
    return sorted(HERE.glob("[0-9][0-9]_*.py"))


def select(only: list[str] | None) -> list[Path]:
    """The sources named by `only` (a number such as "3" or "03", or a file stem), all when None."""
    found = sources()
    if not only:
        return found
    chosen = []
    for name in only:
        match = [p for p in found if name in (p.stem, p.stem[:2], p.stem[:2].lstrip("0"))]
        if not match:
            raise ValueError(f"--only: unknown lesson {name!r}; choose from {', '.join(p.stem for p in found)}")
        chosen += [p for p in match if p not in chosen]
    return chosen


def _tags(cell) -> list:
    return list(cell.get("metadata", {}).get("tags", []))


def notebook(source: Path, version: str, quick: bool = False, out_dir: Path | None = None):
    """The nbformat notebook of one lesson in the given version ("student" or "teacher")."""
    try:
        import jupytext
        import nbformat
    except ImportError:
        raise ValueError(_MISSING) from None
    if version not in VERSIONS:
        raise ValueError(f"version: choose from {', '.join(VERSIONS)}, got {version!r}")
    nb = copy.deepcopy(jupytext.read(source, fmt="py:percent"))
    cells = []
    for cell in nb.cells:
        tags = _tags(cell)
        if version == "student" and "solution" in tags:
            continue
        if cell.cell_type == "markdown" and out_dir is not None:
            # links are written relative to lessons/; point them at the repository from out_dir
            prefix = Path(os.path.relpath(ROOT, out_dir)).as_posix()
            cell.source = cell.source.replace("](../", f"]({prefix}/")
        cells.append(cell)
        if quick and "parameters" in tags:
            injected = nbformat.v4.new_code_cell("QUICK = True  # injected by `infgrad lessons --quick`")
            injected.metadata["tags"] = ["injected-parameters"]
            cells.append(injected)
    nb.cells = cells
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["infgrad"] = {"lesson": source.stem, "version": version, "quick": quick}
    return nb


def verdicts(nb) -> dict[str, str]:
    """{exercise: CORRECT | WRONG | NOT ANSWERED} read from an executed notebook's outputs."""
    found = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "") or output.get("data", {}).get("text/plain", "")
            for exercise, status in _VERDICT.findall(text if isinstance(text, str) else "".join(text)):
                found[exercise] = status
    return found


def execute(nb, timeout: int = 120, km=None):
    """Run a notebook top to bottom in a python3 kernel whose imports resolve to this repository.

    km: an already started jupyter KernelManager to reuse (its namespace is reset first), or None for
    a fresh kernel. Raises nbclient's CellExecutionError when a cell fails."""
    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError:
        raise ValueError(_MISSING) from None
    if km is not None:
        reset = nbformat.v4.new_code_cell("get_ipython().run_line_magic('reset', '-f')")
        nb = copy.deepcopy(nb)
        nb.cells.insert(0, reset)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", km=km,
                            resources={"metadata": {"path": str(ROOT)}})
    try:
        client.execute()
    finally:
        if km is not None and client.kc is not None:
            client.kc.stop_channels()  # nbclient leaves the channels of a kernel it does not own open
    if km is not None:
        nb.cells.pop(0)
    return nb


def kernel_environment() -> None:
    """Make kernels started from this process import this repository's packages first."""
    paths = [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))


def build(paths: list[Path], out_dir: Path, versions=VERSIONS, quick: bool = False, run: bool = False,
          progress=print) -> dict:
    """Write <out_dir>/<version>/<lesson>.ipynb for each lesson and version; with run, execute them.
    Returns {(lesson, version): verdicts} (empty dicts when not run)."""
    try:
        import nbformat
    except ImportError:
        raise ValueError(_MISSING) from None
    if run:
        kernel_environment()
    results = {}
    for version in versions:
        target = out_dir / version
        target.mkdir(parents=True, exist_ok=True)
        for path in paths:
            start = time.perf_counter()
            nb = notebook(path, version, quick=quick, out_dir=target)
            if run:
                nb = execute(nb)
            nbformat.write(nb, target / f"{path.stem}.ipynb")
            results[(path.stem, version)] = verdicts(nb) if run else {}
            summary = ""
            if run:
                counts = {s: list(results[(path.stem, version)].values()).count(s)
                          for s in ("CORRECT", "WRONG", "NOT ANSWERED")}
                summary = "  " + ", ".join(f"{n} {s.lower()}" for s, n in counts.items() if n)
            progress(f"{version:8s} {path.stem:24s} {time.perf_counter() - start:6.1f} s{summary}")
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="output folder: OUT/student and OUT/teacher")
    parser.add_argument("--version", choices=(*VERSIONS, "both"), default="both",
                        help="which version to build (default both)")
    parser.add_argument("--only", action="append", metavar="LESSON",
                        help="build only this lesson (repeatable): a number or a file stem")
    parser.add_argument("--quick", action="store_true", help="set QUICK = True: small grids and short runs")
    parser.add_argument("--execute", action="store_true",
                        help="run the notebooks and report each exercise (needs nbclient and ipykernel)")


def run(args) -> int:
    paths = select(args.only)
    versions = VERSIONS if args.version == "both" else (args.version,)
    start = time.perf_counter()
    results = build(paths, Path(args.out), versions, quick=args.quick, run=args.execute)
    print(f"{len(results)} notebook(s) in {time.perf_counter() - start:.1f} s -> {args.out}")
    if args.execute:
        # a teacher notebook answers every exercise: anything but CORRECT there is a defect
        bad = [f"{lesson} {exercise}" for (lesson, version), found in results.items() if version == "teacher"
               for exercise, status in found.items() if status != "CORRECT"]
        if bad:
            print("teacher version, not correct: " + ", ".join(bad))
            return 1
    return 0
