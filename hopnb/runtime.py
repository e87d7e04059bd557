"""Where computations run, how they are seeded and how large they are: one helper each.

Defined in :doc:`/book/running`.
"""

from __future__ import annotations

import functools
import numbers
import os
import random
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from ._validate import check_bool

__all__ = ["device", "knob", "seed", "seed_offset"]

_SCALES = ("book", "paper")
_COLAB_HINT = "In Colab: Runtime > Change runtime type > T4 GPU, then run the notebook again."


def device(name: str | None = None, *, verbose: bool = True) -> torch.device:
    """Return the device the book computes on: CUDA when available, else CPU.

    Defined in :doc:`/book/running`.

    ``name`` (or the environment variable ``HOPNB_DEVICE``) forces a device, for
    example ``"cpu"`` on a GPU machine. With ``verbose`` the choice is printed,
    and on CPU it says how to get a GPU in Colab.

    >>> dev = device("cpu", verbose=False)
    >>> dev.type
    'cpu'
    """
    if name is not None and not isinstance(name, (str, torch.device)) or name == "":
        raise TypeError(f"device must be a device name such as 'cpu' or 'cuda:0', a torch.device or None; got {name!r}")
    name = name or os.environ.get("HOPNB_DEVICE")
    if name is not None:
        try:
            dev = torch.device(name)
        except (RuntimeError, TypeError) as err:
            raise ValueError(f"device must name a torch device such as 'cpu' or 'cuda' (argument or "
                             f"$HOPNB_DEVICE); got {name!r}") from err
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {name!r} was asked for, but torch sees no CUDA device. {_COLAB_HINT}")
        if dev.type not in ("cpu", "cuda") and not _available(dev):
            raise ValueError(f"device {name!r} was asked for, but torch cannot use a {dev.type} device here; "
                             f"use 'cpu' or 'cuda'")
    else:
        dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if check_bool(verbose, "verbose"):
        if dev.type == "cuda":
            print(f"hopnb: using CUDA ({torch.cuda.get_device_name(dev)}).")
        else:
            print(f"hopnb: using the CPU ({torch.get_num_threads()} threads). Heavy experiments run faster "
                  f"on a GPU. {_COLAB_HINT}")
    return dev


def seed_offset() -> int:
    """The book's seed offset: the environment variable ``HOPNB_SEED_OFFSET`` (default 0).

    Defined in :doc:`/book/running`.

    :func:`seed` adds it to every seed, so ``HOPNB_SEED_OFFSET=1000`` re-runs every
    experiment of the book on fresh random draws; the chapters' claims must hold there too.

    >>> import os
    >>> os.environ.pop("HOPNB_SEED_OFFSET", None) and None
    >>> seed_offset()
    0
    """
    raw = os.environ.get("HOPNB_SEED_OFFSET", "").strip()
    if not raw:
        return 0
    try:
        offset = int(raw)
    except ValueError:
        offset = -1
    if offset < 0:
        raise ValueError(f"HOPNB_SEED_OFFSET must be a non-negative integer; got {raw!r}")
    return offset


def _available(dev: torch.device) -> bool:
    """Whether torch can allocate on ``dev``'s type (mps, xpu, ... beyond cpu and cuda)."""
    backend = getattr(torch.backends, dev.type, None) or getattr(torch, dev.type, None)
    check = getattr(backend, "is_available", None)
    return bool(check()) if callable(check) else dev.type == "meta"


def seed(n: int, device: torch.device | str | None = None) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA) with ``n + seed_offset()``; return a fresh
    generator on ``device`` (default the CPU) seeded the same way.

    Defined in :doc:`/book/running`.

    Every random draw of the book goes through such a generator, so an experiment can
    be repeated without touching the global state, and the one switch
    ``HOPNB_SEED_OFFSET`` (see :func:`seed_offset`) moves all of them at once. Functions
    of hopnb that take a ``generator`` draw on the generator's device and move the
    result to their data's device, so a CPU generator works with CUDA data.

    >>> g = seed(0)
    >>> torch.rand(2, generator=g).shape
    torch.Size([2])
    """
    generator = offset_generator(n, device)
    n = generator.initial_seed()
    random.seed(n)
    np.random.seed(n % 2**32)
    torch.manual_seed(n)
    return generator


def offset_generator(n: int, device: torch.device | str | None = None) -> torch.Generator:
    """A generator on ``device`` seeded with ``n + seed_offset()``, global state untouched
    (what :func:`seed` returns; the library's sweeps seed their runs with it)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise ValueError(f"seed must be a non-negative int; got {n!r} ({type(n).__name__})")
    if n < 0:
        raise ValueError(f"seed must be a non-negative int; got {n!r}")
    n = int(n) + seed_offset()
    if n >= 2**63:
        raise ValueError(f"seed plus HOPNB_SEED_OFFSET must be below 2**63; got {n}")
    try:
        where = torch.device(device) if device is not None else torch.device("cpu")
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must name a torch device such as 'cpu' or 'cuda'; got {device!r}") from err
    usable = torch.cuda.is_available() if where.type == "cuda" else where.type == "cpu" or _available(where)
    if not usable or where.type == "meta":
        raise ValueError(f"a generator on {device!r} was asked for, but torch cannot draw random numbers there; "
                         f"use 'cpu'{' or cuda' if torch.cuda.is_available() else ''}")
    return torch.Generator(device=where).manual_seed(n)


def generator_device(generator: torch.Generator | None, default: torch.device | str) -> torch.device:
    """The device to draw random numbers on: the generator's, or ``default`` when there is none.

    torch refuses to draw on one device with a generator of another (a CPU generator
    with CUDA data raises), so every draw in hopnb happens here and is then moved.
    """
    if generator is None:
        return torch.device(default)
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator (e.g. hopnb.seed(0)) or None; "
                        f"got {type(generator).__name__}")
    return generator.device


def knob(book, paper):
    """Return the size of a heavy experiment: ``book`` as the book runs it, or ``paper`` at the source's scale.

    Defined in :doc:`/book/running`.

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


@functools.cache
def _pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(threads, thread_name_prefix="hopnb")


def threaded(fn, tasks: list[tuple]) -> None:
    """Call ``fn(*task)`` for every task on ``torch.get_num_threads()`` threads, for work that
    releases the GIL (compiled loops called through ctypes, NumPy's sort) outside torch's own pool."""
    threads = torch.get_num_threads()
    if threads == 1 or len(tasks) == 1:
        for task in tasks:
            fn(*task)
        return
    for future in [_pool(threads).submit(fn, *task) for task in tasks]:
        future.result()


def split(n: int, work_per_item: int, serial_work: int = 1 << 21) -> list[tuple[int, int]]:
    """``range(n)`` as one contiguous ``(start, stop)`` part per thread, or one part when
    ``n · work_per_item`` is below ``serial_work`` (handing work to a thread costs ~0.1 ms)."""
    parts = 1 if n * work_per_item < serial_work else min(n, torch.get_num_threads())
    step = -(-n // parts)
    return [(lo, min(n, lo + step)) for lo in range(0, n, step)]
