"""Similarity functions: ``(memories [M, d], queries [B, d]) -> scores [B, M]``, higher = more similar.

Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-uhn`.

The first factor of the universal Hopfield network (UHN) retrieval
``z = P · sep(sim(M, q))`` (Millidge et al. 2022; chapter 4, eq. (4.1)).
Distances enter as *negative* distances, so that the most similar memory has the
largest score and a softmax puts its weight there; ``reciprocal=True`` gives the
UHN code's ``1 / distance`` instead. No tensor of shape ``[B, M, d]`` is ever built.

Each function checks its inputs; :func:`unchecked` returns the bare computation,
which :class:`hopnb.AssociativeMemory` calls on chunks of already-checked memories.
The bare computations also take batches of sets, ``[N, M, d]`` and ``[N, B, d]``
(the Hopfield layers of :mod:`hopnb.nn` use them so).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
import torch.nn.functional as F

from . import l1
from ._validate import check_bool, check_norms, check_pair, check_positive

__all__ = ["dot", "cosine", "euclidean", "manhattan", "get", "as_similarity", "unchecked", "attention_form", "self_term", "NAMES"]

Similarity = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _checked(fn=None, *, eps_may_be_zero: bool = False):
    """Check the pair of inputs (and ``eps``, > 0, or ≥ 0 for the divergences, whose ε only
    smooths the logarithm) before calling ``fn``; ``checked.raw`` is ``fn`` itself."""
    if fn is None:
        return functools.partial(_checked, eps_may_be_zero=eps_may_be_zero)

    @functools.wraps(fn)
    def checked(memories, queries, **params):
        check_pair(memories, queries)
        if "eps" in params:
            check_positive(params["eps"], "eps", strict=not eps_may_be_zero)
        for flag in ("squared", "reciprocal"):
            if flag in params:
                check_bool(params[flag], flag)
        if fn.__name__ == "cosine":
            eps = params.get("eps", 1e-8)
            check_norms(memories, "memories", eps)
            check_norms(queries, "queries", eps)
        return fn(memories, queries, **params)

    checked.raw = fn
    return checked


@_checked
def dot(memories: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
    """Dot product, ``s_{bμ} = q_b · ξ_μ`` (chapter 0, eq. (1); chapter 3).

    Defined in :doc:`/book/ch03_modern_hopfield`, Eq. :eq:`eq-ch03-update`.

    >>> dot(torch.eye(2), torch.tensor([[2.0, 1.0]]))
    tensor([[2., 1.]])
    """
    return queries @ memories.transpose(-1, -2)


@_checked
def cosine(memories: torch.Tensor, queries: torch.Tensor, *, eps: float = 1e-8) -> torch.Tensor:
    """Cosine similarity, ``s_{bμ} = q_b · ξ_μ / (‖q_b‖ ‖ξ_μ‖)``, in [-1, 1].

    Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-uhn`.

    >>> cosine(torch.eye(2), torch.tensor([[3.0, 0.0]]))
    tensor([[1., 0.]])
    """
    return F.normalize(queries, dim=-1, eps=eps) @ F.normalize(memories, dim=-1, eps=eps).transpose(-1, -2)


def _distance_score(dist: torch.Tensor, reciprocal: bool, eps: float) -> torch.Tensor:
    return 1.0 / (dist + eps) if reciprocal else -dist


@_checked
def euclidean(memories: torch.Tensor, queries: torch.Tensor, *, squared: bool = False, reciprocal: bool = False,
              eps: float = 1e-8) -> torch.Tensor:
    """Negative Euclidean distance, ``s_{bμ} = -‖q_b - ξ_μ‖`` (``squared``: ``-‖q_b - ξ_μ‖²``).

    Defined in :doc:`/book/ch00_associative_memory_in_ten_minutes`, Eq. :eq:`eq-ch00-similarity`.

    ``reciprocal=True`` gives ``1 / (dist + eps)``, the UHN code's form (there with
    ``squared=True``). Both forms use matrix products (``torch.cdist`` does for
    large inputs), so a zero distance may come out as a small positive number. The
    products expand ``‖q − ξ‖² = ‖q‖² + ‖ξ‖² − 2qᵀξ``, which loses every digit when the
    patterns share a large offset; so both are first moved by the same vector (the first
    memory), which leaves every distance unchanged and the expansion small.

    >>> euclidean(torch.zeros(1, 2), torch.tensor([[3.0, 4.0]]))
    tensor([[-5.]])
    """
    memories, queries = _recentred(memories, queries)
    if squared:  # expanded, so that the gradient stays finite at zero distance
        dist = (queries.square().sum(-1, keepdim=True) + memories.square().sum(-1).unsqueeze(-2)
                - 2 * queries @ memories.transpose(-1, -2))
        dist = dist.clamp_min(0)
    else:
        dist = torch.cdist(queries, memories, p=2.0)
    return _distance_score(dist, reciprocal, eps)


def _recentred(memories: torch.Tensor, queries: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Both moved by the first memory (a constant: distances, and their gradients, are unchanged)."""
    origin = memories[..., :1, :].detach()
    return memories - origin, queries - origin


@_checked
def manhattan(memories: torch.Tensor, queries: torch.Tensor, *, reciprocal: bool = False,
              eps: float = 1e-8, backend: str | None = None) -> torch.Tensor:
    """Negative Manhattan (ℓ1) distance, ``s_{bμ} = -Σ_i |q_{bi} - ξ_{μi}|``.

    Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-uhn`.

    ``reciprocal=True`` gives ``1 / (dist + eps)``, the UHN code's form. The distances come
    from :func:`hopnb.l1.distance`: a compiled CPU kernel where it runs, else
    ``torch.cdist(p=1)``; ``backend`` (``"auto"``, ``"kernel"``, ``"cdist"``, or None for the
    environment variable ``HOPNB_L1``) picks, and :func:`hopnb.l1.choose` says which ran.

    >>> manhattan(torch.zeros(1, 2), torch.tensor([[3.0, -4.0]]))
    tensor([[-7.]])
    """
    return _distance_score(l1._distance(memories, queries, backend), reciprocal, eps)


_REGISTRY: dict[str, Callable] = {"dot": dot, "cosine": cosine, "euclidean": euclidean, "manhattan": manhattan}
NAMES = tuple(_REGISTRY)


def get(name: str, **params) -> Similarity:
    """The similarity called ``name`` with its keyword ``params`` bound, e.g. ``get("euclidean", squared=True)``.

    Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-uhn`.

    >>> get("euclidean", squared=True)(torch.eye(2), torch.tensor([[1.0, 1.0]]))
    tensor([[-1., -1.]])
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a similarity's name, a str ({', '.join(NAMES)}); got {type(name).__name__}")
    if name not in _REGISTRY:
        raise ValueError(f"unknown similarity {name!r}; known: {', '.join(NAMES)} (or pass any callable "
                         f"(memories [M, d], queries [B, d]) -> scores [B, M])")
    fn = _REGISTRY[name]
    if "eps" in params:                  # the divergences' smoothing may be 0 (the exact divergence)
        check_positive(params["eps"], "eps", strict=name not in _DIVERGENCES)
    return functools.partial(fn, **params) if params else fn


def as_similarity(value) -> Similarity:
    """The similarity slot of chapter 4, eq. (4.1), from a name (``"dot"``) or any callable
    ``(memories, queries) -> scores``.

    Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-uhn`.

    >>> as_similarity("dot") is dot
    True
    """
    if isinstance(value, str):
        return get(value)
    if not callable(value):
        raise TypeError(f"similarity must be a name ({', '.join(NAMES)}) or a callable; got {type(value).__name__}")
    return value


def cosine_eps(sim) -> float | None:
    """``eps`` when ``sim`` is hopnb's cosine similarity (or a partial of it), else None."""
    if isinstance(sim, functools.partial) and getattr(sim.func, "__wrapped__", None) is getattr(cosine, "__wrapped__"):
        return sim.keywords.get("eps", 1e-8)
    return 1e-8 if sim is cosine else None


