"""Pictures of a drag: the trajectory animation (GIF) and its frames.

Each frame shows the image at that step, the handles (red), their path so far (red line) and
the targets (blue). Small models are upscaled (nearest) so the marks stay readable.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw

from ..common import write_atomic

Point = tuple[float, float]
HANDLE_RGB = (230, 30, 30)
TARGET_RGB = (30, 80, 240)


def select_frame_steps(num_steps: int, max_frames: int = 40) -> list[int]:
    """Evenly spaced steps 0..num_steps, first and last included, at most max_frames of them."""
    if num_steps + 1 <= max_frames:
        return list(range(num_steps + 1))
    picks = np.linspace(0, num_steps, max_frames).round().astype(int)
    return sorted(set(int(p) for p in picks))


def draw_frame(
    image: np.ndarray,  # [H, W, 3] uint8
    path: Sequence[Sequence[Point]],  # handle positions per step so far: [k + 1][N]
    targets: Sequence[Point],
    *,
    min_size: int = 256,  # px: smaller images are upscaled to at least this
) -> Image.Image:
    height, width = image.shape[:2]
    scale = max(1, math.ceil(min_size / max(width, height)))
    frame = Image.fromarray(image).resize((width * scale, height * scale), Image.NEAREST)
    draw = ImageDraw.Draw(frame)
    radius = max(2, scale + 1)

    def px(p: Point) -> tuple[float, float]:
        return ((p[0] + 0.5) * scale, (p[1] + 0.5) * scale)

    for t in targets:
        x, y = px(t)
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=TARGET_RGB, outline=(255, 255, 255))
    for i in range(len(targets)):
        line = [px(step[i]) for step in path]
        if len(line) > 1:
            draw.line(line, fill=HANDLE_RGB, width=max(1, scale // 2))
        x, y = line[-1]
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=HANDLE_RGB, outline=(255, 255, 255))
    return frame


def write_trajectory_gif(
    path: str | Path,
    frames: Sequence[tuple[int, np.ndarray]],  # (step, [H, W, 3] uint8) in step order
    trajectory: Sequence[Sequence[Point]],  # [steps + 1][N] handle positions
    targets: Sequence[Point],
    *,
    frame_ms: int = 100,  # display time per frame
    last_frame_ms: int = 1000,  # the final frame is held longer
) -> Path:
    if not frames:
        raise ValueError("a trajectory animation needs at least one frame")
    images = [draw_frame(img, trajectory[: step + 1], targets) for step, img in frames]
    durations = [frame_ms] * (len(images) - 1) + [last_frame_ms]

    def save(tmp: Path) -> None:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0)

    return write_atomic(path, save)
