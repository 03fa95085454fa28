"""`infgrad verify`: one PASS row per claim of Lemma 2, Lemma 3 and Theorem 4; exit codes 0 / 1 / 2;
and every row turns FAIL when the project function it checks is replaced by a wrong one
(the mutation cases are in tests/verify_mutations.py)."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from infgrad import verify
from infgrad.cli import main
from tests.verify_mutations import MUTATIONS

ROOT = Path(__file__).resolve().parents[1]

# The equations `infgrad verify` covers: Lemma 2 (11)-(15), Lemma 3 (16)-(19), Theorem 4 (22)-(25).
REQUIRED_EQUATIONS = {"(11)", "(12), end of 8.1", "(13)-(14)", "(14)", "(15)", "Lemma 2", "(16)", "(17)",
                      "(18)", "(19), (22)", "(23)-(25)", "(25)", "end of 8.3", "(23)"}


@pytest.fixture(scope="module")
def rows_by_check():
    """Every check run once with the default settings: {check id: its rows}."""
    settings = verify.settings_from()
    return {one.id: one.run(settings) for one in verify.CHECKS}


@pytest.fixture(scope="module")
def rows(rows_by_check):
    return [row for one in verify.CHECKS for row in rows_by_check[one.id]]


def test_every_claim_passes_with_measured_and_expected_numbers(rows):
    """Every row carries a claim, its equation, a measured and an expected value, and passes."""
    failed = [f"{r.claim}: {r.measured} vs {r.expected}" for r in rows if not r.passed]
    assert not failed
    assert REQUIRED_EQUATIONS <= {r.equation for r in rows}
    assert all(r.claim and r.quantity and r.measured is not None and r.expected is not None for r in rows)
    assert len({r.id for r in rows}) == len(rows)


def test_every_tolerance_comes_from_the_tolerance_table(rows):
    """A row's tolerance names its entry (or entries) in infgrad/tolerances.py, where the reason is."""
    from infgrad import tolerances

    for r in rows:
        for name in filter(None, (part.strip() for part in r.tolerance_source.split(","))):
            assert hasattr(tolerances, name), (r.id, name)
        assert r.tolerance is None or r.tolerance_source, r.id


