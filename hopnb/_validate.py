"""Input checks shared by every public entry point: errors say what was expected and what came.

The same rules hold everywhere a check is made:

* patterns (memories, queries, states, targets, …) are float32 or float64 tensors ``[n, d]``
  with n, d ≥ 1 and finite entries; float16 and bfloat16 are refused (sums over many
  memories and dimensions overflow or lose their precision there), integer and bool
  tensors too (convert them with ``.float()``);
* entries must be small enough that the squares and sums of a similarity or an energy
  (``d · max|x|²`` and the like) stay finite in the dtype: ``max|x| ≤ √(finfo.max / (4 d))``,
  about 3e17 for float32 and d = 784 — beyond that the result would be inf or NaN;
* numbers (β, thresholds, biases, learning rates) are real and finite, sizes and counts
  are ints (not bools), and each in its range.

Shapes, dtypes and devices are checked on every call. Checks that read the data
(finiteness, ranges) need the values on the host: on every call they run only where that
costs no device synchronisation (:func:`free`: a CPU tensor, outside ``torch.compile``);
on an accelerator they run once, when a memory is built and when ``retrieve`` starts.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch

DTYPES = (torch.float32, torch.float64)
_DTYPE_NAMES = "torch.float32 or torch.float64"


def free(x: torch.Tensor) -> bool:
    """Whether a check that reads ``x``'s values is free: eager mode on a CPU tensor (no device
    synchronisation, no graph break under ``torch.compile``, no ``torch.func`` transform, under
    which values cannot be read)."""
    return (x.device.type == "cpu" and not torch.compiler.is_compiling()
            and not torch._C._functorch.is_functorch_wrapped_tensor(x))


def shape_str(x: torch.Tensor) -> str:
    return "[" + ", ".join(str(s) for s in x.shape) + "]"


def type_str(x) -> str:
    return f"a tensor {shape_str(x)} {x.dtype}" if isinstance(x, torch.Tensor) else type(x).__name__


def check_dtype(x: torch.Tensor, name: str, *, reduced: bool = False) -> None:
    """``x`` must be float32 or float64 (``reduced``: any floating dtype)."""
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor ({_DTYPE_NAMES}); got {x.dtype}. "
                        f"Use {name}.float().")
    if not reduced and x.dtype not in DTYPES:
        raise TypeError(f"{name} must be {_DTYPE_NAMES}; got {x.dtype}, whose sums over many memories and "
                        f"dimensions overflow or lose precision. Use {name}.float().")


def limit(dtype: torch.dtype, d: int) -> float:
    """The largest ``|x|`` whose similarity and energy terms (``4 d · x²``) stay finite in ``dtype``."""
    return math.sqrt(torch.finfo(dtype).max / (4 * max(d, 1)))


def check_patterns(x, name: str = "memories", *, finite: bool = True, reduced: bool = False,
                   bounded: bool = True) -> torch.Tensor:
    """``x`` must be a float32/float64 tensor ``[n, d]`` with n, d ≥ 1 and, if ``finite``, no NaN/inf
    and (``bounded``) entries within :func:`limit`. ``reduced`` also accepts float16/bfloat16
    (for element-wise work)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor [n, d]; got {type(x).__name__}")
    check_dtype(x, name, reduced=reduced)
    if x.ndim != 2:
        hint = f" (for a single pattern use {name}[None])" if x.ndim == 1 else ""
        raise ValueError(f"{name} must be a 2-D tensor [{'M' if name == 'memories' else 'B'}, d] with patterns as "
                         f"rows; got shape {shape_str(x)}{hint}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} must not be empty; got shape {shape_str(x)}")
    if finite:
        check_finite(x, name, bounded=bounded)
    return x


