"""experiments/core/train.py under torchrun: 2 CPU processes (gloo) follow the loss trajectory of one
process with the same global batch (data-parallel gradient averaging is exact up to float32 sums)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.experiments_support import needs_experiments

torch = needs_experiments()
from torch import nn

from experiments.core.cli import override
from experiments.core.runs import read_metrics
from experiments.core.train import leave_distributed, seed_everything, setup_distributed, train
from experiments.outlier.presets import PRESETS
from infgrad.tolerances import DATA_PARALLEL_RTOL

ROOT = Path(__file__).resolve().parents[1]
STEPS = 8


pytestmark = pytest.mark.usefixtures("one_torch_thread")


class TinyMLPVAE(nn.Module):
    """A batch-norm-free VAE following models.VAEProtocol. Batch norm couples the samples of a
    batch, so with per-rank statistics (CPU has no SyncBatchNorm) two processes would differ from
    one by design; without it the per-sample loss makes the averaged gradient exactly the
    full-batch gradient, which is the claim under test."""

    def __init__(self, kappa: int = 3, d: int = 64, hidden: int = 16):
        super().__init__()
        self.kappa = kappa
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(d, hidden), nn.Tanh(),
                                     nn.Linear(hidden, 2 * kappa))
        self.decoder = nn.Sequential(nn.Linear(kappa, hidden), nn.Tanh(), nn.Linear(hidden, d))
        self.log_gamma_var = nn.Parameter(torch.tensor(0.0))

    def encode(self, x):
        mu_z, log_sigma_z = self.encoder(x).chunk(2, dim=1)
        return mu_z, log_sigma_z

    def decode(self, z):
        return self.decoder(z).view(z.shape[0], 1, 8, 8)


def tiny_images() -> torch.Tensor:
    return torch.rand(64, 1, 8, 8, generator=torch.Generator().manual_seed(7))


def tiny_config():
    return override(PRESETS["smoke"], iters=STEPS, batch_size=16, log_every=1, ckpt_every=STEPS)


def run_rank(run_dir: str) -> None:
    """What each torchrun process executes (also the single-process reference)."""
    setup_distributed("cpu")
    seed_everything(0)
    train(TinyMLPVAE(), tiny_images(), tiny_config(), run_dir)
    # Leave together (barrier, then destroy): a rank that tears gloo down while its peer still talks
    # aborts ("terminate called without an active exception", seen in about 1 run in 5 without it).
    leave_distributed()


CHILD = "import sys; from tests.test_distributed import run_rank; run_rank(sys.argv[1])"


def test_two_gloo_processes_follow_the_single_process_loss_trajectory(tmp_path):
    """Same global batch (16 = 2 x 8), same noise rows, same init: the per-step mean loss of 2
    data-parallel CPU processes equals one process's within DATA_PARALLEL_RTOL for 8 Adam steps."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    # Both ranks live on this host: gloo on the loopback interface, whatever the host name resolves to.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo"}
    completed = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--standalone",
         str(script), str(tmp_path / "ddp")], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120)
    assert completed.returncode == 0, completed.stderr[:3000]
    seed_everything(0)
    train(TinyMLPVAE(), tiny_images(), tiny_config(), tmp_path / "single")
    ddp = read_metrics(tmp_path / "ddp" / "metrics.csv")
    single = read_metrics(tmp_path / "single" / "metrics.csv")
    assert [r["step"] for r in ddp] == [r["step"] for r in single] == list(range(1, STEPS + 1))
    for key in ("loss", "eq3", "log_gamma_var"):
        np.testing.assert_allclose([r[key] for r in ddp], [r[key] for r in single],
                                   rtol=DATA_PARALLEL_RTOL, err_msg=key)
    # the trajectory moves, so agreement is not trivial
    assert single[-1]["loss"] < single[0]["loss"]
