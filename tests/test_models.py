import pytest
import torch

import hopnb
from hopnb.models import ClassicalHopfield, DenseAssociativeMemory, ModernHopfield, separation_margins


def binary(m, d, seed):
    return hopnb.data.random_patterns(m, d, generator=torch.Generator().manual_seed(seed))


def test_hebbian_weights_are_symmetric_with_zero_diagonal():
    p = binary(5, 30, 0)
    w = ClassicalHopfield(p).weights
    torch.testing.assert_close(w, w.T)
    assert bool((w.diagonal() == 0).all())
    torch.testing.assert_close(w, (p.T @ p / 30).fill_diagonal_(0))


@pytest.mark.parametrize("load, seed", [(0.05, 1), (0.10, 2), (0.138, 3), (0.20, 4)])
def test_asynchronous_dynamics_never_raise_the_energy(load, seed):
    d = 200
    p = binary(int(load * d), d, seed)
    net = ClassicalHopfield(p)
    start = hopnb.corrupt.mask_pixels(p, 0.2, generator=torch.Generator().manual_seed(seed), value=1.0)
    run = net.retrieve(start, generator=torch.Generator().manual_seed(seed), record_energy=True)
    assert bool((run.energies[1:] <= run.energies[:-1] + 1e-5).all())
    assert bool(run.converged.all()) and bool(net.is_fixed_point(run.state).all())


def test_classical_capacity_at_loads_0_10_and_0_20():
    d, overlaps = 500, {}
    for load in (0.10, 0.20):
        p = binary(int(load * d), d, seed=10)
        run = ClassicalHopfield(p).retrieve(p, generator=torch.Generator().manual_seed(0), steps=50)
        overlaps[load] = (run.state * p).mean(dim=1)
    assert overlaps[0.10].mean() >= 0.98
    assert overlaps[0.20].mean() <= 0.8  # past the retrieval cliff at ≈ 0.138


def test_synchronous_updates_can_two_cycle():
    # Two patterns whose sum and difference swap under a synchronous step.
    p = torch.tensor([[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, -1.0, -1.0]])
    net = ClassicalHopfield(p)
    x = torch.tensor([[1.0, -1.0, 1.0, -1.0]])
    y = net.step_sync(x)
    z = net.step_sync(y)
    assert not torch.equal(x, y) and torch.equal(x, z)
    run = net.retrieve(x, mode="sync", steps=10)
    assert not bool(run.converged.any()) and run.steps == 10


@pytest.mark.parametrize("interaction, n", [("polynomial", 2), ("polynomial", 3), ("rectified", 3),
                                            ("polynomial", 6), ("exponential", 0)])
def test_dam_energy_never_increases(interaction, n):
    d, m = 60, 120
    p = binary(m, d, 5)
    dam = DenseAssociativeMemory(p, interaction, n=max(n, 1), beta=0.5)
    start = hopnb.corrupt.mask_pixels(p[:20], 0.3, generator=torch.Generator().manual_seed(6), value=-1.0)
    run = dam.retrieve(start, generator=torch.Generator().manual_seed(7), record_energy=True, steps=30)
    scale = run.energies.abs().amax()
    assert bool((run.energies[1:] <= run.energies[:-1] + 1e-9 * scale).all())


def test_dam_stores_more_than_the_classical_network():
    d, m = 100, 60  # load 0.6: far beyond the classical capacity
    p = binary(m, d, 8)
    classical = ClassicalHopfield(p).is_fixed_point(p).float().mean()
    cubic = DenseAssociativeMemory(p, n=3).is_fixed_point(p).float().mean()
    many = binary(2000, d, 9)  # 20 d patterns
    exponential = DenseAssociativeMemory(many, "exponential").is_fixed_point(many[:100])
    assert classical < 0.1 and cubic == 1.0 and bool(exponential.all())


def test_dam_polynomial_of_order_two_is_the_classical_network():
    p = binary(15, 80, 11)
    start = hopnb.corrupt.mask_pixels(p, 0.3, generator=torch.Generator().manual_seed(1), value=1.0)
    dam = DenseAssociativeMemory(p, n=2).retrieve(start, generator=torch.Generator().manual_seed(2))
    classical = ClassicalHopfield(p).retrieve(start, generator=torch.Generator().manual_seed(2))
    assert torch.equal(dam.state, classical.state)


def test_modern_hopfield_one_step_retrieval_of_separated_patterns():
    g = torch.Generator().manual_seed(12)
    memories = torch.randn(100, 64, generator=g)
    assert separation_margins(memories).min() > 10  # well separated at this d
    net = ModernHopfield(memories, beta=1.0)
    noisy = memories + 0.3 * torch.randn(100, 64, generator=g)
    torch.testing.assert_close(net(noisy), memories, atol=1e-3, rtol=0)


