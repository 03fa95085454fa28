"""Images for the CelebA experiment of main-text Figure 4 (network and data of supplement section 7).

Every source is turned into one tensor (N, C, H, W) with H = W = size in {64, 128} (uint8 for
decoded files, divided by 255 per batch; float32 in [0, 1] for FashionMNIST). Three sources:

* the standard CelebA layout (``img_align_celeba/*.jpg`` plus ``list_eval_partition.txt``); the
  train / valid / test split is read from the partition file (0 / 1 / 2), never from directory order;
* any folder of images (``--image-folder``): a fixed-seed 90 / 10 split of the sorted file names;
* FashionMNIST at 64x64, for demonstrations on a CPU.

Crop (the supplement says only "resized to 128x128 via center cropping"): an aligned CelebA image is
178 wide and 218 high; we cut the central 128x128 window (rows 45..172, columns 25..152) WITHOUT
rescaling, so faces keep their native scale, and the 64x64 images are that window averaged over
2x2 pixel blocks (an exact factor-2 box filter, no interpolation). Images of an ``--image-folder``
(any size) are cropped to their largest central square, resized to 128x128 with Lanczos
resampling (upscaled when smaller: one line counts them), then box-averaged the same way for
64x64. Images are decoded with pillow (no torchvision); 16-bit grayscale PNGs are scaled to 8 bits.
FashionMNIST comes from experiments.core.datasets.fashion_mnist_64 (28x28 zero-padded to 32x32, then
bilinear up-sampling to 64x64, float32 in [0, 1]).
Every failure (missing folder, unreadable image, no images, malformed partition file) is one
``DataError`` line.
"""
from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from experiments.core.datasets import fashion_mnist_64
from experiments.core.idx import DataError

CELEBA_IMAGE_DIR = "img_align_celeba"
CELEBA_PARTITION_FILE = "list_eval_partition.txt"
CELEBA_SPLIT_CODES = {"train": 0, "valid": 1, "test": 2}  # the second column of the partition file
CROP_SIZE = 128  # side of the central window cut from every image (supplement section 7)
SIZES = (64, 128)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
FOLDER_TEST_FRACTION = 0.1  # --image-folder: share of the sorted files held out as "test"
FOLDER_SPLIT_SEED = 0  # --image-folder: fixed, so every run holds out the same files
CELEBA_HOW_TO_GET = (
    "download img_align_celeba.zip and list_eval_partition.txt from the CelebA page "
    "(mmlab.ie.cuhk.edu.hk/projects/CelebA.html) and unpack both into one folder"
)


@dataclass(frozen=True)
class ImageSource:
    """Where the images come from: ``kind`` in {"celeba", "folder", "fashion-mnist"}; ``path`` is
    the CelebA root, the image folder, or the FashionMNIST IDX folder (None: the default of
    experiments.core.datasets)."""

    kind: str
    path: Path | None = None

    def describe(self) -> str:
        return f"{self.kind} ({self.path})" if self.path is not None else self.kind


# --- file lists ---------------------------------------------------------------------------------


