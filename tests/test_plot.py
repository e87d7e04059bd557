import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from hopnb import plot  # noqa: E402


def test_image_grid_rows_and_columns():
    fig = plot.image_grid({"stored": torch.rand(5, 12), "signed": torch.randn(3, 12)}, (3, 4), n=4)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(fig.axes) == 8 and len(visible) == 7            # the shorter row leaves one cell empty
    assert fig.axes[0].get_ylabel() == "stored"
    plt.close(fig)


def test_image_grid_names_a_wrong_shape():
    with pytest.raises(ValueError, match=r"d=12 to show as \(3, 4\); got \(2, 10\)"):
        plot.image_grid(torch.rand(2, 10), (3, 4))


def test_explorer_draws_the_default_figure_and_wires_controls(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(obj) or _Handle(shown))
    calls = []

    def draw(beta=2.0, label="a"):
        calls.append((beta, label))
        fig, _ = plt.subplots()
        return fig

    box = plot.explorer(draw, beta=(0.5, 4.0, 0.5), label=["a", "b"])
    assert calls == [(2.0, "a")]                                 # the static figure uses the defaults
    box.children[0].value = 3.0                                  # moving a control redraws with its value
    assert calls[-1] == (3.0, "a")
    with pytest.raises(ValueError, match="not parameters of draw"):
        plot.explorer(draw, gamma=(0, 1))


class _Handle:
    def __init__(self, shown):
        self.shown = shown

    def update(self, obj):
        self.shown.append(obj)


def test_band_and_bars_draw_means_and_intervals():
    from hopnb.experiments import interval

    intervals = [interval([0.1, 0.2, 0.3]), interval([0.5, 0.6, 0.4])]
    fig, ax = plt.subplots()
    line = plot.band(ax, [1, 2], intervals, label="method")
    assert list(line.get_ydata()) == pytest.approx([0.2, 0.5])
    assert len(ax.collections) == 1                                  # the shaded band
    bars = plot.bars(ax, ["a", "b"], intervals)
    assert [b.get_height() for b in bars] == pytest.approx([0.2, 0.5])
    with pytest.raises(ValueError, match="one interval per x value"):
        plot.band(ax, [1, 2, 3], intervals)
    plt.close(fig)
