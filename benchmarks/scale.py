"""Benchmark 3: Manhattan + softmax retrieval over a million memories.

M = 1,000,000, d = 784, float32 (3.1 GB of memories), B = 256 queries. Target: the
run completes with peak resident memory at most 1.5 GB above the memories themselves
(on CUDA: peak allocated memory above the memories). Prints the time.

    python benchmarks/scale.py [--device cuda] [--M 1000000]
"""

import time

import torch

import hopnb
from harness import arguments, gib, peak_rss_bytes, rss_bytes


def main():
    args = arguments(__doc__, M=1_000_000, B=256)
    dev = torch.device(args.device)
    g = torch.Generator(device=dev).manual_seed(0)
    memories = torch.empty(args.M, args.d, device=dev)
    for part in memories.split(65_536):  # fill in place: no second copy, ever
        part.uniform_(generator=g)
    queries = memories[:: args.M // args.B][: args.B].clone()
    queries += 0.05 * torch.randn(queries.shape, generator=g, device=dev)
    if dev.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        start = torch.cuda.memory_allocated()
    else:
        start = rss_bytes()

    memory = hopnb.AssociativeMemory(memories, "manhattan", hopnb.separation.softmax(beta=1.0))
    t0 = time.perf_counter()
    with torch.no_grad():
        out = memory(queries)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    peak = (torch.cuda.max_memory_allocated() if dev.type == "cuda" else peak_rss_bytes()) - start

    source = torch.arange(0, args.M, args.M // args.B, device=dev)[: args.B]
    hits = ((out - memories[source]).abs().amax(dim=1) < 1e-4).float().mean().item()
    print(f"device {dev}, M={args.M:,}, d={args.d}, B={args.B}, float32: memories {gib(memories.numel() * 4)}")
    print(f"retrieval time: {seconds:.1f} s ({args.B * args.M / seconds / 1e6:.0f} M query–memory pairs / s)")
    print(f"peak memory above the memories: {gib(max(peak, 0))}  (target ≤ 1.40 GiB = 1.5 GB)")
    print(f"queries retrieved their source exactly: {hits:.1%}")


if __name__ == "__main__":
    main()
