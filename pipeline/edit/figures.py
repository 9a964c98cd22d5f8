"""Pictures of an edit: the before/after side by side, and frames of the drag for its animation."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from pipeline.drag.progress import render_frames
from pipeline.drag.trajectory import HANDLE_RGB, TARGET_RGB

from .edit_types import EditResult

MAX_SIDE_BY_SIDE_HEIGHT = 2048  # px; taller photos are shown reduced


def side_by_side(before: np.ndarray, after: np.ndarray, handles: np.ndarray, targets: np.ndarray, *,
                 draw_points: bool = True) -> np.ndarray:
    """[H, 2W (+gap), 3] uint8: the photo `before` with its handles -> targets ([N, 2] photo px) drawn,
    and the edited photo `after` (same size)."""
    height, width = before.shape[:2]
    scale = min(1.0, MAX_SIDE_BY_SIDE_HEIGHT / height)
    size = (max(int(round(width * scale)), 1), max(int(round(height * scale)), 1))
    left = Image.fromarray(before).resize(size, Image.LANCZOS) if scale < 1 else Image.fromarray(before)
    right = Image.fromarray(after).resize(size, Image.LANCZOS) if scale < 1 else Image.fromarray(after)
    if draw_points:
        _draw_arrows(left, np.asarray(handles) * scale, np.asarray(targets) * scale)
    gap = max(4, size[0] // 100)
    canvas = Image.new("RGB", (2 * size[0] + gap, size[1]), (255, 255, 255))
    canvas.paste(left, (0, 0))
    canvas.paste(right, (size[0] + gap, 0))
    return np.asarray(canvas)


def drag_frames(result: EditResult, *, max_frames: int = 40) -> list[tuple[int, np.ndarray]]:
    """(step, crop [S, S, 3] uint8) for evenly spaced drag steps; needs `record_steps=True` in the edit."""
    return render_frames(result.inversion.G, result.step_latents, result.drag.steps,
                         noise_mode=result.drag.settings.noise_mode, max_frames=max_frames)


def _draw_arrows(image: Image.Image, handles: np.ndarray, targets: np.ndarray) -> None:
    """Rings, not dots: on a small face a filled dot hides the very eye or lip corner it marks."""
    draw = ImageDraw.Draw(image)
    radius = max(3.0, min(image.size) / 100)
    width = max(1, int(round(radius / 3)))
    for (hx, hy), (tx, ty) in zip(handles, targets):
        draw.line([(hx, hy), (tx, ty)], fill=(255, 255, 255), width=1)
        for (x, y), colour in (((hx, hy), HANDLE_RGB), ((tx, ty), TARGET_RGB)):
            outer = radius + 1
            draw.ellipse([x - outer, y - outer, x + outer, y + outer], outline=(255, 255, 255), width=1)
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], outline=colour, width=width)