def read_partition_file(path: Path) -> dict[str, int]:
    """Parse ``list_eval_partition.txt``: one ``<file name> <0|1|2>`` pair a line (blank lines
    allowed). Returns {file name: split code}; a malformed line raises DataError naming it."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"CelebA partition file {path} is missing: {CELEBA_HOW_TO_GET}")
    partition: dict[str, int] = {}
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read CelebA partition file {path}: {err}") from None
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
            raise DataError(
                f"malformed CelebA partition file {path}, line {number}: expected "
                f"'<image name> <0|1|2>', got {line.strip()[:60]!r}"
            )
        if fields[0] in partition:
            raise DataError(f"malformed CelebA partition file {path}, line {number}: "
                            f"{fields[0]} is listed twice")
        partition[fields[0]] = int(fields[1])
    if not partition:
        raise DataError(f"CelebA partition file {path} lists no images: {CELEBA_HOW_TO_GET}")
    return partition


def celeba_files(data_dir: Path, split: str) -> list[Path]:
    """The image paths of one CelebA split ("train", "valid", "test") in partition-file order.

    Every image the partition file names for that split must exist: a partial download is an
    error, not a silently smaller data set."""
    if split not in CELEBA_SPLIT_CODES:
        raise ValueError(f"split={split!r}: choose one of {sorted(CELEBA_SPLIT_CODES)}")
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"--data-dir {data_dir} is not a folder: {CELEBA_HOW_TO_GET}")
    image_dir = data_dir / CELEBA_IMAGE_DIR
    if not image_dir.is_dir():
        raise DataError(f"{image_dir} is missing (expected the CelebA layout "
                        f"{CELEBA_IMAGE_DIR}/*.jpg + {CELEBA_PARTITION_FILE}): {CELEBA_HOW_TO_GET}")
    partition = read_partition_file(data_dir / CELEBA_PARTITION_FILE)
    code = CELEBA_SPLIT_CODES[split]
    names = [name for name, c in partition.items() if c == code]
    if not names:
        raise DataError(f"{data_dir / CELEBA_PARTITION_FILE} assigns no image to split {split!r}")
    missing = [name for name in names if not (image_dir / name).is_file()]
    if missing:
        raise DataError(f"{len(missing)} image(s) of split {split!r} listed in "
                        f"{CELEBA_PARTITION_FILE} are missing from {image_dir}, e.g. {missing[0]}")
    return [image_dir / name for name in names]


def folder_files(folder: Path, split: str) -> list[Path]:
    """The image paths of an arbitrary folder (not recursive): split "train" or "test" is a
    fixed-seed permutation of the sorted names, the last ``FOLDER_TEST_FRACTION`` held out."""
    if split not in ("train", "test"):
        raise ValueError(f"split={split!r}: an --image-folder has only 'train' and 'test'")
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"--image-folder {folder} is not a folder")
    files = sorted(p for p in folder.iterdir()
                   if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if len(files) < 2:
        raise DataError(f"--image-folder {folder} holds {len(files)} image(s) "
                        f"({'/'.join(IMAGE_EXTENSIONS)}); at least 2 are needed (train + test)")
    order = np.random.default_rng(FOLDER_SPLIT_SEED).permutation(len(files))
    n_test = max(1, int(round(FOLDER_TEST_FRACTION * len(files))))
    chosen = order[len(files) - n_test:] if split == "test" else order[: len(files) - n_test]
    return [files[i] for i in sorted(chosen)]


# --- decoding and cropping ----------------------------------------------------------------------


def crop_and_resize(image, size: int, square_resize: bool = False) -> np.ndarray:
    """A pillow RGB image -> uint8 array (3, size, size) by the rule of the module docstring.

    ``square_resize=False`` (CelebA layout): the central 128x128 window, no rescaling (rows
    45..172, cols 25..152 of a 218x178 aligned image); an image smaller than 128 on a side is a
    DataError. ``square_resize=True`` (image folders): the largest central square, resized to
    128x128 (Lanczos). Then, for size 64, the mean over 2x2 pixel blocks."""
    if size not in SIZES:
        raise ValueError(f"size={size}: choose one of {SIZES}")
    width, height = image.size
    side = min(width, height) if square_resize else CROP_SIZE
    if side > min(width, height):
        raise DataError(f"image of {width}x{height} pixels is smaller than the {CROP_SIZE}x{CROP_SIZE} "
                        f"central crop of the CelebA layout")
    left, top = (width - side) // 2, (height - side) // 2
    image = image.crop((left, top, left + side, top + side))
    if side != CROP_SIZE:
        image = image.resize((CROP_SIZE, CROP_SIZE), Image.Resampling.LANCZOS)
    pixels = np.asarray(image, dtype=np.uint8).transpose(2, 0, 1)  # (3, 128, 128)
    if size == CROP_SIZE:
        return np.ascontiguousarray(pixels)
    blocks = pixels.reshape(3, size, 2, size, 2).astype(np.float32)
    return np.rint(blocks.mean(axis=(2, 4))).astype(np.uint8)


def to_rgb8(image) -> Image.Image:
    """A decoded pillow image as 8-bit RGB. 16-bit grayscale (modes I;16, I;16B, I;16L, and I, which
    pillow uses for 16-bit PNGs) is scaled by 255 / 65535 (v -> round(v / 257)): pillow's own
    convert("RGB") clips every value above 255, turning a 16-bit image almost white. 16-bit RGB
    decodes to 8-bit RGB already; other modes (palette, grayscale, alpha) convert as pillow does."""
    if image.mode.startswith("I;16") or image.mode == "I":
        values = np.asarray(image).astype(np.float64)
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise DataError(f"{image.mode} image with values outside 0..65535: not a 16-bit image")
        return Image.fromarray(np.rint(values / 257.0).astype(np.uint8), mode="L").convert("RGB")
    if image.mode == "F":
        raise DataError("floating-point image (mode F): convert it to 8 or 16 bits first")
    return image.convert("RGB")


def _decode(path: Path, size: int, square_resize: bool) -> tuple[np.ndarray, bool]:
    """`load_image`, and whether the image was smaller than CROP_SIZE and got upscaled."""
    try:
        with Image.open(path) as image:
            image.load()
            rgb = to_rgb8(image)
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DataError(f"unreadable image {path}: {reason}") from None
    except DataError as err:
        raise DataError(f"{path}: {err}") from None
    try:
        return crop_and_resize(rgb, size, square_resize), square_resize and min(rgb.size) < CROP_SIZE
    except DataError as err:
        raise DataError(f"{path}: {err}") from None


def load_image(path: Path, size: int, square_resize: bool = False) -> np.ndarray:
    """Decode one image file with pillow (16-bit grayscale scaled to 8 bits, see ``to_rgb8``) and
    crop it (see ``crop_and_resize``): uint8 (3, size, size). An unreadable, truncated or too small
    file is a one-line DataError."""
    return _decode(path, size, square_resize)[0]


def load_images(paths: list[Path], size: int, square_resize: bool = False, progress: bool = True,
                threads: int | None = None):
    """Decode ``paths`` into one uint8 torch tensor (N, 3, size, size), in the order given.

    Memory: N * 3 * size^2 bytes (the CelebA train split, 162,770 images: 8.0 GB at 128, 2.0 GB
    at 64). Pillow releases the GIL while decoding, so a thread pool uses every core. Images that
    had to be upscaled (smaller than CROP_SIZE, ``square_resize``) are counted in one stderr line."""
    if not paths:
        raise DataError("no images to load")
    out = np.empty((len(paths), 3, size, size), dtype=np.uint8)
    threads = threads or min(8, os.cpu_count() or 1)
    upscaled = 0
    with ThreadPoolExecutor(max_workers=threads) as pool:
        decoded = pool.map(lambda p: _decode(p, size, square_resize), paths)
        for i, (pixels, small) in enumerate(tqdm(decoded, total=len(paths), desc=f"decode {size}x{size}",
                                                 unit="img", disable=not progress, leave=False)):
            out[i] = pixels
            upscaled += small
    if upscaled:
        print(f"[celeba] {upscaled} of {len(paths)} images in {Path(paths[0]).parent} are smaller than "
              f"{CROP_SIZE}x{CROP_SIZE}: upscaled (Lanczos), so they carry less detail than their size",
              file=sys.stderr)
    return torch.from_numpy(out)


# --- one entry point ----------------------------------------------------------------------------


def load_split(source: ImageSource, split: str, size: int, limit: int | None = None,
               progress: bool = True):
    """One split of ``source`` as a tensor (N, C, size, size): uint8 with C = 3 for CelebA and image
    folders (divide by 255 for [0, 1]); float32 in [0, 1] with C = 1 for FashionMNIST
    (experiments.core.datasets.fashion_mnist_64: zero-padded to 32x32, then bilinear up-sampling to
    64x64). ``split`` is "train" or "test" ("valid" too for CelebA). ``limit`` keeps the first
    ``limit`` images of the split (in partition-file / sorted order)."""
    if size not in SIZES:
        raise ValueError(f"--size {size}: choose one of {SIZES}")
    if limit is not None and limit < 1:
        raise ValueError(f"limit={limit}: must be a positive number of images")
    if source.kind == "fashion-mnist":
        if size != 64:
            raise ValueError("--size 128 with --fashion-mnist: FashionMNIST is offered at 64x64 only")
        return fashion_mnist_64(split, source.path, limit=limit)[0]
    if source.kind == "celeba":
        paths = celeba_files(source.path, split)
    elif source.kind == "folder":
        paths = folder_files(source.path, split)
    else:
        raise ValueError(f"source kind {source.kind!r}: choose celeba, folder or fashion-mnist")
    return load_images(paths[:limit] if limit is not None else paths, size,
                       square_resize=source.kind == "folder", progress=progress)
