"""experiments/core/evaluate.py: per-image BPD (negative ELBO and IW bound), AUROC, summaries; the
histograms of experiments/outlier/report.py."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tests.experiments_support import needs_experiments

torch = needs_experiments()

from PIL import Image  # noqa: E402

from experiments.core.evaluate import (COMPRESSORS, auroc, auroc_se, compress, compressor_bpd, dequantize,
                                       per_image_bpd, pixel_values, summarize)
from experiments.core.losses import nats_to_bpd, vae_forward
from experiments.core.models import set_log_gamma_var
from experiments.outlier.model import OutlierVAE
from experiments.outlier.report import plot_histograms
from infgrad.tolerances import FLOAT32_RTOL, MC_SIGMAS, ROUNDOFF_RTOL


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


def test_a_single_image_scores_as_the_first_image_of_a_batch_of_one(model_and_images):
    """With batch_size = 1 the first image gets the generator's first draws whatever follows it, so
    scoring it alone gives the same ELBO and IW BPD exactly (N = 1 is a valid input)."""
    model, images = model_and_images
    alone = per_image_bpd(model, images[:1], iw_samples=2, seed=5)
    first = per_image_bpd(model, images[:3], iw_samples=2, batch_size=1, seed=5)
    for kind in ("elbo", "iw"):
        assert alone[kind].shape == (1,) and alone[kind][0] == first[kind][0]


def test_default_batches_of_256_images_and_seed_0():
    """The noise depends on how the images are batched: without batch_size and seed, 257 images are
    scored in batches of 256 and 1 with seed 0 (a one-batch run draws other noise for image 257)."""
    torch.manual_seed(0)
    tiny = OutlierVAE(kappa=2, channels=(2, 2, 2))
    set_log_gamma_var(tiny, -3.0)
    images = torch.rand(257, 1, 32, 32, generator=torch.Generator().manual_seed(2))
    default = per_image_bpd(tiny, images, iw_samples=1)
    explicit = per_image_bpd(tiny, images, iw_samples=1, batch_size=256, seed=0)
    one_batch = per_image_bpd(tiny, images, iw_samples=1, batch_size=257, seed=0)
    np.testing.assert_array_equal(default["elbo"], explicit["elbo"])
    assert default["elbo"][-1] != one_batch["elbo"][-1]


def test_no_images_is_a_value_error(model_and_images):
    model, images = model_and_images
    with pytest.raises(ValueError, match="nothing to evaluate"):
        per_image_bpd(model, images[:0], iw_samples=2)


def test_nats_to_bpd_of_d_ln2_nats_is_nine_bits():
    """d ln 2 nats over d dimensions is 1 bit per dimension, plus the 8 bits of the 8-bit scale."""
    assert nats_to_bpd(1024 * math.log(2.0), 1024) == pytest.approx(9.0, rel=ROUNDOFF_RTOL)


def test_summarize_gives_the_mean_and_its_standard_error():
    values = np.array([1.0, 2.0, 3.0, 6.0])
    summary = summarize(values)
    assert summary["mean"] == 3.0 and summary["n"] == 4
    assert summary["sem"] == pytest.approx(np.std(values, ddof=1) / 2.0, rel=ROUNDOFF_RTOL)


def test_summarize_one_image_has_no_standard_error_and_two_have_half_their_distance():
    """sem = std(ddof=1) / sqrt(n): undefined (NaN) for one image; |a - b| / 2 for two."""
    single = summarize(np.array([2.5]))
    assert single["mean"] == 2.5 and single["n"] == 1 and math.isnan(single["sem"])
    assert summarize(np.array([1.0, 4.0]))["sem"] == pytest.approx(1.5, rel=ROUNDOFF_RTOL)


def test_summarize_float32_scores_in_float64():
    """float32 BPD values are averaged in float64: the same numbers as float64 give the same mean and
    standard error to float64 round-off (a float32 mean of 1000 values is off by about 1e-7)."""
    values = np.random.default_rng(1).normal(3.0, 0.5, 1000).astype(np.float32)
    as_float32, as_float64 = summarize(values), summarize(values.astype(np.float64))
    assert as_float32["mean"] == pytest.approx(as_float64["mean"], rel=ROUNDOFF_RTOL)
    assert as_float32["sem"] == pytest.approx(as_float64["sem"], rel=ROUNDOFF_RTOL)


def test_histogram_png_has_one_panel_per_kappa(tmp_path):
    """The figure is 4.2 inches wide per kappa at 90 dpi: 3 kappas -> 1134 pixels."""
    rng = np.random.default_rng(0)
    per_kappa = {k: {"FashionMNIST-Test": rng.normal(3, 0.3, 100), "MNIST-Test": rng.normal(5, 1, 100)}
                 for k in (16, 64, 256)}
    path = plot_histograms(per_kappa, tmp_path / "h.png")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] == round(3 * 4.2 * 90)


# --- uniform dequantization ------------------------------------------------------------------
# A 1-D Gaussian density p = N(mu, s^2) on the scaled pixel x = v/255, with s about the bin width 1/256
# so that the density varies across the bin. Its exact 8-bit probability under our convention is
# P(v) = Phi((v/255 + 1/256 - mu)/s) - Phi((v/255 - mu)/s) (the box B_v = v/255 + [0, 1/256)).
LEVEL, SIGMA, MU = 100, 0.5 / 256, 100 / 255 + 0.3 / 256
DRAWS = 100_000


def _gaussian_density(x, mu=MU, sigma=SIGMA):
    return np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))


def _exact_bin_probability(v=LEVEL, mu=MU, sigma=SIGMA) -> float:
    from scipy.special import ndtr

    return float(ndtr((v / 255 + 1 / 256 - mu) / sigma) - ndtr((v / 255 - mu) / sigma))


def _bin_probability_z(dequantized: np.ndarray) -> float:
    """(Monte Carlo estimate of P(v) from dequantized draws - exact P(v)) / its standard error, where
    the estimate is the bin width 1/256 times the mean density at the draws (P = 256^-1 E_u p)."""
    density = _gaussian_density(np.asarray(dequantized, dtype=np.float64).ravel())
    estimate, se = density.mean() / 256, density.std(ddof=1) / np.sqrt(density.size) / 256
    return (estimate - _exact_bin_probability()) / se


def test_dequantized_density_averages_to_the_exact_8bit_bin_probability():
    """256^-1 E_u[p(v/255 + u/256)] = P(v) exactly (uniform u on the box): the seeded Monte Carlo mean
    of the density at `dequantize`'s draws matches the erf bin probability within MC_SIGMAS s.e."""
    draws = dequantize(np.full((DRAWS, 1), LEVEL, dtype=np.uint8), seed=0).numpy()
    assert abs(_bin_probability_z(draws)) < MC_SIGMAS


