"""Settings and results of the blend stage, and the crop geometry it reads (from any aligner)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

Mode = Literal["auto", "flow", "feather", "poisson", "none"]
MODES: tuple[str, ...] = ("auto", "flow", "feather", "poisson", "none")


class CropGeometry(Protocol):
    """What paste-back needs from an aligned face (pipeline.align.AlignedFace provides it)."""

    crop: np.ndarray             # [S, S, 3] uint8 RGB, the unedited crop
    crop_from_photo: np.ndarray  # [2, 3] photo (x, y) -> crop (x, y), pixel-index coordinates
    photo_from_crop: np.ndarray  # [2, 3] crop (x, y) -> photo (x, y)
    crop_landmarks: np.ndarray   # [68, 2] crop px
    fill_mask: np.ndarray        # [S, S] float32 in [0, 1]; 1 = padding fill, not photo
    output_size: int             # S
    photo_size: tuple[int, int]  # (width, height)


@dataclass(frozen=True, kw_only=True)
class BlendConfig:
    # Face mask (fractions of the crop side, so they mean the same at 64 px and 1024 px).
    mask_dilate: float = 0.06        # the landmark hull grows by this much before feathering
    mask_feather: float = 0.03       # Gaussian sigma of the mask's soft edge
    crop_edge_fade: float = 0.04     # the mask fades to 0 over this band at the crop's own edge
    # Flow mode.
    flow_size: int = 256             # px; flow is computed on crops enlarged to at least this side
    flow_deadzone: float = 0.1       # flow px (at flow_size); smaller motions count as no motion
    new_content_low: float = 0.05    # colour difference (0..1), edit vs warped reconstruction, where new content starts
    new_content_high: float = 0.15   # ... and where it is fully new (generator pixels replace warped photo)
    new_content_grow: float = 0.01   # new-content regions grow and soften by this much (fraction of the side)
    new_content_scale: float = 0.006  # Gaussian sigma (fraction of the side) of the low-pass both sides get before comparing
    tone_sigma: float = 0.05         # reach (fraction of the side) of the photo-minus-reconstruction colour offset for new content
    anchor_sigma: float = 0.06       # reach (fraction of the side) of each tracked point's correction of the flow
    # Output.
    alpha_floor: float = 1.0 / 512   # alpha below this is exactly 0, so untouched pixels stay bit-identical


@dataclass(frozen=True, eq=False)
class BlendResult:
    photo: np.ndarray              # [H, W, 3] uint8 RGB, same size as the input photo
    mode: str                      # the mode actually used ('auto' resolved)
    roi: tuple[int, int, int, int]  # (x0, y0, x1, y1) photo box outside which nothing changed
    alpha: np.ndarray              # [y1-y0, x1-x0] float32 in [0, 1]: face mask over the roi
    new_content: float             # share of the face no warp of the photo explains, on the final photo (measure.py)
    max_motion_px: float           # largest displacement of the edit's flow, photo px
    changed: float = 0.0           # share of the face visibly changed
    changed_outside: float | None = None  # share of the face changed outside the asked-for region (None: not given)
    generator_share: float = 0.0   # share of the face whose pixels came from the render (feather/poisson: 1)
    greyscale: bool = False        # the photo was greyscale there, and so is the result
