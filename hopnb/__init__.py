"""hopnb: associative memory in PyTorch, the library behind The Hopfield Notebook.

Retrieval is ``z = P · sep(sim(M, q))`` (the universal Hopfield network view):
:mod:`hopnb.similarity` scores, :mod:`hopnb.separation` turns scores into weights,
:func:`hopnb.functional.retrieve` composes them (the attention kernel where it applies,
streaming over the memories otherwise), under :class:`hopnb.AssociativeMemory`, the
models and the layers of :mod:`hopnb.nn`.
"""

from . import (corrupt, data, experiments, footprint, functional, kernel, l1, metrics, models, nn, plot, separation,
               similarity)
from .memory import AssociativeMemory, Retrieval
from .runtime import device, knob, seed, seed_offset

__version__ = "0.1.0"

__all__ = ["AssociativeMemory", "Retrieval", "corrupt", "data", "device", "experiments", "footprint", "functional", "kernel", "knob",
           "l1", "metrics", "models", "nn", "plot", "seed", "seed_offset", "separation", "similarity"]
