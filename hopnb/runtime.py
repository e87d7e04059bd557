"""Where computations run, how they are seeded and how large they are: one helper each."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["device", "knob", "seed"]

_SCALES = ("book", "paper")
_COLAB_HINT = "In Colab: Runtime > Change runtime type > T4 GPU, then run the notebook again."


def device(name: str | None = None, *, verbose: bool = True) -> torch.device:
    """Return the device the book computes on: CUDA when available, else CPU.

    ``name`` (or the environment variable ``HOPNB_DEVICE``) forces a device, for
    example ``"cpu"`` on a GPU machine. With ``verbose`` the choice is printed,
    and on CPU it says how to get a GPU in Colab.

    >>> dev = device("cpu", verbose=False)
    >>> dev.type
    'cpu'
    """
    name = name or os.environ.get("HOPNB_DEVICE")
    if name is not None:
        dev = torch.device(name)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {name!r} was asked for, but torch sees no CUDA device. {_COLAB_HINT}")
    else:
        dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if verbose:
        if dev.type == "cuda":
            print(f"hopnb: using CUDA ({torch.cuda.get_device_name(dev)}).")
        else:
            print(f"hopnb: using the CPU ({torch.get_num_threads()} threads). Heavy experiments run faster "
                  f"on a GPU. {_COLAB_HINT}")
    return dev


def seed(n: int) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA) with ``n``; return a fresh CPU generator seeded with ``n``.

    Functions of hopnb that draw random numbers take such a ``generator``, so an
    experiment can be repeated without touching the global state.

    >>> g = seed(0)
    >>> torch.rand(2, generator=g).shape
    torch.Size([2])
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"seed must be a non-negative int; got {n!r}")
    random.seed(n)
    np.random.seed(n % 2**32)
    torch.manual_seed(n)
    return torch.Generator().manual_seed(n)


def knob(book, paper):
    """Return the size of a heavy experiment: ``book`` as the book runs it, or ``paper`` at the source's scale.

    Every heavy experiment of the book takes its size from one such knob. The
    environment variable ``HOPNB_SCALE`` picks the value for all of them at once:
    unset or ``book`` gives ``book`` (seconds on 2 CPU cores, what CI checks),
    ``paper`` gives ``paper`` (the papers' sizes, meant for a GPU). In a notebook,
    ``%env HOPNB_SCALE=paper`` before the first cell that reads a knob does it.

    >>> import os
    >>> os.environ.pop("HOPNB_SCALE", None) and None
    >>> knob([100, 200], paper=[100, 200, 1000])
    [100, 200]
    """
    scale = os.environ.get("HOPNB_SCALE", "book").strip().lower() or "book"
    if scale not in _SCALES:
        raise ValueError(f"HOPNB_SCALE must be one of {', '.join(_SCALES)}; got {os.environ['HOPNB_SCALE']!r}")
    return paper if scale == "paper" else book
