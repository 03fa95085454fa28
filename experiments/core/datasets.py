"""FashionMNIST and MNIST for the experiments: Table 1's inliers and outliers (supplement section 7)
and the 64x64 FashionMNIST stand-in for CelebA (main-text Figure 4).

Files are read by our own IDX reader (experiments.core.idx); loaders return uint8
images (N, 28, 28) and uint8 labels (N,); `pad_to_32` is Glow's 32x32 padding.

Where the files are read from (first match wins; see README "Data"):
  1. the `data_dir` argument (the folder holding the four IDX files, or a parent holding a
     `fashion-mnist/` or `mnist/` subfolder, since both data sets use the same file names);
  2. the env var INFGRAD_FASHION_MNIST_DIR / INFGRAD_MNIST_DIR;
  3. FashionMNIST only: /usr/share/datasets/fashion-mnist (Debian package `dataset-fashion-mnist`);
  4. the cache ~/.cache/infgrad/<name> (INFGRAD_CACHE_DIR replaces ~/.cache/infgrad), into which
     missing files are downloaded when `download=True` and no folder was named in 1 or 2.
A named folder is never downloaded into: a typo in a path gives an error, not a silent 30 MB download.

Checksums. A download is accepted when the MD5 of the .gz equals the published one OR the SHA-256
of its decompressed bytes equals the one recorded below; the second works whatever the gzip wrapper
(Debian's FashionMNIST files, for one, drop the stored file name from the gzip header: each .gz is
shorter than the published one by exactly that name's length plus one, and its MD5 differs).
The decompressed SHA-256s were computed from the Debian FashionMNIST files and the MNIST test split
at hand (class counts 980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009 as in the official
split); tests/test_datasets.py re-checks them against those files. For the MNIST training split only
the published .gz MD5 is known.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from experiments.core.idx import GZIP_MAGIC, DataError, read_idx

DATASETS = ("fashion-mnist", "mnist")
SPLITS = ("train", "test")
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10

DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
_ENV_DIR = {"fashion-mnist": "INFGRAD_FASHION_MNIST_DIR", "mnist": "INFGRAD_MNIST_DIR"}
_ENV_CACHE = "INFGRAD_CACHE_DIR"

_MIRRORS = {
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
}


@dataclass(frozen=True)
class _Checksum:
    gz_md5: str  # published MD5 of the official .gz file
    raw_sha256: str | None  # SHA-256 of the decompressed IDX bytes (None where not known here)


# Published .gz MD5s: FashionMNIST's README table; MNIST's as used by torchvision's MNIST loader.
_CHECKSUMS = {
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": _Checksum(
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        "train-labels-idx1-ubyte.gz": _Checksum(
            "25c81989df183df01b3e8a0aad5dffbe",
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
        "t10k-images-idx3-ubyte.gz": _Checksum(
            "bef4ecab320f06d8554ea6380940ec79",
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        "t10k-labels-idx1-ubyte.gz": _Checksum(
            "bb300cfdad3c16e7a12a480ee83cd310",
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    },
    "mnist": {
        "train-images-idx3-ubyte.gz": _Checksum("f68b3c2dcbeaaa9fbdd348bbdeb94873", None),
        "train-labels-idx1-ubyte.gz": _Checksum("d53e105ee54ea40749a09fcbcd1e9432", None),
        "t10k-images-idx3-ubyte.gz": _Checksum(
            "9fb629c4189551a2d022fa330f9573f3",
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        "t10k-labels-idx1-ubyte.gz": _Checksum(
            "ec29112dd5afa0611ce80d1b7f02629c",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    },
}


def how_to_get(name: str, offer_download: bool = True) -> str:
    """One sentence telling a user how to obtain data set `name` ("fashion-mnist" or "mnist")."""
    _check_name(name)
    if name == "fashion-mnist":
        text = ("get FashionMNIST with `apt-get install dataset-fashion-mnist` (files land in "
                f"{DEBIAN_FASHION_MNIST_DIR}), or put the four official IDX files in a folder named by "
                "--data-dir / INFGRAD_FASHION_MNIST_DIR")
    else:
        text = ("put the official MNIST IDX files (e.g. t10k-images-idx3-ubyte.gz, "
                "t10k-labels-idx1-ubyte.gz) in a folder named by --mnist-dir / INFGRAD_MNIST_DIR")
    if offer_download:
        text += ", or load with download=True and no folder named to download them into the cache"
    return text


def _check_name(name: str) -> None:
    if name not in DATASETS:
        raise ValueError(f"name={name!r}: choose one of {list(DATASETS)}")


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split={split!r}: choose one of {list(SPLITS)}")


# --------------------------------------------------------------------------------------------
# Where the data lives
# --------------------------------------------------------------------------------------------

def cache_dir() -> Path:
    """Root of the download cache: $INFGRAD_CACHE_DIR, else ~/.cache/infgrad."""
    env = os.environ.get(_ENV_CACHE)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "infgrad"


def split_files(split: str) -> tuple[str, str]:
    """The official .gz file names (images, labels) of `split` ("train" or "test")."""
    _check_split(split)
    stem = "train" if split == "train" else "t10k"
    return f"{stem}-images-idx3-ubyte.gz", f"{stem}-labels-idx1-ubyte.gz"


def _find(folder: Path, gz_name: str) -> Path | None:
    """`folder/gz_name`, or the decompressed file without .gz, whichever exists (gz first)."""
    for candidate in (folder / gz_name, folder / gz_name[: -len(".gz")]):
        if candidate.is_file():
            return candidate
    return None


def _holds_all(folder: Path) -> bool:
    return all(_find(folder, f) is not None for split in SPLITS for f in split_files(split))


def default_data_dir(name: str) -> Path:
    """Folder data set `name` is read from when no `data_dir` is given.

    INFGRAD_FASHION_MNIST_DIR / INFGRAD_MNIST_DIR if set; else, for "fashion-mnist",
    /usr/share/datasets/fashion-mnist if it holds the four files; else the cache folder
    `cache_dir() / name` (which may not exist yet: the loaders download into it).
    """
    _check_name(name)
    env = os.environ.get(_ENV_DIR[name])
    if env:
        return Path(env).expanduser()
    if name == "fashion-mnist" and _holds_all(DEBIAN_FASHION_MNIST_DIR):
        return DEBIAN_FASHION_MNIST_DIR
    return cache_dir() / name


def _resolve_dir(name: str, data_dir: str | os.PathLike | None) -> tuple[Path, bool]:
    """(folder, named): `named` is True when the user chose the folder (argument or env var)."""
    if data_dir is None:
        named = bool(os.environ.get(_ENV_DIR[name]))
        return default_data_dir(name), named
    folder = Path(data_dir).expanduser()
    # A parent folder holding both data sets in subfolders (their file names coincide).
    holds_files = any(_find(folder, f) for split in SPLITS for f in split_files(split))
    if (folder / name).is_dir() and not holds_files:
        folder = folder / name
    return folder, True


# --------------------------------------------------------------------------------------------
# Download with checksum verification
# --------------------------------------------------------------------------------------------

def _fetch_url(url: str, destination) -> None:
    """Copy the body of `url` into the open binary file `destination` (the one network call).

    Tests replace this function; nothing in the test suite touches the network.
    """
    with urllib.request.urlopen(url, timeout=60) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1],
                  leave=False) as bar:
            while chunk := response.read(1 << 20):
                destination.write(chunk)
                bar.update(len(chunk))


def verify_checksum(name: str, gz_name: str, data: bytes) -> bool:
    """True when `data` (the bytes of file `gz_name` of data set `name`) is the official file:
    its MD5 is the published .gz MD5, or its decompressed SHA-256 is the recorded one."""
    _check_name(name)
    expected = _CHECKSUMS[name][gz_name]
    if hashlib.md5(data).hexdigest() == expected.gz_md5:
        return True
    if expected.raw_sha256 is None:
        return False
    try:
        raw = gzip.decompress(data) if data[:2] == GZIP_MAGIC else data
    except (EOFError, OSError, zlib.error):
        return False
    return hashlib.sha256(raw).hexdigest() == expected.raw_sha256


def download_split(name: str, split: str, folder: str | os.PathLike | None = None) -> Path:
    """Download the two files of `split` of data set `name` into `folder` (default: the cache).

    Each file goes to a temporary file in the same folder, is checked (`verify_checksum`) and
    only then renamed into place; a failed or interrupted download leaves nothing behind.
    Returns the folder. Raises DataError when every mirror fails.
    """
    _check_name(name)
    folder = Path(folder) if folder is not None else cache_dir() / name
    folder.mkdir(parents=True, exist_ok=True)
    for gz_name in split_files(split):
        if _find(folder, gz_name) is not None:
            continue
        failures = []
        for mirror in _MIRRORS[name]:
            url = mirror + gz_name
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{gz_name}.", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as handle:
                    _fetch_url(url, handle)
                if not verify_checksum(name, gz_name, Path(tmp).read_bytes()):
                    failures.append(f"{url}: checksum mismatch")
                    continue
                os.replace(tmp, folder / gz_name)
                break
            except OSError as error:  # urllib.error.URLError is an OSError
                reason = getattr(error, "reason", None) or error  # URLError wraps the socket's error
                failures.append(f"{url}: {getattr(reason, 'strerror', None) or reason}")
            finally:
                Path(tmp).unlink(missing_ok=True)
        else:
            raise DataError(f"{folder / gz_name}: download failed ({'; '.join(failures)}); "
                            f"{how_to_get(name, offer_download=False)}")
    return folder


# --------------------------------------------------------------------------------------------
# Loaders
# --------------------------------------------------------------------------------------------

def load_idx_pair(name: str, split: str, data_dir: str | os.PathLike | None = None,
                  download: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 (N, 28, 28) and labels uint8 (N,) of `split` of data set `name`.

    See the module docstring for where the files are looked for and when they are downloaded.
    Checks: images are uint8 of shape (N, 28, 28); labels are uint8 of shape (N,) with the same
    N and values in 0..9.
    """
    _check_name(name)
    _check_split(split)
    folder, named = _resolve_dir(name, data_dir)
    hint = how_to_get(name)
    names = split_files(split)
    paths = [_find(folder, f) for f in names]
    if None in paths:
        missing = names[paths.index(None)]
        if named or not download:
            where = "folder does not exist" if not folder.is_dir() else f"{missing} not found"
            raise DataError(f"{folder}: {where}; {hint}")
        download_split(name, split, folder)
        paths = [_find(folder, f) for f in names]

    images = read_idx(paths[0], hint=hint)
    labels = read_idx(paths[1], hint=hint)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise DataError(f"{paths[0]}: expected uint8 images of shape (N, 28, 28), found "
                        f"{images.dtype} {images.shape}; {hint}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataError(f"{paths[1]}: expected uint8 labels of shape (N,), found "
                        f"{labels.dtype} {labels.shape}; {hint}")
    if len(labels) != len(images):
        raise DataError(f"{paths[1]}: {len(labels)} labels for {len(images)} images in "
                        f"{paths[0].name}; {hint}")
    if len(labels) and labels.max() >= NUM_CLASSES:
        raise DataError(f"{paths[1]}: label {int(labels.max())} outside 0..{NUM_CLASSES - 1}; {hint}")
    return images, labels


