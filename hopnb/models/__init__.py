"""The book's models, each the engine's spine with its own parts, energy and dynamics."""

from .binary import ClassicalHopfield, DenseAssociativeMemory, Dynamics
from .learned import AdaptiveHopfield, UHop
from .modern import ModernHopfield, UniversalHopfield, separation_margins

__all__ = ["AdaptiveHopfield", "ClassicalHopfield", "DenseAssociativeMemory", "Dynamics", "ModernHopfield", "UniversalHopfield",
           "UHop", "separation_margins"]
