"""Property tests of the public API: for generated inputs, valid or not, the result is either a
ValueError/TypeError whose message names an argument, or finite and equal to a reference
computed by brute force in float64 (for retrieval, the ``[B, M, d]`` tensor the library never
builds). Covered: AssociativeMemory, the engine with masks and batches, the corruptions, the
metrics and the binary networks. ``HYPOTHESIS_PROFILE=stress`` runs 2000 examples of each.

Entries are small integers times a power of two, so both computations are exact up to the
last rounding and ties stay ties; scales run from 2⁻¹⁰⁰ to 2⁷⁰⁰ (beyond what float32 and
float64 can square), and NaN/inf entries, reduced and integer dtypes, empty sizes and bad β
are drawn too."""

import math

import torch
import torch.nn.functional as F
from hypothesis import assume, event, given
from hypothesis import strategies as st

from hopnb import AssociativeMemory, corrupt, functional, metrics, separation
from hopnb.models import ClassicalHopfield, DenseAssociativeMemory

ARGUMENTS = ("memories", "queries", "states", "beta", "chunk_size", "theta", "polynomial order n")
DTYPES = [torch.float32, torch.float64] * 3 + [torch.float16, torch.bfloat16, torch.int64]
SCALES = [-100, -30, -10, 0, 10, 57, 100, 700]


@st.composite
def patterns(draw, rows, d, dtype, scale):
    values = draw(st.lists(st.integers(-3, 3), min_size=rows * d, max_size=rows * d))
    x = torch.tensor(values, dtype=torch.float64).reshape(rows, d) * 2.0 ** scale
    if rows * d and draw(st.integers(0, 7)) == 0:
        x.view(-1)[draw(st.integers(0, rows * d - 1))] = draw(st.sampled_from([math.nan, math.inf, -math.inf]))
    return x.to(dtype)


def reference(memories, queries, sim, sep):
    m, q = memories.double(), queries.double()
    diff = q[:, None, :] - m[None, :, :]
    s = {"dot": (q[:, None, :] * m[None]).sum(-1),
         "cosine": F.normalize(q, dim=-1, eps=1e-8) @ F.normalize(m, dim=-1, eps=1e-8).T,
         "euclidean": -diff.square().sum(-1).sqrt(),
         "manhattan": -diff.abs().sum(-1)}[sim]
    kind, param = sep
    if kind == "softmax":
        w = torch.softmax(param * s, dim=-1)
    elif kind == "threshold":
        w = (s >= param).double()
    else:
        w = s.clamp_min(0).pow(param)
        total = w.sum(-1, keepdim=True)
        w = w / torch.where(total == 0, torch.ones_like(total), total)
    return w @ m, s


@given(data=st.data(), sim=st.sampled_from(["dot", "cosine", "euclidean", "manhattan"]),
       kind=st.sampled_from(["softmax", "threshold", "polynomial"]),
       M=st.sampled_from([0] + [1, 2, 3, 5] * 4), B=st.sampled_from([0] + [1, 2, 3] * 4),
       d=st.sampled_from([0] + [1, 2, 4] * 4),
       dtype=st.sampled_from(DTYPES), scale=st.sampled_from(SCALES),
       chunk=st.one_of(st.none(), st.integers(-1, 6)), energy=st.booleans())
