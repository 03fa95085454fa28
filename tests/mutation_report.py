"""Mutation score of the mathematics (tests/MUTATION.md): runs mutmut and sorts its results.

    python3 -m tests.mutation_report --run --markdown tests/MUTATION.md

`--run` (tests/mutation_run.py) copies the working tree (tracked and untracked, not ignored,
files) to .mutation/ and runs `nice -n 5 mutmut run --max-children 2` there, configured by
pyproject.toml's [tool.mutmut]. The copy differs in one way: mutmut never mutates a decorated
function, so in the proof modules of proofs_check each `@step(...)` decorator is written as the
call `step(...)(name)` after its function (the same registration, in the same order). Results
stay in .mutation/mutants/: a second run only retests the functions that changed. Without `--run`
the report is made from the last results.

On a small machine the whole run takes an hour or more. `--modules A.py,B.py --modules C.py ...`
runs only the mutants not yet decided, group by group in the order given (one mutmut run per
group); `--budget-min N` stops (as Ctrl-C does: finished mutants keep their result) when N minutes
of wall time are spent; `--retest-survivors` also reruns the maths survivors of those modules that
are not equivalent (after tests were added). The report counts a mutant that did not run as "not
run", never as killed, and scores each module over the mutants that ran.

Every mutant is sorted into one class by where the mutation sits in the original code:

  message       a string literal that is only text: the message of a raise, of proofs_check's
                require / require_zero, the detail and notes of a step's result, a progress bar's label,
                a penalty's name and plot label, the argument name given to a validator of theory._checks
  input check   the condition of an `if` whose body raises, any other part of a raise, or of a call
                to a validator of theory._checks (finite_array, dimension, same, ...)
  presentation  proofs_check's terminal and Markdown report and its command line (report.py,
                __main__.py), and the arguments of a progress bar
  maths         everything else: the formulas, the derivations and the checks of the proofs

A survivor listed in EQUIVALENT computes the same thing as the original (the reason is given with
it). The score of a class is (killed + timed out) / (mutants - equivalent): a mutant that no test
executes ("no tests") counts as not killed.
"""
from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from tests.mutation_equivalents import EQUIVALENT, EQUIVALENT_RULES, NOT_KILLED, NOT_KILLED_IN_FUNCTION

ROOT = Path(__file__).resolve().parents[1]
SCRATCH = ROOT / ".mutation"  # the copy of the tree that mutmut runs in (git-ignored)
STEP_MODULES = ("proofs_check/lemma2.py", "proofs_check/lemma3.py", "proofs_check/theorem4.py",
                "proofs_check/main_text.py")
COMMAND = "python3 -m tests.mutation_report --run --markdown tests/MUTATION.md"

# Exit codes of a mutant's test run as mutmut 3.8 records them in mutants/**/*.meta.
KILLED, SURVIVED, TIMEOUT, NO_TESTS, NOT_CHECKED = "killed", "survived", "timeout", "no tests", "not checked"
STATUS_BY_EXIT_CODE = {1: KILLED, 3: KILLED, 0: SURVIVED, 5: NO_TESTS, 33: NO_TESTS, None: NOT_CHECKED,
                       36: TIMEOUT, 24: TIMEOUT, -24: TIMEOUT, 152: TIMEOUT, 255: TIMEOUT}

CLASSES = ("maths", "input check", "message", "presentation")
PRESENTATION_MODULES = {"proofs_check/report.py", "proofs_check/__main__.py"}
# Calls whose string arguments from this position on (and keywords) are text only.
MESSAGE_CALLS = {"require": 1, "require_zero": 1, "DerivationError": 0, "Penalty": 0, "_apply": 0}
# theory._checks' validators: each raises a ValueError naming its argument on bad input, so a change
# of a call to one is an input check (of its name or "what" text, a message).
CHECK_CALLS = {"finite_array", "finite_scalar", "positive_scalar", "log_variance", "dimension", "same"}
TEXT_CALLS = {"proved", "erratum"}  # a step's result: every argument is report text
PROGRESS_CALLS = {"tqdm"}
PROGRESS_PARAMETERS = {"progress", "desc"}  # parameters that only reach a progress bar



