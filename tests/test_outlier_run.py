"""experiments/outlier/run.py: `infgrad outlier` end to end on the smoke preset (Table 1's layout, paper
numbers quoted beside ours, JSON, histograms, AUROC), --force / --resume, and one-line data errors."""
from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.experiments_support import MNIST_DIR, needs_experiments

torch = needs_experiments()

from experiments.core import datasets as data
from experiments.outlier.report import PAPER_TABLE1, SETS
from experiments.outlier.run import add_arguments
from infgrad.cli import main
from infgrad.tolerances import FLOAT32_RTOL, ROUNDOFF_RTOL


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _data_args() -> list[str]:
    try:
        data.load_fashion_mnist("test", download=False)
        data.load_mnist("test", MNIST_DIR, download=False)
    except data.DataError as err:
        pytest.skip(f"FashionMNIST or the MNIST test split is not installed ({err})")
    return ["--mnist-dir", str(MNIST_DIR)]


def _cli(out: Path, *extra: str) -> int:
    return main(["outlier", "--preset", "smoke", "--kappa", "16", "4", "--iters", "2",
                 "--eval-images", "16", "--out", str(out), *_data_args(), *extra])


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("outlier") / "out"
    assert _cli(out) == 0
    return out


def test_smoke_run_writes_run_folders_results_and_table_1_layout(smoke_run):
    """One run folder per kappa (config, metrics, checkpoint, eval); results.json holds every set's
    BPD for both bounds, gamma as std and variance (std = sqrt(variance)), and the AUROC."""
    for kappa in (4, 16):
        names = {p.name for p in (smoke_run / f"kappa_{kappa}").iterdir()}
        assert {"config.json", "metrics.csv", "checkpoint.pt", "eval.json"} <= names
    results = json.loads((smoke_run / "results.json").read_text())
    assert sorted(results["kappa"]) == ["16", "4"]
    entry = results["kappa"]["16"]
    for bound in ("bpd_elbo", "bpd_iw"):
        assert sorted(entry[bound]) == sorted(SETS)
        assert all(entry[bound][s]["n"] == 16 for s in SETS)
    # two float64 exps of one log_gamma_var (exp(v/2)^2 vs exp(v)): round-off only
    assert entry["gamma_std"] ** 2 == pytest.approx(entry["gamma_var"], rel=ROUNDOFF_RTOL)
    assert 0.0 <= entry["auroc_mnist_vs_fashion_test"]["iw"] <= 1.0
    assert (smoke_run / "bpd_histograms.png").read_bytes()[:4] == b"\x89PNG"


def test_table_has_table_1_rows_kappa_columns_and_quoted_paper_numbers(smoke_run):
    """Rows FashionMNIST-Train/-Test, MNIST-Test, gamma; per kappa an 'ours' and a quoted 'paper'
    column (kappa=16: Table 1's 2.805 for FashionMNIST-Test, 0.0055 for gamma; kappa=4 is not in
    Table 1: '-'); Glow's column quoted."""
    table = (smoke_run / "table.md").read_text()
    header = next(line for line in table.splitlines() if line.startswith("| | Glow"))
    assert header.split("|")[2:-1] == [" Glow (quoted) ", " kappa=4 ours ", " kappa=4 paper (quoted) ",
                                       " kappa=16 ours ", " kappa=16 paper (quoted) "]
    rows = {line.split("|")[1].strip(): line.split("|")[2:-1] for line in table.splitlines()
            if line.startswith("| ") and not line.startswith("| |")}
    assert rows["FashionMNIST-Test"][0].strip() == "2.958"  # Glow, quoted
    assert rows["FashionMNIST-Test"][2].strip() == "-"      # kappa=4: not in Table 1
    assert float(rows["FashionMNIST-Test"][4]) == PAPER_TABLE1["FashionMNIST-Test"][0]
    assert float(rows["gamma (decoder std, sqrt of the variance)"][4]) == PAPER_TABLE1["gamma_std"][0]
    assert {"FashionMNIST-Train", "MNIST-Test", "gamma (decoder variance)"} <= set(rows)


def test_rerun_without_force_is_a_one_line_error_and_resume_reuses_the_runs(smoke_run, capsys):
    capsys.readouterr()
    assert _cli(smoke_run) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("infgrad outlier: error:") and "--force" in err and "\n" not in err
    before = json.loads((smoke_run / "results.json").read_text())["kappa"]
    assert _cli(smoke_run, "--resume") == 0
    assert json.loads((smoke_run / "results.json").read_text())["kappa"] == before  # same numbers


