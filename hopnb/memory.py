"""The associative memory: retrieval ``z = P · sep(sim(M, q))``, streamed over the memories.

Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-uhn`.

The universal Hopfield network factorisation (Millidge et al. 2022; chapter 4,
eq. (4.1)): a similarity scores every memory against the query, a separation turns
the scores into weights, and a projection reads the weights out. Every model of the
book is this spine with its own parts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import nn

from . import separation as _sep
from . import similarity as _sim
from ._validate import check_int, check_like, check_norms, check_patterns, check_positive, check_result, shape_str

__all__ = ["AssociativeMemory", "Retrieval", "separation_conjugate", "stream_softmax"]

# Score entries held at once while streaming (B × chunk): 1 Mi floats, 4 MiB in float32,
# small enough to stay in cache, large enough for efficient matrix products.
_SCORE_BUDGET = 1 << 20


class Retrieval(NamedTuple):
    """What :meth:`AssociativeMemory.retrieve` returns.

    Defined in :doc:`/book/ch03_modern_hopfield`, Eq. :eq:`eq-ch03-update`.

    ``state`` ``[B, d]`` is the final state; ``steps`` how many updates ran;
    ``converged`` ``[B]`` whether the last update moved each state by at most ``tol``
    (all False when no ``tol`` was given); ``trajectory`` ``[T, B, d]`` the recorded
    states (the query first), or None.
    """

    state: torch.Tensor
    steps: int
    converged: torch.Tensor
    trajectory: torch.Tensor | None


def _chunk_rows(batch: int, total: int, chunk_size: int | None) -> int:
    if chunk_size is not None:
        return chunk_size
    return min(total, max(256, _SCORE_BUDGET // max(batch, 1)))


def stream_softmax(similarity: Callable, memories: torch.Tensor, values: torch.Tensor, queries: torch.Tensor,
                   beta, chunk_size: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``softmax(β sim(M, q)) @ V`` and ``log Σ_μ exp(β s_μ)``, streamed over chunks of memories.

    Defined in :doc:`/book/ch03_modern_hopfield`, Eqs. :eq:`eq-ch03-lse` and :eq:`eq-ch03-update`.

    A running maximum ``m``, normaliser ``l`` and output ``acc`` are rescaled as each
    chunk arrives (the online softmax of Milakov & Gimelshein 2018), so at most
    ``[B, chunk]`` scores exist at once and the result equals the one-shot softmax.
    Returns ``(z [B, d'], lse [B])``; ``lse / β`` is ``lse(β, s)`` of chapter 3, eq. (3.1).

    >>> memories, queries = torch.eye(4), torch.tensor([[1.0, 0.5, 0.0, 0.0]])
    >>> z, lse = stream_softmax(_sim.dot, memories, memories, queries, beta=2.0, chunk_size=1)
    >>> torch.allclose(z, torch.softmax(2.0 * queries @ memories.T, dim=1) @ memories)
    True
    """
    total = memories.shape[0]
    step = _chunk_rows(queries.shape[0], total, chunk_size)
    if step >= total:
        a = beta * similarity(memories, queries)
        return torch.softmax(a, dim=1) @ values, torch.logsumexp(a, dim=1)
    batch = queries.shape[0]
    m = torch.full((batch,), float("-inf"), dtype=queries.dtype, device=queries.device)
    l = torch.zeros(batch, dtype=queries.dtype, device=queries.device)
    acc = torch.zeros(batch, values.shape[1], dtype=values.dtype, device=values.device)
    for start in range(0, total, step):
        a = beta * similarity(memories[start:start + step], queries)
        m_new = torch.maximum(m, a.amax(dim=1))
        scale = torch.exp(m - m_new)                       # 0 on the first chunk, where m = -inf
        p = torch.exp(a - m_new[:, None])
        l = l * scale + p.sum(dim=1)
        acc = torch.addmm(acc * scale[:, None], p, values[start:start + step])
        m = m_new
    return acc / l[:, None], m + torch.log(l)