def test_a_centred_dequantization_of_width_1_over_255_fails_the_bin_probability_check():
    """Companion: v/255 + (u - 1/2)/255, another box than B_v, is told apart by the same check."""
    u = np.random.default_rng(0).random((DRAWS, 1))
    assert abs(_bin_probability_z(LEVEL / 255 + (u - 0.5) / 255)) > MC_SIGMAS


def test_dequantized_bpd_bounds_the_code_length_and_the_plain_density_value_does_not():
    """Jensen: E_u[-log2 p(x~)] + 8 >= -log2 P(v) >= 0 (one pixel, d = 1). Without dequantization a
    density peaked on the pixel beats every code: mu = v/255, s = 1e-4 gives -log2 p(v/255) + 8 =
    8 - log2(1 / (sqrt(2 pi) 1e-4)) = -3.96 bits, below zero."""
    draws = dequantize(np.full((DRAWS, 1), LEVEL, dtype=np.uint8), seed=1).numpy().astype(np.float64).ravel()
    bits = -np.log2(_gaussian_density(draws)) + 8
    code_length = -np.log2(_exact_bin_probability())
    assert bits.mean() + MC_SIGMAS * bits.std(ddof=1) / np.sqrt(bits.size) > code_length > 0
    peaked = -np.log2(_gaussian_density(LEVEL / 255, mu=LEVEL / 255, sigma=1e-4)) + 8
    assert peaked == pytest.approx(8 - np.log2(1 / (np.sqrt(2 * np.pi) * 1e-4)), rel=ROUNDOFF_RTOL)
    assert peaked < 0 <= code_length


