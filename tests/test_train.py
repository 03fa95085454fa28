"""experiments/core/train.py: the training loop on the real FashionMNIST, its agreement with Eq. (3) of
the theory package, fixed vs learned gamma, the per-step hook, config overrides, and resume after a kill."""
from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.experiments_support import needs_experiments

torch = needs_experiments()

from experiments.core import datasets as data
from experiments.core import train as train_module
from experiments.core.cli import override
from experiments.core.losses import eq3_pass
from experiments.core.models import LOG_GAMMA_VAR_RANGE
from experiments.core.runs import CONFIG_NAME, prepare_run_dir, read_metrics
from experiments.core.runs import SNAPSHOT_DIR, load_checkpoint
from experiments.core.train import TrainConfig, batch_indices, seed_everything, snapshot_steps, train
from experiments.outlier.model import OutlierVAE
from experiments.outlier.presets import PRESETS
from infgrad.tolerances import FLOAT32_RTOL
from theory.vae_loss import neg_elbo_per_sample, vae_loss_eq3

ROOT = Path(__file__).resolve().parents[1]
NARROW = (8, 16, 16)  # narrowed channels: the loop is model-agnostic, the tests need seconds


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def fashion_images(n: int) -> torch.Tensor:
    """The first n FashionMNIST test images, padded to 32x32; skip when the data is not installed."""
    try:
        images, _ = data.load_fashion_mnist("test", download=False)
    except data.DataError as err:
        pytest.skip(f"FashionMNIST not installed ({err})")
    return data.pad_to_32(images[:n])


@pytest.fixture(scope="module")
def images():
    return fashion_images(256)


def tiny(**changes) -> TrainConfig:
    return override(PRESETS["smoke"], **changes)


def test_smoke_training_on_fashion_mnist_lowers_the_loss(images):
    """The negative ELBO (Eq. 3 / 2 + constants) falls over 30 Adam steps of the section-7 VAE: the
    mean of the last 6 batch losses lies 3 standard errors below the mean of the first 6."""
    seed_everything(0)
    model = OutlierVAE(kappa=16, channels=NARROW)
    losses = []
    train(model, images, tiny(iters=30, batch_size=16),
          hook=lambda step, m, x, terms, z: losses.append(float(terms["neg_elbo"].detach().mean())))
    first, last = np.array(losses[:6]), np.array(losses[-6:])
    noise = math.hypot(first.std(ddof=1), last.std(ddof=1)) / math.sqrt(6)
    assert last.mean() < first.mean() - 3.0 * noise


def test_logged_loss_equals_theory_eq3_on_the_first_batch(images, tmp_path):
    """Eq. (3): the trainer's first logged eq3 and loss equal theory.vae_loss.vae_loss_eq3 and
    neg_elbo_per_sample (float64) on the same batch, noise and weights (float32 tolerance)."""
    config = tiny(iters=1, batch_size=16, log_gamma_var_init=-2.0)
    seed_everything(0)
    model = OutlierVAE(kappa=8, channels=NARROW)
    # reproduce the loop's first step by hand: batch of step 0, noise from seed + 1, train-mode BN
    x = images[batch_indices(0, images.shape[0], config.batch_size, config.seed)]
    eps = torch.randn(config.batch_size, 8, generator=torch.Generator().manual_seed(config.seed + 1))
    with torch.no_grad():
        model.log_gamma_var.fill_(config.log_gamma_var_init)
        mu_z, log_sigma_z = model.encode(x)
        recon = model.decode(mu_z + torch.exp(log_sigma_z) * eps)
    to64 = lambda t: t.reshape(t.shape[0], -1).double().numpy().T
    eq3 = vae_loss_eq3(to64(x), to64(recon), to64(mu_z), to64(log_sigma_z), config.log_gamma_var_init)
    train(model, images, config, tmp_path / "run")
    row = read_metrics(tmp_path / "run" / "metrics.csv")[0]
    assert row["eq3"] == pytest.approx(eq3, rel=FLOAT32_RTOL)
    assert row["loss"] == pytest.approx(neg_elbo_per_sample(eq3, 1024, 8), rel=FLOAT32_RTOL)


