"""Capacity and robustness sweeps over memories × similarity × separation × corruption × seeds,
and the statistics the book states its claims with.

Defined in :doc:`/book/ch02_dense_associative_memory`.

:func:`retrieval_sweep` runs the grid and returns tidy rows (one dict per cell of the
grid and seed), which :func:`summarise` averages over seeds; the chapters plot from
these. A capacity curve varies the number of memories at a fixed corruption level; a
robustness curve varies the level at a fixed number of memories.

A claim that one method beats another is made over several seeds: :func:`interval`
gives the mean of replicates with its 95 % confidence interval, and :func:`paired`
the interval of the mean paired difference (both methods run on the same memories and
queries in each seed), which is what a claim "A beats B" is asserted on.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NamedTuple

import torch
from tqdm.auto import tqdm

from . import metrics
from ._validate import check_bool, check_int, check_patterns, check_positive, check_real, check_sequence, type_str
from .memory import AssociativeMemory
from .runtime import offset_generator

__all__ = ["Interval", "interval", "paired", "retrieval_sweep", "summarise"]

Corruption = Callable[..., torch.Tensor]  # f(x [n, d], level, generator=g) -> [n, d]


def _named(items, name: str) -> dict[str, object]:
    if isinstance(items, Mapping):
        if not items:
            raise ValueError(f"{name} must hold at least one entry; got an empty mapping")
        return dict(items)
    if isinstance(items, str) or callable(items):
        items = [items]
    if not hasattr(items, "__iter__"):
        raise TypeError(f"{name} must be a name, a callable, a list of them or a mapping label -> one; "
                        f"got {type_str(items)}")
    items = list(items)
    if not items:
        raise ValueError(f"{name} must hold at least one entry; got none")
    out = {}
    for item in items:
        label = item if isinstance(item, str) else (getattr(item, "__name__", None) or repr(item))
        if label in out:
            raise ValueError(f"{name}: two entries are both labelled {label!r}; pass a mapping label -> entry "
                             f"to tell them apart")
        out[label] = item
    return out


def retrieval_sweep(patterns: torch.Tensor, *, n_memories: Sequence[int], similarities, separations,
                    corruptions: Mapping[str, Corruption], levels: Sequence[float], seeds: Iterable[int] = (0,),
                    threshold: float = 50.0, device: torch.device | str | None = None,
                    queries_per_run: int | None = None, progress: bool = False) -> list[dict]:
    """Retrieval quality over a grid of settings; one row per (memories, similarity, separation,
    corruption, level, seed).

    Defined in :doc:`/book/ch04_universal_hopfield`.

    For each seed, ``n`` memories are drawn at random (without replacement) from
    ``patterns [N, d]``; each memory (or the first ``queries_per_run``) is corrupted by
    ``corruptions[name](x, level, generator=g)`` and used as a query. ``similarities``
    and ``separations`` are names, callables or separation modules, or mappings from a
    label to one. Each row holds the settings and ``fraction_correct`` (SSE at most
    ``threshold``), ``mean_sse`` and ``source_accuracy`` (the top weight is the source). ``progress=True``
    shows a progress bar.

    >>> rows = retrieval_sweep(torch.rand(20, 8), n_memories=[5], similarities=["euclidean"],
    ...                        separations=["max"], corruptions={"none": lambda x, level, generator: x},
    ...                        levels=[0.0])
    >>> rows[0]["source_accuracy"]
    1.0
    """
    check_patterns(patterns, "patterns")
    sims, seps = _named(similarities, "similarities"), _named(separations, "separations")
    n_memories = [check_int(n, "each of n_memories") for n in check_sequence(n_memories, "n_memories", "ints")]
    for n in n_memories:
        if not 1 <= n <= patterns.shape[0]:
            raise ValueError(f"n_memories must lie in [1, {patterns.shape[0]}] (the patterns given); got {n}")
    if not isinstance(corruptions, Mapping) or not corruptions:
        raise TypeError(f"corruptions must be a non-empty mapping name -> f(x, level, generator=g); "
                        f"got {type_str(corruptions)}")
    for cname, corrupt in corruptions.items():
        if not callable(corrupt):
            raise TypeError(f"corruptions[{cname!r}] must be a callable f(x, level, generator=g); "
                            f"got {type_str(corrupt)}")
    levels = [check_real(level, "each of levels") for level in check_sequence(levels, "levels", "numbers")]
    seeds = [check_int(seed, "each of seeds", minimum=0) for seed in check_sequence(
        list(seeds) if hasattr(seeds, "__iter__") and not isinstance(seeds, (str, torch.Tensor)) else seeds,
        "seeds", "ints")]
    threshold = check_positive(threshold, "threshold")
    if queries_per_run is not None:
        queries_per_run = check_int(queries_per_run, "queries_per_run (or None)")
    try:
        device = torch.device(device) if device is not None else patterns.device
    except (RuntimeError, TypeError):
        raise ValueError(f"device must name a torch device such as 'cpu' or 'cuda'; got {device!r}") from None
    patterns = patterns.to(device)
    grid = list(itertools.product(n_memories, seeds, corruptions.items(), levels))
    rows = []
    bar = tqdm(total=len(grid) * len(sims) * len(seps), desc="retrieval sweep", disable=not check_bool(progress, "progress"))
    for n, seed, (cname, corrupt), level in grid:
        generator = offset_generator(seed, device)
        pick = torch.randperm(patterns.shape[0], generator=generator, device=device)[:n]
        memories = patterns[pick]
        k = n if queries_per_run is None else min(n, queries_per_run)
        targets = memories[:k]
        # a copy: a corruption that works in place must not rewrite the targets and memories
        queries = corrupt(targets.clone(), level, generator=generator)
        if not isinstance(queries, torch.Tensor) or queries.shape != targets.shape:
            raise ValueError(f"corruptions[{cname!r}] must return queries of the targets' shape "
                             f"[{k}, {targets.shape[1]}]; got {type_str(queries)}")
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
                "fraction_correct": (errors <= threshold).float().mean().item(),
                "mean_sse": errors.mean().item(),
                "source_accuracy": metrics.source_accuracy(source, weights=weights),
            })
            bar.update()
    bar.close()
    return rows


def summarise(rows: list[dict], by: Sequence[str], value: str = "fraction_correct") -> dict[tuple, tuple[float, float]]:
    """Mean and standard deviation of ``value`` over the rows that share the keys ``by``
    (e.g. over seeds): ``{(key values…): (mean, std)}``, in first-seen order.

    Defined in :doc:`/book/ch04_universal_hopfield`.

    >>> summarise([{"n": 1, "v": 0.0}, {"n": 1, "v": 1.0}], by=["n"], value="v")
    {(1,): (0.5, 0.5)}
    """
    if isinstance(by, (str, bytes)):
        raise TypeError(f"by must be a list of keys, e.g. [{by!r}]; got the string {by!r}")
    if not isinstance(rows, (list, tuple)) or not all(isinstance(row, dict) for row in rows):
        raise TypeError(f"rows must be a list of dicts (as retrieval_sweep returns); got {type(rows).__name__}")
    if not isinstance(by, (list, tuple)):
        raise TypeError(f"by must be a list of keys; got {type(by).__name__}")
    groups: dict[tuple, list[float]] = defaultdict(list)
    for row in rows:
        missing = [k for k in (*by, value) if k not in row]
        if missing:
            raise ValueError(f"every row must hold the keys by={list(by)} and value={value!r}; a row lacks {missing} "
                             f"(its keys: {sorted(row)})")
        groups[tuple(row[k] for k in by)].append(row[value])
    return {key: _moments(_values(vals, f"the values of {value!r}"), ddof=0) for key, vals in groups.items()}


class Interval(NamedTuple):
    """A mean over ``n`` replicates and its confidence interval ``[low, high]``.

    Defined in :doc:`/book/ch02_dense_associative_memory`.

    >>> round(Interval(mean=0.9, low=0.8, high=1.0, n=3).half_width, 3)
    0.1
    """

    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        """Half the interval's width, ``(high − low) / 2``.

        >>> Interval(1.0, 0.5, 1.5, 5).half_width
        0.5
        """
        return (self.high - self.low) / 2

    def excludes(self, value: float = 0.0) -> bool:
        """Whether the interval lies wholly above or wholly below ``value``.

        >>> interval([0.8, 0.9, 1.0]).excludes(0.5), interval([0.8, 0.9, 1.0]).excludes(0.9)
        (True, False)
        """
        value = check_real(value, "value")
        return self.low > value or self.high < value

    def __str__(self) -> str:
        return f"{self.mean:.3g} ± {self.half_width:.2g} (95 % CI, n = {self.n})" if self.n > 1 else f"{self.mean:.3g}"

    def format(self, digits: int = 2) -> str:
        """``"mean ± half-width"`` with ``digits`` decimals, e.g. for a table.

        >>> interval([0.8, 0.9, 1.0]).format()
        '0.90 ± 0.25'
        """
        digits = check_int(digits, "digits", minimum=0)
        return f"{self.mean:.{digits}f} ± {self.half_width:.{digits}f}"


def _values(values, name: str) -> list[float]:
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be a sequence of numbers (one per replicate); got a {type(values).__name__}")
    if isinstance(values, torch.Tensor):
        values = values.detach().to("cpu", torch.float64).reshape(-1).tolist()
    try:
        values = list(values)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of numbers (one per replicate); got {type(values).__name__}") from None
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, numbers.Real)]
    if bad:
        raise TypeError(f"{name} must be real numbers (one per replicate); got {bad[0]!r}")
    try:
        out = [float(v) for v in values]
    except OverflowError:
        raise ValueError(f"{name} must be finite floats; got an int too large for a float") from None
    if not out:
        raise ValueError(f"{name} must hold at least one replicate; got none")
    if not all(math.isfinite(v) for v in out):
        raise ValueError(f"{name} must be finite; got {out}")
    if max(abs(v) for v in out) > 1e150:                     # their squares must stay finite
        raise ValueError(f"{name} must be at most 1e150 in size (their spread is a sum of squares); got "
                         f"values up to {max(abs(v) for v in out):.3g}")
    return out


def _moments(vals: list[float], ddof: int) -> tuple[float, float]:
    """Mean and standard deviation (divisor ``n − ddof``) from exact sums (``math.fsum``), so that
    equal replicates give their value and zero spread, and large terms do not cancel."""
    n = len(vals)
    mean = vals[0] if all(v == vals[0] for v in vals) else math.fsum(vals) / n
    return mean, (math.sqrt(math.fsum((v - mean) ** 2 for v in vals) / (n - ddof)) if n > ddof else 0.0)


def interval(values: Sequence[float] | torch.Tensor, confidence: float = 0.95) -> Interval:
    """Mean of replicates (e.g. one per seed) with its Student-t confidence interval,
    ``mean ± t_{n−1} · s / √n``. One replicate gives a zero-width interval.

    Defined in :doc:`/book/ch02_dense_associative_memory`.

    >>> interval([0.8, 0.9, 1.0]).mean
    0.9
    >>> round(interval([0.8, 0.9, 1.0]).low, 3)
    0.652
    """
    confidence = check_real(confidence, "confidence", low=0.0, high=1.0, low_open=True, high_open=True)
    vals = _values(values, "values")
    n = len(vals)
    mean, sd = _moments(vals, ddof=1)
    if n == 1:
        return Interval(mean, mean, mean, 1)
    from scipy import stats  # imported here: hopnb's import stays light

    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n)


def paired(a: Sequence[float] | torch.Tensor, b: Sequence[float] | torch.Tensor, confidence: float = 0.95) -> Interval:
    """Confidence interval of the mean paired difference ``a − b``: replicate ``i`` of both
    methods ran on the same data (the same seed). "A beats B" is claimed when the
    interval excludes 0 (:meth:`Interval.excludes`).

    Defined in :doc:`/book/ch02_dense_associative_memory`.

    >>> paired([0.9, 0.8, 0.85], [0.7, 0.65, 0.7]).excludes(0)
    True
    """
    a, b = _values(a, "a"), _values(b, "b")
    if len(a) != len(b):
        raise ValueError(f"a and b must pair up (one value per replicate each); got {len(a)} and {len(b)}")
    return interval([x - y for x, y in zip(a, b)], confidence)
