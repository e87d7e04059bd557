"""Timing and peak-memory helpers shared by the benchmarks.

Times are compared in one process, the variants run in turns and the median kept
(``alternating``), so that a machine busy with other work slows every variant alike.
Peak memory is measured with each variant in a fresh process (``isolated``), so the peak
resident memory it reports is its own: the peak while it ran minus the resident memory
just before. On CUDA the peak is the allocator's, from ``torch.cuda.max_memory_allocated``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import statistics
import time

import torch

import hopnb


def arguments(doc: str, *, M: int, d: int = 784, B: int, **extra) -> argparse.Namespace:
    """The benchmarks' command line: ``--device``, the sizes ``--M --d --B``, and ``extra`` ints."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--device", default="cpu")
    for name, default in dict(M=M, d=d, B=B, **extra).items():
        p.add_argument(f"--{name.replace('_', '-')}", type=int, default=default)
    return p.parse_args()


def rss_bytes() -> int:
    """Resident memory of this process now."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def peak_rss_bytes() -> int:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def timed(fn, device: torch.device, repeat: int = 3) -> tuple[float, int]:
    """Best wall time of ``repeat`` runs after one warm-up, and the peak memory above the start."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
        start_mem = torch.cuda.memory_allocated()
    else:
        start_mem = rss_bytes()
    fn()
    sync()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - t0)
    peak = torch.cuda.max_memory_allocated() if device.type == "cuda" else peak_rss_bytes()
    return best, max(peak - start_mem, 0)


def alternating(fns: dict, device: torch.device, repeat: int = 5) -> dict:
    """Median wall time of each of ``fns`` (name -> callable), run in turns after one warm-up each."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times = {name: [] for name in fns}
    for _ in range(repeat + 1):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            sync()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t[1:]) for name, t in times.items()}


def paired(ours, peer, device: torch.device, turns: int = 200) -> tuple[float, float, float, float, float]:
    """Time ``ours`` against ``peer`` in ``turns`` adjacent pairs, alternating which runs first, and
    return the median of ``ours / peer`` over the pairs with its quartiles, and each one's median
    time: ``(ratio, lower quartile, upper quartile, ours, peer)``. For fast calls a ratio near 1:
    two medians of a handful of runs differ by several per cent between runs of one command."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times = {ours: [], peer: []}
    for fn in (ours, peer, ours, peer):
        fn()
        sync()
    for turn in range(turns):
        for fn in ((ours, peer) if turn % 2 == 0 else (peer, ours)):
            t0 = time.perf_counter()
            fn()
            sync()
            times[fn].append(time.perf_counter() - t0)
    ratios = sorted(a / b for a, b in zip(times[ours], times[peer]))
    n = len(ratios)
    return (statistics.median(ratios), ratios[n // 4], ratios[(3 * n) // 4],
            statistics.median(times[ours]), statistics.median(times[peer]))


def l1_peak_rate(d: int, dtype=torch.float32) -> float:
    """Abs-diff-adds per second of the vectorised ℓ1 loop of :mod:`hopnb.l1` on a block that stays
    in cache (128 queries × 512 memories): the machine's arithmetic floor for ℓ1 distances."""
    g = torch.Generator().manual_seed(0)
    q, m = torch.rand(128, d, generator=g, dtype=dtype), torch.rand(512, d, generator=g, dtype=dtype)
    fn = lambda: [hopnb.l1.distance(m, q, "kernel") for _ in range(20)]  # noqa: E731
    seconds = alternating({"l1": fn}, torch.device("cpu"))["l1"]
    return 20 * 128 * 512 * d / seconds


def _child(queue, target, args):
    queue.put(target(*args))


def isolated(target, *args):
    """Run ``target(*args)`` in a fresh process and return its result."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(queue, target, args))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"
