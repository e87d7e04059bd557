import random

import numpy as np
import pytest
import torch

import hopnb


def test_device_defaults_to_cpu_without_cuda_and_says_so(capsys, monkeypatch):
    monkeypatch.delenv("HOPNB_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    dev = hopnb.device()
    assert dev == torch.device("cpu")
    out = capsys.readouterr().out
    assert "CPU" in out and "Colab" in out


def test_device_can_be_forced(monkeypatch, capsys):
    monkeypatch.setenv("HOPNB_DEVICE", "cpu")
    assert hopnb.device(verbose=False).type == "cpu"
    assert capsys.readouterr().out == ""


def test_device_refuses_cuda_when_absent(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA device"):
        hopnb.device("cuda")


def test_seed_seeds_python_numpy_torch_and_returns_a_generator():
    g = hopnb.seed(7)
    a = (random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=g).item())
    g = hopnb.seed(7)
    b = (random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=g).item())
    assert a == b
    assert isinstance(g, torch.Generator)


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_seed_rejects_non_integers(bad):
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        hopnb.seed(bad)


def test_knob_gives_the_book_size_unless_paper_scale_is_asked_for(monkeypatch):
    monkeypatch.delenv("HOPNB_SCALE", raising=False)
    assert hopnb.knob(10, paper=500) == 10
    monkeypatch.setenv("HOPNB_SCALE", "book")
    assert hopnb.knob(10, paper=500) == 10
    monkeypatch.setenv("HOPNB_SCALE", "Paper")
    assert hopnb.knob([10, 20], paper=[10, 20, 500]) == [10, 20, 500]


def test_knob_rejects_an_unknown_scale(monkeypatch):
    monkeypatch.setenv("HOPNB_SCALE", "huge")
    with pytest.raises(ValueError, match="HOPNB_SCALE must be one of book, paper; got 'huge'"):
        hopnb.knob(10, paper=500)


def test_seed_offset_moves_every_seed(monkeypatch):
    monkeypatch.delenv("HOPNB_SEED_OFFSET", raising=False)
    assert hopnb.seed_offset() == 0 and hopnb.seed(5).initial_seed() == 5
    monkeypatch.setenv("HOPNB_SEED_OFFSET", "1000")
    assert hopnb.seed_offset() == 1000
    g = hopnb.seed(5)
    assert g.initial_seed() == 1005 and torch.initial_seed() == 1005


@pytest.mark.parametrize("bad", ["-3", "1.5", "many"])
def test_seed_offset_rejects_what_is_not_a_non_negative_int(monkeypatch, bad):
    monkeypatch.setenv("HOPNB_SEED_OFFSET", bad)
    with pytest.raises(ValueError, match=f"HOPNB_SEED_OFFSET must be a non-negative integer; got '{bad}'"):
        hopnb.seed(0)


def test_generator_must_be_a_generator():
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        hopnb.corrupt.mask_pixels(torch.ones(2, 3), 0.5, generator=42)
