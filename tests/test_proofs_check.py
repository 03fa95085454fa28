"""proofs_check/: every symbolic step of the proofs of Lemma 2, Lemma 3 and Theorem 4 (supplement
8.1-8.3) and of main-text Eq. (5) and (8) goes through in sympy; the committed REPORT.md is current;
`python -m proofs_check` exits 0 / 1 / 2 and writes the same report with --markdown.
Symbolic results are exact (tolerances.EXACT): steps compare with ==, never within a tolerance.
"""
from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import sympy as sp

from proofs_check import all_steps, theorem4
from proofs_check.__main__ import main
from proofs_check.report import REPORT_COMMAND, render_markdown, run_steps
from proofs_check.steps import (
    DerivationError,
    Result,
    Status,
    Step,
    erratum,
    gaussian_expectation,
    proved,
    require,
    require_zero,
    step,
)
from tests.proofs_mutations import PROOF_MUTATIONS

ROOT = Path(__file__).resolve().parents[1]
STEPS = all_steps()

# The supplement's errata that the steps confirm, with the equation each finding must cite first.
EXPECTED_FINDINGS = {
    "lemma2.reparameterization_eq13_to_eq14": "Eq. (14)",  # omega_k = ||w_k||, not ||w_k||^2
    "lemma2.omega_minimizer_eq15": "Eq. (15)",  # sum to kappa, not infinity
    "theorem4.indicator_passes_limiting_slope_test": "Eq. (25)",  # h must be continuous at 0
    "theorem4.theta1_bound_eq23": "Eq. (23)",  # bound is logit(C)^2, not C^2
    "theorem4.conclusion_eq25": "Eq. (25)",  # normalise h(logit(C)^2) = 1
    "main_text.eq8_comparison": "Eq. (8)",  # infinite slope alone does not give Eq. (8)
}


class _Outcomes(dict):
    """Step id -> Outcome, each step run on first use and then kept: a step runs once per session
    wherever it is first needed, inside the test that checks it (so a mutation-testing tool that
    maps code to the tests that execute it maps each step's formulas to that step's test)."""

    def __missing__(self, step_id):
        self[step_id] = outcome = next(s for s in STEPS if s.id == step_id).run()
        return outcome

    def all(self) -> list:
        return [self[s.id] for s in STEPS]


@pytest.fixture(scope="module")
def outcomes():
    """Every step run at most once (a few seconds in all), shared by the tests below."""
    return _Outcomes()


def test_step_ids_are_unique():
    assert len({s.id for s in STEPS}) == len(STEPS)


@pytest.mark.parametrize("step_id", [s.id for s in STEPS])
def test_proof_step_goes_through(step_id, outcomes):
    """Each step (identity, minimizer with second-order check, limit or inequality) is confirmed,
    with the result that proofs_check/REPORT.md shows for it."""
    outcome = outcomes[step_id]
    if outcome.result.status is Status.FAIL:
        outcome.step.check()  # re-run to show the full traceback of the broken derivation
    assert outcome.result.status in (Status.PASS, Status.FINDING), outcome.result.detail
    assert outcome.result.detail
    # its row, finding and note read as in the committed report (numbered there among the others)
    committed = (ROOT / "proofs_check" / "REPORT.md").read_text().splitlines()
    for line in render_markdown([outcome]).splitlines():
        if line.startswith(f"| `{step_id}` |"):
            assert line in committed, f"regenerate: {REPORT_COMMAND}"
        elif line.startswith("1. "):
            assert any(c.endswith(line[len("1. "):]) for c in committed), f"regenerate: {REPORT_COMMAND}"


def test_findings_are_the_confirmed_errata_with_equation_numbers(outcomes):
    """The report lists exactly the confirmed errata, each opening with its equation number."""
    found = {o.step.id: o.result.finding for o in outcomes.all() if o.result.status is Status.FINDING}
    assert set(found) == set(EXPECTED_FINDINGS)
    for step_id, text in found.items():
        assert text.startswith(EXPECTED_FINDINGS[step_id]), (step_id, text[:40])


def test_committed_report_is_current(outcomes):
    """proofs_check/REPORT.md is what the current steps produce (the report holds no timings)."""
    committed = (ROOT / "proofs_check" / "REPORT.md").read_text()
    assert committed == render_markdown(outcomes.all()), f"regenerate: {REPORT_COMMAND}"


