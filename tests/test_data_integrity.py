"""Every data file is verified wherever it was found; bad copies are named and skipped.

All of these run with the network blocked: ``urllib.request.urlopen`` either fails or
serves the bytes of a local file.
"""

import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
import warnings

import pytest

from hopnb import data

IMAGES, LABELS = "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Empty root, $HOPNB_DATA and cache folders; the network fails unless a test serves files."""
    monkeypatch.delenv("HOPNB_OFFLINE", raising=False)
    monkeypatch.setenv("HOPNB_DATA", str(tmp_path / "shared"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    calls = []

    def no_network(url, timeout=None):
        calls.append(url)
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    monkeypatch.setattr(data, "_VERDICTS", {})
    return {"root": tmp_path / "root", "shared": tmp_path / "shared", "cache": tmp_path / "xdg" / "hopnb",
            "calls": calls, "tmp": tmp_path}


def _copy_mnist(src_root, top, *, truncate=None, flip=None, only=None):
    folder = top / "mnist"
    folder.mkdir(parents=True, exist_ok=True)
    for name in (IMAGES, LABELS):
        if only is not None and name != only:
            continue
        raw = (src_root / "mnist" / name).read_bytes()
        if truncate == name:
            raw = raw[: len(raw) // 2]
        if flip == name:
            raw = raw[:1000] + bytes([raw[1000] ^ 0xFF]) + raw[1001:]
        (folder / name).write_bytes(raw)
    return folder


def _serve(monkeypatch, src_root, calls, fail=()):
    """urlopen that serves the offline copy of each official file, or fails for the names in ``fail``."""

    def fake(url, timeout=None):
        name = url.rsplit("/", 1)[1]
        calls.append(name)
        if name in fail:
            raise urllib.error.URLError(f"connection reset while fetching {name}")
        return open(src_root / "mnist" / name, "rb")

    monkeypatch.setattr(urllib.request, "urlopen", fake)


def test_truncated_file_in_cache_is_named_then_replaced(env, data_root, monkeypatch):
    bad = _copy_mnist(data_root, env["cache"], truncate=IMAGES) / IMAGES
    with pytest.warns(data.BadDataWarning, match=str(bad)):
        with pytest.raises(FileNotFoundError) as err:
            data.load("mnist", download=False)
    assert str(bad) in str(err.value) and "does not match its known checksum" in str(err.value)
    _serve(monkeypatch, data_root, env["calls"])
    with pytest.warns(data.BadDataWarning, match=str(bad)):
        x, _ = data.load("mnist")
    assert x.shape == (10000, 784) and env["calls"] == [IMAGES]  # the good labels were not fetched again
    assert bad.read_bytes() == (data_root / "mnist" / IMAGES).read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data.load("mnist", download=False)  # now verified: no warning, no download


@pytest.mark.parametrize("fault", ["truncate", "flip"])
def test_bad_copy_under_root_does_not_block_a_good_one_further_down(env, data_root, fault):
    bad = _copy_mnist(data_root, env["root"], **{fault: LABELS}) / LABELS
    _copy_mnist(data_root, env["shared"])
    with pytest.warns(data.BadDataWarning, match=str(bad)):
        ds = data.load("mnist", root=env["root"])
    assert ds.source == str(env["shared"] / "mnist" / IMAGES) and env["calls"] == []


def test_every_folder_bad_names_every_copy(env, data_root):
    paths = [_copy_mnist(data_root, env["root"], truncate=IMAGES) / IMAGES,
             _copy_mnist(data_root, env["shared"], flip=LABELS) / LABELS,
             _copy_mnist(data_root, env["cache"], truncate=LABELS) / LABELS]
    with pytest.warns(data.BadDataWarning):
        with pytest.raises(FileNotFoundError, match="Downloading failed") as err:
            data.load("mnist", root=env["root"])
    assert all(str(p) in str(err.value) for p in paths)


def test_stale_part_files_are_removed(env, data_root):
    folder = env["cache"] / "mnist"
    folder.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = [folder / f".{IMAGES}.abc123.part",                              # no process id: an old version's
             folder / f".{IMAGES}.{int(dead.stdout)}.x1y2z3.part"]         # its process is gone (SIGKILL)
    live = folder / f".{LABELS}.{os.getppid()}.q9w8e7.part"                  # a download still running
    for p in (*stale, live):
        p.write_bytes(b"half a file")
    _copy_mnist(data_root, env["shared"])
    data.load("mnist")
    assert not any(p.exists() for p in stale) and live.exists()


def test_a_verified_file_is_never_fetched_again(env, data_root, monkeypatch):
    _copy_mnist(data_root, env["cache"], only=IMAGES)
    _serve(monkeypatch, data_root, env["calls"])
    data.load("mnist")
    assert env["calls"] == [LABELS]


def test_second_file_of_a_pair_fails_then_only_it_is_fetched(env, data_root, monkeypatch):
    _serve(monkeypatch, data_root, env["calls"], fail={LABELS})
    with pytest.raises(FileNotFoundError, match=f"connection reset while fetching {LABELS}"):
        data.load("mnist")
    assert sorted(os.listdir(env["cache"] / "mnist")) == [IMAGES]  # verified, kept; no .part left
    env["calls"].clear()
    _serve(monkeypatch, data_root, env["calls"])
    x, _ = data.load("mnist")
    assert env["calls"] == [LABELS] and x.shape == (10000, 784)


def test_download_with_wrong_bytes_leaves_nothing(env, data_root, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: open(__file__, "rb"))
    with pytest.raises(FileNotFoundError, match="checksum mismatch"):
        data.load("mnist")
    assert os.listdir(env["cache"] / "mnist") == []


def test_repeated_load_does_not_hash_again(env, data_root, monkeypatch):
    folder = _copy_mnist(data_root, env["shared"])
    hashed = []
    digests = data._digests
    monkeypatch.setattr(data, "_digests", lambda path, algorithms: hashed.append(path.name) or digests(path, algorithms))
    data.load("mnist")
    assert sorted(hashed) == sorted([IMAGES, LABELS])
    data.load("mnist")
    data.load("mnist", n=3)
    assert len(hashed) == 2
    os.utime(folder / LABELS, ns=(1, 1))  # a changed file (new mtime) is hashed again
    data.load("mnist")
    assert hashed[2:] == [LABELS]


def test_sha256sums_beside_the_data_are_honoured(env, data_root):
    """A file without a built-in checksum is verified against a SHA256SUMS at the top of its folder."""
    shutil.copytree(data_root / "mnist", env["root"] / "mnist")
    raw = env["root"] / "mnist" / "t10k-images-idx3-ubyte"  # the uncompressed name has a built-in sum too
    (env["root"] / "mnist" / IMAGES).rename(env["root"] / "mnist" / "spare.gz")
    raw.write_bytes(b"\x00\x00\x08\x03" + bytes(12))
    with pytest.warns(data.BadDataWarning, match="t10k-images-idx3-ubyte .*does not match"):
        with pytest.raises(FileNotFoundError):
            data.load("mnist", root=env["root"], download=False)
    (env["root"] / "SHA256SUMS").write_text("0" * 64 + "  mnist/t10k-labels-idx1-ubyte.gz\n")
    (env["root"] / "mnist" / "spare.gz").rename(env["root"] / "mnist" / IMAGES)
    with pytest.warns(data.BadDataWarning, match=r"t10k-labels-idx1-ubyte.gz .*sha256 0{64}"):
        with pytest.raises(FileNotFoundError):
            data.load("mnist", root=env["root"], download=False)


def test_unreadable_file_without_a_checksum_is_named_and_skipped(env, data_root):
    """Files with no known checksum (an extracted archive) are used only if they parse."""
    batches = env["root"] / "cifar10" / "cifar-10-batches-py"
    batches.mkdir(parents=True)
    (batches / "test_batch").write_bytes(b"not a pickle")
    shutil.copytree(data_root / "cifar10", env["shared"] / "cifar10")
    with pytest.warns(data.BadDataWarning, match="cifar-10-batches-py could not be read"):
        ds = data.load("cifar10", root=env["root"])
    assert ds.source.endswith("cifar10_test_jpeg_5000.npz") and ds.source.startswith(str(env["shared"]))


def test_good_shared_copy_is_used_silently(env, data_root):
    """The project's SHA256SUMS and the built-in sums agree with the offline data: no warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ("mnist", "cifar10", "tinyimagenet"):
            data.load(name, root=data_root, download=False)
