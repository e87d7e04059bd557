"""Hopfield layers for deep learning: batch-first ``nn.Module`` s built on the retrieval spine.

Defined in :doc:`/book/ch03_modern_hopfield`, Eq. :eq:`eq-ch03-update`.

Each layer retrieves ``z = sep(sim(K, ξ)) V`` for a batch of sets: states (queries)
``[N, S, d]``, stored patterns (keys) ``[N, L, d]`` and values ``[N, L, d_v]``. By default
that is *all* they do — no normalisation, no projections, one update — so
``Hopfield()(q, k, v)`` with ``separation=softmax(beta)`` is ``softmax(β q kᵀ) v``, the
attention of a transformer head (Ramsauer et al. 2020; chapter 3). Each extra is an
explicit option: ``normalize`` (layer norm of states and stored patterns),
``projections`` (learned linear maps of states, stored patterns and values to
``hidden``), ``steps`` (iterated updates, when the values live in the state space).
Any hopnb similarity fits, including :class:`hopnb.kernel.KernelSimilarity` and
:class:`hopnb.footprint.FootprintSimilarity`, and any separation.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from . import functional as _functional
from . import separation as _sep
from . import similarity as _sim
from ._validate import check_bool, check_dtype, check_finite, check_int, check_result, count_nonfinite, free, shape_str, type_str

__all__ = ["Hopfield", "HopfieldPooling", "HopfieldLayer"]


def _batched(x, name: str, d: int | None = None, like: torch.Tensor | None = None) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor [N, n, d] (batch first); got {type(x).__name__}")
    check_dtype(x, name)
    if x.ndim != 3:
        raise ValueError(f"{name} must be a floating-point tensor [N, n, d] (batch first); got {type_str(x)}")
    if 0 in x.shape:
        raise ValueError(f"{name} must not be empty: [N, n, d] with N, n, d ≥ 1; got {shape_str(x)}")
    if d is not None and x.shape[-1] != d:
        raise ValueError(f"{name} must have d={d} features; got {shape_str(x)}")
    if like is not None:
        if x.dtype != like.dtype:
            raise TypeError(f"{name} must have the dtype of states ({like.dtype}); got {x.dtype}")
        if x.device != like.device:
            raise ValueError(f"{name} must be on the device of states ({like.device}); got {x.device}")
    return x


def _square_sum(x: torch.Tensor) -> float:
    """``Σ x²`` over every entry in one pass (a dot product where ``x`` is contiguous); NaN or inf if
    an entry is, and inf if the sum overflows."""
    x = x.detach()
    if x.is_contiguous():
        flat = x.reshape(-1)
        return float(torch.dot(flat, flat))
    return float(torch.linalg.vector_norm(x)) ** 2


class Hopfield(nn.Module):
    """Hopfield retrieval as a layer: ``forward(states [N, S, d], stored [N, L, d], values=None)``.

    Defined in :doc:`/book/ch03_modern_hopfield`, Eq. :eq:`eq-ch03-update`.

    ``values`` default to the stored patterns. Returns ``[N, S, d_v]`` (and the weights
    ``[N, S, L]`` of the last update with ``return_weights=True``); the layer keeps no state
    between calls. Retrieval is :func:`hopnb.functional.retrieve` (the fused attention kernel
    for dot product or squared Euclidean distance with softmax; streamed otherwise), with an
    optional ``mask [N, S, L]`` (bool, True where a state may see a stored pattern, or additive).
    Options (all off by default):

    * ``normalize``: ``nn.LayerNorm`` on states and stored patterns (sizes ``d``);
    * ``projections=(d, hidden)`` or ``(d, hidden, d_values)``: learned ``nn.Linear`` maps of
      states and stored patterns (``d -> hidden``) and values (``d_values -> hidden``, by default
      ``d_values = d``);
    * ``steps``: iterate ``ξ ← sep(sim(K, ξ)) V`` (values must have the states' size).

    Every call checks shapes, dtypes and devices. Values are checked cheaply, on the CPU in eager
    mode: the sums of squares of the states and of the stored patterns bound every score (a NaN
    or infinite entry makes its sum so too), and the output's sum of squares must be finite.
    Only when the bound or the output fails are the inputs, parameters and scores read entry by entry, and
    the culprit named: an entry that is NaN or inf, or scores that overflow times β. (The
    attention kernel would turn such scores into zeros, not NaN.)

    >>> q, k = torch.randn(2, 3, 8), torch.randn(2, 5, 8)
    >>> ref = torch.softmax(0.5 * q @ k.transpose(1, 2), dim=-1) @ k
    >>> torch.allclose(Hopfield(separation=_sep.softmax(beta=0.5))(q, k), ref, atol=1e-6)
    True
    """

    def __init__(self, similarity: str | Callable = "dot", separation: str | Callable = "softmax", *,
                 steps: int = 1, normalize: int | None = None, projections: tuple[int, ...] | None = None):
        super().__init__()
        steps = check_int(steps, "steps")
        self.similarity = _sim.as_similarity(similarity)
        self.separation = _sep.as_separation(separation)
        self.steps = steps
        self.norm_states = self.norm_stored = None
        if normalize is not None:
            normalize = check_int(normalize, "normalize (the size d of its layer norm)")
            self.norm_states, self.norm_stored = nn.LayerNorm(normalize), nn.LayerNorm(normalize)
        self.proj_states = self.proj_stored = self.proj_values = None
        if projections is not None:
            if (isinstance(projections, (str, bytes)) or not hasattr(projections, "__len__")
                    or len(projections) not in (2, 3)):
                raise TypeError(f"projections must be a pair (d, hidden) or a triple (d, hidden, d_values) of "
                                f"positive ints; got {projections!r}")
            d, hidden, *rest = (check_int(v, f"projections[{i}]") for i, v in enumerate(projections))
            self.proj_states, self.proj_stored = nn.Linear(d, hidden), nn.Linear(d, hidden)
            self.proj_values = nn.Linear(rest[0] if rest else d, hidden)

    def forward(self, states: torch.Tensor, stored: torch.Tensor, values: torch.Tensor | None = None, *,
                mask: torch.Tensor | None = None, return_weights: bool = False):
        """Retrieve from ``stored [N, L, d]`` (``values [N, L, d_v]``) for ``states [N, S, d]`` -> ``[N, S, d_v]``.

        >>> layer = Hopfield(separation=_sep.Softmax(beta=100.0))
        >>> stored = torch.eye(3)[None]
        >>> out, w = layer(torch.tensor([[[0.9, 0.1, 0.0]]]), stored, return_weights=True)
        >>> out.round(decimals=3), w.argmax(dim=-1)
        (tensor([[[1., 0., 0.]]]), tensor([[0]]))
        """
        check_bool(return_weights, "return_weights")
        _batched(states, "states")
        _batched(stored, "stored", states.shape[-1], like=states)
        values = stored if values is None else _batched(values, "values", like=states)
        expected_d = (self.norm_states.normalized_shape[0] if self.norm_states is not None
                      else self.proj_states.in_features if self.proj_states is not None else None)
        if expected_d is not None and states.shape[-1] != expected_d:
            raise ValueError(f"states must have d={expected_d} features (this layer's normalize/projections size); "
                             f"got {shape_str(states)}")
        if self.proj_values is not None and values.shape[-1] != self.proj_values.in_features:
            raise ValueError(f"values must have d={self.proj_values.in_features} features (the projections' d_values; "
                             f"pass projections=(d, hidden, d_values) for another width); got {shape_str(values)}")
        if stored.shape[:2] != values.shape[:2] or states.shape[0] != stored.shape[0]:
            raise ValueError(f"states [N, S, d], stored [N, L, d] and values [N, L, d_v] must agree in N and L; "
                             f"got {shape_str(states)}, {shape_str(stored)}, {shape_str(values)}")
        maps = [m for m in (self.proj_states, self.norm_states) if m is not None]
        learned = maps[0].weight if maps else None
        if learned is not None and states.dtype != learned.dtype:
            raise TypeError(f"states must have the dtype of this layer's parameters ({learned.dtype}; convert the "
                            f"layer with .to(dtype)); got {states.dtype}")
        inputs = {"states": states, "stored": stored, "values": values}
        if self.norm_states is not None:
            states, stored = self.norm_states(states), self.norm_stored(stored)
        if self.proj_states is not None:
            states, stored, values = self.proj_states(states), self.proj_stored(stored), self.proj_values(values)
        if self.steps > 1 and values.shape[-1] != states.shape[-1]:
            raise ValueError(f"steps > 1 needs values of the states' size {states.shape[-1]}; got {values.shape[-1]}")
        checked = free(states)
        if checked and not self._bounded(states, stored):
            self._diagnose(inputs, states, stored)  # the attention kernel turns NaN or inf scores into zeros
        mask = _functional._mask(mask, states, stored)          # a layer checks shapes, not values
        for _ in range(self.steps):
            query, states = states, _functional._retrieve(states, stored, values, similarity=self.similarity,
                                                          separation=self.separation, mask=mask)
        if checked and not math.isfinite(_square_sum(states)) and count_nonfinite(states.detach()):
            self._diagnose(inputs, out=states)
        if not return_weights:
            return states
        weights = self.separation(_functional._scores(query, stored, similarity=self.similarity, mask=mask))
        return states, weights

    def _beta(self) -> float:
        beta = self.separation.softmax_beta()
        return 1.0 if beta is None else float(beta)

    def _bounded(self, states: torch.Tensor, stored: torch.Tensor) -> bool:
        """Whether no dot product or squared distance, times β, can overflow: both are at most
        ``(‖states‖ + ‖stored‖)² ≤ 2 (‖states‖² + ‖stored‖²)`` (norms over all entries), so one
        pass over each decides; a NaN or infinite entry makes its sum so too."""
        bound = 2 * (_square_sum(states) + _square_sum(stored)) * max(self._beta(), 1.0)
        return bound < torch.finfo(states.dtype).max

    def _diagnose(self, inputs: dict, states: torch.Tensor | None = None, stored: torch.Tensor | None = None,
                  out: torch.Tensor | None = None) -> None:
        """Name what a cheap check found, reading entries now: an input or parameter that is not
        finite, scores (times β) that overflow, or an output that is not finite."""
        for name, x in inputs.items():
            check_finite(x, name, bounded=False)
        for name, p in self.named_parameters():
            check_finite(p, f"the layer's parameter {name}", bounded=False)
        if states is not None:
            with torch.no_grad():
                top = float(_functional._scores(states, stored, similarity=self.similarity).abs().max())
            if not top * self._beta() <= torch.finfo(states.dtype).max:
                raise ValueError(f"the scores times beta ({self._beta():g}) overflow {states.dtype} (scores up to "
                                 f"{top:.3g}); lower beta, rescale the inputs or use torch.float64")
        if out is not None:
            check_result(out, "the output", f"the scores overflowed the separation in {out.dtype}; lower beta, "
                         "rescale the inputs or use torch.float64")


class HopfieldPooling(nn.Module):
    """Pool a set into ``queries`` learned state patterns: ``[N, L, d] -> [N, queries, d_v]``.

    Defined in :doc:`/book/ch03_modern_hopfield`, Eq. :eq:`eq-ch03-update`.

    The learned states ``[queries, d]`` retrieve from the input set (stored = values =
    the input, unless ``values`` are given), as in Ramsauer et al.'s HopfieldPooling.
    ``options`` go to :class:`Hopfield`.

    >>> HopfieldPooling(8, queries=2)(torch.randn(4, 10, 8)).shape
    torch.Size([4, 2, 8])
    """

    def __init__(self, d: int, queries: int = 1, **options):
        super().__init__()
        d, queries = check_int(d, "d"), check_int(queries, "queries")
        self.states = nn.Parameter(torch.randn(queries, d) / d**0.5)
        self.hopfield = Hopfield(**options)

    def forward(self, stored: torch.Tensor, values: torch.Tensor | None = None, *, mask: torch.Tensor | None = None,
                return_weights: bool = False):
        """Pool each set ``stored [N, L, d]`` -> ``[N, queries, d_v]``; a ``mask`` ``[L]`` or ``[N, L]`` hides
        set members (from every query), ``[N, queries, L]`` hides them query by query.

        >>> pool = HopfieldPooling(4, queries=1)
        >>> sets = torch.randn(2, 6, 4)
        >>> torch.allclose(pool(sets, mask=torch.arange(6) < 3), pool(sets[:, :3]), atol=1e-6)
        True
        """
        _batched(stored, "stored", self.states.shape[1])
        states = self.states.expand(stored.shape[0], *self.states.shape)
        if isinstance(mask, torch.Tensor) and mask.ndim == 2:      # [N, L]: set members, the same for every query
            mask = mask[:, None, :]
        return self.hopfield(states, stored, values, mask=mask, return_weights=return_weights)


class HopfieldLayer(nn.Module):
    """A layer with learned stored patterns ``[memories, d]`` and targets ``[memories, d_v]``:
    ``[N, S, d] -> [N, S, d_v]``, a lookup into a trainable memory.

    Defined in :doc:`/book/ch03_modern_hopfield`, Eq. :eq:`eq-ch03-update`.

    >>> HopfieldLayer(8, memories=16, d_out=3)(torch.randn(4, 5, 8)).shape
    torch.Size([4, 5, 3])
    """

    def __init__(self, d: int, memories: int, d_out: int | None = None, **options):
        super().__init__()
        d, memories = check_int(d, "d"), check_int(memories, "memories")
        d_out = d if d_out is None else check_int(d_out, "d_out (or None for d)")
        self.stored = nn.Parameter(torch.randn(memories, d) / d**0.5)
        self.targets = nn.Parameter(torch.randn(memories, d_out) / d**0.5)
        self.hopfield = Hopfield(**options)

    def forward(self, states: torch.Tensor, *, mask: torch.Tensor | None = None, return_weights: bool = False):
        """Look ``states [N, S, d]`` up in the learned memory -> ``[N, S, d_v]`` (and the weights ``[N, S, memories]``).

        >>> out, w = HopfieldLayer(8, memories=16, d_out=3)(torch.randn(4, 5, 8), return_weights=True)
        >>> tuple(w.shape), torch.allclose(w.sum(dim=-1), torch.ones(4, 5))
        ((4, 5, 16), True)
        """
        _batched(states, "states", self.stored.shape[1])
        n = states.shape[0]
        stored = self.stored.expand(n, *self.stored.shape)
        targets = self.targets.expand(n, *self.targets.shape)
        return self.hopfield(states, stored, targets, mask=mask, return_weights=return_weights)
