"""Input checks shared by every public entry point: errors say what was expected and what came."""

from __future__ import annotations

import math
import numbers

import torch


def shape_str(x: torch.Tensor) -> str:
    return "[" + ", ".join(str(s) for s in x.shape) + "]"


def check_patterns(x, name: str = "memories", *, finite: bool = True) -> torch.Tensor:
    """``x`` must be a floating-point tensor ``[n, d]`` with n, d ≥ 1 and, if ``finite``, no NaN/inf."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor [n, d]; got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor (e.g. torch.float32); got {x.dtype}. "
                        f"Use {name}.float().")
    if x.ndim != 2:
        hint = f" (for a single pattern use {name}[None])" if x.ndim == 1 else ""
        raise ValueError(f"{name} must be a 2-D tensor [{'M' if name == 'memories' else 'B'}, d] with patterns as "
                         f"rows; got shape {shape_str(x)}{hint}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} must not be empty; got shape {shape_str(x)}")
    if finite:
        bad = count_nonfinite(x)
        if bad:
            raise ValueError(f"{name} contains {bad} NaN or infinite value(s); all entries must be finite")
    return x


def count_nonfinite(x: torch.Tensor, rows_per_part: int | None = None) -> int:
    """Number of NaN/inf entries, without an extra copy of ``x``: one sum catches any (NaN and inf
    propagate), and only then are rows counted part by part (the sum may also overflow)."""
    if bool(torch.isfinite(x.sum())):
        return 0
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


def check_positive(value, name: str, *, minimum: float = 0.0, strict: bool = True) -> float:
    """A real number > minimum (or ≥ minimum when not ``strict``), finite."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__}")
    ok = value > minimum if strict else value >= minimum
    if not ok or not math.isfinite(value):
        raise ValueError(f"{name} must be finite and {'>' if strict else '≥'} {minimum}; got {value}")
    return float(value)