def test_cli_json_gives_the_same_rows_numbers_as_numbers_and_exit_0(rows, monkeypatch, capsys):
    monkeypatch.setattr(verify, "collect_rows", lambda **kwargs: rows)
    assert main(["verify", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in printed] == [r.id for r in rows]
    assert {r["status"] for r in printed} == {"PASS"}
    assert set(printed[0]) == {"id", "claim", "equation", "quantity", "measured", "expected", "tolerance",
                               "tolerance_source", "passed", "note", "status"}
    by_id = {r["id"]: r for r in printed}
    assert isinstance(by_id["lemma2.sigma_star.shared"]["measured"], float)
    assert by_id["lemma2.gamma_to_zero[d=4, kappa=4, r=2].slope"]["expected"] == 2
    assert all(isinstance(v, float) for v in by_id["theorem4.crossover_family"]["measured"])
    assert by_id["theorem4.crossover[ratio]"]["expected"].startswith("0 < eps*")  # qualitative: a string


def test_json_writes_non_finite_numbers_as_strings():
    row = verify.Row("demo", "c", "(0)", "q", float("inf"), [float("nan"), 1.0], True, tolerance=1e-3)
    printed = json.loads(verify.to_json([row]))[0]
    assert printed["measured"] == "inf" and printed["expected"] == ["nan", 1.0]


def test_cli_table_has_one_line_per_claim(rows, monkeypatch, capsys):
    monkeypatch.setattr(verify, "collect_rows", lambda **kwargs: rows)
    assert main(["verify"]) == 0
    out = capsys.readouterr().out
    assert sum(line.rstrip().endswith("PASS") for line in out.splitlines()) == len(rows)
    assert f"{len(rows)}/{len(rows)} claims pass" in out


@pytest.mark.parametrize("argv, argument", [
    (["--segment-low", "1.5"], "segment_low"), (["--segment-low", "nan"], "segment_low"),
    (["--segment-low", "0.3"], "segment_low"), (["--segment-low", "0.5"], "segment_low"),
    (["--penalty-shift", "-1"], "penalty_shift"), (["--penalty-shift", "0"], "penalty_shift"),
    (["--n", "0"], "n"), (["--seed", "-3"], "seed"),
])
def test_bad_settings_give_one_line_and_exit_2(argv, argument, capsys):
    """A ValueError from verify becomes one line on stderr naming the argument, exit status 2;
    C <= 1/2 lies outside Theorem 4 (Eq. 23 needs C > 1/2) and is refused, not reported as PASS."""
    assert main(["verify", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"infgrad verify: error: {argument}:")


def test_help_shows_the_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["verify", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--segment-low C" in out and "(default 0.7)" in out and "(default 0.01)" in out
    assert "(default 256)" in out and "(default 0)" in out


def test_bad_input_in_a_real_process_and_no_torch():
    """Through a fresh interpreter and the CLI's main: one stderr line, no traceback, exit status 2,
    and `infgrad verify` never imports torch (exit status + 10 if it did)."""
    code = ("import sys; from infgrad.cli import main; rc = main(['verify', '--segment-low', '0']); "
            "sys.exit(rc + 10 * ('torch' in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and result.stderr.startswith("infgrad verify: error: segment_low:")


# --- every row can fail ------------------------------------------------------------------------------

def _check_of(row_id: str, rows_by_check) -> str:
    return next(check_id for check_id, rows in rows_by_check.items() if any(r.id == row_id for r in rows))


def test_every_row_has_a_mutation_case(rows):
    """A row added without a companion wrong implementation fails this test."""
    assert {r.id for r in rows} == {m.case for m in MUTATIONS}


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[f"{m.case}:{m.name}" for m in MUTATIONS])
def test_a_wrong_implementation_turns_its_row_red(mutation, rows, rows_by_check, monkeypatch, capsys):
    """With the project function replaced by a wrong one, the row FAILs, the summary line counts
    it and `infgrad verify` exits 1. The checks that do not contain the row return their rows of
    the unmutated run (cached), so each case runs only the check under test."""
    target = _check_of(mutation.case, rows_by_check)
    mutation.apply(monkeypatch)
    checks = [one if one.id == target else replace(one, run=lambda s, cached=rows_by_check[one.id]: cached)
              for one in verify.CHECKS]
    monkeypatch.setattr(verify, "CHECKS", checks)
    assert main(["verify", "--json"]) == 1
    printed = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert printed[mutation.case]["status"] == "FAIL", mutation.why
    failed = sum(r["status"] == "FAIL" for r in printed.values())
    assert main(["verify"]) == 1
    out = capsys.readouterr().out
    assert f"\n{len(rows) - failed}/{len(rows)} claims pass" in out
    claim = next(r.claim for r in rows if r.id == mutation.case)
    assert any(line.startswith(claim) and line.rstrip().endswith("FAIL") for line in out.splitlines())


def test_a_wrong_bound_in_a_full_run_of_a_fresh_process():
    """End to end, nothing cached: with the (23) bound back to the text's C^2, a full
    `infgrad verify` reports that row FAIL, 25/26 claims pass, exit status 1."""
    code = ("import sys; from theory import theorem4; "
            "theorem4.row_energy_theta1_lower_bound = lambda C: C**2; "
            "from infgrad.cli import main; sys.exit(main(['verify']))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split("  ")[0] for line in lines if line.rstrip().endswith("FAIL")] == [
        "(1/n)||z_1||^2 >= logit(C)^2 (C >= 1/2), sharp; the text's C^2 fails"]
    assert "25/26 claims pass" in result.stdout
