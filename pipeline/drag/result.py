"""What a drag returns, what the progress callback sees, and how a callback stops a run."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch

from .drag_config import DragSettings

Point = tuple[float, float]  # (x, y), image px

# Why the loop ended.
STATUS_CONVERGED = "converged"  # every handle within the stop distance
STATUS_MAX_STEPS = "max_steps"  # the step cap was reached first
STATUS_STALLED = "stalled"  # the farthest handle came no closer for `stall_steps` steps
STATUS_STOPPED = "stopped"  # the callback returned False or raised StopDrag
STATUS_NAN = "nan"  # features or loss turned non-finite; the last finite state is returned


class StopDrag(Exception):
    """Raise from a drag callback to end the run early; the current state is returned."""


@dataclass
class DragState:
    """Handed to `callback(step, state)` once per iteration, after tracking, before the update."""

    step: int  # optimisation steps done so far (0 = the start)
    handles: list[Point]  # tracked handle positions for the current ws, image px
    targets: list[Point]
    distances: list[float]  # |target - handle| per point, image px
    converged: bool  # every handle within the stop distance (the loop ends after this call)
    ws: torch.Tensor  # [1, num_ws, w_dim] current latent (detached; do not modify)
    _render: Callable[[], torch.Tensor] = field(repr=False)

    def render(self) -> torch.Tensor:
        """The image of the current ws, [1, C, H, W] in about [-1, 1]; a full synthesis, so only on demand."""
        return self._render()


@dataclass
class DragResult:
    ws: torch.Tensor  # [1, num_ws, w_dim] final latent, on the drag's device
    image: torch.Tensor  # [1, C, H, W] final image, about [-1, 1], on the drag's device
    trajectory: list[list[Point]]  # handle positions at every step: [steps + 1][num_points]
    targets: list[Point]
    steps: int  # optimisation steps taken
    converged: bool
    status: str  # converged | max_steps | stopped | nan
    distances: list[float]  # final |target - handle| per point, image px
    seconds_per_step: list[float]  # wall time of each optimisation step (forward, tracking, loss, backward, update)
    seconds_total: float  # the whole call, final render included
    settings: DragSettings
    final_lambda_mask: float | None = None  # fixed-region weight at the end (relaxed from settings'); None: no mask

    @property
    def handles(self) -> list[Point]:
        return self.trajectory[-1]

    @property
    def mean_seconds_per_step(self) -> float:
        return sum(self.seconds_per_step) / len(self.seconds_per_step) if self.seconds_per_step else 0.0
