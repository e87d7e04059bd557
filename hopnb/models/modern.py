"""The modern continuous Hopfield network and the universal Hopfield network.

Defined in :doc:`/book/ch03_modern_hopfield`, Eq. :eq:`eq-ch03-energy`.
"""

from __future__ import annotations

import torch

from .. import separation as _sep
from .._validate import check_patterns
from ..memory import AssociativeMemory

__all__ = ["ModernHopfield", "UniversalHopfield", "separation_margins"]

UniversalHopfield = AssociativeMemory
"""The universal Hopfield network (Millidge et al. 2022; chapter 4) *is* the engine:
any similarity × separation × projection."""


class ModernHopfield(AssociativeMemory):
    """The modern continuous Hopfield network (Ramsauer et al. 2020; chapter 3).

    Defined in :doc:`/book/ch03_modern_hopfield`, Eqs. :eq:`eq-ch03-energy` and :eq:`eq-ch03-update`.

    Energy ``E(x) = −lse(β, Ξᵀx) + ½ xᵀx + β⁻¹ log M + ½ m²`` (chapter 3, eq. (3.2)); its
    concave–convex update is ``x ← Ξᵀ softmax(β Ξ x)`` (eq. (3.4)), i.e. dot similarity,
    softmax separation and ``P = Ξ``. With keys = values = memories this is the attention
    ``softmax(β Q Kᵀ) V``. ``learnable=True`` (or a β that requires grad) trains ``log β``.

    >>> net = ModernHopfield(torch.eye(3), beta=8.0)
    >>> bool(net.energy(net(torch.tensor([[0.6, 0.4, 0.0]]))) <= net.energy(torch.tensor([[0.6, 0.4, 0.0]])))
    True
    """

    def __init__(self, memories: torch.Tensor, beta: float | torch.Tensor = 1.0, *, learnable: bool = False,
                 chunk_size: int | None = None):
        super().__init__(memories, "dot", _sep.Softmax(beta, learnable=learnable), chunk_size=chunk_size)

    @property
    def beta(self) -> float | torch.Tensor:
        """β of the softmax: a float, or ``exp(log β)`` when learnable.

        >>> ModernHopfield(torch.eye(2), beta=8.0).beta
        8.0
        """
        return self.separation.beta


def separation_margins(memories: torch.Tensor) -> torch.Tensor:
    """``Δ_μ = ξ_μᵀξ_μ − max_{ν≠μ} ξ_νᵀξ_μ`` for every memory, ``[M]`` (Ramsauer et al. 2020;
    chapter 3, eq. (3.5)): how far a pattern stands above its closest rival in dot product.

    Defined in :doc:`/book/ch03_modern_hopfield`, Eq. :eq:`eq-ch03-separation`.

    >>> separation_margins(torch.eye(2)).tolist()
    [1.0, 1.0]
    """
    check_patterns(memories, "memories")
    if memories.shape[0] < 2:
        raise ValueError(f"separation margins compare each memory with the others: memories must be [M, d] with "
                         f"M ≥ 2; got [{memories.shape[0]}, {memories.shape[1]}]")
    gram = memories @ memories.T
    own = gram.diagonal().clone()
    gram.fill_diagonal_(float("-inf"))
    return own - gram.amax(dim=1)
