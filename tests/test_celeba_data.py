"""Tests of experiments/celeba/data.py: the CelebA layout, image folders, the section-7 center crop,
and one-line errors for bad data. The tests make their own tiny CelebA-layout folder of JPEGs."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.experiments_support import needs_experiments

torch = needs_experiments()
from PIL import Image  # noqa: E402

from experiments.celeba import data as celeba_data  # noqa: E402
from experiments.celeba.data import (ImageSource, crop_and_resize, load_image,  # noqa: E402
                                     load_split, to_rgb8)
from experiments.core.idx import DataError  # noqa: E402

# file name -> partition code; deliberately NOT in directory order (train, valid, test interleaved)
PARTITION = {"000001.jpg": 2, "000002.jpg": 0, "000003.jpg": 1, "000004.jpg": 0, "000005.jpg": 2,
             "000006.jpg": 0, "000007.jpg": 0, "000008.jpg": 1, "000009.jpg": 0, "000010.jpg": 0}


def make_celeba_folder(root: Path, partition: dict[str, int] = PARTITION, seed: int = 0) -> Path:
    """A CelebA-layout folder: img_align_celeba/<name> as 178x218 RGB JPEGs (smooth random colour
    fields plus a bright disc, like a face on a background) and list_eval_partition.txt."""
    rng = np.random.default_rng(seed)
    image_dir = root / celeba_data.CELEBA_IMAGE_DIR
    image_dir.mkdir(parents=True)
    rows, cols = np.mgrid[0:218, 0:178]
    for name in partition:
        base = rng.uniform(0, 255, size=3)
        gradient = rng.uniform(-0.5, 0.5, size=3)
        pixels = base + gradient * (rows[..., None] - 109) + gradient[::-1] * (cols[..., None] - 89)
        disc = (rows - 109 - rng.integers(-10, 10)) ** 2 + (cols - 89) ** 2 < rng.integers(30, 60) ** 2
        pixels[disc] = rng.uniform(150, 255, size=3)
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(image_dir / name, quality=95)
    lines = [f"{name} {code}" for name, code in partition.items()]
    (root / celeba_data.CELEBA_PARTITION_FILE).write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture
def celeba_dir(tmp_path):
    return make_celeba_folder(tmp_path / "celeba")


def test_partitions_come_from_the_partition_file_not_directory_order(celeba_dir):
    """train / valid / test = the images with code 0 / 1 / 2 in list_eval_partition.txt."""
    for split, code in celeba_data.CELEBA_SPLIT_CODES.items():
        names = [p.name for p in celeba_data.celeba_files(celeba_dir, split)]
        assert names == [n for n, c in PARTITION.items() if c == code]


@pytest.mark.parametrize("size", [64, 128])
def test_celeba_split_loads_as_uint8_center_crops(celeba_dir, size):
    """Each image becomes a (3, size, size) uint8 crop; at 128 it equals the central window of the
    decoded JPEG (rows 45..172, cols 25..152 of 218x178), at 64 the 2x2 block means of that window."""
    images = load_split(ImageSource("celeba", celeba_dir), "test", size, progress=False)
    assert images.dtype == torch.uint8 and images.shape == (2, 3, size, size)
    decoded = np.asarray(Image.open(celeba_dir / "img_align_celeba" / "000001.jpg").convert("RGB"))
    window = decoded[45:173, 25:153].transpose(2, 0, 1).astype(np.float64)
    if size == 64:
        window = window.reshape(3, 64, 2, 64, 2).mean(axis=(2, 4))
    # rint of a 2x2 mean: at most half a grey level away
    assert np.max(np.abs(images[0].numpy() - window)) <= 0.5


def test_center_crop_offsets_and_box_downsampling_are_exact():
    """Pixel (r, c) of a 178x218 image with red = r and green = c: the 128 crop starts at (45, 25);
    the 64 image's pixel (i, j) is the mean of rows 45+2i, 46+2i, i.e. red = 45.5 + 2i rounded
    half to even (numpy's rint), likewise green = 25.5 + 2j."""
    rows, cols = np.mgrid[0:218, 0:178]
    rgb = np.stack([rows, cols, np.zeros_like(rows)], axis=-1).astype(np.uint8)
    crop128 = crop_and_resize(Image.fromarray(rgb), 128)
    assert crop128.shape == (3, 128, 128)
    assert crop128[0, 0, 0] == 45 and crop128[1, 0, 0] == 25
    assert crop128[0, 127, 0] == 172 and crop128[1, 0, 127] == 152
    crop64 = crop_and_resize(Image.fromarray(rgb), 64)
    np.testing.assert_array_equal(crop64[0, :, 0], np.rint(45.5 + 2 * np.arange(64)))
    np.testing.assert_array_equal(crop64[1, 0, :], np.rint(25.5 + 2 * np.arange(64)))


def test_image_folder_split_is_disjoint_fixed_and_complete(tmp_path):
    """--image-folder: any sizes and formats, largest central square resized to 128 (then 64);
    the fixed-seed 90/10 split covers every file once and does not depend on the listing."""
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(5)
    for k in range(12):
        w, h = (100, 60) if k % 2 else (300, 200)
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(
            folder / f"img{k:02d}.{'png' if k % 3 else 'jpg'}")
    (folder / "notes.txt").write_text("not an image")
    train = celeba_data.folder_files(folder, "train")
    test = celeba_data.folder_files(folder, "test")
    assert len(test) == 1 and len(train) == 11  # round(0.1 * 12) = 1
    assert sorted(train + test) == sorted(p for p in folder.iterdir() if p.suffix != ".txt")
    assert celeba_data.folder_files(folder, "test") == test
    images = load_split(ImageSource("folder", folder), "train", 64, progress=False)
    assert images.shape == (11, 3, 64, 64) and images.dtype == torch.uint8


def test_limit_keeps_the_first_images_of_the_split(celeba_dir):
    images = load_split(ImageSource("celeba", celeba_dir), "train", 64, limit=2, progress=False)
    full = load_split(ImageSource("celeba", celeba_dir), "train", 64, progress=False)
    assert images.shape[0] == 2 and torch.equal(images, full[:2])


def _one_line_data_error(call, match):
    with pytest.raises(DataError, match=match) as info:
        call()
    assert isinstance(info.value, ValueError) and "\n" not in str(info.value)


def test_missing_folders_and_files_are_one_line_errors(tmp_path, celeba_dir):
    _one_line_data_error(lambda: celeba_data.celeba_files(tmp_path / "nowhere", "train"), "not a folder")
    (tmp_path / "empty").mkdir()
    _one_line_data_error(lambda: celeba_data.celeba_files(tmp_path / "empty", "train"),
                         "img_align_celeba is missing")
    (celeba_dir / "list_eval_partition.txt").unlink()
    _one_line_data_error(lambda: celeba_data.celeba_files(celeba_dir, "train"), "partition file .* missing")
    _one_line_data_error(lambda: celeba_data.folder_files(tmp_path / "empty", "train"), "holds 0 image")


@pytest.mark.parametrize("content, match", [
    ("000001.jpg 0\n000002.jpg 7\n", "line 2"),
    ("000001.jpg\n", "line 1"),
    ("000001.jpg 0\n000001.jpg 1\n", "listed twice"),
    ("\n\n", "lists no images"),
    ("000001.jpg 0\n000099.jpg 0\n", "missing from"),
])
def test_malformed_partition_file_is_a_one_line_error(celeba_dir, content, match):
    (celeba_dir / "list_eval_partition.txt").write_text(content)
    _one_line_data_error(lambda: celeba_data.celeba_files(celeba_dir, "train"), match)


@pytest.mark.parametrize("corrupt", ["garbage", "truncated"])
def test_unreadable_image_is_a_one_line_error_naming_the_file(celeba_dir, corrupt):
    path = celeba_dir / "img_align_celeba" / "000002.jpg"  # the first train image
    data = path.read_bytes()
    path.write_bytes(b"not a jpeg at all" if corrupt == "garbage" else data[: len(data) // 2])
    _one_line_data_error(lambda: load_split(ImageSource("celeba", celeba_dir), "train", 64,
                                            progress=False), "unreadable image .*000002.jpg")


def test_image_smaller_than_the_crop_is_a_one_line_error(tmp_path):
    root = tmp_path / "small"
    (root / "img_align_celeba").mkdir(parents=True)
    Image.fromarray(np.zeros((100, 100, 3), dtype=np.uint8)).save(root / "img_align_celeba" / "a.jpg")
    (root / "list_eval_partition.txt").write_text("a.jpg 0\n")
    _one_line_data_error(lambda: load_split(ImageSource("celeba", root), "train", 64, progress=False),
                         "smaller than the 128x128")


def test_fashion_mnist_source_gives_64x64_single_channel_images():
    """The CPU stand-in: FashionMNIST test images at 64x64 in [0, 1] (datasets.fashion_mnist_64)."""
    images = load_split(ImageSource("fashion-mnist"), "test", 64, limit=5, progress=False)
    assert images.shape == (5, 1, 64, 64) and images.dtype == torch.float32
    assert 0.0 <= float(images.min()) and float(images.max()) <= 1.0
    with pytest.raises(ValueError, match="--size 128"):
        load_split(ImageSource("fashion-mnist"), "test", 128)


def test_16_bit_grayscale_png_is_scaled_to_8_bits_not_clipped_to_white(tmp_path):
    """A 16-bit grayscale PNG (pillow mode I;16) holding v in 0..65535 decodes to round(v / 257) in
    every channel: 65535 / 257 = 255 exactly, so the full 16-bit range maps onto the 8-bit one.
    pillow's convert("RGB") would clip every v > 255 to 255 (a mean pixel near 255)."""
    values = (np.arange(128 * 128, dtype=np.int64) * 4).reshape(128, 128).astype(np.uint16)  # 0..65532
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    with Image.open(path) as image:
        assert image.mode.startswith("I")  # what pillow makes of a 16-bit PNG
    pixels = load_image(path, 128, square_resize=True)  # 128x128: no resize, the values as decoded
    expected = np.rint(values / 257.0).astype(np.uint8)
    assert all(np.array_equal(pixels[c], expected) for c in range(3))
    assert abs(float(pixels.mean()) - float(values.mean()) / 257.0) < 0.5  # not ~255
    with pytest.raises(DataError, match="mode F"):
        to_rgb8(Image.new("F", (4, 4)))


def test_images_smaller_than_128_in_a_folder_are_upscaled_and_counted_in_one_line(tmp_path, capsys):
    """--image-folder: 3 of 5 images are 100x100 (upscaled to 128x128 with Lanczos), 2 are 160x160:
    the train split says how many of its images were upscaled, in one line."""
    folder = tmp_path / "folder"
    folder.mkdir()
    sides = {f"{i}.png": side for i, side in enumerate((100, 160, 100, 160, 100))}
    for i, (name, side) in enumerate(sides.items()):
        Image.fromarray(np.full((side, side, 3), 40 * i, dtype=np.uint8)).save(folder / name)
    files = celeba_data.folder_files(folder, "train")
    small = sum(sides[p.name] < 128 for p in files)
    assert small >= 2  # 4 of the 5 files are the train split
    images = load_split(ImageSource("folder", folder), "train", 64, progress=False)
    assert images.shape == (len(files), 3, 64, 64)
    lines = [line for line in capsys.readouterr().err.splitlines() if "upscaled" in line]
    assert lines == [f"[celeba] {small} of {len(files)} images in {folder} are smaller than 128x128: "
                     f"upscaled (Lanczos), so they carry less detail than their size"]

