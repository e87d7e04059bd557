"""Datasets as pattern matrices: real images with an offline path, and random patterns.

Every loader returns a :class:`Dataset` whose ``x`` is a float32 tensor ``[n, d]``
with values in [0, 1] (images flattened row-major, height × width × channels)
and whose ``y`` holds int64 labels ``[n]``.

Where files are looked for, in order:

1. the ``root`` argument;
2. the folder named by the environment variable ``$HOPNB_DATA``;
3. the user cache, ``$XDG_CACHE_HOME/hopnb`` (default ``~/.cache/hopnb``).

Each dataset has its own sub-folder (``mnist/``, ``cifar10/``, ``tinyimagenet/``)
and is read in its official distribution format; the CIFAR-10 and Tiny ImageNet
subsets distributed with the project as ``.npz`` are read too. Only when nothing is
found is the official archive downloaded into the cache, checksum-verified and
written atomically. Set ``HOPNB_OFFLINE=1`` (or pass ``download=False``) to never
touch the network: a missing dataset then raises an error that says which files
to put where.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .runtime import generator_device

__all__ = ["Dataset", "load", "random_patterns", "search_path", "NAMES"]

NAMES = ("digits", "mnist", "cifar10", "tinyimagenet")

_CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


@dataclass
class Dataset:
    """Patterns as rows, with labels.

    ``x`` is float32 ``[n, d]`` in [0, 1]; ``y`` int64 ``[n]``; ``shape`` the image
    shape that ``x[i].reshape(shape)`` restores; ``classes`` the label names;
    ``source`` the file that was read. ``x, y = dataset`` unpacks the two tensors.
    """

    name: str
    x: torch.Tensor
    y: torch.Tensor
    shape: tuple[int, ...]
    classes: tuple[str, ...]
    source: str

    def __iter__(self):
        return iter((self.x, self.y))

    def __len__(self) -> int:
        return self.x.shape[0]

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, x={tuple(self.x.shape)} float32 in [0, 1], "
                f"y={tuple(self.y.shape)}, image shape={self.shape}, source={self.source!r})")


def search_path(root: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for data, in order: ``root``, ``$HOPNB_DATA``, the user cache."""
    paths = []
    if root is not None:
        paths.append(Path(root).expanduser())
    if os.environ.get("HOPNB_DATA"):
        paths.append(Path(os.environ["HOPNB_DATA"]).expanduser())
    paths.append(_cache_dir())
    return paths


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "hopnb"


# --------------------------------------------------------------------------- readers


def _read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (the MNIST distribution format), gzipped or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (magic {raw[:4].hex()})")
    ndim = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _find(folder: Path, *names: str) -> Path | None:
    for name in names:
        if (folder / name).exists():
            return folder / name
    return None


