"""The models that learn their similarity: U-Hop (learned kernel) and A-Hop (learned footprint).

Defined in :doc:`/book/ch05_uhop`, Eq. :eq:`eq-ch05-retrieval`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import separation as _sep
from .._training import descend
from .._validate import check_bool, check_int, check_patterns, check_positive
from ..corrupt import VariantDistribution
from ..footprint import FootprintSimilarity
from ..kernel import KernelSimilarity
from ..memory import AssociativeMemory
from ..runtime import generator_device

__all__ = ["UHop", "AdaptiveHopfield"]


class UHop(AssociativeMemory):
    """U-Hop (Wu, Hu et al. 2024, Algorithm 1; chapter 5): a modern Hopfield network whose
    similarity is the learned kernel ``K(ξ, x) = ⟨W ξ, W x⟩``.

    Defined in :doc:`/book/ch05_uhop`, Eqs. :eq:`eq-ch05-kernel` and :eq:`eq-ch05-retrieval`.

    ``fit`` runs Stage I (separation-loss descent on W, then row normalisation); calling
    the memory, or ``retrieve`` for T steps, is Stage II, ``x ← Ξ Sep(β K(Ξ, x))``
    (U-Hop eq. (2.4); chapter 5, eq. (5.2)) with any separation (softmax, sparsemax, α-entmax).
    Its energy is :meth:`AssociativeMemory.energy` with the kernel's self term,
    ``E_K(x) = ½ K(x, x) − β⁻¹ Ψ*_α(β K(Ξ, x)) + c`` (U-Hop eq. (2.2)), which iterating never raises
    (U-Hop Thm 2.1); with ``W = I`` it is the modern Hopfield network's energy. The retrieval is the
    gradient step in the kernel's metric, ``x − (WᵀW)⁻¹ ∇E_K(x)``: ``x − ∇E_K(x)`` where ``WᵀW = I``.

    >>> net = UHop(torch.eye(4), generator=torch.Generator().manual_seed(0))
    >>> history = net.fit(steps=5, progress=False)
    >>> history[-1] <= history[0]
    True
    """

    def __init__(self, memories: torch.Tensor, separation="softmax", *, features: int | None = None,
                 generator: torch.Generator | None = None, chunk_size: int | None = None):
        check_patterns(memories, "memories")
        kernel = KernelSimilarity(memories.shape[-1], features, generator=generator, dtype=memories.dtype)
        super().__init__(memories, kernel.to(memories.device), separation, chunk_size=chunk_size)

    @property
    def kernel(self) -> KernelSimilarity:
        """The learned kernel similarity, holding ``W``.

        >>> tuple(UHop(torch.eye(4), features=6).kernel.weight.shape)
        (6, 4)
        """
        return self.similarity

    def fit(self, steps: int = 100, **options) -> list[float]:
        """Stage I on the stored memories; ``options`` go to :meth:`KernelSimilarity.fit`. Returns the
        separation loss before each step and after the last.

        >>> net = UHop(torch.rand(8, 5, generator=torch.Generator().manual_seed(1)),
        ...            generator=torch.Generator().manual_seed(2))
        >>> losses = net.fit(30, lr=0.1)
        >>> len(losses), losses[-1] < losses[0]
        (31, True)
        """
        return self.kernel.fit(self.memories, steps, **options)


class AdaptiveHopfield(AssociativeMemory):
    """A-Hop (ICLR 2026; chapter 6): softmax retrieval ``y = softmax(s(Ξ, x)) Ξ`` with the
    learned footprint similarity ``s`` of :class:`hopnb.footprint.FootprintSimilarity`.

    Defined in :doc:`/book/ch06_ahop`, Eq. :eq:`eq-ch06-similarity`.

    The scale of the scores is learned inside ``s`` (``beta_dis``, ``beta_dot``), so the
    softmax has β = 1. ``fit`` trains ``s`` by cross-entropy on ``(source, variant)`` pairs:
    the softmax weight of the source is the model's estimate of ``p(source | variant)``.

    >>> net = AdaptiveHopfield(torch.rand(5, 4))
    >>> net.weights(net.memories).argmax(dim=1).tolist()
    [0, 1, 2, 3, 4]
    """

    def __init__(self, memories: torch.Tensor, *, chunk_size: int | None = None, **footprint_options):
        check_patterns(memories, "memories")
        if "dtype" in footprint_options:
            raise TypeError(f"AdaptiveHopfield takes its dtype from the memories ({memories.dtype}); convert them "
                            f"(memories.to(dtype)) instead of passing dtype={footprint_options['dtype']!r}")
        similarity = FootprintSimilarity(memories.shape[-1], dtype=memories.dtype, **footprint_options)
        super().__init__(memories, similarity.to(memories.device), _sep.Softmax(1.0), chunk_size=chunk_size)

    @property
    def footprint(self) -> FootprintSimilarity:
        """The learned footprint similarity.

        >>> type(AdaptiveHopfield(torch.rand(3, 4)).footprint).__name__
        'FootprintSimilarity'
        """
        return self.similarity

    def energy(self, states: torch.Tensor) -> torch.Tensor:
        """``E(x) = −lse(s(Ξ, x))`` (A-Hop's energy), ``[B]``.

        >>> net = AdaptiveHopfield(torch.eye(3))
        >>> net.energy(torch.eye(3)).shape, bool((net.energy(torch.eye(3)) < net.energy(torch.zeros(3, 3))).all())
        (torch.Size([3]), True)
        """
        self._check_queries(states, finite=True)
        return -self.separation.conjugate(self.scores(states))

    def fit(self, variants, *, epochs: int = 200,
            lr: float = 0.1, samples: int = 1024, batch_size: int = 256, generator: torch.Generator | None = None,
            progress: bool = False, validation: tuple[torch.Tensor, torch.Tensor] | None = None,
            patience: int | None = None) -> list[float]:
        """Train the footprint weights by cross-entropy with the source index as the label.

        ``variants`` is either a sampler — any object whose ``sample(n, generator=...)``
        returns pairs ``(source [n], queries [n, d])``, such as a
        :class:`~hopnb.corrupt.VariantDistribution` over this network's memories; each epoch
        then draws ``samples`` fresh pairs — or a fixed training set ``(source [n], queries [n, d])``
        of plain tensors: each epoch is then one pass over it in an order drawn from
        ``generator`` (``samples`` is ignored). Adam (learning rate ``lr``)
        takes one step per batch of ``batch_size``. The defaults (Adam, lr 0.1, 200 epochs)
        are the paper's.

        ``validation=(source, queries)`` records the held-out cross-entropy before training
        (entry 0 of ``self.validation_history``) and after every epoch ``e`` (entry ``e``); with
        ``patience`` too, training stops once it has not improved for ``patience`` epochs, and
        the weights of the best epoch are kept.
        ``self.steps`` counts the Adam steps taken. Returns the mean training loss of each epoch;
        ``progress=True`` shows a progress bar over the epochs.

        >>> g = torch.Generator().manual_seed(0)
        >>> memories = torch.rand(6, 5, generator=g)
        >>> queries = memories.repeat(4, 1) + 0.2 * torch.randn(24, 5, generator=g)
        >>> net = AdaptiveHopfield(memories)
        >>> history = net.fit((torch.arange(6).repeat(4), queries), epochs=20, lr=0.05, generator=g)
        >>> len(history), history[-1] < history[0], net.steps
        (20, True, 20)
        """
        fixed = not callable(getattr(variants, "sample", None))
        if fixed:
            source_all, queries_all = self._pairs(variants, "variants")
        elif isinstance(variants, VariantDistribution) and not (
                variants.memories.shape == self.memories.shape and torch.equal(variants.memories, self.memories)):
            raise ValueError("variants must draw from this network's memories (VariantDistribution(net.memories, …))")
        epochs, samples, batch_size = (check_int(v, name) for v, name in
                                       ((epochs, "epochs"), (samples, "samples"), (batch_size, "batch_size")))
        check_bool(progress, "progress")
        if patience is not None:
            patience = check_int(patience, "patience")
            if validation is None:
                raise ValueError("patience needs validation pairs (validation=(source, queries)) to stop on")
        if validation is not None:
            val_source, val_queries = self._pairs(validation, "validation")
        lr = check_positive(lr, "lr")

        def batches(epoch: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
            if fixed:
                where = generator_device(generator, self.memories.device)
                order = torch.randperm(len(source_all), generator=generator, device=where).to(self.memories.device)
                source, queries = source_all[order], queries_all[order]
            else:
                source, queries = self._pairs(variants.sample(samples, generator=generator), "variants.sample(n)")
                if len(source) != samples:
                    raise ValueError(f"variants.sample(n) must return n = {samples} pairs; got {len(source)}")
            return [(source[i:i + batch_size], queries[i:i + batch_size]) for i in range(0, len(source), batch_size)]

        def cross_entropy(source: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
            return F.cross_entropy(self.footprint(self.memories, queries), source)

        run = descend(cross_entropy, batches, torch.optim.Adam(self.footprint.parameters(), lr=lr), epochs,
                      name="cross-entropy", progress=progress, patience=patience, module=self.footprint,
                      validation=None if validation is None else lambda: cross_entropy(val_source, val_queries).item())
        self.validation_history, self.steps = run.validation, run.steps
        return run.losses

    def _pairs(self, pairs, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Check ``(source [n], queries [n, d])`` against this network's memories."""
        if not (isinstance(pairs, (tuple, list)) and len(pairs) == 2
                and all(isinstance(t, torch.Tensor) for t in pairs)):
            raise TypeError(f"{name} must be a sampler with sample(n, generator=...) (such as a "
                            f"hopnb.corrupt.VariantDistribution) or a pair of tensors (source [n], queries [n, d]); "
                            f"got {type(pairs).__name__}")
        source, queries = pairs
        n, d = self.memories.shape
        if source.ndim != 1 or queries.ndim != 2 or queries.shape != (len(source), d) or source.dtype != torch.long:
            raise ValueError(f"{name} must be (source [n] int64, queries [n, {d}]); got "
                             f"{list(source.shape)} {source.dtype} and {list(queries.shape)}")
        if len(source) == 0:
            raise ValueError(f"{name} must hold at least one pair (source, query); got none")
        if int(source.min()) < 0 or int(source.max()) >= n:
            raise ValueError(f"{name}: source indices must lie in [0, {n}) (this network's memories)")
        return source.to(self.memories.device), queries.to(self.memories.device, self.memories.dtype)