@dataclass(frozen=True)
class Mutant:
    module: str  # source path, e.g. "theory/lemma2.py"
    function: str  # "name" or "Class.name"
    name: str  # mutmut's mutant name
    status: str
    kind: str
    change: str  # "old -> new" of the smallest differing expression
    context: str  # "old -> new" of the statement (or part of a compound statement) holding it
    line: int  # line of the change in the original source
    call: str  # "name:role" of the innermost call whose argument changed (role: index, keyword or
    #           "call" when the call itself changed), "" if none

    @property
    def equivalent(self) -> str | None:
        if self.status != SURVIVED:
            return None
        reason = EQUIVALENT.get((self.module, self.function, self.context))
        if reason is None and not re.fullmatch(r"[\w.]+ -> [\w.]+", self.change):  # a change of one
            reason = EQUIVALENT.get((self.module, self.function, self.change))  # name is too common
        return reason or next((why for applies, why in EQUIVALENT_RULES if applies(self)), None)


    @property
    def why_not_killed(self) -> str | None:
        """For a survivor that is not equivalent: why no test kills it (NOT_KILLED), if known."""
        return (NOT_KILLED.get((self.module, self.function, self.context))
                or NOT_KILLED_IN_FUNCTION.get((self.module, self.function)))


def _is_raise_branch(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and any(isinstance(s, ast.Raise) for s in node.body)


def _printable(node) -> bool:
    return isinstance(node, (ast.expr, ast.stmt, ast.arg, ast.keyword, ast.arguments))


COMPOUND = (ast.If, ast.For, ast.While, ast.With, ast.Try, ast.FunctionDef)


def _first_difference(a, b, ancestors):
    """(original node, mutant node, [(original ancestor, mutant ancestor, field), ...]) of the
    smallest printable subtree that differs between two ASTs, or None when they are equal."""
    if type(a) is not type(b) or not isinstance(a, ast.AST):
        return None if a == b else (a, b, ancestors)
    if ast.dump(a) == ast.dump(b):
        return None
    for field in a._fields:
        old, new = getattr(a, field, None), getattr(b, field, None)
        if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
            pairs = list(zip(old, new))
        else:
            pairs = [(old, new)]
        for x, y in pairs:
            found = _first_difference(x, y, ancestors + [(a, b, field)])
            if found is None:
                continue
            if not _printable(found[0]):  # an operator, a constant's value, a list of arguments
                return a, b, ancestors
            return found
    return a, b, ancestors


def _context(old, new, ancestors):
    """The statement that holds the change (for a compound statement, the part that holds it:
    an `if`'s condition, a `for`'s iterable, a function's arguments), before and after."""
    chain = ancestors + [(old, new, None)]
    for (a, _, _), (child_a, child_b, _) in zip(chain[:-1], chain[1:]):
        if isinstance(a, ast.arguments):  # a default value: name it by its parameter
            name = _default_owner(a, child_a)
            return f"{name}={_text(child_a)}", f"{name}={_text(child_b)}"
    for (a, b, _), (child_a, child_b, _) in zip(reversed(chain[:-1]), reversed(chain[1:])):
        if isinstance(a, ast.stmt):
            return (child_a, child_b) if isinstance(a, COMPOUND) else (a, b)
    return old, new


def _call_site(node, ancestors) -> str:
    """`Mutant.call` for a change of `node` under `ancestors`."""
    if isinstance(node, ast.Call):
        return f"{_called_name(node)}:call"
    chain = [(a, field) for a, _, field in ancestors]
    children = [a for a, _ in chain[1:]] + [node]
    for (parent, field), child in reversed(list(zip(chain, children))):
        if isinstance(parent, ast.Call) and field == "args" and child in parent.args:
            return f"{_called_name(parent)}:{parent.args.index(child)}"
        if isinstance(parent, ast.Call) and field == "keywords":
            return f"{_called_name(parent)}:{child.arg}"
        if isinstance(parent, ast.stmt):
            return ""
    return ""


def _default_owner(arguments: ast.arguments, default) -> str:
    """The parameter whose default value is `default`."""
    positional = arguments.posonlyargs + arguments.args
    named = list(zip(positional[len(positional) - len(arguments.defaults):], arguments.defaults))
    named += [(a, d) for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults) if d is not None]
    return next((a.arg for a, d in named if d is default), "?")