def test_fixed_gamma_stays_at_its_value_and_hook_rows_reach_the_csv(images, tmp_path):
    """learn_gamma=False keeps gamma = exp(log_gamma_var_init) (the CelebA protocol's second arm);
    the hook's dict lands in every logged row with steps 1..N; z.grad holds dL/dz of the batch."""
    log_gamma_var = math.log(0.01)
    seen = []

    def hook(step, model, x, terms, z):
        seen.append(step)
        return {"grad_z_norm": float(z.grad.norm(dim=1).mean() * x.shape[0])}

    seed_everything(0)
    model = OutlierVAE(kappa=4, channels=NARROW)
    train(model, images, tiny(iters=5, learn_gamma=False, log_gamma_var_init=log_gamma_var),
          tmp_path / "run", hook=hook)
    rows = read_metrics(tmp_path / "run" / "metrics.csv")
    assert seen == [1, 2, 3, 4, 5] and [r["step"] for r in rows] == seen
    assert float(model.log_gamma_var) == pytest.approx(log_gamma_var, rel=FLOAT32_RTOL)
    assert all(r["gamma_var"] == pytest.approx(0.01, rel=FLOAT32_RTOL) for r in rows)
    assert all(r["grad_z_norm"] > 0 for r in rows)


def test_snapshot_steps_are_six_per_decade_from_the_first_and_the_last_step():
    """The convergence schedule: 1, 1.5, 2, 3, 5, 7 x 10^k from keep_from on, plus the last step."""
    assert snapshot_steps(24_000, 500) == [500, 700, 1000, 1500, 2000, 3000, 5000, 7000, 10_000,
                                           15_000, 20_000, 24_000]
    assert snapshot_steps(30, 2) == [2, 3, 5, 7, 10, 15, 20, 30]
    assert snapshot_steps(1000, 0) == []


def test_snapshots_hold_the_weights_of_their_step_and_survive_resume(images, tmp_path):
    """A run keeps the weights of every scheduled step; a run stopped half way and resumed keeps
    the same files with bitwise the same weights as an uninterrupted run."""
    def run(folder, iters, resume=False):
        seed_everything(0)
        model = OutlierVAE(kappa=4, channels=NARROW)
        config = tiny(iters=7, keep_from=2)
        if iters < 7:  # a SIGINT during step `iters`: the run stops at the next step boundary
            hook = lambda step, *a: (os.kill(os.getpid(), signal.SIGINT) if step == iters else None)
        else:
            hook = None
        train(model, images, config, folder, resume=resume, hook=hook)
        return model

    whole = run(tmp_path / "whole", 7)
    run(tmp_path / "parts", 4)
    run(tmp_path / "parts", 7, resume=True)
    names = sorted(p.name for p in (tmp_path / "whole" / SNAPSHOT_DIR).iterdir())
    assert names == [f"step_{s:07d}.pt" for s in (2, 3, 5, 7)]
    assert names == sorted(p.name for p in (tmp_path / "parts" / SNAPSHOT_DIR).iterdir())
    last = load_checkpoint(tmp_path / "whole" / SNAPSHOT_DIR / "step_0000007.pt")
    assert last["step"] == 7
    for key, tensor in whole.state_dict().items():
        assert torch.equal(last["model"][key], tensor)
    for name in names:
        a = load_checkpoint(tmp_path / "whole" / SNAPSHOT_DIR / name)["model"]
        b = load_checkpoint(tmp_path / "parts" / SNAPSHOT_DIR / name)["model"]
        assert all(torch.equal(a[k], b[k]) for k in a)


def test_data_order_is_a_permutation_per_epoch():
    """Every image is used exactly once per epoch (drop_last), and epochs differ."""
    epoch0 = torch.cat([batch_indices(s, 100, 10, seed=3) for s in range(10)])
    epoch1 = torch.cat([batch_indices(s, 100, 10, seed=3) for s in range(10, 20)])
    assert sorted(epoch0.tolist()) == list(range(100)) == sorted(epoch1.tolist())
    assert not torch.equal(epoch0, epoch1)


