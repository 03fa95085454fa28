"""The IDX file format of the FashionMNIST and MNIST files behind Table 1 (supplement section 6).

Our own reader and writer: gzip or raw bytes (told apart by the gzip magic, not the suffix); the
magic number, type code, dimensions and byte count are checked, and every failure is a one-line
DataError. `experiments.core.datasets` loads the data sets through this module.
"""
from __future__ import annotations

import gzip
import math
import os
import tempfile
import zlib
from pathlib import Path

import numpy as np

# IDX type codes (third magic byte) -> big-endian numpy dtype.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"


class DataError(ValueError):
    """Missing or corrupt data; the message is one line naming the file and how to get the data."""


def parse_idx(data: bytes, source: str = "<bytes>", hint: str = "") -> np.ndarray:
    """Decode the bytes of one (decompressed) IDX file into a native-endian numpy array.

    IDX layout: magic 0x00 0x00 <type code> <ndim>, then ndim big-endian uint32 sizes, then
    prod(sizes) big-endian items. Raises DataError on a bad magic number, an unknown type code,
    a truncated header or body, or bytes beyond the declared size.
    """
    suffix = f"; {hint}" if hint else ""
    if len(data) < 4:
        raise DataError(f"{source}: truncated IDX file ({len(data)} bytes, no header){suffix}")
    if data[0] != 0 or data[1] != 0:
        raise DataError(f"{source}: not an IDX file (magic number starts {data[:2].hex()}, "
                        f"expected 0000){suffix}")
    type_code, ndim = data[2], data[3]
    if type_code not in _IDX_DTYPES:
        raise DataError(f"{source}: unknown IDX type code 0x{type_code:02x} (expected one of "
                        f"{', '.join(f'0x{c:02x}' for c in _IDX_DTYPES)}){suffix}")
    if ndim == 0:
        raise DataError(f"{source}: IDX header declares 0 dimensions{suffix}")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DataError(f"{source}: truncated IDX header ({len(data)} of {header_size} bytes){suffix}")
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[type_code]
    expected = header_size + math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if len(data) < expected:
        raise DataError(f"{source}: truncated IDX file ({len(data)} of {expected} bytes for shape "
                        f"{shape}){suffix}")
    if len(data) > expected:
        raise DataError(f"{source}: {len(data) - expected} unexpected trailing bytes after the "
                        f"IDX data of shape {shape}{suffix}")
    array = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a writable native-endian copy


def _read_bytes(path: Path, hint: str) -> bytes:
    """The decompressed bytes of `path` (gzip detected by its magic bytes, not by the suffix)."""
    suffix = f"; {hint}" if hint else ""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found{suffix}") from None
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error.strerror or error}){suffix}") from None
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataError(f"{path}: corrupt or truncated gzip data ({message}){suffix}") from None


def read_idx(path: str | os.PathLike, hint: str = "") -> np.ndarray:
    """Read an IDX file (.gz or raw) into a numpy array, validating the format (see `parse_idx`).

    `hint` is appended to error messages (the loaders pass how to get the data set).
    """
    path = Path(path)
    hint = hint or "re-download the file or see the README section 'Data'"
    return parse_idx(_read_bytes(path, hint), source=str(path), hint=hint)


def encode_idx(array: np.ndarray) -> bytes:
    """The IDX bytes of `array` (uncompressed): the inverse of `parse_idx`."""
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in _IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise ValueError(f"array.dtype={array.dtype}: IDX stores only "
                         f"{sorted({str(d) for d in codes})}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"array.ndim={array.ndim}: IDX needs 1 to 255 dimensions")
    header = bytes([0, 0, codes[native], array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    return header + np.ascontiguousarray(array, dtype=_IDX_DTYPES[codes[native]]).tobytes()


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> Path:
    """Write `array` as an IDX file, gzip-compressed when `compress` (default: name ends in .gz).

    Used by the tests to make small files. Atomic: temporary file + rename.
    """
    path = Path(path)
    data = encode_idx(array)
    if compress if compress is not None else path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    _atomic_write(path, data)
    return path


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