def test_dequantized_pixels_stay_inside_their_own_disjoint_bin_for_every_level():
    """For all 256 levels and 200 draws each: v/255 <= x~ < v/255 + 1/256 < (v + 1)/255 (float32 values
    compared in float64); uint8 v and float v/255 inputs give the same draws with the same seed."""
    levels = np.repeat(np.arange(256, dtype=np.uint8), 200).reshape(-1, 1)
    draws = dequantize(levels, seed=2).numpy().astype(np.float64)
    low = levels.astype(np.float64) / 255
    assert np.all(draws >= low.astype(np.float32)) and np.all(draws < low + 1 / 256)
    assert np.all(draws < (levels.astype(np.float64) + 1) / 255)
    same = dequantize(torch.from_numpy(levels.astype(np.float32) / 255), seed=2).numpy()
    np.testing.assert_array_equal(same, draws.astype(np.float32))


def test_pixel_values_recover_v_and_reject_images_that_are_not_8bit():
    levels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    np.testing.assert_array_equal(pixel_values(levels.astype(np.float32) / 255), levels)
    with pytest.raises(ValueError, match="not 8-bit pixels"):
        pixel_values(np.array([[0.5 / 255]], dtype=np.float32))


# --- lossless compressors (input complexity, Serra et al. 2020) --------------------------------
def _constant_and_noise(side: int = 32):
    constant = np.zeros((1, side, side), dtype=np.uint8)
    noise = np.random.default_rng(0).integers(0, 256, (1, side, side), dtype=np.uint8)
    return constant, noise


@pytest.mark.parametrize("codec", ["png", "zlib"])
def test_compressor_bits_are_the_exact_length_of_a_code_that_decodes_to_the_image(codec):
    """bits per dimension * d / 8 is the whole byte length of the PNG file / zlib stream, which
    decodes back to the image (lossless: the length is a code length)."""
    import io
    import zlib

    _, noise = _constant_and_noise()
    code = compress(noise[0], codec)
    assert compressor_bpd(noise, codec)[0] * 32 * 32 / 8 == len(code)
    decoded = np.asarray(Image.open(io.BytesIO(code))) if codec == "png" else \
        np.frombuffer(zlib.decompress(code), dtype=np.uint8).reshape(32, 32)
    np.testing.assert_array_equal(decoded, noise[0])


def _complexity_check(bpd_function) -> None:
    """Noise: uniform random bytes cannot be coded in fewer than 1024 - k bytes with probability above
    2^(-8k) (there are fewer than 2^(8(1024 - k)) shorter codes), so >= 7.9 bits/dim (k = 13) fails a
    correct compressor with probability 2^-104. Constant zeros: zlib = 2-byte header + one literal and
    4 matches of at most 258 bytes (under 4 bytes each) + 4-byte Adler-32 < 32 bytes, i.e. < 0.25
    bits/dim; PNG adds 57 bytes of fixed framing (8 signature, 25 IHDR, 12 IDAT header + CRC, 12 IEND)
    to a zlib stream of 32 rows of 33 zero bytes (< 32 bytes): < 8 * 89 / 1024 = 0.695 bits/dim."""
    constant, noise = _constant_and_noise()
    assert bpd_function(noise, "zlib")[0] >= 7.9 and bpd_function(noise, "png")[0] >= 7.9
    assert bpd_function(constant, "zlib")[0] < 0.25
    assert bpd_function(constant, "png")[0] < 8 * 89 / 1024


def test_a_constant_image_compresses_to_far_fewer_bits_than_noise():
    _complexity_check(compressor_bpd)


def test_counting_bytes_instead_of_bits_fails_the_complexity_check():
    """Companion: a compressor score in bytes per dimension (a factor 8 short) is rejected."""
    with pytest.raises(AssertionError):
        _complexity_check(lambda images, codec: compressor_bpd(images, codec) / 8)


