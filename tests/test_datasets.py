"""experiments/core/datasets.py (and core/idx.py): the IDX reader, the FashionMNIST / MNIST loaders of Table 1, Glow's padding.

Real data: /usr/share/datasets/fashion-mnist (Debian `dataset-fashion-mnist`) and the MNIST test split
in INFGRAD_MNIST_DIR (default: ../shared/data/mnist beside the repository). Nothing here touches
the network: the one network call, `data._fetch_url`, is replaced in every download test.
"""
from __future__ import annotations

import gzip
import hashlib
import shutil
import socket
import urllib.error
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests.experiments_support import MNIST_DIR, needs_experiments
from infgrad.tolerances import EXACT

torch = needs_experiments()
from experiments.core import datasets as data  # noqa: E402  (after the skip: the loaders need torch)
from experiments.core import idx  # noqa: E402

FASHION_DIR = data.DEBIAN_FASHION_MNIST_DIR

needs_fashion = pytest.mark.skipif(
    not all((FASHION_DIR / f).is_file() for s in data.SPLITS for f in data.split_files(s)),
    reason=f"FashionMNIST not in {FASHION_DIR}: apt-get install -y dataset-fashion-mnist",
)
needs_mnist = pytest.mark.skipif(
    not all((MNIST_DIR / f).is_file() for f in data.split_files("test")),
    reason=f"MNIST test split not in {MNIST_DIR}: put t10k-*-ubyte.gz there or name a folder by "
           f"INFGRAD_MNIST_DIR",
)