def unchecked(sim: str | Similarity) -> Similarity:
    """The bare computation behind ``sim`` (a name, a hopnb similarity, a partial of one, or any callable).

    Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-uhn`.

    >>> unchecked("dot")(torch.eye(2), torch.tensor([[3.0, 4.0]]))
    tensor([[3., 4.]])
    """
    if isinstance(sim, str):
        sim = get(sim)
    if isinstance(sim, functools.partial) and hasattr(sim.func, "raw"):
        return functools.partial(sim.func.raw, *sim.args, **sim.keywords)
    return getattr(sim, "raw", sim)


def attention_form(sim) -> str | None:
    """How ``softmax(β sim(K, q))`` (chapter 3, eq. (3.4)) maps onto
    :func:`torch.nn.functional.scaled_dot_product_attention`:
    ``"dot"`` for the dot product (scale β), ``"squared_euclidean"`` for ``euclidean(squared=True)``
    (``−‖q − ξ‖² = 2 qᵀξ − ‖ξ‖² − ‖q‖²``: scale 2β and an additive bias ``−β‖ξ‖²``, the query's own
    term cancelling in the softmax), None for any other similarity.

    Defined in :doc:`/book/ch03_modern_hopfield`, Eq. :eq:`eq-ch03-update`.

    >>> attention_form("dot"), attention_form(get("euclidean", squared=True)), attention_form("manhattan")
    ('dot', 'squared_euclidean', None)
    """
    raw = unchecked(sim)
    if raw is dot.raw:
        return "dot"
    if (isinstance(raw, functools.partial) and raw.func is euclidean.raw and not raw.args
            and raw.keywords.get("squared") and not raw.keywords.get("reciprocal")):
        return "squared_euclidean"
    return None