def test_input_complexity_score_flags_the_simple_images_when_bpd_is_equal():
    """S(x) = BPD - compressor bits: at equal model BPD the simpler images score higher (Serra et al.'s
    correction: a likelihood that favours simple images is discounted by their complexity)."""
    rng = np.random.default_rng(1)
    simple = np.zeros((5, 1, 32, 32), dtype=np.uint8)
    simple[:, :, 8:24, 8:24] = 255
    busy = rng.integers(0, 256, (5, 1, 32, 32), dtype=np.uint8)
    bpd = np.full(5, 4.0)
    assert auroc(bpd - compressor_bpd(busy), bpd - compressor_bpd(simple)) == 1.0
    # float v/255 input is compressed as its pixels v: the same bytes
    assert compressor_bpd(simple.astype(np.float32) / 255).tolist() == compressor_bpd(simple).tolist()


# --- the standard error of an AUROC -----------------------------------------------------------
def _auroc_spread(n_in: int = 30, n_out: int = 20, rate: float = 0.5, repeats: int = 2000):
    """AUROCs of `repeats` seeded samples: inliers ~ Exp(1), outliers ~ Exp(rate) (mean 1/rate), whose
    population AUROC is P(X_out > X_in) = integral e^(-rate x) e^(-x) dx = 1 / (1 + rate)."""
    rng = np.random.default_rng(7)
    areas = [auroc(rng.exponential(1.0, n_in), rng.exponential(1.0 / rate, n_out)) for _ in range(repeats)]
    return np.array(areas), 1.0 / (1.0 + rate)


def test_auroc_standard_error_matches_the_spread_of_repeated_exponential_samples():
    """For exponential scores Hanley and McNeil's Q1, Q2 are exact, so their s.e. is the standard deviation
    of the Mann-Whitney AUROC: compared with the spread of 2,000 seeded replicates (the sample std has a
    relative s.e. of about 1/sqrt(2 * 2000) = 1.6%), within MC_SIGMAS of that."""
    areas, population = _auroc_spread()
    expected = auroc_se(population, 30, 20)
    relative_se_of_std = 1.0 / np.sqrt(2 * areas.size)
    assert abs(areas.std(ddof=1) / expected - 1.0) < MC_SIGMAS * relative_se_of_std
    assert abs(areas.mean() - population) < MC_SIGMAS * expected / np.sqrt(areas.size)


def test_a_binomial_auroc_standard_error_fails_the_spread_check():
    """Companion: sqrt(A (1 - A) / (n_in n_out)), which treats the n_in n_out pairs as independent, is far
    too small and is rejected by the same comparison."""
    areas, population = _auroc_spread()
    naive = np.sqrt(population * (1 - population) / (30 * 20))
    assert abs(areas.std(ddof=1) / naive - 1.0) > MC_SIGMAS / np.sqrt(2 * areas.size)


def _exponential_pair_probabilities(rate: float) -> tuple[float, float, float]:
    """Inliers X ~ Exp(1), outliers Y ~ Exp(rate), integrated directly (not via Hanley and McNeil's Q
    formulas): A = P(Y > X) = 1 / (1 + rate); Q1 = P(Y1 > X, Y2 > X) = int e^-x e^(-2 rate x) dx =
    1 / (1 + 2 rate); Q2 = P(Y > X1, Y > X2) = int rate e^(-rate y) (1 - e^-y)^2 dy =
    1 - 2 rate / (1 + rate) + rate / (2 + rate)."""
    return 1.0 / (1.0 + rate), 1.0 / (1.0 + 2.0 * rate), 1.0 - 2.0 * rate / (1.0 + rate) + rate / (2.0 + rate)


