"""The one retrieval engine: separations stream themselves (subclasses and callables included),
the attention kernel where its semantics match, masks, and the layers built on it."""

import pytest
import torch
import torch.nn.functional as F

import hopnb
from hopnb import AssociativeMemory, functional
from hopnb import separation as S
from hopnb.nn import Hopfield, HopfieldLayer, HopfieldPooling


class Softmax1(S.Softmax):
    """U-Hop's ``softmax_1(s) = exp(βs) / (1 + Σ exp(βs))``: a softmax with an extra zero logit."""

    def separate(self, scores):
        z = torch.nn.functional.pad(self.beta * scores, (0, 1))
        return torch.softmax(z, dim=-1)[..., :-1]


class Softmax1ByForward(S.Softmax):
    """The same, written as a new ``forward`` on top of the parent's."""

    def forward(self, scores):
        w = super().forward(scores)
        lse = torch.logsumexp(self.beta * scores, dim=-1, keepdim=True)
        return w * torch.exp(lse - torch.logaddexp(lse, torch.zeros_like(lse)))


BUILT_IN = [S.Softmax(beta=0.5), S.Softmax(beta=30.0), S.Max(), S.Identity(), S.Polynomial(3),
            S.Polynomial(2, rectified=True, normalize=True), S.Threshold(0.2, normalize=True), S.Sparsemax(beta=0.5),
            S.Entmax(alpha=1.5), S.Entmax(alpha=1.3, beta=2.0)]


def _subclass(sep):
    """The same separation as an instance of a user's subclass that changes nothing."""
    sub = type(f"My{type(sep).__name__}", (type(sep),), {})
    out = sub.__new__(sub)
    out.__dict__.update(sep.__dict__)
    return out


SEPARATIONS = ([(repr(s), s) for s in BUILT_IN] + [(f"subclass {s!r}", _subclass(s)) for s in BUILT_IN]
               + [("softmax_1 subclass", Softmax1(beta=2.0)), ("softmax_1 by forward", Softmax1ByForward(beta=2.0)),
                  ("callable", lambda s: torch.softmax(3.0 * s, dim=-1) * (s > 0.5)),
                  ("class passed uncalled", S.softmax)])


@pytest.fixture(scope="module")
def data():
    g = torch.Generator().manual_seed(0)
    return (torch.rand(90, 12, generator=g, dtype=torch.float64), torch.rand(7, 12, generator=g, dtype=torch.float64),
            torch.rand(90, 5, generator=g, dtype=torch.float64))


@pytest.mark.parametrize("similarity", ["dot", "euclidean", hopnb.similarity.get("euclidean", squared=True)],
                         ids=["dot", "euclidean", "squared"])
@pytest.mark.parametrize("chunk", [None, 13])
@pytest.mark.parametrize("label, sep", SEPARATIONS, ids=[label for label, _ in SEPARATIONS])
def test_retrieval_is_weights_times_values_for_every_separation(data, similarity, chunk, label, sep):
    memories, queries, targets = data
    for projection in (None, targets):
        mem = AssociativeMemory(memories, similarity, sep, projection, chunk_size=chunk)
        torch.testing.assert_close(mem(queries), mem.weights(queries) @ mem.values)
        torch.testing.assert_close(mem.retrieve(queries).state if projection is None else mem(queries),
                                   mem.weights(queries) @ mem.values)


def test_softmax_1_subclass_is_honoured_by_forward(data):
    memories, queries, _ = data
    mem = AssociativeMemory(memories, "dot", Softmax1(beta=2.0), chunk_size=13)
    plain = AssociativeMemory(memories, "dot", S.Softmax(beta=2.0))
    assert (mem(queries) - plain(queries)).abs().max() > 1e-5  # the extra logit shows
    w = torch.exp(2.0 * queries @ memories.T)
    torch.testing.assert_close(mem(queries), w / (1 + w.sum(dim=1, keepdim=True)) @ memories)
    torch.testing.assert_close(AssociativeMemory(memories, "dot", Softmax1ByForward(beta=2.0))(queries), mem(queries))


def test_normalised_polynomial_streams_where_its_powers_overflow():
    memories = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]]) * 1e3
    mem = AssociativeMemory(memories, "dot", S.Polynomial(80, normalize=True), chunk_size=1)
    out = mem(torch.tensor([[1.0, 0.1]]))
    torch.testing.assert_close(out, memories[:1], atol=1e-3, rtol=1e-6)


