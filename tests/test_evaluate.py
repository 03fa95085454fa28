"""experiments/core/evaluate.py: per-image BPD (negative ELBO and IW bound), AUROC, summaries; the
histograms of experiments/outlier/report.py."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tests.experiments_support import needs_experiments

torch = needs_experiments()

from PIL import Image  # noqa: E402

from experiments.core.evaluate import auroc, per_image_bpd, summarize
from experiments.core.losses import nats_to_bpd, vae_forward
from experiments.core.models import set_log_gamma_var
from experiments.outlier.model import OutlierVAE
from experiments.outlier.report import plot_histograms
from infgrad.tolerances import FLOAT32_RTOL, ROUNDOFF_RTOL


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("inliers,outliers,expected", [
    ([1, 2, 3], [4, 5, 6], 1.0),       # every outlier above every inlier
    ([4, 5, 6], [1, 2, 3], 0.0),
    ([1, 2, 3], [1, 2, 3], 0.5),       # 3 ties of 9 pairs + 3 wins: (3 + 3/2) / 9
    ([1, 1], [1, 2], 0.75),            # pairs: tie, tie, win, win -> (2 + 1) / 4
])
def test_auroc_hand_counted_cases(inliers, outliers, expected):
    """AUROC = P(outlier score > inlier score) + P(tie) / 2, counted by hand."""
    assert auroc(inliers, outliers) == expected


def test_auroc_equals_the_pairwise_count_on_random_scores_with_ties():
    """The rank formula equals the O(n m) pairwise definition (scores rounded to force ties)."""
    rng = np.random.default_rng(0)
    inliers = np.round(rng.normal(0.0, 1.0, 40), 1)
    outliers = np.round(rng.normal(0.7, 1.0, 30), 1)
    pairs = outliers[:, None] - inliers[None, :]
    expected = (np.sum(pairs > 0) + 0.5 * np.sum(pairs == 0)) / pairs.size
    assert auroc(inliers, outliers) == pytest.approx(expected, rel=ROUNDOFF_RTOL)


def test_auroc_rejects_empty_and_nonfinite_scores():
    with pytest.raises(ValueError, match="at least one"):
        auroc([], [1.0])
    with pytest.raises(ValueError, match="finite"):
        auroc([1.0, math.nan], [1.0])


@pytest.fixture(scope="module")
def model_and_images():
    torch.manual_seed(0)
    model = OutlierVAE(kappa=4, channels=(8, 8, 8))
    set_log_gamma_var(model, -3.0)
    images = torch.rand(10, 1, 32, 32, generator=torch.Generator().manual_seed(1))
    return model, images


def test_per_image_elbo_bpd_is_the_negative_elbo_converted_with_d_ln2_plus_8(model_and_images):
    """evaluate's ELBO BPD = (-ELBO in nats) / (1024 ln 2) + 8 with the same seeded draw, in eval
    mode (batch-norm running statistics), batch by batch, and the model's mode is restored."""
    model, images = model_and_images
    model.train()
    bpd = per_image_bpd(model, images, iw_samples=2, batch_size=4, seed=5)
    assert model.training  # restored after evaluating in eval mode
    model.eval()
    generator = torch.Generator().manual_seed(5)
    expected = []
    with torch.no_grad():
        for start in range(0, 10, 4):
            x = images[start:start + 4]
            expected.append(vae_forward(model, x, generator)[0]["neg_elbo"])
            torch.randn((2,) + (x.shape[0], 4), generator=generator)  # the IW draws of this batch
    expected = torch.cat(expected).double() / (1024 * math.log(2.0)) + 8.0
    np.testing.assert_allclose(bpd["elbo"], expected.numpy(), rtol=FLOAT32_RTOL)
    assert bpd["elbo"].shape == bpd["iw"].shape == (10,)


def test_per_image_bpd_is_reproducible_and_iw_mean_below_elbo_mean(model_and_images):
    """Same seed, same numbers; the K = 8 IW bound is below the ELBO on average (Burda et al.)."""
    model, images = model_and_images
    first = per_image_bpd(model, images, iw_samples=8, seed=1)
    second = per_image_bpd(model, images, iw_samples=8, seed=1)
    np.testing.assert_array_equal(first["iw"], second["iw"])
    assert first["iw"].mean() < first["elbo"].mean()


def test_uint8_pixels_score_as_their_unit_float_images(model_and_images):
    """uint8 pixels v are scored as the float image v / 255 (train.as_unit_float), never as raw
    0..255 values: the BPD of both inputs agree to float32 round-off."""
    model, _ = model_and_images
    pixels = torch.randint(0, 256, (6, 1, 32, 32), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(3))
    as_uint8 = per_image_bpd(model, pixels, iw_samples=2, seed=4)
    as_float = per_image_bpd(model, pixels.float() / 255.0, iw_samples=2, seed=4)
    for kind in ("elbo", "iw"):
        np.testing.assert_allclose(as_uint8[kind], as_float[kind], rtol=FLOAT32_RTOL)


def test_nats_to_bpd_of_d_ln2_nats_is_nine_bits():
    """d ln 2 nats over d dimensions is 1 bit per dimension, plus the 8 bits of the 8-bit scale."""
    assert nats_to_bpd(1024 * math.log(2.0), 1024) == pytest.approx(9.0, rel=ROUNDOFF_RTOL)


def test_summarize_gives_the_mean_and_its_standard_error():
    values = np.array([1.0, 2.0, 3.0, 6.0])
    summary = summarize(values)
    assert summary["mean"] == 3.0 and summary["n"] == 4
    assert summary["sem"] == pytest.approx(np.std(values, ddof=1) / 2.0, rel=ROUNDOFF_RTOL)


def test_histogram_png_has_one_panel_per_kappa(tmp_path):
    """The figure is 4.2 inches wide per kappa at 90 dpi: 3 kappas -> 1134 pixels."""
    rng = np.random.default_rng(0)
    per_kappa = {k: {"FashionMNIST-Test": rng.normal(3, 0.3, 100), "MNIST-Test": rng.normal(5, 1, 100)}
                 for k in (16, 64, 256)}
    path = plot_histograms(per_kappa, tmp_path / "h.png")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] == round(3 * 4.2 * 90)
