"""End-to-end test of `infgrad celeba` (main-text Figure 4 protocol): the smoke preset on a generated
CelebA-layout folder through the real loader, network, trainer, MMD and report."""
from __future__ import annotations

import argparse
import csv
import json
import math
import shutil

import pytest

from tests.experiments_support import needs_experiments

torch = needs_experiments()
from experiments.celeba.metrics import IterationMetrics  # noqa: E402
from experiments.celeba.net import CelebaVAE  # noqa: E402
from experiments.celeba.run import add_arguments  # noqa: E402
from experiments.core.losses import eq3_terms  # noqa: E402
from infgrad.cli import main  # noqa: E402
from tests.test_celeba_data import make_celeba_folder  # noqa: E402
from infgrad.tolerances import FLOAT32_RTOL  # noqa: E402

# 18 train images (code 0), 6 test (code 2): partition-file order, test every 4th image
PARTITION = {f"{i:06d}.jpg": (2 if i % 4 == 0 else 0) for i in range(1, 25)}
PER_ITERATION_COLUMNS = {"step", "loss", "eq3", "recon_sq", "kl_nats", "log_gamma_var", "gamma_var",
                         "gamma_std", "grad_z_norm", "grad_encoder_norm", "grad_decoder_norm",
                         "recon_term", "log_gamma_term", "kl_term", "mean_sigma_z", "active_dims"}
SMOKE_ITERS = 8  # experiments.celeba.run.presets()["smoke"]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("celeba")
    data = make_celeba_folder(root / "data", PARTITION)
    out = root / "out"
    # one torch thread: on a busy 2-core machine two threads spin on each other (several times slower)
    code = main(["celeba", "--data-dir", str(data), "--size", "64", "--preset", "smoke",
                 "--out", str(out), "--threads", "1"])
    return code, data, out


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_smoke_run_writes_per_iteration_csvs_for_both_arms(smoke_run):
    """Both arms run SMOKE_ITERS iterations and log every one with the documented columns."""
    code, _, out = smoke_run
    assert code == 0
    for arm in ("learned_gamma", "fixed_gamma"):
        rows = _rows(out / arm / "metrics.csv")
        assert [int(r["step"]) for r in rows] == list(range(1, SMOKE_ITERS + 1))
        assert PER_ITERATION_COLUMNS <= set(rows[0])
        assert all(math.isfinite(float(r["grad_z_norm"])) and float(r["grad_z_norm"]) > 0 for r in rows)
        assert all(0 <= int(r["active_dims"]) <= 64 for r in rows)


def test_arm2_keeps_gamma_fixed_at_arm1_final_gamma(smoke_run):
    """Protocol step 2: gamma* = arm 1's final gamma; arm 2's log_gamma_var equals it (exactly, the
    same float) at every iteration, while arm 1's gamma moved."""
    _, _, out = smoke_run
    learned = [float(r["log_gamma_var"]) for r in _rows(out / "learned_gamma" / "metrics.csv")]
    fixed = {float(r["log_gamma_var"]) for r in _rows(out / "fixed_gamma" / "metrics.csv")}
    assert fixed == {learned[-1]}
    assert learned[0] != learned[-1]
    results = json.loads((out / "results.json").read_text())
    assert results["arms"]["fixed_gamma"]["log_gamma_var"] == results["arms"]["learned_gamma"]["log_gamma_var"]


def test_arms_share_seed_data_order_and_noise(smoke_run):
    """Same init, batch and reparameterization noise: the first step's reconstruction error and KL
    (computed before any update, independent of gamma) are identical in the two arms."""
    _, _, out = smoke_run
    first = [_rows(out / arm / "metrics.csv")[0] for arm in ("learned_gamma", "fixed_gamma")]
    assert first[0]["recon_sq"] == first[1]["recon_sq"] and first[0]["kl_nats"] == first[1]["kl_nats"]


def test_loss_decreases_in_the_learned_gamma_arm(smoke_run):
    """Adam on the negative ELBO: the mean loss over the last half of the iterations is below the
    mean over the first half."""
    _, _, out = smoke_run
    loss = [float(r["loss"]) for r in _rows(out / "learned_gamma" / "metrics.csv")]
    half = len(loss) // 2
    assert sum(loss[half:]) / (len(loss) - half) < sum(loss[:half]) / half