def test_retrieval_is_an_error_naming_an_argument_or_the_reference(data, sim, kind, M, B, d, dtype, scale, chunk,
                                                                    energy):
    memories = data.draw(patterns(M, d, dtype, scale), "memories")
    queries = data.draw(patterns(B, d, dtype, scale), "queries")
    param = data.draw({"softmax": st.sampled_from([1e-3, 0.5, 1.0, 8.0, 1e3, 0.0, -1.0, math.nan, math.inf]),
                       "threshold": st.sampled_from([-2.0, 0.0, 1.5, math.nan]),
                       "polynomial": st.sampled_from([1, 2, 3, 0, math.nan])}[kind], "param")
    try:
        sep = {"softmax": lambda: separation.softmax(beta=param),
               "threshold": lambda: separation.threshold(param, normalize=False),
               "polynomial": lambda: separation.polynomial(param, rectified=True, normalize=True)}[kind]()
        memory = AssociativeMemory(memories, sim, sep, chunk_size=chunk)
        with torch.no_grad():
            out = memory.energy(queries) if energy and sim == "dot" and kind == "softmax" else memory(queries)
    except (ValueError, TypeError) as err:
        assert any(name in str(err) for name in ARGUMENTS), f"error names no argument: {err}"
        event(f"clear {type(err).__name__}")
        return
    event("finite and equal to the reference")
    assert bool(torch.isfinite(out).all()), out
    want, s = reference(memories, queries, sim, (kind, param))
    # rounding is relative to the terms summed: the memories for a retrieval (a weighted sum of
    # them), the energy's terms for an energy
    scale_of = float(memories.double().abs().max())
    if energy and sim == "dot" and kind == "softmax":
        m2 = memories.double().square().sum(1).amax()
        terms = [-torch.logsumexp(param * s, 1) / param, 0.5 * queries.double().square().sum(1),
                 torch.full((B,), math.log(M) / param, dtype=torch.float64), 0.5 * m2.expand(B)]
        want = sum(terms)
        scale_of = max(float(t.abs().max()) for t in terms)
    tol = 1e-4 if out.dtype == torch.float32 else 1e-9
    # below the dtype's smallest normal number, values flush to zero: that is the dtype, not an error
    floor = 16 * torch.finfo(out.dtype).tiny
    torch.testing.assert_close(out.double(), want, rtol=tol, atol=max(tol * scale_of, floor))


# The engine with masks and leading batch dimensions: each separation, built from the library and
# in brute force on the visible memories alone.
MASKED_SEPARATIONS = {
    "softmax": (lambda: separation.Softmax(beta=0.7), lambda s: torch.softmax(0.7 * s, dim=-1)),
    "max": (separation.Max, lambda s: F.one_hot(s.argmax(dim=-1), s.shape[-1]).double()),
    "identity": (separation.Identity, lambda s: s),
    "cubic": (lambda: separation.Polynomial(3), lambda s: s.pow(3)),
    "normalised square": (lambda: separation.Polynomial(2, normalize=True),
                          lambda s: s.square() / s.square().sum(dim=-1, keepdim=True)),
}


@given(data=st.data(), sim=st.sampled_from(["dot", "manhattan"]), kind=st.sampled_from(sorted(MASKED_SEPARATIONS)),
       lead=st.sampled_from([(), (2,)]), B=st.integers(1, 3), M=st.integers(1, 5), d=st.integers(1, 4),
       dtype=st.sampled_from([torch.float32, torch.float64]), form=st.sampled_from(["bool", "float", "shared"]),
       chunk=st.sampled_from([None, 1, 2]))
def test_masked_retrieval_is_an_error_naming_the_mask_or_retrieval_from_the_visible_memories(
        data, sim, kind, lead, B, M, d, dtype, form, chunk):
    entries = st.integers(-12, 12).map(lambda v: v / 4)
    tensor = lambda *shape: torch.tensor(data.draw(st.lists(entries, min_size=math.prod(shape),  # noqa: E731
                                                            max_size=math.prod(shape))), dtype=torch.float64).reshape(shape)
    queries, keys, values = tensor(*lead, B, d), tensor(*lead, M, d), tensor(*lead, M, 3)
    shape = (M,) if form == "shared" else (*lead, B, M)
    visible = torch.tensor(data.draw(st.lists(st.booleans(), min_size=math.prod(shape), max_size=math.prod(shape)))).reshape(shape)
    mask = torch.where(visible, 0.0, -math.inf).to(dtype) if form == "float" else visible
    build, brute = MASKED_SEPARATIONS[kind]
    try:
        out = functional.retrieve(queries.to(dtype), keys.to(dtype), values.to(dtype), similarity=sim,
                                  separation=build(), mask=mask, chunk_size=chunk)
    except ValueError as err:
        assert "mask" in str(err), f"error names no argument: {err}"
        assert not bool(visible.expand(*lead, B, M).any(dim=-1).all()), f"refused a mask that shows every query a memory: {err}"
        event("clear ValueError: a query sees no memory")
        return
    visible = visible.expand(*lead, B, M).reshape(-1, B, M)
    q, k, v = (x.expand(*lead, *x.shape[-2:]).reshape(-1, *x.shape[-2:]) for x in (queries, keys, values))
    want = torch.zeros(q.shape[0], B, 3, dtype=torch.float64)
    for n in range(q.shape[0]):
        for b in range(B):
            seen = visible[n, b]
            s = q[n, b] @ k[n][seen].T if sim == "dot" else -(q[n, b] - k[n][seen]).abs().sum(dim=-1)
            if kind == "max":
                assume(int((s == s.max()).sum()) == 1)             # the arg-max of a tie is a convention
            if kind == "normalised square":
                assume(bool(s.square().sum() > 0))                # 0 / 0: the library's convention, not this test's
            want[n, b] = brute(s[None])[0] @ v[n][seen]
    event("equal to the brute force on the visible memories")
    tol = 1e-4 if dtype == torch.float32 else 1e-9
    torch.testing.assert_close(out.double().reshape(-1, B, 3), want, rtol=tol, atol=tol * max(1.0, float(want.abs().max())))