def test_separation_margins_match_the_definition():
    x = torch.tensor([[1.0, 0.0], [0.8, 0.6], [0.0, 2.0]])
    gram = x @ x.T
    expected = torch.tensor([1 - 0.8, 1 - 1.2, 4 - 1.2])
    torch.testing.assert_close(separation_margins(x), expected)
    torch.testing.assert_close(separation_margins(x)[0], gram[0, 0] - gram[0, 1])


@pytest.mark.parametrize("call, message", [
    (lambda: ClassicalHopfield(torch.rand(3, 4)), "must hold only ±1 entries"),
    (lambda: DenseAssociativeMemory(binary(3, 4, 0), "cubic"), "interaction must be one of"),
    (lambda: DenseAssociativeMemory(binary(3, 4, 0), n=0), "polynomial order n must be finite and ≥ 1"),
    (lambda: DenseAssociativeMemory(binary(3, 4, 0), "exponential", beta=0.0), "beta must be finite and > 0"),
    (lambda: ClassicalHopfield(binary(3, 4, 0)).retrieve(binary(1, 5, 0)), r"states must be \[B, d\] with d=4"),
    (lambda: ClassicalHopfield(binary(3, 4, 0)).retrieve(binary(1, 4, 0), mode="parallel"), "mode must be"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_dam_has_no_synchronous_mode():
    with pytest.raises(NotImplementedError, match="no synchronous update"):
        DenseAssociativeMemory(binary(3, 4, 0)).retrieve(binary(1, 4, 0), mode="sync")


@pytest.mark.parametrize("make, start", [
    (lambda p: ClassicalHopfield(p), "binary"),
    (lambda p: DenseAssociativeMemory(p, n=3), "binary"),
    (lambda p: hopnb.AssociativeMemory(p, separation=hopnb.separation.Softmax(beta=0.5)), "real"),
    (lambda p: hopnb.models.UHop(p, generator=torch.Generator().manual_seed(3)), "real"),
])
def test_every_model_has_one_dynamics_verb_and_result(make, start):
    # forward is one update; retrieve iterates it and returns a Retrieval whose records agree with energy()
    p = binary(6, 32, 12)
    net = make(p)
    x = hopnb.corrupt.mask_pixels(p, 0.25, generator=torch.Generator().manual_seed(4), value=1.0)
    if start == "real":
        x = x + 0.1 * torch.randn(x.shape, generator=torch.Generator().manual_seed(5))
    options = {"generator": torch.Generator().manual_seed(6)} if start == "binary" else {}
    run = net.retrieve(x, 5, record=True, record_energy=True, **options)
    assert isinstance(run, hopnb.Retrieval) and 1 <= run.steps <= 5
    assert run.trajectory.shape == (run.steps + 1, *x.shape) and run.energies.shape == (run.steps + 1, len(x))
    torch.testing.assert_close(run.trajectory[0], x)
    torch.testing.assert_close(run.trajectory[-1], run.state)
    for state, energy in zip(run.trajectory, run.energies):
        torch.testing.assert_close(net.energy(state), energy)
    assert torch.equal(net(x, **({"generator": torch.Generator().manual_seed(6)} if start == "binary" else {})),
                       run.trajectory[1])
    assert torch.equal(net.memories, p)


@pytest.mark.parametrize("d, beta", [(8, 100.0), (100, 10.0), (800, 1.0), (2000, 0.5)])
def test_exponential_dam_decides_like_the_log_sum_exp_where_e_to_the_beta_d_underflows(d, beta):
    # beta * d beyond 745: e^{beta (b - d)} underflows in float64, yet every decision and the energy descent hold
    lone = DenseAssociativeMemory(-torch.ones(1, d), "exponential", beta=beta)
    run = lone.retrieve(torch.ones(1, d), generator=torch.Generator().manual_seed(0), record_energy=True)
    assert bool((run.state == -1).all()) and run.energies[-1].item() == -d
    p = binary(20, d, 13)
    start = hopnb.corrupt.mask_pixels(p[:4], 0.3, generator=torch.Generator().manual_seed(14), value=1.0)
    net = DenseAssociativeMemory(p, "exponential", beta=beta)
    run = net.retrieve(start, generator=torch.Generator().manual_seed(15), record_energy=True)
    assert bool((run.energies[1:] <= run.energies[:-1]).all())
    x, xi = run.state.double(), p.double()
    for unit in range(0, d, max(1, d // 50)):              # the brute-force decision of every probed unit
        up, down = x.clone(), x.clone()
        up[:, unit], down[:, unit] = 1.0, -1.0
        gain = torch.logsumexp(beta * up @ xi.T, dim=1) - torch.logsumexp(beta * down @ xi.T, dim=1)
        clear = gain.abs() > 1e-9                          # a smaller gain is below the reference's own rounding
        assert torch.equal(torch.where(gain >= 0, 1.0, -1.0)[clear], x[clear, unit]), unit


@pytest.mark.parametrize("rule", ["hebb", "pseudo-inverse", "storkey"])
def test_symmetric_rules_have_zero_diagonal_and_an_energy_that_sweeps_never_raise(rule):
    p = binary(12, 40, 0)
    net = ClassicalHopfield(p, rule)
    torch.testing.assert_close(net.weights, net.weights.T)
    assert bool((net.weights.diagonal() == 0).all())
    run = net.retrieve(torch.where(torch.rand(p.shape, generator=torch.Generator().manual_seed(1)) < 0.2, -p, p),
                       generator=torch.Generator().manual_seed(2), record_energy=True)
    assert bool((run.energies.diff(dim=0) <= 1e-9).all())


def test_projection_rule_keeps_every_pattern_below_d_and_nothing_at_d():
    for m in (5, 30, 59):
        p = binary(m, 60, m)
        assert bool(ClassicalHopfield(p, "pseudo-inverse").is_fixed_point(p).all())
    p = binary(60, 60, 0)
    assert bool((ClassicalHopfield(p, "pseudo-inverse").weights == 0).all())    # the identity, minus its diagonal


def test_storkey_rule_matches_its_definition_term_by_term():
    p = binary(4, 6, 3).double()
    d = p.shape[1]
    w = torch.zeros(d, d, dtype=torch.float64)
    for xi in p:
        new = w.clone()
        for i in range(d):
            for j in range(d):
                if i != j:
                    h_ij = sum(w[i, k] * xi[k] for k in range(d) if k not in (i, j))
                    h_ji = sum(w[j, k] * xi[k] for k in range(d) if k not in (i, j))
                    new[i, j] = w[i, j] + (xi[i] * xi[j] - xi[i] * h_ji - h_ij * xi[j]) / d
        w = new
    torch.testing.assert_close(ClassicalHopfield(p, "storkey").weights, w)


@pytest.mark.parametrize("margin", [0.0, 1.0])
def test_perceptron_rule_reaches_its_margin_in_integer_couplings(margin):
    p = binary(10, 50, 4)                                              # α = 0.2, well below α_c(1) ≈ 0.52
    net = ClassicalHopfield(p, "perceptron", margin=margin)
    j = net.couplings.T                                                  # rows J_i = d w_i
    assert net.epochs < 1000 and bool((j == j.round()).all()) and bool((j.diagonal() == 0).all())
    stability = p.double() * (p.double() @ j.T) / j.norm(dim=1)
    assert bool((stability > margin).all()) and bool(net.is_fixed_point(p).all())
    with pytest.raises(NotImplementedError, match="not symmetric"):
        net.energy(p)


def test_perceptron_rule_stores_beyond_the_projection_rule_and_says_when_it_did_not():
    p = binary(70, 50, 5)                                      # α = 1.4
    net = ClassicalHopfield(p, "perceptron", epochs=5000)
    assert net.converged and bool(net.is_fixed_point(p).all())
    short = ClassicalHopfield(p, "perceptron", epochs=3)
    assert not short.converged and short.epochs == 3
    assert not bool(ClassicalHopfield(p, "pseudo-inverse").is_fixed_point(p).any())


def test_glauber_dynamics_sample_the_boltzmann_distribution():
    p = torch.tensor([[1.0, -1.0, 1.0, 1.0], [1.0, 1.0, -1.0, 1.0]])
    net, T = ClassicalHopfield(p), 0.5
    g = torch.Generator().manual_seed(0)
    states = torch.where(torch.rand(20000, 4, generator=g) < 0.5, 1.0, -1.0)
    final = net.retrieve(states, steps=30, generator=g, temperature=T).state
    codes = ((final + 1) / 2 @ torch.tensor([8.0, 4.0, 2.0, 1.0])).long()
    empirical = torch.bincount(codes, minlength=16).double() / len(codes)
    every = torch.tensor([[1.0 if (c >> (3 - i)) & 1 else -1.0 for i in range(4)] for c in range(16)])
    boltzmann = torch.softmax(-net.energy(every) / T, dim=0)
    assert (empirical - boltzmann).abs().max() < 0.01                  # 20000 samples: standard error ≤ 0.0035


def test_glauber_dynamics_follow_the_generator_and_tend_to_the_sign_as_t_falls():
    p = binary(3, 30, 0)
    x = torch.where(torch.rand(p.shape, generator=torch.Generator().manual_seed(1)) < 0.1, -p, p)
    net = ClassicalHopfield(p)
    a, b = (net(x, generator=torch.Generator().manual_seed(2), temperature=0.7) for _ in range(2))
    assert torch.equal(a, b)
    cold = net(x, generator=torch.Generator().manual_seed(3), temperature=1e-6)
    assert torch.equal(cold, net(x, generator=torch.Generator().manual_seed(3)))