class AssociativeMemory(nn.Module):
    """Single-shot and iterated retrieval ``z = P · sep(sim(M, q))`` (Millidge et al. 2022; chapter 4).

    Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-uhn`.

    ``memories [M, d]`` are stored as rows. ``similarity`` is a name from
    :mod:`hopnb.similarity` or any callable ``(memories [M, d], queries [B, d]) -> scores [B, M]``
    (learned similarities are ``nn.Module`` s and train with the memory); ``separation``
    a name from :mod:`hopnb.separation` (with default parameters), a separation module
    such as ``softmax(beta=8)``, or any callable ``scores -> weights``. ``projection``
    ``[M, d']`` makes the memory hetero-associative; by default ``P = M``
    (auto-association). ``chunk_size`` fixes how many memories are scored at once
    (by default about 1 Mi scores, ``B × chunk``); no ``[B, M, d]`` tensor is ever built.

    >>> mem = AssociativeMemory(torch.eye(3), separation=_sep.softmax(beta=20.0))
    >>> mem(torch.tensor([[0.9, 0.1, 0.0]])).argmax(dim=1)
    tensor([0])
    """

    def __init__(self, memories: torch.Tensor, similarity: str | Callable = "dot",
                 separation: str | Callable = "softmax", projection: torch.Tensor | None = None, *,
                 chunk_size: int | None = None):
        super().__init__()
        check_patterns(memories, "memories")
        if projection is not None:
            check_patterns(projection, "projection")
            check_like(projection, memories, "projection", "memories", dim=0)
        if chunk_size is not None:
            chunk_size = check_int(chunk_size, "chunk_size")
        if isinstance(similarity, str):
            similarity = _sim.get(similarity)
        elif not callable(similarity):
            raise TypeError(f"similarity must be a name ({', '.join(_sim.NAMES)}) or a callable; "
                            f"got {type(similarity).__name__}")
        if isinstance(separation, str):
            separation = _sep.get(separation)
        elif not callable(separation):
            raise TypeError(f"separation must be a name ({', '.join(_sep.NAMES)}) or a callable; "
                            f"got {type(separation).__name__}")
        if _sim.cosine_eps(similarity) is not None:
            check_norms(memories, "memories", _sim.cosine_eps(similarity))
        self.register_buffer("memories", memories)
        self.register_buffer("projection", projection)
        self.similarity = similarity
        self.separation = separation
        self.chunk_size = chunk_size

    def _score(self, memories: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
        """The similarity on already-checked inputs, with its output shape checked."""
        s = _sim.unchecked(self.similarity)(memories, queries)
        expected = (queries.shape[0], memories.shape[0])
        if not isinstance(s, torch.Tensor) or tuple(s.shape) != expected:
            got = shape_str(s) if isinstance(s, torch.Tensor) else type(s).__name__
            raise ValueError(f"similarity must return scores [B, M] = [{expected[0]}, {expected[1]}]; got {got}")
        if s.dtype != queries.dtype:
            raise TypeError(f"similarity must return scores of the queries' dtype {queries.dtype}; got {s.dtype}")
        check_result(s, "the similarity's scores", "the similarity overflowed or returned NaN on finite inputs")
        return s

    @property
    def values(self) -> torch.Tensor:
        """The rows read out by the weights: ``projection`` if given, else the memories."""
        return self.memories if self.projection is None else self.projection

    def extra_repr(self) -> str:
        kind = "auto" if self.projection is None else f"hetero, d'={self.projection.shape[1]}"
        name = getattr(self.similarity, "__name__", None) or repr(self.similarity)
        return f"M={self.memories.shape[0]}, d={self.memories.shape[1]}, similarity={name}, {kind}"

    # ----------------------------------------------------------------- pieces

    def _check_queries(self, queries) -> torch.Tensor:
        check_patterns(queries, "queries")
        check_like(queries, self.memories, "queries", "memories")
        if _sim.cosine_eps(self.similarity) is not None:
            check_norms(queries, "queries", _sim.cosine_eps(self.similarity))
        return queries

    def _chunks(self, batch: int):
        step = _chunk_rows(batch, self.memories.shape[0], self.chunk_size)
        for start in range(0, self.memories.shape[0], step):
            yield slice(start, start + step)

    def _scores(self, queries: torch.Tensor, rows: slice) -> torch.Tensor:
        return self._score(self.memories[rows], queries)

    def scores(self, queries: torch.Tensor) -> torch.Tensor:
        """Similarity scores ``[B, M]`` of every memory for every query.

        >>> AssociativeMemory(torch.eye(2)).scores(torch.tensor([[2.0, 1.0]]))
        tensor([[2., 1.]])
        """
        self._check_queries(queries)
        return torch.cat([self._scores(queries, rows) for rows in self._chunks(queries.shape[0])], dim=1)

    def weights(self, queries: torch.Tensor) -> torch.Tensor:
        """Separated weights ``sep(sim(M, q))``, ``[B, M]``.

        >>> AssociativeMemory(torch.eye(2), separation="max").weights(torch.tensor([[2.0, 1.0]]))
        tensor([[1., 0.]])
        """
        scores = self.scores(queries)
        w = self.separation(scores)
        if not isinstance(w, torch.Tensor) or w.shape != scores.shape:
            got = shape_str(w) if isinstance(w, torch.Tensor) else type(w).__name__
            raise ValueError(f"separation must return weights [B, M] = [{scores.shape[0]}, {scores.shape[1]}] "
                             f"(the scores' shape); got {got}")
        return w

    # ----------------------------------------------------------------- retrieval

    def forward(self, queries: torch.Tensor) -> torch.Tensor:
        """Single-shot retrieval ``z = P · sep(sim(M, q))``: ``queries [B, d] -> [B, d']``.

        >>> mem = AssociativeMemory(torch.eye(2), separation=_sep.Softmax(beta=1.0))
        >>> mem(torch.tensor([[1.0, 0.0]]))
        tensor([[0.7311, 0.2689]])
        """
        self._check_queries(queries)
        out = self._forward(queries)
        if isinstance(self.separation, _sep.Polynomial) and self.separation.normalize and \
                not bool(torch.isfinite(out).all()):  # s^n overflowed in the stream: whole rows are scale-safe
            out = self.weights(queries) @ self.values
        return check_result(out, "the retrieval", "the scores (times beta) overflow the separation in "
                            f"{queries.dtype}; lower beta, rescale the memories and queries or use torch.float64")

    def _forward(self, queries: torch.Tensor) -> torch.Tensor:
        sep, values = self.separation, self.values
        if isinstance(sep, _sep.Softmax):
            beta = _sep.beta_of(sep)
            return stream_softmax(self._score, self.memories, values, queries, beta, self.chunk_size)[0]
        if isinstance(sep, _sep.Max):
            best, index = None, None
            for rows in self._chunks(queries.shape[0]):
                top, arg = self._scores(queries, rows).max(dim=1)
                arg = arg + rows.start
                if best is None:
                    best, index = top, arg
                else:
                    better = top > best
                    best, index = torch.where(better, top, best), torch.where(better, arg, index)
            return values[index]
        if isinstance(sep, _sep.Elementwise):
            acc = total = 0
            for rows in self._chunks(queries.shape[0]):
                w = sep.map(self._scores(queries, rows))
                acc = acc + w @ values[rows]
                total = total + w.sum(dim=1, keepdim=True)
            if sep.normalize:
                acc = acc / torch.where(total == 0, torch.ones_like(total), total)
            return acc
        return self.weights(queries) @ values

    def retrieve(self, queries: torch.Tensor, steps: int = 1, *, tol: float | None = None,
                 record: bool = False, max_record: int = 100) -> Retrieval:
        """Iterate ``x ← P · sep(sim(M, x))`` up to ``steps`` times (auto-association only).

        With ``tol`` it stops early once no state moves by more than ``tol`` (max-norm).
        With ``record`` it keeps the query and the states after each update, at most
        ``max_record`` of them (the earliest).

        >>> mem = AssociativeMemory(torch.eye(3), separation=_sep.Softmax(beta=10.0))
        >>> r = mem.retrieve(torch.tensor([[0.6, 0.4, 0.0]]), steps=20, tol=1e-4, record=True)
        >>> r.state.round(decimals=3), r.steps, r.converged, tuple(r.trajectory.shape)
        (tensor([[1., 0., 0.]]), 4, tensor([True]), (5, 1, 3))
        """
        if self.projection is not None and self.projection.shape[1] != self.memories.shape[1]:
            raise ValueError(f"iterated retrieval needs outputs of the query's size d={self.memories.shape[1]}; "
                             f"this hetero-associative memory outputs d'={self.projection.shape[1]}")
        steps = check_int(steps, "steps")
        if tol is not None:
            check_positive(tol, "tol", strict=False)
        if not isinstance(record, bool):
            raise TypeError(f"record must be a bool; got {record!r}")
        if record:
            max_record = check_int(max_record, "max_record")
        state = self._check_queries(queries)
        trajectory = [state] if record else None
        converged = torch.zeros(state.shape[0], dtype=torch.bool, device=state.device)
        done = 0
        for done in range(1, steps + 1):
            new = self(state)
            if tol is not None:
                converged = (new - state).abs().amax(dim=1) <= tol
            state = new
            if record and len(trajectory) < max_record:
                trajectory.append(state)
            if tol is not None and bool(converged.all()):
                break
        return Retrieval(state, done, converged, torch.stack(trajectory) if record else None)

    # ----------------------------------------------------------------- energy

    def energy(self, states: torch.Tensor) -> torch.Tensor:
        """The energy ``[B]`` of states ``[B, d]``, for the models that have one.

        Dot similarity with softmax separation is the modern continuous Hopfield network
        (Ramsauer et al. 2020; chapter 3, eq. (3.2)):
        ``E(x) = -lse(β, Ξᵀx) + ½ xᵀx + β⁻¹ log M + ½ m²`` with ``m = max_μ ‖ξ_μ‖``.
        With sparsemax or α-entmax it is the sparse modern Hopfield network (Hu et al. 2023;
        U-Hop eq. (2.3)): ``E(x) = ½ xᵀx − β⁻¹ Ψ*_α(β Ξx)``, see :func:`separation_conjugate`.
        In both cases :meth:`forward` is the energy's concave–convex update, so iterating
        never raises it.

        >>> mem = AssociativeMemory(torch.eye(3), separation=_sep.Softmax(beta=10.0))
        >>> r = mem.retrieve(torch.tensor([[0.6, 0.4, 0.0]]), steps=4, record=True)
        >>> mem.energy(r.trajectory[:, 0])
        tensor([0.2570, 0.1242, 0.1099, 0.1099, 0.1099])
        """
        self._check_queries(states)
        sim_fn = getattr(self.similarity, "func", self.similarity)
        sep = self.separation
        if not (sim_fn is _sim.dot and isinstance(sep, (_sep.Softmax, _sep.Entmax)) and self.projection is None):
            raise NotImplementedError(
                "energy() is defined here for the modern Hopfield network and its sparse versions "
                "(similarity='dot', separation softmax / sparsemax / entmax, auto-association); the classical "
                "network and dense associative memories have theirs in hopnb.models")
        hint = f"β · scores overflow {states.dtype}; lower beta, rescale the memories and states or use torch.float64"
        if isinstance(sep, _sep.Entmax):
            _sep.beta_of(sep)
            energy = 0.5 * states.square().sum(dim=1) - separation_conjugate(sep, self.scores(states))
            return check_result(energy, "the energy", hint)
        beta = _sep.beta_of(sep)
        _, lse = stream_softmax(self._score, self.memories, self.memories, states, beta, self.chunk_size)
        m2 = self.memories.square().sum(dim=1).amax()
        energy = -lse / beta + 0.5 * states.square().sum(dim=1) + math.log(self.memories.shape[0]) / beta + 0.5 * m2
        return check_result(energy, "the energy", hint)


def separation_conjugate(separation: _sep.Softmax | _sep.Entmax, scores: torch.Tensor) -> torch.Tensor:
    """``β⁻¹ Ψ*_α(β s)`` for each row of ``scores [B, M]``: the convex function whose gradient in
    ``s`` is the separation's output (U-Hop eq. (2.3); chapter 5).

    Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-energy`.

    For α-entmax, ``Ψ*_α(θ) = max_p ⟨p, θ⟩ + H_α(p) = ⟨p*, θ⟩ + H_α(p*)`` with
    ``p* = α-entmax(θ)`` and the Tsallis entropy ``H_α(p) = Σ_μ (p_μ − p_μ^α) / (α(α − 1))``;
    for the softmax (α → 1, Shannon entropy) it is ``log Σ_μ exp(θ_μ)``, so the result is
    ``lse(β, s)``. (U-Hop's App. D writes the maximisation as ``⟨p, z⟩ − Ψ_α(p)`` with this
    entropy as ``Ψ_α``; the sign must be ``+`` for α = 1 to give the softmax.)

    >>> s = torch.tensor([[2.0, 0.0]])
    >>> separation_conjugate(_sep.sparsemax(), s)  # one-hot: the conjugate is the top score
    tensor([2.])
    """
    beta = separation.beta
    if isinstance(separation, _sep.Softmax):
        return torch.logsumexp(beta * scores, dim=-1) / beta
    alpha, p = separation.alpha, separation(scores)
    tsallis = (p - p.pow(alpha)).sum(dim=-1) / (alpha * (alpha - 1))
    return ((p * beta * scores).sum(dim=-1) + tsallis) / beta
