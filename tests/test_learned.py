"""U-Hop's kernel, A-Hop's footprint, the learned models and the Hopfield layers."""

import math
import warnings

import pytest
import torch
import torch.nn.functional as F

import hopnb
from hopnb import AssociativeMemory, corrupt
from hopnb._training import descend
from hopnb import separation as S
from hopnb.footprint import FootprintSimilarity, footprint
from hopnb.kernel import KernelSimilarity, separation_loss, separation_loss_bound
from hopnb.models import AdaptiveHopfield, ModernHopfield, UHop
from hopnb.nn import Hopfield, HopfieldLayer, HopfieldPooling


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------------------- kernel


def test_identity_kernel_reproduces_the_mchn_and_the_sparse_mchn():
    memories, queries = torch.randn(50, 12, generator=gen()), torch.randn(7, 12, generator=gen(1))
    kernel = KernelSimilarity(12, weight=torch.eye(12))
    torch.testing.assert_close(AssociativeMemory(memories, kernel, S.softmax(beta=0.3))(queries),
                               ModernHopfield(memories, beta=0.3)(queries))
    sparse = AssociativeMemory(memories, kernel, S.sparsemax(beta=0.3))(queries)
    torch.testing.assert_close(sparse, AssociativeMemory(memories, "dot", S.sparsemax(beta=0.3))(queries))
    # sparsemax really changes the output (two reference codes silently fall back to softmax)
    assert (sparse - ModernHopfield(memories, beta=0.3)(queries)).abs().max() > 1e-2


def test_separation_loss_bound_and_orthonormal_value():
    for m in (2, 5, 40):
        feats = torch.randn(m, 16, generator=gen(m))
        assert separation_loss(feats).item() >= separation_loss_bound(m) - 1e-6
    assert separation_loss(torch.eye(6), t=2.0).item() == pytest.approx(-4.0)
    simplex = torch.eye(5) - 1 / 5  # a regular simplex reaches the bound
    assert separation_loss(simplex).item() == pytest.approx(separation_loss_bound(5), abs=1e-5)
    assert separation_loss(torch.eye(4), kind="max").item() == pytest.approx(-4.0)


def pdist_separation_loss(features, t=2.0, kind="average"):
    """The separation loss from torch.pdist, as U-Hop's code computes it: the reference."""
    sq = torch.pdist(F.normalize(features, dim=1)).square()
    return -t * sq.min() if kind == "max" else torch.logsumexp(-t * sq, dim=0) - math.log(sq.numel())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("kind", ["average", "max"])
def test_gram_separation_loss_equals_pdist_in_blocks_and_over_a_fit(monkeypatch, kind, dtype):
    features = torch.randn(23, 9, generator=gen(), dtype=dtype, requires_grad=True)
    want = pdist_separation_loss(features, kind=kind)
    (want_grad,) = torch.autograd.grad(want, features)
    for budget in (1 << 22, 23 * 5):  # one block; blocks of 5 rows (the last of 3)
        monkeypatch.setattr(hopnb.kernel, "_PAIR_BUDGET", budget)
        got = separation_loss(features, kind=kind)
        torch.testing.assert_close(got, want)
        torch.testing.assert_close(torch.autograd.grad(got, features)[0], want_grad)
        if dtype == torch.float64:
            assert torch.autograd.gradcheck(lambda f: separation_loss(f, kind=kind), (features,))
    monkeypatch.undo()
    # The max loss follows the closest pair, which descent makes nearly tied with others: in float32,
    # rounding picks another of them after ~60 steps here, and the paths part.
    steps = 50 if kind == "max" and dtype == torch.float32 else 100
    memories = torch.rand(20, 10, generator=gen(1), dtype=dtype)
    ours = KernelSimilarity(10, generator=gen(2), dtype=dtype).fit(memories, steps, kind=kind, progress=False)
    monkeypatch.setattr(hopnb.kernel, "separation_loss", pdist_separation_loss)
    theirs = KernelSimilarity(10, generator=gen(2), dtype=dtype).fit(memories, steps, kind=kind, progress=False)
    assert max(abs(a - b) for a, b in zip(ours, theirs)) < (1e-5 if dtype == torch.float32 else 1e-12)


