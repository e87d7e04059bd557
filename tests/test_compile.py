"""Cheap checks: shapes, dtypes and devices on every call, values read only where that is free, so
that retrieval compiles to one graph and needs no device synchronisation per call or step."""

import pytest
import torch

import hopnb
from hopnb import AssociativeMemory
from hopnb import separation as S
from hopnb.nn import Hopfield, HopfieldLayer

SEPARATIONS = [S.Softmax(beta=0.5), S.Max(), S.Sparsemax(), S.Polynomial(2, normalize=True), S.Identity()]


@pytest.mark.parametrize("similarity, sep, chunk", [("dot", S.Softmax(beta=0.5), None), ("euclidean", S.Max(), 16)],
                         ids=["attention kernel", "streamed"])
def test_memory_compiles_to_one_graph(similarity, sep, chunk):
    torch._dynamo.reset()
    g = torch.Generator().manual_seed(0)
    memories, queries = torch.randn(50, 8, generator=g), torch.randn(4, 8, generator=g)
    memory = AssociativeMemory(memories, similarity, sep, chunk_size=chunk)
    compiled = torch.compile(memory, fullgraph=True)
    torch.testing.assert_close(compiled(queries), memory(queries), atol=1e-5, rtol=1e-5)


def test_layers_compile_to_one_graph():
    torch._dynamo.reset()
    g = torch.Generator().manual_seed(1)
    q, k, v = torch.randn(2, 3, 8, generator=g), torch.randn(2, 5, 8, generator=g), torch.randn(2, 5, 4, generator=g)
    layer = Hopfield(separation=S.Softmax(beta=0.3))
    torch.testing.assert_close(torch.compile(layer, fullgraph=True)(q, k, v), layer(q, k, v), atol=1e-5, rtol=1e-5)
    lookup = HopfieldLayer(8, memories=6, d_out=3, separation=S.Sparsemax())
    torch.testing.assert_close(torch.compile(lookup, fullgraph=True)(q), lookup(q), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("sep", SEPARATIONS, ids=repr)
@pytest.mark.parametrize("similarity", ["dot", "euclidean", "cosine", "manhattan"])
def test_forward_reads_no_values_off_the_cpu(sep, similarity):
    """On the meta device nothing can be read: a forward pass that runs there syncs nothing."""
    memory = AssociativeMemory(torch.randn(50, 8), similarity, sep, chunk_size=16).to("meta")
    assert memory(torch.randn(4, 8, device="meta")).shape == (4, 8)
    layer = Hopfield(similarity, sep)
    assert layer(torch.randn(2, 3, 8, device="meta"), torch.randn(2, 5, 8, device="meta")).shape == (2, 3, 8)


def test_retrieve_checks_its_queries_once(monkeypatch):
    calls = []
    monkeypatch.setattr(hopnb.memory, "check_finite", lambda x, name, **kw: calls.append(name))
    memory = AssociativeMemory(torch.randn(50, 8), "dot", S.Softmax(beta=0.5)).to("meta")
    run = memory.retrieve(torch.randn(4, 8, device="meta"), steps=5)
    assert run.steps == 5 and calls == ["queries"]
    with pytest.raises(ValueError, match=r"queries must be \[B, d\] with d=8"):
        memory(torch.randn(4, 7, device="meta"))
    with pytest.raises(TypeError, match="queries must have the dtype of memories"):
        memory(torch.randn(4, 8, device="meta", dtype=torch.float64))