def _mnist(folder: Path, split: str):
    prefix = "t10k" if split == "test" else "train"
    images = _find(folder, f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-images-idx3-ubyte")
    labels = _find(folder, f"{prefix}-labels-idx1-ubyte.gz", f"{prefix}-labels-idx1-ubyte")
    if images is None or labels is None:
        return None
    x = _read_idx(images)
    return x, _read_idx(labels), (28, 28), tuple(str(i) for i in range(10)), images


def _cifar10(folder: Path, split: str):
    batches = ["test_batch"] if split == "test" else [f"data_batch_{i}" for i in range(1, 6)]
    extracted = folder / "cifar-10-batches-py"
    archive = folder / "cifar-10-python.tar.gz"
    if extracted.is_dir() or archive.exists():
        blobs = []
        if extracted.is_dir():
            for b in batches:
                blobs.append((extracted / b).read_bytes())
            source = extracted
        else:
            with tarfile.open(archive, "r:gz") as tar:
                for b in batches:
                    blobs.append(tar.extractfile(f"cifar-10-batches-py/{b}").read())
            source = archive
        # The official batches are pickled dicts of numpy arrays (bytes keys).
        dicts = [pickle.loads(blob, encoding="bytes") for blob in blobs]
        x = np.concatenate([d[b"data"] for d in dicts]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        y = np.concatenate([np.asarray(d[b"labels"]) for d in dicts])
        return x, y, (32, 32, 3), _CIFAR_CLASSES, source
    subset = folder / ("cifar10_test_jpeg_5000.npz" if split == "test" else "cifar10_train_png_200.npz")
    if subset.exists():
        with np.load(subset) as z:
            return z["images"], z["labels"], (32, 32, 3), tuple(str(c) for c in z["class_names"]), subset
    return None


def _tinyimagenet(folder: Path, split: str):
    if split != "val":
        raise ValueError(f"tinyimagenet: only split='val' is supported (its test labels are not public); got {split!r}")
    extracted = folder / "tiny-imagenet-200"
    archive = folder / "tiny-imagenet-200.zip"
    if extracted.is_dir() or archive.exists():
        from PIL import Image  # Pillow is a matplotlib dependency

        if extracted.is_dir():
            read = lambda rel: (extracted / rel).read_bytes()  # noqa: E731
            source = extracted
        else:
            zf = zipfile.ZipFile(archive)
            read = lambda rel: zf.read(f"tiny-imagenet-200/{rel}")  # noqa: E731
            source = archive
        wnids = read("wnids.txt").decode().split()
        words = dict(line.split("\t", 1) for line in read("words.txt").decode().splitlines() if "\t" in line)
        rows = [line.split("\t") for line in read("val/val_annotations.txt").decode().splitlines() if line]
        rows.sort(key=lambda r: int(r[0].split("_")[1].split(".")[0]))
        x = np.stack([np.asarray(Image.open(io.BytesIO(read(f"val/images/{r[0]}"))).convert("RGB")) for r in rows])
        y = np.array([wnids.index(r[1]) for r in rows])
        return x, y, (64, 64, 3), tuple(words.get(w, w).strip() for w in wnids), source
    subset = folder / "tinyimagenet_val_1000.npz"
    if subset.exists():
        with np.load(subset) as z:
            return z["images"], z["labels"], (64, 64, 3), tuple(str(c) for c in z["class_names"]), subset
    return None


_READERS = {"mnist": _mnist, "cifar10": _cifar10, "tinyimagenet": _tinyimagenet}
_SPLITS = {"digits": ("all",), "mnist": ("test", "train"), "cifar10": ("test", "train"), "tinyimagenet": ("val",)}

# Official archives that may be fetched as a last resort, with their published MD5 sums.
_DOWNLOADS = {
    ("mnist", "test"): [
        ("https://ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ],
    ("mnist", "train"): [
        ("https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("https://ossci-datasets.s3.amazonaws.com/mnist/train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
    ],
    ("cifar10", "test"): [
        ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a"),
    ],
}
_DOWNLOADS[("cifar10", "train")] = _DOWNLOADS[("cifar10", "test")]

_EXPECTED_FILES = {
    "mnist": "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (train-… for split='train')",
    "cifar10": "cifar-10-python.tar.gz (or its extracted cifar-10-batches-py/), or cifar10_test_jpeg_5000.npz",
    "tinyimagenet": "tiny-imagenet-200.zip (or its extracted tiny-imagenet-200/), or tinyimagenet_val_1000.npz",
}


def _md5(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _download(url: str, md5: str, folder: Path, timeout: float = 30.0) -> Path:
    """Fetch ``url`` into ``folder``, verify its MD5, and move it into place atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / url.rsplit("/", 1)[1]
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            while block := response.read(1 << 20):
                out.write(block)
        got = _md5(Path(tmp))
        if got != md5:
            raise OSError(f"checksum mismatch for {url}: expected md5 {md5}, got {got}")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return target


def _not_found(name: str, split: str, searched: list[Path], reason: str) -> FileNotFoundError:
    where = "\n".join(f"  - {p / name}" for p in searched)
    return FileNotFoundError(
        f"hopnb.data.load({name!r}, split={split!r}) found no data. {reason}\n"
        f"Looked in (root, then $HOPNB_DATA, then the user cache):\n{where}\n"
        f"Put {_EXPECTED_FILES[name]} into <folder>/{name}/ and pass root=<folder> "
        f"or set the environment variable $HOPNB_DATA=<folder>."
    )


def _offline() -> bool:
    return os.environ.get("HOPNB_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")


# --------------------------------------------------------------------------- public API


def load(name: str, split: str | None = None, *, n: int | None = None, root: str | os.PathLike | None = None,
         download: bool = True, grayscale: bool = False) -> Dataset:
    """Load a dataset as float32 patterns ``x [n, d]`` in [0, 1] and int64 labels ``y [n]``.

    ``name`` is one of ``digits`` (scikit-learn's 8×8 digits, 1797 images, always
    offline), ``mnist`` (28×28, split ``test`` or ``train``), ``cifar10`` (32×32×3,
    ``test`` or ``train``) or ``tinyimagenet`` (64×64×3, ``val``). ``n`` keeps the
    first ``n`` patterns; ``grayscale`` averages colour channels. Search order and
    download rules are in the module docstring.

    >>> x, y = load("digits", n=5)
    >>> tuple(x.shape), float(x.min()) >= 0.0, float(x.max()) <= 1.0
    ((5, 64), True, True)
    """
    if name not in NAMES:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(NAMES)}")
    split = split or _SPLITS[name][0]
    if split not in _SPLITS[name]:
        raise ValueError(f"{name}: split must be one of {_SPLITS[name]}; got {split!r}")
    if n is not None and (not isinstance(n, int) or n < 1):
        raise ValueError(f"n must be a positive int or None; got {n!r}")

    if name == "digits":
        from sklearn.datasets import load_digits

        bunch = load_digits()
        images, labels, shape = bunch.images / 16.0, bunch.target, (8, 8)
        classes, source = tuple(str(i) for i in range(10)), "sklearn.datasets.load_digits"
    else:
        searched = search_path(root)
        found = next((r for r in (_READERS[name](p / name, split) for p in searched) if r is not None), None)
        if found is None:
            files = _DOWNLOADS.get((name, split))
            if not download or _offline() or files is None:
                reason = ("Downloading is switched off." if (not download or _offline())
                          else "No checksum-verified download is known for it.")
                raise _not_found(name, split, searched, reason)
            cache = _cache_dir() / name
            try:
                for url, md5 in files:
                    _download(url, md5, cache)
            except (OSError, urllib.error.URLError) as err:
                raise _not_found(name, split, searched, f"Downloading failed ({err}).") from err
            found = _READERS[name](cache, split)
        images, labels, shape, classes, path = found
        images = images.astype(np.float32) / 255.0
        source = str(path)

    x = torch.as_tensor(np.ascontiguousarray(images, dtype=np.float32)).reshape(len(images), -1)
    y = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    if grayscale and len(shape) == 3:
        x = x.reshape(len(x), *shape).mean(dim=-1).reshape(len(x), -1)
        shape = shape[:2]
    if n is not None:
        if n > len(x):
            raise ValueError(f"{name} ({split}) has {len(x)} patterns here; n={n} asked for more")
        x, y = x[:n], y[:n]
    return Dataset(name, x.contiguous(), y, tuple(shape), tuple(classes), source)


def random_patterns(n: int, d: int, kind: str = "binary", *, generator: torch.Generator | None = None,
                    dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Random patterns ``[n, d]``: ``binary`` (±1, each sign with probability ½),
    ``gaussian`` (standard normal), or ``uniform`` (on [0, 1]).

    >>> random_patterns(3, 4, generator=torch.Generator().manual_seed(0)).abs().unique().tolist()
    [1.0]
    """
    if n < 1 or d < 1:
        raise ValueError(f"n and d must be positive; got n={n}, d={d}")
    where = generator_device(generator, "cpu")
    if kind == "binary":
        return torch.randint(0, 2, (n, d), generator=generator, device=where).to(dtype).mul_(2).sub_(1)
    if kind == "gaussian":
        return torch.randn(n, d, generator=generator, device=where, dtype=dtype)
    if kind == "uniform":
        return torch.rand(n, d, generator=generator, device=where, dtype=dtype)
    raise ValueError(f"kind must be 'binary', 'gaussian' or 'uniform'; got {kind!r}")