def test_stage_one_lowers_the_loss_and_beats_the_mchn_on_masked_mnist(data_root):
    x, _ = hopnb.data.load("mnist", n=100, root=data_root)
    queries = corrupt.mask_pixels(x, 0.5, generator=gen())
    net = UHop(x, S.softmax(beta=1.0), generator=gen())
    history = net.fit(100, progress=False)
    assert history[-1] < history[0] - 1.0 and history[-1] >= separation_loss_bound(100)
    sse_uhop = hopnb.metrics.sse(net(queries).clamp(0, 1), x).mean()
    sse_mchn = hopnb.metrics.sse(ModernHopfield(x, beta=1.0)(queries).clamp(0, 1), x).mean()
    assert sse_uhop < 0.5 * sse_mchn
    assert torch.allclose(net.kernel.weight.norm(dim=1), torch.ones(784))


def test_exact_retrieval_when_the_margin_condition_holds():
    memories = torch.randn(30, 20, generator=gen(2))
    net = UHop(memories, S.entmax(alpha=1.5, beta=1.0), generator=gen(3))
    net.fit(50, progress=False)
    margins = net.kernel.margins(memories)
    holds = margins >= 1 / (1.0 * (1.5 - 1))
    assert holds.any()
    out = net(memories)
    assert torch.equal(out[holds], memories[holds])  # exactly the stored pattern: a fixed point
    weights = net.weights(memories[holds])
    assert bool((weights.amax(dim=1) == 1).all())


@pytest.mark.parametrize("sep", [S.softmax(beta=0.5), S.sparsemax(beta=0.5), S.entmax(alpha=1.5, beta=0.5)], ids=repr)
def test_uhop_energy_never_increases(sep):
    memories = torch.randn(40, 10, generator=gen(4), dtype=torch.float64)
    net = UHop(memories, sep, generator=gen(5))
    net.fit(20, progress=False)
    run = net.retrieve(torch.randn(8, 10, generator=gen(6), dtype=torch.float64), steps=8, record=True)
    energies = torch.stack([net.energy(s) for s in run.trajectory]).detach()
    assert bool((energies[1:] <= energies[:-1] + 1e-9).all())


@pytest.mark.parametrize("call, error, message", [
    (lambda: KernelSimilarity(5)(torch.ones(3, 4), torch.ones(2, 4)), ValueError, r"memories must have d=5 .*got \[3, 4\]"),
    (lambda: KernelSimilarity(4).fit(torch.ones(1, 4)), ValueError, "at least 2 memories"),
    (lambda: KernelSimilarity(4).fit(torch.rand(3, 4), t=0), ValueError, "t must be finite and > 0"),
    (lambda: KernelSimilarity(4).fit(torch.rand(3, 4), kind="min"), ValueError, "kind must be one of"),
    (lambda: KernelSimilarity(4).fit(torch.rand(3, 4, dtype=torch.float64)), TypeError, "dtype of the kernel's W"),
    (lambda: separation_loss(torch.rand(3, 4), t=-1), ValueError, "t must be finite and > 0"),
    (lambda: FootprintSimilarity(4, bases=("dis", "cos")), ValueError, "bases must be a non-empty subset"),
    (lambda: FootprintSimilarity(4)(torch.ones(3, 5), torch.ones(2, 5)), ValueError, r"d=4 .*got \[3, 5\]"),
])
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_training_stops_on_a_non_finite_loss_or_parameter_and_names_the_step():
    w = torch.nn.Parameter(torch.tensor([3.0]))
    with pytest.raises(FloatingPointError, match=r"parameters overflowed at step 1 \(epoch 1 of 3\).*lr=1e\+38"):
        descend(lambda: (w ** 2).sum(), lambda epoch: [()], torch.optim.SGD([w], lr=1e38), 3)
    w = torch.nn.Parameter(torch.tensor([3.0]))                  # 3 − 10 / 3 < 0: the next log is NaN
    with pytest.raises(FloatingPointError, match=r"the loss became nan after 1 step \(epoch 2 of 3\)"):
        descend(lambda: w.log().sum(), lambda epoch: [()], torch.optim.SGD([w], lr=10.0), 3)


