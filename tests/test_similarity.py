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


# ------------------------------------------------------------------ the UHN similarities

UHN = ("l1_dot", "kl", "reverse_kl", "jensen_shannon")


@pytest.fixture
def images():
    """Non-negative patterns with exact zeros, like images (memories [7, 6], queries [3, 6])."""
    g = torch.Generator().manual_seed(1)
    x = torch.rand(10, 6, generator=g, dtype=torch.float64)
    x = torch.where(x < 0.3, torch.zeros_like(x), x)
    x[:, 0] += 0.1  # every row has mass
    return x[:7], x[7:]


def _reference(name, memories, queries, eps):
    """The [B, M, d] broadcast the library avoids."""
    p = (memories / memories.sum(1, keepdim=True))[None]
    q = (queries / queries.sum(1, keepdim=True))[:, None]
    if name == "l1_dot":
        return (p * q).sum(-1)

    def kl_(a, b):
        return (torch.xlogy(a, a + eps) - torch.xlogy(a, b + eps)).sum(-1)

    if name == "kl":
        return -kl_(p, q)
    if name == "reverse_kl":
        return -kl_(q, p)
    m = (p + q) / 2
    return -(0.5 * kl_(p, m) + 0.5 * kl_(q, m))


@pytest.mark.parametrize("name", UHN)
@pytest.mark.parametrize("eps", [1e-4, 0.3])
def test_uhn_similarities_match_the_broadcast_reference(images, name, eps):
    memories, queries = images
    params = {} if name == "l1_dot" else {"eps": eps}
    got = sim.get(name, **params)(memories, queries)
    assert got.shape == (3, 7)
    torch.testing.assert_close(got, _reference(name, memories, queries, eps))
    if name != "l1_dot":
        torch.testing.assert_close(sim.get(name, reciprocal=True, **params)(memories, queries),
                                   -1 / _reference(name, memories, queries, eps))


def test_get_accepts_eps_zero_for_the_divergences_only(images):
    memories, queries = images
    for name in ("kl", "reverse_kl", "jensen_shannon"):
        torch.testing.assert_close(sim.get(name, eps=0.0)(memories, queries),
                                   getattr(sim, name)(memories, queries, eps=0.0))
    with pytest.raises(ValueError, match="eps"):
        sim.get("euclidean", eps=0.0)
    with pytest.raises(ValueError, match="eps"):
        sim.get("kl", eps=-1.0)


def test_divergences_with_eps_zero_are_exact(images):
    memories, queries = images
    js = sim.jensen_shannon(memories, queries, eps=0.0)
    torch.testing.assert_close(js, _reference("jensen_shannon", memories, queries, 0.0))
    torch.testing.assert_close(js, sim.jensen_shannon(queries, memories, eps=0.0).T)  # symmetric
    assert bool((js <= 0).all()) and bool((-js <= torch.log(torch.tensor(2.0)) + 1e-12).all())
    # KL(p || q) is infinite where q is 0 on p's support, finite (and matching) elsewhere
    want = _reference("kl", memories, queries, 0.0)  # -inf where uncovered
    got = sim.kl(memories, queries, eps=0.0)
    p, q = memories > 0, queries > 0
    uncovered = (p[None] & ~q[:, None]).any(-1)
    assert torch.equal(torch.isneginf(got), uncovered)
    torch.testing.assert_close(got[~uncovered], want[~uncovered])
    got = sim.reverse_kl(memories, queries, eps=0.0)
    uncovered = (q[:, None] & ~p[None]).any(-1)
    assert torch.equal(torch.isneginf(got), uncovered)
    torch.testing.assert_close(got[~uncovered], _reference("reverse_kl", memories, queries, 0.0)[~uncovered])
    # a memory equal to the query (up to scale) has divergence 0: the top score
    assert float(sim.kl(memories, 3 * memories[:1], eps=0.0)[0, 0]) == pytest.approx(0.0, abs=1e-12)


def test_uhn_code_forms():
    """The UHN code, row by row: memories and query divided by their sums, ε inside the logs, 1 / sum."""
    g = torch.Generator().manual_seed(2)
    memories, z = torch.rand(5, 8, generator=g, dtype=torch.float64), torch.rand(1, 8, generator=g, dtype=torch.float64)
    eps = 1e-4
    x_n, z_n = memories / memories.sum(1, keepdim=True), z / z.sum()
    code_kl = 1 / (x_n * (torch.log(x_n + eps) - torch.log(z_n + eps))).sum(1)
    code_rkl = 1 / (z_n * (torch.log(z_n + eps) - torch.log(x_n + eps))).sum(1)
    code_dot = x_n @ z_n[0]
    torch.testing.assert_close(sim.kl(memories, z, eps=eps, reciprocal=True)[0], code_kl)
    torch.testing.assert_close(sim.reverse_kl(memories, z, eps=eps, reciprocal=True)[0], code_rkl)
    torch.testing.assert_close(sim.l1_dot(memories, z)[0], code_dot)
    assert sim.EPS_UHN == eps


