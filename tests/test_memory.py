import pytest
import torch
import torch.nn.functional as F

import hopnb
from hopnb import AssociativeMemory
from hopnb import separation as S
from hopnb.models import ModernHopfield

SEPARATIONS = [S.softmax(beta=0.5), S.softmax(beta=50.0), S.max(), S.identity(), S.polynomial(3),
               S.polynomial(2, rectified=True, normalize=True), S.threshold(-2.0, normalize=True),
               S.sparsemax(beta=0.5), S.entmax(alpha=1.5)]


@pytest.fixture(scope="module")
def patterns():
    g = torch.Generator().manual_seed(0)
    return torch.rand(300, 16, generator=g, dtype=torch.float64), torch.rand(9, 16, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("similarity", ["dot", "cosine", "euclidean", "manhattan"])
@pytest.mark.parametrize("sep", SEPARATIONS, ids=repr)
def test_streaming_equals_one_shot(patterns, similarity, sep):
    memories, queries = patterns
    one_shot = AssociativeMemory(memories, similarity, sep)
    streamed = AssociativeMemory(memories, similarity, sep, chunk_size=37)
    reference = sep(hopnb.similarity.get(similarity)(memories, queries)) @ memories
    torch.testing.assert_close(one_shot(queries), reference)
    torch.testing.assert_close(streamed(queries), reference)
    torch.testing.assert_close(streamed.scores(queries), one_shot.scores(queries))


def test_mchn_equals_scaled_dot_product_attention():
    g = torch.Generator().manual_seed(1)
    memories, queries = torch.randn(500, 64, generator=g), torch.randn(32, 64, generator=g)
    beta = 0.125
    attention = F.scaled_dot_product_attention(queries[None], memories[None], memories[None], scale=beta)[0]
    for chunk in (None, 64):
        torch.testing.assert_close(ModernHopfield(memories, beta=beta, chunk_size=chunk)(queries), attention,
                                   atol=1e-6, rtol=1e-6)


def test_hetero_association_reads_out_the_projection():
    memories = torch.eye(4)
    targets = torch.arange(8.0).reshape(4, 2)
    mem = AssociativeMemory(memories, "dot", "max", projection=targets)
    torch.testing.assert_close(mem(torch.tensor([[0.1, 0.9, 0.0, 0.0]])), targets[1:2])
    with pytest.raises(ValueError, match="iterated retrieval needs outputs of the query's size d=4"):
        mem.retrieve(memories[:1], steps=2)


def test_energy_never_increases_along_mchn_retrieval():
    g = torch.Generator().manual_seed(2)
    memories = torch.randn(50, 20, generator=g, dtype=torch.float64)
    queries = torch.randn(16, 20, generator=g, dtype=torch.float64) * 3
    for beta in (0.05, 0.5, 5.0):
        net = ModernHopfield(memories, beta=beta, chunk_size=16)
        run = net.retrieve(queries, steps=10, record=True)
        energies = torch.stack([net.energy(x) for x in run.trajectory])
        assert bool((energies[1:] <= energies[:-1] + 1e-9).all())


def test_retrieve_stops_at_tolerance_and_caps_the_trajectory():
    memories = torch.eye(5) * 3
    net = ModernHopfield(memories, beta=4.0)
    run = net.retrieve(memories[:2] * 0.9, steps=50, tol=1e-6, record=True, max_record=3)
    assert run.steps < 50 and bool(run.converged.all())
    assert run.trajectory.shape == (3, 2, 5)
    torch.testing.assert_close(run.state, memories[:2], atol=1e-4, rtol=0)


def test_numerics_finite_at_extreme_beta_and_magnitude():
    g = torch.Generator().manual_seed(3)
    memories, queries = torch.randn(200, 32, generator=g) * 1e4, torch.randn(8, 32, generator=g) * 1e4
    for sim in ("dot", "euclidean", "manhattan", "cosine"):
        for chunk in (None, 50):
            mem = AssociativeMemory(memories, sim, S.softmax(beta=1e6), chunk_size=chunk)
            out = mem(queries)
            assert bool(torch.isfinite(out).all())
            nearest = memories[mem.scores(queries).argmax(dim=1)]
            torch.testing.assert_close(out, nearest)
    energy = ModernHopfield(memories, beta=1e6).energy(queries)
    assert bool(torch.isfinite(energy).all())


def test_autograd_flows_to_memories_queries_and_learnable_beta():
    g = torch.Generator().manual_seed(4)
    memories = torch.randn(40, 8, generator=g, dtype=torch.float64, requires_grad=True)
    queries = torch.randn(3, 8, generator=g, dtype=torch.float64, requires_grad=True)
    beta = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    mem = AssociativeMemory(memories, "dot", S.softmax(beta=beta), chunk_size=16)
    assert torch.autograd.gradcheck(lambda m, q: AssociativeMemory(m, "manhattan", S.softmax(beta=0.3),
                                                                  chunk_size=16)(q), (memories, queries))
    mem(queries).sum().backward()
    log_beta = mem.separation.log_beta  # a β that requires grad is the initial value of the parameter log β
    assert [p is log_beta for p in mem.parameters()] == [True]
    assert memories.grad is not None and queries.grad is not None and log_beta.grad is not None


def test_custom_callables_and_bad_returns():
    memories = torch.rand(10, 4)
    mem = AssociativeMemory(memories, lambda m, q: -(q @ m.T), lambda s: torch.softmax(s, dim=1))
    assert mem(torch.rand(2, 4)).shape == (2, 4)
    broken = AssociativeMemory(memories, lambda m, q: q @ m.T[:, :3])
    with pytest.raises(ValueError, match=r"similarity must return scores \[B, M\] = \[2, 10\]; got \[2, 3\]"):
        broken(torch.rand(2, 4))


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(similarity="hamming"), ValueError, "unknown similarity 'hamming'; known: dot, cosine"),
    (dict(separation="argmax"), ValueError, "unknown separation 'argmax'; known: identity"),
    (dict(similarity=3), TypeError, "similarity must be a name"),
    (dict(separation=3), TypeError, "separation must be a name"),
    (dict(projection=torch.ones(5, 2)), ValueError, r"projection must be \[M, d'\] with M=4 to match memories"),
    (dict(chunk_size=0), ValueError, "chunk_size must be a positive int"),
])
def test_bad_construction_is_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        AssociativeMemory(torch.ones(4, 3), **kwargs)


