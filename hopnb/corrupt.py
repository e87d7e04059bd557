"""Query variants: corrupted copies of stored patterns, and distributions over them.

Defined in :doc:`/book/ch00_associative_memory_in_ten_minutes`.

Each corruption takes patterns ``x [n, d]`` (images flattened row-major, values
usually in [0, 1]) and returns a new tensor of the same shape; those that draw random
numbers take a ``generator`` (a ``torch.Generator`` on ``x``'s device, or None for
torch's global one), so an experiment repeats exactly; the deterministic ones accept
and ignore it, so that every corruption can be called as ``f(x, generator=g)``. Masks set entries to ``value``
(0 by default, "missing").

:class:`VariantDistribution` samples ``(source index, variant)`` pairs from a mix or a
chain of corruptions; A-Hop (chapter 6) trains on such pairs.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import torch

from ._validate import check_bool, check_int, check_patterns, check_positive, check_real, free, type_str
from .runtime import generator_device

__all__ = ["mask_pixels", "mask_rows", "mask_border", "gaussian_noise", "shift", "salt_and_pepper", "dropout",
           "VariantDistribution"]


def _fraction(f, name="fraction") -> float:
    f = check_positive(f, name, strict=False)
    if f > 1:
        raise ValueError(f"{name} must lie in [0, 1]; got {f}")
    return f


def _x(x) -> torch.Tensor:
    """Patterns to corrupt: any floating dtype (corruptions are element-wise), finite, any magnitude."""
    return check_patterns(x, "x", reduced=True, bounded=False)


def _image_shape(x: torch.Tensor, shape: Sequence[int]) -> tuple[int, ...]:
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
        raise TypeError(f"shape must be (H, W) or (H, W, C) ints; got {shape!r}")
    shape = tuple(check_int(s, "each entry of shape") for s in shape)
    size = 1
    for s in shape:
        size *= s
    if len(shape) not in (2, 3) or size != x.shape[1]:
        raise ValueError(f"shape must be (H, W) or (H, W, C) with H·W·C = d = {x.shape[1]}; got {shape}")
    return shape


def _fill(value, name: str, x: torch.Tensor) -> float:
    """A real number that ``x``'s dtype can hold, to write into it."""
    value = check_real(value, name)
    if abs(value) > torch.finfo(x.dtype).max:
        raise ValueError(f"{name} must fit in x's dtype {x.dtype} (|{name}| ≤ {torch.finfo(x.dtype).max:.3g}); got {value:g}")
    return value


def _finite(out: torch.Tensor, name: str, value: float) -> torch.Tensor:
    """The corrupted patterns, refused if ``value`` (of the argument ``name``) pushed them past the dtype's range."""
    if free(out) and not bool(torch.isfinite(out).all()):
        raise ValueError(f"{name}={value:g} overflows the patterns' dtype {out.dtype}: the corrupted entries are not "
                         f"finite; use a smaller {name} or a wider dtype")
    return out


def _generator(generator) -> None:
    generator_device(generator, "cpu")  # raises TypeError for anything but a torch.Generator or None


def _rand(x: torch.Tensor, generator) -> torch.Tensor:
    """Uniform draws of ``x``'s shape, in float32 at least: float16 and bfloat16 steps (2⁻¹¹, 2⁻⁸)
    would round small and large probabilities away."""
    where = generator_device(generator, x.device)
    dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    return torch.rand(x.shape, generator=generator, device=where, dtype=dtype).to(x.device)


def _count(fraction: float, n: int) -> int:
    """``fraction · n`` rounded half up (Python's ``round`` goes to even: 2.5 → 2 but 3.5 → 4)."""
    return int(math.floor(fraction * n + 0.5))


def mask_pixels(x: torch.Tensor, fraction: float, *, generator: torch.Generator | None = None,
                value: float = 0.0) -> torch.Tensor:
    """Set each entry to ``value`` independently with probability ``fraction`` (random pixel mask).

    Defined in :doc:`/book/ch00_associative_memory_in_ten_minutes`.

    >>> mask_pixels(torch.ones(1, 4), 1.0)
    tensor([[0., 0., 0., 0.]])
    """
    _x(x)
    fraction = _fraction(fraction)
    value = _fill(value, "value", x)
    return torch.where(_rand(x, generator) < fraction, torch.full_like(x, value), x)


def mask_rows(x: torch.Tensor, shape: Sequence[int], fraction: float = 0.5, *, side: str = "bottom",
              value: float = 0.0, generator: torch.Generator | None = None) -> torch.Tensor:
    """Set the ``side`` (``"bottom"`` or ``"top"``) ``fraction`` of image rows to ``value``,
    as in the UHN experiments ("bottom half masked"). ``shape`` is the image shape.

    Defined in :doc:`/book/ch03_modern_hopfield`.

    >>> mask_rows(torch.ones(1, 4), (2, 2), 0.5)
    tensor([[1., 1., 0., 0.]])
    """
    _x(x)
    _generator(generator)
    value = _fill(value, "value", x)
    shape = _image_shape(x, shape)
    h = shape[0]
    k = _count(_fraction(fraction), h)
    if side not in ("bottom", "top"):
        raise ValueError(f"side must be 'bottom' or 'top'; got {side!r}")
    out = x.clone().reshape(x.shape[0], *shape)
    if k:
        rows = slice(h - k, h) if side == "bottom" else slice(0, k)
        out[:, rows] = value
    return out.reshape(x.shape)


