"""A-Hop's adaptive similarity: a learned weighting of the similarity footprint (chapter 6).

Defined in :doc:`/book/ch06_ahop`, Eq. :eq:`eq-ch06-footprint`.

For a memory ξ and a query x, a decomposable base similarity gives one number per
dimension: ``q_i = −(ξ_i − x_i)²`` (negative squared distance, "dis") or
``q_i = ξ_i x_i`` (product, "dot"). Sorting them in descending order, ``q̃``, and summing
cumulatively gives the footprint ``ftpt(ξ, x) = U q̃`` (U lower-triangular ones): its
k-th entry is the similarity over the k most consistent dimensions, and its last entry
the ordinary similarity. The adaptive similarity of A-Hop (ICLR 2026) is

    s(ξ, x) = β_dis · w_disᵀ ftpt_dis(ξ, x) + β_dot · w_dotᵀ ftpt_dot(ξ, x),

with learnable ``w_dis, w_dot [d]`` and scalars. Since ``wᵀ U q̃ = cᵀ q̃`` with
``c_j = Σ_{k≥j} w_k`` (the reverse cumulative sum of w), a footprint score is a weighted
sum of the *sorted* per-dimension similarities: no cumulative sum is ever formed. The
sort over ``[B, M, d]`` is done on blocks of queries and memories whose size stays under
a budget of ``block_elements`` numbers (by default 1 Mi, 4 MiB in float32: in cache).

Where no gradient is needed (under ``torch.no_grad()``, float32 or float64 on the CPU),
only the sorted values are computed: NumPy's sort (vectorised, values only) on
``torch.get_num_threads()`` threads, about 10× faster than ``torch.sort``, which also
produces the indices its gradient needs; the sums are then the same up to float
rounding. A base whose β is 0 is then skipped. Elsewhere ``torch.sort`` runs, as before.

Ablation switches (the paper's ablation table): ``sort=False`` keeps the dimensions in
their order (then the score is a weighted distance or product, computed with matrix
products); ``cumulative=False`` drops U (then ``c = w``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ._validate import DTYPES, check_bool, check_dtype, check_int, check_finite, check_pair
from .runtime import split, threaded

__all__ = ["FootprintSimilarity", "footprint"]

BASES = ("dis", "dot")

# The most numbers footprint() may build at once, B · M · d (2**26: 256 MiB of float32).
FOOTPRINT_BUDGET = 1 << 26


def _per_dimension(memories: torch.Tensor, queries: torch.Tensor, base: str) -> torch.Tensor:
    """Per-dimension similarities ``[..., B, M, d]`` of queries ``[..., B, d]`` and memories ``[..., M, d]``."""
    m, q = memories.unsqueeze(-3), queries.unsqueeze(-2)
    return -(m - q).square() if base == "dis" else m * q


def footprint(memories: torch.Tensor, queries: torch.Tensor, base: str = "dis") -> torch.Tensor:
    """The similarity footprint ``U q̃`` of every query–memory pair, ``[B, M, d]``
    (chapter 6, eq. (6.2)); for inspection and teaching — it builds the whole tensor.

    Defined in :doc:`/book/ch06_ahop`, Eq. :eq:`eq-ch06-footprint`.

    >>> footprint(torch.tensor([[1.0, 2.0]]), torch.tensor([[1.0, 0.0]]), "dot")
    tensor([[[1., 1.]]])
    """
    if base not in BASES:
        raise ValueError(f"base must be one of {BASES}; got {base!r}")
    check_pair(memories, queries)
    size = queries.shape[0] * memories.shape[0] * memories.shape[1]
    if size > FOOTPRINT_BUDGET:
        raise ValueError(f"footprint() builds the whole [B, M, d] = [{queries.shape[0]}, {memories.shape[0]}, "
                         f"{memories.shape[1]}] tensor ({size} numbers), above its teaching budget of "
                         f"{FOOTPRINT_BUDGET} (hopnb.footprint.FOOTPRINT_BUDGET); for scores use "
                         f"FootprintSimilarity(d), which streams blocks, or pass fewer queries and memories")
    q = _per_dimension(memories, queries, base)
    return q.sort(dim=-1, descending=True).values.cumsum(dim=-1)


def _torch_sorted_score(memories: torch.Tensor, queries: torch.Tensor, base: str, c: torch.Tensor) -> torch.Tensor:
    """``cᵀ q̃`` ``[..., B, M]`` by ``torch.sort``, whose indices carry the gradient."""
    return _per_dimension(memories, queries, base).sort(dim=-1, descending=True).values @ c


_NUMPY_SORTED = (torch.float32, torch.float64)
# Rows filled and sorted at a time by one thread: 256 × d numbers, in its L2 cache for d ≲ 1000.
_ROWS_IN_CACHE = 256


def _sorted_rows(block: np.ndarray, memories: np.ndarray, queries: np.ndarray, base: str, start: int,
                 stop: int) -> None:
    """Rows ``start ≤ r < stop`` of ``block [N, B, M, d]`` seen as ``[N·B·M, d]``: the per-dimension
    similarities ``(ξ − x)²`` or ``ξ ⊙ x`` of one query–memory pair each, sorted ascending."""
    (per_set, d), n_m = queries.shape[1:], memories.shape[1]
    rows = block.reshape(-1, d)
    while start < stop:
        pair, mu = divmod(start, n_m)
        s, j = divmod(pair, per_set)
        end = min(stop, start - mu + n_m, start + _ROWS_IN_CACHE)
        out, mem = rows[start:end], memories[s, mu:mu + end - start]
        if base == "dis":
            np.square(np.subtract(mem, queries[s, j], out=out), out=out)
        else:
            np.multiply(mem, queries[s, j], out=out)
        out.sort(axis=-1)
        start = end


def _numpy_sorted_score(memories: torch.Tensor, queries: torch.Tensor, base: str, c: torch.Tensor) -> torch.Tensor:
    """``cᵀ q̃`` ``[..., B, M]`` from the sorted values alone (no gradient): for "dis"
    ``q̃ = −sort↑((ξ − x)²)`` reversed, so ``cᵀ q̃ = −sort↑((ξ − x)²) · c``; for "dot"
    ``cᵀ q̃ = sort↑(ξ ⊙ x) · flip(c)``. Each thread fills and sorts its own share of the rows."""
    lead = torch.broadcast_shapes(memories.shape[:-2], queries.shape[:-2])
    m = memories.detach().expand(*lead, *memories.shape[-2:]).reshape(-1, *memories.shape[-2:]).numpy()
    q = queries.detach().expand(*lead, *queries.shape[-2:]).reshape(-1, *queries.shape[-2:]).numpy()
    (sets, b, d), n_m = q.shape, m.shape[1]
    block = np.empty((sets, b, n_m, d), dtype=q.dtype)
    threaded(_sorted_rows, [(block, m, q, base, lo, hi) for lo, hi in split(sets * b * n_m, d)])
    scores = -(torch.from_numpy(block) @ c) if base == "dis" else torch.from_numpy(block) @ c.flip(0)
    return scores.reshape(*lead, b, n_m)


class FootprintSimilarity(nn.Module):
    """A-Hop's adaptive similarity ``s(ξ, x)`` (chapter 6, eqs. (6.3)–(6.4)):
    ``(memories [M, d], queries [B, d]) -> scores [B, M]``, also batched ``[N, ·, d]``.

    Defined in :doc:`/book/ch06_ahop`, Eqs. :eq:`eq-ch06-similarity` and :eq:`eq-ch06-weighted`.

    ``w_dis`` and ``w_dot`` start as ``e_d`` (the last footprint entry alone, i.e. the
    plain negative squared distance and dot product), ``beta_dis`` at 1 and ``beta_dot``
    at 0, so an untrained footprint similarity is the negative squared Euclidean distance.
    ``bases`` picks which base similarities are used; ``sort`` and ``cumulative`` are the
    ablation switches.

    >>> f = FootprintSimilarity(3)
    >>> f(torch.eye(3), torch.tensor([[1.0, 0.0, 0.0]])).detach()
    tensor([[ 0., -2., -2.]])
    """

    def __init__(self, d: int, *, bases: tuple[str, ...] = BASES, sort: bool = True, cumulative: bool = True,
                 block_elements: int = 1 << 20, dtype: torch.dtype = torch.float32):
        super().__init__()
        d = check_int(d, "d")
        if dtype not in DTYPES:
            raise TypeError(f"dtype must be torch.float32 or torch.float64; got {dtype!r}")
        if isinstance(bases, str):
            raise ValueError(f"bases must be a non-empty subset of {BASES} (a tuple); got {bases!r}")
        bases = tuple(bases)
        if not bases or any(b not in BASES for b in bases) or len(set(bases)) != len(bases):
            raise ValueError(f"bases must be a non-empty subset of {BASES}; got {bases!r}")
        block_elements = check_int(block_elements, "block_elements", minimum=d)
        self.d, self.bases, self.sort, self.cumulative = d, bases, check_bool(sort, "sort"), check_bool(cumulative, "cumulative")
        self.block_elements = block_elements
        last = torch.zeros(d, dtype=dtype)
        last[-1] = 1.0
        self.w = nn.ParameterDict({b: nn.Parameter(last.clone()) for b in bases})
        self.beta = nn.ParameterDict({b: nn.Parameter(torch.tensor(1.0 if b == "dis" else 0.0, dtype=dtype))
                                      for b in bases})

    def extra_repr(self) -> str:
        return f"d={self.d}, bases={self.bases}, sort={self.sort}, cumulative={self.cumulative}"

    def coefficients(self, base: str) -> torch.Tensor:
        """``c [d]`` with ``s = cᵀ q̃``: the reverse cumulative sum of ``w`` (or ``w`` itself
        without U).

        >>> FootprintSimilarity(3).coefficients("dis").detach()
        tensor([1., 1., 1.])
        """
        w = self.w[base]
        return w.flip(0).cumsum(0).flip(0) if self.cumulative else w

    def _check(self, x: torch.Tensor, name: str) -> None:
        if not isinstance(x, torch.Tensor) or x.ndim < 2 or x.shape[-1] != self.d:
            got = list(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"{name} must be [..., n, d] with d={self.d} (the footprint's size); got {got}")
        if 0 in x.shape:
            raise ValueError(f"{name} must not be empty: [..., n, d] with n ≥ 1; got {list(x.shape)}")
        check_dtype(x, name)
        dtype = self.w[self.bases[0]].dtype
        if x.dtype != dtype:
            raise TypeError(f"{name} must have the footprint weights' dtype {dtype}; got {x.dtype}")
        check_finite(x, name)

    def forward(self, memories: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
        """Scores ``s(ξ_μ, x_b)`` ``[B, M]`` (``[N, B, M]`` for batched inputs), chapter 6, eq. (6.4).

        >>> FootprintSimilarity(2)(torch.eye(2), torch.tensor([[2.0, 0.0]])).tolist()
        [[-1.0, -5.0]]
        """
        self._check(memories, "memories")
        self._check(queries, "queries")
        values_only = (memories.device.type == "cpu" and memories.dtype in _NUMPY_SORTED
                       and not (torch.is_grad_enabled() and any(p.requires_grad for p in (memories, queries,
                                                                                         *self.parameters()))))
        score = 0
        for base in self.bases:
            if values_only and not bool(self.beta[base]):
                continue
            c = self.coefficients(base)
            if self.sort:
                part = self._sorted_score(memories, queries, base, c, values_only)
            elif base == "dis":  # −Σ c_i (ξ_i − x_i)², expanded into matrix products
                part = -((queries.square() * c) .sum(-1, keepdim=True) - 2 * (queries * c) @ memories.transpose(-1, -2)
                         + (memories.square() @ c).unsqueeze(-2))
            else:
                part = (queries * c) @ memories.transpose(-1, -2)
            score = score + self.beta[base] * part
        if isinstance(score, int):  # every β is 0
            shape = torch.broadcast_shapes(memories.shape[:-2], queries.shape[:-2])
            return memories.new_zeros(*shape, queries.shape[-2], memories.shape[-2])
        return score

    def _sorted_score(self, memories, queries, base, c, values_only):
        """``cᵀ sort(q)`` for every pair, on blocks of ``b`` queries × ``m`` memories."""
        lead = max(1, queries.shape[:-2].numel())
        n_q, n_m = queries.shape[-2], memories.shape[-2]
        per_pair = lead * self.d
        m_block = max(1, min(n_m, self.block_elements // per_pair))
        q_block = max(1, min(n_q, self.block_elements // (per_pair * m_block)))
        rows = []
        for qs in range(0, n_q, q_block):
            q = queries[..., qs:qs + q_block, :]
            block = _numpy_sorted_score if values_only else _torch_sorted_score
            cols = [block(memories[..., ms:ms + m_block, :], q, base, c) for ms in range(0, n_m, m_block)]
            rows.append(torch.cat(cols, dim=-1))
        return torch.cat(rows, dim=-2)
