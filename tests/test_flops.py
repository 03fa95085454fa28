"""experiments/core/flops.py: the FLOPs counted from the layer shapes on the meta device equal torch's
own FlopCounterMode count of a real forward pass and training step; the time estimate is FLOPs over
the rate of one timed step."""
from __future__ import annotations

import pytest

from tests.experiments_support import needs_experiments

torch = needs_experiments()
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from experiments.celeba.net import CelebaVAE  # noqa: E402
from experiments.core.flops import duration, step_seconds, time_estimate, vae_flops  # noqa: E402
from experiments.core.losses import vae_forward  # noqa: E402
from experiments.outlier.model import OutlierVAE  # noqa: E402
from infgrad.tolerances import EXACT  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")
BATCH = 4


@pytest.mark.parametrize("build, shape", [
    (lambda: OutlierVAE(kappa=16, channels=(8, 16, 32)), (1, 32, 32)),
    (lambda: OutlierVAE(kappa=512), (1, 32, 32)),
    (lambda: CelebaVAE(size=64, image_channels=3, kappa=64, width=1 / 16), (3, 64, 64)),
], ids=["outlier-narrow", "outlier-kappa512", "celeba-64"])
def test_counted_flops_equal_torchs_flop_counter_for_forward_and_training_step(build, shape):
    """FlopCounterMode counts every conv, transposed conv and matmul torch runs (forward; forward +
    backward): the same integers as the count from the layer shapes, so the rule 'training =
    3 x forward - the first layer' (no input gradient for the image) holds exactly."""
    counted = vae_flops(build, shape)
    torch.manual_seed(0)
    model = build().train()
    x = torch.rand(BATCH, *shape)
    with FlopCounterMode(display=False) as forward:
        with torch.no_grad():
            model.decode(model.encode(x)[0])
    with FlopCounterMode(display=False) as step:
        terms, _ = vae_forward(model, x)
        terms["neg_elbo"].mean().backward()
    assert forward.get_total_flops() // BATCH - counted.forward == EXACT
    assert step.get_total_flops() // BATCH - counted.train == EXACT


def test_outlier_vae_at_kappa_64_costs_the_benchmarked_108_mflop_forward():
    """benchmarks/RESULTS.md: 108.07 MFLOP forward, 323.39 MFLOP per training image at kappa = 64."""
    counted = vae_flops(lambda: OutlierVAE(kappa=64), (1, 32, 32))
    assert round(counted.forward / 1e4) == 10807 and round(counted.train / 1e4) == 32339


def test_time_estimate_is_the_flops_over_the_rate_of_one_timed_step():
    """2e12 FLOPs at 1e10 FLOP per 0.5 s step (20 GFLOP/s): 100 s."""
    text = time_estimate(2e12, step_flops=1e10, step_s=0.5)
    assert text == "2 TFLOP, about 2 min at the 20 GFLOP/s of one timed training step here"
    assert [duration(s) for s in (40, 720, 3.4 * 3600)] == ["40 s", "12 min", "3.4 h"]
    step_s = step_seconds(lambda: OutlierVAE(kappa=2, channels=(4, 4, 4)), (1, 32, 32), 4,
                          torch.device("cpu"))
    assert 0 < step_s < 60
