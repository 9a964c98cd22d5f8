"""Drag (DragGAN): move handle points to targets on a generator's image manifold.

Public API: `drag(G, ws, handles, targets, *, mask, config, device, callback) -> DragResult`,
`DragConfig`, `DragState`, `StopDrag`. Points are (x, y) in pixels of the generated image.
Knows nothing of photos: it uses only the LatentGenerator interface.
"""
from .drag_config import DragConfig, DragSettings, choose_feature_block, resolve_settings
from .engine import drag
from .latent_prior import is_gaussian_latent
from .drag_report import drag_report
from .result import DragResult, DragState, StopDrag

__all__ = [
    "DragConfig", "DragResult", "DragSettings", "DragState", "StopDrag", "choose_feature_block", "drag",
    "drag_report", "is_gaussian_latent", "resolve_settings",
]