def _extremes(x: torch.Tensor) -> tuple[float, float]:
    """``(min, max)`` of a non-empty ``x`` (NaN if it holds one). On the CPU by NumPy's single-threaded
    reductions, which read the tensor in place: a check costs no thread barrier, which on a busy
    machine takes longer than the reading itself."""
    x = x.detach()
    if x.device.type == "cpu" and x.dtype in DTYPES:
        values = x.resolve_neg().numpy()
        return float(values.min()), float(values.max())
    lo, hi = torch.aminmax(x)
    return float(lo), float(hi)


def check_finite(x: torch.Tensor, name: str, *, bounded: bool = True) -> None:
    """No NaN/inf in ``x``; with ``bounded`` also ``max|x| ≤ limit(dtype, d)``."""
    if x.numel() == 0:
        return
    lo, hi = _extremes(x)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        bad = count_nonfinite(x.detach())
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s); all entries must be finite")
    if bounded:
        top, cap = max(-lo, hi), limit(x.dtype, x.shape[-1])
        if top > cap:
            raise ValueError(f"{name} has entries up to |x| = {top:.3g}; with d={x.shape[-1]} in {x.dtype}, "
                             f"similarities and energies overflow beyond |x| = {cap:.3g}. Rescale the patterns "
                             f"(e.g. divide by their largest entry) or use torch.float64.")


def count_nonfinite(x: torch.Tensor, rows_per_part: int | None = None) -> int:
    """Number of NaN/inf entries, without an extra copy of ``x``: its minimum and maximum catch any (NaN
    propagates, inf is an extreme), and only then are rows counted part by part."""
    if x.numel() == 0 or all(math.isfinite(v) for v in _extremes(x)):
        return 0
    if x.ndim == 0:
        return int(not bool(torch.isfinite(x)))
    step = rows_per_part or max(1, (1 << 22) // max(x.shape[-1], 1))
    return sum(int((~torch.isfinite(part)).sum()) for part in x.split(step))


def check_like(x: torch.Tensor, ref: torch.Tensor, name: str, ref_name: str, *, dim: int = 1) -> None:
    """``x`` must match ``ref`` in size along ``dim``, dtype and device."""
    if x.shape[dim] != ref.shape[dim]:
        what = "d" if dim == 1 else "M"
        rows = f"[B, {what}]" if dim == 1 else f"[{what}, d']"
        raise ValueError(f"{name} must be {rows} with {what}={ref.shape[dim]} to match {ref_name}; "
                         f"got {shape_str(x)}")
    if x.dtype != ref.dtype:
        raise TypeError(f"{name} must have the dtype of {ref_name} ({ref.dtype}); got {x.dtype}")
    if x.device != ref.device:
        raise ValueError(f"{name} must be on the device of {ref_name} ({ref.device}); got {x.device}. "
                         f"Move it with .to({ref_name}.device).")


def check_pair(memories, queries) -> None:
    """Memories ``[M, d]`` and queries ``[B, d]``: same d, dtype and device, all finite."""
    check_patterns(memories, "memories")
    check_patterns(queries, "queries")
    check_like(queries, memories, "queries", "memories")


def check_real(value, name: str, *, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False) -> float:
    """A finite real number (a Python number or a one-element tensor) in ``[low, high]``
    (open at an end when asked); returned as a float."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.dtype == torch.bool:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {type_str(value)}")
    try:
        value = float(value)
    except OverflowError:                            # an int beyond float64
        raise ValueError(f"{name} must be a finite number; got an int of {len(str(abs(value)))} digits") from None
    ok = math.isfinite(value)
    ok = ok and (low is None or (value > low if low_open else value >= low))
    ok = ok and (high is None or (value < high if high_open else value <= high))
    if not ok:
        lo = "" if low is None else ("(" if low_open else "[") + f"{low:g}, "
        hi = "" if high is None else f"{high:g}" + (")" if high_open else "]")
        where = f" in {lo or '(-inf, '}{hi or 'inf)'}" if (low is not None or high is not None) else ""
        raise ValueError(f"{name} must be a finite number{where}; got {value}")
    return value


def check_positive(value, name: str, *, minimum: float = 0.0, strict: bool = True) -> float:
    """A real number > minimum (or ≥ minimum when not ``strict``), finite."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.dtype == torch.bool:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {type_str(value)}")
    try:
        finite = math.isfinite(value)
    except OverflowError:                            # an int beyond float64
        finite = False
    ok = value > minimum if strict else value >= minimum
    if not ok or not finite:
        shown = value if finite or not isinstance(value, numbers.Integral) else f"an int of {len(str(abs(value)))} digits"
        raise ValueError(f"{name} must be finite and {'>' if strict else '≥'} {minimum}; got {shown}")
    return float(value)


