"""One optimiser step with the divergence check that projection and PTI share."""
from __future__ import annotations

import torch

from pipeline.common import UserError


def checked_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor, *, stage: str, step: int, lr: float,
                 fix: str) -> None:
    """Backpropagate `loss` and step; a NaN/inf loss is a one-line UserError naming the stage and the fix."""
    if not torch.isfinite(loss):
        raise UserError(f"{stage} diverged: the loss is {loss.item()} at step {step} (lr {lr:.3g}); {fix}")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
