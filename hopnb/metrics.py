"""How well a retrieval did: errors per query and the fractions the papers report.

Defined in :doc:`/book/ch04_universal_hopfield`.

Every function takes ``retrieved [B, d]`` and ``targets [B, d]`` (the true sources),
or weights, and returns a tensor ``[B]`` or a Python float.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._validate import check_like, check_patterns, check_positive, check_real, shape_str, type_str

__all__ = ["sse", "fraction_correct", "fraction_cosine", "source_accuracy"]


def _pair(retrieved, targets):
    check_patterns(retrieved, "retrieved")
    check_patterns(targets, "targets")
    if retrieved.shape != targets.shape:
        raise ValueError(f"retrieved and targets must have the same shape [B, d]; got {shape_str(retrieved)} "
                         f"and {shape_str(targets)}")
    check_like(retrieved, targets, "retrieved", "targets")


def sse(retrieved: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Sum of squared errors per query, ``Σ_i (z_i − ξ_i)²``, ``[B]``.

    Defined in :doc:`/book/ch04_universal_hopfield`.

    >>> sse(torch.ones(1, 4), torch.zeros(1, 4))
    tensor([4.])
    """
    _pair(retrieved, targets)
    return (retrieved - targets).square().sum(dim=1)


def fraction_correct(retrieved: torch.Tensor, targets: torch.Tensor, threshold: float = 50.0) -> float:
    """Fraction of queries whose SSE is at most ``threshold``: the UHN criterion (Millidge et al.
    2022). Their code tests ``SSE ≤ 60``, scaled to ``60 · 784/d`` in its capacity run, and marks
    50 in its threshold sweep; chapter 4 reports both 50 and 60.

    Defined in :doc:`/book/ch04_universal_hopfield`.

    >>> fraction_correct(torch.zeros(2, 4), torch.tensor([[0.0] * 4, [1.0] * 4]), threshold=1.0)
    0.5
    """
    check_positive(threshold, "threshold")
    return (sse(retrieved, targets).double() <= threshold).float().mean().item()   # a tiny threshold is not 0


def fraction_cosine(retrieved: torch.Tensor, targets: torch.Tensor, threshold: float = 0.8) -> float:
    """Fraction of queries with cosine similarity ≥ ``threshold`` between output and source:
    the criterion of the sparse Hopfield code (Hu et al. 2023).

    Defined in :doc:`/book/ch05_uhop`.

    The comparison allows the cosine's rounding (4 machine epsilons), so that identical rows
    meet a threshold of 1.

    >>> fraction_cosine(torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([[1.0, 0.1], [1.0, 0.0]]))
    0.5
    """
    _pair(retrieved, targets)
    threshold = check_real(threshold, "threshold (a cosine similarity)", low=-1.0, high=1.0)
    # each row scaled by its largest entry first, so that tiny or huge rows keep their direction
    unit = [x / x.abs().amax(dim=1, keepdim=True).clamp_min(torch.finfo(x.dtype).tiny) for x in (retrieved, targets)]
    slack = 4 * torch.finfo(retrieved.dtype).eps       # the cosine's own rounding: identical rows meet threshold 1
    return (F.cosine_similarity(*unit, dim=1).double() >= threshold - slack).float().mean().item()


def source_accuracy(source: torch.Tensor, *, weights: torch.Tensor | None = None,
                    retrieved: torch.Tensor | None = None, memories: torch.Tensor | None = None) -> float:
    """Fraction of queries whose true ``source`` index (``[B]``) is recovered: the memory with the
    top weight (``weights [B, M]``), or the stored pattern nearest the output (``retrieved [B, d]``
    with ``memories [M, d]``, Euclidean) — A-Hop's notion of correct retrieval.

    Defined in :doc:`/book/ch06_ahop`, Eq. :eq:`eq-ch06-map`.

    >>> source_accuracy(torch.tensor([1, 0]), weights=torch.tensor([[0.1, 0.9], [0.2, 0.8]]))
    0.5
    """
    if (weights is None) == (retrieved is None):
        raise ValueError("source_accuracy needs exactly one of weights= or retrieved= (with memories=)")
    if not isinstance(source, torch.Tensor) or source.dtype == torch.bool or source.is_complex():
        raise TypeError(f"source must be a tensor [B] of memory indices; got {type_str(source)}")
    if weights is not None:
        if memories is not None:
            raise ValueError("source_accuracy(weights=...) takes no memories= (they serve retrieved=)")
        check_patterns(weights, "weights", bounded=False)
        guess = weights.argmax(dim=1)
        n_memories = weights.shape[1]
    else:
        if memories is None:
            raise ValueError("source_accuracy(retrieved=...) needs memories= to find the nearest stored pattern")
        check_patterns(retrieved, "retrieved")
        check_patterns(memories, "memories")
        check_like(retrieved, memories, "retrieved", "memories")
        guess = torch.cdist(retrieved, memories).argmin(dim=1)
        n_memories = memories.shape[0]
    if source.shape != guess.shape:
        raise ValueError(f"source must be [B] = [{guess.shape[0]}] indices; got {shape_str(source)}")
    if source.is_floating_point() and not bool(torch.isfinite(source).all()):
        raise ValueError(f"source must hold finite memory indices; got {source.tolist()[:8]}")
    if source.is_floating_point() and not bool((source == source.round()).all()):
        raise ValueError(f"source must hold whole-number memory indices; got {source.tolist()[:8]}")
    if bool((source < 0).any()) or bool((source >= n_memories).any()):
        raise ValueError(f"source must hold memory indices in [0, {n_memories - 1}]; got values in "
                         f"[{int(source.min())}, {int(source.max())}]")
    return (guess == source.to(guess.device)).float().mean().item()