def test_overrides_are_type_checked():
    assert override(TrainConfig(), lr="3e-3", learn_gamma="false", iters="7") == \
        TrainConfig(lr=3e-3, learn_gamma=False, iters=7)
    for bad, match in [({"lr": "fast"}, "lr"), ({"iters": 1.5}, "iters"), ({"nope": 1}, "unknown"),
                       ({"iters": 0}, "iters"), ({"device": "tpu"}, "device")]:
        with pytest.raises(ValueError, match=match):
            override(TrainConfig(), **bad)


def test_run_folder_is_never_overwritten_without_force(images, tmp_path):
    seed_everything(0)
    train(OutlierVAE(kappa=2, channels=NARROW), images, tiny(iters=1), tmp_path / "run")
    with pytest.raises(ValueError, match="--force"):
        train(OutlierVAE(kappa=2, channels=NARROW), images, tiny(iters=1), tmp_path / "run")
    train(OutlierVAE(kappa=2, channels=NARROW), images, tiny(iters=1), tmp_path / "run", force=True)


# ------------------------------------------------------------------------------ resume after a kill
RESUME_STEPS = 12
CHILD = """
import sys, time
import torch
torch.set_num_threads(1)  # as the in-process reference run (see one_intra_op_thread)
from experiments.core import datasets as data
from experiments.core.cli import override
from experiments.core.train import seed_everything, train
from experiments.outlier.model import OutlierVAE
from experiments.outlier.presets import PRESETS
images = data.pad_to_32(data.load_fashion_mnist("test", download=False)[0][:256])
config = override(PRESETS["smoke"], iters={iters}, ckpt_every=4)
seed_everything(0)
slow = lambda *args: time.sleep(0.15)  # keeps the run alive long enough to be killed mid-way
result = train(OutlierVAE(kappa=4, channels={narrow}), images, config, sys.argv[1], hook=slow)
sys.exit(130 if result["interrupted"] else 0)
"""


