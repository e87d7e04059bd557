"""U-Hop's learned kernel similarity and its separation loss (Wu, Hu et al. 2024; chapter 5).

Defined in :doc:`/book/ch05_uhop`, Eq. :eq:`eq-ch05-kernel`.

The feature map ``Φ(x) = W x`` with ``W [D_Φ, d]`` defines the kernel similarity
``K(ξ, x) = ⟨Φ(ξ), Φ(x)⟩ = ξᵀ Wᵀ W x`` (U-Hop eq. (2.1)). It fills the similarity slot
of :class:`hopnb.AssociativeMemory`, so every separation (softmax, sparsemax, α-entmax),
streaming, energy-free retrieval and metric works with it unchanged; with ``W = I`` it
is the dot product of the modern Hopfield network.

Stage I of U-Hop's Algorithm 1 (:meth:`KernelSimilarity.fit`) lowers the average
separation loss (Definition 2.2, with output-normalised features as in App. D.2)

    L_Φ(Ξ; t) = log mean_{μ<ν} exp(−t ‖Φ̂(ξ_μ) − Φ̂(ξ_ν)‖²),   Φ̂ = Φ / ‖Φ‖,

by plain gradient descent on W, then normalises the rows of W. On unit vectors
``‖a − b‖² = 2 − 2⟨a, b⟩`` and ``Σ_{μ≠ν} ⟨Φ̂_μ, Φ̂_ν⟩ ≥ −M``, so by Jensen's inequality
``L_Φ ≥ −2t · M / (M − 1)``, reached by a regular simplex; pairwise orthogonal features
give ``−2t``.

Where the official U-Hop code differs from the paper (this module follows the paper):

* β multiplies the weights *after* the softmax (``β · softmax(s)``), so the softmax sees
  β = 1; here β sits inside the separation, ``softmax(β s)``.
* its kernel learning rate decays cumulatively, ``γ_k = 1/√(k!)``, so W barely moves
  after a few steps; here the step size is constant.
* it trains the kernel on half of the stored memories; here on all of them.
* it uses a square W (``D_Φ = d``) and never normalises W's rows (it normalises the
  features inside the loss only); here ``D_Φ`` is a parameter (default d) and the rows
  of W are normalised after Stage I, as Algorithm 1 writes.
* its Manhattan and ℓ2 baselines feed *positive* distances into the softmax, which
  weights the farthest memory most; :mod:`hopnb.similarity` uses negative distances.
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from ._training import descend
from ._validate import DTYPES, check_bool, check_dtype, check_int, check_like, check_patterns, check_positive, free
from .runtime import generator_device

__all__ = ["KernelSimilarity", "separation_loss", "separation_loss_bound"]

LOSSES = ("average", "max")
# Pairs scored at once by the separation loss (rows × M of the Gram matrix): 4 Mi numbers,
# 16 MiB in float32, so the loss of any number of memories fits in bounded memory.
_PAIR_BUDGET = 1 << 22


def _row_blocks(n: int):
    step = max(1, min(n, _PAIR_BUDGET // n))
    for start in range(0, n, step):
        yield slice(start, min(n, start + step))


def _exponents(unit: torch.Tensor, norms: torch.Tensor, rows: slice, t: float) -> torch.Tensor:
    """``−t ‖u_μ − u_ν‖²`` for μ in ``rows`` and every ν ``[rows, M]``, from one block of the Gram
    matrix, ``−t (‖u_μ‖² + ‖u_ν‖²) + 2t u_μᵀ u_ν`` (at most 0), with −inf on the diagonal (μ = ν)."""
    a = torch.addmm(-t * (norms[rows, None] + norms[None, :]), unit[rows], unit.T, alpha=2 * t).clamp_max_(0)
    a.diagonal(offset=rows.start).fill_(float("-inf"))
    return a


class _AverageSeparation(torch.autograd.Function):
    """``log mean_{μ≠ν} exp(−t ‖u_μ − u_ν‖²)`` of rows ``u [M, D]``, the same as over the pairs
    μ < ν (each distance appears twice), streamed over row blocks of the Gram matrix.

    With ``p_{μν}`` the softmax of the exponents over all pairs and ``r_μ = Σ_ν p_{μν}``,
    ``∂L/∂u_μ = 4t (Σ_ν p_{μν} u_ν − r_μ u_μ)``; the backward pass recomputes each block (or
    keeps the only one, when all pairs fit in one).
    """

    @staticmethod
    def forward(ctx, unit, t):
        n = unit.shape[0]
        norms = unit.square().sum(dim=1)
        parts = []
        for rows in _row_blocks(n):
            a = _exponents(unit, norms, rows, t)
            parts.append(torch.logsumexp(a.flatten(), dim=0))
        lse = torch.logsumexp(torch.stack(parts), dim=0)
        ctx.save_for_backward(unit, norms, lse, a if len(parts) == 1 else None)  # one block: kept, not recomputed
        ctx.t = t
        return lse - math.log(n * (n - 1))

    @staticmethod
    def backward(ctx, grad):
        unit, norms, lse, kept = ctx.saved_tensors
        out = torch.empty_like(unit)
        for rows in _row_blocks(unit.shape[0]):
            a = kept if kept is not None else _exponents(unit, norms, rows, ctx.t)
            p = (a - lse).exp_()
            torch.addmm(-p.sum(dim=1, keepdim=True) * unit[rows], p, unit, out=out[rows])
        return out.mul_(4 * ctx.t * grad), None

# The most bytes the separation loss may hold for the M(M−1)/2 pairwise distances at once (1 GiB).
PAIR_BUDGET = 1 << 30


def _check_pairs(n: int, dtype: torch.dtype) -> None:
    pairs = n * (n - 1) // 2
    need = pairs * torch.finfo(dtype).bits // 8
    if need > PAIR_BUDGET:
        raise ValueError(f"the separation loss of M={n} feature vectors holds all {pairs} pairwise distances "
                         f"({need / 2**30:.1f} GiB of {dtype}), above the budget of {PAIR_BUDGET / 2**30:g} GiB "
                         f"(hopnb.kernel.PAIR_BUDGET); fit the kernel on a subset of the memories")


def _rescaled_unit(features: torch.Tensor) -> torch.Tensor:
    """Rows scaled to unit norm through their largest entry first, for rows whose squared norm
    overflows or underflows (``F.normalize`` would return zeros or near-zeros for them)."""
    top = features.detach().abs().amax(dim=1, keepdim=True)
    if not bool((top > 0).all()):
        raise ValueError(f"the separation loss needs non-zero feature vectors (each row's direction); "
                         f"{int((top == 0).sum())} of the {features.shape[0]} rows are zero")
    return F.normalize(features / top, dim=1)


def separation_loss(features: torch.Tensor, t: float = 2.0, kind: str = "average") -> torch.Tensor:
    """The separation loss of feature vectors ``[M, D]`` (rows normalised here).

    Defined in :doc:`/book/ch05_uhop`, Eq. :eq:`eq-ch05-loss`.

    ``kind="average"``: ``log mean_{μ<ν} exp(−t ‖Φ̂_μ − Φ̂_ν‖²)`` (U-Hop Definition 2.2);
    ``kind="max"``: ``log max_{μ<ν} exp(−t ‖Φ̂_μ − Φ̂_ν‖²) = −t min ‖Φ̂_μ − Φ̂_ν‖²`` (App. G.2).

    Rows too large or too small for their squared norm in the dtype are scaled through their
    largest entry first; a zero row has no direction and is refused. The distances come from
    the Gram matrix, ``‖a − b‖² = ‖a‖² + ‖b‖² − 2aᵀb`` (``2 − 2aᵀb``
    on unit rows), in row blocks of at most 4 Mi pairs: one matrix product instead of
    ``torch.pdist``'s pairwise loop, and bounded memory for any M. The max loss takes the
    closest pair from there and its distance from the difference of its two rows.

    >>> round(float(separation_loss(torch.eye(3))), 4)  # orthonormal features: −2t
    -4.0
    """
    t = check_positive(t, "t")
    if kind not in LOSSES:
        raise ValueError(f"kind must be one of {LOSSES}; got {kind!r}")
    if isinstance(features, torch.Tensor) and features.is_floating_point() and 8 * t > torch.finfo(features.dtype).max:
        raise ValueError(f"t = {t:g} is too large for {features.dtype}: t times squared distances up to 4 overflows")
    if not isinstance(features, torch.Tensor):
        raise TypeError(f"features must be a torch.Tensor [M, D]; got {type(features).__name__}")
    if features.ndim != 2 or features.shape[0] < 2 or features.shape[1] < 1:
        raise ValueError(f"the separation loss needs at least 2 feature vectors [M, D]; got shape {list(features.shape)}")
    check_patterns(features, "features", bounded=False)
    _check_pairs(features.shape[0], features.dtype)
    unit = F.normalize(features, dim=1)
    if free(features) and bool(((unit.detach().square().sum(dim=1) - 1).abs() > 1e-3).any()):
        unit = _rescaled_unit(features)
    if kind == "average":
        return _AverageSeparation.apply(unit, t)
    with torch.no_grad():
        norms, n = unit.square().sum(dim=1), unit.shape[0]
        best, closest = float("-inf"), 0
        for rows in _row_blocks(n):
            top, arg = _exponents(unit, norms, rows, t).flatten().max(dim=0)
            if top > best:
                best, closest = top, int(arg) + rows.start * n
    mu, nu = divmod(closest, n)
    return -t * (unit[mu] - unit[nu]).square().sum()


def separation_loss_bound(n_memories: int, t: float = 2.0) -> float:
    """The lower bound ``−2t · M / (M − 1)`` of the average separation loss (chapter 5, eq. (5.4)).

    Defined in :doc:`/book/ch05_uhop`, Eq. :eq:`eq-ch05-bound`.

    >>> round(separation_loss_bound(10, t=2.0), 4)
    -4.4444
    """
    n_memories = check_int(n_memories, "n_memories", minimum=2)
    t = check_positive(t, "t")
    if n_memories > 2**53:
        raise ValueError(f"n_memories must be at most 2^53 (exact in float64); got {n_memories}")
    if 2.0 * t * n_memories / (n_memories - 1) > 1.7e308:
        raise ValueError(f"t = {t:g} is too large: the bound −2t·M/(M−1) overflows float64")
    return -2.0 * t * n_memories / (n_memories - 1)


class KernelSimilarity(nn.Module):
    """The kernel similarity ``K(ξ, x) = ⟨W ξ, W x⟩`` with a learnable ``W [features, d]``
    (U-Hop eq. (2.1); chapter 5): ``(memories [M, d], queries [B, d]) -> scores [B, M]``.

    Defined in :doc:`/book/ch05_uhop`, Eq. :eq:`eq-ch05-kernel`.

    ``W`` starts Gaussian with entries of variance ``1/d`` (unit-norm rows on average),
    drawn from ``generator``, or as the given ``weight``. ``features`` is ``D_Φ``
    (default d). Leading batch dimensions are allowed, as for the built-in similarities.

    >>> k = KernelSimilarity(3, weight=torch.eye(3))
    >>> k(torch.eye(3), torch.tensor([[1.0, 2.0, 3.0]])).detach()
    tensor([[1., 2., 3.]])
    """

    def __init__(self, d: int, features: int | None = None, *, weight: torch.Tensor | None = None,
                 generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32):
        super().__init__()
        d = check_int(d, "d")
        if features is None:
            features = d if weight is None or not isinstance(weight, torch.Tensor) or weight.ndim != 2 else weight.shape[0]
        features = check_int(features, "features (D_Φ)")
        if dtype not in DTYPES:
            raise TypeError(f"dtype must be torch.float32 or torch.float64; got {dtype!r}")
        if weight is None:
            weight = torch.randn(features, d, generator=generator, dtype=dtype,
                                 device=generator_device(generator, "cpu")) / math.sqrt(d)
        else:
            check_patterns(weight, "weight")
            if weight.shape[1] != d or weight.shape[0] != features:
                raise ValueError(f"weight must be [D_Φ, d] = [{features}, {d}] (features={features}); "
                                 f"got {list(weight.shape)}")
        self.weight = nn.Parameter(weight.clone())
        self.d = d

    def extra_repr(self) -> str:
        return f"d={self.d}, features={self.weight.shape[0]}"

    def _check_d(self, x: torch.Tensor, name: str) -> None:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor [..., d]; got {type(x).__name__}")
        check_dtype(x, name)
        if x.ndim < 1 or x.shape[-1] != self.d:
            raise ValueError(f"{name} must have d={self.d} entries (the kernel's W is [{self.weight.shape[0]}, "
                             f"{self.d}]); got {list(x.shape)}")

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``Φ(x) = W x`` for rows ``x [..., d]`` -> ``[..., D_Φ]``.

        >>> k = KernelSimilarity(2, weight=torch.tensor([[2.0, 0.0], [0.0, 1.0]]))
        >>> k.features(torch.tensor([[1.0, 1.0]])).detach()
        tensor([[2., 1.]])
        """
        self._check_d(x, "inputs")
        if x.dtype != self.weight.dtype:
            raise TypeError(f"inputs must have the dtype of the kernel's W ({self.weight.dtype}); got {x.dtype}")
        return x @ self.weight.T

    def forward(self, memories: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
        """Scores ``K(ξ_μ, x_b) = ⟨W ξ_μ, W x_b⟩`` ``[B, M]`` (U-Hop eq. (2.1)).

        >>> k = KernelSimilarity(2, weight=torch.tensor([[2.0, 0.0], [0.0, 1.0]]))
        >>> k(torch.eye(2), torch.tensor([[1.0, 1.0]])).tolist()
        [[4.0, 1.0]]
        """
        for name, x in (("memories", memories), ("queries", queries)):
            self._check_d(x, name)
            if x.ndim < 2:
                raise ValueError(f"{name} must be [..., n, d] (patterns as rows); got {list(x.shape)}")
        return self.features(queries) @ self.features(memories).transpose(-1, -2)

    def self_term(self, x: torch.Tensor) -> torch.Tensor:
        """``½ K(x, x) = ½ ‖W x‖²`` for rows ``x [..., d]`` -> ``[...]``, the convex term of U-Hop's
        energy (eq. (2.2)).

        >>> k = KernelSimilarity(2, weight=torch.tensor([[2.0, 0.0], [0.0, 1.0]]))
        >>> k.self_term(torch.tensor([[1.0, 1.0]])).tolist()
        [2.5]
        """
        return 0.5 * self.features(x).square().sum(dim=-1)

    def loss(self, memories: torch.Tensor, t: float = 2.0, kind: str = "average") -> torch.Tensor:
        """The separation loss :func:`separation_loss` of ``Φ(memories)``.

        >>> k = KernelSimilarity(2, weight=torch.tensor([[2.0, 0.0], [0.0, 1.0]]))
        >>> round(k.loss(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])).item(), 4)
        -1.4588
        """
        return separation_loss(self.features(memories), t, kind)

    def margins(self, memories: torch.Tensor) -> torch.Tensor:
        """``K(ξ_μ, ξ_μ) − max_{ν≠μ} K(ξ_ν, ξ_μ)`` for every memory, ``[M]``.

        With α-entmax separation at inverse temperature β, memory μ is a fixed point of the
        retrieval (exact retrieval, U-Hop Thm 2.2 / eq. (E.1)) when its margin is at least
        ``1 / (β (α − 1))``.

        >>> k = KernelSimilarity(2, weight=torch.tensor([[2.0, 0.0], [0.0, 1.0]]))
        >>> k.margins(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]]))
        tensor([ 1.6000,  0.2000, -0.3200])
        """
        check_patterns(memories, "memories")
        if memories.shape[0] < 2:
            raise ValueError(f"margins compare each memory with the others: memories must be [M, d] with M ≥ 2; "
                             f"got {list(memories.shape)}")
        with torch.no_grad():
            k = self(memories, memories)
            own = k.diagonal().clone()
            k.fill_diagonal_(float("-inf"))
            return own - k.amax(dim=1)

    def fit(self, memories: torch.Tensor, steps: int = 100, *, lr: float = 0.1, t: float = 2.0,
            kind: str = "average", normalize_rows: bool = True, progress: bool = False) -> list[float]:
        """Stage I of U-Hop's Algorithm 1: ``steps`` gradient steps ``W ← W − γ ∇_W L_Φ(Ξ)``,
        then (``normalize_rows``) each row of W scaled to unit norm. ``kind`` picks the average
        loss or the max loss (App. G.2). Returns the loss before
        each step and after the last (``steps + 1`` values, before the row normalisation,
        which does not change L_Φ's value much but does change the scale of K). ``progress=True``
        shows a progress bar.

        The step size γ = ``lr`` = 0.1 is chosen for W with unit-norm rows, as initialised:
        on 100 MNIST test digits (t = 2) it lowers L_Φ from −2.28 to −3.93 in 100 steps,
        against a bound of −4.04, while the paper's γ = 1 oscillates near −3.69 and γ = 100
        diverges (chapter 5 shows the sweep). A fit that ends with a higher loss than it
        started from warns (``RuntimeWarning``): its step size is too large for these memories;
        chapter 5 derives γ = 4/λ, λ the largest eigenvalue of ``ΞᵀΞ / M``.

        >>> g = torch.Generator().manual_seed(0)
        >>> k, memories = KernelSimilarity(4, generator=g), torch.randn(6, 4, generator=g)
        >>> losses = k.fit(memories, steps=20, progress=False)
        >>> len(losses), losses[-1] < losses[0], losses[-1] >= separation_loss_bound(6)
        (21, True, True)
        """
        check_patterns(memories, "memories")
        self._check_d(memories, "memories")
        check_like(memories, self.weight, "memories", "the kernel's W")
        if memories.shape[0] < 2:
            raise ValueError(f"fitting the kernel needs at least 2 memories to separate; got {memories.shape[0]}")
        steps = check_int(steps, "steps", minimum=0)
        check_bool(progress, "progress"), check_bool(normalize_rows, "normalize_rows")
        _check_pairs(memories.shape[0], memories.dtype)
        lr = check_positive(lr, "lr")
        if lr > torch.finfo(self.weight.dtype).max:
            raise ValueError(f"lr must be at most {torch.finfo(self.weight.dtype).max:.3g} for W in "
                             f"{self.weight.dtype}; got {lr:g}")
        t = check_positive(t, "t")
        if kind not in LOSSES:
            raise ValueError(f"kind must be one of {LOSSES}; got {kind!r}")
        run = descend(lambda: self.loss(memories, t, kind), lambda step: [()], torch.optim.SGD([self.weight], lr=lr),
                      steps, name="separation loss", progress=progress)
        with torch.no_grad():
            final = self.loss(memories, t, kind).item()
        if not math.isfinite(final):
            raise FloatingPointError(f"the separation loss became {final} after {steps} steps; "
                                     f"lower the learning rate (lr={lr:g})")
        history = run.losses + [final]
        if normalize_rows:
            with torch.no_grad():
                self.weight.copy_(F.normalize(self.weight, dim=1))
        if history[-1] > history[0]:
            warnings.warn(f"Stage I raised the separation loss from {history[0]:.4g} to {history[-1]:.4g} in "
                          f"{steps} steps at lr={lr:g}: the step size is too large for these memories; try "
                          f"lr = 4 / λ, λ the largest eigenvalue of Ξᵀ Ξ / M (chapter 5)", RuntimeWarning, stacklevel=2)
        return history
