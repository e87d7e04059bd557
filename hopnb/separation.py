"""Separation functions: ``scores [B, M] -> weights [B, M]``, applied row by row.

Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-uhn`.

The second factor of the UHN retrieval ``z = P · sep(sim(M, q))`` (Millidge et al.
2022; chapter 4, eq. (4.1)). Each is a small ``nn.Module``; an inverse temperature
β always sits *inside* the separation (``softmax(β s)``), never after it.

Three families, which :class:`hopnb.AssociativeMemory` streams differently over
chunks of memories:

* element-wise maps (:class:`Identity`, :class:`Polynomial`, :class:`Threshold`):
  weights of one memory depend on its score alone, optionally renormalised to sum 1;
* :class:`Softmax`: a running log-sum-exp over chunks;
* :class:`Max`: a running arg-max;
* everything else (:class:`Sparsemax`, :class:`Entmax`, any callable) sees whole rows.
"""

from __future__ import annotations

import torch
from torch import nn

from ._validate import check_positive, check_real, check_result, check_scores

__all__ = ["Separation", "Identity", "Polynomial", "Threshold", "Softmax", "Max", "Sparsemax", "Entmax",
           "identity", "polynomial", "threshold", "softmax", "max", "sparsemax", "entmax", "get", "NAMES"]


def _beta(beta) -> float | torch.Tensor:
    """β as given: a learnable tensor is kept (and must be a positive finite scalar, now and
    whenever it is used: see :func:`beta_of`), a number is checked."""
    if isinstance(beta, torch.Tensor) and beta.requires_grad:
        _check_learnable_beta(beta)
        return beta
    return check_positive(beta, "beta")


def _check_learnable_beta(beta: torch.Tensor) -> None:
    if beta.numel() != 1 or not beta.is_floating_point():
        raise ValueError(f"beta must be a positive finite scalar; got a tensor {list(beta.shape)} {beta.dtype}")
    value = float(beta.detach())
    if not (value > 0 and value < float("inf")):
        raise ValueError(f"beta must be a positive finite scalar; got {value} (a learnable beta must stay positive: "
                         f"train log β instead, or clamp it)")


def beta_of(separation) -> float | torch.Tensor:
    """The separation's β, checked again (a learnable β may have been trained out of range)."""
    beta = separation.beta
    if isinstance(beta, torch.Tensor):
        _check_learnable_beta(beta)
    return beta


def _check_scores(scores) -> None:
    check_scores(scores)