@pytest.fixture(scope="module")
def uninterrupted(images, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("resume") / "uninterrupted"
    seed_everything(0)
    model = OutlierVAE(kappa=4, channels=NARROW)
    train(model, images, override(PRESETS["smoke"], iters=RESUME_STEPS, ckpt_every=4), run_dir)
    return model.state_dict(), read_metrics(run_dir / "metrics.csv")


def test_resume_after_sigterm_reproduces_the_uninterrupted_run(images, uninterrupted, tmp_path):
    """SIGTERM a training process mid-run (it checkpoints atomically on the signal and exits 130),
    resume it: final weights are bitwise those of an uninterrupted run with the same seed, and
    metrics.csv has the same rows."""
    run_dir = tmp_path / "run"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(iters=RESUME_STEPS, narrow=NARROW), str(run_dir)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None:
        if (run_dir / "metrics.csv").exists() and len(read_metrics(run_dir / "metrics.csv")) >= 5:
            child.send_signal(signal.SIGTERM)
            break
        time.sleep(0.05)
    assert child.wait(timeout=60) == 130
    stopped_at = torch.load(run_dir / "checkpoint.pt", weights_only=False)["step"]
    assert 5 <= stopped_at < RESUME_STEPS
    # saved on the signal itself: the checkpoint covers every row logged before the exit
    assert len(read_metrics(run_dir / "metrics.csv")) == stopped_at
    _resume_and_compare(images, uninterrupted, run_dir)


class _Crash(Exception):
    pass


def test_resume_after_a_crash_restarts_from_the_last_periodic_checkpoint(images, uninterrupted,
                                                                         tmp_path):
    """A hard stop (an exception at step 6, as a SIGKILL would leave it: no checkpoint on the way
    out) loses only the steps after the last periodic checkpoint (step 4); rows 5-6 already in
    metrics.csv are dropped on resume, and the result is again the uninterrupted run's."""
    run_dir = tmp_path / "run"

    def crash(step, *args):
        if step == 6:
            raise _Crash

    seed_everything(0)
    with pytest.raises(_Crash):
        train(OutlierVAE(kappa=4, channels=NARROW), images,
              override(PRESETS["smoke"], iters=RESUME_STEPS, ckpt_every=4), run_dir, hook=crash)
    assert torch.load(run_dir / "checkpoint.pt", weights_only=False)["step"] == 4
    assert len(read_metrics(run_dir / "metrics.csv")) == 5  # step 6 crashed before its row
    _resume_and_compare(images, uninterrupted, run_dir)


def _resume_and_compare(images, uninterrupted, run_dir):
    seed_everything(123)  # the resumed run must not depend on the fresh process's RNG
    model = OutlierVAE(kappa=4, channels=NARROW)
    result = train(model, images, override(PRESETS["smoke"], iters=RESUME_STEPS, ckpt_every=4),
                   run_dir, resume=True)
    reference_state, reference_rows = uninterrupted
    assert result["step"] == RESUME_STEPS
    assert all(torch.equal(model.state_dict()[k], v) for k, v in reference_state.items())
    rows = read_metrics(run_dir / "metrics.csv")
    strip = lambda rs: [{k: v for k, v in r.items() if k != "time_s"} for r in rs]
    assert strip(rows) == strip(reference_rows)


# ------------------------------------------------------------------------------ gamma floor
def test_gamma_floor_keeps_the_learned_gamma_at_or_above_it(images):
    """gamma_var_floor: after every optimizer step exp(log_gamma_var) >= floor. The floor is derived
    from the unclamped run (lr_log_gamma 0.1: gamma falls from 1 by ~e^-0.1 per Adam step) as the
    geometric mean of its smallest gamma and 1, so that run goes below it; the clamped run reaches it
    and stays there (float32 tolerance: the clamp acts on the float32 log-variance)."""
    free, clamped = [], []
    seed_everything(0)
    train(OutlierVAE(kappa=4, channels=NARROW), images, tiny(iters=12, batch_size=16, lr_log_gamma=0.1),
          hook=lambda step, m, x, terms, z: free.append(float(m.log_gamma_var.detach().exp())))
    lowest = min(free)
    assert lowest < 1.0  # gamma falls towards the per-pixel squared error (Eq. 16) from gamma = 1
    floor = math.sqrt(lowest)
    assert any(g < floor for g in free)
    seed_everything(0)
    model = OutlierVAE(kappa=4, channels=NARROW)
    result = train(model, images, tiny(iters=12, batch_size=16, lr_log_gamma=0.1, gamma_var_floor=floor),
                   hook=lambda step, m, x, terms, z: clamped.append(float(m.log_gamma_var.detach().exp())))
    # the hook sees gamma before step `step` updates it; the final value is after the last update
    after_each_step = clamped[1:] + [float(model.log_gamma_var.detach().exp())]
    assert result["metrics"]["gamma_var"] == pytest.approx(after_each_step[-1], rel=FLOAT32_RTOL)
    assert all(g >= floor * (1 - FLOAT32_RTOL) for g in after_each_step)
    assert min(after_each_step) == pytest.approx(floor, rel=FLOAT32_RTOL)  # the clamp was active


def test_default_gamma_floor_skips_the_clamp(images, monkeypatch):
    """gamma_var_floor = 0 (the default of every preset) never calls the clamp, so runs made before
    the field existed are reproduced bit for bit; a floor above a FIXED gamma is a ValueError."""
    assert all(preset.gamma_var_floor == 0.0 for preset in PRESETS.values())

    def must_not_run(*args):
        raise AssertionError("the gamma clamp ran with gamma_var_floor = 0")

    monkeypatch.setattr(train_module, "clamp_log_gamma_var", must_not_run)
    seed_everything(0)
    train(OutlierVAE(kappa=2, channels=NARROW), images, tiny(iters=2))
    for bad, match in [({"gamma_var_floor": -1.0}, "gamma_var_floor"),
                       ({"gamma_var_floor": "nan"}, "gamma_var_floor"),
                       ({"learn_gamma": False, "log_gamma_var_init": math.log(0.01),
                         "gamma_var_floor": 0.02}, "gamma_var_floor")]:
        with pytest.raises(ValueError, match=match):
            override(TrainConfig(), **bad)
    override(TrainConfig(), learn_gamma=False, log_gamma_var_init=math.log(0.01), gamma_var_floor=0.01)


@pytest.mark.parametrize("field, changed", [("gamma_var_floor", 0.01), ("precision", "bf16")])
def test_resume_fills_fields_added_after_the_run_with_their_defaults(tmp_path, field, changed):
    """A run folder whose config.json predates a TrainConfig field (gamma_var_floor, precision)
    resumes when the field keeps its default, and is refused when the field now differs from it.
    A run made with device "cpu" resumes under the new default "auto" (device is free to change)."""
    config = dataclasses.asdict(TrainConfig())
    old = {**{k: v for k, v in config.items() if k != field}, "device": "cpu"}
    (tmp_path / CONFIG_NAME).write_text(json.dumps(old))
    defaults = dataclasses.asdict(TrainConfig())
    prepare_run_dir(tmp_path, config, resume=True, defaults=defaults)
    (tmp_path / CONFIG_NAME).write_text(json.dumps(old))
    with pytest.raises(ValueError, match=field):
        prepare_run_dir(tmp_path, {**config, field: changed}, resume=True, defaults=defaults)


# ------------------------------------------------------------------------------ vectors, custom objectives
SUBSPACE_D, SUBSPACE_R = 6, 2  # data on a 2-dimensional linear subspace of R^6
G_WEIGHT = 100.0  # g(e) = G_WEIGHT * e: a large weight standing in for g's reconstruction constraint
H_SHIFT = 1e-2  # h(u) = log(u + H_SHIFT): a bounded-slope penalty of Theorem 4's family


@pytest.fixture(scope="module")
def vectors():
    """512 points x = A w in R^6, w ~ N(0, I_2), A with orthonormal columns: float32 (N, d)."""
    generator = torch.Generator().manual_seed(11)
    basis, _ = torch.linalg.qr(torch.randn(SUBSPACE_D, SUBSPACE_R, generator=generator))
    return torch.randn(512, SUBSPACE_R, generator=generator) @ basis.T


class VectorVAE(torch.nn.Module):
    """An MLP VAE on vectors (batch, d) following core.models.VAEProtocol."""

    def __init__(self, d: int = SUBSPACE_D, kappa: int = 4, hidden: int = 32):
        super().__init__()
        self.kappa = kappa
        self.encoder = torch.nn.Sequential(torch.nn.Linear(d, hidden), torch.nn.Tanh(),
                                           torch.nn.Linear(hidden, 2 * kappa))
        self.decoder = torch.nn.Sequential(torch.nn.Linear(kappa, hidden), torch.nn.Tanh(),
                                           torch.nn.Linear(hidden, d))
        self.log_gamma_var = torch.nn.Parameter(torch.tensor(0.0))

    def encode(self, x):
        mu_z, log_sigma_z = self.encoder(x).chunk(2, dim=1)
        return mu_z, log_sigma_z

    def decode(self, z):
        return self.decoder(z)


class VectorAE(torch.nn.Module):
    """A deterministic MLP autoencoder on vectors: z = encoder(x), no gamma, no log_gamma_var."""

    def __init__(self, d: int = SUBSPACE_D, kappa: int = 4, hidden: int = 32):
        super().__init__()
        self.encoder = torch.nn.Sequential(torch.nn.Linear(d, hidden), torch.nn.Tanh(),
                                           torch.nn.Linear(hidden, kappa))
        self.decoder = torch.nn.Sequential(torch.nn.Linear(kappa, hidden), torch.nn.Tanh(),
                                           torch.nn.Linear(hidden, d))


def eq22_objective(model, x, eps):
    """Eq. (22) on the batch: g((1/(dB)) sum_i ||x_i - mu_x(z_i)||^2) + (1/d) sum_k h((1/B)||z_k||^2)
    with g(e) = G_WEIGHT * e and h(u) = log(u + H_SHIFT). The penalty reads the row energies of the
    whole batch, so the loss is returned as the batch scalar; `recon` is per sample, `penalty` 0-dim."""
    z = model.encoder(x)
    d = x.shape[1]
    recon = (x - model.decoder(z)).pow(2).sum(dim=1) / d
    penalty = torch.log(z.pow(2).mean(dim=0) + H_SHIFT).sum() / d
    return {"loss": G_WEIGHT * recon.mean() + penalty, "recon": recon, "penalty": penalty, "z": z}


def vector_config(**changes) -> TrainConfig:
    return override(PRESETS["smoke"], batch_size=32, lr=1e-2, lr_log_gamma=1e-2, **changes)


def _falls(losses: list[float], k: int = 6) -> bool:
    """The mean of the last k values lies 3 standard errors below the mean of the first k."""
    first, last = np.array(losses[:k]), np.array(losses[-k:])
    noise = math.hypot(first.std(ddof=1), last.std(ddof=1)) / math.sqrt(k)
    return last.mean() < first.mean() - 3.0 * noise


def test_mlp_vae_on_vectors_trains_with_the_default_objective_and_logs_its_columns(vectors, tmp_path):
    """Data (N, d) go through the same loop as images: the negative ELBO (Eq. 3 / 2 + constants) of
    an MLP VAE on a 2-dimensional subspace of R^6 falls over 60 steps, and the rows carry the
    image runs' columns, bpd_elbo converted with d = 6."""
    seed_everything(0)
    train(VectorVAE(), vectors, vector_config(iters=60), tmp_path / "run")
    rows = read_metrics(tmp_path / "run" / "metrics.csv")
    assert list(rows[0]) == ["step", "loss", "eq3", "recon_sq", "kl_nats", "bpd_elbo", "log_gamma_var",
                             "gamma_var", "gamma_std", "time_s"]
    assert _falls([r["loss"] for r in rows])
    assert rows[-1]["bpd_elbo"] == pytest.approx(rows[-1]["loss"] / (SUBSPACE_D * math.log(2)) + 8,
                                                 rel=FLOAT32_RTOL)


def test_autoencoder_without_gamma_trains_on_eq22_and_logs_its_terms(vectors, tmp_path):
    """A deterministic autoencoder (no log_gamma_var) trained on Eq. (22)'s L_{g,h}: one Adam group
    at lr, no gamma columns, the objective's per-sample and batch terms logged as batch means (so
    the logged loss is G_WEIGHT * recon + penalty of the same row), the hook sees them and z.grad,
    and the reconstruction term falls."""
    seen = []

    def hook(step, model, x, terms, z):
        seen.append((sorted(terms), tuple(terms["recon"].shape), tuple(terms["penalty"].shape)))
        return {"grad_z_norm": float(z.grad.norm(dim=1).mean() * x.shape[0])}

    seed_everything(0)
    train(VectorAE(), vectors, vector_config(iters=60), tmp_path / "run", objective=eq22_objective,
          hook=hook)
    rows = read_metrics(tmp_path / "run" / "metrics.csv")
    assert list(rows[0]) == ["step", "loss", "recon", "penalty", "time_s", "grad_z_norm"]
    assert seen[0] == (["penalty", "recon"], (32,), ())
    for row in rows:
        assert row["loss"] == pytest.approx(G_WEIGHT * row["recon"] + row["penalty"], rel=FLOAT32_RTOL)
    assert _falls([r["recon"] for r in rows])
    groups = load_checkpoint(tmp_path / "run" / "checkpoint.pt")["optimizer"]["param_groups"]
    assert [g["lr"] for g in groups] == [1e-2]


def test_fixed_gamma_vae_on_vectors_with_a_custom_objective_keeps_gamma_and_its_columns(vectors,
                                                                                        tmp_path):
    """A VAE whose gamma is FIXED (learn_gamma=False) under a custom per-sample objective (here Eq. 3
    itself, the braces, instead of the default's nats): gamma stays at exp(log_gamma_var_init), the
    rows hold the objective's terms and then the gamma columns."""
    def eq3_braces(model, x, eps):
        terms, z = eq3_pass(model, x, eps)
        return {"loss": terms["eq3"], "recon_sq": terms["recon_sq"], "z": z}

    model = VectorVAE()
    train(model, vectors, vector_config(iters=5, learn_gamma=False, log_gamma_var_init=math.log(0.1)),
          tmp_path / "run", objective=eq3_braces)
    rows = read_metrics(tmp_path / "run" / "metrics.csv")
    assert list(rows[0]) == ["step", "loss", "recon_sq", "log_gamma_var", "gamma_var", "gamma_std",
                             "time_s"]
    assert all(r["gamma_var"] == pytest.approx(0.1, rel=FLOAT32_RTOL) for r in rows)
    assert float(model.log_gamma_var) == pytest.approx(math.log(0.1), rel=FLOAT32_RTOL)


def test_objective_contract_violations_are_one_line_value_errors(vectors):
    """Rejected: a term that is neither (B,) nor 0-dim, a loss of another shape, and a model without
    log_gamma_var under the default objective (the negative ELBO needs gamma) or with a gamma floor."""
    config = vector_config(iters=2)
    bad_term = lambda model, x, eps: {**eq22_objective(model, x, eps), "rows": model.encoder(x)}
    bad_loss = lambda model, x, eps: {"loss": model.encoder(x).pow(2)}
    for objective, match in [(bad_term, "'rows' has shape"), (bad_loss, "'loss' has shape")]:
        with pytest.raises(ValueError, match=match):
            train(VectorAE(), vectors, config, objective=objective)
    with pytest.raises(ValueError, match="log_gamma_var"):
        train(VectorAE(), vectors, config)
    with pytest.raises(ValueError, match="log_gamma_var"):
        train(VectorAE(), vectors, vector_config(iters=2, gamma_var_floor=0.01), objective=eq22_objective)
    with pytest.raises(ValueError, match=r"\(N, \.\.\.\)"):
        train(VectorVAE(), vectors[:, 0], config)


@pytest.mark.parametrize("kind", ["vae", "autoencoder"])
def test_resume_of_a_vector_run_reproduces_the_uninterrupted_run(vectors, tmp_path, kind):
    """A vector run stopped by a crash at step 6 (last checkpoint at step 4) and resumed ends with
    bitwise the weights and the rows of an uninterrupted run: the VAE with the default objective
    (the noise stream is restored), the autoencoder with Eq. (22)'s objective."""
    build, objective = {"vae": (VectorVAE, None), "autoencoder": (VectorAE, eq22_objective)}[kind]
    config = vector_config(iters=RESUME_STEPS, ckpt_every=4)

    def crash(step, *args):
        if step == 6:
            raise _Crash

    seed_everything(0)
    reference = build()
    train(reference, vectors, config, tmp_path / "whole", objective=objective)
    seed_everything(0)
    with pytest.raises(_Crash):
        train(build(), vectors, config, tmp_path / "parts", objective=objective, hook=crash)
    seed_everything(123)  # the resumed run must not depend on the fresh process's RNG
    model = build()
    train(model, vectors, config, tmp_path / "parts", resume=True, objective=objective)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in reference.state_dict().items())
    strip = lambda rs: [{k: v for k, v in r.items() if k != "time_s"} for r in rs]
    assert strip(read_metrics(tmp_path / "parts" / "metrics.csv")) == \
        strip(read_metrics(tmp_path / "whole" / "metrics.csv"))


def test_the_gamma_range_ends_train_to_finite_rows(tmp_path):
    """LOG_GAMMA_VAR_RANGE's ends are runnable settings: with gamma = e^-60 and e^60 the float32 loss
    and its gamma columns stay finite (the range keeps a margin of e^17 below float32's e^88.7)."""
    images = torch.rand(32, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    for end in LOG_GAMMA_VAR_RANGE:
        seed_everything(0)
        train(OutlierVAE(kappa=2, channels=(4, 8, 8)), images,
              TrainConfig(iters=2, batch_size=8, log_every=1, progress=False, log_gamma_var_init=end,
                          device="cpu"),
              tmp_path / str(end))
        rows = read_metrics(tmp_path / str(end) / "metrics.csv")
        assert all(math.isfinite(v) for row in rows for v in row.values())