def _explicit(q, k, v, beta, mask=None, squared=False):
    s = -torch.cdist(q, k).square() if squared else q @ k.transpose(-1, -2)
    s = beta * s
    if mask is not None:
        s = s.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else s + mask
    return torch.softmax(s, dim=-1) @ v


@pytest.mark.parametrize("lead", [(), (3,), (2, 3)])
@pytest.mark.parametrize("squared", [False, True])
def test_attention_path_agrees_with_sdpa_and_the_formula(lead, squared):
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(*lead, n, w, generator=g) for n, w in ((6, 16), (40, 16), (40, 9)))
    mask = torch.rand(*lead, 6, 40, generator=g) > 0.3
    mask[..., 0] = True
    similarity = hopnb.similarity.get("euclidean", squared=True) if squared else "dot"
    for m in (None, mask, torch.where(mask, 0.0, -2.0)):
        out = functional.retrieve(q, k, v, similarity=similarity, separation=S.Softmax(beta=0.3), mask=m)
        torch.testing.assert_close(out, _explicit(q, k, v, 0.3, m, squared), atol=1e-5, rtol=1e-5)
        streamed = functional.retrieve(q, k, v, similarity=similarity, separation=_subclass(S.Softmax(beta=0.3)),
                                       mask=m, chunk_size=7)
        torch.testing.assert_close(streamed, out, atol=1e-5, rtol=1e-5)
        if not squared:
            sdpa = F.scaled_dot_product_attention(q, k, v, attn_mask=m, scale=0.3)
            torch.testing.assert_close(out, sdpa, atol=1e-5, rtol=1e-5)


def test_attention_path_is_taken_and_learnable_beta_trains_through_it(monkeypatch):
    calls = []
    real = F.scaled_dot_product_attention
    monkeypatch.setattr(functional.F, "scaled_dot_product_attention", lambda *a, **k: calls.append(1) or real(*a, **k))
    sep = S.Softmax(beta=0.5, learnable=True)
    q, k = torch.randn(4, 8), torch.randn(30, 8)
    out = functional.retrieve(q, k, separation=sep)
    out.sum().backward()
    assert calls and sep.log_beta.grad is not None
    torch.testing.assert_close(out, _explicit(q, k, k, 0.5), atol=1e-5, rtol=1e-5)
    calls.clear()
    functional.retrieve(q, k, separation=Softmax1(beta=0.5))
    functional.retrieve(q, k, similarity="cosine", separation=S.Softmax(beta=0.5))
    assert not calls  # a changed softmax or another similarity streams


def test_one_shot_within_the_budget_streaming_beyond(data):
    memories, queries, _ = data
    seen = []
    sep = S.Max()
    stream = sep.stream
    sep.stream = lambda chunks: stream([seen.append(s.shape[-1]) or (s, v) for s, v in chunks])
    functional.retrieve(queries, memories, separation=sep)
    assert seen == [90]
    seen.clear()
    functional.retrieve(queries, memories, separation=sep, budget=7 * 8 * 20)  # 20 memories' scores in float64
    assert seen == [20, 20, 20, 20, 10]


def test_layer_keeps_no_state_and_matches_attention():
    g = torch.Generator().manual_seed(2)
    q, k, v = torch.randn(2, 3, 8, generator=g), torch.randn(2, 5, 8, generator=g), torch.randn(2, 5, 4, generator=g)
    layer = Hopfield(separation=S.Softmax(beta=8 ** -0.5))
    out, w = layer(q, k, v, return_weights=True)
    assert not hasattr(layer, "weights")
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out, w @ v, atol=1e-5, rtol=1e-5)
    mask = torch.tensor([True, False, True, True, False]).expand(2, 3, 5)
    torch.testing.assert_close(layer(q, k, v, mask=mask), F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
                               atol=1e-5, rtol=1e-5)


def test_layer_projections_with_another_value_width():
    layer = Hopfield(projections=(8, 6, 3))
    out = layer(torch.randn(2, 3, 8), torch.randn(2, 5, 8), torch.randn(2, 5, 3))
    assert out.shape == (2, 3, 6)
    out.sum().backward()
    assert all(p.grad is not None for p in layer.parameters())
    with pytest.raises(ValueError, match="values must have d=3 features"):
        layer(torch.randn(2, 3, 8), torch.randn(2, 5, 8), torch.randn(2, 5, 8))


