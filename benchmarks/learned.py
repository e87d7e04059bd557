"""Benchmarks of the learned similarities and the Hopfield layer, each with its baseline.

1. A-Hop footprint similarity vs dot similarity, M = 1,000, d = 784, B = 256 (ratio; the
   A-Hop paper reports 15–30 % overhead on a GPU, where the sort is cheap).
2. U-Hop Stage I: time per gradient step of the separation loss, M = 1,000, d = 784,
   against one forward dot-product retrieval of all M memories.
3. ``hopnb.nn.Hopfield`` forward + backward vs ``scaled_dot_product_attention`` at equal
   shapes (N = 32 sets, S = L = 256, d = 64).

    python benchmarks/learned.py [--device cuda]
"""

import torch
import torch.nn.functional as F

import hopnb
from harness import arguments, timed
from hopnb.footprint import FootprintSimilarity
from hopnb.kernel import KernelSimilarity
from hopnb.nn import Hopfield


def main():
    args = arguments(__doc__, M=1_000, B=256, N=32, L=256, head=64)
    dev = torch.device(args.device)
    g = torch.Generator(device=dev).manual_seed(0)
    memories = torch.rand(args.M, args.d, generator=g, device=dev)
    queries = torch.rand(args.B, args.d, generator=g, device=dev)
    print(f"device {dev}, threads {torch.get_num_threads()}, float32")

    foot = FootprintSimilarity(args.d).to(dev)
    with torch.no_grad():
        t_dot, _ = timed(lambda: hopnb.similarity.dot(memories, queries), dev)
        t_foot, _ = timed(lambda: foot(memories, queries), dev, repeat=1)
    print(f"1. footprint vs dot similarity (M={args.M}, d={args.d}, B={args.B}): "
          f"{t_foot * 1e3:.0f} ms vs {t_dot * 1e3:.2f} ms, ratio {t_foot / t_dot:.0f}")

    kernel = KernelSimilarity(args.d, generator=torch.Generator().manual_seed(0)).to(dev)

    def stage_one_step():
        loss = kernel.loss(memories)
        (grad,) = torch.autograd.grad(loss, kernel.weight)
        with torch.no_grad():
            kernel.weight -= 0.1 * grad

    t_step, _ = timed(stage_one_step, dev)
    with torch.no_grad():
        t_retrieve, _ = timed(lambda: hopnb.AssociativeMemory(memories, "dot")(memories), dev)
    print(f"2. U-Hop stage I (M={args.M}, d={args.d}): {t_step * 1e3:.1f} ms per step, "
          f"{t_step / t_retrieve:.1f}× one dot-product retrieval of all memories ({t_retrieve * 1e3:.1f} ms)")

    shape = (args.N, args.L, args.head)
    q, k, v = (torch.randn(shape, generator=g, device=dev, requires_grad=True) for _ in range(3))
    layer = Hopfield(separation=hopnb.separation.softmax(beta=args.head ** -0.5))

    def ours():
        layer(q, k, v).sum().backward()

    def sdpa():
        F.scaled_dot_product_attention(q, k, v).sum().backward()

    t_ours, _ = timed(ours, dev)
    t_sdpa, _ = timed(sdpa, dev)
    print(f"3. Hopfield layer fwd+bwd vs scaled_dot_product_attention (N={args.N}, S=L={args.L}, d={args.head}): "
          f"{t_ours * 1e3:.1f} ms vs {t_sdpa * 1e3:.1f} ms, ratio {t_ours / t_sdpa:.2f}")


if __name__ == "__main__":
    main()