def mask_border(x: torch.Tensor, shape: Sequence[int], fraction: float = 0.25, *, value: float = 0.0,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Set a frame of width ``fraction · H / 2`` (and ``· W / 2``) around each image to ``value``:
    the query keeps its centre, and the memory must inpaint the border.

    Defined in :doc:`/book/ch04_universal_hopfield`.

    >>> mask_border(torch.ones(1, 16), (4, 4), 0.5).reshape(4, 4)[0].tolist()
    [0.0, 0.0, 0.0, 0.0]
    """
    _x(x)
    _generator(generator)
    value = _fill(value, "value", x)
    shape = _image_shape(x, shape)
    h, w = shape[:2]
    fraction = _fraction(fraction)
    bh, bw = _count(fraction, h / 2), _count(fraction, w / 2)
    keep = torch.zeros(h, w, dtype=torch.bool, device=x.device)
    keep[bh:h - bh, bw:w - bw] = True
    if len(shape) == 3:
        keep = keep[:, :, None].expand(h, w, shape[2])
    return torch.where(keep.reshape(1, -1), x, torch.full_like(x, value))


def gaussian_noise(x: torch.Tensor, sigma: float, *, generator: torch.Generator | None = None,
                   clamp: bool = False) -> torch.Tensor:
    """Add independent Gaussian noise of standard deviation ``sigma``.

    Defined in :doc:`/book/ch00_associative_memory_in_ten_minutes`.

    ``clamp=True`` returns ``clamp(|x + n|, 0, 1)``, the UHN and U-Hop code's noisy query.

    >>> gaussian_noise(torch.zeros(1, 3), 0.0)
    tensor([[0., 0., 0.]])
    """
    _x(x)
    sigma = check_positive(sigma, "sigma", strict=False)
    where = generator_device(generator, x.device)
    noise = torch.randn(x.shape, generator=generator, device=where, dtype=x.dtype).to(x.device) * sigma
    out = _finite(x + noise, "sigma", sigma)
    return out.abs().clamp(0, 1) if check_bool(clamp, "clamp") else out


def shift(x: torch.Tensor, bias: float, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Add the constant ``bias`` to every entry (a brightness shift).

    Defined in :doc:`/book/ch06_ahop`.

    >>> shift(torch.zeros(1, 2), 0.25)
    tensor([[0.2500, 0.2500]])
    """
    _x(x)
    _generator(generator)
    bias = check_real(bias, "bias")
    return _finite(x + bias, "bias", bias)


def salt_and_pepper(x: torch.Tensor, fraction: float, *, generator: torch.Generator | None = None,
                    low: float = 0.0, high: float = 1.0) -> torch.Tensor:
    """Replace each entry with probability ``fraction`` by ``low`` or ``high`` (equally likely).

    Defined in :doc:`/book/ch04_universal_hopfield`.

    >>> sorted(salt_and_pepper(torch.full((1, 64), 0.5), 1.0).unique().tolist())
    [0.0, 1.0]
    """
    _x(x)
    fraction = _fraction(fraction)
    low, high = _fill(low, "low", x), _fill(high, "high", x)
    hit = _rand(x, generator) < fraction
    salt = _rand(x, generator) < 0.5
    noise = torch.where(salt, torch.full_like(x, high), torch.full_like(x, low))
    return torch.where(hit, noise, x)


def dropout(x: torch.Tensor, p: float, *, generator: torch.Generator | None = None, scale: bool = True) -> torch.Tensor:
    """Zero each entry with probability ``p``; with ``scale`` multiply survivors by ``1 / (1 − p)``.

    Defined in :doc:`/book/ch05_uhop`.

    This is ``torch.dropout(x, p, train=True)``, which the U-Hop code uses as its
    "50 % masked" query (the paper does not mention the scaling); ``scale=False`` is
    :func:`mask_pixels`.

    >>> dropout(torch.ones(1, 3), 0.0)
    tensor([[1., 1., 1.]])
    """
    _x(x)
    _generator(generator)
    p = _fraction(p, "p")
    if p == 1.0:
        return torch.zeros_like(x)
    out = mask_pixels(x, p, generator=generator)
    return _finite(out / (1.0 - p), "p", p) if check_bool(scale, "scale") else out


Corruption = Callable[..., torch.Tensor]


class VariantDistribution:
    """A distribution over query variants of stored patterns: sample ``(source, variant)`` pairs.

    Defined in :doc:`/book/ch06_ahop`, Eq. :eq:`eq-ch06-map`.

    ``transforms`` are corruptions called as ``f(x, generator=g)``; bind their
    parameters with ``functools.partial`` or use :meth:`of`. ``mode="mix"`` applies
    one transform per sample, chosen with probabilities ``probs`` (uniform by default);
    ``mode="chain"`` applies all of them in order. Sources are drawn uniformly.

    >>> dist = VariantDistribution(torch.rand(5, 4), [VariantDistribution.of(gaussian_noise, sigma=0.1)])
    >>> source, variant = dist.sample(3, generator=torch.Generator().manual_seed(0))
    >>> tuple(source.shape), tuple(variant.shape)
    ((3,), (3, 4))
    """

    def __init__(self, memories: torch.Tensor, transforms: Sequence[Corruption], *, mode: str = "mix",
                 probs: Sequence[float] | None = None):
        check_patterns(memories, "memories")
        if callable(transforms) or isinstance(transforms, (str, bytes)) or not hasattr(transforms, "__len__"):
            raise TypeError(f"transforms must be a list of callables f(x, generator=...); got {type_str(transforms)}")
        if not transforms or not all(callable(t) for t in transforms):
            raise ValueError("transforms must be a non-empty sequence of callables f(x, generator=...)")
        if mode not in ("mix", "chain"):
            raise ValueError(f"mode must be 'mix' or 'chain'; got {mode!r}")
        if probs is not None:
            if isinstance(probs, (str, bytes)) or not hasattr(probs, "__len__"):
                raise TypeError(f"probs must be a list with one probability per transform; got {type_str(probs)}")
            if mode != "mix" or len(probs) != len(transforms):
                raise ValueError(f"probs needs mode='mix' and one entry per transform ({len(transforms)}); "
                                 f"got {len(probs)} in mode {mode!r}")
            probs = torch.as_tensor([check_real(p, "each of probs", low=0.0) for p in probs], dtype=torch.float64)
            probs = probs / probs.max().clamp_min(torch.finfo(torch.float64).tiny)   # their sum must not overflow
            if probs.sum() <= 0:
                raise ValueError(f"probs must be non-negative and not all zero; got {probs.tolist()}")
        self.memories, self.transforms, self.mode = memories, list(transforms), mode
        self.probs = probs if probs is not None else torch.full((len(transforms),), 1.0 / len(transforms),
                                                                dtype=torch.float64)

    @staticmethod
    def of(corruption: Corruption, **params) -> Corruption:
        """``corruption`` with its parameters bound, e.g. ``of(mask_pixels, fraction=0.5)``.

        >>> VariantDistribution.of(mask_pixels, fraction=0.5).keywords
        {'fraction': 0.5}
        """
        return functools.partial(corruption, **params)

    def sample(self, n: int, *, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` pairs: ``source [n]`` (int64 indices into the memories) and ``variants [n, d]``.

        >>> dist = VariantDistribution(torch.ones(2, 4), [VariantDistribution.of(mask_pixels, fraction=0.5)])
        >>> source, variants = dist.sample(3, generator=torch.Generator().manual_seed(0))
        >>> source.dtype, tuple(variants.shape), bool(((variants == 0) | (variants == 1)).all())
        (torch.int64, (3, 4), True)
        """
        n = check_int(n, "n", maximum=2**40)
        device = self.memories.device
        where = generator_device(generator, device)
        source = torch.randint(0, self.memories.shape[0], (n,), generator=generator, device=where).to(device)
        x = self.memories[source]
        if self.mode == "chain":
            for t in self.transforms:
                x = self._checked(t, x, generator)
            return source, x
        # the transform of each sample, by inverse CDF: u ~ U[0, 1) falls into the slot of its transform
        u = torch.rand(n, generator=generator, device=where, dtype=torch.float64).to(device)
        edges = (self.probs.cumsum(0) / self.probs.sum())[:-1].to(device)
        choice = (u[:, None] >= edges).sum(dim=1)
        out = torch.empty_like(x)
        for k, t in enumerate(self.transforms):
            rows = (choice == k).nonzero().squeeze(1)
            if rows.numel():
                out[rows] = self._checked(t, x[rows], generator)
        return source, out

    @staticmethod
    def _checked(transform, x: torch.Tensor, generator) -> torch.Tensor:
        y = transform(x, generator=generator)
        if not isinstance(y, torch.Tensor) or y.shape != x.shape or y.dtype != x.dtype:
            name = getattr(transform, "__name__", None) or getattr(getattr(transform, "func", None), "__name__", None) \
                or repr(transform)
            raise ValueError(f"transform {name} must return variants of its input's shape and dtype, "
                             f"[{', '.join(map(str, x.shape))}] {x.dtype}; got {type_str(y)}")
        check_patterns(y, f"the variants of transform {getattr(transform, '__name__', 'f')}", bounded=False)
        return y
