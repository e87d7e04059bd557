"""Dense associative memories decide each unit exactly on the integer overlaps."""

import itertools

import pytest
import torch

from hopnb.models import DenseAssociativeMemory


def _brute_force_sweep(patterns, x, F):
    """Frozen sweep by the definition, in exact rational arithmetic where F allows it."""
    out = x.clone()
    for b, l in itertools.product(range(x.shape[0]), range(x.shape[1])):
        plus, minus = x[b].clone(), x[b].clone()
        plus[l], minus[l] = 1, -1
        gain = sum(F(int(p @ plus)) - F(int(p @ minus)) for p in patterns)
        out[b, l] = 1.0 if gain >= 0 else -1.0
    return out


@pytest.mark.parametrize("interaction,n", [("polynomial", 3), ("polynomial", 4), ("rectified", 3),
                                           ("polynomial", 40), ("polynomial", 41), ("rectified", 60)])
def test_polynomial_decisions_match_exact_integers(interaction, n):
    # from n = 40 on, 2 M (d + 1)^n is beyond float64's exact integers and (overlap / d)^n would underflow
    g = torch.Generator().manual_seed(0)  # noqa: the test's own generator
    p = torch.randint(0, 2, (40, 12), generator=g).float() * 2 - 1
    x = torch.randint(0, 2, (6, 12), generator=g).float() * 2 - 1
    F = (lambda z: max(z, 0) ** n) if interaction == "rectified" else (lambda z: z**n)
    net = DenseAssociativeMemory(p, interaction, n=n)
    assert (net._gain_table(x.device) is None) == (n >= 40)
    assert torch.equal(net._sweep(x.clone(), range(12), frozen=True), _brute_force_sweep(p, x, F))


def test_exponential_tie_is_decided_by_the_rule():
    # two patterns that differ only in unit 0: at either pattern the two terms for unit 0 cancel exactly
    a = torch.ones(1, 8)
    b = a.clone()
    b[0, 0] = -1
    net = DenseAssociativeMemory(torch.cat([a, b]), "exponential")
    out = net._sweep(b.clone(), range(8), frozen=True)
    assert out[0, 0] == 1.0                      # sgn(0) = +1, on every machine
    assert not bool(net.is_fixed_point(b).all()) and bool(net.is_fixed_point(a).all())


def test_exponential_decisions_match_float64_sums():
    g = torch.Generator().manual_seed(1)  # noqa: the test's own generator
    p = torch.randint(0, 2, (300, 10), generator=g).float() * 2 - 1
    x = torch.randint(0, 2, (20, 10), generator=g).float() * 2 - 1
    net = DenseAssociativeMemory(p, "exponential", beta=0.7)
    overlaps = (x @ p.T).double()
    expected = x.clone()
    for l in range(10):
        base = overlaps - x[:, l:l + 1].double() * p[:, l].double()
        s = (p[:, l].double() * torch.exp(0.7 * base)).sum(dim=1)
        expected[:, l] = torch.where(s >= 0, 1.0, -1.0)
    assert torch.equal(net._sweep(x.clone(), range(10), frozen=True), expected)
