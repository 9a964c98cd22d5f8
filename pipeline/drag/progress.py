"""One progress bar for every drag (CLI, edit, batch, web), and the per-step latents an animation needs."""
from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from ..common.image_tensors import tensor_to_image
from ..gan.interface import LatentGenerator
from .result import DragState
from .trajectory import select_frame_steps


class DragProgress:
    """A drag callback: moves a tqdm bar, keeps each step's latent on request, then calls `forward`.

    `forward(step, state)` (e.g. a web session streaming previews) may return False to stop the
    drag, as any drag callback may.
    """

    def __init__(self, max_steps: int, *, enabled: bool = True, record_steps: bool = False, forward=None,
                 first_step: int = 0) -> None:
        self.bar = tqdm(total=max_steps, desc="drag", unit="step", disable=not enabled, leave=False)
        self.record_steps = record_steps
        self.forward = forward
        self.first_step = first_step  # steps already taken by earlier drags of the same edit
        self.latents: dict[int, torch.Tensor] = {}  # step (counted over the whole edit) -> ws [1, num_ws, w_dim], CPU

    def __call__(self, step: int, state: DragState) -> bool | None:
        if self.record_steps:
            self.latents[self.first_step + step] = state.ws.detach().cpu().clone()
        self.bar.n = step
        self.bar.set_postfix(max_dist=f"{max(state.distances):.1f}px", refresh=False)
        self.bar.refresh()
        return self.forward(step, state) if self.forward is not None else None

    def close(self) -> None:
        self.bar.close()

    def __enter__(self) -> "DragProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def render_frames(
    G: LatentGenerator, latents: dict[int, torch.Tensor], num_steps: int, *, noise_mode: str, max_frames: int = 40,
) -> list[tuple[int, np.ndarray]]:
    """(step, image [H, W, 3] uint8) for evenly spaced recorded steps 0..num_steps (missing steps are left out)."""
    device = next(G.parameters()).device
    frames = []
    for step in select_frame_steps(num_steps, max_frames):
        ws = latents.get(step)
        if ws is None:
            continue
        with torch.no_grad():
            frames.append((step, tensor_to_image(G.synthesis(ws.to(device), noise_mode=noise_mode))))
    return frames
