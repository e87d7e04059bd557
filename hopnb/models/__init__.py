"""The book's models, each the engine's spine with its own parts, energy and dynamics.

Defined in :doc:`/book/ch01_classical_hopfield` (binary networks), :doc:`/book/ch03_modern_hopfield`
(modern), :doc:`/book/ch05_uhop` (U-Hop) and :doc:`/book/ch06_ahop` (A-Hop).
"""

from .binary import ClassicalHopfield, DenseAssociativeMemory
from .learned import AdaptiveHopfield, UHop
from .modern import ModernHopfield, UniversalHopfield, separation_margins

__all__ = ["AdaptiveHopfield", "ClassicalHopfield", "DenseAssociativeMemory", "ModernHopfield", "UniversalHopfield",
           "UHop", "separation_margins"]
