"""Benchmark 2: Manhattan similarity + softmax retrieval, time and peak memory.

M = 20,000, d = 784, B = 1,024, float32. Compared, each in a fresh process:

* hopnb (chunked ``torch.cdist(p=1)`` with a running log-sum-exp);
* the baseline ``softmax(-β torch.cdist(Q, M, p=1)) @ M`` on whole ``[B, M]`` scores
  (target: hopnb no slower and using no more memory);
* the naive broadcast ``(Q[:, None] - M[None]).abs().sum(-1)``, for the record; it builds
  ``[B, M, d]`` (50 GiB here), so it runs on the first ``--naive-B`` queries and its time
  and memory are scaled up by ``B / naive-B``.

    python benchmarks/manhattan_softmax.py [--device cuda]
"""

import torch

import hopnb
from harness import arguments, gib, isolated, timed

BETA = 0.05


def data(M, d, B, device):
    g = torch.Generator(device=device).manual_seed(0)
    return torch.rand(M, d, generator=g, device=device), torch.rand(B, d, generator=g, device=device)


def run(variant, M, d, B, device):
    device = torch.device(device)
    torch.set_num_threads(torch.get_num_threads())
    memories, queries = data(M, d, B, device)
    if variant == "hopnb":
        memory = hopnb.AssociativeMemory(memories, "manhattan", hopnb.separation.softmax(beta=BETA))
        fn = lambda: memory(queries)  # noqa: E731
    elif variant == "cdist":
        fn = lambda: torch.softmax(-BETA * torch.cdist(queries, memories, p=1.0), dim=1) @ memories  # noqa: E731
    else:
        fn = lambda: torch.softmax(-BETA * (queries[:, None] - memories[None]).abs().sum(-1), dim=1) @ memories  # noqa
    with torch.no_grad():
        seconds, peak = timed(fn, device, repeat=2)
        out = fn()[:4].cpu().tolist()  # plain lists cross the process boundary
    return seconds, peak, out


def main():
    args = arguments(__doc__, M=20_000, B=1_024, naive_B=8)
    results = {v: isolated(run, v, args.M, args.d, args.B, args.device) for v in ("hopnb", "cdist")}
    naive = isolated(run, "naive", args.M, args.d, args.naive_B, args.device)
    ref = torch.tensor(results["cdist"][2])
    torch.testing.assert_close(torch.tensor(results["hopnb"][2]), ref, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(torch.tensor(naive[2]), ref[: min(4, args.naive_B)], atol=1e-4, rtol=1e-3)
    scale = args.B / args.naive_B
    print(f"device {args.device}, M={args.M}, d={args.d}, B={args.B}, float32, beta={BETA}")
    print(f"{'method':<34}{'time':>10}{'peak memory':>14}")
    for name, (sec, peak, _) in results.items():
        print(f"{name:<34}{sec:>9.2f}s{gib(peak):>14}")
    print(f"{'naive broadcast (scaled from B=%d)' % args.naive_B:<34}{naive[0] * scale:>9.2f}s{gib(naive[1] * scale):>14}")
    h, c = results["hopnb"], results["cdist"]
    print(f"hopnb / cdist: time {h[0] / c[0]:.2f}, peak memory {h[1] / max(c[1], 1):.2f}  (target ≤ 1 for both)")


if __name__ == "__main__":
    main()
