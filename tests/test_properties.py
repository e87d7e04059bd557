"""Property test of the retrieval API: for generated inputs, valid or not, the result is either a
ValueError/TypeError whose message names an argument, or finite and equal to a reference
computed by brute force in float64 (the ``[B, M, d]`` tensor the library never builds).

Entries are small integers times a power of two, so both computations are exact up to the
last rounding and ties stay ties; scales run from 2⁻¹⁰⁰ to 2⁷⁰⁰ (beyond what float32 and
float64 can square), and NaN/inf entries, reduced and integer dtypes, empty sizes and bad β
are drawn too."""

import math

import torch
import torch.nn.functional as F
from hypothesis import assume, event, given
from hypothesis import strategies as st

from hopnb import AssociativeMemory, functional, separation

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
