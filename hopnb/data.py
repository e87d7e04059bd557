"""Datasets as pattern matrices: real images with an offline path, and random patterns.

Defined in :doc:`/book/running`.

Every loader returns a :class:`Dataset` whose ``x`` is a float32 tensor ``[n, d]``
with values in [0, 1] (images flattened row-major, height × width × channels)
and whose ``y`` holds int64 labels ``[n]``.

Where files are looked for, in order:

1. the ``root`` argument;
2. the folder named by the environment variable ``$HOPNB_DATA``;
3. the user cache, ``$XDG_CACHE_HOME/hopnb`` (default ``~/.cache/hopnb``);
4. the official archive, downloaded into the user cache (when one is known).

Each dataset has its own sub-folder (``mnist/``, ``cifar10/``, ``tinyimagenet/``)
and is read in its official distribution format; the CIFAR-10 and Tiny ImageNet
subsets distributed with the project as ``.npz`` are read too. Set
``HOPNB_OFFLINE=1`` (or pass ``download=False``) to never touch the network: a
missing dataset then raises an error that says which files to put where.

Every file is verified before it is used, wherever it was found:

* A file with a known checksum — the official archives (their published MD5 sums),
  the project's offline subsets (SHA-256), and any file listed in a ``SHA256SUMS``
  file at the top of a searched folder (``sha256sum`` format, paths relative to that
  folder) — is used only if it matches every sum known for it.
* A file without a known checksum (an extracted archive folder, an uncompressed IDX
  file of the train split, a file you made yourself) is used if it parses; it cannot
  be told apart from a good copy by its bytes alone.
* A copy that fails either test is reported by path (a :class:`BadDataWarning`, and
  again in the final error if nothing usable is found) and the search goes on to the
  next folder. A bad copy in the cache is replaced by a fresh download.

Verdicts are remembered for the life of the process, keyed by the file's path,
size, modification time and inode, so repeated loads do not hash again. Downloads
are written to a hidden ``.part`` file and moved into place only once verified;
``.part`` files left by a download that was killed are removed on the next load.
A verified file is never fetched again: when the second file of a pair fails to
download, the next attempt fetches only that one.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import numbers
import os
import pickle
import re
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from ._validate import check_bool
from .runtime import generator_device

__all__ = ["BadDataWarning", "Dataset", "load", "random_patterns", "search_path", "NAMES"]

#: The datasets :func:`load` knows.
NAMES = ("digits", "mnist", "cifar10", "tinyimagenet")

_CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


@dataclass
class Dataset:
    """Patterns as rows, with labels.

    Defined in :doc:`/book/running`.

    ``x`` is float32 ``[n, d]`` in [0, 1]; ``y`` int64 ``[n]``; ``shape`` the image
    shape that ``x[i].reshape(shape)`` restores; ``classes`` the label names;
    ``source`` the file that was read. ``x, y = dataset`` unpacks the two tensors.

    >>> ds = Dataset("toy", torch.rand(4, 6), torch.arange(4), (2, 3), ("a", "b", "c", "d"), "memory")
    >>> len(ds), tuple(ds.x[0].reshape(ds.shape).shape)
    (4, (2, 3))
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
    """The folders searched for data, in order: ``root``, ``$HOPNB_DATA``, the user cache.

    Defined in :doc:`/book/running`.

    >>> search_path("/data")[0].as_posix(), search_path()[-1].name
    ('/data', 'hopnb')
    """
    paths = []
    if root is not None:
        if not isinstance(root, (str, os.PathLike)):
            raise TypeError(f"root must be a folder (str or path) or None; got {type(root).__name__}")
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


class _Candidate(NamedTuple):
    """One way to read a dataset from a folder: the files whose checksums are checked
    first (folders have none), and the function that reads them."""

    files: tuple[Path, ...]
    read: Callable[[], tuple]
    source: Path


def _first(folder: Path, *names: str) -> Path | None:
    return next((folder / n for n in names if (folder / n).is_file()), None)


