import os
from pathlib import Path
import urllib.error
import urllib.request

import pytest
import torch

from hopnb import data


def test_mnist_from_hopnb_data(data_root, monkeypatch):
    monkeypatch.setenv("HOPNB_DATA", str(data_root))
    x, y = data.load("mnist")
    assert x.shape == (10000, 784) and x.dtype == torch.float32
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    assert y.dtype == torch.int64 and y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert torch.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_root_argument_comes_first_and_n_keeps_the_first(data_root, monkeypatch):
    monkeypatch.delenv("HOPNB_DATA", raising=False)
    ds = data.load("mnist", n=5, root=data_root)
    assert len(ds) == 5 and ds.shape == (28, 28) and ds.source.endswith("t10k-images-idx3-ubyte.gz")


def test_cifar10_and_tinyimagenet_subsets(data_root):
    cifar = data.load("cifar10", root=data_root)
    assert cifar.x.shape == (5000, 3072) and cifar.shape == (32, 32, 3) and cifar.classes[0] == "airplane"
    assert 0.0 <= float(cifar.x.min()) and float(cifar.x.max()) <= 1.0
    train = data.load("cifar10", "train", root=data_root)
    assert train.y[:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    tiny = data.load("tinyimagenet", root=data_root, grayscale=True)
    assert tiny.x.shape == (1000, 4096) and tiny.shape == (64, 64) and len(tiny.classes) == 200
    assert tiny.classes[int(tiny.y[0])] == "go-kart"


def test_digits_ship_offline():
    x, y = data.load("digits")
    assert x.shape == (1797, 64) and float(x.max()) == 1.0 and set(y.tolist()) == set(range(10))


def test_no_data_and_no_network_names_hopnb_data(tmp_path, monkeypatch):
    monkeypatch.delenv("HOPNB_DATA", raising=False)
    monkeypatch.delenv("HOPNB_OFFLINE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    with pytest.raises(FileNotFoundError, match=r"\$HOPNB_DATA") as err:
        data.load("mnist", root=tmp_path / "empty")
    assert "t10k-images-idx3-ubyte.gz" in str(err.value) and "network is unreachable" in str(err.value)
    assert not any((tmp_path / "cache").rglob("*.part"))  # nothing half-written left behind


def test_offline_switch_never_downloads(tmp_path, monkeypatch):
    monkeypatch.setenv("HOPNB_OFFLINE", "1")
    monkeypatch.delenv("HOPNB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("tried the network"))
    with pytest.raises(FileNotFoundError, match="switched off"):
        data.load("cifar10")


def test_download_is_verified_and_atomic(tmp_path, monkeypatch, data_root):
    """A download with the right bytes lands in the cache; wrong bytes are rejected and leave nothing."""
    monkeypatch.delenv("HOPNB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    files = {url.rsplit("/", 1)[1]: url for url in data._DOWNLOADS[("mnist", "test")]}

    def fake_urlopen(url, timeout):
        return open(data_root / "mnist" / url.rsplit("/", 1)[1], "rb")

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    x, _ = data.load("mnist", root=tmp_path / "nothing")
    assert x.shape == (10000, 784)
    assert sorted(os.listdir(tmp_path / "hopnb" / "mnist")) == sorted(files)

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: open(__file__, "rb"))
    with pytest.raises(OSError, match="checksum mismatch"):
        data._download(next(iter(files.values())), tmp_path / "bad")
    assert list((tmp_path / "bad").iterdir()) == []


@pytest.mark.parametrize("kind, values", [("binary", {-1.0, 1.0})])
def test_random_binary_patterns(kind, values):
    x = data.random_patterns(50, 20, kind, generator=torch.Generator().manual_seed(0))
    assert x.shape == (50, 20) and set(x.unique().tolist()) == values


def test_random_continuous_patterns_are_seeded():
    a = data.random_patterns(4, 3, "gaussian", generator=torch.Generator().manual_seed(1))
    b = data.random_patterns(4, 3, "gaussian", generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    u = data.random_patterns(100, 10, "uniform")
    assert 0 <= float(u.min()) and float(u.max()) <= 1


@pytest.mark.parametrize("call, message", [
    (lambda: data.load("fashion"), "unknown dataset 'fashion'; known: digits, mnist"),
    (lambda: data.load("mnist", "valid"), "split must be one of"),
    (lambda: data.load("digits", n=0), "n must be a positive int"),
    (lambda: data.random_patterns(3, 3, "ternary"), "kind must be"),
])
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_official_cifar10_batches_are_read_channel_last(tmp_path, monkeypatch):
    """The python-pickle distribution stores images as [n, 3·32·32] channel-first rows."""
    monkeypatch.delenv("HOPNB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    import pickle
    import tarfile

    import numpy as np

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (4, 3, 32, 32), dtype=np.uint8)
    folder = tmp_path / "extracted" / "cifar10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    (folder / "test_batch").write_bytes(pickle.dumps({b"data": images.reshape(4, -1), b"labels": [3, 1, 4, 1]}))
    x, y = data.load("cifar10", root=tmp_path / "extracted", download=False)
    assert x.shape == (4, 3072) and y.tolist() == [3, 1, 4, 1]
    np.testing.assert_allclose(x[1].reshape(32, 32, 3).numpy(), images[1].transpose(1, 2, 0) / 255.0, rtol=1e-6)

    archive = tmp_path / "archive" / "cifar10"
    archive.mkdir(parents=True)
    with tarfile.open(archive / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    # a home-made archive under the official name is not the official one: it is refused ...
    with pytest.warns(data.BadDataWarning, match="cifar-10-python.tar.gz.*does not match its known checksum"):
        with pytest.raises(FileNotFoundError, match="Bad copies skipped"):
            data.load("cifar10", root=tmp_path / "archive", download=False)
    # ... and read once its checksum is the known one
    monkeypatch.setitem(data._KNOWN, "cifar-10-python.tar.gz",
                        {"md5": data._digests(archive / "cifar-10-python.tar.gz", ["md5"])["md5"]})
    x2, _ = data.load("cifar10", root=tmp_path / "archive", download=False)
    assert torch.equal(x, x2)


def _fake_tinyimagenet(top):
    """A three-image folder in the official layout, top/tiny-imagenet-200."""
    import numpy as np
    from PIL import Image

    root = top / "tiny-imagenet-200"
    (root / "val" / "images").mkdir(parents=True)
    (root / "wnids.txt").write_text("n01\nn02\n")
    (root / "words.txt").write_text("n01\tgoldfish\nn02\tgo-kart\n")
    rows = []
    for i, wnid in enumerate(["n02", "n01", "n02"]):
        Image.fromarray(np.full((64, 64, 3), 10 * i, dtype=np.uint8)).save(root / "val" / "images" / f"val_{i}.JPEG")
        rows.append(f"val_{i}.JPEG\t{wnid}\t0\t0\t63\t63")
    (root / "val" / "val_annotations.txt").write_text("\n".join(rows) + "\n")
    return root


def test_official_tinyimagenet_validation_folder(tmp_path):
    _fake_tinyimagenet(tmp_path / "tinyimagenet")
    ds = data.load("tinyimagenet", root=tmp_path, download=False)
    assert ds.x.shape == (3, 12288) and ds.y.tolist() == [1, 0, 1] and ds.classes == ("goldfish", "go-kart")


def test_tinyimagenet_is_downloaded_as_the_official_zip(tmp_path, monkeypatch):
    """With no local copy, the official archive is fetched into the cache, verified and read."""
    import shutil

    folder = _fake_tinyimagenet(tmp_path / "made")
    archive = Path(shutil.make_archive(str(tmp_path / "tiny-imagenet-200"), "zip", folder.parent, folder.name))
    (url,) = data._DOWNLOADS[("tinyimagenet", "val")]
    assert url.endswith("/tiny-imagenet-200.zip") and "md5" in data._KNOWN["tiny-imagenet-200.zip"]
    monkeypatch.setitem(data._KNOWN, "tiny-imagenet-200.zip", {"md5": data._digests(archive, ["md5"])["md5"]})
    monkeypatch.delenv("HOPNB_DATA", raising=False)
    monkeypatch.delenv("HOPNB_OFFLINE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(urllib.request, "urlopen", lambda u, timeout: open(archive, "rb") if u == url else pytest.fail(u))
    ds = data.load("tinyimagenet", root=tmp_path / "nothing")
    assert ds.x.shape == (3, 12288) and ds.y.tolist() == [1, 0, 1]
    assert os.listdir(tmp_path / "cache" / "hopnb" / "tinyimagenet") == ["tiny-imagenet-200.zip"]