def test_the_held_out_loss_is_recorded_at_the_start_and_a_run_that_never_beats_it_keeps_the_start():
    module = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.constant_(module.weight, 1.0)
    w = module.weight                                             # SGD at lr 1.5 on w²: 1 → −2 → 4 → −8
    run = descend(lambda: (w ** 2).sum(), lambda epoch: [()], torch.optim.SGD([w], lr=1.5), 10,
                  validation=lambda: (w ** 2).sum().item(), patience=2, module=module)
    assert run.validation == [1.0, 4.0, 16.0] and run.steps == 2
    assert w.item() == 1.0


def test_both_learned_models_train_through_the_one_loop(monkeypatch):
    import hopnb.models.learned
    seen = []

    def spy(*args, **kwargs):
        seen.append(kwargs["name"])
        return descend(*args, **kwargs)

    monkeypatch.setattr(hopnb.kernel, "descend", spy)
    monkeypatch.setattr(hopnb.models.learned, "descend", spy)
    memories = torch.rand(6, 4, generator=gen())
    UHop(memories, generator=gen(1)).fit(2)
    AdaptiveHopfield(memories).fit((torch.arange(6), memories), epochs=2, generator=gen(2))
    assert seen == ["separation loss", "cross-entropy"]


def test_a_step_too_large_to_lower_the_loss_warns_and_a_good_one_does_not():
    memories = torch.rand(30, 16, generator=gen(2))
    with pytest.warns(RuntimeWarning, match=r"raised the separation loss .* lr=1e\+06"):
        history = UHop(memories, generator=gen(3)).fit(50, lr=1e6)
    assert history[-1] > history[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = UHop(memories, generator=gen(3)).fit(50, lr=0.1)
    assert history[-1] < history[0]


# ----------------------------------------------------------------------------- footprint


def test_footprint_last_entry_is_the_unsorted_sum():
    m, q = torch.randn(6, 9, generator=gen()), torch.randn(4, 9, generator=gen(1))
    torch.testing.assert_close(footprint(m, q, "dot")[..., -1], q @ m.T)
    torch.testing.assert_close(footprint(m, q, "dis")[..., -1], -torch.cdist(q, m).square(), atol=1e-4, rtol=1e-4)


def test_footprint_is_invariant_to_permuting_dimensions_jointly():
    m, q = torch.randn(6, 9, generator=gen()), torch.randn(4, 9, generator=gen(1))
    perm = torch.randperm(9, generator=gen(2))
    f = FootprintSimilarity(9)
    with torch.no_grad():
        f.w["dis"].copy_(torch.randn(9, generator=gen(3)))
        f.w["dot"].copy_(torch.randn(9, generator=gen(4)))
        f.beta["dot"].fill_(0.7)
    torch.testing.assert_close(f(m[:, perm], q[:, perm]), f(m, q))
    for base in ("dis", "dot"):
        torch.testing.assert_close(footprint(m[:, perm], q[:, perm], base), footprint(m, q, base))


def test_masked_dimensions_do_not_reach_the_sources_leading_entries():
    d, k = 20, 6
    source = 0.5 + 0.5 * torch.rand(1, d, generator=gen())  # entries in [0.5, 1]: ξ_i² ≥ 0.25
    masked = torch.randperm(d, generator=gen(1))[:k]
    leading = []
    for seed in range(3):
        x = source.clone()
        x[0, masked] = -1 + 1.2 * torch.rand(k, generator=gen(seed + 10))  # any value ≤ 0.2: ξ_i x_i ≤ 0.2
        leading.append((footprint(source, x, "dot")[0, 0, : d - k], footprint(source, x, "dis")[0, 0, : d - k]))
    for dot, dis in leading[1:]:
        torch.testing.assert_close(dot, leading[0][0])
        torch.testing.assert_close(dis, leading[0][1])


def test_sorted_blocks_and_matrix_forms_agree_with_the_definition():
    m, q = torch.randn(13, 7, generator=gen(), dtype=torch.float64), torch.randn(5, 7, generator=gen(1), dtype=torch.float64)
    for sort in (True, False):
        for cumulative in (True, False):
            f = FootprintSimilarity(7, sort=sort, cumulative=cumulative, block_elements=7 * 4, dtype=torch.float64)
            with torch.no_grad():
                f.w["dis"].copy_(torch.randn(7, generator=gen(2), dtype=torch.float64))
                f.w["dot"].copy_(torch.randn(7, generator=gen(3), dtype=torch.float64))
                f.beta["dot"].fill_(0.5)
            want = 0
            for base in ("dis", "dot"):
                per = -(m[None] - q[:, None]).square() if base == "dis" else m[None] * q[:, None]
                if sort:
                    per = per.sort(dim=-1, descending=True).values
                if cumulative:
                    per = per.cumsum(dim=-1)
                want = want + f.beta[base] * (per @ f.w[base])
            torch.testing.assert_close(f(m, q), want)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("lead_m, lead_q, M, B, d", [((), (), 1, 1, 1), ((), (), 300, 1, 17), ((2,), (3, 1), 13, 5, 7),
                                                     ((), (), 70, 9, 100)])
def test_values_only_sort_equals_the_torch_sort_path(lead_m, lead_q, M, B, d, dtype):
    m = torch.randn(*lead_m, M, d, generator=gen(), dtype=dtype)
    q = torch.randn(*lead_q, B, d, generator=gen(1), dtype=dtype)
    f = FootprintSimilarity(d, dtype=dtype, block_elements=max(d, 4096))
    with torch.no_grad():
        f.w["dis"].copy_(torch.randn(d, generator=gen(2), dtype=dtype))
        f.w["dot"].copy_(torch.randn(d, generator=gen(3), dtype=dtype))
    for beta_dot in (0.0, 0.5):
        with torch.no_grad():
            f.beta["dot"].fill_(beta_dot)
            fast = f(m, q)                                   # NumPy's values-only sort; β_dot = 0 skipped
        torch.testing.assert_close(fast, f(m, q).detach())   # torch.sort, as the gradient needs
    with torch.no_grad():
        f.beta["dis"].fill_(0.0)
        f.beta["dot"].fill_(0.0)
        assert torch.equal(f(m, q), torch.zeros_like(fast))


def test_a_hop_beats_fixed_similarities_on_mixed_variants():
    d, m = 32, 40
    memories = torch.rand(m, d, generator=gen(7))
    of = corrupt.VariantDistribution.of
    variants = corrupt.VariantDistribution(memories, [of(corrupt.mask_pixels, fraction=0.5),
                                                      of(corrupt.gaussian_noise, sigma=0.3),
                                                      of(corrupt.shift, bias=0.6)])
    net = AdaptiveHopfield(memories)
    history = net.fit(variants, epochs=60, samples=512, batch_size=128, generator=gen(8), progress=False)
    assert history[-1] < history[0]
    source, queries = variants.sample(3000, generator=gen(9))
    with torch.no_grad():
        acc = {"a-hop": hopnb.metrics.source_accuracy(source, weights=net.weights(queries))}
        for name in ("dot", "euclidean"):
            acc[name] = hopnb.metrics.source_accuracy(
                source, weights=AssociativeMemory(memories, name, S.softmax(beta=10.0)).weights(queries))
    assert acc["a-hop"] > max(acc["dot"], acc["euclidean"]) + 0.05, acc


def test_a_hop_energy_and_training_errors():
    memories = torch.rand(5, 4, generator=gen())
    net = AdaptiveHopfield(memories)
    assert net.energy(memories).shape == (5,)
    with pytest.raises(ValueError, match="must draw from this network's memories"):
        net.fit(corrupt.VariantDistribution(torch.rand(5, 4), [corrupt.shift]), epochs=1)
    with pytest.raises(TypeError, match="VariantDistribution"):
        net.fit([memories], epochs=1)


def test_a_hop_fit_takes_any_sampler():
    # a plain object with sample(n, generator=...) trains A-Hop exactly as the distribution it wraps
    memories = torch.rand(12, 6, generator=gen(3))
    variants = corrupt.VariantDistribution(memories, [corrupt.VariantDistribution.of(corrupt.gaussian_noise, sigma=0.3)])

    class Sampler:
        def sample(self, n, *, generator=None):
            return variants.sample(n, generator=generator)

    nets = [AdaptiveHopfield(memories), AdaptiveHopfield(memories)]
    histories = [net.fit(v, epochs=3, samples=32, batch_size=16, generator=gen(4)) for net, v in zip(nets, (variants, Sampler()))]
    assert histories[0] == histories[1]
    torch.testing.assert_close(nets[0].weights(memories), nets[1].weights(memories), rtol=0, atol=0)

    class Broken:
        def sample(self, n, *, generator=None):
            return torch.arange(n), torch.rand(n, 5)        # queries of the wrong width

    with pytest.raises(ValueError, match=r"variants.sample\(n\) must be \(source \[n\] int64, queries \[n, 6\]\)"):
        AdaptiveHopfield(memories).fit(Broken(), epochs=1)


def test_a_hop_fit_on_a_fixed_training_set_with_validation_and_patience():
    memories = torch.rand(20, 8, generator=gen(), dtype=torch.float64)
    variants = corrupt.VariantDistribution(memories, [corrupt.VariantDistribution.of(corrupt.gaussian_noise, sigma=0.3)])
    train, held_out = variants.sample(100, generator=gen(1)), variants.sample(50, generator=gen(2))
    net = AdaptiveHopfield(memories)
    history = net.fit(train, epochs=6, batch_size=32, generator=gen(3), validation=held_out, progress=False)
    assert len(history) == 6 and len(net.validation_history) == 7   # the held-out loss at the start, then per epoch
    with torch.no_grad():
        start = F.cross_entropy(AdaptiveHopfield(memories).footprint(memories, held_out[1]), held_out[0]).item()
    assert net.validation_history[0] == pytest.approx(start, rel=1e-12)
    assert net.steps == 6 * 4                                     # an epoch is one pass: ceil(100 / 32) batches
    assert net.validation_history[-1] < net.validation_history[0]
    assert net.footprint.w["dis"].dtype == torch.float64
    # the same seed gives the same weights; patience stops early and keeps the best epoch
    again = AdaptiveHopfield(memories)
    again.fit(train, epochs=6, batch_size=32, generator=gen(3), progress=False)
    torch.testing.assert_close(again.footprint.w["dis"], net.footprint.w["dis"], rtol=0, atol=0)
    stopped = AdaptiveHopfield(memories)
    stopped.fit(train, epochs=200, lr=1.0, batch_size=32, generator=gen(3), validation=held_out, patience=2,
                progress=False)
    assert len(stopped.validation_history) < 201
    best = min(stopped.validation_history)
    with torch.no_grad():
        kept = F.cross_entropy(stopped.footprint(memories, held_out[1]), held_out[0]).item()
    assert kept == pytest.approx(best, rel=1e-12)


@pytest.mark.parametrize("pairs, error, message", [
    ((torch.zeros(3), torch.rand(3, 4)), ValueError, r"source \[n\] int64"),
    ((torch.zeros(3, dtype=torch.long), torch.rand(3, 5)), ValueError, r"queries \[n, 4\]"),
    ((torch.full((3,), 5), torch.rand(3, 4)), ValueError, r"must lie in \[0, 5\)"),
    ((torch.zeros(3, dtype=torch.long),), TypeError, "pair of tensors"),
], ids=["float source", "wrong d", "index out of range", "one tensor"])
def test_a_hop_fixed_training_set_errors(pairs, error, message):
    net = AdaptiveHopfield(torch.rand(5, 4, generator=gen()))
    with pytest.raises(error, match=message):
        net.fit(pairs, epochs=1, progress=False)
    with pytest.raises(ValueError, match="needs validation pairs"):
        net.fit((torch.zeros(3, dtype=torch.long), torch.rand(3, 4)), epochs=1, patience=2, progress=False)


# ----------------------------------------------------------------------------- gradients and layers


def test_gradcheck_kernel_footprint_and_layers():
    m = torch.randn(5, 4, generator=gen(), dtype=torch.float64, requires_grad=True)
    q = torch.randn(3, 4, generator=gen(1), dtype=torch.float64, requires_grad=True)
    kernel = KernelSimilarity(4, 6, generator=gen(2), dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda a, b: kernel(a, b), (m, q))
    assert torch.autograd.gradcheck(lambda w: F.linear(q, w) @ F.linear(m, w).T, (kernel.weight,))
    foot = FootprintSimilarity(4, dtype=torch.float64)
    with torch.no_grad():
        foot.beta["dot"].fill_(0.5)
    assert torch.autograd.gradcheck(lambda a, b: foot(a, b), (m, q))
    w = torch.randn(4, dtype=torch.float64, generator=gen(3), requires_grad=True)
    assert torch.autograd.gradcheck(lambda w: torch.func.functional_call(foot, {"w.dis": w}, (m, q)), (w,))
    states = torch.randn(2, 3, 4, generator=gen(4), dtype=torch.float64, requires_grad=True)
    stored = torch.randn(2, 5, 4, generator=gen(5), dtype=torch.float64, requires_grad=True)
    layer = Hopfield(separation=S.softmax(beta=0.7))
    assert torch.autograd.gradcheck(lambda s, k: layer(s, k), (states, stored))
    layer = Hopfield(KernelSimilarity(4, generator=gen(6), dtype=torch.float64), S.sparsemax(), steps=2)
    assert torch.autograd.gradcheck(lambda s, k: layer(s, k), (states, stored))


def test_layers_are_pure_retrieval_by_default_and_expose_weights():
    q, k, v = torch.randn(2, 3, 8, generator=gen()), torch.randn(2, 5, 8, generator=gen(1)), torch.randn(2, 5, 6, generator=gen(2))
    out, weights = Hopfield(separation=S.softmax(beta=8 ** -0.5))(q, k, v, return_weights=True)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v))
    assert weights.shape == (2, 3, 5)
    assert list(Hopfield().parameters()) == []
    assert len(list(Hopfield(normalize=8, projections=(8, 4)).parameters())) == 10
    assert HopfieldPooling(8, queries=2, separation="sparsemax")(k).shape == (2, 2, 8)
    foot_layer = HopfieldLayer(8, memories=7, d_out=3, similarity=FootprintSimilarity(8))
    assert foot_layer(q).shape == (2, 3, 3)
    with pytest.raises(ValueError, match=r"stored must have d=8 features; got \[2, 5, 6\]"):
        Hopfield()(q, v)
    with pytest.raises(ValueError, match=r"states must be a floating-point tensor \[N, n, d\]"):
        Hopfield()(q[0], k[0])
    with pytest.raises(ValueError, match="steps > 1 needs values of the states' size"):
        Hopfield(steps=2)(q, k, v)