# Corruptions and metrics: generated patterns (any dtype, magnitude, NaN/inf) and parameters (in
# range, out of range, NaN): a clear error naming the argument, or what the definition says.
CORRUPTION_ARGUMENTS = ("x", "fraction", "p", "sigma", "bias", "value", "low", "high", "shape", "generator")
PARAMETERS = [0.0, 0.25, 0.5, 1.0, -0.5, 1.5, math.nan, math.inf]


@given(data=st.data(), kind=st.sampled_from(["mask_pixels", "mask_rows", "gaussian_noise", "shift", "salt_and_pepper",
                                             "dropout"]),
       B=st.sampled_from([0, 1, 3]), shape=st.sampled_from([(2, 2), (2, 3), (3, 2, 2)]),
       dtype=st.sampled_from([torch.float32, torch.float64, torch.float16, torch.int64]), scale=st.sampled_from(SCALES),
       param=st.sampled_from(PARAMETERS), value=st.sampled_from([0.0, -1.0, math.nan]))
def test_a_corruption_is_an_error_naming_an_argument_or_its_definition(data, kind, B, shape, dtype, scale, param, value):
    d = math.prod(shape)
    x = data.draw(patterns(B, d, dtype if dtype != torch.int64 else torch.float64, min(scale, 10)), "x")
    x = x.to(dtype) if dtype != torch.int64 else x.nan_to_num(0.0, 0.0, 0.0).to(dtype)
    g = torch.Generator().manual_seed(0)
    call = {"mask_pixels": lambda: corrupt.mask_pixels(x, param, value=value, generator=g),
            "mask_rows": lambda: corrupt.mask_rows(x, shape, param, value=value),
            "gaussian_noise": lambda: corrupt.gaussian_noise(x, param, generator=g),
            "shift": lambda: corrupt.shift(x, param),
            "salt_and_pepper": lambda: corrupt.salt_and_pepper(x, param, low=value, generator=g),
            "dropout": lambda: corrupt.dropout(x, param, generator=g)}[kind]
    try:
        out = call()
    except (ValueError, TypeError) as err:
        assert any(name in str(err) for name in CORRUPTION_ARGUMENTS), f"error names no argument: {err}"
        event(f"clear {type(err).__name__}")
        return
    event("the definition holds")
    assert out.shape == x.shape and out.dtype == x.dtype
    assert bool(torch.isfinite(out).all()), out
    fill = torch.full_like(x, value)
    kept = out == x
    if kind == "mask_pixels":
        assert bool((kept | (out == fill)).all()) and (param != 0 or bool(kept.all())) and (param != 1 or bool((out == fill).all()))
    elif kind == "mask_rows":
        h, k = shape[0], int(round(param * shape[0]))
        rows = out.reshape(B, *shape)
        assert bool((rows[:, h - k:] == value).all()) and torch.equal(rows[:, :h - k], x.reshape(B, *shape)[:, :h - k])
    elif kind == "gaussian_noise":
        assert param != 0 or torch.equal(out, x)
    elif kind == "shift":
        torch.testing.assert_close(out, x + param)
    elif kind == "salt_and_pepper":
        assert bool((kept | (out == fill) | (out == 1)).all())
    elif kind == "dropout":
        assert bool((out == 0).all()) if param == 1 else bool(((out == 0) | torch.isclose(out, x / (1 - param))).all())


@given(data=st.data(), kind=st.sampled_from(["sse", "fraction_correct", "fraction_cosine", "source_accuracy"]),
       B=st.sampled_from([0, 1, 3]), d=st.sampled_from([1, 4]), dtype=st.sampled_from(DTYPES), scale=st.sampled_from(SCALES),
       threshold=st.sampled_from([50.0, 0.5, 0.0, -1.0, 2.0, math.nan, math.inf]))