# Class counts of the official MNIST test split (MNIST's documentation).
MNIST_TEST_CLASS_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path):
    """No test reads the user's env vars or cache, and no test can reach the network."""
    for var in ("INFGRAD_FASHION_MNIST_DIR", "INFGRAD_MNIST_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("INFGRAD_CACHE_DIR", str(tmp_path / "cache"))

    def no_network(url, destination):
        raise AssertionError(f"a test tried to download {url}")

    monkeypatch.setattr(data, "_fetch_url", no_network)


def assert_one_line_data_error(excinfo, *fragments):
    message = str(excinfo.value)
    assert "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, message


# --- the real files ----------------------------------------------------------------------------

@needs_fashion
@pytest.mark.parametrize("split, n", [("train", 60_000), ("test", 10_000)])
def test_fashion_mnist_has_the_official_shapes_and_balanced_classes(split, n):
    """FashionMNIST: 60,000 train / 10,000 test 28x28 uint8 images, 10 classes of equal size."""
    images, labels = data.load_fashion_mnist(split, download=False)
    assert images.shape == (n, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (n,) and labels.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == [n // 10] * 10
    assert images.max() == 255 and images.min() == 0  # full 8-bit range, not rescaled


@needs_mnist
def test_mnist_test_split_has_the_official_class_counts():
    """MNIST test split (Table 1's outliers): 10,000 images, the documented class counts."""
    images, labels = data.load_mnist("test", data_dir=MNIST_DIR, download=False)
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == MNIST_TEST_CLASS_COUNTS


@needs_fashion
@needs_mnist
def test_recorded_checksums_are_those_of_the_files_at_hand():
    """The decompressed SHA-256s that downloads are checked against are those of the local files.

    The local MNIST labels .gz also matches the published .gz MD5 byte for byte; the other local
    .gz files carry a different gzip header, so only their decompressed content can match.
    """
    for name, folder, splits in (("fashion-mnist", FASHION_DIR, data.SPLITS),
                                 ("mnist", MNIST_DIR, ("test",))):
        for split in splits:
            for gz_name in data.split_files(split):
                blob = (folder / gz_name).read_bytes()
                recorded = data._CHECKSUMS[name][gz_name]
                assert hashlib.sha256(gzip.decompress(blob)).hexdigest() == recorded.raw_sha256
                assert data.verify_checksum(name, gz_name, blob)
    labels_gz = (MNIST_DIR / "t10k-labels-idx1-ubyte.gz").read_bytes()
    assert hashlib.md5(labels_gz).hexdigest() == data._CHECKSUMS["mnist"]["t10k-labels-idx1-ubyte.gz"].gz_md5


@needs_mnist
def test_data_dir_may_be_a_parent_holding_both_data_sets(tmp_path):
    """FashionMNIST and MNIST share file names, so one --data-dir may hold mnist/ and fashion-mnist/."""
    shutil.copytree(MNIST_DIR, tmp_path / "mnist")
    images, _ = data.load_mnist("test", data_dir=tmp_path, download=False)
    assert images.shape == (10_000, 28, 28)


# --- the IDX format ----------------------------------------------------------------------------

IDX_DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


@st.composite
def arrays_idx_can_store(draw):
    """Arrays of an IDX dtype with 1 to 4 dimensions (sizes 0..5)."""
    dtype = draw(st.sampled_from(IDX_DTYPES))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5))
    elements = st.floats(-1e6, 1e6, width=np.dtype(dtype).itemsize * 8) \
        if np.issubdtype(dtype, np.floating) else None
    return draw(hnp.arrays(dtype, shape, elements=elements))


@given(arrays_idx_can_store())
def test_idx_bytes_round_trip(array):
    """parse_idx(encode_idx(a)) == a, same dtype and shape, for every IDX type code."""
    back = idx.parse_idx(idx.encode_idx(array))
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable


def test_arrays_idx_can_store_strategy_covers_every_dtype_and_empty_arrays():
    """The strategy above is not degenerate: it yields every IDX dtype, several ranks, empty arrays."""
    seen_dtypes, seen_ndims, seen_empty = set(), set(), False

    @given(arrays_idx_can_store())
    def collect(array):
        nonlocal seen_empty
        seen_dtypes.add(array.dtype)
        seen_ndims.add(array.ndim)
        seen_empty |= array.size == 0

    collect()
    assert seen_dtypes == {np.dtype(d) for d in IDX_DTYPES}
    assert len(seen_ndims) >= 3 and seen_empty


def test_idx_header_is_read_big_endian():
    """IDX stores sizes and items big-endian: 00 00 0C 01 | 00000002 | 00000102 FFFFFFFF -> [258, -1]."""
    blob = bytes.fromhex("00000c01" "00000002" "00000102" "ffffffff")
    np.testing.assert_array_equal(idx.parse_idx(blob), np.array([258, -1], dtype=np.int32))


@pytest.mark.parametrize("suffix", [".gz", ""])
@pytest.mark.parametrize("array", [
    np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28),  # images: uint8, 3D
    np.array([[1, -2, 70000], [0, 5, -70000]], dtype=np.int32),  # int32, 2D
    np.array([3, 1, 4, 1, 5, 9], dtype=np.uint8),  # labels: 1D
], ids=["uint8-3d", "int32-2d", "labels-1d"])
def test_idx_files_round_trip(tmp_path, array, suffix):
    """read_idx(write_idx(a)) == a, for gzip and raw files (gzip recognized by content)."""
    path = idx.write_idx(tmp_path / f"a-idx{array.ndim}-ubyte{suffix}", array)
    back = idx.read_idx(path)
    assert back.dtype == array.dtype
    np.testing.assert_array_equal(back, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")


def _corrupt(kind: str) -> bytes:
    good = idx.encode_idx(np.zeros((3, 28, 28), dtype=np.uint8))
    return {
        "truncated body": good[:-1],
        "truncated header": good[:9],
        "empty": b"",
        "wrong magic": b"\x08\x03" + good[2:],
        "unknown type code": good[:2] + b"\x07" + good[3:],
        "trailing bytes": good + b"\x00" * 5,
        "zero dimensions": b"\x00\x00\x08\x00",
        # sizes whose product overflows 64-bit integers must not wrap around to a small number
        "huge sizes": b"\x00\x00\x08\x04" + b"\xff" * 16 + good[20:],
    }[kind]


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("kind, fragment", [
    ("truncated body", "truncated IDX file"),
    ("truncated header", "truncated IDX header"),
    ("empty", "truncated IDX file"),
    ("wrong magic", "not an IDX file"),
    ("unknown type code", "unknown IDX type code 0x07"),
    ("trailing bytes", "5 unexpected trailing bytes"),
    ("zero dimensions", "0 dimensions"),
    ("huge sizes", "truncated IDX file"),
])
def test_corrupt_idx_file_is_a_one_line_data_error(tmp_path, kind, fragment, compress):
    """A malformed IDX file gives one line naming the file, the defect, and how to get the data."""
    blob = _corrupt(kind)
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(gzip.compress(blob) if compress else blob)
    with pytest.raises(data.DataError) as excinfo:
        idx.read_idx(path)
    assert_one_line_data_error(excinfo, str(path), fragment, "README")


def test_truncated_gzip_is_a_one_line_data_error(tmp_path):
    """A .gz cut short (an interrupted copy) is reported as corrupt gzip data, not a traceback."""
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx.encode_idx(np.zeros((3, 28, 28), np.uint8)))[:-10])
    with pytest.raises(data.DataError) as excinfo:
        idx.read_idx(path)
    assert_one_line_data_error(excinfo, str(path), "corrupt or truncated gzip")


# --- the loaders ---------------------------------------------------------------------------------

def _write_split(folder: Path, images, labels, split="test"):
    images_name, labels_name = data.split_files(split)
    idx.write_idx(folder / images_name, images)
    idx.write_idx(folder / labels_name, labels)


