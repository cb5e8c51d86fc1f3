"""MNIST from its own idx files.

MNIST comes as four idx files (optionally gzipped): ``train-images-idx3-ubyte``,
``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``. An idx
file is a big-endian header (two zero bytes, a type code, the number of dimensions, one 32-bit
size per dimension) followed by the values. :func:`read_idx` reads one; :func:`find_mnist_files`
finds the four.
"""

import gzip
from pathlib import Path

import numpy as np

FILES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
         "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}
#: idx type code -> numpy dtype (big-endian)
IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


class InvalidIdxFile(ValueError):
    """A file that is not a valid idx file; the message says what is wrong."""


def read_idx(path: str | Path) -> np.ndarray:
    """The array stored in an idx file (gzipped when the name ends in ``.gz``)."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except gzip.BadGzipFile:
        raise InvalidIdxFile(f"{path.name} ends in .gz but is not gzipped; rename it without "
                             ".gz or download it again") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_TYPES:
        raise InvalidIdxFile(f"{path.name} is not an idx file (it does not start with two zero "
                             "bytes and a known type code); is it an MNIST file?")
    dtype, ndim = IDX_TYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise InvalidIdxFile(f"{path.name}: the header is cut short or has no dimensions")
    shape = tuple(int(v) for v in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        raise InvalidIdxFile(f"{path.name}: the header announces shape {shape} "
                             f"({expected} bytes) but the file has {len(data)} bytes; it is "
                             "truncated or damaged, download it again")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)


def find_mnist_files(directory: str | Path) -> dict[str, Path]:
    """The four idx files in ``directory`` (or its ``MNIST/raw``), gzipped or not."""
    directory = Path(directory)
    found = {}
    for key, stem in FILES.items():
        candidates = [folder / name for folder in (directory, directory / "MNIST" / "raw")
                      for name in (stem, stem + ".gz")]
        existing = [path for path in candidates if path.exists()]
        if not existing:
            raise FileNotFoundError(f"{stem}(.gz) is not in {directory}: give the folder with "
                                    "MNIST's four idx files")
        found[key] = existing[0]
    return found