def _text(node) -> str:
    if isinstance(node, str):
        return node
    return ast.unparse(node) if isinstance(node, ast.AST) else repr(node)


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def classify(module: str, node, ancestors) -> str:
    """The class (see the module docstring) of a mutation of `node` under `ancestors`."""
    if module in PRESENTATION_MODULES:
        return "presentation"
    chain = [(a, field) for a, _, field in ancestors] + [(node, None)]
    nodes = [a for a, _ in chain]
    is_text = any(isinstance(n, ast.JoinedStr) for n in nodes) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str))
    for (parent, field), child in zip(chain, nodes[1:] + [None]):
        if isinstance(parent, ast.Call) and _called_name(parent) in CHECK_CALLS:
            return "message" if is_text else "input check"
        if isinstance(parent, ast.Raise):
            return "message" if is_text else "input check"
        if isinstance(parent, ast.If) and field == "test" and _is_raise_branch(parent):
            return "input check"
        if isinstance(parent, ast.Call) and _called_name(parent) in PROGRESS_CALLS:
            return "presentation"
        if isinstance(parent, ast.arguments) and _default_owner(parent, child) in PROGRESS_PARAMETERS:
            return "presentation"
        if isinstance(parent, ast.Call) and _called_name(parent) in TEXT_CALLS and (
                child is None or field in ("args", "keywords")):
            return "message"
        if isinstance(parent, ast.Call) and _called_name(parent) in MESSAGE_CALLS and is_text and (
                field == "keywords" or field == "args" and child in parent.args
                and parent.args.index(child) >= MESSAGE_CALLS[_called_name(parent)]):
            return "message"
    return "maths"


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    found[f"{node.name}.{item.name}"] = item
                    found[item.name] = item  # mutmut's generated methods carry the class in their name
    return found


def load_mutants(tree: Path = SCRATCH) -> list[Mutant]:
    """Every mutant of every mutated file, with its status, class and change; lines are those of
    the working tree's source (the copy in `tree` may have its step decorators moved)."""
    mutants = []
    for meta in sorted((tree / "mutants").rglob("*.py.meta")):
        exit_codes = json.loads(meta.read_text())["exit_code_by_key"]
        if not exit_codes:
            continue
        module = str(meta.relative_to(tree / "mutants"))[: -len(".meta")]
        generated = _functions(ast.parse((tree / "mutants" / module).read_text()))
        original = _functions(ast.parse((ROOT / module).read_text()))
        for name, code in exit_codes.items():
            generated_name = name.rsplit(".", 1)[-1]  # x_f__mutmut_3 or xǁClassǁf__mutmut_3
            mangled, number = generated_name.split("__mutmut_")
            if mangled.startswith("x_"):
                function = mangled[2:]
            else:
                _, cls, method = mangled.split("ǁ")
                function = f"{cls}.{method}"
            orig, mutated = generated[f"{mangled}__mutmut_orig"], generated[generated_name]
            mutated.name = orig.name  # compare the code, not the generated names
            old, new, ancestors = _first_difference(orig, mutated, [])
            source = original[function]
            where = _context(old, new, ancestors)
            line = next(n.lineno for n in [old, *reversed([a for a, _, _ in ancestors])] if hasattr(n, "lineno"))
            mutants.append(Mutant(
                module=module, function=function, name=name,
                status=STATUS_BY_EXIT_CODE.get(code, f"exit {code}"),
                kind=classify(module, old, ancestors),
                change=f"{_text(old)} -> {_text(new)}",
                context=f"{_text(where[0])} -> {_text(where[1])}",
                line=line - orig.lineno + source.lineno,
                call=_call_site(old, ancestors),
            ))
    return mutants


