"""Benchmark 1: dot similarity + softmax retrieval against its roofline.

M = 20,000 memories, d = 784, B = 1,024 queries, float32. The roofline is the time of
the two matrix products retrieval cannot avoid, ``Q Mᵀ`` ([B, d] × [d, M]) and
``W M`` ([B, M] × [M, d]), measured in the same run. Target: ratio ≤ 1.3. The peer is
``scaled_dot_product_attention`` on 4-D views (the 3-D call takes the slow math backend).
Times in one process, variants in turns (median of 5).

    python benchmarks/softmax_roofline.py [--device cuda] [--M 20000] [--B 1024]
"""

import torch

import hopnb
import torch.nn.functional as F

from harness import alternating, arguments


def main():
    args = arguments(__doc__, M=20_000, B=1_024)
    dev = torch.device(args.device)
    g = torch.Generator(device=dev).manual_seed(0)
    memories = torch.rand(args.M, args.d, generator=g, device=dev)
    queries = torch.rand(args.B, args.d, generator=g, device=dev)
    weights = torch.rand(args.B, args.M, generator=g, device=dev)
    memory = hopnb.AssociativeMemory(memories, "dot", hopnb.separation.softmax(beta=0.01))

    q4, m4 = queries[None, None], memories[None, None]
    with torch.no_grad():
        t = alternating({"roof": lambda: (queries @ memories.T, weights @ memories), "ours": lambda: memory(queries),
                         "sdpa": lambda: F.scaled_dot_product_attention(q4, m4, m4, scale=0.01)}, dev)
        torch.testing.assert_close(memory(queries), torch.softmax(0.01 * queries @ memories.T, 1) @ memories)
        torch.testing.assert_close(F.scaled_dot_product_attention(q4, m4, m4, scale=0.01)[0, 0], memory(queries))
    print(f"device {dev}, threads {torch.get_num_threads()}, M={args.M}, d={args.d}, B={args.B}, float32")
    print(f"two matrix products (roofline):         {t['roof'] * 1e3:8.1f} ms")
    print(f"hopnb dot + softmax retrieval:          {t['ours'] * 1e3:8.1f} ms")
    print(f"scaled_dot_product_attention, 4-D views: {t['sdpa'] * 1e3:8.1f} ms")
    print(f"ratio to the roofline: {t['ours'] / t['roof']:.2f}  (target ≤ 1.3); to sdpa: {t['ours'] / t['sdpa']:.2f}")


if __name__ == "__main__":
    main()