def test_summary_has_figure4a_rows_with_quoted_paper_numbers_and_plots(smoke_run):
    """summary.md: one row per arm in Figure 4(a)'s layout, ours beside the paper's quoted numbers;
    results.json: reconstruction error = mean per-image SSE, MMD with its error bar; two PNG plots."""
    _, _, out = smoke_run
    summary = (out / "summary.md").read_text()
    assert "| Rec. Err. (ours) | MMD^2 (ours, mean +- std over draws) | Rec. Err. (paper, quoted) " in summary
    learned_row = next(line for line in summary.splitlines() if line.startswith("| learned gamma |"))
    fixed_row = next(line for line in summary.splitlines() if line.startswith("| fixed gamma = gamma* |"))
    assert learned_row.endswith("| 352.8 | 93.3 |") and fixed_row.endswith("| 349.9 | 291.8 |")
    assert "infgrad celeba --data-dir" in summary and "--preset smoke" in summary
    results = json.loads((out / "results.json").read_text())
    for arm in ("learned_gamma", "fixed_gamma"):
        entry = results["arms"][arm]
        assert entry["n_images"] == 6  # the six code-2 images of the partition file
        assert entry["rec_err"] > 0 and len(entry["mmd"]["draws"]) == 3
        assert math.isfinite(entry["mmd"]["mean"]) and entry["mmd"]["std"] > 0
    for png in ("gradient_and_gamma.png", "mmd_and_reconstruction.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_existing_results_are_not_overwritten_without_force(smoke_run, capsys):
    """A second run into the same --out without --resume/--force is a one-line error, exit 2."""
    _, data, out = smoke_run
    code = main(["celeba", "--data-dir", str(data), "--preset", "smoke", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "already holds" in err and "\n" not in err


def test_missing_data_folder_is_a_one_line_error(tmp_path, capsys):
    code = main(["celeba", "--data-dir", str(tmp_path / "nowhere"), "--preset", "smoke",
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "not a folder" in err and "\n" not in err


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_grad_z_norm_is_the_per_sample_gradient_of_the_negative_elbo(mode):
    """||dL/dz||_2 of Figure 4(b) as the hook computes it (batch size B times z.grad of the batch-mean
    loss, as experiments/core/train.py leaves it) against per-sample autograd. Eval mode: each L_i depends on z_i
    alone, so B * z.grad[i] = dL_i/dz_i. Train mode: the decoder's batch norm couples the batch, and
    B * z.grad[i] = d(sum_j L_j)/dz_i, the gradient the trainer actually follows (the module docstring
    says so). Float32 round-off only: the two sides differ by one scaling by B and 1/B."""
    torch.manual_seed(0)
    model = CelebaVAE(size=64, image_channels=1, kappa=64, width=1 / 16).train(mode == "train")
    hook = IterationMetrics(model)
    x = torch.rand(3, 1, 64, 64, generator=torch.Generator().manual_seed(1))
    mu_z, log_sigma_z = model.encode(x)
    z = mu_z + log_sigma_z.exp() * torch.randn(mu_z.shape, generator=torch.Generator().manual_seed(2))
    z.retain_grad()
    terms = eq3_terms(x, model.decode(z), mu_z, log_sigma_z, model.log_gamma_var)
    neg_elbo = terms["neg_elbo"]
    neg_elbo.mean().backward(retain_graph=True)
    got = hook(1, model, x, terms, z)["grad_z_norm"]
    # after the hook: autograd.grad would also add into the retained z.grad
    if mode == "eval":
        rows = [torch.autograd.grad(neg_elbo[i], z, retain_graph=True)[0][i] for i in range(3)]
        expected = torch.stack(rows).norm(dim=1).mean()
    else:
        expected = torch.autograd.grad(neg_elbo.sum(), z, retain_graph=True)[0].norm(dim=1).mean()
    assert got == pytest.approx(float(expected), rel=FLOAT32_RTOL)


# ------------------------------------------------------------------------------ gamma floors
def test_gamma_floors_add_one_clamped_arm_each_with_rows_and_resume(smoke_run, tmp_path):
    """--gamma-floors F: one more learned-gamma arm with gamma >= F at every iteration (same seed,
    data order and noise: its first step's loss terms equal arm 1's), a results.json entry, a summary
    row 'learned gamma, floor F' and the plots. Added with --resume to a copy of the smoke run, so
    the two protocol arms continue from their final checkpoints and only the new arm trains. F is the
    geometric mean of 1 (gamma at step 0) and arm 1's final gamma, so arm 1 goes below it."""
    _, data, smoke_out = smoke_run
    out = tmp_path / "out"
    shutil.copytree(smoke_out, out)
    learned = _rows(out / "learned_gamma" / "metrics.csv")
    floor = math.sqrt(float(learned[-1]["gamma_var"]))
    assert float(learned[-1]["gamma_var"]) < floor < 1.0
    code = main(["celeba", "--data-dir", str(data), "--size", "64", "--preset", "smoke", "--out", str(out),
                 "--threads", "1", "--resume", "--gamma-floors", repr(floor)])
    assert code == 0
    arm = f"floor_{floor!r}"
    rows = _rows(out / arm / "metrics.csv")
    assert [int(r["step"]) for r in rows] == list(range(1, SMOKE_ITERS + 1))
    assert PER_ITERATION_COLUMNS <= set(rows[0])
    gamma = [float(r["gamma_var"]) for r in rows]
    assert all(g >= floor * (1 - FLOAT32_RTOL) for g in gamma)
    assert min(gamma) == pytest.approx(floor, rel=FLOAT32_RTOL)  # the clamp acted
    assert rows[0]["recon_sq"] == learned[0]["recon_sq"] and rows[0]["kl_nats"] == learned[0]["kl_nats"]
    results = json.loads((out / "results.json").read_text())
    assert list(results["arms"]) == ["learned_gamma", "fixed_gamma", arm]
    assert results["gamma_floors"] == [floor] and results["arms"][arm]["gamma_var_floor"] == floor
    assert results["arms"][arm]["n_images"] == 6 and len(results["arms"][arm]["mmd"]["draws"]) == 3
    # the protocol arms were resumed, not retrained: their logs are the smoke run's
    assert _rows(out / "learned_gamma" / "metrics.csv") == learned
    summary = (out / "summary.md").read_text()
    row = next(line for line in summary.splitlines() if line.startswith(f"| learned gamma, floor {floor:g} |"))
    assert row.endswith("| - | - |") and f"--gamma-floors {floor!r}" in summary
    for png in ("gradient_and_gamma.png", "mmd_and_reconstruction.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("bad", ["0", "-0.01", "nan"])
def test_bad_gamma_floor_is_a_one_line_error(bad, tmp_path, capsys):
    """A floor is a decoder variance: zero, negative or NaN is a one-line error, exit 2 (before any
    data is read)."""
    code = main(["celeba", "--image-folder", str(tmp_path), "--preset", "smoke",
                 "--out", str(tmp_path / "out"), "--gamma-floors", "0.01", bad])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "--gamma-floors" in err and "\n" not in err


def test_floor_folders_of_an_earlier_run_block_a_new_run_without_force(tmp_path, capsys):
    """--out holding only a floor arm's run folder counts as earlier results (--resume / --force)."""
    (tmp_path / "out" / "floor_0.01").mkdir(parents=True)
    (tmp_path / "out" / "floor_0.01" / "metrics.csv").write_text("step\n")
    code = main(["celeba", "--image-folder", str(tmp_path), "--preset", "smoke", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "floor_0.01" in err and "\n" not in err


@pytest.mark.parametrize("extra, says", [
    (["--log-gamma-var-init", "1000"], "outside [-60, 60]"),
    (["--log-gamma-var-init", "-1000"], "outside [-60, 60]"),
    (["--width", "1000"], "--width 1000: the model has"),
    (["--resume"], "holds no run to continue"),
])
def test_bad_settings_are_one_line_errors_before_anything_is_written(tmp_path, capsys, extra, says):
    """An initial gamma whose loss would overflow float32, a network larger than the memory, --resume
    of a folder without a run: exit 2, one line with the reason, no --out folder left behind."""
    out = tmp_path / "out"
    code = main(["celeba", "--image-folder", str(tmp_path), "--preset", "smoke", "--out", str(out), *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("infgrad celeba: error:") and "\n" not in err, err
    assert says in err and not out.exists()


def test_resume_says_from_which_step_each_arm_continues(smoke_run, tmp_path, capsys):
    """--resume of the finished smoke run: each arm's folder reports the step it continues from."""
    _, data, smoke_out = smoke_run
    out = tmp_path / "out"
    shutil.copytree(smoke_out, out)
    capsys.readouterr()
    assert main(["celeba", "--data-dir", str(data), "--size", "64", "--preset", "smoke", "--out", str(out),
                 "--threads", "1", "--resume"]) == 0
    err = capsys.readouterr().err
    for arm in ("learned_gamma", "fixed_gamma"):
        assert f"{out / arm}: resuming from step {SMOKE_ITERS} of {SMOKE_ITERS}" in err
    assert "[celeba] preset smoke: 2 arms of 8 iterations at batch 4, 64x64" in err


def test_help_states_the_default_of_every_option():
    """Every option's help names its default, but the data source: one of three is required (the
    usage line shows the required choice in parentheses)."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    required = {a for group in parser._mutually_exclusive_groups if group.required
                for a in group._group_actions}
    undocumented = [a.option_strings[0] for a in parser._actions
                    if a.option_strings and a.help not in (None, argparse.SUPPRESS) and a not in required
                    and "default" not in a.help and a.option_strings[0] != "-h"]
    assert undocumented == []
    assert "(--data-dir DATA_DIR | --image-folder IMAGE_FOLDER | --fashion-mnist)" in parser.format_usage()