def _failing_check():
    x = sp.Symbol("x", real=True)
    require_zero((x + 1) ** 2 - x**2 - 1, "a wrong expansion")  # leaves 2x
    return proved("never reached")


FAILING = Step("demo", "wrong_expansion", "(0)", "(x+1)^2 = x^2 + 1", "expand", _failing_check)
FAST_STEP_IDS = ["lemma2.limit_eq12", "lemma2.reparameterization_eq13_to_eq14"]


def test_cli_exit_zero_prints_table_and_findings_and_writes_markdown(tmp_path, capsys):
    subset = [s for s in STEPS if s.id in FAST_STEP_IDS]
    path = tmp_path / "report.md"
    assert main(["--markdown", str(path)], steps=subset) == 0
    printed = capsys.readouterr().out
    header = [cell.strip() for cell in printed.splitlines()[0].split(" | ")]
    assert header == ["step", "equations", "claim", "method", "result", "s"]
    assert "\nFindings\n1. [lemma2.reparameterization_eq13_to_eq14] Eq. (14)" in printed
    assert path.read_text() == render_markdown(run_steps(subset))


def test_cli_exit_one_when_a_step_fails(capsys):
    assert FAILING.run().result.status is Status.FAIL
    assert main([], steps=[FAILING]) == 1
    printed = capsys.readouterr().out
    assert "| FAIL: DerivationError: a wrong" in printed
    assert "\nFailures\n1. [demo.wrong_expansion] DerivationError: a wrong expansion: not " \
           "identically zero, left 2*x\n" in printed


