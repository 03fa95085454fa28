"""experiments/outlier/run.py: `infgrad outlier` end to end on the smoke preset (Table 1's layout, paper
numbers quoted beside ours, JSON, histograms, AUROC), --force / --resume, and one-line data errors."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from experiments.core import datasets as data
from experiments.outlier.report import PAPER_TABLE1, SETS
from infgrad.cli import main
from infgrad.tolerances import ROUNDOFF_RTOL

MNIST_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


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
    assert float(rows["gamma (decoder std, sqrt of the variance)"][4]) == PAPER_TABLE1["gamma"][0]
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
