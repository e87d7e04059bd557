"""Benchmark 2: Manhattan similarity + softmax retrieval against the cdist pipeline and the floor.

M = 20,000, d = 784, B = 256, float32, β = 0.05. Times in one process, variants in turns
(median of 5):

* hopnb on the ℓ1 kernel (:mod:`hopnb.l1`, chunked, online softmax);
* hopnb on ``torch.cdist(p=1)`` in chunks (``backend="cdist"``: the path before the kernel);
* the baseline ``softmax(-β torch.cdist(Q, M, p=1)) @ M`` on whole ``[B, M]`` scores;
* the floor: ``B·M·d`` abs-diff-adds at the kernel's in-cache rate (see
  ``harness.l1_peak_rate``) plus the matrix product ``W @ M`` retrieval cannot avoid.

Peak memory of each variant in a fresh process, and the naive broadcast
``(Q[:, None] - M[None]).abs().sum(-1)`` for the record; it builds ``[B, M, d]``, so it
runs on the first ``--naive-B`` queries and its time and memory are scaled up by ``B / naive-B``.
Targets (issue 13): kernel ≥ 10× the cdist pipeline, peak memory ≤ the cdist baseline's.

    python benchmarks/manhattan_softmax.py [--device cuda] [--B 1024]
"""

import os
import tempfile
import time

import torch

import hopnb
from harness import alternating, arguments, gib, isolated, l1_peak_rate, timed

BETA = 0.05


def data(M, d, B, device):
    g = torch.Generator(device=device).manual_seed(0)
    return torch.rand(M, d, generator=g, device=device), torch.rand(B, d, generator=g, device=device)


def variants(memories, queries):
    sep = hopnb.separation.softmax(beta=BETA)
    kernel = hopnb.AssociativeMemory(memories, hopnb.similarity.get("manhattan", backend="auto"), sep)
    chunked = hopnb.AssociativeMemory(memories, hopnb.similarity.get("manhattan", backend="cdist"), sep)
    return {
        "hopnb, l1 kernel": lambda: kernel(queries),
        "hopnb, chunked cdist": lambda: chunked(queries),
        "whole cdist": lambda: torch.softmax(-BETA * torch.cdist(queries, memories, p=1.0), dim=1) @ memories,
        "naive broadcast": lambda: torch.softmax(-BETA * (queries[:, None] - memories[None]).abs().sum(-1), dim=1)
        @ memories,
    }


def peak(variant, M, d, B, device):
    """Peak memory of one variant, and its first four outputs, in this (fresh) process."""
    device = torch.device(device)
    memories, queries = data(M, d, B, device)
    fn = variants(memories, queries)[variant]
    with torch.no_grad():
        t0 = time.perf_counter()
        fn()  # the first call: for the kernel, loading (or compiling) it
        first = time.perf_counter() - t0
        _, used = timed(fn, device, repeat=1)
        out = fn()[:4].cpu().tolist()  # plain lists cross the process boundary
    return used, out, first


def cold_start():
    """Seconds to compile the ℓ1 kernel into an empty cache (what a first use on a new machine costs)."""
    os.environ["HOPNB_CACHE"] = tempfile.mkdtemp()
    t0 = time.perf_counter()
    path, _ = hopnb.l1.choose(torch.ones(1, 1))
    return time.perf_counter() - t0, path


def main():
    args = arguments(__doc__, M=20_000, B=256, naive_B=8)
    dev = torch.device(args.device)
    memories, queries = data(args.M, args.d, args.B, dev)
    path, why = hopnb.l1.choose(queries)
    fns = variants(memories, queries)
    naive = fns.pop("naive broadcast")
    weights = torch.rand(args.B, args.M, device=dev)
    with torch.no_grad():
        times = alternating({**fns, "W @ M": lambda: weights @ memories}, dev)
    rate = l1_peak_rate(args.d) if dev.type == "cpu" else float("nan")
    floor = args.B * args.M * args.d / rate + times.pop("W @ M")
    peaks = {v: isolated(peak, v, args.M, args.d, args.B, args.device) for v in fns}
    small = isolated(peak, "naive broadcast", args.M, args.d, args.naive_B, args.device)
    ref = torch.tensor(peaks["whole cdist"][1])
    for v, (_, out, _) in peaks.items():
        torch.testing.assert_close(torch.tensor(out), ref, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(torch.tensor(small[1]), ref[: min(4, args.naive_B)], atol=1e-4, rtol=1e-3)
    scale = args.B / args.naive_B
    with torch.no_grad():
        t_naive = alternating({"naive": lambda: variants(memories, queries[: args.naive_B])["naive broadcast"]()},
                              dev, repeat=1)["naive"]

    print(f"device {dev}, threads {torch.get_num_threads()}, M={args.M}, d={args.d}, B={args.B}, float32, "
          f"beta={BETA}; ℓ1 path: {path} ({why})")
    print(f"{'method':<36}{'time':>10}{'peak memory':>14}{'first call':>12}")
    for name, sec in times.items():
        used, _, first = peaks[name]
        print(f"{name:<36}{sec:>9.3f}s{gib(used):>14}{first:>11.2f}s")
    print(f"{'naive broadcast (scaled from B=%d)' % args.naive_B:<36}{t_naive * scale:>9.3f}s"
          f"{gib(small[0] * scale):>14}")
    print(f"{'floor (ℓ1 at %.1f G/s + W @ M)' % (rate / 1e9):<36}{floor:>9.3f}s")
    if dev.type == "cpu":
        seconds, built = isolated(cold_start)
        print(f"compiling the ℓ1 kernel into an empty cache: {seconds:.1f} s ({built})")
    k, c, w = times["hopnb, l1 kernel"], times["hopnb, chunked cdist"], times["whole cdist"]
    print(f"speed-up over the chunked cdist pipeline {c / k:.1f}×, over whole cdist {w / k:.1f}× (target ≥ 10); "
          f"time / floor {k / floor:.2f}; peak memory / whole cdist's "
          f"{peaks['hopnb, l1 kernel'][0] / max(peaks['whole cdist'][0], 1):.2f} (target ≤ 1)")


if __name__ == "__main__":
    main()
