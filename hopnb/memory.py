"""The associative memory: retrieval ``z = P · sep(sim(M, q))``, streamed over the memories.

Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-uhn`.

The universal Hopfield network factorisation (Millidge et al. 2022; chapter 4,
eq. (4.1)): a similarity scores every memory against the query, a separation turns
the scores into weights, and a projection reads the weights out. Every model of the
book is this spine with its own parts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import nn

from . import functional as _F
from . import separation as _sep
from . import similarity as _sim
from ._validate import (check_bool, check_finite, check_int, check_like, check_norms, check_patterns, check_positive,
                        check_result, free)

__all__ = ["AssociativeMemory", "Retrieval", "separation_conjugate"]


class Retrieval(NamedTuple):
    """What ``retrieve`` returns, for every model: :meth:`AssociativeMemory.retrieve` and the
    binary networks' :meth:`~hopnb.models.binary.BinaryNetwork.retrieve`.

    Defined in :doc:`/book/ch03_modern_hopfield`, Eq. :eq:`eq-ch03-update`.

    ``state`` ``[B, d]`` is the final state; ``steps`` how many updates (for the binary
    networks, sweeps) ran; ``converged`` ``[B]`` whether the last update left each state
    in place (binary networks) or moved it by at most ``tol`` (all False when no ``tol`` was
    given); ``trajectory`` ``[T, B, d]`` the
    recorded states (the query first), or None; ``energies`` ``[T, B]`` the energy of each
    recorded state, or None.

    >>> r = AssociativeMemory(torch.eye(2)).retrieve(torch.tensor([[0.6, 0.4]]), steps=3, record_energy=True)
    >>> r.steps, tuple(r.energies.shape), r.trajectory is None
    (3, (4, 1), True)
    """

    state: torch.Tensor
    steps: int
    converged: torch.Tensor
    trajectory: torch.Tensor | None = None
    energies: torch.Tensor | None = None


class AssociativeMemory(nn.Module):
    """Single-shot and iterated retrieval ``z = P · sep(sim(M, q))`` (Millidge et al. 2022; chapter 4).

    Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-uhn`.

    ``memories [M, d]`` are stored as rows. ``similarity`` is a name from
    :mod:`hopnb.similarity` or any callable ``(memories [M, d], queries [B, d]) -> scores [B, M]``
    (learned similarities are ``nn.Module`` s and train with the memory); ``separation``
    a name from :mod:`hopnb.separation` (with default parameters), a separation module
    such as ``Softmax(beta=8)``, or any callable ``scores -> weights``. ``projection``
    ``[M, d']`` makes the memory hetero-associative; by default ``P = M``
    (auto-association). Retrieval is :func:`hopnb.functional.retrieve`: one shot while the
    scores ``[B, M]`` fit ``budget`` bytes, streamed in chunks beyond it (``chunk_size`` fixes
    the chunk), or, for dot product or squared Euclidean distance with softmax, the fused attention
    kernel, which needs no chunks; no ``[B, M, d]`` tensor is ever built.

    >>> mem = AssociativeMemory(torch.eye(3), separation=_sep.Softmax(beta=20.0))
    >>> mem(torch.tensor([[0.9, 0.1, 0.0]])).argmax(dim=1)
    tensor([0])
    """

    def __init__(self, memories: torch.Tensor, similarity: str | Callable = "dot",
                 separation: str | Callable = "softmax", projection: torch.Tensor | None = None, *,
                 chunk_size: int | None = None, budget: int = _F.SCORE_BUDGET):
        super().__init__()
        check_patterns(memories, "memories")
        if projection is not None:
            check_patterns(projection, "projection")
            check_like(projection, memories, "projection", "memories", dim=0)
        if chunk_size is not None:
            chunk_size = check_int(chunk_size, "chunk_size")
        budget = check_int(budget, "budget (bytes of scores)")
        similarity = _sim.as_similarity(similarity)
        separation = _sep.as_separation(separation)
        if _sim.cosine_eps(similarity) is not None:
            check_norms(memories, "memories", _sim.cosine_eps(similarity))
        self.register_buffer("memories", memories)
        self.register_buffer("projection", projection)
        self.similarity = similarity
        self.separation = separation
        self.chunk_size, self.budget = chunk_size, budget

    @property
    def values(self) -> torch.Tensor:
        """The rows read out by the weights: ``projection`` if given, else the memories.

        >>> AssociativeMemory(torch.eye(2), projection=torch.tensor([[1.0], [2.0]])).values.tolist()
        [[1.0], [2.0]]
        """
        return self.memories if self.projection is None else self.projection

    def extra_repr(self) -> str:
        kind = "auto" if self.projection is None else f"hetero, d'={self.projection.shape[1]}"
        name = getattr(self.similarity, "__name__", None) or repr(self.similarity)
        return f"M={self.memories.shape[0]}, d={self.memories.shape[1]}, similarity={name}, {kind}"

    # ----------------------------------------------------------------- pieces

    def _check_queries(self, queries, *, finite: bool | None = None) -> torch.Tensor:
        """Shape, dtype and device always; finiteness (and cosine norms) where :func:`free`, or when asked."""
        check_patterns(queries, "queries", finite=False)
        check_like(queries, self.memories, "queries", "memories")
        if free(queries) if finite is None else finite:
            check_finite(queries, "queries")
            if _sim.cosine_eps(self.similarity) is not None:
                check_norms(queries, "queries", _sim.cosine_eps(self.similarity))
        return queries

    def _options(self) -> dict:
        return dict(similarity=self.similarity, chunk_size=self.chunk_size, budget=self.budget)

    def scores(self, queries: torch.Tensor) -> torch.Tensor:
        """Similarity scores ``[B, M]`` of every memory for every query.

        >>> AssociativeMemory(torch.eye(2)).scores(torch.tensor([[2.0, 1.0]]))
        tensor([[2., 1.]])
        """
        return _F._scores(self._check_queries(queries), self.memories, **self._options())

    def weights(self, queries: torch.Tensor) -> torch.Tensor:
        """Separated weights ``sep(sim(M, q))``, ``[B, M]``.

        >>> AssociativeMemory(torch.eye(2), separation="max").weights(torch.tensor([[2.0, 1.0]]))
        tensor([[1., 0.]])
        """
        return self.separation(self.scores(queries))

    # ----------------------------------------------------------------- retrieval

    def _update(self, queries: torch.Tensor) -> torch.Tensor:
        return _F._retrieve(queries, self.memories, self.values, separation=self.separation, **self._options())

    def forward(self, queries: torch.Tensor) -> torch.Tensor:
        """Single-shot retrieval ``z = P · sep(sim(M, q))``: ``queries [B, d] -> [B, d']``.

        >>> mem = AssociativeMemory(torch.eye(2), separation=_sep.Softmax(beta=1.0))
        >>> mem(torch.tensor([[1.0, 0.0]]))
        tensor([[0.7311, 0.2689]])
        """
        out = self._update(self._check_queries(queries))
        if free(out):
            check_result(out, "the retrieval", "the scores (times beta) overflow the separation in "
                         f"{queries.dtype}; lower beta, rescale the memories and queries or use torch.float64")
        return out

    def retrieve(self, queries: torch.Tensor, steps: int = 1, *, tol: float | None = None,
                 record: bool = False, max_record: int = 100, record_energy: bool = False) -> Retrieval:
        """Iterate ``x ← P · sep(sim(M, x))`` up to ``steps`` times (auto-association only).

        With ``tol`` it stops early once no state moves by more than ``tol`` (max-norm).
        With ``record`` it keeps the query and the states after each update, at most
        ``max_record`` of them (the earliest); with ``record_energy`` the :meth:`energy` of
        the query and of every state after it. The queries are checked (finiteness too) once,
        here; the updates run unchecked.

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
        check_bool(record, "record"), check_bool(record_energy, "record_energy")
        if record:
            max_record = check_int(max_record, "max_record")
        state = self._check_queries(queries, finite=True)
        trajectory = [state] if record else None
        energies = [self.energy(state)] if record_energy else None
        converged = torch.zeros(state.shape[0], dtype=torch.bool, device=state.device)
        done = 0
        for done in range(1, steps + 1):
            try:
                new = self._update(state)
                if record_energy:
                    energies.append(self.energy(new))
            except ValueError as err:
                if done == 1:
                    raise
                top = state.abs().nan_to_num(nan=float("inf")).max().item()
                raise ValueError(f"the iteration diverged: after {done - 1} of {steps} steps the state had entries up "
                                 f"to |x| = {top:.3g}, and step {done} failed ({err}); this separation's update does "
                                 f"not settle from these queries: fewer steps, or a normalised separation") from None
            if tol is not None:
                converged = (new - state).abs().amax(dim=1) <= tol
            state = new
            if record and len(trajectory) < max_record:
                trajectory.append(state)
            if tol is not None and bool(converged.all()):
                break
        if free(state):
            check_result(state, "the retrieval", "the scores (times beta) overflow the separation in "
                         f"{state.dtype}; lower beta, rescale the memories and queries or use torch.float64")
        return Retrieval(state, done, converged, torch.stack(trajectory) if record else None,
                         torch.stack(energies) if record_energy else None)

    # ----------------------------------------------------------------- energy

    def energy(self, states: torch.Tensor) -> torch.Tensor:
        """The energy ``[B]`` of states ``[B, d]``, from the similarity's self term and the separation's
        convex conjugate (U-Hop eq. (2.2); chapters 3 and 5):

        ``E(x) = ½ sim(x, x) − Ψ*(sim(Ξ, x)) + c``,  ``c = Ψ*(0) + max_μ ½ sim(ξ_μ, ξ_μ)``.

        The constant ``c`` is the one convention for every model: for the modern Hopfield network
        (dot, softmax) it is ``β⁻¹ log M + ½ m²``, ``m = max_μ ‖ξ_μ‖``, so that
        ``E(x) = −lse(β, Ξᵀx) + ½ xᵀx + β⁻¹ log M + ½ m² ≥ 0`` (Ramsauer et al. 2020; chapter 3,
        eq. (3.2)); with sparsemax or α-entmax it is the sparse modern Hopfield network (Hu et al.
        2023), with a kernel similarity U-Hop's ``E_K`` (eq. (2.2)). Equivalent models (U-Hop with
        ``W = I`` and the modern network) give the same energy on the same states. With the dot
        product, :meth:`forward` is the concave–convex step ``x − ∇E(x)``, so iterating never
        raises E. Needs an inner-product similarity (dot or a kernel), a separation with a
        conjugate (softmax, max, entmax, unnormalised element-wise maps) and auto-association.

        >>> mem = AssociativeMemory(torch.eye(3), separation=_sep.Softmax(beta=10.0))
        >>> r = mem.retrieve(torch.tensor([[0.6, 0.4, 0.0]]), steps=4, record=True)
        >>> mem.energy(r.trajectory[:, 0])
        tensor([0.2570, 0.1242, 0.1099, 0.1099, 0.1099])
        """
        self._check_queries(states)
        self_term = _sim.self_term(self.similarity)
        if self_term is None or self.projection is not None:
            raise NotImplementedError(
                "energy() needs an inner-product similarity ('dot' or a kernel with a self_term) and "
                "auto-association; the classical network and dense associative memories have theirs in hopnb.models")
        scores = self.scores(states)
        energy = self_term(states) - self.separation._conjugate_gap(scores) + self_term(self.memories).amax()
        if free(energy):
            check_result(energy, "the energy", f"β · scores overflow {states.dtype}; lower beta, rescale the "
                         f"memories and states or use torch.float64")
        return energy


def separation_conjugate(separation: _sep.Separation, scores: torch.Tensor) -> torch.Tensor:
    """``Ψ*(s)`` for each row of ``scores [B, M]``: :meth:`hopnb.separation.Separation.conjugate`.

    Defined in :doc:`/book/ch04_universal_hopfield`, Eq. :eq:`eq-ch04-energy`.

    >>> separation_conjugate(_sep.Sparsemax(), torch.tensor([[2.0, 0.0]]))
    tensor([2.])
    """
    return _sep.as_separation(separation).conjugate(scores)
