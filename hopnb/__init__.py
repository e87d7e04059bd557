"""hopnb: associative memory in PyTorch, the library behind The Hopfield Notebook.

Retrieval is ``z = P · sep(sim(M, q))`` (the universal Hopfield network view):
:mod:`hopnb.similarity` scores, :mod:`hopnb.separation` turns scores into weights,
and :func:`hopnb.functional.retrieve` composes them (the attention kernel where it applies,
streaming over the memories otherwise), under :class:`hopnb.AssociativeMemory`, the
models and the layers of :mod:`hopnb.nn`.

``import hopnb`` loads only the retrieval core (torch, and entmax when a sparse
separation is first used). The other modules load on first access (PEP 562), so
``hopnb.plot`` imports matplotlib only when a notebook first draws a figure.

Defined in :doc:`/book/ch00_associative_memory_in_ten_minutes`, Eq. :eq:`eq-ch00-uhn`.
"""

import importlib

from . import functional, separation, similarity
from .memory import AssociativeMemory, Retrieval
from .runtime import device, knob, seed, seed_offset

__version__ = "0.1.0"

# Modules imported on first attribute access: plot needs matplotlib (and ipywidgets for
# its explorer), data reads archives; the rest are cheap but not needed for retrieval.
_LAZY = ("corrupt", "data", "experiments", "footprint", "kernel", "l1", "metrics", "models", "nn", "plot")

__all__ = ["AssociativeMemory", "Retrieval", "corrupt", "data", "device", "experiments", "footprint", "functional", "kernel", "knob",
           "l1", "metrics", "models", "nn", "plot", "seed", "seed_offset", "separation", "similarity"]


def __getattr__(name: str):
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)  # also binds hopnb.<name>
    raise AttributeError(f"module 'hopnb' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