def test_bad_queries_and_steps_are_named():
    mem = AssociativeMemory(torch.ones(4, 3))
    with pytest.raises(ValueError, match=r"queries must be \[B, d\] with d=3 to match memories; got \[2, 5\]"):
        mem(torch.ones(2, 5))
    with pytest.raises(ValueError, match="queries contains 1 NaN"):
        mem(torch.tensor([[float("nan"), 0.0, 0.0]]))
    with pytest.raises(ValueError, match="steps must be a positive int"):
        mem.retrieve(torch.ones(1, 3), steps=0)
    with pytest.raises(NotImplementedError, match="energy"):
        AssociativeMemory(torch.ones(4, 3), "manhattan").energy(torch.ones(1, 3))


def test_memory_follows_to_and_state_dict():
    mem = AssociativeMemory(torch.rand(6, 3), projection=torch.rand(6, 2))
    assert set(mem.state_dict()) == {"memories", "projection"}
    assert mem.double().memories.dtype == torch.float64


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cpu_and_cuda_agree():
    g = torch.Generator().manual_seed(5)
    memories, queries = torch.rand(3000, 64, generator=g), torch.rand(50, 64, generator=g)
    for sim in ("dot", "euclidean", "manhattan", "cosine"):
        for sep in (S.softmax(beta=2.0), S.max(), S.sparsemax(), S.polynomial(2, normalize=True)):
            cpu = AssociativeMemory(memories, sim, sep, chunk_size=700)(queries)
            gpu = AssociativeMemory(memories.cuda(), sim, sep, chunk_size=700)(queries.cuda())
            torch.testing.assert_close(gpu.cpu(), cpu, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("sep", [S.sparsemax(beta=0.3), S.entmax(alpha=1.5, beta=0.3), S.entmax(alpha=1.25, beta=1.0)],
                         ids=repr)
def test_energy_never_increases_for_sparse_separations(sep):
    g = torch.Generator().manual_seed(6)
    memories = torch.randn(40, 12, generator=g, dtype=torch.float64)
    queries = 2 * torch.randn(16, 12, generator=g, dtype=torch.float64)
    mem = AssociativeMemory(memories, "dot", sep)
    run = mem.retrieve(queries, steps=10, record=True)
    energies = torch.stack([mem.energy(x) for x in run.trajectory])
    assert bool((energies[1:] <= energies[:-1] + 1e-9).all())


def test_conjugate_gradient_is_the_separation():
    from hopnb.memory import separation_conjugate

    s = torch.randn(5, 9, generator=torch.Generator().manual_seed(7), dtype=torch.float64, requires_grad=True)
    for sep in (S.softmax(beta=0.7), S.sparsemax(beta=0.7), S.entmax(alpha=1.5, beta=0.7)):
        (grad,) = torch.autograd.grad(separation_conjugate(sep, s).sum(), s)
        torch.testing.assert_close(grad, sep(s.detach()), atol=1e-6, rtol=1e-6)