def self_term(sim) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """``x -> ½ sim(x, x)`` row by row, the convex term of the energy, for the similarities that are
    inner products: the dot product (``½ xᵀx``, chapter 3, eq. (3.2)) and any similarity object with a
    ``self_term`` method (the kernel ``½ ‖W x‖²``, U-Hop eq. (2.2)); None for the others.

    Defined in :doc:`/book/ch03_modern_hopfield`, Eq. :eq:`eq-ch03-energy`.

    >>> self_term("dot")(torch.tensor([[3.0, 4.0]]))
    tensor([12.5000])
    """
    if unchecked(sim) is dot.raw:
        return lambda x: 0.5 * x.square().sum(dim=-1)
    return getattr(sim, "self_term", None)


# --------------------------------------------------------------------------------------------------
# The other similarities of the UHN paper (Millidge et al. 2022, §4; chapter 4, eqs. (4.2)–(4.4)):
# an L1-normalised dot product and three divergences between patterns normalised to sum to one.
# They are defined for non-negative patterns (pixel intensities), each with a positive sum.

EPS_UHN = 1e-4
"""The smoothing ε inside the logarithms of the UHN code's divergences."""

# Entries of the [B, m, d] block that :func:`jensen_shannon` builds at once (2 MiB in float64): small
# enough for the cache, large enough that each elementwise operation is worth its threads.
_JS_BLOCK = 1 << 18


def _as_distribution(x: torch.Tensor, name: str) -> torch.Tensor:
    """Rows of ``x`` divided by their sums; ``x`` must be non-negative with positive row sums."""
    low = x.min()
    if low < 0:
        raise ValueError(f"{name} must be non-negative for this similarity (it compares patterns normalised to "
                         f"sum 1, e.g. pixel intensities); got a minimum entry of {low.item():.4g}")
    total = x.sum(dim=-1, keepdim=True)
    empty = int((total <= 0).sum())
    if empty:
        raise ValueError(f"{name} must have a positive sum in every row to be normalised; got {empty} all-zero "
                         f"row(s) (e.g. a query masked entirely)")
    return x / total