def test_pooling_and_lookup_take_masks():
    stored = torch.randn(4, 10, 8)
    pool = HopfieldPooling(8, queries=2, separation=S.Softmax(beta=0.5))
    keep = torch.arange(10) < 6
    torch.testing.assert_close(pool(stored, mask=keep.expand(4, 2, 10)), pool(stored[:, :6]), atol=1e-6, rtol=1e-6)
    lookup = HopfieldLayer(8, memories=16, d_out=3)
    out, w = lookup(stored, mask=torch.arange(16) < 4, return_weights=True)
    assert out.shape == (4, 10, 3) and bool((w[..., 4:] == 0).all())


def test_layers_fwd_bwd_with_any_separation():
    for sep in (S.Max(), S.Sparsemax(), Softmax1(), lambda s: torch.softmax(s, dim=-1)):
        assert HopfieldPooling(8, queries=2, separation=sep)(torch.randn(4, 10, 8)).shape == (4, 2, 8)
        layer = HopfieldLayer(8, memories=16, d_out=3, separation=sep)
        layer(torch.randn(4, 5, 8)).sum().backward()
        assert layer.targets.grad is not None


def test_bad_engine_inputs_are_named():
    q, k = torch.randn(2, 4), torch.randn(5, 4)
    with pytest.raises(ValueError, match=r"keys must be \[..., M, d\] with d=4 to match queries; got \[5, 3\]"):
        functional.retrieve(q, k[:, :3])
    with pytest.raises(ValueError, match=r"values must be \[..., M, d'\] with M=5 to match keys"):
        functional.retrieve(q, k, torch.randn(4, 2))
    with pytest.raises(TypeError, match="mask must be bool"):
        functional.retrieve(q, k, mask=torch.ones(2, 5, dtype=torch.long))



@pytest.mark.parametrize("separation", ["softmax", "max", "sparsemax", "entmax", S.Polynomial(3), "identity"])
@pytest.mark.parametrize("similarity", ["dot", "manhattan"])
def test_a_query_that_sees_no_memory_is_refused(separation, similarity):
    # weights over no memory are undefined: every path and separation refuses, naming the query
    g = torch.Generator().manual_seed(2)
    q, k = torch.randn(3, 4, generator=g), torch.randn(5, 4, generator=g)
    mask = torch.ones(3, 5, dtype=torch.bool)
    mask[1] = False
    for m in (mask, torch.where(mask, 0.0, float("-inf"))):
        for call in (functional.retrieve, functional.weights):
            with pytest.raises(ValueError, match=r"mask hides every memory from 1 query \(indices \[\[1\]\]\)"):
                call(q, k, similarity=similarity, separation=separation, mask=m)
    with pytest.raises(ValueError, match="mask hides every memory from every query"):
        functional.retrieve(q, k, similarity=similarity, separation=separation, mask=torch.zeros(5, dtype=torch.bool))
    mask[1, 3] = True                                                   # one visible memory is enough
    assert bool(torch.isfinite(functional.retrieve(q, k, similarity=similarity, separation=separation, mask=mask)).all())


@pytest.mark.parametrize("separation", ["softmax", "max", "sparsemax", "entmax", "identity", S.Polynomial(3),
                                        S.Polynomial(2, normalize=True), S.Polynomial(3, rectified=True),
                                        S.Threshold(0.0), lambda s: s.relu()])
@pytest.mark.parametrize("chunk_size", [None, 3])
def test_a_masked_memory_takes_no_part(separation, chunk_size):
    # with a mask [M], retrieval is retrieval from the visible memories alone, in every separation and path
    g = torch.Generator().manual_seed(4)
    q, k, v = torch.randn(4, 6, generator=g), torch.randn(9, 6, generator=g), torch.randn(9, 5, generator=g)
    keep = torch.tensor([False, False, True, True, False, False, True, True, False])   # the first chunks: all masked
    for similarity in ("dot", "manhattan"):
        out = functional.retrieve(q, k, v, similarity=similarity, separation=separation, mask=keep, chunk_size=chunk_size)
        alone = functional.retrieve(q, k[keep], v[keep], similarity=similarity, separation=separation)
        torch.testing.assert_close(out, alone, atol=1e-5, rtol=1e-5)
        w = functional.weights(q, k, similarity=similarity, separation=separation, mask=keep)
        assert bool((w[:, ~keep] == 0).all())
        torch.testing.assert_close(w[:, keep], functional.weights(q, k[keep], similarity=similarity, separation=separation))
    with pytest.raises(TypeError, match="separation Polynomial needs parameters"):
        functional.retrieve(q, k, separation=S.Polynomial)
