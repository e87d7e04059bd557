import functools

import pytest
import torch

from hopnb import similarity as sim


@pytest.fixture
def pair():
    g = torch.Generator().manual_seed(0)
    return torch.randn(7, 5, generator=g, dtype=torch.float64), torch.randn(3, 5, generator=g, dtype=torch.float64)


def test_shapes_and_values_against_broadcast(pair):
    memories, queries = pair
    diff = queries[:, None, :] - memories[None, :, :]  # the [B, M, d] tensor the library never builds
    expected = {
        "dot": (queries[:, None, :] * memories[None]).sum(-1),
        "cosine": (queries[:, None, :] * memories[None]).sum(-1) / (queries.norm(dim=1)[:, None] * memories.norm(dim=1)),
        "euclidean": -diff.norm(dim=-1),
        "manhattan": -diff.abs().sum(-1),
    }
    for name, want in expected.items():
        got = sim.get(name)(memories, queries)
        assert got.shape == (3, 7)
        torch.testing.assert_close(got, want)
    torch.testing.assert_close(sim.euclidean(memories, queries, squared=True), -diff.square().sum(-1))
    torch.testing.assert_close(sim.manhattan(memories, queries, reciprocal=True), 1 / (diff.abs().sum(-1) + 1e-8))
    torch.testing.assert_close(sim.euclidean(memories, queries, squared=True, reciprocal=True),
                               1 / (diff.square().sum(-1) + 1e-8))


def test_highest_score_is_the_closest_memory(pair):
    memories, _ = pair
    for name in ("euclidean", "manhattan", "cosine"):
        assert torch.equal(sim.get(name)(memories, memories).argmax(dim=1), torch.arange(7))


def test_gradients_flow_and_stay_finite_at_zero_distance(pair):
    memories, _ = pair
    q = memories[:2].clone().requires_grad_(True)
    sim.euclidean(memories, q, squared=True).sum().backward()
    assert bool(torch.isfinite(q.grad).all())


def test_get_binds_parameters_and_unchecked_strips_checks(pair):
    memories, queries = pair
    f = sim.get("euclidean", squared=True)
    assert isinstance(f, functools.partial)
    raw = sim.unchecked(f)
    torch.testing.assert_close(raw(memories, queries), f(memories, queries))
    assert sim.unchecked("dot") is sim.dot.raw


@pytest.mark.parametrize("memories, queries, error, message", [
    (torch.ones(4, 3), torch.ones(2, 5), ValueError, r"queries must be \[B, d\] with d=3 to match memories; got \[2, 5\]"),
    (torch.ones(4, 3), torch.ones(3), ValueError, r"2-D tensor \[B, d\].*got shape \[3\] \(for a single pattern use queries\[None\]\)"),
    (torch.ones(0, 3), torch.ones(2, 3), ValueError, r"memories must not be empty; got shape \[0, 3\]"),
    (torch.ones(4, 3), torch.ones(2, 3, dtype=torch.float64), TypeError, "queries must have the dtype of memories"),
    (torch.ones(4, 3, dtype=torch.int64), torch.ones(2, 3), TypeError, "memories must be a floating-point tensor"),
    (torch.ones(4, 3), [[1.0, 2.0, 3.0]], TypeError, "queries must be a torch.Tensor"),
    (torch.tensor([[float("nan"), 0.0]]), torch.ones(1, 2), ValueError, "memories contains 1 NaN or infinite"),
    (torch.ones(1, 2), torch.tensor([[float("inf"), 0.0]]), ValueError, "queries contains 1 NaN or infinite"),
])
def test_bad_input_is_named(memories, queries, error, message):
    with pytest.raises(error, match=message):
        sim.dot(memories, queries)


def test_device_mismatch_is_named():
    memories = torch.ones(2, 2, device="meta")
    with pytest.raises(ValueError, match="queries must be on the device of memories"):
        from hopnb._validate import check_like
        check_like(torch.ones(1, 2), memories, "queries", "memories")


def test_unknown_similarity_lists_known():
    with pytest.raises(ValueError, match="unknown similarity 'hamming'; known: dot, cosine, euclidean, manhattan"):
        sim.get("hamming")
