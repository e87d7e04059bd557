"""The book's models, each the engine's spine with its own parts, energy and dynamics."""

from .binary import ClassicalHopfield, DenseAssociativeMemory, Dynamics
from .modern import ModernHopfield, UniversalHopfield, separation_margins

__all__ = ["ClassicalHopfield", "DenseAssociativeMemory", "Dynamics", "ModernHopfield", "UniversalHopfield",
           "separation_margins"]
