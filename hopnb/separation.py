"""Separation functions: ``scores [B, M] -> weights [B, M]``, applied row by row.

Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-uhn`.

The second factor of the UHN retrieval ``z = P · sep(sim(M, q))`` (Millidge et al.
2022; chapter 4, eq. (4.1)). Each is a small ``nn.Module``; an inverse temperature
β always sits *inside* the separation (``softmax(β s)``), never after it.

Each separation owns what the engine needs from it, so that a new one (or a subclass
of a built-in one) works everywhere without editing the engine:

* :meth:`Separation.separate` — the weights of whole rows;
* :meth:`Separation.stream` — ``sep(s) V`` from chunks of memories: a running
  log-sum-exp for :class:`Softmax`, a running arg-max for :class:`Max`, running sums for
  the element-wise maps; whole rows for everything else;
* :meth:`Separation.conjugate` — the convex function ``Ψ*`` whose gradient is the
  separation (U-Hop eq. (2.3); chapter 5), from which :meth:`hopnb.AssociativeMemory.energy`
  is built;
* :meth:`Separation.softmax_beta` — β when the separation is exactly ``softmax(β s)``,
  so that retrieval may use :func:`torch.nn.functional.scaled_dot_product_attention`.

A subclass that overrides :meth:`~Separation.separate` (or :meth:`~Elementwise.map`) and not
one of the others falls back to the generic version of that other (whole rows, no
conjugate, no attention kernel), so its retrieval always agrees with its weights.

β (and α for :class:`Entmax`) is learnable with ``learnable=True`` or when given as a tensor
that requires grad: it is then an ``nn.Parameter`` holding ``log β`` (``log(α − 1)``), positive
by construction, listed by ``.parameters()`` and moved by ``.to()``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable

import torch
from torch import nn

from ._validate import check_bool, check_positive, check_real, check_result, check_scores, free, shape_str

__all__ = ["Separation", "Elementwise", "Function", "Identity", "Polynomial", "Threshold", "Softmax", "Max",
           "Sparsemax", "Entmax", "identity", "polynomial", "threshold", "softmax", "sparsemax", "entmax", "get",
           "as_separation", "NAMES"]

Chunks = Iterable[tuple[torch.Tensor, torch.Tensor]]
_DERIVED = ("stream", "conjugate", "softmax_beta")


def _positive_scalar(value, name: str, minimum: float, learnable: bool) -> float:
    """A number > ``minimum``; a learnable tensor must be a positive finite scalar."""
    if isinstance(value, torch.Tensor) and learnable:
        ok = value.numel() == 1 and value.is_floating_point()
        number = float(value.detach()) if ok else float("nan")
        if not (ok and minimum < number < float("inf")):
            got = number if ok else f"a tensor {shape_str(value)} {value.dtype}"
            raise ValueError(f"{name} must be a positive finite scalar (> {minimum:g}); got {got}")
        return number
    return check_positive(value, name, minimum=minimum)


def _number(value) -> float:
    return float(value.detach()) if isinstance(value, torch.Tensor) else value


def _learnable(value, learnable) -> bool:
    return check_bool(learnable, "learnable") or (isinstance(value, torch.Tensor) and value.requires_grad)


def _ratio(acc: torch.Tensor, total: torch.Tensor) -> torch.Tensor:
    """``acc / total``, with rows of total 0 (no mass) left at 0."""
    return acc / torch.where(total == 0, torch.ones_like(total), total)


def _finite_or_zero(m: torch.Tensor) -> torch.Tensor:
    return torch.where(torch.isfinite(m), m, torch.zeros_like(m))


def _check_input(scores) -> None:
    """Scores ``[..., B, M]``; their values (no NaN or +inf, no row all −inf) where reading them is free."""
    if not isinstance(scores, torch.Tensor) or free(scores):
        check_scores(scores)
        blind = torch.isneginf(scores).all(dim=-1)
        if bool(blind.any()):
            raise ValueError(f"every score is −inf (every memory masked) in {int(blind.sum())} row(s) of the scores "
                             f"{shape_str(scores)}; weights over no memory are undefined")
    elif scores.ndim < 2:
        raise ValueError(f"a separation takes scores [B, M]; got {shape_str(scores)}")


def _check_shape(weights, scores: torch.Tensor) -> torch.Tensor:
    """Weights must come back in the scores' shape."""
    if not isinstance(weights, torch.Tensor) or weights.shape != scores.shape:
        what = (f"[B, M] = {list(scores.shape)} (the scores' shape)" if scores.ndim == 2
                else f"of the scores' shape {list(scores.shape)}")
        got = shape_str(weights) if isinstance(weights, torch.Tensor) else type(weights).__name__
        raise ValueError(f"separation must return weights {what}; got {got}")
    if weights.dtype != scores.dtype:
        raise TypeError(f"separation must return weights of the scores' dtype {scores.dtype}; got {weights.dtype}")
    return weights


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

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "separate" in cls.__dict__ or "forward" in cls.__dict__:  # new weights: the inherited stream,
            # conjugate and attention kernel no longer match them
            for name in _DERIVED:
                if name not in cls.__dict__:
                    setattr(cls, name, getattr(Separation, name))

    def _positive(self, name: str, value, learnable: bool, minimum: float = 0.0) -> None:
        """Keep the parameter ``name`` (> ``minimum``): a float, or when learnable an ``nn.Parameter``
        ``log_{name}`` holding ``log(value − minimum)``, so that it stays above ``minimum``."""
        learnable = _learnable(value, learnable)
        number = _positive_scalar(value, name if name != "alpha" else "entmax alpha", minimum, learnable)
        if learnable:
            like = value if isinstance(value, torch.Tensor) else torch.empty(())
            init = torch.tensor(math.log(number - minimum), dtype=like.dtype, device=like.device)
            self.register_parameter(f"log_{name}", nn.Parameter(init))
        else:
            setattr(self, f"_{name}", number)

    def _value(self, name: str, minimum: float = 0.0):
        log = self._parameters.get(f"log_{name}")
        if log is None:
            return getattr(self, f"_{name}")
        value = minimum + log.exp()
        if free(value) and not minimum < float(value.detach()) < float("inf"):    # trained or set out of range
            raise ValueError(f"the learnable {name} is {float(value.detach()):g} (log_{name} = "
                             f"{float(log.detach()):g}); it must stay finite and above {minimum:g} in {value.dtype}")
        return value

    def forward(self, scores: torch.Tensor) -> torch.Tensor:
        """The weights of ``scores``, checked: shapes always, values where that is free.

        >>> Softmax(beta=2.0)(torch.tensor([[0.0, 0.5]])).round(decimals=4)
        tensor([[0.2689, 0.7311]])
        """
        _check_input(scores)
        w = self._weights(scores)
        if free(w):
            check_result(w, f"{type(self).__name__} weights",
                         "the scores overflow this separation's arithmetic (e.g. β · scores or scores^n); "
                         "lower beta or n, or rescale the scores")
        return w

    def _weights(self, scores: torch.Tensor) -> torch.Tensor:
        """:meth:`separate` with its output's shape checked."""
        return _check_shape(self.separate(scores), scores)

    def separate(self, scores: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        """The weights ``sep(s)`` ``[..., B, M]`` of whole rows of scores ``[..., B, M]``; what a
        subclass gives (:meth:`forward` calls it and checks the result).

        >>> Max().separate(torch.tensor([[0.2, 0.7, 0.1]]))
        tensor([[0., 1., 0.]])
        """
        raise NotImplementedError

    def stream(self, chunks: Chunks) -> torch.Tensor:
        """``sep(s) V`` from ``(scores [..., B, m], values [..., m, d'])`` chunks that cover the
        memories in order. This generic version gathers whole rows first; the built-in
        separations combine the chunks as they come, and agree with it:

        >>> s, v = torch.tensor([[1.0, 3.0, 2.0]]), torch.eye(3)
        >>> chunks = [(s[:, :2], v[:2]), (s[:, 2:], v[2:])]
        >>> torch.allclose(Softmax().stream(chunks), Softmax()(s) @ v)
        True
        """
        scores, values = zip(*chunks)
        scores = torch.cat(scores, dim=-1)
        return _check_shape(self(scores), scores) @ torch.cat(values, dim=-2)

    def conjugate(self, scores: torch.Tensor) -> torch.Tensor:
        """``Ψ*(s)`` for each row ``[..., B]``: the convex function whose gradient in ``s`` is
        ``sep(s)`` (U-Hop eq. (2.3); chapter 5).

        >>> s = torch.tensor([[0.0, 1.0]], requires_grad=True)
        >>> (grad,) = torch.autograd.grad(Softmax().conjugate(s).sum(), s)
        >>> torch.allclose(grad, Softmax()(s))
        True
        """
        raise NotImplementedError(f"{type(self).__name__} has no convex conjugate here (its weights are not the "
                                  f"gradient of a known convex function of the scores), so no energy")

    def _conjugate_gap(self, scores: torch.Tensor) -> torch.Tensor:
        """``Ψ*(s) − Ψ*(0)`` for each row, the part of the energy that depends on the scores."""
        return self.conjugate(scores) - self.conjugate(torch.zeros_like(scores[..., :1, :]))

    def softmax_beta(self):
        """β when ``sep(s) = softmax(β s)`` exactly, else None.

        >>> Softmax(beta=4.0).softmax_beta(), Sparsemax().softmax_beta()
        (4.0, None)
        """
        return None


class Function(Separation):
    """Any callable ``scores -> weights`` as a separation (chapter 4, eq. (4.1)): whole rows, no conjugate.

    Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-uhn`.

    Under a mask the callable sees −inf for the masked memories and must give them weight 0
    (``torch.softmax`` and ``relu`` do).

    >>> Function(lambda s: s.relu())(torch.tensor([[1.0, -2.0]]))
    tensor([[1., 0.]])
    """

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor]):
        super().__init__()
        if not callable(fn):
            raise TypeError(f"Function needs a callable scores [B, M] -> weights [B, M]; got {type(fn).__name__}")
        self.fn = fn

    def forward(self, scores: torch.Tensor) -> torch.Tensor:
        """The callable's weights, shape-checked; what they hold is the caller's to check.

        >>> Function(lambda s: s.square())(torch.tensor([[1.0, -2.0]]))
        tensor([[1., 4.]])
        """
        _check_input(scores)
        return self._weights(scores)

    def separate(self, scores):
        return self.fn(scores)

    def extra_repr(self):
        return getattr(self.fn, "__name__", repr(self.fn))


