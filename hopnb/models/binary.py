"""Binary attractor networks: the classical Hopfield network and dense associative memories.

Defined in :doc:`/book/ch01_classical_hopfield`, Eq. :eq:`eq-ch01-update`.

States are ±1 vectors, rows of ``states [B, d]``; every update is batched over the B
states. An asynchronous sweep visits the d units once each, in an order drawn from a
seeded generator, and sets each to the sign that lowers the energy (sgn(0) = +1).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .._validate import check_bool, check_int, check_like, check_patterns, check_positive, check_result
from ..memory import Retrieval
from ..runtime import generator_device

__all__ = ["BinaryNetwork", "ClassicalHopfield", "DenseAssociativeMemory"]


def _check_binary(x: torch.Tensor, name: str) -> torch.Tensor:
    check_patterns(x, name)
    if not bool(((x == 1) | (x == -1)).all()):
        raise ValueError(f"{name} must hold only ±1 entries (binary patterns); got values in "
                         f"[{x.min().item():g}, {x.max().item():g}]. Map {{0, 1}} data with 2 * x - 1.")
    return x


def _sign(x: torch.Tensor) -> torch.Tensor:
    """sgn with sgn(0) = +1."""
    return torch.where(x >= 0, 1.0, -1.0).to(x.dtype)


class BinaryNetwork(nn.Module):
    """Shared dynamics of the binary networks; subclasses give ``energy`` and ``_sweep``.

    Defined in :doc:`/book/ch01_classical_hopfield`, Eq. :eq:`eq-ch01-update`.

    The verbs are those of :class:`~hopnb.AssociativeMemory`: calling the network is one
    update (an asynchronous sweep), :meth:`retrieve` iterates it and returns a
    :class:`~hopnb.Retrieval`.

    >>> net = ClassicalHopfield(torch.tensor([[1.0, -1.0, 1.0, -1.0]]))
    >>> net(torch.tensor([[1.0, 1.0, 1.0, -1.0]]), generator=torch.Generator().manual_seed(0))
    tensor([[ 1., -1.,  1., -1.]])
    """

    memories: torch.Tensor

    def _name(self) -> str:
        rule = getattr(self, "rule", None)
        return type(self).__name__ + (f"(rule={rule!r})" if rule not in (None, "hebb") else "")

    def _check_states(self, states) -> torch.Tensor:
        _check_binary(states, "states")
        check_like(states, self.memories, "states", "memories")
        return states

    def energy(self, states: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        """The energy ``[B]`` of states ``[B, d]``, which no asynchronous update raises.

        >>> dam = DenseAssociativeMemory(torch.tensor([[1.0, 1.0, -1.0]]), n=2)
        >>> dam.energy(torch.tensor([[1.0, 1.0, -1.0], [1.0, -1.0, 1.0]])).tolist()
        [-9.0, -1.0]
        """
        raise NotImplementedError

    def _sweep(self, states: torch.Tensor, order: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def step_async(self, states: torch.Tensor, *, generator: torch.Generator | None = None,
                   temperature: float = 0.0) -> torch.Tensor:
        """One asynchronous sweep: every unit once, in a random order drawn from ``generator``.

        At ``temperature`` T > 0 (the classical network only) each unit is set stochastically
        (Glauber dynamics), ``+1`` with probability ``1 / (1 + exp(−2 h_i / T))``, ``h_i`` its
        field: the energy is then lowered only on average, and the states sample the Boltzmann
        distribution ``∝ exp(−E(x) / T)`` (chapter 1, "Temperature").

        >>> net = ClassicalHopfield(torch.tensor([[1.0, -1.0, 1.0]]))
        >>> net.step_async(torch.tensor([[1.0, 1.0, 1.0]]), generator=torch.Generator().manual_seed(0))
        tensor([[ 1., -1.,  1.]])
        """
        self._check_states(states)
        temperature = check_positive(temperature, "temperature", strict=False)
        order = torch.randperm(states.shape[1], generator=generator, device=generator_device(generator, "cpu")).tolist()
        if temperature == 0:
            return self._sweep(states.clone(), order)
        if not isinstance(self, ClassicalHopfield) or self.rule == "perceptron":
            raise NotImplementedError(f"{self._name()} has no stochastic update (no symmetric couplings, so no "
                                      f"Boltzmann distribution to sample); temperature must be 0")
        return self._sweep(states.clone(), order, temperature=temperature, generator=generator)

    def forward(self, states: torch.Tensor, *, generator: torch.Generator | None = None,
                temperature: float = 0.0) -> torch.Tensor:
        """One update, ``states [B, d] -> [B, d]``: an asynchronous sweep (:meth:`step_async`),
        which never raises the energy.

        >>> dam = DenseAssociativeMemory(torch.tensor([[1.0, 1.0, -1.0, 1.0]]), n=3)
        >>> dam(torch.tensor([[1.0, -1.0, -1.0, 1.0]]), generator=torch.Generator().manual_seed(0))
        tensor([[ 1.,  1., -1.,  1.]])
        """
        return self.step_async(states, generator=generator, temperature=temperature)

    def step_sync(self, states: torch.Tensor) -> torch.Tensor:
        """All units at once, where the network has such an update (the classical one does).

        >>> ClassicalHopfield(torch.tensor([[1.0, 1.0]])).step_sync(torch.tensor([[1.0, 1.0]]))
        tensor([[1., 1.]])
        """
        raise NotImplementedError(f"{type(self).__name__} has no synchronous update; use mode='async'")

    def is_fixed_point(self, states: torch.Tensor) -> torch.Tensor:
        """``[B]`` bools: no single unit of the state would change under an asynchronous update.

        >>> net = ClassicalHopfield(torch.tensor([[1.0, -1.0, 1.0]]))
        >>> net.is_fixed_point(torch.tensor([[1.0, -1.0, 1.0], [1.0, 1.0, 1.0]])).tolist()
        [True, False]
        """
        self._check_states(states)
        return (self._sweep(states.clone(), range(states.shape[1]), frozen=True) == states).all(dim=1)

    def retrieve(self, states: torch.Tensor, steps: int = 100, *, mode: str = "async",
                 generator: torch.Generator | None = None, record: bool = False,
                 record_energy: bool = False, temperature: float = 0.0) -> Retrieval:
        """Update until nothing changes or ``steps`` sweeps have run (at ``temperature`` T > 0,
        see :meth:`step_async`, all ``steps`` sweeps run: a stochastic state never settles).

        ``mode="async"`` (sweeps of single-unit updates, which never raise the energy) or
        ``"sync"`` (all units at once, which can end in a 2-cycle). Returns a
        :class:`~hopnb.Retrieval`: the final ``state``, the number of sweeps run as ``steps``,
        ``converged [B]`` (the last sweep changed nothing), with ``record`` the
        ``trajectory [steps + 1, B, d]`` and with ``record_energy`` the
        ``energies [steps + 1, B]`` (the initial state first).

        >>> net = ClassicalHopfield(torch.tensor([[1.0, -1.0, 1.0, -1.0, 1.0, -1.0]]))
        >>> r = net.retrieve(torch.tensor([[1.0, 1.0, 1.0, -1.0, 1.0, -1.0]]), generator=torch.Generator().manual_seed(0),
        ...                  record_energy=True)
        >>> r.state.tolist(), r.steps, r.converged.tolist(), [round(e, 3) for e in r.energies[:, 0].tolist()]
        ([[1.0, -1.0, 1.0, -1.0, 1.0, -1.0]], 2, [True], [-0.833, -2.5, -2.5])
        """
        if mode not in ("async", "sync"):
            raise ValueError(f"mode must be 'async' or 'sync'; got {mode!r}")
        steps = check_int(steps, "steps")
        temperature = check_positive(temperature, "temperature", strict=False)
        if temperature > 0 and mode != "async":
            raise ValueError("temperature > 0 needs mode='async' (Glauber dynamics update one unit at a time)")
        check_bool(record, "record"), check_bool(record_energy, "record_energy")
        generator_device(generator, "cpu")  # a TypeError for anything but a torch.Generator or None
        state = self._check_states(states)
        trajectory = [state] if record else None
        energies = [self.energy(state)] if record_energy else None
        converged = torch.zeros(state.shape[0], dtype=torch.bool, device=state.device)
        done = 0
        for done in range(1, steps + 1):
            new = (self.step_async(state, generator=generator, temperature=temperature) if mode == "async"
                   else self.step_sync(state))
            converged = (new == state).all(dim=1)
            state = new
            if record:
                trajectory.append(state)
            if record_energy:
                energies.append(self.energy(state))
            if temperature == 0 and bool(converged.all()):
                break
        return Retrieval(state, done, converged, torch.stack(trajectory) if record else None,
                         torch.stack(energies) if record_energy else None)


class ClassicalHopfield(BinaryNetwork):
    """The classical Hopfield network (Hopfield 1982; chapter 1), with a choice of storage rule.

    Defined in :doc:`/book/ch01_classical_hopfield`, Eqs. :eq:`eq-ch01-hebb`, :eq:`eq-ch01-update` and :eq:`eq-ch01-energy`.

    Energy ``E(x) = −½ xᵀ W x`` (eq. (1.3)), updates ``x_i ← sgn(Σ_j W_ij x_j)`` with sgn(0) = +1;
    every rule gives couplings with zero diagonal. ``rule`` picks them (chapter 1, "Beyond Hebb"):

    * ``"hebb"``: ``W = (1/d) Σ_μ ξ_μ ξ_μᵀ − (M/d) I`` (eq. (1.1));
    * ``"pseudo-inverse"``: the projection onto the patterns' span, ``W = Ξ⁺ Ξ`` (``Ξ⁺`` the
      Moore–Penrose pseudo-inverse; ``= Ξᵀ (Ξ Ξᵀ)⁻¹ Ξ`` while the patterns are independent), diagonal
      removed (Personnaz, Guyon & Dreyfus 1985; Kanter & Sompolinsky 1987): each pattern's field is
      ``(1 − W_ii) ξ_i``, so every pattern is a fixed point while ``M < d``;
    * ``"storkey"``: Storkey's (1997) incremental rule, pattern by pattern,
      ``W ← W + (1/d)(ξξᵀ − ξ hᵀ − h ξᵀ + 2W)`` off the diagonal with ``h = W ξ``, local and
      incremental like Hebb's but with corrections for what is already stored;
    * ``"perceptron"``: each unit's row learned by the (batch) perceptron rule until every
      stability ``ξ_i^μ h_i^μ / ‖w_i‖`` exceeds ``margin`` (Gardner 1988), or ``epochs`` passes; the
      rows start from Hebb's. At ``margin = 0`` it can store up to ``M = 2d`` random patterns as
      ``d → ∞``, the Gardner bound. ``converged`` says whether every stability passed the margin within
      ``epochs`` (near capacity, and with a margin, the rule needs many passes). The couplings
      are not symmetric, so there is no energy, no temperature, and the asynchronous dynamics
      need not converge.

    Hebb's dynamics use the integer couplings ``J = d W`` (the Hebbian sums), whose fields
    ``J x`` are integers computed exactly, in float32 while ``M d < 2²⁴`` and in float64
    beyond. So a field that is exactly 0 is 0 on every machine and the tie rule decides
    it, not the rounding of the BLAS kernel at hand: trajectories are the same on any CPU.
    The other rules' couplings are real numbers, kept in float64.

    >>> net = ClassicalHopfield(torch.tensor([[1.0, -1.0, 1.0, -1.0]]))
    >>> net.is_fixed_point(net.memories).tolist()
    [True]
    >>> xi = torch.tensor([[-1.0, -1, 1, 1, -1], [1, -1, -1, -1, -1], [-1, 1, -1, 1, -1]])
    >>> [ClassicalHopfield(xi, rule).is_fixed_point(xi).tolist() for rule in ("hebb", "pseudo-inverse")]
    [[False, False, False], [True, True, True]]
    """

    RULES = ("hebb", "pseudo-inverse", "storkey", "perceptron")

    def __init__(self, memories: torch.Tensor, rule: str = "hebb", *, margin: float = 0.0, epochs: int = 1000):
        super().__init__()
        _check_binary(memories, "memories")
        if rule not in self.RULES:
            raise ValueError(f"rule must be one of {', '.join(self.RULES)}; got {rule!r}")
        margin = check_positive(margin, "margin", strict=False)
        epochs = check_int(epochs, "epochs")
        if rule != "perceptron" and (margin != 0 or epochs != 1000):
            raise ValueError(f"margin and epochs are options of rule='perceptron'; got them with rule={rule!r}")
        m, d = memories.shape
        self.rule = rule
        self.epochs = 0          # perceptron passes taken
        self.converged = True    # perceptron: every stability above the margin within the epochs
        if rule == "hebb":
            exact = memories.dtype if m * d < 2**24 and memories.dtype != torch.float16 else torch.float64
            couplings = memories.T.to(exact) @ memories.to(exact)
            couplings.fill_diagonal_(0.0)
        elif rule == "perceptron":
            couplings = self._perceptron(memories.double(), margin, epochs).T   # fields d h = x Jᵀ
        else:
            couplings = d * {"pseudo-inverse": _projection, "storkey": _storkey}[rule](memories.double())
        self.register_buffer("memories", memories.clone())      # a copy: the couplings are computed from it
        self.register_buffer("couplings", couplings)
        self.register_buffer("weights", (couplings.T / d).to(memories.dtype))

    def extra_repr(self):
        return f"M={self.memories.shape[0]}, d={self.memories.shape[1]}, rule={self.rule}"

    def _perceptron(self, xi: torch.Tensor, margin: float, epochs: int) -> torch.Tensor:
        """Integer rows ``J_i = d w_i`` with ``ξ_i^μ (J_i · ξ^μ) > margin ‖J_i‖`` for every μ
        (``J_ii = 0``): each pass adds ``ξ_i^μ ξ^μ`` to row i for every pattern μ it does not yet
        store so (all units and patterns at once), starting from zero, whose first pass is Hebb's
        rule. The rows stay integers, so a stability of exactly 0 is 0 and counts as unstored."""
        d = xi.shape[1]
        j = torch.zeros(d, d, dtype=xi.dtype, device=xi.device)
        for self.epochs in range(1, epochs + 2):
            unstable = (xi * (xi @ j.T) <= margin * j.norm(dim=1)).to(xi.dtype)    # [M, d]: pattern μ, unit i
            self.converged = not bool(unstable.any())
            if self.converged or self.epochs > epochs:
                self.epochs -= 1
                break
            j += (unstable * xi).T @ xi
            j.fill_diagonal_(0.0)
        return j

    def _exact_field(self, states: torch.Tensor) -> torch.Tensor:
        return states.to(self.couplings.dtype) @ self.couplings  # d · W xᵀ, row by row

    def field(self, states: torch.Tensor) -> torch.Tensor:
        """Local fields ``h = W x`` of every unit, ``[B, d]``.

        >>> ClassicalHopfield(torch.tensor([[1.0, -1.0, 1.0]])).field(torch.tensor([[1.0, -1.0, 1.0]]))
        tensor([[ 0.6667, -0.6667,  0.6667]])
        """
        self._check_states(states)
        return (self._exact_field(states) / self.memories.shape[1]).to(states.dtype)

    def energy(self, states: torch.Tensor) -> torch.Tensor:
        """``E(x) = −½ xᵀ W x`` for each row, ``[B]``, in float64 (chapter 1, eq. (1.3)); the
        integer ``xᵀ J x`` is summed exactly, so equal energies compare equal on any machine.

        >>> net = ClassicalHopfield(torch.tensor([[1.0, -1.0, 1.0]]))
        >>> net.energy(torch.tensor([[1.0, -1.0, 1.0], [1.0, 1.0, 1.0]])).tolist()
        [-1.0, 0.3333333333333333]
        """
        if self.rule == "perceptron":
            raise NotImplementedError("the perceptron rule's couplings are not symmetric, so the network has "
                                      "no energy that its updates lower")
        self._check_states(states)
        quadratic = (self._exact_field(states).double() * states.double()).sum(dim=1)
        return -0.5 * quadratic / self.memories.shape[1]

    def step_sync(self, states: torch.Tensor) -> torch.Tensor:
        """All units at once: ``x ← sgn(W x)`` (may 2-cycle).

        >>> net = ClassicalHopfield(torch.tensor([[1.0, 1.0]]))
        >>> net.step_sync(torch.tensor([[1.0, -1.0]]))
        tensor([[-1.,  1.]])
        """
        self._check_states(states)
        return _sign(self._exact_field(states)).to(states.dtype)

    def _sweep(self, states, order, frozen=False, temperature=0.0, generator=None):
        out = states.clone() if frozen else states
        couplings, d = self.couplings, self.memories.shape[1]
        if temperature > 0:
            where = generator_device(generator, states.device)
            draws = torch.rand(len(order), states.shape[0], generator=generator, device=where,
                               dtype=torch.float64).to(states.device)
        for step, i in enumerate(order):
            field = states.to(couplings.dtype) @ couplings[:, i]
            if temperature > 0:      # Glauber: P(x_i = +1) = 1 / (1 + exp(−2 h_i / T))
                up = draws[step] < torch.sigmoid(2 * field.double() / (d * temperature))
                out[:, i] = torch.where(up, 1.0, -1.0).to(states.dtype)
            else:
                out[:, i] = _sign(field).to(states.dtype)
        return out


def _projection(xi: torch.Tensor) -> torch.Tensor:
    """``Ξᵀ (Ξ Ξᵀ)⁺ Ξ``, the orthogonal projection onto the patterns' span, diagonal removed. Patterns
    that span every direction give the identity, whose off-diagonal part is exactly 0 (not the
    rounding of a pseudo-inverse, which would leave the dynamics to the BLAS kernel at hand)."""
    d = xi.shape[1]
    if int(torch.linalg.matrix_rank(xi)) == d:
        return torch.zeros(d, d, dtype=xi.dtype, device=xi.device)
    w = xi.T @ torch.linalg.pinv(xi.T)
    return w.fill_diagonal_(0.0)


def _storkey(xi: torch.Tensor) -> torch.Tensor:
    """Storkey's (1997) rule, one pattern after another: ``w_ij += (ξ_i ξ_j − ξ_i h_ji − h_ij ξ_j) / d``
    with ``h_ij = Σ_{k≠i,j} w_ik ξ_k``; on a symmetric W with zero diagonal that is
    ``(ξξᵀ − ξhᵀ − hξᵀ + 2W) / d`` off the diagonal, ``h = W ξ``. Incremental by definition, so a loop
    over the patterns (each step one ``[d, d]`` update)."""
    d = xi.shape[1]
    w = torch.zeros(d, d, dtype=xi.dtype, device=xi.device)
    for p in xi:
        h = w @ p
        w += (torch.outer(p, p) - torch.outer(p, h) - torch.outer(h, p) + 2 * w) / d
        w.fill_diagonal_(0.0)
    return w


class DenseAssociativeMemory(BinaryNetwork):
    """Dense associative memory (Krotov & Hopfield 2016; Demircigil et al. 2017; chapter 2).

    Defined in :doc:`/book/ch02_dense_associative_memory`, Eqs. :eq:`eq-ch02-energy` and :eq:`eq-ch02-update`.

    Energy ``E(x) = −Σ_μ F(ξ_μᵀ x)`` (chapter 2, eq. (2.1)) with the interaction function ``F``:
    ``"polynomial"`` ``F(z) = zⁿ``, ``"rectified"`` ``F(z) = max(z, 0)ⁿ``, or
    ``"exponential"`` ``F(z) = exp(β z)``, whose energy :meth:`energy` returns in the log domain,
    ``−β⁻¹ log Σ_μ exp(β ξ_μᵀ x)`` (finite at any d; a monotone map of ``−Σ_μ exp(β ξ_μᵀ x)``,
    so the same updates lower both). Unit ``l`` takes the sign that gives the
    lower energy (eq. (2.3)):
    ``x_l ← sgn(Σ_μ F(ξ_μᵀ x^{(l+)}) − F(ξ_μᵀ x^{(l−)}))``, where ``x^{(l±)}`` is x with
    unit l set to ±1. The overlaps are integers and each decision is exact: polynomials
    are summed as float64 integers while they fit (beyond, scaled row by row so that the
    largest term is of order 1), and the exponential compares integer counts of overlaps
    (see :meth:`_gain`), so a tie is a tie on every machine and sgn(0) = +1 decides it;
    :meth:`energy` is returned in float64.

    >>> dam = DenseAssociativeMemory(torch.tensor([[1.0, 1.0, -1.0], [1.0, -1.0, 1.0]]), n=3)
    >>> dam.is_fixed_point(dam.memories).tolist()
    [True, True]
    """

    INTERACTIONS = ("polynomial", "rectified", "exponential")

    def __init__(self, memories: torch.Tensor, interaction: str = "polynomial", n: int = 3, beta: float = 1.0):
        super().__init__()
        _check_binary(memories, "memories")
        if interaction not in self.INTERACTIONS:
            raise ValueError(f"interaction must be one of {', '.join(self.INTERACTIONS)}; got {interaction!r}")
        if interaction != "exponential":
            check_positive(n, "polynomial order n", minimum=1.0, strict=False)
            if n != int(n):
                raise ValueError(f"polynomial order n must be an integer; got {n}")
        self.interaction, self.beta = interaction, check_positive(beta, "beta")
        self.n = None if interaction == "exponential" else int(n)     # the exponential has no order
        self.register_buffer("memories", memories)

    def extra_repr(self):
        param = f"beta={self.beta:g}" if self.interaction == "exponential" else f"n={self.n}"
        return f"M={self.memories.shape[0]}, d={self.memories.shape[1]}, interaction={self.interaction}, {param}"

    def _F_scaled(self, overlaps: torch.Tensor) -> torch.Tensor:
        z = overlaps / self.memories.shape[1]
        return (z.clamp_min(0) if self.interaction == "rectified" else z).pow(self.n)

    def energy(self, states: torch.Tensor) -> torch.Tensor:
        """``E(x) = −Σ_μ F(ξ_μᵀ x)`` for each row, ``[B]``, in float64 (chapter 2, eq. (2.1)); for the
        exponential interaction ``−β⁻¹ log Σ_μ exp(β ξ_μᵀ x)``, the log domain of ``−Σ_μ exp(β ξ_μᵀ x)``.

        >>> dam = DenseAssociativeMemory(torch.ones(1, 2000), "exponential")
        >>> dam.energy(torch.ones(1, 2000)).item()
        -2000.0
        """
        if self.interaction == "exponential":
            return -self.log_neg_energy(states) / self.beta
        self._check_states(states)
        overlaps = (states @ self.memories.T).double()
        d = self.memories.shape[1]
        hint = (f"d^n = {d}^{self.n} overflows float64; compare the energies divided by d^n, "
                f"−Σ_μ F(ξ_μᵀx / d), or use a smaller n")
        try:
            factor = float(d) ** self.n
        except OverflowError:
            raise ValueError(f"the energy cannot be represented: {hint}") from None
        return check_result(-self._F_scaled(overlaps).sum(dim=1) * factor, "the energy", hint)

    def log_neg_energy(self, states: torch.Tensor) -> torch.Tensor:
        """``log Σ_μ exp(β ξ_μᵀ x)`` for the exponential interaction, ``[B]``, in float64: the logarithm of
        minus Krotov and Hopfield's ``−Σ_μ exp(β ξ_μᵀ x)``, ``−β`` times :meth:`energy` (a lower energy
        is a larger value here).

        >>> dam = DenseAssociativeMemory(torch.ones(1, 1000), "exponential")
        >>> round(float(dam.log_neg_energy(torch.ones(1, 1000))), 1)
        1000.0
        """
        if self.interaction != "exponential":
            raise NotImplementedError("log_neg_energy is for interaction='exponential'; "
                                      "the polynomial energies are finite as energy() returns them")
        self._check_states(states)
        return torch.logsumexp(self.beta * (states @ self.memories.T).double(), dim=1)

    def _gain_table(self, device) -> torch.Tensor | None:
        """``g(b)`` for every overlap ``b`` in ``[−d, d]`` such that the sign of the update is that
        of ``Σ_μ ξ_μl g(b_μ)``, ``[2d + 1]``; None where no exact table fits (see :meth:`_gain`)."""
        m, d = self.memories.shape
        b = torch.arange(-d, d + 1, device=device, dtype=torch.float64)
        if self.interaction == "exponential":
            return b                                              # g(b) ∝ e^{β b}: the exponents, see _gain
        if math.log(2.0 * m) + self.n * math.log(d + 1) >= 53 * math.log(2.0):   # 2 M (d + 1)^n ≥ 2^53
            return None
        plus, minus = b + 1, b - 1
        if self.interaction == "rectified":
            plus, minus = plus.clamp_min(0), minus.clamp_min(0)
        return plus.pow(self.n) - minus.pow(self.n)               # integers, exact in float64

    def _gain(self, base: torch.Tensor, col: torch.Tensor, table: torch.Tensor | None) -> torch.Tensor:
        """A number whose sign is that of ``Σ_μ F(base_μ + ξ_μl) − F(base_μ − ξ_μl)``, ``[B]``.

        With ``ξ_μl = ±1`` each term is ``ξ_μl · g(base_μ)``, ``g(b) = F(b + 1) − F(b − 1)``, and
        the overlaps are integers. So the sum is ``Σ_k a_k g(k)`` with integer counts
        ``a_k = Σ_{μ: base_μ = k} ξ_μl``, counted exactly. For polynomials ``g`` is an integer
        and the whole sum is exact while it fits in float64's 53 bits; beyond, each row's ``g`` is
        divided by ``s^n``, ``s`` one more than its largest overlap in size with ``a_k ≠ 0``, so
        the largest terms are of order 1 and none that matters underflows; for the exponential ``g(k) ∝ e^{βk}``, and each row is scaled
        by ``e^{−βk*}``, ``k*`` its largest overlap with ``a_k ≠ 0``: that term is the integer
        ``a_{k*}`` and every other is at most ``|a_k|`` in size, so nothing overflows, and a term
        that underflows is below ``e^{−745}`` of it and cannot change the sign at any β and d.
        The sum is 0 exactly when every ``a_k`` is. Either way an exact tie is 0 on every
        machine and sgn(0) = +1 decides it, not the rounding of a reduction.
        """
        d = self.memories.shape[1]
        index = (base.round() + d).long()                         # base in [−d, d]
        counts = torch.zeros(base.shape[0], 2 * d + 1, dtype=torch.int64, device=base.device)
        counts.scatter_add_(1, index, col.long().expand_as(index))
        if table is None:                                         # polynomial too large for exact integers:
            b = torch.arange(-d, d + 1, device=base.device, dtype=torch.float64)
            scale = torch.where(counts != 0, b.abs() + 1, 1.0).amax(dim=1, keepdim=True)
            plus, minus = ((b + 1) / scale).clamp(-1, 1), ((b - 1) / scale).clamp(-1, 1)  # exact where a_k ≠ 0
            if self.interaction == "rectified":
                plus, minus = plus.clamp_min(0), minus.clamp_min(0)
            return (counts.double() * (plus.pow(self.n) - minus.pow(self.n))).sum(dim=1)
        if self.interaction == "exponential":                     # table: the overlaps b
            top = torch.where(counts != 0, table, -math.inf).amax(dim=1, keepdim=True)
            return (counts.double() * torch.exp(self.beta * (table - top).clamp_max(0))).sum(dim=1)
        return (counts.double() * table).sum(dim=1)

    def _sweep(self, states, order, frozen=False):
        out = states.clone() if frozen else states
        overlaps = states @ self.memories.T                  # [B, M], kept up to date
        table = self._gain_table(states.device)
        for l in order:
            col = self.memories[:, l]                         # [M]
            base = overlaps - states[:, l:l + 1] * col        # overlaps without unit l
            new = _sign(self._gain(base, col, table)).to(states.dtype)
            out[:, l] = new
            if not frozen:
                overlaps = base + new[:, None] * col
        return out
