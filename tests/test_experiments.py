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