def _mnist(folder: Path, split: str) -> list[_Candidate]:
    prefix = "t10k" if split == "test" else "train"
    images = _first(folder, f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-images-idx3-ubyte")
    labels = _first(folder, f"{prefix}-labels-idx1-ubyte.gz", f"{prefix}-labels-idx1-ubyte")
    if images is None or labels is None:
        return []
    classes = tuple(str(i) for i in range(10))
    return [_Candidate((images, labels),
                       lambda: (_read_idx(images), _read_idx(labels), (28, 28), classes, images), images)]


def _cifar_batches(blobs: list[bytes]):
    # The official batches are pickled dicts of numpy arrays (bytes keys).
    dicts = [pickle.loads(blob, encoding="bytes") for blob in blobs]
    x = np.concatenate([d[b"data"] for d in dicts]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    y = np.concatenate([np.asarray(d[b"labels"]) for d in dicts])
    return x, y


def _npz(path: Path, shape: tuple[int, ...]):
    with np.load(path) as z:
        return z["images"], z["labels"], shape, tuple(str(c) for c in z["class_names"]), path


def _cifar10(folder: Path, split: str) -> list[_Candidate]:
    batches = ["test_batch"] if split == "test" else [f"data_batch_{i}" for i in range(1, 6)]
    extracted = folder / "cifar-10-batches-py"
    archive = folder / "cifar-10-python.tar.gz"
    subset = folder / ("cifar10_test_jpeg_5000.npz" if split == "test" else "cifar10_train_png_200.npz")
    out = []
    if extracted.is_dir():
        def read_extracted():
            x, y = _cifar_batches([(extracted / b).read_bytes() for b in batches])
            return x, y, (32, 32, 3), _CIFAR_CLASSES, extracted
        out.append(_Candidate((), read_extracted, extracted))
    if archive.is_file():
        def read_archive():
            with tarfile.open(archive, "r:gz") as tar:
                x, y = _cifar_batches([tar.extractfile(f"cifar-10-batches-py/{b}").read() for b in batches])
            return x, y, (32, 32, 3), _CIFAR_CLASSES, archive
        out.append(_Candidate((archive,), read_archive, archive))
    if subset.is_file():
        out.append(_Candidate((subset,), lambda: _npz(subset, (32, 32, 3)), subset))
    return out


def _tinyimagenet_read(source: Path, read: Callable[[str], bytes]):
    from PIL import Image  # Pillow is a matplotlib dependency

    wnids = read("wnids.txt").decode().split()
    words = dict(line.split("\t", 1) for line in read("words.txt").decode().splitlines() if "\t" in line)
    rows = [line.split("\t") for line in read("val/val_annotations.txt").decode().splitlines() if line]
    rows.sort(key=lambda r: int(r[0].split("_")[1].split(".")[0]))
    x = np.stack([np.asarray(Image.open(io.BytesIO(read(f"val/images/{r[0]}"))).convert("RGB")) for r in rows])
    y = np.array([wnids.index(r[1]) for r in rows])
    return x, y, (64, 64, 3), tuple(words.get(w, w).strip() for w in wnids), source


def _tinyimagenet(folder: Path, split: str) -> list[_Candidate]:
    extracted = folder / "tiny-imagenet-200"
    archive = folder / "tiny-imagenet-200.zip"
    subset = folder / "tinyimagenet_val_1000.npz"
    out = []
    if extracted.is_dir():
        out.append(_Candidate((), lambda: _tinyimagenet_read(extracted, lambda rel: (extracted / rel).read_bytes()),
                              extracted))
    if archive.is_file():
        def read_archive():
            with zipfile.ZipFile(archive) as zf:
                return _tinyimagenet_read(archive, lambda rel: zf.read(f"tiny-imagenet-200/{rel}"))
        out.append(_Candidate((archive,), read_archive, archive))
    if subset.is_file():
        out.append(_Candidate((subset,), lambda: _npz(subset, (64, 64, 3)), subset))
    return out


_READERS = {"mnist": _mnist, "cifar10": _cifar10, "tinyimagenet": _tinyimagenet}
_SPLITS = {"digits": ("all",), "mnist": ("test", "train"), "cifar10": ("test", "train"), "tinyimagenet": ("val",)}

# Official archives that may be fetched as a last resort (their checksums are in _KNOWN).
_DOWNLOADS = {
    ("mnist", "test"): ["https://ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz",
                        "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz"],
    ("mnist", "train"): ["https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",
                         "https://ossci-datasets.s3.amazonaws.com/mnist/train-labels-idx1-ubyte.gz"],
    ("cifar10", "test"): ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"],
    ("tinyimagenet", "val"): ["http://cs231n.stanford.edu/tiny-imagenet-200.zip"],
}
_DOWNLOADS[("cifar10", "train")] = _DOWNLOADS[("cifar10", "test")]

# Known checksums by file name: the official archives' published MD5 sums (and the SHA-256
# of those the project distributes), the MD5 of the uncompressed MNIST test files, and the
# SHA-256 of the project's offline subsets (its SHA256SUMS).
_KNOWN: dict[str, dict[str, str]] = {
    "t10k-images-idx3-ubyte.gz": {
        "md5": "9fb629c4189551a2d022fa330f9573f3",
        "sha256": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"},
    "t10k-labels-idx1-ubyte.gz": {
        "md5": "ec29112dd5afa0611ce80d1b7f02629c",
        "sha256": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"},
    "train-images-idx3-ubyte.gz": {"md5": "f68b3c2dcbeaaa9fbdd348bbdeb94873"},
    "train-labels-idx1-ubyte.gz": {"md5": "d53e105ee54ea40749a09fcbcd1e9432"},
    "t10k-images-idx3-ubyte": {"md5": "2646ac647ad5339dbf082846283269ea"},
    "t10k-labels-idx1-ubyte": {"md5": "27ae3e4e09519cfbb04c329615203637"},
    "cifar-10-python.tar.gz": {"md5": "c58f30108f718f92721af3b95e74349a"},
    "tiny-imagenet-200.zip": {"md5": "90528d7ca1a48142e341f4ef8d21d0de"},
    "cifar10_test_jpeg_5000.npz": {
        "md5": "ede044f81c3c78142057b88926446790",
        "sha256": "b14dbb3c2d4f573f63959c7726b0826f19d9431b5e129237a2b60d0385c9d0b4"},
    "cifar10_train_png_200.npz": {
        "md5": "01039101d5ac157d90777d90df7785f1",
        "sha256": "db61eba50f3b888b81be5e4b930240277306c0078a2ae0448dc4104187e44798"},
    "tinyimagenet_val_1000.npz": {
        "md5": "dc36f957a2f41bf0a0878f0baa9421de",
        "sha256": "befa6414d5f92fc94600a6f4a14762bf1b1418ff356d5de9d205b1744d1030f7"},
}

_EXPECTED_FILES = {
    "mnist": "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (train-… for split='train')",
    "cifar10": "cifar-10-python.tar.gz (or its extracted cifar-10-batches-py/), or cifar10_test_jpeg_5000.npz",
    "tinyimagenet": "tiny-imagenet-200.zip (or its extracted tiny-imagenet-200/), or tinyimagenet_val_1000.npz",
}


class BadDataWarning(UserWarning):
    """A data file was found but is not a good copy (wrong checksum, or unreadable); it is skipped.

    Defined in :doc:`/book/running`.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("skipping a bad copy", BadDataWarning)
    >>> caught[0].category.__name__
    'BadDataWarning'
    """


# --------------------------------------------------------------------------- verification

# Verdicts per (path, size, mtime, inode, expected sums): None for a good copy, else the reason.
_VERDICTS: dict[tuple, str | None] = {}
_SUMS_FILES: dict[tuple, dict[str, str]] = {}


def _digests(path: Path, algorithms) -> dict[str, str]:
    """The hex digests of ``path`` for each algorithm, in one pass over the file."""
    hashes = {a: hashlib.new(a, usedforsecurity=False) for a in algorithms}
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            for h in hashes.values():
                h.update(block)
    return {a: h.hexdigest() for a, h in hashes.items()}


def _stat_key(path: Path) -> tuple:
    st = path.stat()
    return str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino


def _listed_sums(top: Path) -> dict[str, str]:
    """``{resolved path: sha256}`` from a ``SHA256SUMS`` file at the top of a searched folder."""
    sums_file = top / "SHA256SUMS"
    try:
        key = _stat_key(sums_file)
    except OSError:
        return {}
    if key not in _SUMS_FILES:
        out = {}
        for line in sums_file.read_text(errors="replace").splitlines():
            m = re.fullmatch(r"([0-9a-fA-F]{64}) [ *](.+)", line.strip())
            if m:
                out[str((top / m.group(2)).resolve())] = m.group(1).lower()
        _SUMS_FILES[key] = out
    return _SUMS_FILES[key]


def _expected(path: Path, top: Path | None) -> list[tuple[str, str]]:
    """Every checksum known for ``path``: built in by file name, and listed in ``top``'s SHA256SUMS."""
    sums = sorted(_KNOWN.get(path.name, {}).items())
    listed = _listed_sums(top).get(str(path.resolve())) if top is not None else None
    if listed is not None and ("sha256", listed) not in sums:
        sums.append(("sha256", listed))
    return sums


def _verify(path: Path, top: Path | None = None) -> str | None:
    """None when ``path`` matches every checksum known for it (or none is known), else why not."""
    expected = _expected(path, top)
    if not expected:
        return None
    try:
        key = (*_stat_key(path), tuple(expected))
        if key in _VERDICTS:
            return _VERDICTS[key]
        got = _digests(path, {a for a, _ in expected})
    except OSError as err:
        return f"{path} could not be read ({type(err).__name__}: {err})"
    wrong = [f"{a} {want}, got {got[a]}" for a, want in expected if got[a] != want]
    _VERDICTS[key] = (f"{path} ({key[1]} bytes) does not match its known checksum: expected "
                      + "; ".join(wrong)) if wrong else None
    return _VERDICTS[key]


def _is_verified(path: Path) -> bool:
    """Whether ``path`` exists and matches a known checksum (a file with none is not 'verified')."""
    return path.is_file() and bool(_expected(path, None)) and _verify(path) is None


def _report(problem: str, bad: list[str]) -> None:
    bad.append(problem)
    warnings.warn(f"hopnb.data: skipping a bad copy: {problem}", BadDataWarning, stacklevel=4)


def _search(name: str, split: str, tops: list[Path], bad: list[str]):
    """The first good copy of ``name`` along ``tops``, read; bad copies are reported into ``bad``."""
    for top in tops:
        for candidate in _READERS[name](top / name, split):
            problems = [p for p in (_verify(f, top) for f in candidate.files) if p]
            if problems:
                for p in problems:
                    _report(p, bad)
                continue
            try:
                return candidate.read()
            except Exception as err:  # noqa: BLE001 - any failure to parse means a bad copy
                files = ", ".join(str(f) for f in candidate.files) or str(candidate.source)
                _report(f"{files} could not be read ({type(err).__name__}: {err})", bad)
    return None


# --------------------------------------------------------------------------- downloads

_PART = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.[^.]+\.part")
_STALE_SECONDS = 24 * 3600
_ACTIVE: set[str] = set()  # .part files this process is writing


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, under another user
        return True
    return True


def _remove_stale_parts(folder: Path) -> list[Path]:
    """Remove the ``.part`` files in ``folder`` that no running download is writing: those of a
    process that is gone, those without a process id, and any older than a day."""
    removed = []
    try:
        parts = [p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".part")]
    except OSError:
        return removed
    for p in parts:
        if str(p) in _ACTIVE:
            continue
        m = _PART.fullmatch(p.name)
        try:
            old = time.time() - p.stat().st_mtime > _STALE_SECONDS
        except OSError:
            continue
        pid = int(m.group("pid")) if m else None
        if old or pid is None or pid == os.getpid() or not _pid_alive(pid):
            try:
                p.unlink()
                removed.append(p)
            except OSError:
                pass
    return removed


def _download(url: str, folder: Path, timeout: float = 30.0) -> Path:
    """Fetch ``url`` into ``folder`` through a ``.part`` file, verify it against its known
    checksum, and move it into place atomically (replacing a bad copy)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / url.rsplit("/", 1)[1]
    if not _KNOWN.get(target.name):
        raise OSError(f"no checksum is known for {target.name}; refusing to download it unverified")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.{os.getpid()}.", suffix=".part")
    _ACTIVE.add(tmp)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            while block := response.read(1 << 20):
                out.write(block)
        expected = sorted(_KNOWN[target.name].items())
        got = _digests(Path(tmp), {a for a, _ in expected})
        wrong = [f"{a} {want}, got {got[a]}" for a, want in expected if got[a] != want]
        if wrong:
            raise OSError(f"checksum mismatch for {url}: expected " + "; ".join(wrong))
        os.replace(tmp, target)
    finally:
        _ACTIVE.discard(tmp)
        if os.path.exists(tmp):
            os.remove(tmp)
    return target


def _not_found(name: str, split: str, searched: list[Path], reason: str, bad: list[str] = ()) -> FileNotFoundError:
    where = "\n".join(f"  - {p / name}" for p in searched)
    skipped = ("\nBad copies skipped:\n" + "\n".join(f"  - {b}" for b in bad)) if bad else ""
    return FileNotFoundError(
        f"hopnb.data.load({name!r}, split={split!r}) found no usable data. {reason}\n"
        f"Looked in (root, then $HOPNB_DATA, then the user cache):\n{where}{skipped}\n"
        f"Put {_EXPECTED_FILES[name]} into <folder>/{name}/ and pass root=<folder> "
        f"or set the environment variable $HOPNB_DATA=<folder>."
    )


def _offline() -> bool:
    return os.environ.get("HOPNB_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")


# --------------------------------------------------------------------------- public API


def load(name: str, split: str | None = None, *, n: int | None = None, root: str | os.PathLike | None = None,
         download: bool = True, grayscale: bool = False) -> Dataset:
    """Load a dataset as float32 patterns ``x [n, d]`` in [0, 1] and int64 labels ``y [n]``.

    Defined in :doc:`/book/running`.

    ``name`` is one of ``digits`` (scikit-learn's 8×8 digits, 1797 images, always
    offline), ``mnist`` (28×28, split ``test`` or ``train``), ``cifar10`` (32×32×3,
    ``test`` or ``train``) or ``tinyimagenet`` (64×64×3, ``val``). ``n`` keeps the
    first ``n`` patterns; ``grayscale`` averages colour channels. Search order and
    download rules are in the module docstring.

    >>> x, y = load("digits", n=5)
    >>> tuple(x.shape), float(x.min()) >= 0.0, float(x.max()) <= 1.0
    ((5, 64), True, True)
    """
    if not isinstance(name, str) or name not in NAMES:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(NAMES)}")
    split = _SPLITS[name][0] if split is None else split
    if split not in _SPLITS[name]:
        raise ValueError(f"{name}: split must be one of {_SPLITS[name]}; got {split!r}")
    if n is not None and (isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1):
        raise ValueError(f"n must be a positive int or None; got {n!r}")
    n = None if n is None else int(n)
    check_bool(download, "download"), check_bool(grayscale, "grayscale")
    if root is not None and not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a folder (str or path) or None; got {type(root).__name__}")

    if name == "digits":
        from sklearn.datasets import load_digits

        bunch = load_digits()
        images, labels, shape = bunch.images / 16.0, bunch.target, (8, 8)
        classes, source = tuple(str(i) for i in range(10)), "sklearn.datasets.load_digits"
    else:
        searched = search_path(root)
        cache = _cache_dir() / name
        _remove_stale_parts(cache)
        bad: list[str] = []
        found = _search(name, split, searched, bad)
        if found is None:
            urls = _DOWNLOADS.get((name, split))
            if not download or _offline() or urls is None:
                reason = ("Downloading is switched off." if (not download or _offline())
                          else "No checksum-verified download is known for it.")
                raise _not_found(name, split, searched, reason, bad)
            try:
                for url in urls:
                    if not _is_verified(cache / url.rsplit("/", 1)[1]):  # a verified file is never fetched again
                        _download(url, cache)
            except (OSError, urllib.error.URLError) as err:
                raise _not_found(name, split, searched, f"Downloading failed ({err}).", bad) from err
            found = _search(name, split, [_cache_dir()], bad)
            if found is None:
                raise _not_found(name, split, searched, "The downloaded files could not be read.", bad)
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

    Defined in :doc:`/book/ch01_classical_hopfield`, Eq. :eq:`eq-ch01-hebb`.

    >>> random_patterns(3, 4, generator=torch.Generator().manual_seed(0)).abs().unique().tolist()
    [1.0]
    """
    for arg, value in (("n", n), ("d", d)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{arg} must be a positive int; got {value!r} ({type(value).__name__})")
    if n < 1 or d < 1:
        raise ValueError(f"n and d must be positive; got n={n}, d={d}")
    if n * d > 2**40:
        raise ValueError(f"n · d must be at most 2^40 entries; got n={n}, d={d}")
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point or dtype.is_complex:
        raise TypeError(f"dtype must be a floating-point torch dtype (torch.float32 or torch.float64); got {dtype!r}")
    where = generator_device(generator, "cpu")
    if kind == "binary":
        return torch.randint(0, 2, (n, d), generator=generator, device=where).to(dtype).mul_(2).sub_(1)
    if kind == "gaussian":
        return torch.randn(n, d, generator=generator, device=where, dtype=dtype)
    if kind == "uniform":
        return torch.rand(n, d, generator=generator, device=where, dtype=dtype)
    raise ValueError(f"kind must be 'binary', 'gaussian' or 'uniform'; got {kind!r}")
