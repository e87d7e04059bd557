"""The book's figure style, an image grid for stored / corrupted / retrieved patterns, and
confidence bands and error bars for results over seeds.

Defined in :doc:`/book/ch00_associative_memory_in_ten_minutes`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import torch

__all__ = ["STYLE", "use_style", "image_grid", "explorer", "band", "bars"]

#: The book's matplotlib rcParams: small grey-gridded figures, grey images without smoothing.
STYLE = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "image.cmap": "gray",
    "image.interpolation": "nearest",
    "axes.prop_cycle": mpl.cycler(color=["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                         "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"]),
}


def use_style() -> None:
    """Apply the book's matplotlib style (:data:`STYLE`) to every later figure.

    Defined in :doc:`/book/ch00_associative_memory_in_ten_minutes`.

    >>> use_style()
    >>> mpl.rcParams["image.cmap"]
    'gray'
    """
    mpl.rcParams.update(STYLE)


def _as_images(x: torch.Tensor, shape: Sequence[int], n: int, label: str = "") -> torch.Tensor:
    try:
        x = torch.as_tensor(x).detach()
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"image_grid: rows[{label!r}] must be patterns [n, d] (a tensor); got {type(x).__name__}") from err
    if x.dtype == torch.bool or x.is_complex():
        raise TypeError(f"image_grid: rows[{label!r}] must hold real numbers; got {x.dtype}")
    x = x.to("cpu", torch.float32)
    if x.numel() == 0:
        raise ValueError(f"image_grid: rows[{label!r}] must hold at least one pattern; got {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"image_grid: rows[{label!r}] contains NaN or infinite values")
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2 or x.shape[1] != int(torch.tensor(shape).prod()):
        raise ValueError(f"image_grid: each row must be a pattern [n, d] with d={int(torch.tensor(shape).prod())} "
                         f"to show as {tuple(shape)}; got {tuple(x.shape)}")
    x = x[:n]
    if x.min() < 0:  # ±1 patterns (and other signed data) are shown on [min, max]
        lo, hi = x.min(), x.max()
        x = (x - lo) / (hi - lo).clamp_min(1e-12)
    return x.clamp(0, 1).reshape(len(x), *shape)


def image_grid(rows: Mapping[str, torch.Tensor] | torch.Tensor, shape: Sequence[int], *, n: int = 8,
               size: float = 1.0, title: str | None = None):
    """Show patterns as images: one labelled row per entry of ``rows``, ``n`` columns.

    Defined in :doc:`/book/ch00_associative_memory_in_ten_minutes`.

    ``rows`` maps a row label (e.g. "stored", "corrupted", "retrieved") to patterns
    ``[k, d]`` that ``reshape(shape)`` turns into images (``(H, W)`` or ``(H, W, 3)``);
    a single tensor gives one unlabelled row. Values are clipped to [0, 1]; signed
    patterns (±1) are rescaled first. Returns the figure.

    >>> fig = image_grid({"stored": torch.rand(3, 16)}, (4, 4))
    >>> len(fig.axes)
    3
    """
    if not isinstance(rows, Mapping):
        rows = {"": rows}
    if not rows:
        raise ValueError("image_grid: rows must hold at least one row of patterns; got an empty mapping")
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__") or len(shape) not in (2, 3) or any(
            isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in shape):
        raise ValueError(f"image_grid: shape must be (H, W) or (H, W, 3) positive ints; got {shape!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"image_grid: n (columns) must be a positive int; got {n!r}")
    if isinstance(size, bool) or not isinstance(size, (int, float)) or not 0 < size < float("inf"):
        raise ValueError(f"image_grid: size must be a positive finite number; got {size!r}")
    images = {label: _as_images(x, shape, n, label) for label, x in rows.items()}
    ncols = max(len(v) for v in images.values())
    fig, axes = plt.subplots(len(images), ncols, figsize=(size * ncols + 0.8, size * len(images) + 0.3),
                             squeeze=False, layout="constrained")
    for r, (label, imgs) in enumerate(images.items()):
        for c in range(ncols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            for spine in ax.spines.values():
                spine.set_visible(False)
            if c < len(imgs):
                ax.imshow(imgs[c].numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            else:
                ax.set_visible(False)
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    return fig


def explorer(draw: Callable[..., "mpl.figure.Figure"], **controls):
    """An interactive figure that degrades to a static one.

    Defined in :doc:`/book/ch00_associative_memory_in_ten_minutes`.

    ``draw(**values)`` returns a figure; its keyword defaults give the figure shown in
    static pages (the HTML book, CI). ``controls`` maps some of its parameters to an
    ipywidgets control or an ``interact``-style abbreviation (``(min, max, step)``, a
    list of options, a bool). The default figure is displayed as an ordinary output
    under the controls; in a live notebook moving a control redraws it in place.
    Returns the box of controls.
    """
    import ipywidgets as widgets
    from IPython.display import display

    params = inspect.signature(draw).parameters
    unknown = set(controls) - set(params)
    if unknown:
        raise ValueError(f"explorer: {sorted(unknown)} are not parameters of {draw.__name__}{inspect.signature(draw)}")
    sliders = {}
    for name, abbrev in controls.items():
        default = params[name].default
        if default is inspect.Parameter.empty:
            raise ValueError(f"explorer: parameter {name!r} of {draw.__name__} needs a default (the static figure)")
        w = abbrev if isinstance(abbrev, widgets.Widget) else widgets.interactive.widget_from_abbrev(abbrev, default)
        w.description = name
        sliders[name] = w
    box = widgets.VBox(list(sliders.values()))
    display(box)
    fig = draw()
    handle = display(fig, display_id=True)
    plt.close(fig)

    def redraw(_change):
        new = draw(**{k: w.value for k, w in sliders.items()})
        handle.update(new)
        plt.close(new)

    for w in sliders.values():
        w.observe(redraw, names="value")
    return box


def band(ax, x: Sequence[float], intervals, *, label: str | None = None, color=None, alpha: float = 0.2, **line):
    """Draw the means of ``intervals`` (:class:`hopnb.experiments.Interval`, one per ``x``)
    as a line and their confidence intervals as a shaded band; returns the line.

    Defined in :doc:`/book/ch02_dense_associative_memory`.

    >>> from hopnb.experiments import interval
    >>> fig, ax = plt.subplots()
    >>> line = band(ax, [1, 2], [interval([0.8, 0.9, 1.0]), interval([0.5, 0.6, 0.7])], label="softmax")
    >>> [float(round(y, 2)) for y in line.get_ydata()]
    [0.9, 0.6]
    >>> plt.close(fig)
    """
    intervals = list(intervals)
    if len(intervals) != len(x):
        raise ValueError(f"band: one interval per x value; got {len(intervals)} intervals for {len(x)} x values")
    (handle,) = ax.plot(x, [i.mean for i in intervals], label=label, color=color, **line)
    ax.fill_between(x, [i.low for i in intervals], [i.high for i in intervals], color=handle.get_color(),
                    alpha=alpha, linewidth=0)
    return handle


def bars(ax, labels: Sequence[str], intervals, *, color=None, **kw):
    """Draw ``intervals`` (one per label) as bars with their confidence intervals as error bars.

    Defined in :doc:`/book/ch05_uhop`.

    >>> from hopnb.experiments import interval
    >>> fig, ax = plt.subplots()
    >>> len(bars(ax, ["dot", "cosine"], [interval([0.8, 0.9, 1.0]), interval([0.5, 0.6, 0.7])]))
    2
    >>> plt.close(fig)
    """
    intervals = list(intervals)
    if len(intervals) != len(labels):
        raise ValueError(f"bars: one interval per label; got {len(intervals)} intervals for {len(labels)} labels")
    means = [i.mean for i in intervals]
    err = [[i.mean - i.low for i in intervals], [i.high - i.mean for i in intervals]]
    return ax.bar(list(labels), means, yerr=err, capsize=3, color=color, **kw)