def _check_eps(eps) -> float:
    return check_positive(eps, "eps", strict=False)


def _divergence_score(div: torch.Tensor, reciprocal: bool) -> torch.Tensor:
    return 1.0 / div if reciprocal else -div


def _neg_entropy(p: torch.Tensor, eps: float) -> torch.Tensor:
    """``Σ_i p_i log(p_i + ε)`` over the last dimension, with ``0 log 0 = 0``."""
    return torch.xlogy(p, p + eps).sum(dim=-1)


def _cross(a: torch.Tensor, b: torch.Tensor, eps: float) -> torch.Tensor:
    """``Σ_i a_{ri} log(b_{ci} + ε)`` for every row r of ``a`` and c of ``b``: ``[.., R, C]``, one matrix
    product. With ``eps = 0`` a pair where ``b_{ci} = 0 < a_{ri}`` for some i gets ``-inf``."""
    if eps > 0:
        return a @ torch.log(b + eps).transpose(-1, -2)
    zero = b == 0
    cross = a @ torch.where(zero, torch.zeros_like(b), torch.log(torch.where(zero, torch.ones_like(b), b))).transpose(-1, -2)
    uncovered = (a > 0).to(a.dtype) @ zero.to(a.dtype).transpose(-1, -2) > 0
    return cross.masked_fill(uncovered, float("-inf"))


