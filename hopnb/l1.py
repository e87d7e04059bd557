"""The ℓ1 (Manhattan) distance of every query–memory pair, on the fastest path this machine has.

Defined in :doc:`/book/ch04_universal_hopfield`.

``D_{bμ} = Σ_i |q_{bi} − ξ_{μi}|`` (Millidge et al. 2022; chapter 4), the
distance behind :func:`hopnb.similarity.manhattan`. Two paths compute it:

* ``"kernel"``: a small C++ loop (``l1.cpp`` beside this module) over tiles of 4 queries ×
  4 memories, vectorised by the compiler for the CPU it runs on and called on
  ``torch.get_num_threads()`` threads. It reaches about 10–15× the speed of
  ``torch.cdist(p=1)`` on CPU (``benchmarks/manhattan_softmax.py``), never builds
  ``[B, M, d]``, and sums every distance in the same order on every CPU and thread count.
  It is compiled once per machine with the system's C++ compiler (``$CXX``, else ``c++``)
  on first use, in about 1–3 s, and cached under ``$HOPNB_CACHE`` (default
  ``~/.cache/hopnb``). Its gradient, ``∂D_{bμ}/∂q_b = sign(q_b − ξ_μ) = −∂D_{bμ}/∂ξ_μ``,
  is a second loop of the same kind, reduced with the incoming gradient.
* ``"cdist"``: ``torch.cdist(p=1)``; it runs everywhere (any device and dtype).

``backend="auto"`` takes the kernel for float32 and float64 CPU tensors when it compiles,
else cdist; ``backend=None`` (the default) reads the environment variable ``HOPNB_L1``
(unset: ``"auto"``). :func:`choose` says which path a tensor gets, and why.
(Also measured, see ``benchmarks/README.md``: ``torch.compile`` of the broadcast expression,
slower and 17 s to compile on first use; this loop as a ``load_inline`` extension, 55 s to
compile and ninja needed.)
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

import torch

from ._validate import check_dtype, check_finite, free, type_str
from .runtime import split, threaded

__all__ = ["BACKENDS", "choose", "distance"]

#: The paths :func:`distance` can take: ``"auto"`` chooses (see :func:`choose`).
BACKENDS = ("auto", "kernel", "cdist")
_SOURCE = Path(__file__).with_name("l1.cpp")
_FLAGS = ("-O3", "-march=native", "-std=c++17", "-shared", "-fPIC")
_TYPES = {torch.float32: ("f32", ctypes.c_float), torch.float64: ("f64", ctypes.c_double)}


def _cpu_flags() -> str:
    try:
        return next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        return platform.processor()


@functools.cache
def _library() -> tuple[ctypes.CDLL | None, str]:
    """The compiled kernel (built on first use, then cached on disk), or None and why not."""
    compiler = shutil.which(os.environ.get("CXX", "c++"))
    if compiler is None:
        return None, f"no C++ compiler found (looked for {os.environ.get('CXX', 'c++')!r}; set CXX)"
    source = _SOURCE.read_bytes()
    key = hashlib.sha256(b"\0".join([source, compiler.encode(), " ".join(_FLAGS).encode(),
                                     platform.machine().encode(), _cpu_flags().encode()])).hexdigest()[:16]
    cache = Path(os.environ.get("HOPNB_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
                 / "hopnb")
    target = cache / f"l1-{key}.so"
    if not target.exists():
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache) as tmp:  # build aside, then move: concurrent builds are safe
            built = Path(tmp) / target.name
            run = subprocess.run([compiler, *_FLAGS, str(_SOURCE), "-o", str(built)], capture_output=True, text=True)
            if run.returncode != 0:
                return None, f"{compiler} failed to compile {_SOURCE.name}: {run.stderr.strip()[-500:]}"
            os.replace(built, target)
    lib = ctypes.CDLL(str(target))
    for name, real in _TYPES.values():
        p, i = ctypes.c_void_p, ctypes.c_int64
        getattr(lib, f"hopnb_l1_distance_{name}").argtypes = [p, p, p, i, i, i, i, i, real]
        getattr(lib, f"hopnb_l1_gradient_{name}").argtypes = [p, p, p, p, i, i, i, i, i, i]
    return lib, f"compiled with {compiler} into {target}"


def choose(x: torch.Tensor, backend: str | None = None) -> tuple[str, str]:
    """The path :func:`distance` takes for tensors like ``x`` (``"kernel"`` or ``"cdist"``) and why.

    Defined in :doc:`/book/ch04_universal_hopfield`.

    ``backend`` is ``"auto"``, ``"kernel"`` or ``"cdist"``; None reads ``HOPNB_L1``
    (default ``"auto"``). Asking for ``"kernel"`` where it cannot run is an error.

    >>> choose(torch.ones(2, 3, dtype=torch.float16))
    ('cdist', 'the kernel takes float32 and float64 CPU tensors; got torch.float16 on cpu')
    """
    backend = backend or os.environ.get("HOPNB_L1") or "auto"
    if backend not in BACKENDS:
        raise ValueError(f"the ℓ1 backend must be one of {BACKENDS} (argument or HOPNB_L1); got {backend!r}")
    if backend == "cdist":
        return "cdist", "asked for"
    if x.device.type != "cpu" or x.dtype not in _TYPES:
        lib, why = None, f"the kernel takes float32 and float64 CPU tensors; got {x.dtype} on {x.device}"
    else:
        lib, why = _library()
    if lib is None and backend == "kernel":
        raise RuntimeError(f"the ℓ1 kernel was asked for but cannot run: {why}")
    return ("kernel" if lib is not None else "cdist"), why


def _kernel_distance(memories: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
    """``D [N, B, M]`` of contiguous ``memories [N, M, d]`` and ``queries [N, B, d]``."""
    lib, _ = _library()
    name, real = _TYPES[queries.dtype]
    fn = getattr(lib, f"hopnb_l1_distance_{name}")
    (n, b, d), m = queries.shape, memories.shape[1]
    dist = torch.empty(n, b, m, dtype=queries.dtype)
    size = queries.element_size()
    tasks = [(queries.data_ptr() + k * b * d * size, memories.data_ptr() + k * m * d * size,
              dist.data_ptr() + k * b * m * size, b, m, d, lo, hi, real(1.0))
             for k in range(n) for lo, hi in split(m, b * d)]
    threaded(fn, tasks)
    return dist


def _kernel_gradient(a: torch.Tensor, b: torch.Tensor, g: torch.Tensor, gx: int, gy: int) -> torch.Tensor:
    """``Σ_y g[x, y] sign(a_x − b_y)`` for contiguous ``a [N, X, d]``, ``b [N, Y, d]``, ``g`` with
    strides ``gx, gy`` (within one of its ``N`` contiguous ``[B, M]`` blocks)."""
    lib, _ = _library()
    fn = getattr(lib, f"hopnb_l1_gradient_{_TYPES[a.dtype][0]}")
    (n, nx, d), ny = a.shape, b.shape[1]
    grad = torch.empty_like(a)
    size = a.element_size()
    tasks = [(a.data_ptr() + k * nx * d * size, b.data_ptr() + k * ny * d * size,
              g.data_ptr() + k * nx * ny * size, grad.data_ptr() + k * nx * d * size, ny, d, gx, gy, lo, hi)
             for k in range(n) for lo, hi in split(nx, ny * d)]
    threaded(fn, tasks)
    return grad


class _Distance(torch.autograd.Function):
    """``D = Σ_i |q_i − ξ_i|`` by the kernel, with ``∂L/∂q_b = Σ_μ (∂L/∂D_{bμ}) sign(q_b − ξ_μ)``
    and ``∂L/∂ξ_μ = −Σ_b (∂L/∂D_{bμ}) sign(q_b − ξ_μ)``."""

    @staticmethod
    def forward(ctx, memories, queries):
        ctx.save_for_backward(memories, queries)
        return _kernel_distance(memories, queries)

    @staticmethod
    def backward(ctx, grad):
        memories, queries = ctx.saved_tensors
        grad = grad.contiguous()
        b, m = queries.shape[1], memories.shape[1]
        grad_m = _kernel_gradient(memories, queries, grad, 1, m) if ctx.needs_input_grad[0] else None
        grad_q = _kernel_gradient(queries, memories, grad, m, 1) if ctx.needs_input_grad[1] else None
        return grad_m, grad_q


def distance(memories: torch.Tensor, queries: torch.Tensor, backend: str | None = None) -> torch.Tensor:
    """ℓ1 distances ``[..., B, M]`` of ``memories [..., M, d]`` and ``queries [..., B, d]``
    (leading dimensions broadcast, as in ``torch.cdist``), on the path :func:`choose` picks.

    Defined in :doc:`/book/ch04_universal_hopfield`.

    >>> distance(torch.zeros(1, 2), torch.tensor([[3.0, -4.0]]))
    tensor([[7.]])
    """
    _check(memories, queries)
    return _distance(memories, queries, backend)


def _check(memories, queries) -> None:
    """Shapes, dtypes and devices that the kernel can read safely; values that cannot overflow."""
    for name, x in (("memories", memories), ("queries", queries)):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor [..., n, d]; got {type_str(x)}")
        check_dtype(x, name)
        if x.ndim < 2 or 0 in x.shape[-2:]:
            raise ValueError(f"{name} must be [..., n, d] with n, d ≥ 1; got {type_str(x)}")
    if queries.shape[-1] != memories.shape[-1]:
        raise ValueError(f"queries must have the memories' d = {memories.shape[-1]}; got {type_str(queries)}")
    if queries.dtype != memories.dtype or queries.device != memories.device:
        raise TypeError(f"queries must have the memories' dtype and device ({memories.dtype}, {memories.device}); "
                        f"got {queries.dtype}, {queries.device}")
    try:
        torch.broadcast_shapes(memories.shape[:-2], queries.shape[:-2])
    except RuntimeError:
        raise ValueError(f"the leading dimensions of memories {type_str(memories)} and queries "
                         f"{type_str(queries)} must broadcast") from None
    cap = torch.finfo(queries.dtype).max / (2 * queries.shape[-1])    # Σ_i |q_i − ξ_i| ≤ 2 d max|x|
    for name, x in (("memories", memories), ("queries", queries)):
        if free(x):
            check_finite(x, name, bounded=False)
            top = float(x.detach().abs().max())
            if top > cap:
                raise ValueError(f"{name} has entries up to |x| = {top:.3g}; with d = {x.shape[-1]} their ℓ1 "
                                 f"distances can overflow {x.dtype} beyond |x| = {cap:.3g}. Rescale the patterns.")


def _distance(memories: torch.Tensor, queries: torch.Tensor, backend: str | None = None) -> torch.Tensor:
    """:func:`distance` on inputs the caller has checked."""
    if choose(queries, backend)[0] == "cdist":
        return torch.cdist(queries, memories, p=1.0)
    lead = torch.broadcast_shapes(memories.shape[:-2], queries.shape[:-2])
    m = memories.expand(*lead, *memories.shape[-2:]).reshape(-1, *memories.shape[-2:]).contiguous()
    q = queries.expand(*lead, *queries.shape[-2:]).reshape(-1, *queries.shape[-2:]).contiguous()
    return _Distance.apply(m, q).reshape(*lead, q.shape[-2], m.shape[-2])