def load_fashion_mnist(split: str, data_dir: str | os.PathLike | None = None,
                       download: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """FashionMNIST `split` ("train": 60,000, "test": 10,000): uint8 images (N, 28, 28), labels (N,)."""
    return load_idx_pair("fashion-mnist", split, data_dir, download)


def load_mnist(split: str, data_dir: str | os.PathLike | None = None,
               download: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """MNIST `split` ("train": 60,000, "test": 10,000): uint8 images (N, 28, 28), labels (N,)."""
    return load_idx_pair("mnist", split, data_dir, download)


# --------------------------------------------------------------------------------------------
# Preprocessing
# --------------------------------------------------------------------------------------------

def _check_images(images: np.ndarray) -> None:
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 3 \
            or images.shape[1:] != IMAGE_SHAPE:
        found = f"{images.dtype} {images.shape}" if isinstance(images, np.ndarray) else type(images).__name__
        raise ValueError(f"images: expected a uint8 numpy array of shape (N, 28, 28), found {found}")


def pad_to_32(images: np.ndarray):
    """Glow's preprocessing: uint8 (N, 28, 28) -> float32 torch tensor (N, 1, 32, 32) in [0, 1].

    Pixel values become x / 255 and the 28x28 image sits at [2:30, 2:30] with zeros around it.
    """
    _check_images(images)
    scaled = torch.from_numpy(images).to(torch.float32).div_(255.0)
    return F.pad(scaled, (2, 2, 2, 2)).unsqueeze(1).contiguous()


def resize_to_64(images: np.ndarray):
    """uint8 (N, 28, 28) -> float32 torch tensor (N, 1, 64, 64) in [0, 1], bilinear up-sampling.

    Zero-padded to 32x32 first (as `pad_to_32`), then doubled, so a 64x64 image is the 32x32 one
    at twice the resolution; bilinear interpolation of values in [0, 1] stays in [0, 1].
    """
    padded = pad_to_32(images)
    return F.interpolate(padded, size=(64, 64), mode="bilinear", align_corners=False)


def fashion_mnist_64(split: str, data_dir: str | os.PathLike | None = None, download: bool = True,
                     limit: int | None = None):
    """FashionMNIST at 64x64 for CPU stand-ins of the CelebA experiment (main-text Figure 4).

    Returns (images float32 torch tensor (N, 1, 64, 64) in [0, 1], labels uint8 numpy (N,)),
    N = min(limit, size of the split). Built with `resize_to_64`; a 3-channel network can use
    `images.expand(-1, 3, -1, -1)`.
    """
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit={limit!r}: expected a positive integer or None")
    images, labels = load_fashion_mnist(split, data_dir, download)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return resize_to_64(images), labels