@pytest.mark.parametrize("rate", [0.25, 1.0, 3.0])
def test_auroc_standard_error_is_exact_with_one_inlier_or_one_outlier(rate):
    """Hanley-McNeil s.e. on cases whose variance is derived by hand. One inlier and one outlier: the
    AUROC is the Bernoulli indicator 1[Y > X], variance A (1 - A). One outlier, n inliers: the mean of n
    indicators 1[Y > X_i] that share Y, variance [A (1 - A) + (n - 1)(Q2 - A^2)] / n; one inlier and n
    outliers, the same with Q1 (pairs sharing X). With exponential scores Q1, Q2 are integrated directly,
    so this checks the (n - 1) weights and which Q goes with which count; float64 round-off."""
    area, q1, q2 = _exponential_pair_probabilities(rate)
    np.testing.assert_allclose(auroc_se(area, 1, 1), math.sqrt(area * (1 - area)), rtol=ROUNDOFF_RTOL)
    n = 4
    np.testing.assert_allclose(auroc_se(area, n, 1), math.sqrt((area * (1 - area) + (n - 1) * (q2 - area**2)) / n),
                               rtol=ROUNDOFF_RTOL)
    np.testing.assert_allclose(auroc_se(area, 1, n), math.sqrt((area * (1 - area) + (n - 1) * (q1 - area**2)) / n),
                               rtol=ROUNDOFF_RTOL)


def test_swapped_counts_fail_the_one_outlier_standard_error():
    """Companion: the s.e. with n_inliers and n_outliers swapped (Q1 paired with the inlier count) differs
    from the one-outlier variance by far more than round-off when Q1 != Q2 (rate != 1)."""
    area, q1, q2 = _exponential_pair_probabilities(3.0)
    exact = math.sqrt((area * (1 - area) + 3 * (q2 - area**2)) / 4)
    assert abs(auroc_se(area, 1, 4) / exact - 1.0) > 1e3 * ROUNDOFF_RTOL


def test_compressor_bits_per_pixel_count_every_pixel_of_a_non_square_image():
    """compressor_bpd = 8 * len(code) / d with d = H * W (here 8 x 40 = 320, not 40 * 40 or 8 * 8), for
    (N, H, W) and (N, 1, H, W) alike; a single-row image (N, 1, W) is an (N, H=1, W) grey image; exact in
    float64 (a byte count times 8 over an integer)."""
    rng = np.random.default_rng(3)
    images = rng.integers(0, 4, (2, 8, 40), dtype=np.uint8) * 60
    for codec in COMPRESSORS:
        expected = [8.0 * len(compress(image, codec)) / 320 for image in images]
        assert compressor_bpd(images, codec).tolist() == expected
        assert compressor_bpd(images[:, None], codec).tolist() == expected
        rows = images[:, :1]  # (2, 1, 40): height 1
        assert compressor_bpd(rows, codec).tolist() == [8.0 * len(compress(r, codec)) / 40 for r in rows]


def test_colour_images_are_refused_by_the_grey_compressor():
    """(N, 3, H, W) is not a grey image: a ValueError, not a code of the first channel alone."""
    with pytest.raises(ValueError, match="grey images"):
        compressor_bpd(np.zeros((1, 3, 8, 8), dtype=np.uint8))


def _idat_stream(png: bytes) -> bytes:
    """The zlib stream of a PNG file: the data of its IDAT chunks (length, type, data, CRC each)."""
    stream, at = b"", 8  # after the 8-byte signature
    while at < len(png):
        length = int.from_bytes(png[at:at + 4], "big")
        if png[at + 4:at + 8] == b"IDAT":
            stream += png[at + 8:at + 8 + length]
        at += 12 + length
    return stream


def test_both_codes_are_zlib_streams_at_maximum_compression():
    """The documented level 9: a zlib stream's header (RFC 1950) records it in FLEVEL, the top two bits
    of its second byte, 3 = "maximum compression" for levels 7-9 (2 is the default level 6). The zlib
    code and the PNG file's IDAT data both start 0x78 (deflate, 32 KiB window) with FLEVEL 3; exact."""
    image = (np.random.default_rng(34).integers(0, 2, (32, 32)) * 255).astype(np.uint8)
    assert _at_maximum_compression(compress(image, "zlib"))
    assert _at_maximum_compression(_idat_stream(compress(image, "png")))


def _at_maximum_compression(stream: bytes) -> bool:
    return stream[0] == 0x78 and stream[1] >> 6 == 3


def test_a_default_level_zlib_stream_fails_the_maximum_compression_check():
    """Companion: zlib.compress at its default level writes FLEVEL 2, which the check above rejects."""
    import zlib

    image = (np.random.default_rng(34).integers(0, 2, (32, 32)) * 255).astype(np.uint8)
    assert not _at_maximum_compression(zlib.compress(image.tobytes()))