def test_force_overwrites_earlier_results(smoke_run, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(smoke_run, out)
    assert main(["outlier", "--preset", "smoke", "--kappa", "4", "--iters", "1", "--eval-images",
                 "8", "--out", str(out), "--force", *_data_args()]) == 0
    results = json.loads((out / "results.json").read_text())
    assert list(results["kappa"]) == ["4"] and results["config"]["iters"] == 1


@pytest.mark.parametrize("flag", ["--data-dir", "--mnist-dir"])
def test_bad_data_folder_is_a_one_line_error_with_exit_2(tmp_path, capsys, flag):
    """A missing folder or one without IDX files: exit status 2 and one line that says how to get
    the data (no traceback)."""
    empty = tmp_path / "empty"
    empty.mkdir()
    code = main(["outlier", "--preset", "smoke", "--kappa", "2", "--out", str(tmp_path / "o"),
                 "--mnist-dir", str(MNIST_DIR), flag, str(empty)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("infgrad outlier: error:") and "\n" not in err
    assert "IDX" in err or "apt-get" in err


def test_bad_arguments_are_one_line_errors(tmp_path, capsys):
    for extra in (["--kappa", "0"], ["--lr", "fast"], ["--resume", "--force"]):
        code = main(["outlier", "--preset", "smoke", "--out", str(tmp_path / "o"), *extra])
        err = capsys.readouterr().err.strip()
        assert code == 2 and "\n" not in err, (extra, err)


@pytest.mark.parametrize("extra, says", [
    (["--log-gamma-var-init", "1000"], "outside [-60, 60]"),
    (["--log-gamma-var-init", "-1000"], "outside [-60, 60]"),
    # the two heads 4096 -> kappa and the decoder's kappa -> 4096: 3 * 4096 * 1e8 = 1.2288e12 weights
    (["--kappa", "100000000"], "--kappa 100000000: the model has 1.23e+12 parameters"),
    (["--resume"], "holds no run to continue"),
    (["--results", "FILE"], "--results FILE exists and is not a folder"),
])
def test_bad_settings_are_one_line_errors_before_anything_is_written(tmp_path, capsys, extra, says):
    """A gamma whose first loss would overflow, a model larger than the memory, --resume of a
    folder without a run, a --results path that is a file: exit 2, one line with the reason, and
    no --out folder left behind (nothing needs --force afterwards)."""
    (tmp_path / "FILE").write_text("not a folder")
    extra = [str(tmp_path / "FILE") if word == "FILE" else word for word in extra]
    out = tmp_path / "o"
    code = main(["outlier", "--preset", "smoke", "--kappa", "2", "--out", str(out),
                 "--mnist-dir", str(MNIST_DIR), *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("infgrad outlier: error:") and "\n" not in err, err
    assert says.replace("FILE", str(tmp_path / "FILE")) in err
    assert "Traceback" not in err and "[Errno" not in err and not out.exists()


@pytest.mark.skipif(not os.path.isdir("/proc"),
                    reason="needs /proc (Linux), a folder nothing can be created in")
def test_an_output_folder_that_cannot_be_created_is_named_without_an_errno(tmp_path, capsys):
    code = main(["outlier", "--preset", "smoke", "--kappa", "2", "--out", "/proc/infgrad-x"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("infgrad outlier: error: --out /proc/infgrad-x: cannot create")
    assert "[Errno" not in err and "\n" not in err


def test_help_states_the_default_of_every_option():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    undocumented = [a.option_strings[0] for a in parser._actions
                    if a.option_strings and a.help not in (None, argparse.SUPPRESS)
                    and "default" not in a.help and a.option_strings[0] != "-h"]
    assert undocumented == []
    text = parser.format_help()
    assert "default: quick" in text and "(default: Table 1's 16 32 64 128 256 512)" in text.replace("\n", " ").replace("  ", " ")


def test_parallel_kappa_runs_one_process_per_kappa_with_the_results_of_the_sequential_run(
        smoke_run, tmp_path, capsys):
    """--parallel-kappa: one process per kappa (their logs in --out/logs), the same report files,
    and per kappa the numbers of the in-process sequential run (float32 sums in another order: the
    children use torch's default thread count, the reference one thread). The line printed first
    says what is about to run."""
    out = tmp_path / "par"
    capsys.readouterr()
    assert _cli(out, "--parallel-kappa") == 0
    err = capsys.readouterr().err
    assert "[outlier] preset smoke: kappa 16 4, 2 iterations each at batch 8" in err and "TFLOP, about" in err
    assert "[outlier] kappa=16: done" in err and "[outlier] kappa=4: done" in err
    assert {p.name for p in (out / "logs").iterdir()} == {"kappa_16.log", "kappa_4.log"}
    assert {"results.json", "table.md", "bpd_histograms.png"} <= {p.name for p in out.iterdir()}
    ours = json.loads((out / "results.json").read_text())["kappa"]
    reference = json.loads((smoke_run / "results.json").read_text())["kappa"]
    assert sorted(ours) == sorted(reference) == ["16", "4"]
    for kappa, entry in reference.items():
        assert ours[kappa]["steps"] == entry["steps"] == 2
        assert ours[kappa]["gamma_var"] == pytest.approx(entry["gamma_var"], rel=FLOAT32_RTOL)
        for name in SETS:
            got, want = ours[kappa]["bpd_iw"][name], entry["bpd_iw"][name]
            assert got["n"] == want["n"] == 16
            assert got["mean"] == pytest.approx(want["mean"], rel=FLOAT32_RTOL)
