import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import hopnb
from hopnb import separation as S

scores_arrays = arrays("float64", st.tuples(st.integers(1, 4), st.integers(2, 12)),
                       elements=st.floats(-50, 50, allow_nan=False, width=64))


@given(scores_arrays, st.sampled_from([S.softmax(beta=0.3), S.softmax(beta=1e6), S.max(), S.sparsemax(),
                                       S.entmax(alpha=1.5), S.entmax(alpha=1.2, beta=2.0),
                                       S.polynomial(3, rectified=True, normalize=True)]))
def test_outputs_lie_on_the_simplex(scores, sep):
    s = torch.from_numpy(scores)
    w = sep(s)
    if isinstance(sep, S.Polynomial) and bool((sep.map(s).sum(dim=1) == 0).any()):
        return  # rows with no positive mass (or mass below the float range) have nothing to normalise
    assert w.shape == s.shape and bool(torch.isfinite(w).all())
    assert bool((w >= 0).all())
    torch.testing.assert_close(w.sum(dim=1), torch.ones(s.shape[0], dtype=s.dtype), atol=1e-5, rtol=0)


def margin(s):
    """Top score minus runner-up, per row."""
    top2 = s.topk(2, dim=1).values
    return top2[:, 0] - top2[:, 1]


@given(scores_arrays)
def test_sparsemax_is_one_hot_iff_margin_at_least_one(scores):
    s = torch.from_numpy(scores)
    gap = margin(s)
    w = S.sparsemax()(s)
    one_hot = (w == 1).any(dim=1)
    away = (gap - 1).abs() > 1e-9  # exactly at the boundary both answers are within rounding
    assert torch.equal(one_hot[away], (gap >= 1)[away])


@given(scores_arrays, st.sampled_from([1.25, 1.5, 2.0, 3.0]))
def test_entmax_one_hot_beyond_its_margin(scores, alpha):
    s = torch.from_numpy(scores)
    gap = margin(s)
    w = S.entmax(alpha=alpha)(s)
    clear = gap >= 1 / (alpha - 1) + 1e-6
    assert bool(torch.isclose(w[clear].amax(dim=1), torch.ones(1, dtype=w.dtype), atol=1e-6).all())
    inside = gap <= 0.9 / (alpha - 1)  # clearly inside: the runner-up keeps a visible weight
    assert bool((w[inside].amax(dim=1) < 1 - 1e-9).all())


@given(arrays("float64", st.tuples(st.integers(1, 4), st.integers(2, 10)),
              elements=st.floats(-5, 5, allow_nan=False), unique=True))
def test_softmax_tends_to_max_as_beta_grows(scores):
    s = torch.from_numpy(scores)
    gap = margin(s).min().item()
    hard = S.max()(s)
    errors = [(S.softmax(beta=b)(s) - hard).abs().max().item() for b in (1.0, 10.0, 100.0, 1e4)]
    assert all(b <= a + 1e-12 for a, b in zip(errors, errors[1:]))
    if gap > 1e-2:
        assert errors[-1] < 1e-6


def test_softmax_stays_finite_at_huge_beta_and_inputs():
    s = torch.tensor([[1e4, -1e4, 9999.0]])
    for sep in (S.softmax(beta=1e6), S.sparsemax(beta=1e6), S.entmax(beta=1e6)):
        w = sep(s)
        assert bool(torch.isfinite(w).all()) and w[0, 0].item() == 1.0


def test_polynomial_threshold_identity_values():
    s = torch.tensor([[2.0, -1.0, 0.5]])
    torch.testing.assert_close(S.polynomial(2)(s), torch.tensor([[4.0, 1.0, 0.25]]))
    torch.testing.assert_close(S.polynomial(2, rectified=True, normalize=True)(s), torch.tensor([[4 / 4.25, 0, 0.25 / 4.25]]))
    torch.testing.assert_close(S.threshold(0.5)(s), torch.tensor([[1.0, 0.0, 1.0]]))
    torch.testing.assert_close(S.identity()(s), s)


def test_get_by_name_and_unknown_names_listed():
    assert isinstance(S.get("softmax", beta=2.0), S.Softmax) and S.get("softmax", beta=2.0).beta == 2.0
    with pytest.raises(ValueError, match="unknown separation 'argmax'; known: identity, polynomial"):
        S.get("argmax")


@pytest.mark.parametrize("make, message", [
    (lambda: S.softmax(beta=0), "beta must be finite and > 0"),
    (lambda: S.softmax(beta=-1.0), "beta must be finite and > 0"),
    (lambda: S.softmax(beta=float("inf")), "beta must be finite"),
    (lambda: S.polynomial(0), "polynomial order n must be finite and ≥ 1"),
    (lambda: S.polynomial(2.5), "must be an integer unless rectified"),
    (lambda: S.entmax(alpha=1.0), "entmax alpha must be finite and > 1"),
    (lambda: S.entmax(alpha=0.5), "entmax alpha must be finite and > 1"),
    (lambda: S.softmax()(torch.ones(3)), r"takes scores \[B, M\]; got \[3\]"),
])
def test_bad_parameters_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("make", [lambda b: S.softmax(beta=b), lambda b: S.sparsemax(beta=b),
                                  lambda b: S.entmax(alpha=1.5, beta=b)])
