import pytest
import torch

from hopnb import corrupt, data, experiments
from hopnb import separation as S


def noise(x, level, generator):
    return corrupt.gaussian_noise(x, level, generator=generator, clamp=True)


def test_sweep_rows_are_tidy_and_reproducible():
    patterns = data.random_patterns(200, 50, "uniform", generator=torch.Generator().manual_seed(0))
    kwargs = dict(n_memories=[10, 100], similarities=["dot", "euclidean"],
                  separations={"max": "max", "softmax(β=10)": S.softmax(beta=10.0)},
                  corruptions={"noise": noise}, levels=[0.1, 0.5], seeds=[0, 1], threshold=5.0, progress=False)
    rows = experiments.retrieval_sweep(patterns, **kwargs)
    assert len(rows) == 2 * 2 * 2 * 2 * 2
    assert set(rows[0]) == {"n_memories", "similarity", "separation", "corruption", "level", "seed",
                            "fraction_correct", "mean_sse", "source_accuracy"}
    assert rows == experiments.retrieval_sweep(patterns, **kwargs)
    table = experiments.summarise(rows, by=["similarity", "n_memories", "level"], value="source_accuracy")
    # the claim the chapters build on: a distance beats the dot product under this noise
    assert table[("euclidean", 100, 0.5)][0] > table[("dot", 100, 0.5)][0]
    assert table[("euclidean", 10, 0.1)] == (1.0, 0.0)


def test_sweep_rejects_more_memories_than_patterns():
    with pytest.raises(ValueError, match=r"n_memories must lie in \[1, 5\]"):
        experiments.retrieval_sweep(torch.rand(5, 3), n_memories=[6], similarities=["dot"], separations=["max"],
                                    corruptions={"none": lambda x, level, generator: x}, levels=[0.0], progress=False)


def test_interval_is_the_student_t_interval():
    scipy_stats = pytest.importorskip("scipy.stats")
    values = [0.2, 0.4, 0.9, 0.5]
    ci = experiments.interval(values)
    low, high = scipy_stats.t.interval(0.95, 3, loc=scipy_stats.tmean(values), scale=scipy_stats.sem(values))
    assert (ci.low, ci.high, ci.n) == (pytest.approx(low), pytest.approx(high), 4)
    assert experiments.interval([0.7]) == (0.7, 0.7, 0.7, 1)


def test_paired_difference_sees_what_unpaired_means_hide():
    # a seed effect far larger than the method effect: the means' intervals overlap,
    # the paired difference does not cross zero
    base = torch.tensor([0.1, 0.5, 0.9, 0.3, 0.7])
    a, b = base + 0.02, base
    assert experiments.interval(a).low < experiments.interval(b).high
    assert experiments.paired(a, b).excludes(0) and experiments.paired(a, b).mean == pytest.approx(0.02)
    assert not experiments.paired(b, b + torch.tensor([0.01, -0.01, 0.02, -0.02, 0.0])).excludes(0)


@pytest.mark.parametrize("bad, match", [([], "at least one replicate"), ([1.0, float("nan")], "finite"),
                                        ("ab", "sequence of numbers")])
def test_interval_names_bad_input(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        experiments.interval(bad)
    with pytest.raises(ValueError, match="pair up"):
        experiments.paired([1.0, 2.0], [1.0])


def test_sweep_honours_the_seed_offset(monkeypatch):
    patterns = data.random_patterns(60, 20, "uniform", generator=torch.Generator().manual_seed(0))
    kwargs = dict(n_memories=[30], similarities=["dot"], separations=["max"], corruptions={"noise": noise},
                  levels=[0.8], seeds=[0], progress=False)
    monkeypatch.delenv("HOPNB_SEED_OFFSET", raising=False)
    base = experiments.retrieval_sweep(patterns, **kwargs)
    monkeypatch.setenv("HOPNB_SEED_OFFSET", "17")
    assert experiments.retrieval_sweep(patterns, **kwargs)[0]["mean_sse"] != base[0]["mean_sse"]
