"""Benchmark 1: dot similarity + softmax retrieval against its roofline.

M = 20,000 memories, d = 784, B = 1,024 queries, float32. The roofline is the time of
the two matrix products retrieval cannot avoid, ``Q Mᵀ`` ([B, d] × [d, M]) and
``W M`` ([B, M] × [M, d]), measured in the same run. Target: ratio ≤ 1.3.

    python benchmarks/softmax_roofline.py [--device cuda] [--M 20000] [--B 1024]
"""

import torch

import hopnb
from harness import arguments, timed


def main():
    args = arguments(__doc__, M=20_000, B=1_024)
    dev = torch.device(args.device)
    g = torch.Generator(device=dev).manual_seed(0)
    memories = torch.rand(args.M, args.d, generator=g, device=dev)
    queries = torch.rand(args.B, args.d, generator=g, device=dev)
    weights = torch.rand(args.B, args.M, generator=g, device=dev)
    memory = hopnb.AssociativeMemory(memories, "dot", hopnb.separation.softmax(beta=0.01))

    with torch.no_grad():
        roof, _ = timed(lambda: (queries @ memories.T, weights @ memories), dev)
        ours, _ = timed(lambda: memory(queries), dev)
        torch.testing.assert_close(memory(queries), torch.softmax(0.01 * queries @ memories.T, 1) @ memories)
    print(f"device {dev}, threads {torch.get_num_threads()}, M={args.M}, d={args.d}, B={args.B}, float32")
    print(f"two matrix products (roofline): {roof * 1e3:8.1f} ms")
    print(f"hopnb dot + softmax retrieval:  {ours * 1e3:8.1f} ms")
    print(f"ratio: {ours / roof:.2f}  (target ≤ 1.3)")


if __name__ == "__main__":
    main()