def test_jensen_shannon_blocks_do_not_change_the_result(images, monkeypatch):
    memories, queries = images
    whole = sim.jensen_shannon(memories, queries)
    monkeypatch.setattr(sim, "_JS_BLOCK", 7)  # one memory per block, several blocks per query
    torch.testing.assert_close(sim.jensen_shannon(memories, queries), whole)


@pytest.mark.parametrize("name", UHN)
def test_uhn_similarities_take_batches_of_sets(images, name):
    memories, queries = images
    raw = sim.unchecked(name)
    batched = raw(torch.stack([memories, 2 * memories]), torch.stack([queries, queries.flip(0)]))
    assert batched.shape == (2, 3, 7)
    torch.testing.assert_close(batched[0], raw(memories, queries))
    torch.testing.assert_close(batched[1], raw(2 * memories, queries.flip(0)))


@pytest.mark.parametrize("name", UHN)
def test_uhn_similarities_gradcheck(images, name):
    memories, queries = images
    memories, queries = (memories + 0.05).requires_grad_(True), (queries + 0.05).requires_grad_(True)
    fn = sim.unchecked(name)
    assert torch.autograd.gradcheck(fn, (memories, queries))
    if name != "l1_dot":
        assert torch.autograd.gradcheck(lambda m, q: fn(m, q, eps=0.0), (memories, queries))


@pytest.mark.parametrize("name", UHN)
def test_uhn_similarities_stream_and_retrieve_the_source(images, name):
    memories, _ = images
    from hopnb import AssociativeMemory
    queries = memories + 0.01
    whole = AssociativeMemory(memories, name, "max")
    chunked = AssociativeMemory(memories, name, "max", chunk_size=2)
    torch.testing.assert_close(chunked.scores(queries), whole.scores(queries))
    assert torch.equal(chunked(queries), whole(queries))
    if name != "l1_dot":  # a dot product may prefer another memory; a divergence picks the source
        assert torch.equal(chunked(queries), memories)


@pytest.mark.parametrize("name", UHN)
def test_uhn_similarities_reject_inputs_outside_their_domain(name):
    good = torch.rand(4, 3) + 0.1
    with pytest.raises(ValueError, match=r"memories must be non-negative .* got a minimum entry of -0.5"):
        sim.get(name)(torch.cat([good, torch.tensor([[1.0, -0.5, 1.0]])]), good)
    with pytest.raises(ValueError, match="queries must be non-negative"):
        sim.get(name)(good, -good)
    with pytest.raises(ValueError, match=r"queries must have a positive sum in every row .* got 1 all-zero row"):
        sim.get(name)(good, torch.cat([good, torch.zeros(1, 3)]))
    from hopnb import AssociativeMemory
    with pytest.raises(ValueError, match="memories must be non-negative"):
        AssociativeMemory(good - 0.5, name, "max")(good)
    if name != "l1_dot":
        with pytest.raises(ValueError, match="eps must be finite and ≥ 0"):
            sim.get(name).raw(good, good, eps=-1.0)


def test_uhn_similarities_are_registered():
    for name in UHN:
        assert name in sim.NAMES and name in sim.__all__
    assert sim.get("kl", eps=1e-3).keywords == {"eps": 1e-3}


@pytest.mark.parametrize("squared", [False, True])
def test_euclidean_distances_survive_a_large_common_offset(squared):
    # float32 has 24 bits: at an offset of 1e4 the expansion ‖q‖² + ‖ξ‖² − 2qᵀξ lost every digit of distances near 1
    g = torch.Generator().manual_seed(0)
    memories = torch.randn(30, 3, generator=g) + 1e4
    queries = memories[:10] + 0.01 * torch.randn(10, 3, generator=g)
    reference = sim.euclidean(memories.double(), queries.double(), squared=squared)
    torch.testing.assert_close(sim.euclidean(memories, queries, squared=squared).double(), reference, rtol=1e-3, atol=1e-3)
    from hopnb import AssociativeMemory, separation
    for similarity, sep in ((sim.get("euclidean", squared=squared), "max"),
                            (sim.get("euclidean", squared=True), separation.Softmax(beta=50.0))):    # the attention path
        torch.testing.assert_close(AssociativeMemory(memories, similarity, sep)(memories), memories, rtol=0, atol=1e-2)
