import pytest
import torch

from hopnb import metrics


def test_sse_fraction_correct_and_cosine():
    targets = torch.zeros(4, 10)
    retrieved = torch.arange(4.0)[:, None].expand(4, 10) / 2  # SSE 0, 2.5, 10, 22.5
    torch.testing.assert_close(metrics.sse(retrieved, targets), torch.tensor([0.0, 2.5, 10.0, 22.5]))
    assert metrics.fraction_correct(retrieved, targets, threshold=10.0) == 0.75     # SSE ≤ 10, as the UHN code tests
    assert metrics.fraction_correct(retrieved, targets, threshold=9.99) == 0.5
    a = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    assert metrics.fraction_cosine(a, torch.tensor([[1.0, 0.0]]).expand(3, 2)) == pytest.approx(1 / 3)
    assert metrics.fraction_cosine(a, torch.tensor([[1.0, 0.0]]).expand(3, 2), threshold=0.7) == pytest.approx(2 / 3)


def test_source_accuracy_by_weights_and_by_nearest_pattern():
    memories = torch.eye(3)
    source = torch.tensor([0, 1, 2])
    assert metrics.source_accuracy(source, weights=torch.eye(3)[[0, 1, 0]]) == pytest.approx(2 / 3)
    retrieved = torch.tensor([[0.9, 0.1, 0.0], [0.0, 0.2, 0.9], [0.0, 0.0, 1.0]])
    assert metrics.source_accuracy(source, retrieved=retrieved, memories=memories) == pytest.approx(2 / 3)


@pytest.mark.parametrize("call, message", [
    (lambda: metrics.sse(torch.ones(2, 3), torch.ones(3, 3)), r"same shape \[B, d\]; got \[2, 3\] and \[3, 3\]"),
    (lambda: metrics.fraction_correct(torch.ones(2, 3), torch.ones(2, 3), threshold=0), "threshold must be"),
    (lambda: metrics.source_accuracy(torch.zeros(2)), "exactly one of weights= or retrieved="),
    (lambda: metrics.source_accuracy(torch.zeros(2), retrieved=torch.ones(2, 3)), "needs memories="),
    (lambda: metrics.source_accuracy(torch.zeros(3), weights=torch.ones(2, 3)), r"source must be \[B\] = \[2\]"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
