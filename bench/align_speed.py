#!/usr/bin/env python3
"""Time detect + landmarks + align + paste-back on a 12 MP (4000x3000) photo. Target: under 2 s.

The 12 MP photos are made from the shared test photos (bicubic enlargement, reflected to
4000x3000 / 3000x4000) and saved as JPEG, so decoding is timed too. Prints each stage's
median over --repeats runs (after one warm-up, which also loads dlib's model; its load
time is printed separately).

    python -m bench.align_speed [--repeats 3] [--size 512]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from pipeline.align import align_face, detect_faces, predict_landmarks, select_face
from pipeline.align.landmark_predictor import _load_predictor, find_predictor
from pipeline.blend import blend_face
from pipeline.common.images import read_photo, save_image

PHOTOS = Path(__file__).resolve().parents[1] / "tests" / "data" / "photos"


def make_12mp(name: str, width: int, height: int, folder: Path) -> Path:
    """The photo enlarged to fill height (or width), reflected out to width x height, as JPEG."""
    src = read_photo(PHOTOS / name).pixels
    scale = min(width / src.shape[1], height / src.shape[0])
    big = cv2.resize(src, (round(src.shape[1] * scale), round(src.shape[0] * scale)), interpolation=cv2.INTER_CUBIC)
    dx, dy = width - big.shape[1], height - big.shape[0]
    big = cv2.copyMakeBorder(big, dy // 2, dy - dy // 2, dx // 2, dx - dx // 2, cv2.BORDER_REFLECT_101)
    return save_image(folder / f"{Path(name).stem}_{width}x{height}.jpg", big, jpeg_quality=92)


def smile(crop: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """A small drag-like warp of the crop (mouth corners outward), standing in for an edit."""
    size = crop.shape[0]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    dx = np.zeros_like(xx)
    for idx, sign in ((48, -1.0), (54, 1.0)):
        cx, cy = landmarks[idx]
        dx += sign * 0.02 * size * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (0.07 * size) ** 2))
    return cv2.remap(crop, xx - dx, yy, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)


def run_once(path: Path, size: int) -> dict[str, float]:
    times: dict[str, float] = {}

    def step(name, fn):
        t0 = time.perf_counter()
        out = fn()
        times[name] = time.perf_counter() - t0
        return out

    photo = step("read (JPEG decode)", lambda: read_photo(path).pixels)
    faces = step("detect", lambda: detect_faces(photo))
    index = select_face(faces, None, name=path.name)
    marks = step("landmarks", lambda: predict_landmarks(photo, faces[index]))
    aligned = step(f"align ({size} px crop)", lambda: align_face(photo, marks, size, "ffhq"))
    edited = smile(aligned.crop, aligned.crop_landmarks)
    step("paste-back feather", lambda: blend_face(photo, edited, aligned, mode="feather"))
    step("paste-back flow", lambda: blend_face(photo, edited, aligned, mode="flow"))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()

    t0 = time.perf_counter()
    _load_predictor(str(find_predictor()))
    print(f"dlib landmark model load (once per process): {time.perf_counter() - t0:.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (w, h) in (("grace_hopper.jpg", (4000, 3000)), ("portrait_b.jpg", (3000, 4000))):
            path = make_12mp(name, w, h, Path(tmp))
            run_once(path, args.size)  # warm-up
            runs = [run_once(path, args.size) for _ in range(args.repeats)]
            print(f"\n{path.name}: median of {args.repeats} runs")
            total_feather = total_flow = 0.0
            for stage in runs[0]:
                sec = statistics.median(r[stage] for r in runs)
                print(f"  {stage:28s} {sec:7.3f} s")
                if stage != "paste-back flow":
                    total_feather += sec
                if stage != "paste-back feather":
                    total_flow += sec
            print(f"  {'total with feather':28s} {total_feather:7.3f} s")
            print(f"  {'total with flow':28s} {total_flow:7.3f} s   (target < 2 s, read excluded: "
                  f"{total_flow - statistics.median(r['read (JPEG decode)'] for r in runs):.3f} s)")


if __name__ == "__main__":
    main()
