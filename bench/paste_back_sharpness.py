#!/usr/bin/env python3
"""Sharpness of the pasted-back face: 'flow' (edit redone on the photo's pixels) vs 'feather'.

No GAN needed: each photo is aligned at 64 px and 512 px; the "edit" is a smooth synthetic
warp of the crop (mouth corners pulled out and up, like a drag), optionally with new content
(a bright patch between the lips, like teeth). The unedited crop is the reconstruction.
Sharpness = variance of the Laplacian of the luma over the face region (mask alpha > 0.5);
printed as a ratio to the original photo's figure (1.0 = as sharp as the photo).

    python -m bench.paste_back_sharpness [--photos tests/data/photos] [--upscale 1]

--upscale N enlarges each photo N times first (bicubic), to mimic a high-resolution photo
whose face has far more pixels than the generator.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from pipeline.align import AlignedFace, align_face, find_faces
from pipeline.blend import blend_face
from pipeline.common.images import read_photo

PHOTOS = ("astronaut.png", "grace_hopper.jpg", "portrait_a.jpg", "portrait_b.jpg", "messi5.jpg")


def synthetic_edit(aligned: AlignedFace, *, new_content: bool) -> np.ndarray:
    """A drag-like smooth warp of the crop: mouth corners move out and up by 3% of the side."""
    size = aligned.output_size
    lm = aligned.crop_landmarks
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    dx = np.zeros_like(xx)
    dy = np.zeros_like(yy)
    sigma = 0.07 * size
    for idx, sign in ((48, -1.0), (54, 1.0)):
        cx, cy = lm[idx]
        bump = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma * sigma))
        dx += sign * 0.03 * size * bump
        dy += -0.03 * size * bump
    # Backward map: the edit shows at p what the crop had at p - d(p).
    edited = cv2.remap(aligned.crop, xx - dx, yy - dy, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)
    if new_content:
        centre = lm[60:68].mean(axis=0)
        axes = (max(int(0.05 * size), 1), max(int(0.012 * size), 1))
        cv2.ellipse(edited, (int(centre[0]), int(centre[1])), axes, 0, 0, 360, (240, 240, 235), -1, cv2.LINE_AA)
    return edited


def sharpness(image: np.ndarray, region: np.ndarray) -> float:
    luma = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float64)
    lap = cv2.Laplacian(luma, cv2.CV_64F, ksize=3)
    return float(lap[region].var())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", default=str(Path(__file__).resolve().parents[1] / "tests/data/photos"))
    parser.add_argument("--upscale", type=float, default=1.0)
    parser.add_argument("--sizes", default="64,512")
    args = parser.parse_args()

    print("face-region sharpness (variance of Laplacian) of the pasted-back photo / the original's")
    print(f"photos from {args.photos}, upscaled x{args.upscale:g}")
    print(f"{'photo':18s} {'crop':>5s} {'crop/photo px':>13s} {'edit':>12s} {'feather':>8s} {'flow':>8s} "
          f"{'flow new%':>9s}")
    ratios = {"feather": [], "flow": []}
    for name in PHOTOS:
        photo = read_photo(Path(args.photos) / name).pixels
        if args.upscale != 1.0:
            photo = cv2.resize(photo, None, fx=args.upscale, fy=args.upscale, interpolation=cv2.INTER_CUBIC)
        faces, marks = find_faces(photo)
        chosen = max(range(len(faces)), key=lambda i: faces[i].area)
        for size in (int(s) for s in args.sizes.split(",")):
            aligned = align_face(photo, marks[chosen], size, "ffhq")
            for label, fresh in (("warp", False), ("warp+teeth", True)):
                edited = synthetic_edit(aligned, new_content=fresh)
                feather = blend_face(photo, edited, aligned, mode="feather")
                flow = blend_face(photo, edited, aligned, mode="flow")
                x0, y0, x1, y1 = feather.roi
                region = np.zeros(photo.shape[:2], bool)
                region[y0:y1, x0:x1] = feather.alpha > 0.5
                base = sharpness(photo, region)
                r_feather = sharpness(feather.photo, region) / base
                r_flow = sharpness(flow.photo, region) / base
                ratios["feather"].append(r_feather)
                ratios["flow"].append(r_flow)
                print(f"{name:18s} {size:5d} {aligned.scale:13.2f} {label:>12s} {r_feather:8.2f} {r_flow:8.2f} "
                      f"{100 * flow.new_content:9.1f}")
    print(f"minimum ratio: feather {min(ratios['feather']):.2f}, flow {min(ratios['flow']):.2f} "
          "(target for flow: >= 0.8)")


if __name__ == "__main__":
    main()
