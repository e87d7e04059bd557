"""Energy first: one energy from the similarity's self term and the separation's conjugate, whose
gradient step is the retrieval (the concave–convex step), with one constant convention."""

import math

import pytest
import torch
from torch.func import grad, vmap

from hopnb import AssociativeMemory
from hopnb import separation as S
from hopnb.models import DenseAssociativeMemory, ModernHopfield, UHop


@pytest.fixture(scope="module")
def patterns():
    g = torch.Generator().manual_seed(0)
    return torch.randn(30, 10, generator=g, dtype=torch.float64), torch.randn(6, 10, generator=g, dtype=torch.float64)


def _orthogonal_uhop(memories, sep):
    net = UHop(memories, sep, generator=torch.Generator().manual_seed(1))
    q, _ = torch.linalg.qr(torch.randn(10, 10, generator=torch.Generator().manual_seed(2), dtype=torch.float64))
    with torch.no_grad():
        net.kernel.weight.copy_(q)  # WᵀW = I: the kernel's metric is the Euclidean one
    return net


MODELS = {
    "modern": lambda m: ModernHopfield(m, beta=0.7),
    "modern, streamed": lambda m: ModernHopfield(m, beta=0.7, chunk_size=7),
    "sparsemax": lambda m: AssociativeMemory(m, "dot", S.Sparsemax(beta=0.7)),
    "1.5-entmax": lambda m: AssociativeMemory(m, "dot", S.Entmax(alpha=1.5, beta=0.7)),
    "1.25-entmax": lambda m: AssociativeMemory(m, "dot", S.Entmax(alpha=1.25, beta=0.7)),
    "U-Hop softmax": lambda m: _orthogonal_uhop(m, S.Softmax(beta=0.7)),
    "U-Hop sparsemax": lambda m: _orthogonal_uhop(m, S.Sparsemax(beta=0.7)),
    "max": lambda m: AssociativeMemory(m, "dot", "max"),
    "identity": lambda m: AssociativeMemory(m, "dot", "identity"),
    "polynomial 3": lambda m: AssociativeMemory(m, "dot", S.Polynomial(3)),
    "learnable softmax": lambda m: AssociativeMemory(m, "dot", S.Softmax(beta=0.7, learnable=True)),
}
CONVEX = ["modern", "modern, streamed", "sparsemax", "1.5-entmax", "1.25-entmax", "U-Hop softmax", "U-Hop sparsemax",
          "max", "learnable softmax"]


@pytest.mark.parametrize("name", list(MODELS))
def test_update_is_the_energy_gradient_step(patterns, name):
    memories, states = patterns
    net = MODELS[name](memories)
    step = grad(lambda x: net.energy(x).sum())(states)
    torch.testing.assert_close(net(states).detach(), states - step.detach(), atol=1e-6, rtol=1e-6)
    per_state = vmap(grad(lambda x: net.energy(x[None])[0]))(states)  # one state at a time
    torch.testing.assert_close(per_state.detach(), step.detach(), atol=1e-9, rtol=1e-9)


@pytest.mark.parametrize("name", CONVEX)
def test_iterating_never_raises_the_energy(patterns, name):
    memories, states = patterns
    net = MODELS[name](memories)
    run = net.retrieve(3 * states, steps=12, record=True)
    energies = torch.stack([net.energy(x) for x in run.trajectory]).detach()
    assert bool((energies[1:] <= energies[:-1] + 1e-9 * (1 + energies[:-1].abs())).all())


def test_equivalent_models_give_the_same_energy(patterns):
    memories, states = patterns
    uhop = UHop(memories, S.Softmax(beta=0.7))
    with torch.no_grad():
        uhop.kernel.weight.copy_(torch.eye(10, dtype=torch.float64))
    modern = ModernHopfield(memories, beta=0.7)
    torch.testing.assert_close(uhop.energy(states), modern.energy(states))
    explicit = (-torch.logsumexp(0.7 * states @ memories.T, dim=1) / 0.7 + 0.5 * states.square().sum(dim=1)
                + math.log(30) / 0.7 + 0.5 * memories.square().sum(dim=1).max())  # chapter 3, eq. (3.2)
    torch.testing.assert_close(modern.energy(states), explicit)
    assert bool((modern.energy(states) >= 0).all())


@pytest.mark.parametrize("d", [1000, 2000])
def test_every_energy_is_finite_in_high_dimension(d):
    g = torch.Generator().manual_seed(d)
    binary = torch.where(torch.rand(20, d, generator=g) < 0.5, -1.0, 1.0).double()
    dam = DenseAssociativeMemory(binary, "exponential")
    assert bool(torch.isfinite(dam.energy(binary[:3])).all())
    torch.testing.assert_close(dam.energy(binary[:1]), -dam.log_neg_energy(binary[:1]))
    for name, make in MODELS.items():
        assert bool(torch.isfinite(make(binary[:, :10] * 3).energy(binary[:3, :10])).all()), name
    for net in (ModernHopfield(binary, beta=1.0), AssociativeMemory(binary, "dot", S.Sparsemax())):
        assert bool(torch.isfinite(net.energy(binary[:3])).all())


def test_energy_needs_an_inner_product_and_a_conjugate(patterns):
    memories, states = patterns
    with pytest.raises(NotImplementedError, match="inner-product similarity"):
        AssociativeMemory(memories, "euclidean").energy(states)
    with pytest.raises(NotImplementedError, match="no convex conjugate"):
        AssociativeMemory(memories, "dot", lambda s: s.relu()).energy(states)
    with pytest.raises(NotImplementedError, match="normalize=True"):
        AssociativeMemory(memories, "dot", S.Polynomial(2, normalize=True)).energy(states)


@pytest.mark.parametrize("dtype, beta", [(torch.float64, 1e-17), (torch.float32, 1e-6), (torch.float64, 1e-6)])
def test_the_energy_at_small_beta_tends_to_its_limit_instead_of_cancelling(dtype, beta):
    # as β → 0, β⁻¹ log mean exp(β s) → mean(s): E → ½‖x‖² − mean_μ ξ_μᵀx + ½ max‖ξ‖²
    g = torch.Generator().manual_seed(0)
    memories, states = torch.randn(5, 3, generator=g, dtype=torch.float64), torch.randn(4, 3, generator=g, dtype=torch.float64)
    limit = 0.5 * states.square().sum(1) - (states @ memories.T).mean(1) + 0.5 * memories.square().sum(1).max()
    energy = ModernHopfield(memories.to(dtype), beta=beta).energy(states.to(dtype)).double()
    torch.testing.assert_close(energy, limit, rtol=1e-5, atol=1e-5)