@_checked
def l1_dot(memories: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
    """L1-normalised dot product, ``s_{bμ} = (q_b / Σ_i q_{bi}) · (ξ_μ / Σ_i ξ_{μi})`` (chapter 4, eq. (4.2)).

    Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-l1dot`.

    The "dot product" of every experiment in the UHN code: each memory and the query are
    divided by their sums first, which removes the raw dot product's preference for bright
    memories. (The code then also divides the scores by their sum over the memories; that
    is the UHN normalisation step, done by the caller, and changes no ranking.) Patterns
    must be non-negative with positive sums.

    >>> l1_dot(torch.tensor([[1.0, 0.0], [2.0, 2.0]]), torch.tensor([[3.0, 1.0]]))
    tensor([[0.7500, 0.5000]])
    """
    p, q = _as_distribution(memories, "memories"), _as_distribution(queries, "queries")
    return q @ p.transpose(-1, -2)


@_checked(eps_may_be_zero=True)
def kl(memories: torch.Tensor, queries: torch.Tensor, *, eps: float = EPS_UHN, reciprocal: bool = False) -> torch.Tensor:
    """Negative Kullback–Leibler divergence of each memory from the query, ``s_{bμ} = −KL(ξ̂_μ ‖ q̂_b)``,
    between the patterns normalised to sum 1 (chapter 4, eq. (4.3)).

    Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-kl`.

    ``KL_ε(p ‖ q) = Σ_i p_i [log(p_i + ε) − log(q_i + ε)]``: ``eps`` is the UHN code's
    smoothing (default 1e-4; ``eps=0`` gives the exact divergence, ``+inf`` where the
    query is 0 on a pixel the memory is not). With ``eps > 0`` it is no longer a
    divergence in the strict sense and can dip slightly below 0 for a query close to the
    memory. ``reciprocal=True`` gives ``1 / KL_ε``, the code's form (its ranking is the
    negative divergence's wherever the divergences are positive). Computed as
    ``Σ p log(p + ε)`` minus one matrix product, so no ``[B, M, d]`` tensor is built.

    >>> kl(torch.tensor([[1.0, 3.0], [2.0, 3.0]]), torch.tensor([[1.0, 1.0]]), eps=0.0)
    tensor([[-0.1308, -0.0201]])
    """
    eps = _check_eps(eps)
    p, q = _as_distribution(memories, "memories"), _as_distribution(queries, "queries")
    div = _neg_entropy(p, eps).unsqueeze(-2) - _cross(p, q, eps).transpose(-1, -2)
    return _divergence_score(div, reciprocal)


@_checked(eps_may_be_zero=True)
def reverse_kl(memories: torch.Tensor, queries: torch.Tensor, *, eps: float = EPS_UHN,
               reciprocal: bool = False) -> torch.Tensor:
    """Negative reverse Kullback–Leibler divergence, ``s_{bμ} = −KL(q̂_b ‖ ξ̂_μ)`` (chapter 4, eq. (4.3)):
    :func:`kl` with the roles of memory and query swapped, same ``eps`` and ``reciprocal``.

    Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-kl`.

    The query's zeros (a masked half) drop out of the sum, so the memory is judged only
    where the query has mass.

    >>> reverse_kl(torch.tensor([[1.0, 3.0], [2.0, 3.0]]), torch.tensor([[1.0, 1.0]]), eps=0.0)
    tensor([[-0.1438, -0.0204]])
    """
    eps = _check_eps(eps)
    p, q = _as_distribution(memories, "memories"), _as_distribution(queries, "queries")
    div = _neg_entropy(q, eps).unsqueeze(-1) - _cross(q, p, eps)
    return _divergence_score(div, reciprocal)


@_checked(eps_may_be_zero=True)
def jensen_shannon(memories: torch.Tensor, queries: torch.Tensor, *, eps: float = EPS_UHN,
                   reciprocal: bool = False) -> torch.Tensor:
    """Negative Jensen–Shannon divergence, ``s_{bμ} = −JS(ξ̂_μ, q̂_b)`` with
    ``JS(p, q) = ½ KL_ε(p ‖ m) + ½ KL_ε(q ‖ m)``, ``m = (p + q) / 2`` (chapter 4, eq. (4.4)).

    Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-js`.

    ``eps`` and ``reciprocal`` as in :func:`kl`; with ``eps=0`` it is the exact divergence,
    symmetric and at most ``log 2``. The mixture term ``Σ_i m_i log(m_i + ε)`` does not
    factor into matrix products, so it is computed on blocks of at most 262 144 entries of
    ``[B, m, d]``, never the whole tensor. (The UHN code's function of this name returns
    ``1 / (½/KL + ½/KL_rev)``, the harmonic mean of the two divergences, which ranks the
    *least* similar memory first; chapter 4 shows what that does.)

    >>> p = torch.tensor([[1.0, 0.0]])
    >>> torch.allclose(-jensen_shannon(p, torch.tensor([[0.0, 1.0]]), eps=0.0), torch.log(torch.tensor([[2.0]])))
    True
    """
    eps = _check_eps(eps)
    p, q = _as_distribution(memories, "memories"), _as_distribution(queries, "queries")
    lead = torch.broadcast_shapes(p.shape[:-2], q.shape[:-2])
    per_pair = p.shape[-1] * lead.numel()
    m_step = max(1, min(p.shape[-2], _JS_BLOCK // per_pair))
    b_step = max(1, _JS_BLOCK // (per_pair * m_step))
    rows = []
    for b0 in range(0, q.shape[-2], b_step):
        qb = q[..., b0:b0 + b_step, None, :]
        parts = []
        for m0 in range(0, p.shape[-2], m_step):
            mix = 0.5 * (qb + p[..., None, m0:m0 + m_step, :])
            parts.append(torch.xlogy(mix, mix + eps).sum(dim=-1))
        rows.append(torch.cat(parts, dim=-1))
    mixture = torch.cat(rows, dim=-2)
    div = 0.5 * _neg_entropy(p, eps).unsqueeze(-2) + 0.5 * _neg_entropy(q, eps).unsqueeze(-1) - mixture
    return _divergence_score(div, reciprocal)


_UHN_SIMILARITIES = {"l1_dot": l1_dot, "kl": kl, "reverse_kl": reverse_kl, "jensen_shannon": jensen_shannon}
_REGISTRY.update(_UHN_SIMILARITIES)
_DIVERGENCES = frozenset({"kl", "reverse_kl", "jensen_shannon"})
#: The names :func:`get` accepts.
NAMES = tuple(_REGISTRY)
__all__ += [*_UHN_SIMILARITIES, "EPS_UHN"]
