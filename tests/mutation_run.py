"""Running mutmut for tests/mutation_report.py (the method and the command are in its docstring):
the copy of the working tree at .mutation/, module groups within a wall-time budget, and the record
of each run (.mutation/mutants/runs.json) that the report quotes."""
from __future__ import annotations

import ast
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.mutation_report import NO_TESTS, ROOT, SCRATCH, STEP_MODULES, SURVIVED, load_mutants, run_history

RUN_COMMAND = ["nice", "-n", "5", "mutmut", "run", "--max-children", "2"]


def step_decorators_as_calls(source: str) -> str:
    """`source` with every `@step(...)` decorator of a top-level function removed and the call
    `step(...)(name)` written after the function: the same Step registered in the same order."""
    lines = source.splitlines(keepends=True)
    functions = [node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)]
    for function in reversed(functions):  # bottom-up, so that line numbers above stay valid
        decorators = [d for d in function.decorator_list
                      if isinstance(d, ast.Call) and isinstance(d.func, ast.Name) and d.func.id == "step"]
        if not decorators:
            continue
        (decorator,) = decorators
        call = ast.get_source_segment(source, decorator)
        lines.insert(function.end_lineno, f"\n{call}({function.name})\n")
        del lines[decorator.lineno - 1:decorator.end_lineno]
    return "".join(lines)


def prepare_tree(tree: Path = SCRATCH) -> None:
    """Copy the working tree's files that git does not ignore to `tree`, the step modules with
    `step_decorators_as_calls`. Unchanged files are left alone, so that mutmut (which compares
    modification times) retests only what changed."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout.split("\0")
    wanted = {name for name in listed if name and (ROOT / name).is_file()}
    for name in sorted(wanted):
        content = (ROOT / name).read_bytes()
        if name in STEP_MODULES:
            content = step_decorators_as_calls(content.decode()).encode()
        target = tree / name
        if target.is_file() and target.read_bytes() == content:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    for stale in [p for p in tree.rglob("*") if p.is_file() and not p.is_relative_to(tree / "mutants")]:
        if str(stale.relative_to(tree)) not in wanted:
            stale.unlink()


def run_mutmut(tree: Path = SCRATCH, groups: list[list[str]] | None = None,
               budget_min: float | None = None, retest_survivors: bool = False) -> dict:
    """prepare_tree, then mutmut in `tree`: on everything, or on the undecided mutants of each group
    of modules in turn, within `budget_min` minutes of wall time. Returns the wall and CPU (own +
    children) seconds, the number of mutants decided, and what ran.

    mutmut keeps a file that it once copied unmutated (no .meta beside it) as it is, even when the
    configuration later selects it: such copies are removed first, and mutmut copies them again."""
    prepare_tree(tree)
    for copy in (tree / "mutants").rglob("*.py"):
        if not copy.with_name(copy.name + ".meta").exists():
            copy.unlink()
    start, cpu_start = time.perf_counter(), _children_cpu()
    if groups:
        _generate_mutants(tree)  # so that functions changed since the last run count as undecided
    before = _results(tree)
    ran, stopped = [], False
    for group in groups or [None]:
        names = [] if group is None else _to_run(tree, group, retest_survivors)
        if group is not None and not names:
            continue
        left = None if budget_min is None else 60.0 * budget_min - (time.perf_counter() - start)
        if left is not None and left < 60.0:
            stopped = True
            break
        ran.append("everything" if group is None else ", ".join(group))
        if not _run_within(RUN_COMMAND + names, tree, left):
            stopped = True
            break
    timing = {"wall_s": time.perf_counter() - start, "cpu_s": _children_cpu() - cpu_start,
              "retested": sum(result[0] is not None and result != before.get(name)
                              for name, result in _results(tree).items()),
              "ran": ran, "stopped_by_budget": stopped, "budget_min": budget_min,
              "retest_survivors": retest_survivors,
              "date": time.strftime("%Y-%m-%d"), "mutmut": _mutmut_version()}
    (tree / "mutants" / "runs.json").write_text(json.dumps(run_history(tree) + [timing], indent=1))
    return timing


def _to_run(tree: Path, modules: list[str], retest_survivors: bool) -> list[str]:
    """mutmut's names of the mutants of `modules` that have no result yet, and with
    `retest_survivors` also the maths mutants that survived (not equivalent) or had no test:
    tests added since may kill them."""
    names = []
    for module in modules:
        meta = tree / "mutants" / f"{module}.meta"
        if meta.is_file():
            names += [name for name, code in json.loads(meta.read_text())["exit_code_by_key"].items()
                      if code is None]
    if retest_survivors:
        names += [m.name for m in load_mutants(tree) if m.module in modules and m.kind == "maths"
                  and (m.status == NO_TESTS or m.status == SURVIVED and not m.equivalent)]
    return names


# mutmut 3.8's first phase of `mutmut run`: copy the sources and write the mutants, resetting the
# results of every function whose code changed (the pinned version range keeps these names valid).
GENERATE = ("from mutmut.__main__ import copy_also_copy_files, copy_src_dir, create_mutants, "
            "setup_source_paths, store_lines_covered_by_tests\n"
            "copy_src_dir(); copy_also_copy_files(); setup_source_paths(); store_lines_covered_by_tests(); "
            "create_mutants(2)")


def _generate_mutants(tree: Path) -> None:
    subprocess.run([sys.executable, "-c", GENERATE], cwd=tree, check=True)


def _run_within(command: list[str], cwd: Path, seconds: float | None) -> bool:
    """Run `command`; past `seconds`, interrupt it as Ctrl-C does (mutmut then stops its workers and
    keeps what finished). False when it was interrupted."""
    process = subprocess.Popen(command, cwd=cwd, start_new_session=True)
    try:
        code = process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)  # mutmut alone: it stops its workers itself
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        return False
    if code != 0:
        raise subprocess.CalledProcessError(code, command[:len(RUN_COMMAND)])
    return True


def _mutmut_version() -> str:
    from importlib.metadata import version
    return version("mutmut")


def _results(tree: Path) -> dict[str, tuple]:
    """(exit code, duration) of every mutant: a mutant that ran again has a new duration."""
    results = {}
    for meta in (tree / "mutants").rglob("*.py.meta"):
        data = json.loads(meta.read_text())
        durations = data.get("durations_by_key", {})
        results.update({name: (code, durations.get(name)) for name, code in data["exit_code_by_key"].items()})
    return results


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