def check_bool(value, name: str) -> bool:
    """A bool (not a string, a number or None: ``'False'`` would otherwise count as true)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool (True or False); got {value!r}")
    return value


def check_int(value, name: str, *, minimum: int = 1, maximum: int | None = None) -> int:
    """An int (not a bool; numpy integers are fine) ≥ ``minimum`` (and ≤ ``maximum``)."""
    what = {1: "a positive int", 0: "a non-negative int"}.get(minimum, f"an int ≥ {minimum}")
    if maximum is not None:
        what = f"an int in [{minimum}, {maximum}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {what}; got {value!r} ({type(value).__name__})")
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {what}; got {value}")
    return value


def check_scores(scores, name: str = "scores") -> torch.Tensor:
    """Scores ``[..., B, M]``: a floating tensor with M ≥ 1 and no NaN (−inf is allowed, +inf is not)."""
    if not isinstance(scores, torch.Tensor) or scores.ndim < 2:
        got = shape_str(scores) if isinstance(scores, torch.Tensor) else type(scores).__name__
        raise ValueError(f"a separation takes {name} [B, M]; got {got}")
    check_dtype(scores, name)
    if scores.shape[-1] == 0:
        raise ValueError(f"a separation needs at least one memory: {name} must be [B, M] with M ≥ 1; "
                         f"got {shape_str(scores)}")
    if scores.numel():
        s = scores.detach()
        if bool(torch.isnan(s).any()) or bool((s == float("inf")).any()):
            raise ValueError(f"{name} contain {int(torch.isnan(s).sum() + (s == float('inf')).sum())} NaN or +inf "
                             f"value(s); scores must be finite (−inf marks an excluded memory)")
    return scores


def check_result(out: torch.Tensor, what: str, hint: str) -> torch.Tensor:
    """A computed result must be finite; otherwise say what overflowed and what to change."""
    bad = count_nonfinite(out.detach())
    if bad:
        raise ValueError(f"{what} has {bad} NaN or infinite value(s): {hint}")
    return out


def check_sequence(value, name: str, what: str = "values") -> list:
    """A non-empty list/tuple (not a string or a scalar)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, range)) or isinstance(value, torch.Tensor):
        if isinstance(value, torch.Tensor) and value.ndim == 1:
            value = value.tolist()
        else:
            raise TypeError(f"{name} must be a list of {what}; got {type_str(value)}")
    value = list(value)
    if not value:
        raise ValueError(f"{name} must hold at least one of the {what}; got none")
    return value


def check_norms(x: torch.Tensor, name: str, eps: float) -> None:
    """For cosine similarity: every row of ``x [..., n, d]`` has norm ≥ ``eps`` or is exactly zero
    (a smaller norm is not normalised, and its cosines would come out near 0)."""
    norms = torch.linalg.vector_norm(x.detach(), dim=-1)
    small = (norms < eps) & (x.detach() != 0).any(dim=-1)
    if bool(small.any()):
        index = tuple(small.nonzero()[0].tolist())
        top = float(x.detach()[index].abs().max())
        raise ValueError(f"cosine similarity needs rows of {name} with norm ≥ eps = {eps:g} (or exactly zero); "
                         f"row {index[0] if len(index) == 1 else index} has norm {float(norms[index]):.3g} "
                         f"(entries up to {top:.3g}). Rescale the patterns (cosine does not depend on their scale).")