class Separation(nn.Module):
    """Base class: ``forward(scores [B, M]) -> weights [B, M]``, row by row (over the last
    dimension; leading batch dimensions ``[N, B, M]`` are allowed).

    Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-uhn`.

    A subclass gives ``separate``; ``forward`` checks the scores and the weights:

    >>> class Square(Separation):
    ...     def separate(self, scores):
    ...         return scores ** 2
    >>> Square()(torch.tensor([[1.0, -2.0]]))
    tensor([[1., 4.]])
    """

    def forward(self, scores: torch.Tensor) -> torch.Tensor:
        _check_scores(scores)
        return check_result(self.separate(scores), f"{type(self).__name__} weights",
                            "the scores overflow this separation's arithmetic (e.g. β · scores or scores^n); "
                            "lower beta or n, or rescale the scores")

    def separate(self, scores: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError


class Elementwise(Separation):
    """Weights ``f(s_{bμ})`` memory by memory; ``normalize`` divides each row by its sum."""

    def __init__(self, normalize: bool = False):
        super().__init__()
        self.normalize = bool(normalize)

    def map(self, scores: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def separate(self, scores):
        w = self.map(scores)
        if self.normalize:
            total = w.sum(dim=-1, keepdim=True)
            w = w / torch.where(total == 0, torch.ones_like(total), total)
        return w


class Identity(Elementwise):
    """``sep(s) = s``: the classical Hopfield network's separation (chapter 1).

    Defined in :doc:`/book/ch01_classical_hopfield`, Eq. :eq:`eq-ch01-hebb`.

    >>> Identity()(torch.tensor([[1.0, -2.0]]))
    tensor([[ 1., -2.]])
    """

    def map(self, scores):
        return scores


class Polynomial(Elementwise):
    """``sep(s) = s^n`` (``rectified``: ``max(s, 0)^n``), the dense associative memory of order n
    (Krotov & Hopfield 2016; chapter 2, eq. (2.2); its first-order update, chapter 4).

    Defined in :doc:`/book/ch02_dense_associative_memory`, Eq. :eq:`eq-ch02-F`.

    A non-integer n needs ``rectified=True`` (negative bases have no real power).

    >>> Polynomial(3)(torch.tensor([[2.0, -1.0]]))
    tensor([[ 8., -1.]])
    >>> Polynomial(2, rectified=True)(torch.tensor([[2.0, -1.0]]))
    tensor([[4., 0.]])
    """

    def __init__(self, n: float, rectified: bool = False, normalize: bool = False):
        super().__init__(normalize)
        n = check_positive(n, "polynomial order n", minimum=1.0, strict=False)
        if not rectified and n != int(n):
            raise ValueError(f"polynomial order n must be an integer unless rectified=True; got {n}")
        self.n, self.rectified = (int(n) if n == int(n) else n), bool(rectified)

    def map(self, scores):
        return (scores.clamp_min(0) if self.rectified else scores).pow(self.n)

    def separate(self, scores):
        w = super().separate(scores)
        if self.normalize:
            rows = ~torch.isfinite(w).all(dim=-1)
            if bool(rows.any()):  # s^n overflowed: normalise (s / max|s|)^n instead, the same weights
                s = scores[rows]
                scale = s.abs().amax(dim=-1, keepdim=True)
                scaled = super().separate(s / torch.where(scale == 0, torch.ones_like(scale), scale))
                w = w.clone()
                w[rows] = scaled
        return w

    def extra_repr(self):
        return f"n={self.n}, rectified={self.rectified}, normalize={self.normalize}"


class Threshold(Elementwise):
    """``sep(s) = 1[s ≥ θ]``: every memory within the threshold gets weight 1, as in sparse
    distributed memory (Kanerva 1988), with similarity = negative Hamming distance.

    Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-uhn`.

    >>> Threshold(-1.0)(torch.tensor([[0.0, -1.0, -2.0]]))
    tensor([[1., 1., 0.]])
    """

    def __init__(self, theta: float = 0.0, normalize: bool = False):
        super().__init__(normalize)
        self.theta = check_real(theta, "theta")

    def map(self, scores):
        return (scores >= self.theta).to(scores.dtype)

    def extra_repr(self):
        return f"theta={self.theta}, normalize={self.normalize}"


class Softmax(Separation):
    """``sep(s) = softmax(β s)``, the modern continuous Hopfield network's separation
    (Ramsauer et al. 2020; chapter 3, eq. (3.4)). Computed with log-sum-exp, finite at any β.

    Defined in :doc:`/book/ch03_modern_hopfield`, Eq. :eq:`eq-ch03-update`.

    >>> Softmax(beta=1e6)(torch.tensor([[1.0, 0.0]]))
    tensor([[1., 0.]])
    """

    def __init__(self, beta: float = 1.0):
        super().__init__()
        self.beta = _beta(beta)

    def separate(self, scores):
        return torch.softmax(beta_of(self) * scores, dim=-1)

    def extra_repr(self):
        return f"beta={float(self.beta):g}"


class Max(Separation):
    """``sep(s) = onehot(argmax_μ s_μ)``: the limit of softmax(β s) as β → ∞ (ties go to the first).

    Defined in :doc:`/book/ch00_associative_memory_in_ten_minutes`, Eq. :eq:`eq-ch00-similarity`.

    >>> Max()(torch.tensor([[0.2, 0.7, 0.1]]))
    tensor([[0., 1., 0.]])
    """

    def separate(self, scores):
        return torch.zeros_like(scores).scatter_(-1, scores.argmax(dim=-1, keepdim=True), 1.0)


class Entmax(Separation):
    """``sep(s) = α-entmax(β s)`` (Peters et al. 2019), the sparse modern Hopfield network's separation
    (Hu et al. 2023; U-Hop eq. (2.4); chapter 5). α → 1 is softmax, α = 2 is sparsemax.

    Defined in :doc:`/book/ch05_uhop`, Eq. :eq:`eq-ch05-margin`.

    Its output is exactly one-hot when the top score beats the runner-up by at least
    ``1 / (β (α − 1))`` (U-Hop eq. (E.1)). Uses the ``entmax`` package (exact sort-based
    algorithms for α = 1.5 and 2, bisection otherwise).

    >>> Entmax(alpha=2.0)(torch.tensor([[1.0, 0.0, -1.0]]))
    tensor([[1., 0., 0.]])
    """

    def __init__(self, alpha: float = 1.5, beta: float = 1.0):
        super().__init__()
        alpha = check_positive(alpha, "entmax alpha", minimum=1.0)
        self.alpha, self.beta = alpha, _beta(beta)

    def separate(self, scores):
        import entmax as _entmax

        z = beta_of(self) * scores
        if self.alpha == 2.0:
            return _entmax.sparsemax(z, dim=-1)
        if self.alpha == 1.5:
            return _entmax.entmax15(z, dim=-1)
        return _entmax.entmax_bisect(z, alpha=self.alpha, dim=-1)

    def extra_repr(self):
        return f"alpha={self.alpha:g}, beta={float(self.beta):g}"


class Sparsemax(Entmax):
    """``sep(s) = sparsemax(β s)``, the Euclidean projection of ``β s`` onto the simplex
    (Martins & Astudillo 2016): α-entmax with α = 2. One-hot iff the margin is ≥ 1/β.

    Defined in :doc:`/book/ch05_uhop`, Eq. :eq:`eq-ch05-margin`.

    >>> Sparsemax()(torch.tensor([[0.5, 0.0]]))
    tensor([[0.7500, 0.2500]])
    """

    def __init__(self, beta: float = 1.0):
        super().__init__(alpha=2.0, beta=beta)

    def extra_repr(self):
        return f"beta={float(self.beta):g}"


# Lower-case constructors, as the book writes them: ``separation.softmax(beta=8)``.
identity, polynomial, threshold, softmax = Identity, Polynomial, Threshold, Softmax
max, sparsemax, entmax = Max, Sparsemax, Entmax  # noqa: A001 (``max`` mirrors the UHN paper's name)

_REGISTRY = {"identity": Identity, "polynomial": Polynomial, "threshold": Threshold, "softmax": Softmax,
             "max": Max, "sparsemax": Sparsemax, "entmax": Entmax}
#: The names :func:`get` accepts.
NAMES = tuple(_REGISTRY)


def get(name: str, **params) -> Separation:
    """The separation called ``name`` built with ``params``, e.g. ``get("softmax", beta=8.0)``.

    Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-uhn`.

    >>> get("softmax", beta=8.0)
    Softmax(beta=8)
    >>> get("max")(torch.tensor([[0.2, 0.7, 0.1]]))
    tensor([[0., 1., 0.]])
    """
    if name not in _REGISTRY:
        raise ValueError(f"unknown separation {name!r}; known: {', '.join(NAMES)} (or pass any callable "
                         f"scores [B, M] -> weights [B, M])")
    return _REGISTRY[name](**params)