def test_learnable_beta_is_a_positive_parameter(make):
    sep = make(torch.tensor(2.0, requires_grad=True))
    assert [name for name, _ in sep.named_parameters()][-1] == "log_beta"
    assert float(sep.beta.detach()) == pytest.approx(2.0)
    w = sep(torch.tensor([[0.3, 0.0]]))
    w[0, 0].backward()
    assert sep.log_beta.grad is not None and sep.log_beta.grad.item() > 0
    assert sep.double().log_beta.dtype == torch.float64 and isinstance(make(2.0).beta, float)
    with pytest.raises(ValueError, match="beta must be"):
        make(torch.tensor(-3.0, requires_grad=True))


def test_learnable_beta_and_alpha_are_trained_by_an_optimiser():
    torch.manual_seed(0)
    memories, queries = torch.randn(20, 6, dtype=torch.float64), torch.randn(8, 6, dtype=torch.float64)
    for sep in (S.softmax(beta=0.5, learnable=True), S.entmax(alpha=1.5, beta=0.5, learnable=True)):
        mem = hopnb.AssociativeMemory(memories, "dot", sep)
        before = {name: p.detach().clone() for name, p in mem.named_parameters()}
        assert set(before) == ({"separation.log_beta"} if isinstance(sep, S.Softmax)
                               else {"separation.log_alpha", "separation.log_beta"})
        optimiser = torch.optim.Adam(mem.parameters(), lr=0.1)
        for _ in range(3):
            optimiser.zero_grad()
            (mem(queries) - memories[:8]).square().sum().backward()
            optimiser.step()
        assert all(not torch.equal(before[name], p) for name, p in mem.named_parameters())
        assert sep.beta.item() > 0 and (not isinstance(sep, S.Entmax) or sep.alpha.item() > 1)


@pytest.mark.parametrize("alpha", [2.0, 1.5, 1.3])
def test_entmax_gradient_passes_gradcheck_and_torch_func(alpha):
    s = torch.randn(3, 7, generator=torch.Generator().manual_seed(0), dtype=torch.float64, requires_grad=True)
    sep = S.entmax(alpha=alpha, beta=0.8)
    assert torch.autograd.gradcheck(sep, (s,))
    first = torch.func.grad(lambda x: sep(x)[:, 0].sum())(s.detach())
    torch.testing.assert_close(first, torch.autograd.grad(sep(s)[:, 0].sum(), s)[0])


def test_star_imports_shadow_no_builtin():
    import builtins
    import importlib
    import pkgutil

    for info in pkgutil.walk_packages(hopnb.__path__, "hopnb."):
        module = importlib.import_module(info.name)
        names = getattr(module, "__all__", [n for n in dir(module) if not n.startswith("_")])
        assert not set(names) & set(dir(builtins)), info.name
    namespace = {}
    exec("from hopnb.separation import *", namespace)
    assert "max" not in namespace and S.max is S.Max  # still there by its attribute name


def test_names_classes_and_objects_build_the_same_separation():
    memories, queries = torch.rand(20, 5), torch.rand(3, 5)
    reference = hopnb.AssociativeMemory(memories, "dot", S.Softmax())(queries)
    for sep in ("softmax", S.softmax, S.Softmax, S.softmax(beta=1.0)):
        torch.testing.assert_close(hopnb.AssociativeMemory(memories, "dot", sep)(queries), reference)
        assert hopnb.nn.Hopfield(separation=sep)(queries[None], memories[None]).shape == (1, 3, 5)
    with pytest.raises(TypeError, match="separation Polynomial needs parameters"):
        hopnb.AssociativeMemory(memories, "dot", S.polynomial)


def test_modern_network_learns_its_beta_with_any_optimiser_over_its_parameters():
    torch.manual_seed(1)
    memories, queries = torch.randn(12, 5), torch.randn(4, 5)
    net = hopnb.models.ModernHopfield(memories, beta=0.2, learnable=True)
    assert [name for name, _ in net.named_parameters()] == ["separation.log_beta"]
    optimiser = torch.optim.SGD(net.parameters(), lr=0.5)
    losses = []
    for _ in range(10):
        optimiser.zero_grad()
        loss = (net(memories[:4] + 0.3 * queries) - memories[:4]).square().mean()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] and net.beta.item() > 0.2
    assert net.double().beta.dtype == torch.float64


@pytest.mark.parametrize("sep", [S.Softmax(2.0), S.Max(), S.Sparsemax(), S.Entmax(1.5, beta=3.0), S.Identity(),
                                 S.Polynomial(3), S.Polynomial(2, rectified=True), S.Threshold(-0.2)],
                         ids=lambda s: repr(s))
def test_a_masked_memory_adds_nothing_to_the_conjugate_and_its_gradient_stays_the_weights(sep):
    scores = torch.tensor([[1.0, -0.3, 0.5], [0.2, 0.9, -1.0]], dtype=torch.float64)
    masked = torch.tensor([[False, True, False], [True, False, False]])
    full = scores.masked_fill(masked, float("-inf")).requires_grad_()
    kept = [scores[row][~masked[row]][None] for row in range(2)]
    value = sep.conjugate(full)
    expected = torch.cat([sep.conjugate(k) for k in kept])
    torch.testing.assert_close(value, expected)
    (grad,) = torch.autograd.grad(value.sum(), full)
    torch.testing.assert_close(grad, sep(full.detach()))  # no score ties or sits at θ here


@pytest.mark.parametrize("n", [2, 3])
def test_normalised_polynomial_has_a_finite_gradient_at_a_zero_score(n):
    scores = torch.tensor([[1.0, 0.0, 2.0], [0.5, -1.0, 0.0]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(S.Polynomial(n, normalize=True), (scores,))
