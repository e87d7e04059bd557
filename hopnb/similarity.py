"""Similarity functions: ``(memories [M, d], queries [B, d]) -> scores [B, M]``, higher = more similar.

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
from ._validate import check_norms, check_pair, check_positive

__all__ = ["dot", "cosine", "euclidean", "manhattan", "get", "unchecked", "NAMES"]

Similarity = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _checked(fn):
    @functools.wraps(fn)
    def checked(memories, queries, **params):
        check_pair(memories, queries)
        if "eps" in params:
            check_positive(params["eps"], "eps")
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

    >>> dot(torch.eye(2), torch.tensor([[2.0, 1.0]]))
    tensor([[2., 1.]])
    """
    return queries @ memories.transpose(-1, -2)


@_checked
def cosine(memories: torch.Tensor, queries: torch.Tensor, *, eps: float = 1e-8) -> torch.Tensor:
    """Cosine similarity, ``s_{bμ} = q_b · ξ_μ / (‖q_b‖ ‖ξ_μ‖)``, in [-1, 1].

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

    ``reciprocal=True`` gives ``1 / (dist + eps)``, the UHN code's form (there with
    ``squared=True``). Both forms use matrix products (``torch.cdist`` does for
    large inputs), so a zero distance may come out as a small positive number.

    >>> euclidean(torch.zeros(1, 2), torch.tensor([[3.0, 4.0]]))
    tensor([[-5.]])
    """
    if squared:  # expanded, so that the gradient stays finite at zero distance
        dist = (queries.square().sum(-1, keepdim=True) + memories.square().sum(-1).unsqueeze(-2)
                - 2 * queries @ memories.transpose(-1, -2))
        dist = dist.clamp_min(0)
    else:
        dist = torch.cdist(queries, memories, p=2.0)
    return _distance_score(dist, reciprocal, eps)


@_checked
def manhattan(memories: torch.Tensor, queries: torch.Tensor, *, reciprocal: bool = False,
              eps: float = 1e-8, backend: str | None = None) -> torch.Tensor:
    """Negative Manhattan (ℓ1) distance, ``s_{bμ} = -Σ_i |q_{bi} - ξ_{μi}|``.

    ``reciprocal=True`` gives ``1 / (dist + eps)``, the UHN code's form. The distances come
    from :func:`hopnb.l1.distance`: a compiled CPU kernel where it runs, else
    ``torch.cdist(p=1)``; ``backend`` (``"auto"``, ``"kernel"``, ``"cdist"``, or None for the
    environment variable ``HOPNB_L1``) picks, and :func:`hopnb.l1.choose` says which ran.

    >>> manhattan(torch.zeros(1, 2), torch.tensor([[3.0, -4.0]]))
    tensor([[-7.]])
    """
    return _distance_score(l1.distance(memories, queries, backend), reciprocal, eps)


_REGISTRY: dict[str, Callable] = {"dot": dot, "cosine": cosine, "euclidean": euclidean, "manhattan": manhattan}
NAMES = tuple(_REGISTRY)


def get(name: str, **params) -> Similarity:
    """The similarity called ``name`` with its keyword ``params`` bound, e.g. ``get("euclidean", squared=True)``."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown similarity {name!r}; known: {', '.join(NAMES)} (or pass any callable "
                         f"(memories [M, d], queries [B, d]) -> scores [B, M])")
    fn = _REGISTRY[name]
    if "eps" in params:
        check_positive(params["eps"], "eps")
    return functools.partial(fn, **params) if params else fn


def cosine_eps(sim) -> float | None:
    """``eps`` when ``sim`` is hopnb's cosine similarity (or a partial of it), else None."""
    if isinstance(sim, functools.partial) and getattr(sim.func, "__wrapped__", None) is getattr(cosine, "__wrapped__"):
        return sim.keywords.get("eps", 1e-8)
    return 1e-8 if sim is cosine else None


def unchecked(sim: str | Similarity) -> Similarity:
    """The bare computation behind ``sim`` (a name, a hopnb similarity, a partial of one, or any callable)."""
    if isinstance(sim, str):
        sim = get(sim)
    if isinstance(sim, functools.partial) and hasattr(sim.func, "raw"):
        return functools.partial(sim.func.raw, *sim.args, **sim.keywords)
    return getattr(sim, "raw", sim)
