"""The training loop of the learned models: U-Hop's Stage I and A-Hop's fit share it.

An epoch draws its batches, takes one optimiser step on each and records the epoch's mean
loss; a held-out loss, when given, is recorded before the first step and after every epoch,
and can stop training early.
The models differ only in what they hand it: U-Hop one full batch of its memories per epoch
and plain gradient descent (:meth:`hopnb.kernel.KernelSimilarity.fit`), A-Hop minibatches of
(source, variant) pairs and Adam (:meth:`hopnb.models.AdaptiveHopfield.fit`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

import torch
from tqdm.auto import tqdm


@dataclass
class Descent:
    """What :func:`descend` did: the mean training loss of each epoch; the held-out loss at the
    start (entry 0) and after each epoch ``e`` (entry ``e``), empty without one; and the number
    of optimiser steps taken."""

    losses: list[float] = field(default_factory=list)
    validation: list[float] = field(default_factory=list)
    steps: int = 0


def descend(loss: Callable[..., torch.Tensor], batches: Callable[[int], Iterable[tuple]],
            optimiser: torch.optim.Optimizer, epochs: int, *, name: str = "loss",
            validation: Callable[[], float] | None = None, patience: int | None = None,
            module: torch.nn.Module | None = None, progress: bool = False) -> Descent:
    """Minimise ``loss(*batch)`` (a scalar tensor, the mean over the batch) with ``optimiser``.

    Epoch ``e`` takes one step on each batch of ``batches(e)`` (drawn at the epoch's start) and
    records the epoch's mean loss, each batch weighted by its length (that of its first entry).
    A loss or a parameter that stops being finite stops training with a ``FloatingPointError``
    that names the step and the learning rate.
    ``validation()``, when given, is evaluated without gradients before the first step and after
    every epoch; with ``patience``, training stops once it has not improved for ``patience``
    epochs, and ``module`` gets back its state from the best epoch (the start counts as epoch 0).

    >>> w = torch.nn.Parameter(torch.tensor([3.0]))
    >>> run = descend(lambda: (w ** 2).sum(), lambda epoch: [()], torch.optim.SGD([w], lr=0.25), 3)
    >>> run.losses, run.steps, w.item()
    ([9.0, 2.25, 0.5625], 3, 0.375)
    """
    run = Descent()
    best, best_state, since_best = float("inf"), None, 0

    def held_out() -> bool:
        """Record the held-out loss; True once it has not improved for ``patience`` epochs."""
        nonlocal best, best_state, since_best
        with torch.no_grad():
            value = validation()
        run.validation.append(value)
        if value < best:
            best, since_best = value, 0
            if module is not None:
                best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
            return False
        since_best += 1
        return patience is not None and since_best >= patience

    if validation is not None:
        held_out()
    for epoch in tqdm(range(epochs), desc=name, disable=not progress):
        values, sizes = [], []
        for batch in batches(epoch):
            value = loss(*batch)
            if not bool(torch.isfinite(value)):
                lr = optimiser.param_groups[0]["lr"]
                raise FloatingPointError(
                    f"the {name} became {value.item()} after {run.steps} step{'' if run.steps == 1 else 's'} "
                    f"(epoch {epoch + 1} of {epochs}); lower the learning rate (lr={lr:g})")
            optimiser.zero_grad()
            value.backward()
            optimiser.step()
            run.steps += 1
            if not all(bool(torch.isfinite(p).all()) for group in optimiser.param_groups for p in group["params"]):
                raise FloatingPointError(
                    f"the parameters overflowed at step {run.steps} (epoch {epoch + 1} of {epochs}); "
                    f"lower the learning rate (lr={optimiser.param_groups[0]['lr']:g})")
            values.append(value.item())
            sizes.append(len(batch[0]) if batch else 1)
        run.losses.append(values[0] if len(values) == 1 else
                          sum(v * n for v, n in zip(values, sizes)) / sum(sizes))
        if validation is not None and held_out():
            break
    optimiser.zero_grad()
    if patience is not None and best_state is not None:
        module.load_state_dict(best_state)
    return run