def run_history(tree: Path = SCRATCH) -> list[dict]:
    """The recorded runs whose results the mutants/ folder holds, oldest first."""
    path = tree / "mutants" / "runs.json"
    return json.loads(path.read_text()) if path.is_file() else []


# --- the report ------------------------------------------------------------------------------------

def _score(rows: list[Mutant]) -> tuple[int, int]:
    """(killed or timed out, mutants that ran and are not equivalent): a mutant that did not run
    is left out of both, never counted as killed."""
    counted = [m for m in rows if m.status != NOT_CHECKED and not (m.status == SURVIVED and m.equivalent)]
    return sum(m.status in (KILLED, TIMEOUT) for m in counted), len(counted)


def _fraction(killed: int, total: int) -> str:
    return f"{killed}/{total} ({100.0 * killed / total:.1f}%)" if total else "-"


def _not_run(rows: list[Mutant]) -> str:
    count = sum(m.status == NOT_CHECKED for m in rows)
    return f", {count} not run" if count else ""


def render_markdown(mutants: list[Mutant], history: list[dict] | None = None) -> str:
    """tests/MUTATION.md: the table per module, the equivalent mutants and the other survivors."""
    by_module: dict[str, list[Mutant]] = defaultdict(list)
    for m in mutants:
        by_module[m.module].append(m)
    lines = [
        "# Mutation score",
        "",
        f"Generated by `{COMMAND}`; do not edit by hand. The method in short (details in the docstring "
        "of tests/mutation_report.py):",
        "",
        "- mutmut 3.8 mutates every function of theory/, proofs_check/ and experiments/core/{losses, mmd, "
        "evaluate}.py (an operator, a number, a string, an argument, a condition at a time), in a copy of "
        "the tree where proofs_check's `@step` decorators are plain calls (mutmut skips decorated "
        "functions). A mutant is killed when a test that executed the mutated function in a recorded "
        "first run fails; the test files are those of pyproject.toml's [tool.mutmut].",
        "- Classes: **maths** (formulas, derivations, the checks of the proofs), **input check** (the "
        "condition of an `if` that raises), **message** (the text of an error, of a proof step's result "
        "or failure), **presentation** (proofs_check's report and command line, progress bars). The "
        "goal concerns maths.",
        "- Score = (killed + timeout) / (mutants that ran - equivalent). A survivor is listed as equivalent "
        "only with the reason no test can tell it from the original; a mutant that no test executes "
        "(\"no tests\") counts as not killed; a mutant that did not run (\"not run\": the run was "
        "stopped before it) is left out of the score, never counted as killed.",
        "",
    ]
    if history:
        lines += ["The results below come from these runs (mutmut keeps a mutant's result until its function "
                  "changes; 2 workers, nice 5, on a shared 2-core machine under load, so times are indicative), "
                  f"{sum(run['wall_s'] for run in history) / 60:.0f} min wall in all:", ""]
        for run in history:
            line = (f"- {run.get('date', '?')}, mutmut {run.get('mutmut', '?')}: {run['wall_s'] / 60:.1f} min wall, "
                    + (f"{run['cpu_s'] / 60:.1f} CPU-min, " if run.get("cpu_s") is not None else "")
                    + f"{run['retested']} mutants decided")
            if run.get("ran") and run["ran"] != ["everything"]:
                line += ("; reran the maths survivors and" if run.get("retest_survivors") else ";") + \
                    " ran the undecided mutants of, in order: " + "; ".join(run["ran"])
            if run.get("stopped_by_budget"):
                line += f"; stopped by its budget of {run['budget_min']:g} min (what it did not reach is \"not run\")"
            if run.get("note"):
                line += f"; {run['note']}"
            lines.append(line + ".")
        lines += [""]
    lines += [
        "## Maths, per module",
        "",
        "| module | mutants | killed | survived | equivalent | timeout | no tests | not run | score |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    totals = Counter()
    for module, rows in sorted(by_module.items()):
        maths = [m for m in rows if m.kind == "maths"]
        if not maths:
            continue
        status = Counter(m.status for m in maths)
        equivalent = sum(m.status == SURVIVED and bool(m.equivalent) for m in maths)
        cells = [len(maths), status[KILLED], status[SURVIVED] - equivalent, equivalent, status[TIMEOUT],
                 status[NO_TESTS], status[NOT_CHECKED]]
        totals.update(dict(zip(("n", "k", "s", "e", "t", "x", "r"), cells)))
        lines.append(f"| {module} | " + " | ".join(map(str, cells)) + f" | {_fraction(*_score(maths))} |")
    lines.append(f"| **all** | {totals['n']} | {totals['k']} | {totals['s']} | {totals['e']} | {totals['t']} | "
                 f"{totals['x']} | {totals['r']} | "
                 f"{_fraction(totals['k'] + totals['t'], totals['n'] - totals['e'] - totals['r'])} |")
    lines += [
        "",
        "## The other classes (counted, not part of the goal)",
        "",
        "| module | " + " | ".join(CLASSES[1:]) + " |",
        "|---|" + "---|" * (len(CLASSES) - 1),
    ]
    for module, rows in sorted(by_module.items()):
        cells = [_fraction(*_score(kind_rows)) + _not_run(kind_rows)
                 for kind_rows in ([m for m in rows if m.kind == kind] for kind in CLASSES[1:])]
        if any(cell != "-" for cell in cells):
            lines.append(f"| {module} | " + " | ".join(cells) + " |")
    survivors = [m for m in mutants if m.status not in (KILLED, TIMEOUT, NOT_CHECKED)]
    equivalent = [m for m in survivors if m.status == SURVIVED and m.equivalent]
    lines += ["", "## Equivalent mutants", ""]
    lines += [f"- `{m.module}:{m.line}` {m.function}: `{m.change}`. {m.equivalent}"
              for m in sorted(equivalent, key=lambda m: (m.module, m.line, m.name))] or ["None."]
    for kind in CLASSES:
        left = [m for m in survivors if m.kind == kind and not (m.status == SURVIVED and m.equivalent)]
        lines += ["", f"## Surviving {kind} mutants", ""]
        lines += [f"- `{m.module}:{m.line}` {m.function}: `{m.change}`" + ("" if m.status == SURVIVED
                  else f" ({m.status})") + (f". Not killed: {m.why_not_killed}" if m.why_not_killed else "")
                  for m in sorted(left, key=lambda m: (m.module, m.line, m.name))] or ["None."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tests.mutation_report", description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="store_true", help="run mutmut first (minutes to hours)")
    parser.add_argument("--markdown", metavar="PATH", type=Path, help="write the report to PATH")
    parser.add_argument("--modules", action="append", metavar="A.py,B.py",
                        help="with --run: only the undecided mutants of these modules (repeat: groups in order)")
    parser.add_argument("--budget-min", type=float, metavar="N", help="with --run: stop after N minutes of wall time")
    parser.add_argument("--retest-survivors", action="store_true",
                        help="with --modules: also rerun the maths survivors (not equivalent) and no-test mutants")
    args = parser.parse_args(argv)
    groups = [group.split(",") for group in args.modules] if args.modules else None
    if args.run:
        from tests.mutation_run import run_mutmut  # imports this module: not at the top
        run_mutmut(groups=groups, budget_min=args.budget_min, retest_survivors=args.retest_survivors)
    report = render_markdown(load_mutants(), run_history())
    if args.markdown:
        args.markdown.write_text(report)
    else:
        sys.stdout.write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