def test_loader_reads_raw_idx_files_too(tmp_path):
    """Decompressed files (names without .gz) are found and read like the .gz ones."""
    images = np.arange(4 * 28 * 28, dtype=np.uint8).reshape(4, 28, 28)
    labels = np.array([0, 9, 2, 3], np.uint8)
    idx.write_idx(tmp_path / "t10k-images-idx3-ubyte", images)
    idx.write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels)
    got_images, got_labels = data.load_mnist("test", data_dir=tmp_path)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


@pytest.mark.parametrize("images, labels, fragment", [
    (np.zeros((5, 28, 28), np.uint8), np.zeros(4, np.uint8), "4 labels for 5 images"),
    (np.zeros((5, 32, 32), np.uint8), np.zeros(5, np.uint8), "expected uint8 images of shape (N, 28, 28)"),
    (np.zeros((5, 28, 28), np.int32), np.zeros(5, np.uint8), "expected uint8 images"),
    (np.zeros((5, 28, 28), np.uint8), np.zeros((5, 1), np.uint8), "expected uint8 labels of shape (N,)"),
    (np.zeros((5, 28, 28), np.uint8), np.full(5, 10, np.uint8), "label 10 outside 0..9"),
], ids=["count-mismatch", "wrong-size", "wrong-dtype", "labels-2d", "label-range"])
def test_inconsistent_split_is_a_one_line_data_error(tmp_path, images, labels, fragment):
    """Images and labels must agree: uint8 (N, 28, 28) images, N uint8 labels in 0..9."""
    _write_split(tmp_path, images, labels)
    with pytest.raises(data.DataError) as excinfo:
        data.load_fashion_mnist("test", data_dir=tmp_path)
    assert_one_line_data_error(excinfo, fragment, "apt-get install dataset-fashion-mnist")


@pytest.mark.parametrize("loader, hint", [(data.load_fashion_mnist, "dataset-fashion-mnist"),
                                          (data.load_mnist, "INFGRAD_MNIST_DIR")])
def test_missing_folder_is_a_one_line_data_error_and_never_downloads(tmp_path, loader, hint):
    """A named folder that does not exist: one line saying so and how to get the data.

    download=True does not apply to a named folder (the autouse fixture fails any download)."""
    missing = tmp_path / "no-such-folder"
    with pytest.raises(data.DataError) as excinfo:
        loader("train", data_dir=missing, download=True)
    assert_one_line_data_error(excinfo, str(missing), "does not exist", hint)
    assert not missing.exists()


def test_env_var_names_the_folder(tmp_path, monkeypatch):
    """INFGRAD_MNIST_DIR is read when no data_dir is given."""
    _write_split(tmp_path, np.full((2, 28, 28), 7, np.uint8), np.array([1, 2], np.uint8))
    monkeypatch.setenv("INFGRAD_MNIST_DIR", str(tmp_path))
    assert data.default_data_dir("mnist") == tmp_path
    images, labels = data.load_mnist("test")
    assert images.shape == (2, 28, 28) and labels.tolist() == [1, 2]


def test_default_folder_is_the_cache_for_mnist(tmp_path):
    """Without env vars, MNIST is looked for in $INFGRAD_CACHE_DIR/mnist (set by the fixture)."""
    assert data.default_data_dir("mnist") == tmp_path / "cache" / "mnist"


@needs_fashion
def test_default_folder_is_the_debian_package_for_fashion_mnist():
    assert data.default_data_dir("fashion-mnist") == FASHION_DIR


def test_bad_arguments_are_value_errors_naming_the_argument():
    with pytest.raises(ValueError, match="split='valid'"):
        data.load_mnist("valid")
    with pytest.raises(ValueError, match="name='cifar'"):
        data.default_data_dir("cifar")


# --- download with checksum verification (offline: _fetch_url is replaced) ----------------------

def _serve(monkeypatch, files: dict[str, bytes], calls: list):
    def fake_fetch(url, destination):
        calls.append(url)
        destination.write(files[url.rsplit("/", 1)[-1]])

    monkeypatch.setattr(data, "_fetch_url", fake_fetch)


def test_download_with_a_wrong_checksum_is_rejected_and_leaves_nothing(tmp_path, monkeypatch):
    """Every mirror serves bytes that are not the official file: DataError, and no file remains."""
    fake = gzip.compress(idx.encode_idx(np.zeros((10_000, 28, 28), np.uint8)))
    labels = gzip.compress(idx.encode_idx(np.zeros(10_000, np.uint8)))
    calls = []
    _serve(monkeypatch, {"t10k-images-idx3-ubyte.gz": fake, "t10k-labels-idx1-ubyte.gz": labels}, calls)
    with pytest.raises(data.DataError) as excinfo:
        data.load_mnist("test", download=True)
    assert_one_line_data_error(excinfo, "checksum mismatch", "INFGRAD_MNIST_DIR")
    assert len(calls) == len(data._MIRRORS["mnist"])  # each mirror tried once, then given up
    cache = tmp_path / "cache" / "mnist"
    assert list(cache.iterdir()) == []  # no partial or rejected file left behind


