"""Benchmarks of the learned similarities and the Hopfield layer, against their floors and peers.

Times in one process, variants in turns (median of 5).

1. A-Hop footprint similarity, M = 1,000, d = 784, B = 256, default parameters (β_dot = 0),
   no gradient: against its floor, a values-only sort (NumPy's, on all threads) of the
   same ``[B·M, d]`` numbers, target ≤ 1.5 (issue 13); against the ``torch.sort`` path it
   replaced; against the dot similarity (the A-Hop paper reports 15–30 % overhead on a GPU).
2. U-Hop Stage I, one gradient step of the separation loss, M = 1,000, d = 784: against its
   arithmetic floor, the matrix products a step needs (``X Wᵀ``, the Gram matrix ``Φ̂ Φ̂ᵀ``,
   ``P Φ̂`` and ``∂Φᵀ X``), target ≤ 1.5; against the ``torch.pdist`` loss it replaced.
3. ``hopnb.nn.Hopfield`` forward + backward against ``scaled_dot_product_attention`` on 4-D
   views (the 3-D call takes the slow math backend) at equal shapes (N = 32, S = L = 256, d = 64),
   target ≤ 1.0: the median ratio over 200 adjacent pairs (``harness.paired``), with its quartiles.

    python benchmarks/learned.py [--device cuda]
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

import hopnb
from harness import alternating, arguments, paired
from hopnb.footprint import FootprintSimilarity, _torch_sorted_score
from hopnb.kernel import KernelSimilarity
from hopnb.nn import Hopfield
from hopnb.runtime import split, threaded


def sort_rows(rows, start, stop):
    rows[start:stop].sort(axis=-1)


def pdist_loss(features, t=2.0):
    sq = torch.pdist(F.normalize(features, dim=1)).square()
    return torch.logsumexp(-t * sq, dim=0) - math.log(sq.numel())


def main():
    args = arguments(__doc__, M=1_000, B=256, N=32, L=256, head=64)
    dev = torch.device(args.device)
    g = torch.Generator(device=dev).manual_seed(0)
    memories = torch.rand(args.M, args.d, generator=g, device=dev)
    queries = torch.rand(args.B, args.d, generator=g, device=dev)
    print(f"device {dev}, threads {torch.get_num_threads()}, float32")

    foot = FootprintSimilarity(args.d).to(dev)
    data = (memories[None] - queries[:, None]).square().reshape(-1, args.d).cpu().numpy()
    work = data.copy()

    def floor_sort():
        np.copyto(work, data)  # not timed below: subtracted as "copy"
        threaded(sort_rows, [(work, lo, hi) for lo, hi in split(work.shape[0], args.d)])

    with torch.no_grad():
        c = foot.coefficients("dis")
        t = alternating({"footprint": lambda: foot(memories, queries),
                         "torch.sort path": lambda: _torch_sorted_score(memories, queries, "dis", c),
                         "floor": floor_sort, "copy": lambda: np.copyto(work, data),
                         "dot": lambda: hopnb.similarity.dot(memories, queries)}, dev)
    floor = t["floor"] - t["copy"]
    print(f"1. footprint (M={args.M}, d={args.d}, B={args.B}): {t['footprint'] * 1e3:.0f} ms; values-only sort of "
          f"the same [B·M, d] numbers {floor * 1e3:.0f} ms: ratio {t['footprint'] / floor:.2f} (target ≤ 1.5); "
          f"the torch.sort path {t['torch.sort path'] * 1e3:.0f} ms ({t['torch.sort path'] / t['footprint']:.1f}× "
          f"slower); {t['footprint'] / t['dot']:.0f}× the dot similarity ({t['dot'] * 1e3:.2f} ms)")

    kernel = KernelSimilarity(args.d, generator=torch.Generator().manual_seed(0)).to(dev)

    def step(loss_fn):
        loss = loss_fn(kernel.features(memories))
        (grad,) = torch.autograd.grad(loss, kernel.weight)
        with torch.no_grad():
            kernel.weight -= 0.1 * grad

    w = kernel.weight.detach().clone()
    gram = torch.rand(args.M, args.M, device=dev)

    def floor_step():
        phi = memories @ w.T
        phi @ phi.T, gram @ phi, phi.T @ memories

    t = alternating({"gram": lambda: step(hopnb.kernel.separation_loss), "pdist": lambda: step(pdist_loss),
                     "floor": floor_step}, dev)
    print(f"2. U-Hop stage I (M={args.M}, d={args.d}): {t['gram'] * 1e3:.1f} ms per step; floor (its matrix "
          f"products) {t['floor'] * 1e3:.1f} ms: ratio {t['gram'] / t['floor']:.2f} (target ≤ 1.5); the pdist loss "
          f"{t['pdist'] * 1e3:.1f} ms per step ({t['pdist'] / t['gram']:.2f}× slower)")

    shape = (args.N, args.L, args.head)
    q, k, v = (torch.randn(shape, generator=g, device=dev, requires_grad=True) for _ in range(3))
    layer = Hopfield(separation=hopnb.separation.softmax(beta=args.head ** -0.5))
    ratio, low, high, ours, sdpa = paired(lambda: layer(q, k, v).sum().backward(),
                                          lambda: F.scaled_dot_product_attention(q[:, None], k[:, None], v[:, None])
                                          .sum().backward(), dev)
    print(f"3. Hopfield layer fwd+bwd vs scaled_dot_product_attention on 4-D views (N={args.N}, S=L={args.L}, "
          f"d={args.head}): {ours * 1e3:.1f} ms vs {sdpa * 1e3:.1f} ms; ratio over 200 adjacent pairs: median "
          f"{ratio:.3f}, quartiles {low:.3f}–{high:.3f} (target ≤ 1.0)")

if __name__ == "__main__":
    main()
