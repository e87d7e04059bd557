import pytest
import torch

from hopnb import AssociativeMemory, l1
from hopnb import separation as S
from hopnb import similarity as sim

# Odd shapes: B = 1, M not a multiple of the 4-memory tile or the 64-memory block, d below and
# not a multiple of one 64-byte vector; the last two are large enough to run on several threads.
SHAPES = [(1, 1, 1), (3, 7, 5), (1, 130, 17), (5, 67, 33), (9, 301, 784)]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("B, M, d", SHAPES)
def test_kernel_equals_cdist(B, M, d, dtype):
    g = torch.Generator().manual_seed(B * M * d)
    memories, queries = torch.randn(M, d, generator=g, dtype=dtype), torch.randn(B, d, generator=g, dtype=dtype)
    got = l1.distance(memories, queries, "kernel")
    assert got.shape == (B, M)
    exact = torch.cdist(queries.double(), memories.double(), p=1.0).to(dtype)
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == torch.float32 else {}  # sums of d numbers, in another order
    torch.testing.assert_close(got, exact, **tol)
    torch.testing.assert_close(torch.cdist(queries, memories, p=1.0), exact, **tol)
    torch.testing.assert_close(l1.distance(memories, queries, "cdist"), torch.cdist(queries, memories, p=1.0))


def test_leading_dimensions_broadcast_as_in_cdist():
    g = torch.Generator().manual_seed(1)
    memories = torch.randn(3, 11, 7, generator=g, dtype=torch.float64)
    queries = torch.randn(2, 1, 5, 7, generator=g, dtype=torch.float64)
    torch.testing.assert_close(l1.distance(memories, queries, "kernel"), torch.cdist(queries, memories, p=1.0))


def test_gradients_are_the_sign_reduced_with_the_weights():
    g = torch.Generator().manual_seed(2)
    memories = torch.randn(2, 6, 9, generator=g, dtype=torch.float64, requires_grad=True)
    queries = torch.randn(2, 4, 9, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda m, q: l1.distance(m, q, "kernel"), (memories, queries))
    m32, q32 = (torch.randn(70, 21, generator=g).requires_grad_() for _ in range(2))
    weights = torch.randn(70, 70, generator=g)
    ours = torch.autograd.grad(l1.distance(m32, q32, "kernel"), (m32, q32), weights)
    theirs = torch.autograd.grad(torch.cdist(q32, m32, p=1.0), (m32, q32), weights)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_streamed_retrieval_equals_the_cdist_path(dtype):
    g = torch.Generator().manual_seed(3)
    memories, queries = torch.rand(1000, 30, generator=g, dtype=dtype), torch.rand(6, 30, generator=g, dtype=dtype)
    for sep in (S.softmax(beta=0.5), S.max()):
        fast = AssociativeMemory(memories, sim.get("manhattan", backend="kernel"), sep, chunk_size=333)
        slow = AssociativeMemory(memories, sim.get("manhattan", backend="cdist"), sep)
        torch.testing.assert_close(fast(queries), slow(queries))


def test_choice_is_overridable_and_says_why(monkeypatch):
    x = torch.ones(2, 3)
    assert l1.choose(x, "cdist") == ("cdist", "asked for")
    monkeypatch.setenv("HOPNB_L1", "cdist")
    assert l1.choose(x)[0] == "cdist"
    monkeypatch.setenv("HOPNB_L1", "fast")
    with pytest.raises(ValueError, match=r"the ℓ1 backend must be one of \('auto', 'kernel', 'cdist'\).*got 'fast'"):
        l1.choose(x)
    with pytest.raises(RuntimeError, match="the ℓ1 kernel was asked for but cannot run: .*got torch.float16 on cpu"):
        l1.choose(x.half(), "kernel")


def test_without_a_compiler_auto_falls_back_to_cdist(monkeypatch):
    monkeypatch.setenv("CXX", "no-such-compiler")
    l1._library.cache_clear()
    try:
        path, why = l1.choose(torch.ones(2, 3))
        assert path == "cdist" and why.startswith("no C++ compiler found (looked for 'no-such-compiler'")
        torch.testing.assert_close(sim.manhattan(torch.eye(2), torch.ones(1, 2)), torch.tensor([[-1.0, -1.0]]))
    finally:
        l1._library.cache_clear()
