"""Capacity and robustness sweeps over memories × similarity × separation × corruption × seeds.

:func:`retrieval_sweep` runs the grid and returns tidy rows (one dict per cell of the
grid and seed), which :func:`summarise` averages over seeds; the chapters plot from
these. A capacity curve varies the number of memories at a fixed corruption level; a
robustness curve varies the level at a fixed number of memories.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence

import torch
from tqdm.auto import tqdm

from . import metrics
from ._validate import check_patterns
from .memory import AssociativeMemory

__all__ = ["retrieval_sweep", "summarise"]

Corruption = Callable[..., torch.Tensor]  # f(x [n, d], level, generator=g) -> [n, d]


def _named(items) -> dict[str, object]:
    if isinstance(items, Mapping):
        return dict(items)
    if isinstance(items, str):
        items = [items]
    out = {}
    for item in items:
        name = item if isinstance(item, str) else (getattr(item, "__name__", None) or repr(item))
        out[name] = item
    return out


def retrieval_sweep(patterns: torch.Tensor, *, n_memories: Sequence[int], similarities, separations,
                    corruptions: Mapping[str, Corruption], levels: Sequence[float], seeds: Iterable[int] = (0,),
                    threshold: float = 50.0, device: torch.device | str | None = None,
                    queries_per_run: int | None = None, progress: bool = True) -> list[dict]:
    """Retrieval quality over a grid of settings; one row per (memories, similarity, separation,
    corruption, level, seed).

    For each seed, ``n`` memories are drawn at random (without replacement) from
    ``patterns [N, d]``; each memory (or the first ``queries_per_run``) is corrupted by
    ``corruptions[name](x, level, generator=g)`` and used as a query. ``similarities``
    and ``separations`` are names, callables or separation modules, or mappings from a
    label to one. Each row holds the settings and ``fraction_correct`` (SSE below
    ``threshold``), ``mean_sse`` and ``source_accuracy`` (the top weight is the source).

    >>> rows = retrieval_sweep(torch.rand(20, 8), n_memories=[5], similarities=["euclidean"],
    ...                        separations=["max"], corruptions={"none": lambda x, level, generator: x},
    ...                        levels=[0.0], progress=False)
    >>> rows[0]["source_accuracy"]
    1.0
    """
    check_patterns(patterns, "patterns")
    sims, seps = _named(similarities), _named(separations)
    seeds = list(seeds)
    for n in n_memories:
        if not 1 <= n <= patterns.shape[0]:
            raise ValueError(f"n_memories must lie in [1, {patterns.shape[0]}] (the patterns given); got {n}")
    device = torch.device(device) if device is not None else patterns.device
    patterns = patterns.to(device)
    grid = list(itertools.product(n_memories, seeds, corruptions.items(), levels))
    rows = []
    bar = tqdm(total=len(grid) * len(sims) * len(seps), desc="retrieval sweep", disable=not progress)
    for n, seed, (cname, corrupt), level in grid:
        generator = torch.Generator(device=device).manual_seed(seed)
        pick = torch.randperm(patterns.shape[0], generator=generator, device=device)[:n]
        memories = patterns[pick]
        k = n if queries_per_run is None else min(n, queries_per_run)
        targets = memories[:k]
        queries = corrupt(targets, level, generator=generator)
        source = torch.arange(k, device=device)
        for (sname, sim), (pname, sep) in itertools.product(sims.items(), seps.items()):
            memory = AssociativeMemory(memories, sim, sep)
            with torch.no_grad():
                weights = memory.weights(queries)
                out = weights @ memories
            errors = metrics.sse(out, targets)
            rows.append({
                "n_memories": n, "similarity": sname, "separation": pname, "corruption": cname,
                "level": float(level), "seed": seed,
                "fraction_correct": (errors < threshold).float().mean().item(),
                "mean_sse": errors.mean().item(),
                "source_accuracy": metrics.source_accuracy(source, weights=weights),
            })
            bar.update()
    bar.close()
    return rows


def summarise(rows: list[dict], by: Sequence[str], value: str = "fraction_correct") -> dict[tuple, tuple[float, float]]:
    """Mean and standard deviation of ``value`` over the rows that share the keys ``by``
    (e.g. over seeds): ``{(key values…): (mean, std)}``, in first-seen order.

    >>> summarise([{"n": 1, "v": 0.0}, {"n": 1, "v": 1.0}], by=["n"], value="v")
    {(1,): (0.5, 0.5)}
    """
    groups: dict[tuple, list[float]] = defaultdict(list)
    for row in rows:
        groups[tuple(row[k] for k in by)].append(row[value])
    out = {}
    for key, vals in groups.items():
        mean = sum(vals) / len(vals)
        out[key] = (mean, math.sqrt(sum((v - mean) ** 2 for v in vals) / len(vals)))
    return out
