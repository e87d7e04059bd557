"""The retrieval engine as functions: ``z = sep(sim(K, q)) V`` for batches of queries, keys and values.

Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-uhn`.

One core under :class:`hopnb.AssociativeMemory`, the models and the layers of :mod:`hopnb.nn`
(Millidge et al. 2022; chapter 4, eq. (4.1)). Shapes: ``queries [..., B, d]``, ``keys [..., M, d]``,
``values [..., M, d']`` with broadcastable leading dimensions; scores and weights ``[..., B, M]``.

How :func:`retrieve` computes:

* softmax separation with the dot product or the negative squared Euclidean distance (see
  :func:`hopnb.similarity.attention_form`) goes to :func:`torch.nn.functional.scaled_dot_product_attention`,
  the fused attention kernel, with the same semantics (masks included);
* everything else is scored in one shot when the scores ``[..., B, M]`` fit ``budget`` bytes,
  and streamed over chunks of memories beyond it, each separation combining the chunks its own
  way (:meth:`hopnb.separation.Separation.stream`), so no ``[B, M, d]`` tensor is ever built.

A ``mask`` ``[..., B, M]`` (broadcastable) is boolean, True where a query may see a memory (the
convention of ``scaled_dot_product_attention``), or a float added to the scores. A query that
may see no memory at all has no defined weights (a softmax over nothing, the arg-max of
nothing), so such a mask is refused with an error naming the queries. The check reads the
mask's values, so it runs where that is free (eager, on the CPU); on a GPU or under
``torch.compile`` such a row gets whatever the kernel gives (zeros from the attention kernel,
NaN from the streamed softmax).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F

from . import separation as _sep
from . import similarity as _sim
from ._validate import check_dtype, check_finite, check_int, check_norms, check_result, free, shape_str, type_str

__all__ = ["retrieve", "scores", "weights", "SCORE_BUDGET"]

SCORE_BUDGET = 1 << 26
"""Bytes of scores held at once (64 MiB) before retrieval streams over chunks of memories."""


def _check(queries, keys, values) -> None:
    """Tensors of at least two dimensions, one floating dtype and device, matching d and M."""
    for name, x in (("queries", queries), ("keys", keys), ("values", values)):
        if not isinstance(x, torch.Tensor) or x.ndim < 2:
            raise ValueError(f"{name} must be a tensor [..., n, d]; got {type_str(x)}")
        check_dtype(x, name)
        if x.dtype != queries.dtype or x.device != queries.device:
            raise TypeError(f"{name} must have the dtype and device of queries ({queries.dtype}, {queries.device}); "
                            f"got {x.dtype}, {x.device}")
        if 0 in x.shape[-2:]:
            raise ValueError(f"{name} must not be empty: [..., n, d] with n, d ≥ 1; got {shape_str(x)}")
    if keys.shape[-1] != queries.shape[-1]:
        raise ValueError(f"keys must be [..., M, d] with d={queries.shape[-1]} to match queries; got {shape_str(keys)}")
    if values.shape[-2] != keys.shape[-2]:
        raise ValueError(f"values must be [..., M, d'] with M={keys.shape[-2]} to match keys; got {shape_str(values)}")
    try:
        torch.broadcast_shapes(queries.shape[:-2], keys.shape[:-2], values.shape[:-2])
    except RuntimeError:
        raise ValueError(f"the leading (batch) dimensions of queries {shape_str(queries)}, keys {shape_str(keys)} and "
                         f"values {shape_str(values)} must broadcast") from None


def _check_call(queries, keys, values, mask, chunk_size, budget, similarity):
    """What every public entry checks, values included where reading them is free; returns the mask,
    ready for the engine."""
    _check(queries, keys, values)
    if chunk_size is not None:
        check_int(chunk_size, "chunk_size")
    check_int(budget, "budget (bytes of scores)")
    eps = _sim.cosine_eps(_sim.as_similarity(similarity))      # cosine: rows too small to normalise
    for name, x in (("queries", queries), ("keys", keys), ("values", values)):
        if free(x):      # queries and keys bounded so that their similarity cannot overflow
            check_finite(x, name, bounded=name != "values")
            if eps is not None and name != "values":
                check_norms(x, name, eps)
    return _mask(mask, queries, keys)


def _score(similarity: Callable, keys: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
    """The bare similarity on already-checked inputs, its output checked: shape, dtype, finiteness."""
    s = similarity(keys, queries)
    expected = (*torch.broadcast_shapes(queries.shape[:-2], keys.shape[:-2]), queries.shape[-2], keys.shape[-2])
    if not isinstance(s, torch.Tensor) or tuple(s.shape) != expected:
        dims = {2: "[B, M]", 3: "[N, S, L]"}.get(len(expected), "[..., B, M]")
        raise ValueError(f"similarity must return scores {dims} = {list(expected)}; got "
                         f"{shape_str(s) if isinstance(s, torch.Tensor) else type(s).__name__}")
    if s.dtype != queries.dtype:
        raise TypeError(f"similarity must return scores of the queries' dtype {queries.dtype}; got {s.dtype}")
    if free(s):
        check_result(s, "the similarity's scores", "the similarity overflowed or returned NaN on finite inputs")
    return s


def _chunk(total: int, per_row: int, itemsize: int, chunk_size: int | None, budget: int) -> int:
    """Memories scored at once: ``chunk_size``, or as many as fit ``budget`` bytes (all, if they do)."""
    if chunk_size is not None:
        return chunk_size
    return max(1, min(total, budget // max(per_row * itemsize, 1)))


def _chunks(similarity: Callable, queries, keys, values, mask, chunk_size, budget) -> Iterator:
    """``(scores [..., B, m], values [..., m, d'])`` over consecutive chunks of memories, masked."""
    total = keys.shape[-2]
    lead = torch.broadcast_shapes(queries.shape[:-2], keys.shape[:-2]).numel()
    step = _chunk(total, lead * queries.shape[-2], queries.element_size(), chunk_size, budget)
    for start in range(0, total, step):
        rows = slice(start, start + step)
        s = _score(similarity, keys[..., rows, :], queries)
        if mask is not None:
            part = mask if mask.shape[-1] == 1 else mask[..., rows]
            s = s.masked_fill(~part, float("-inf")) if part.dtype == torch.bool else s + part
        yield s, values[..., rows, :]


def _attention(queries, keys, values, form: str, beta, mask) -> torch.Tensor:
    """``softmax(β sim(K, q)) V`` by ``scaled_dot_product_attention`` on 4-D views ``[N, 1, n, d]``."""
    lead = torch.broadcast_shapes(queries.shape[:-2], keys.shape[:-2], values.shape[:-2],
                                  mask.shape[:-2] if mask is not None else ())
    q, k, v = (x.expand(*lead, *x.shape[-2:]).reshape(-1, 1, *x.shape[-2:]) for x in (queries, keys, values))
    if mask is not None and mask.ndim > 2:
        mask = mask.expand(*lead, *mask.shape[-2:]).reshape(-1, 1, *mask.shape[-2:])
    scale = 2 * beta if form == "squared_euclidean" else beta
    if form == "squared_euclidean":  # −β‖ξ‖² per memory; −β‖q‖² is the same for every memory and cancels
        k, q = _sim._recentred(k, q)               # distances unchanged, the expansion kept small
        bias = -beta * k.square().sum(dim=-1)[..., None, :]
        mask = bias if mask is None else (bias.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool
                                          else bias + mask)
    if isinstance(scale, torch.Tensor):  # a learnable β: SDPA takes a float scale, so scale the queries
        q, scale = q * scale, 1.0
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale)
    return out.reshape(*lead, queries.shape[-2], values.shape[-1])


def _mask(mask, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor | None:
    """The mask, checked: a bool or float tensor that broadcasts to ``[..., B, M]``, float entries finite
    or −inf, and (where reading it is free) no query that sees no memory."""
    if mask is None:
        return None
    if not isinstance(mask, torch.Tensor) or mask.ndim < 1:
        raise TypeError(f"mask must be a tensor [..., B, M] (bool, or float added to the scores); got {type_str(mask)}")
    if mask.dtype != torch.bool and mask.dtype != queries.dtype:
        raise TypeError(f"mask must be bool (True: the memory takes part) or of the queries' dtype {queries.dtype}; "
                        f"got {mask.dtype}")
    if mask.device != queries.device:
        raise TypeError(f"mask must be on the queries' device {queries.device}; got {mask.device}")
    rows = (queries.shape[-2], keys.shape[-2])
    try:
        fits = torch.broadcast_shapes(mask.shape[-2:], rows) == rows
        torch.broadcast_shapes(mask.shape[:-2], queries.shape[:-2], keys.shape[:-2])
    except RuntimeError:
        fits = False
    if not fits or (mask.ndim == 1 and mask.shape[0] != keys.shape[-2]):
        raise ValueError(f"mask must broadcast to [..., B, M] = [..., {rows[0]}, {rows[1]}] (or be [M]); "
                         f"got {shape_str(mask)}")
    if free(mask):
        if mask.dtype != torch.bool and bool((torch.isnan(mask) | torch.isposinf(mask)).any()):
            raise ValueError("mask: a float mask is added to the scores, so its entries must be finite or −inf; "
                             "it holds NaN or +inf")
        visible = mask if mask.dtype == torch.bool else ~torch.isneginf(mask)
        blind = ~visible.any(dim=-1)                  # [..., B]: queries that may see no memory
        if bool(blind.any()):
            where = blind.nonzero().tolist()
            whom = ("every query" if mask.ndim == 1 else
                    f"{len(where)} quer{'y' if len(where) == 1 else 'ies'} (indices {where[:5]}{' …' if len(where) > 5 else ''})")
            raise ValueError(f"mask hides every memory from {whom}; weights over no memory are undefined: "
                             f"let each query see at least one memory")
    return mask if mask.ndim > 1 else mask[None]  # [M]: the same for every query


def scores(queries: torch.Tensor, keys: torch.Tensor, *, similarity="dot", mask=None, chunk_size: int | None = None,
           budget: int = SCORE_BUDGET) -> torch.Tensor:
    """Similarity scores ``sim(K, q)`` ``[..., B, M]`` (masked entries −inf), computed chunk by chunk: the
    first factor of chapter 4, eq. (4.1).

    Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-uhn`.

    >>> scores(torch.tensor([[1.0, 2.0]]), torch.eye(2))
    tensor([[1., 2.]])
    """
    mask = _check_call(queries, keys, keys, mask, chunk_size, budget, similarity)
    return _scores(queries, keys, similarity=similarity, mask=mask, chunk_size=chunk_size, budget=budget)


def _scores(queries, keys, *, similarity, mask=None, chunk_size=None, budget=SCORE_BUDGET) -> torch.Tensor:
    """:func:`scores` on inputs the caller has checked."""
    chunks = _chunks(_sim.unchecked(_sim.as_similarity(similarity)), queries, keys, keys, mask, chunk_size, budget)
    return torch.cat([s for s, _ in chunks], dim=-1)


def weights(queries: torch.Tensor, keys: torch.Tensor, *, similarity="dot", separation="softmax", mask=None,
            chunk_size: int | None = None, budget: int = SCORE_BUDGET) -> torch.Tensor:
    """Separated weights ``sep(sim(K, q))`` ``[..., B, M]``, the weights of chapter 4, eq. (4.1).

    Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-uhn`.

    >>> weights(torch.tensor([[1.0, 0.0]]), torch.eye(2), separation="max")
    tensor([[1., 0.]])
    """
    s = scores(queries, keys, similarity=similarity, mask=mask, chunk_size=chunk_size, budget=budget)
    return _sep.as_separation(separation)(s)


def retrieve(queries: torch.Tensor, keys: torch.Tensor, values: torch.Tensor | None = None, *, similarity="dot",
             separation="softmax", mask=None, chunk_size: int | None = None,
             budget: int = SCORE_BUDGET) -> torch.Tensor:
    """One retrieval ``z = sep(sim(K, q)) V`` (chapter 4, eq. (4.1)): ``[..., B, d']``.

    Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-uhn`.

    ``values`` default to the keys (auto-association). ``similarity`` and ``separation`` are
    names or callables as in :class:`hopnb.AssociativeMemory`; ``chunk_size`` fixes the number
    of memories scored at once, else ``budget`` (bytes of scores) decides.

    >>> q, k = torch.randn(2, 3, 8), torch.randn(2, 5, 8)
    >>> ref = torch.softmax(0.5 * q @ k.transpose(-1, -2), dim=-1) @ k
    >>> torch.allclose(retrieve(q, k, separation=_sep.Softmax(beta=0.5)), ref, atol=1e-6)
    True
    """
    values = keys if values is None else values
    mask = _check_call(queries, keys, values, mask, chunk_size, budget, similarity)
    out = _retrieve(queries, keys, values, similarity=similarity, separation=separation, mask=mask,
                    chunk_size=chunk_size, budget=budget)
    if free(out):
        check_result(out, "the retrieval", "the scores (times beta) overflow the separation in "
                     f"{queries.dtype}; lower beta, rescale the inputs or use torch.float64")
    return out


def _retrieve(queries, keys, values, *, similarity, separation, mask=None, chunk_size=None,
              budget=SCORE_BUDGET) -> torch.Tensor:
    """:func:`retrieve` on inputs the caller has checked (the models check theirs once, not per step)."""
    similarity, separation = _sim.as_similarity(similarity), _sep.as_separation(separation)
    beta, form = separation.softmax_beta(), _sim.attention_form(similarity)
    if beta is not None and form is not None:
        return _attention(queries, keys, values, form, beta, mask)
    return separation.stream(_chunks(_sim.unchecked(similarity), queries, keys, values, mask, chunk_size, budget))
