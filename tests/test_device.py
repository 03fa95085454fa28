"""experiments/core/device.py: device "auto", bfloat16 autocast against float32 within a bound derived
from bf16's 8-bit significand, the training set staged on the device once, and the memory check
that refuses a model too large before it is built."""
from __future__ import annotations

import math

import pytest

from tests.experiments_support import needs_experiments

torch = needs_experiments()
from experiments.core import device as device_module  # noqa: E402
from experiments.core.cli import override  # noqa: E402
from experiments.core.device import check_model_fits, place_data, resolve_device, torch_threads  # noqa: E402
from experiments.core.losses import eq3_pass  # noqa: E402
from experiments.core.models import set_log_gamma_var  # noqa: E402
from experiments.core.runs import read_metrics  # noqa: E402
from experiments.core.train import TrainConfig, batch_indices, seed_everything, train  # noqa: E402
from experiments.outlier.model import OutlierVAE  # noqa: E402
from infgrad.tolerances import BF16_LAYERS, BF16_UNIT_ROUNDOFF  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")
CPU = torch.device("cpu")


def test_auto_is_cuda_exactly_when_torch_sees_one_and_is_the_default():
    assert TrainConfig().device == "auto"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="device must be one of auto, cpu, cuda"):
        override(TrainConfig(), device="tpu")
    with pytest.raises(ValueError, match="precision must be one of float32, bf16"):
        override(TrainConfig(), precision="float16")


def _bf16_bound(model, x, eps, log_gamma_var: float) -> torch.Tensor:
    """Per sample, the first-order bound on |bf16 loss - float32 loss| (infgrad/tolerances.py: BF16_*):
    0.5 (2 L u ||mu_x|| ||x - mu_x|| / gamma + 2 L u kl_term), from the float32 pass."""
    with torch.no_grad():
        mu_z, log_sigma_z = model.encode(x)
        mu_x = model.decode(mu_z + torch.exp(log_sigma_z) * eps).flatten(1).double()
        terms, _ = eq3_pass(model, x, eps)
    two_lu = 2 * BF16_LAYERS * BF16_UNIT_ROUNDOFF
    recon = two_lu * mu_x.norm(dim=1) * (x.flatten(1).double() - mu_x).norm(dim=1)
    return 0.5 * (recon / math.exp(log_gamma_var) + two_lu * terms["kl_term"].double())


@pytest.mark.parametrize("log_gamma_var", [0.0, -4.0])
def test_bf16_negative_elbo_agrees_with_float32_within_the_first_order_bound(log_gamma_var):
    """The per-sample negative ELBO (Eq. 3 / 2 + constants) under bf16 autocast against float32 with
    the same weights, batch and noise: within 0.5 (2 L u ||mu_x|| ||x - mu_x|| / gamma + 2 L u KL),
    L = 8 rounded layers, u = 2^-8 (derivation: infgrad/tolerances.py). And bf16 did run: the two
    differ, which a precision setting that changed nothing would not."""
    torch.manual_seed(0)
    model = OutlierVAE(kappa=16, channels=(16, 32, 32)).eval()
    set_log_gamma_var(model, log_gamma_var)
    x = torch.rand(32, 1, 32, 32, generator=torch.Generator().manual_seed(1))
    eps = torch.randn(32, 16, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        loss32 = eq3_pass(model, x, eps)[0]["neg_elbo"].double()
        with device_module.autocast(CPU, "bf16"):
            loss16 = eq3_pass(model, x, eps)[0]["neg_elbo"].double()
    bound = _bf16_bound(model, x, eps, log_gamma_var)
    assert torch.all((loss16 - loss32).abs() <= bound)
    assert not torch.equal(loss16, loss32)


def test_bf16_training_logs_finite_rows_and_its_first_loss_within_the_bound(tmp_path):
    """precision="bf16" through the trainer: the first logged loss (same weights and batch as the
    float32 run) within the batch mean of the per-sample bound; every row finite."""
    images = torch.rand(64, 1, 32, 32, generator=torch.Generator().manual_seed(3))
    rows = {}
    for precision in ("float32", "bf16"):
        seed_everything(0)
        config = TrainConfig(iters=3, batch_size=16, log_every=1, progress=False, device="cpu",
                             precision=precision)
        train(OutlierVAE(kappa=4, channels=(8, 16, 16)), images, config, tmp_path / precision)
        rows[precision] = read_metrics(tmp_path / precision / "metrics.csv")
    assert all(math.isfinite(v) for row in rows["bf16"] for v in row.values())
    seed_everything(0)  # the first step's weights, batch (seeded permutation) and noise, rebuilt
    model = OutlierVAE(kappa=4, channels=(8, 16, 16)).train()
    index = batch_indices(0, 64, 16, seed=0)
    eps = torch.randn(16, 4, generator=torch.Generator().manual_seed(1))
    bound = float(_bf16_bound(model, images[index], eps, 0.0).mean())
    assert abs(rows["bf16"][0]["loss"] - rows["float32"][0]["loss"]) <= bound


def test_training_data_stays_on_the_cpu_and_moves_once_where_it_fits():
    """On the CPU the data is used in place; on another device (here torch's meta device) it moves
    when it takes at most half the free memory, and stays on the CPU otherwise."""
    data = torch.zeros(10, 1, 4, 4, dtype=torch.uint8)  # 160 bytes
    assert place_data(data, CPU) is data
    meta = torch.device("meta")
    assert place_data(data, meta, free_bytes=320).device == meta
    assert place_data(data, meta, free_bytes=319) is data


def test_a_model_too_large_for_the_memory_is_refused_before_it_is_built(monkeypatch):
    """The parameter count comes from the meta device (nothing allocated) and equals the real
    model's; four float32 copies of it (weights, gradients, Adam's two moments) must fit."""
    build = lambda: OutlierVAE(kappa=16, channels=(8, 16, 16))  # noqa: E731
    n = sum(p.numel() for p in build().parameters())
    monkeypatch.setattr(device_module, "available_memory", lambda device: 16 * n)
    assert check_model_fits(build, CPU, "--kappa 16") == n
    monkeypatch.setattr(device_module, "available_memory", lambda device: 16 * n - 1)
    with pytest.raises(ValueError, match=r"^--kappa 16: the model has .* parameters"):
        check_model_fits(build, CPU, "--kappa 16")



def test_thread_count_applies_inside_the_block_and_is_given_back_even_after_an_error():
    """--threads N: torch computes with N threads during the run; the caller's count returns after
    it, also when the run raises; None leaves the count alone; N < 1 is a one-line error."""
    before = torch.get_num_threads()
    other = 1 if before != 1 else 2
    with pytest.raises(RuntimeError, match="inside"):
        with torch_threads(other):
            assert torch.get_num_threads() == other
            raise RuntimeError("inside")
    assert torch.get_num_threads() == before
    with torch_threads(None):
        assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match=r"^--threads must be >= 1, got 0$"):
        with torch_threads(0):
            pass
    assert torch.get_num_threads() == before