def test_cli_bad_arguments_give_one_line_error_and_status_2(tmp_path, capsys):
    assert main(["--only", "lemma9"], steps=[FAILING]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    unwritable = tmp_path / "missing-dir" / "report.md"
    assert main(["--markdown", str(unwritable)], steps=[FAILING]) == 2
    error = capsys.readouterr().err
    assert error.startswith("python -m proofs_check: error:") and error.count("\n") == 1


def test_module_entry_point_runs_selected_step():
    """`python -m proofs_check --only STEP` really runs (the entry point, not just main())."""
    done = subprocess.run(
        [sys.executable, "-m", "proofs_check", "--only", "lemma2.limit_eq12"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "PASS: lim = oo" in done.stdout and "1 steps: 1 pass, 0 findings" in done.stdout


def test_require_fails_on_undecided_relational():
    """A sympy comparison that cannot be decided must fail the step, not pass it."""
    x = sp.Symbol("x", real=True)
    with pytest.raises(DerivationError):
        require(x > 0, "sign of a free real symbol")
    require(sp.Symbol("y", positive=True) > 0, "decided")


def test_require_zero_expands_logs_of_positive_symbols_only():
    a, b = sp.symbols("a b", positive=True)
    require_zero(sp.log(a * b) - sp.log(a) - sp.log(b), "log of a product")
    with pytest.raises(DerivationError):
        require_zero(sp.log(a * b) - sp.log(a) - sp.log(b) + 1, "off by one")


def test_gaussian_expectation_matches_standard_normal_moments():
    """E eps^2 = 1, E eps^3 = 0, E eps^4 = 3, independence, and E (a + s eps)^2 = a^2 + s^2."""
    e1, e2, a, s = sp.symbols("e1 e2 a s", real=True)
    assert gaussian_expectation(e1**2, [e1]) == 1
    assert gaussian_expectation(e1**3, [e1]) == 0
    assert gaussian_expectation(e1**4, [e1]) == 3
    assert gaussian_expectation(e1**2 * e2**2 + e1 * e2, [e1, e2]) == 1
    assert sp.expand(gaussian_expectation((a + s * e1) ** 2, [e1]) - a**2 - s**2) == 0


def test_step_that_raises_or_returns_no_result_is_a_failure():
    def raises():
        raise ZeroDivisionError("boom")

    assert Step("demo", "raises", "", "", "", raises).run().result.detail == "ZeroDivisionError: boom"
    wrong_type = Step("demo", "wrong_type", "", "", "", lambda: True).run().result
    assert wrong_type.status is Status.FAIL and "not a Result" in wrong_type.detail


def test_step_without_a_message_fails_with_the_exception_name():
    def raises():
        raise AssertionError()

    assert Step("demo", "bare", "", "", "", raises).run().result == Result(Status.FAIL, "AssertionError: ")


def test_step_time_is_the_wall_time_of_its_check():
    before = time.perf_counter()
    outcome = Step("demo", "quick", "", "", "", lambda: proved("d")).run()
    assert 0.0 <= outcome.seconds <= time.perf_counter() - before


@pytest.mark.parametrize("module", ["demo", "pkg.proofs_check.demo"])
def test_step_decorator_registers_the_check_under_its_module_and_name(module):
    """@step appends one Step named (last part of the check's module, the function's name) with the
    equations, claim, method and check exactly as given, and returns the function unchanged."""
    registry: list[Step] = []

    def check():
        return proved("d")

    check.__module__ = module
    assert step(registry, equations="(1)", claim="c", method="m")(check) is check
    assert registry == [Step("demo", "check", "(1)", "c", "m", check)]


def test_require_zero_cancels_common_factors_after_expanding():
    """(x^2 - 1)/(x - 1) - (x + 1) expands to a nonzero sum of fractions and cancels to 0."""
    x = sp.Symbol("x", positive=True)
    assert sp.expand((x**2 - 1) / (x - 1) - (x + 1)) != 0
    require_zero((x**2 - 1) / (x - 1) - (x + 1), "a common factor x - 1")


def test_results_carry_their_detail_note_and_finding():
    assert proved("d") == Result(Status.PASS, "d", finding="", note="")
    assert proved("d", note="n") == Result(Status.PASS, "d", note="n")
    assert erratum("d", "Eq. (1): x") == Result(Status.FINDING, "d", finding="Eq. (1): x")


def test_logit_rate_at_u_equal_p_over_one_plus_p():
    """theorem4.theta1_bound_eq23's monotonicity: d logit(u)/du = 1/(u(1 - u)), and u = p/(1+p) gives
    u(1 - u) = p/(1+p)^2, so the rate is (1+p)^2/p and that of logit(u) - u is (p^2 + p + 1)/p."""
    p = sp.Symbol("p", positive=True)
    rate, rate_minus_one = theorem4._logit_rate_in_p()
    assert sp.simplify(rate - (1 + p) ** 2 / p) == 0
    assert sp.simplify(rate_minus_one - (p**2 + p + 1) / p) == 0


def test_erratum_must_cite_an_equation():
    assert erratum("d", "Eq. (1): x").status is Status.FINDING
    assert isinstance(proved("d"), Result)
    with pytest.raises(ValueError, match="equation number"):
        erratum("d", "the sum is wrong")


# --- every step can fail ------------------------------------------------------------------------------

def test_every_step_has_a_mutation_case():
    """A step added without a companion wrong formula fails this test."""
    assert {s.id for s in STEPS} == {m.case for m in PROOF_MUTATIONS}


@pytest.mark.parametrize("mutation", PROOF_MUTATIONS, ids=[f"{m.case}:{m.name}" for m in PROOF_MUTATIONS])
def test_a_wrong_formula_turns_its_step_red(mutation, monkeypatch, capsys):
    """With the formula the step confirms replaced by a wrong one, the step FAILs, the summary line
    counts it and `python -m proofs_check` exits 1. The other steps are stood in for by a PASS, so
    that each case runs only the step under test."""
    mutation.apply(monkeypatch)
    steps = [one if one.id == mutation.case else replace(one, check=lambda: proved("stand-in"))
             for one in STEPS]
    assert main([], steps=steps) == 1
    printed = capsys.readouterr().out
    failures = printed.split("\nFailures\n", 1)[1]
    # rejected by the derivation itself (a require), not by a crash of the wrong formula
    assert f"[{mutation.case}] DerivationError:" in failures, mutation.why
    counts = re.search(r"(\d+) steps: (\d+) pass, (\d+) findings \(corrected statement proved\), (\d+) fail", printed)
    assert tuple(map(int, counts.groups())) == (len(STEPS), len(STEPS) - 1, 0, 1)
