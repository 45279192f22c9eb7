"""MNIST, Fashion-MNIST and CIFAR-10/100 from a local folder, in their published file formats.

The files are read here directly (IDX for the MNIST family, the "python version" batches for
CIFAR), so a folder copied from anywhere works, with or without torchvision's sub-folders.
torchvision downloads them when the person asks for it and is online. CIFAR batches are pickles:
they are read with an unpickler that can build nothing but numpy arrays, never run code.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import pickle
from pathlib import Path

import numpy as np
import torch

from .base import CLASSIFICATION, DataError, DataSet, standardize
from .file_guard import MAX_ARCHIVE_BYTES, MAX_DECOMPRESSED_BYTES, read_limited

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                   "Bag", "Ankle boot"]
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
_MNIST_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                "val": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
_TORCHVISION_CLASS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "cifar10": "CIFAR10",
                      "cifar100": "CIFAR100"}


def _download(name: str, root: Path) -> None:
    import torchvision.datasets as tvd
    cls = getattr(tvd, _TORCHVISION_CLASS[name])
    try:
        for train in (True, False):
            cls(str(root), train=train, download=True)
    except Exception as err:   # offline, a proxy, a full disk: say which and where
        raise DataError(f"{name}: downloading into {root} failed: {err}") from None


def _local_root(name: str, root: str, download: bool) -> Path:
    """The data set's folder, downloaded into first when asked."""
    root_path = Path(root).expanduser()
    if download:
        _download(name, root_path)
    elif not root_path.is_dir():
        raise DataError(f"{name}: the folder {root_path} does not exist")
    return root_path


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (optionally gzipped): magic, dimensions, then unsigned bytes. A gzipped file
    is inflated only as far as its header promises (and one byte more, to tell a file that holds
    more): a small file that inflates to gigabytes stops there."""
    raw = read_limited(path, "data set file", MAX_ARCHIVE_BYTES)
    stream = gzip.GzipFile(fileobj=io.BytesIO(raw)) if path.suffix == ".gz" else io.BytesIO(raw)
    try:
        head = stream.read(4)
        if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] != 0x08:
            raise DataError(f"{path}: not an IDX file of unsigned bytes (bad magic number)")
        sizes = stream.read(4 * head[3])
        dims = [int.from_bytes(sizes[4 * i: 4 * i + 4], "big") for i in range(len(sizes) // 4)]
        count = math.prod(dims)
        if count > MAX_DECOMPRESSED_BYTES:
            raise DataError(f"{path}: its header promises {'x'.join(map(str, dims))} values, more than the "
                            f"{MAX_DECOMPRESSED_BYTES:,} a data set's file may hold")
        body = stream.read(count + 1)
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise DataError(f"{path}: cannot be read: {err}") from None
    if len(dims) != head[3] or len(body) != count:
        found = f"{len(body)}" if len(body) <= count else "more"
        raise DataError(f"{path}: holds {found} values but its header promises "
                        f"{'x'.join(map(str, dims))}; the file is truncated or damaged")
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def _find(root: Path, folder: str, name: str) -> Path:
    for base in (root, root / folder / "raw", root / folder):
        for candidate in (base / name, base / (name + ".gz")):
            if candidate.exists():
                return candidate
    raise DataError(f"{name} was not found in {root} (nor in {root / folder / 'raw'}); "
                    f"download the data set there or ask for download=true")


def mnist_family(name: str, root: str, download: bool = False, limit: int = 0, normalize: bool = True,
                 crop_padding: int = 0, flip: bool = False) -> DataSet:
    root_path = _local_root(name, root, download)
    folder = _TORCHVISION_CLASS[name]
    parts = {}
    for part, (images_file, labels_file) in _MNIST_FILES.items():
        images = read_idx(_find(root_path, folder, images_file))
        labels = read_idx(_find(root_path, folder, labels_file))
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataError(f"{name}: {images_file} holds {len(images)} images but {labels_file} "
                            f"{len(labels)} labels")
        parts[part] = (torch.from_numpy(images.copy()).unsqueeze(1).float() / 255.0,
                       torch.from_numpy(labels.astype(np.int64)))
    classes = FASHION_CLASSES if name == "fashion_mnist" else [str(d) for d in range(10)]
    return _finish(name, parts, classes, limit, normalize, crop_padding, flip)


class _ArraysOnly(pickle.Unpickler):
    """Unpickles CIFAR batches: dicts, lists, bytes, numbers and numpy arrays, nothing else."""
    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
                ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def read_cifar_batch(path: Path) -> dict:
    batch = _read_arrays(path)
    if b"data" not in batch:
        raise DataError(f"{path}: not a CIFAR batch file (no data inside)")
    return batch


def _read_arrays(path: Path) -> dict:
    if not os.path.lexists(path):
        raise DataError(f"{path} was not found; download the data set there or ask for download=true")
    raw = read_limited(path, "data set file", MAX_ARCHIVE_BYTES)
    try:
        batch = _ArraysOnly(io.BytesIO(raw), encoding="bytes").load()
    except Exception as err:
        raise DataError(f"{path}: not a CIFAR batch file ({err})") from None
    if not isinstance(batch, dict):
        raise DataError(f"{path}: not a CIFAR file (it holds no dictionary)")
    return batch


def cifar(name: str, root: str, download: bool = False, limit: int = 0, normalize: bool = True,
          crop_padding: int = 0, flip: bool = False) -> DataSet:
    root_path = _local_root(name, root, download)
    hundred = name == "cifar100"
    folder = "cifar-100-python" if hundred else "cifar-10-batches-py"
    base = root_path / folder if (root_path / folder).is_dir() else root_path
    files = {"train": ["train"] if hundred else [f"data_batch_{i}" for i in range(1, 6)],
             "val": ["test"] if hundred else ["test_batch"]}
    label_key = b"fine_labels" if hundred else b"labels"
    parts = {}
    for part, names in files.items():
        xs, ys = [], []
        for file_name in names:
            batch = read_cifar_batch(base / file_name)
            data = np.asarray(batch[b"data"], dtype=np.uint8)
            labels = np.asarray(batch.get(label_key, []), dtype=np.int64)
            if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
                raise DataError(f"{base / file_name}: expected N x 3072 pixels and N labels, found "
                                f"{'x'.join(map(str, data.shape))} pixels and {len(labels)} labels")
            xs.append(data.reshape(-1, 3, 32, 32))
            ys.append(labels)
        parts[part] = (torch.from_numpy(np.concatenate(xs)).float() / 255.0,
                       torch.from_numpy(np.concatenate(ys)))
    if hundred:
        meta = base / "meta"
        classes = ([n.decode() for n in _read_arrays(meta).get(b"fine_label_names", [])]
                   if meta.exists() else [])
        classes = classes or [str(i) for i in range(100)]
    else:
        classes = CIFAR10_CLASSES
    return _finish(name, parts, classes, limit, normalize, crop_padding, flip)


def _finish(name, parts, classes, limit, normalize, crop_padding, flip) -> DataSet:
    (x_train, y_train), (x_val, y_val) = parts["train"], parts["val"]
    if limit:
        x_train, y_train = x_train[:limit], y_train[:limit]
        x_val, y_val = x_val[:max(1, limit // 5)], y_val[:max(1, limit // 5)]
    extra = {"crop_padding": crop_padding, "flip": flip}
    if normalize:
        x_train, x_val = standardize(x_train, x_val, extra)
    bad = int(max(y_train.max(), y_val.max())) if len(y_train) else 0
    if bad >= len(classes):
        raise DataError(f"{name}: label {bad} is outside the {len(classes)} classes")
    return DataSet(name, x_train, y_train, x_val, y_val, CLASSIFICATION, list(classes), kind="image", extra=extra)
