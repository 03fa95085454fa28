"""proofs_check/: every symbolic step of the proofs of Lemma 2, Lemma 3 and Theorem 4 (supplement
8.1-8.3) and of main-text Eq. (5) and (8) goes through in sympy; the committed REPORT.md is current;
`python -m proofs_check` exits 0 / 1 / 2 and writes the same report with --markdown.
Symbolic results are exact (tolerances.EXACT): steps compare with ==, never within a tolerance.
"""
from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import sympy as sp

from proofs_check import all_steps
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


@pytest.fixture(scope="module")
def outcomes():
    """Every step run once (a few seconds), shared by the tests below."""
    return {outcome.step.id: outcome for outcome in run_steps(STEPS)}


def test_step_ids_are_unique():
    assert len({s.id for s in STEPS}) == len(STEPS)


@pytest.mark.parametrize("step_id", [s.id for s in STEPS])
def test_proof_step_goes_through(step_id, outcomes):
    """Each step (identity, minimizer with second-order check, limit or inequality) is confirmed."""
    outcome = outcomes[step_id]
    if outcome.result.status is Status.FAIL:
        outcome.step.check()  # re-run to show the full traceback of the broken derivation
    assert outcome.result.status in (Status.PASS, Status.FINDING), outcome.result.detail
    assert outcome.result.detail


def test_findings_are_the_confirmed_errata_with_equation_numbers(outcomes):
    """The report lists exactly the confirmed errata, each opening with its equation number."""
    found = {i: o.result.finding for i, o in outcomes.items() if o.result.status is Status.FINDING}
    assert set(found) == set(EXPECTED_FINDINGS)
    for step_id, text in found.items():
        assert text.startswith(EXPECTED_FINDINGS[step_id]), (step_id, text[:40])


def test_committed_report_is_current(outcomes):
    """proofs_check/REPORT.md is what the current steps produce (the report holds no timings)."""
    committed = (ROOT / "proofs_check" / "REPORT.md").read_text()
    assert committed == render_markdown(list(outcomes.values())), f"regenerate: {REPORT_COMMAND}"


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
def test_a_wrong_formula_turns_its_step_red(mutation, outcomes, monkeypatch, capsys):
    """With the formula the step confirms replaced by a wrong one, the step FAILs, the summary line
    counts it and `python -m proofs_check` exits 1. The other steps return their results of the
    unmutated run (cached), so each case runs only the step under test."""
    mutation.apply(monkeypatch)
    steps = [one if one.id == mutation.case else replace(one, check=lambda cached=outcomes[one.id].result: cached)
             for one in STEPS]
    assert main([], steps=steps) == 1
    printed = capsys.readouterr().out
    failures = printed.split("\nFailures\n", 1)[1]
    # rejected by the derivation itself (a require), not by a crash of the wrong formula
    assert f"[{mutation.case}] DerivationError:" in failures, mutation.why
    counts = re.search(r"(\d+) steps: (\d+) pass, (\d+) findings \(corrected statement proved\), (\d+) fail", printed)
    total, passed, findings, failed = map(int, counts.groups())
    assert total == len(STEPS) and failed >= 1 and passed + findings + failed == total
    healthy = [o.result.status for o in outcomes.values()]
    assert passed + findings == healthy.count(Status.PASS) + healthy.count(Status.FINDING) - failed