def test_a_metric_is_an_error_naming_an_argument_or_the_reference(data, kind, B, d, dtype, scale, threshold):
    retrieved = data.draw(patterns(B, d, dtype, scale), "retrieved")
    targets = data.draw(patterns(B, d, dtype, scale), "targets")
    source = torch.tensor(data.draw(st.lists(st.integers(-1, 4), min_size=B, max_size=B)), dtype=torch.long)
    try:
        out = {"sse": lambda: metrics.sse(retrieved, targets),
               "fraction_correct": lambda: metrics.fraction_correct(retrieved, targets, threshold),
               "fraction_cosine": lambda: metrics.fraction_cosine(retrieved, targets, threshold),
               "source_accuracy": lambda: metrics.source_accuracy(source, weights=retrieved)}[kind]()
    except (ValueError, TypeError) as err:
        assert any(name in str(err) for name in ("retrieved", "targets", "threshold", "source", "weights")), \
            f"error names no argument: {err}"
        event(f"clear {type(err).__name__}")
        return
    event("equal to the reference")
    r, t = retrieved.double(), targets.double()
    error = (r - t).square().sum(dim=1)
    want = {"sse": lambda: error,
            "fraction_correct": lambda: (error <= threshold).double().mean().item(),
            "fraction_cosine": lambda: (F.cosine_similarity(r, t, dim=1) >= threshold).double().mean().item(),
            "source_accuracy": lambda: (r.argmax(dim=1) == source).double().mean().item()}[kind]()
    if kind == "sse":
        assert bool(torch.isfinite(out).all()), out
        floor = 16 * torch.finfo(out.dtype).tiny           # squares below the dtype's smallest normal flush to 0
        torch.testing.assert_close(out.double(), want, rtol=1e-3 if out.dtype != torch.float64 else 1e-9, atol=floor)
    else:
        assert math.isfinite(out) and 0 <= out <= 1
        if kind != "fraction_cosine":      # a cosine at the threshold may round to either side
            assert abs(out - want) < 1e-6, (out, want)    # a float32 mean of counts


@given(data=st.data(), model=st.sampled_from(["classical", "polynomial", "rectified", "exponential"]),
       M=st.sampled_from([0] + [1, 2, 5] * 3), B=st.sampled_from([0] + [1, 3] * 3), d=st.sampled_from([0] + [1, 4, 9] * 3),
       dtype=st.sampled_from([torch.float32, torch.float64] * 3 + [torch.float16, torch.int64]),
       entries=st.sampled_from(["±1"] * 6 + ["0/1", "real"]), n=st.sampled_from([2, 3] * 3 + [0, 2.5]),
       steps=st.sampled_from([1, 20, 20, 0]))
def test_a_binary_network_is_an_error_naming_an_argument_or_its_energy_descent(data, model, M, B, d, dtype, entries, n,
                                                                               steps):
    def draw(rows, label):
        signs = torch.tensor(data.draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=rows * d, max_size=rows * d),
                                       label)).reshape(rows, d)
        return {"±1": signs, "0/1": (signs + 1) / 2, "real": signs * 0.5}[entries].to(dtype)

    memories, states = draw(M, "memories"), draw(B, "states")
    try:
        net = (ClassicalHopfield(memories) if model == "classical"
               else DenseAssociativeMemory(memories, model, n=n, beta=0.5))
        run = net.retrieve(states, steps, generator=torch.Generator().manual_seed(1), record_energy=True)
    except (ValueError, TypeError) as err:
        assert any(name in str(err) for name in ("memories", "states", "polynomial order n", "steps")), \
            f"error names no argument: {err}"
        event(f"clear {type(err).__name__}")
        return
    event("energy descends to the brute-force energy")
    x, xi = run.state.double(), memories.double()
    overlaps = x @ xi.T
    if model == "classical":
        want = -0.5 * ((overlaps.square().sum(dim=1) - M * d) / d)   # -½ xᵀWx with W = ΞᵀΞ/d, zero diagonal
    elif model == "exponential":
        want = -torch.logsumexp(0.5 * overlaps, dim=1) / 0.5
    else:
        want = -(overlaps.clamp_min(0) if model == "rectified" else overlaps).pow(n).sum(dim=1)
    torch.testing.assert_close(run.energies[-1], want, rtol=1e-9, atol=1e-9)
    assert bool((run.energies[1:] <= run.energies[:-1] + 1e-9 * run.energies.abs().amax()).all())
    assert bool(((run.state == 1) | (run.state == -1)).all()) and run.state.dtype == states.dtype
    assert not bool(run.converged.all()) or bool(net.is_fixed_point(run.state).all())
