"""Did the edit change much more than the points asked? The region they asked for, and the flags.

The points ask for change near each handle's path (a capsule around handle -> target, as
wide as the move and at least half an eye distance) and, when the points file has one, inside
its mask. Paste-back measures on the final photo how much of the face changed outside that
region, and how much no warp of the photo explains (new content); `change_flags` turns
figures beyond the limits below into one-line warnings for the report, the command's last
message and the batch summary.
"""
from __future__ import annotations

import cv2
import numpy as np

from pipeline.blend import BlendResult

# Share of the face no warp of the photo explains above which the render replaced the photo
# (examples on the five shared photos measured 0.2-7%; a colour-mismatched feather paste 40-90%).
NEW_CONTENT_LIMIT = 0.25
# Share of the face visibly changed outside the asked-for region (the shared photos' edits: <= 6%).
CHANGED_OUTSIDE_LIMIT = 0.15
_REACH_IOD = 0.5   # capsule radius at least this many eye distances
_REACH_MOVE = 1.0  # ... and at least this many times the handle's move


def focus_region(handles: np.ndarray, targets: np.ndarray, inter_ocular_px: float, size: int,
                 mask: np.ndarray | None = None) -> np.ndarray:
    """[S, S] float32 0/1: where the points ask for change (handles/targets [K, 2] crop px; the eye distance in crop px)."""
    iod = float(inter_ocular_px)
    region = np.zeros((size, size), np.uint8)
    for (hx, hy), (tx, ty) in zip(np.asarray(handles, float), np.asarray(targets, float)):
        radius = max(_REACH_IOD * iod, _REACH_MOVE * float(np.hypot(tx - hx, ty - hy)))
        cv2.line(region, (int(round(hx)), int(round(hy))), (int(round(tx)), int(round(ty))), 1,
                 thickness=max(1, int(round(2 * radius))), lineType=cv2.LINE_8)
        cv2.circle(region, (int(round(hx)), int(round(hy))), int(round(radius)), 1, thickness=-1)
        cv2.circle(region, (int(round(tx)), int(round(ty))), int(round(radius)), 1, thickness=-1)
    focus = region.astype(np.float32)
    if mask is not None:
        focus = np.maximum(focus, (mask > 0.5).astype(np.float32))
    return focus


def change_flags(blend: BlendResult) -> list[str]:
    """One-line warnings for an edit that changed far more than the points asked (empty: none)."""
    flags = []
    if blend.new_content > NEW_CONTENT_LIMIT:
        flags.append(f"{100 * blend.new_content:.0f}% of the face is new content no warp of the photo explains "
                     f"(limit {100 * NEW_CONTENT_LIMIT:.0f}%): the render replaced the photo there; check the result")
    if blend.changed_outside is not None and blend.changed_outside > CHANGED_OUTSIDE_LIMIT:
        flags.append(f"{100 * blend.changed_outside:.0f}% of the face changed outside the region the points asked to "
                     f"move (limit {100 * CHANGED_OUTSIDE_LIMIT:.0f}%); try shorter moves, fewer steps or a mask")
    return flags
