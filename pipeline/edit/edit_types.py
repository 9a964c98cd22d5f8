"""What the editing core hands back: an inversion (what a session stores) and a finished edit."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from pipeline.align import AlignedFace
from pipeline.blend import BlendResult
from pipeline.drag import DragResult
from pipeline.gan.interface import LatentGenerator
from pipeline.invert.project import Projection
from pipeline.invert.pti import TunedGenerator

from .points_map import PlacedPoints

STAGES = ("align", "invert", "pti", "map_points", "drag", "blend")


@dataclass(frozen=True, eq=False)
class Inversion:
    """A face's latent and the generator that reproduces it: what an edit session stores."""

    G: LatentGenerator           # generator to drag on (tuned copy with PTI), eval, no grad, on the device
    ws: torch.Tensor             # [1, num_ws, w_dim]: the latent it reproduces the crop from
    reconstruction: np.ndarray   # [S, S, 3] uint8: G.synthesis(ws), the unedited render
    report: dict                 # projection and PTI reports (steps, distances, backbone, settings)
    seconds: dict[str, float]    # 'invert', 'pti' wall times (0 when reused)
    backbone: str                # perceptual backbone used
    tuned: bool                  # True when G carries PTI-tuned weights
    projection: Projection | None = None  # the stage results, kept for saving a session (None when loaded)
    pti: TunedGenerator | None = None
    session: Path | None = None  # the session folder it was loaded from or saved to

    @property
    def reused(self) -> bool:
        """Loaded from a session rather than computed in this run."""
        return self.session is not None and self.projection is None


@dataclass(frozen=True, eq=False)
class EditResult:
    photo: np.ndarray                 # [H, W, 3] uint8, the edited photo, same size as the input
    aligned: AlignedFace              # the face's crop and transform
    points: PlacedPoints              # handles/targets in photo and crop px
    mask: np.ndarray | None           # [S, S] float32 0/1 the points file's flexible region (crop px), or None
    inversion: Inversion
    drag: DragResult
    blend: BlendResult
    edited_crop: np.ndarray           # [S, S, 3] uint8, the generator's render after the drag
    seconds: dict[str, float]         # per stage (STAGES) and 'total'
    step_latents: dict[int, torch.Tensor] = field(default_factory=dict, repr=False)  # step -> ws (CPU), if recorded
    flags: tuple[str, ...] = ()       # warnings: the edit changed far more than the points asked (change_check.py)