@pytest.mark.parametrize("reason", ["Name or service not known",
                                    socket.gaierror(socket.EAI_NONAME, "Name or service not known")],
                         ids=["text", "socket-error"])
def test_failed_connection_leaves_nothing(tmp_path, monkeypatch, reason):
    """A connection that breaks mid-transfer: one-line DataError with the reason in words (a socket
    error's text without its "[Errno N]" prefix), no partial file."""
    def unreachable(url, destination):
        destination.write(b"partial")
        raise urllib.error.URLError(reason)

    monkeypatch.setattr(data, "_fetch_url", unreachable)
    with pytest.raises(data.DataError) as excinfo:
        data.download_split("fashion-mnist", "test")  # into the cache, as a load with no folder
    assert_one_line_data_error(excinfo, "download failed", "Name or service not known")
    assert "[Errno" not in str(excinfo.value)
    assert list((tmp_path / "cache" / "fashion-mnist").iterdir()) == []


@needs_mnist
def test_download_of_the_official_content_in_another_gzip_wrapper_is_accepted(tmp_path, monkeypatch):
    """The local MNIST images .gz has a non-official gzip header (its MD5 is not the published one)
    but the official content: the decompressed SHA-256 accepts it, and the loader then reads it."""
    files = {f: (MNIST_DIR / f).read_bytes() for f in data.split_files("test")}
    published = data._CHECKSUMS["mnist"]["t10k-images-idx3-ubyte.gz"].gz_md5
    assert hashlib.md5(files["t10k-images-idx3-ubyte.gz"]).hexdigest() != published
    calls = []
    _serve(monkeypatch, files, calls)
    images, labels = data.load_mnist("test", download=True)
    assert len(calls) == 2 and calls[0].startswith(data._MIRRORS["mnist"][0])
    assert np.bincount(labels, minlength=10).tolist() == MNIST_TEST_CLASS_COUNTS
    assert sorted(p.name for p in (tmp_path / "cache" / "mnist").iterdir()) == sorted(files)


def test_download_false_with_missing_files_is_a_data_error():
    with pytest.raises(data.DataError) as excinfo:
        data.load_mnist("test", download=False)
    assert_one_line_data_error(excinfo, "does not exist", "INFGRAD_MNIST_DIR")


# --- preprocessing -------------------------------------------------------------------------------

def test_pad_to_32_is_glows_zero_padding_of_x_over_255():
    """pad_to_32: float32 (N, 1, 32, 32); the image at [2:30, 2:30] equals x/255, zeros around it."""
    images = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    padded = data.pad_to_32(images)
    assert padded.shape == (3, 1, 32, 32) and padded.dtype == torch.float32
    # Both sides divide the same float32 values by 255 with IEEE rounding: equal bit for bit.
    expected = images.astype(np.float32) / np.float32(255)
    np.testing.assert_allclose(padded[:, 0, 2:30, 2:30].numpy(), expected, rtol=EXACT, atol=EXACT)
    border = padded.clone()
    border[:, :, 2:30, 2:30] = 0
    assert torch.count_nonzero(border) == 0
    assert padded.max() <= 1.0 and padded.min() >= 0.0


def test_pad_to_32_rejects_anything_but_uint8_28x28():
    with pytest.raises(ValueError, match="images: expected a uint8 numpy array of shape"):
        data.pad_to_32(np.zeros((2, 28, 28), np.float32))
    with pytest.raises(ValueError, match="images: expected"):
        data.pad_to_32(np.zeros((2, 32, 32), np.uint8))


def test_resize_to_64_doubles_the_padded_image():
    """Bilinear x2 (align_corners=False): output pixel i samples the 32x32 grid at (i + 0.5)/2 - 0.5,
    so for a white 28x28 image rows/cols 0..2 (source <= 0.75, the zero border) are exactly 0 and
    5..58 (source in [2.25, 28.75], inside the image) are exactly 1."""
    resized = data.resize_to_64(np.full((1, 28, 28), 255, np.uint8))
    assert resized.shape == (1, 1, 64, 64) and resized.dtype == torch.float32
    assert torch.all(resized[..., :3, :] == 0) and torch.all(resized[..., :, 61:] == 0)
    assert torch.all(resized[..., 5:59, 5:59] == 1)


@needs_fashion
def test_fashion_mnist_64_limits_and_keeps_the_range():
    images, labels = data.fashion_mnist_64("test", download=False, limit=8)
    assert images.shape == (8, 1, 64, 64) and labels.shape == (8,)
    assert 0.0 <= images.min() and images.max() <= 1.0
    with pytest.raises(ValueError, match="limit=0"):
        data.fashion_mnist_64("test", limit=0)