def _unmasked(scores: torch.Tensor) -> torch.Tensor:
    """Scores with 0 for a masked memory (−inf), whose term of an element-wise conjugate is then 0,
    as its weight is."""
    return scores.masked_fill(torch.isneginf(scores), 0.0)


class Elementwise(Separation):
    """Weights ``f(s_{bμ})`` memory by memory; ``normalize`` divides each row by its sum.

    Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-uhn`.

    Streams as running sums ``Σ f(s) V`` and ``Σ f(s)``; a subclass gives :meth:`map`. A masked
    memory (score −inf) gets weight 0, whatever ``f(−inf)`` would be.

    >>> class Relu(Elementwise):
    ...     def map(self, scores):
    ...         return scores.relu()
    >>> Relu(normalize=True)(torch.tensor([[3.0, -1.0, 1.0, float("-inf")]]))
    tensor([[0.7500, 0.0000, 0.2500, 0.0000]])
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "map" in cls.__dict__:  # a new map(): running sums still apply, an inherited conjugate does not
            if "stream" not in cls.__dict__:
                cls.stream = Elementwise.stream
            if "conjugate" not in cls.__dict__:
                cls.conjugate = Separation.conjugate

    def __init__(self, normalize: bool = False):
        super().__init__()
        self.normalize = check_bool(normalize, "normalize")

    def map(self, scores: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        """``f(s)`` entry by entry, before any normalisation; what a subclass gives.

        >>> Polynomial(2, normalize=True).map(torch.tensor([[1.0, 3.0]]))
        tensor([[1., 9.]])
        """
        raise NotImplementedError

    def _map(self, scores: torch.Tensor) -> torch.Tensor:
        """:meth:`map`, with weight 0 where a score is −inf (a masked memory); ``map`` sees 0 there,
        so no infinity reaches its value or its gradient."""
        return self.map(_unmasked(scores)).masked_fill(torch.isneginf(scores), 0.0)

    def separate(self, scores):
        w = self._map(scores)
        if self.normalize:
            total = w.sum(dim=-1, keepdim=True)
            w = _ratio(w, total)
        return w

    def stream(self, chunks: Chunks) -> torch.Tensor:
        acc = total = 0
        for scores, values in chunks:
            w = self._map(scores)
            acc = acc + w @ values
            total = total + w.sum(dim=-1, keepdim=True)
        if self.normalize:
            acc = _ratio(acc, total)
        return acc

    def _unnormalized(self) -> None:
        if self.normalize:
            raise NotImplementedError(f"{type(self).__name__}(normalize=True) is not the gradient of a convex "
                                      f"function of the scores, so it has no conjugate and no energy here")


class Identity(Elementwise):
    """``sep(s) = s``: the classical Hopfield network's separation (chapter 1).
    Conjugate ``Ψ*(s) = ½ Σ_μ s_μ²``.

    Defined in :doc:`/book/ch01_classical_hopfield`, Eq. :eq:`eq-ch01-hebb`.

    >>> Identity()(torch.tensor([[1.0, -2.0]]))
    tensor([[ 1., -2.]])
    """

    def map(self, scores):
        return scores

    def conjugate(self, scores):
        self._unnormalized()
        return 0.5 * _unmasked(scores).square().sum(dim=-1)


class Polynomial(Elementwise):
    """``sep(s) = s^n`` (``rectified``: ``max(s, 0)^n``), the dense associative memory of order n
    (Krotov & Hopfield 2016; chapter 2, eq. (2.2); its first-order update, chapter 4).
    Conjugate ``Ψ*(s) = Σ_μ s_μ^{n+1} / (n + 1)`` (unnormalised only).

    Defined in :doc:`/book/ch02_dense_associative_memory`, Eq. :eq:`eq-ch02-F`.

    A non-integer n needs ``rectified=True`` (negative bases have no real power). With
    ``normalize`` the weights are computed from ``n log|s|`` with a running maximum, so
    ``s^n`` may overflow while the normalised weights stay finite.

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
        self.n, self.rectified = (int(n) if n == int(n) else n), check_bool(rectified, "rectified")

    def map(self, scores):
        return (scores.clamp_min(0) if self.rectified else scores).pow(self.n)

    def _scaled(self, scores: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(sign · exp(n log|s| − m), m)`` with ``m`` the row maximum of ``n log|s|`` (−inf where a row is
        all zero, and then no shift): ``s^n`` up to a factor ``e^m`` per row, finite where ``s^n`` overflows.
        A masked score (−inf) counts as 0."""
        scores = scores.masked_fill(torch.isneginf(scores), 0.0)
        base = scores.clamp_min(0) if self.rectified else scores
        zero = base == 0                                   # log|0| = −inf; its gradient would be 0 · inf = NaN
        log = (self.n * torch.where(zero, 1.0, base).abs().log()).masked_fill(zero, float("-inf"))
        m = log.amax(dim=-1, keepdim=True)
        p = torch.exp(log - _finite_or_zero(m))
        if self.n % 2 == 1:
            p = torch.where(base < 0, -p, p)
        return p, m

    def separate(self, scores):
        if not self.normalize:
            return self._map(scores)
        p, _ = self._scaled(scores)
        return _ratio(p, p.sum(dim=-1, keepdim=True))

    def stream(self, chunks: Chunks) -> torch.Tensor:
        if not self.normalize:
            return Elementwise.stream(self, chunks)
        m = acc = total = None
        for scores, values in chunks:  # the running maximum of the online softmax, on n log|s|
            p, top = self._scaled(scores)
            if m is None:
                m, acc, total = top, p @ values, p.sum(dim=-1, keepdim=True)
                continue
            m_new = torch.maximum(m, top)
            shift = _finite_or_zero(m_new)
            old, new = torch.exp(m - shift), torch.exp(top - shift)
            acc = acc * old + (p * new) @ values
            total = total * old + (p * new).sum(dim=-1, keepdim=True)
            m = m_new
        return _ratio(acc, total)

    def conjugate(self, scores):
        self._unnormalized()
        base = scores.clamp_min(0) if self.rectified else _unmasked(scores)
        return base.pow(self.n + 1).sum(dim=-1) / (self.n + 1)

    def extra_repr(self):
        return f"n={self.n}, rectified={self.rectified}, normalize={self.normalize}"


class Threshold(Elementwise):
    """``sep(s) = 1[s ≥ θ]``: every memory within the threshold gets weight 1, as in sparse
    distributed memory (Kanerva 1988), with similarity = negative Hamming distance.
    Conjugate ``Ψ*(s) = Σ_μ max(s_μ − θ, 0)`` (unnormalised only).

    Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-uhn`.

    >>> Threshold(-1.0)(torch.tensor([[0.0, -1.0, -2.0]]))
    tensor([[1., 1., 0.]])
    """

    def __init__(self, theta: float = 0.0, normalize: bool = False):
        super().__init__(normalize)
        self.theta = check_real(theta, "theta")

    def map(self, scores):
        return (scores >= self.theta).to(scores.dtype)

    def conjugate(self, scores):
        self._unnormalized()
        return (scores - self.theta).clamp_min(0).sum(dim=-1)

    def extra_repr(self):
        return f"theta={self.theta}, normalize={self.normalize}"


class Softmax(Separation):
    """``sep(s) = softmax(β s)``, the modern continuous Hopfield network's separation
    (Ramsauer et al. 2020; chapter 3, eq. (3.4)). Computed with log-sum-exp, finite at any β.
    Conjugate ``Ψ*(s) = β⁻¹ log Σ_μ exp(β s_μ) = lse(β, s)`` (chapter 3, eq. (3.1)).

    ``learnable=True`` (or a β that requires grad) trains ``log β``.

    Defined in :doc:`/book/ch03_modern_hopfield`, Eq. :eq:`eq-ch03-update`.

    >>> Softmax(beta=1e6)(torch.tensor([[1.0, 0.0]]))
    tensor([[1., 0.]])
    >>> [name for name, _ in Softmax(beta=2.0, learnable=True).named_parameters()]
    ['log_beta']
    """

    def __init__(self, beta: float | torch.Tensor = 1.0, *, learnable: bool = False):
        super().__init__()
        self._positive("beta", beta, learnable)

    @property
    def beta(self) -> float | torch.Tensor:
        """β: a float, or ``exp(log_beta)`` when learnable.

        >>> Softmax(beta=2.0).beta, round(Softmax(beta=2.0, learnable=True).beta.item(), 6)
        (2.0, 2.0)
        """
        return self._value("beta")

    def separate(self, scores):
        return torch.softmax(self.beta * scores, dim=-1)

    def stream(self, chunks: Chunks) -> torch.Tensor:
        """One chunk: ``softmax(β s) V``. More: the online softmax (Milakov & Gimelshein 2018), a running
        maximum ``m``, normaliser ``l`` and output rescaled as each chunk arrives, so that the result
        equals the one-shot softmax. While every score a row has seen is masked (−inf), its maximum is
        −inf and the shift is 0, so the masked chunk adds nothing instead of ``exp(−inf + inf)``.

        >>> s, v = torch.tensor([[float("-inf"), 1.0, 3.0]]), torch.eye(3)
        >>> torch.allclose(Softmax().stream([(s[:, :1], v[:1]), (s[:, 1:], v[1:])]), Softmax()(s) @ v)
        True
        """
        chunks = iter(chunks)
        first, second = next(chunks), next(chunks, None)
        if second is None:
            return self.separate(first[0]) @ first[1]
        beta, m = self.beta, None
        for scores, values in itertools.chain((first, second), chunks):
            a = beta * scores
            top = a.amax(dim=-1, keepdim=True)
            if m is None:
                p = torch.exp(a - _finite_or_zero(top))
                acc, total = p @ values, p.sum(dim=-1, keepdim=True)
                m = top
                continue
            m_new = torch.maximum(m, top)
            shift = _finite_or_zero(m_new)
            scale, p = torch.exp(m - shift), torch.exp(a - shift)
            acc, total, m = acc * scale + p @ values, total * scale + p.sum(dim=-1, keepdim=True), m_new
        return acc / total

    def conjugate(self, scores):
        beta = self.beta
        return torch.logsumexp(beta * scores, dim=-1) / beta

    def _conjugate_gap(self, scores):
        """``β⁻¹ log mean_μ exp(β s_μ) = s_max + β⁻¹ log1p(mean_μ expm1(β (s_μ − s_max)))``: at small β
        the difference of the two ``β⁻¹ log M``-sized conjugates would cancel to nothing."""
        beta, top = self.beta, scores.amax(dim=-1, keepdim=True)
        return top.squeeze(-1) + torch.log1p(torch.expm1(beta * (scores - top)).mean(dim=-1)) / beta

    def softmax_beta(self):
        return self.beta

    def extra_repr(self):
        return f"beta={_number(self.beta):g}" + (", learnable" if "log_beta" in self._parameters else "")


class Max(Separation):
    """``sep(s) = onehot(argmax_μ s_μ)``: the limit of softmax(β s) as β → ∞ (ties go to the first).
    Conjugate ``Ψ*(s) = max_μ s_μ``; streams as a running arg-max.

    Defined in :doc:`/book/ch00_associative_memory_in_ten_minutes`, Eq. :eq:`eq-ch00-similarity`.

    >>> Max()(torch.tensor([[0.2, 0.7, 0.1]]))
    tensor([[0., 1., 0.]])
    """

    def separate(self, scores):
        return torch.zeros_like(scores).scatter_(-1, scores.argmax(dim=-1, keepdim=True), 1.0)

    def stream(self, chunks: Chunks) -> torch.Tensor:
        best = out = None
        for scores, values in chunks:
            top, arg = scores.max(dim=-1, keepdim=True)
            lead = torch.broadcast_shapes(values.shape[:-2], arg.shape[:-2])
            pick = torch.take_along_dim(values.expand(*lead, *values.shape[-2:]), arg.expand(*lead, *arg.shape[-2:]), dim=-2)
            if best is None:
                best, out = top, pick
            else:
                better = top > best                          # strict: ties keep the earlier memory
                best, out = torch.where(better, top, best), torch.where(better, pick, out)
        return out

    def conjugate(self, scores):
        return scores.amax(dim=-1)


class _EntmaxFunction(torch.autograd.Function):
    """α-entmax over the last dimension by the ``entmax`` package (sort-based for a fixed α = 1.5 or 2,
    bisection otherwise), with its backward (Peters et al. 2019, eq. (10); in α too, Correia et al.
    2019) and a batching rule, written so that ``torch.func`` transforms (``grad``, ``vmap``) apply."""

    @staticmethod
    def forward(z, alpha):
        import entmax as _entmax

        if isinstance(alpha, torch.Tensor):
            return _entmax.entmax_bisect(z, alpha=alpha.to(z.dtype), dim=-1)
        if alpha == 2.0:
            return _entmax.sparsemax(z, dim=-1)
        if alpha == 1.5:
            return _entmax.entmax15(z, dim=-1)
        return _entmax.entmax_bisect(z, alpha=alpha, dim=-1)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.alpha = inputs[1]
        ctx.save_for_backward(output)

    @staticmethod
    def vmap(info, in_dims, z, alpha):
        """Rows are independent: the vmapped dimension becomes one more leading dimension."""
        if in_dims[1] is not None:
            raise NotImplementedError("entmax cannot be vmapped over α; vmap over the scores only")
        return _EntmaxFunction.apply(z.movedim(in_dims[0], 0), alpha), 0

    @staticmethod
    def backward(ctx, grad):
        (p,) = ctx.saved_tensors
        alpha = ctx.alpha
        g = torch.where(p > 0, p.pow(2 - alpha), torch.zeros_like(p))  # p^(2−α) on the support
        skew = g / g.sum(dim=-1, keepdim=True)
        dz = grad * g
        dz = dz - skew * dz.sum(dim=-1, keepdim=True)
        d_alpha = None
        if ctx.needs_input_grad[1]:
            shannon = torch.xlogy(p, p)
            d = grad * (p - skew) / (alpha - 1) ** 2 - grad * (shannon - skew * shannon.sum(dim=-1, keepdim=True)) \
                / (alpha - 1)
            d_alpha = d.sum()
        return dz, d_alpha


class Entmax(Separation):
    """``sep(s) = α-entmax(β s)`` (Peters et al. 2019), the sparse modern Hopfield network's separation
    (Hu et al. 2023; U-Hop eq. (2.4); chapter 5). α → 1 is softmax, α = 2 is sparsemax.

    Defined in :doc:`/book/ch05_uhop`, Eq. :eq:`eq-ch05-margin`.

    Its output is exactly one-hot when the top score beats the runner-up by at least
    ``1 / (β (α − 1))`` (U-Hop eq. (E.1)). Uses the ``entmax`` package (exact sort-based
    algorithms for a fixed α = 1.5 or 2, bisection otherwise). ``learnable=True`` trains
    ``log β`` and ``log(α − 1)`` (a learnable α uses bisection, which differentiates in α).

    >>> Entmax(alpha=2.0)(torch.tensor([[1.0, 0.0, -1.0]]))
    tensor([[1., 0., 0.]])
    """

    def __init__(self, alpha: float | torch.Tensor = 1.5, beta: float | torch.Tensor = 1.0, *,
                 learnable: bool = False):
        super().__init__()
        self._positive("alpha", alpha, learnable, minimum=1.0)
        self._positive("beta", beta, learnable)

    @property
    def alpha(self) -> float | torch.Tensor:
        """α > 1: a float, or ``1 + exp(log_alpha)`` when learnable.

        >>> Entmax(alpha=1.5).alpha, round(Entmax(alpha=1.5, learnable=True).alpha.item(), 6)
        (1.5, 1.5)
        """
        return self._value("alpha", minimum=1.0)

    @property
    def beta(self) -> float | torch.Tensor:
        """β: a float, or ``exp(log_beta)`` when learnable.

        >>> Entmax(alpha=1.5, beta=3.0).beta
        3.0
        """
        return self._value("beta")

    def separate(self, scores):
        return _EntmaxFunction.apply(self.beta * scores, self.alpha)

    def conjugate(self, scores):
        """``β⁻¹ Ψ*_α(β s)`` with ``Ψ*_α(θ) = max_p ⟨p, θ⟩ + H_α(p) = ⟨p*, θ⟩ + H_α(p*)``,
        ``p* = α-entmax(θ)`` and the Tsallis entropy ``H_α(p) = Σ_μ (p_μ − p_μ^α) / (α(α − 1))``
        (U-Hop eq. (2.3), App. D; the sign must be ``+`` for α → 1 to give the softmax's ``lse``).

        >>> Sparsemax().conjugate(torch.tensor([[2.0, 0.0]]))  # one-hot: the conjugate is the top score
        tensor([2.])
        """
        beta, alpha, p = self.beta, self.alpha, self(scores)
        tsallis = (p - p.pow(alpha)).sum(dim=-1) / (alpha * (alpha - 1))
        outside = scores.masked_fill(p == 0, 0.0)  # a masked score (−inf) has weight 0 and adds nothing
        return (p * outside).sum(dim=-1) + tsallis / beta

    def extra_repr(self):
        return f"alpha={_number(self.alpha):g}, beta={_number(self.beta):g}"


class Sparsemax(Entmax):
    """``sep(s) = sparsemax(β s)``, the Euclidean projection of ``β s`` onto the simplex
    (Martins & Astudillo 2016): α-entmax with α = 2. One-hot iff the margin is ≥ 1/β.
    ``learnable=True`` trains ``log β`` (α = 2 stays fixed).

    Defined in :doc:`/book/ch05_uhop`, Eq. :eq:`eq-ch05-margin`.

    >>> Sparsemax()(torch.tensor([[0.5, 0.0]]))
    tensor([[0.7500, 0.2500]])
    """

    def __init__(self, beta: float | torch.Tensor = 1.0, *, learnable: bool = False):
        Separation.__init__(self)
        self._alpha = 2.0
        self._positive("beta", beta, learnable)

    def extra_repr(self):
        return f"beta={_number(self.beta):g}"


# Lower-case constructors, as the book writes them: ``separation.softmax(beta=8)``. ``max`` is one too,
# but not exported by ``*``, which would shadow the builtin.
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
    if not isinstance(name, str):
        raise TypeError(f"name must be a separation's name, a str ({', '.join(NAMES)}); got {type(name).__name__}")
    if name not in _REGISTRY:
        raise ValueError(f"unknown separation {name!r}; known: {', '.join(NAMES)} (or pass any callable "
                         f"scores [B, M] -> weights [B, M])")
    return _REGISTRY[name](**params)


def as_separation(value) -> Separation:
    """The separation slot of chapter 4, eq. (4.1), from a name (``"softmax"``), a separation object
    (``Softmax(beta=8)``), a separation class passed uncalled (``Softmax``, the same as its name: default parameters) or
    any callable ``scores -> weights`` (wrapped in :class:`Function`).

    Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-uhn`.

    >>> as_separation("max"), as_separation(softmax)
    (Max(), Softmax(beta=1))
    """
    if isinstance(value, str):
        return get(value)
    if isinstance(value, Separation):
        return value
    if isinstance(value, type) and issubclass(value, Separation):
        try:
            return value()
        except TypeError:
            raise TypeError(f"separation {value.__name__} needs parameters: pass {value.__name__}(...) called, "
                            f"e.g. separation.polynomial(3); got the class uncalled") from None
    if callable(value):
        return Function(value)
    raise TypeError(f"separation must be a name ({', '.join(NAMES)}) or a callable; got {type(value).__name__}")
