#!/usr/bin/env python3
"""Which faces each detector finds, and how close their landmarks land (issue 14, item 1).

    python -m bench.face_detection [--samples 100] [--seed 1000] [--out out/bench]

Part 1, the shared photos (tests/data/photos) and harder copies of each: the face filling the
frame (a square 1.25 x the face box, enlarged to 1024 px), turned in the image plane by +-30
degrees, mirrored. Reference landmarks: HOG's on the untouched photo, carried through the
same transform. Printed per detector: faces found, mean landmark error / inter-ocular distance.

Part 2, MobileStyleGAN faces, each frontal and turned both ways by about 45 degrees and further
(along a W direction fitted to the nose tip's sideways offset from the eyes), then each filling the
frame: faces found per detector; landmark error of the frame-filling copy against the 512 px
face's. Timing: seconds per 512 px photo of each detector.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from pipeline.align import DetectConfig, detect_faces, predict_landmarks
from pipeline.common.images import read_photo

PHOTOS = Path(__file__).resolve().parents[1] / "tests" / "data" / "photos"
DETECTORS = ("hog", "auto")
TARGET_ERROR = 0.08  # issue 14: mean landmark error at most this share of the inter-ocular distance


def inter_ocular(marks: np.ndarray) -> float:
    return float(np.linalg.norm(marks[36:42].mean(axis=0) - marks[42:48].mean(axis=0)))


def found_landmarks(image: np.ndarray, reference: np.ndarray, detector: str) -> tuple[np.ndarray | None, str]:
    """Landmarks of the detected face containing the reference's centre (None if none), and its source."""
    centre = reference.mean(axis=0)
    for face in detect_faces(image, config=DetectConfig(detector=detector)):
        left, top, right, bottom = face.box
        if left <= centre[0] <= right and top <= centre[1] <= bottom:
            return predict_landmarks(image, face), face.source
    return None, "-"


def photo_variants(photo: np.ndarray, marks: np.ndarray):
    """(name, image, reference landmarks) for the harder copies of one photo."""
    yield "original", photo, marks
    lo, hi = marks.min(axis=0), marks.max(axis=0)
    side = 1.25 * float(max(hi - lo))
    cx, cy = 0.5 * (lo + hi)
    scale = 1024 / side
    m = np.array([[scale, 0, -(cx - side / 2) * scale], [0, scale, -(cy - side / 2) * scale]])
    yield "fills the frame", cv2.warpAffine(photo, m, (1024, 1024), flags=cv2.INTER_CUBIC,
                                            borderMode=cv2.BORDER_REFLECT_101), _apply(m, marks)
    for angle in (-30, 30):
        h, w = photo.shape[:2]
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        yield f"turned {angle:+d} deg", cv2.warpAffine(photo, m, (w, h), flags=cv2.INTER_CUBIC,
                                                       borderMode=cv2.BORDER_REFLECT_101), _apply(m, marks)
    flipped = np.ascontiguousarray(photo[:, ::-1])
    mirrored = marks.copy()
    mirrored[:, 0] = photo.shape[1] - 1 - mirrored[:, 0]
    yield "mirrored", flipped, mirrored  # landmark order flips too: compared as point sets below


def _apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ m[:, :2].T + m[:, 2]


def landmark_error(found: np.ndarray, reference: np.ndarray, mirrored: bool) -> float:
    if mirrored:  # index i of a mirrored face is a different landmark: match each to its nearest
        d = np.linalg.norm(found[:, None] - reference[None], axis=2).min(axis=1)
    else:
        d = np.linalg.norm(found - reference, axis=1)
    return float(d.mean()) / inter_ocular(reference)


def part_photos() -> list[str]:
    lines = ["Part 1: shared photos and harder copies (error = mean landmark error / inter-ocular distance)",
             "| photo | copy | " + " | ".join(f"{d}: found, error" for d in DETECTORS) + " |",
             "|---|---|" + "---|" * len(DETECTORS)]
    errors = {d: [] for d in DETECTORS}
    misses = {d: 0 for d in DETECTORS}
    for path in sorted(PHOTOS.iterdir()):
        if path.suffix.lower() not in (".jpg", ".png"):
            continue
        photo = read_photo(path).pixels
        faces = detect_faces(photo, config=DetectConfig(detector="hog"))
        if not faces:
            lines.append(f"| {path.name} | (no HOG reference) | |")
            continue
        marks = predict_landmarks(photo, max(faces, key=lambda f: f.area))
        for name, image, reference in photo_variants(photo, marks):
            cells = []
            for detector in DETECTORS:
                found, source = found_landmarks(image, reference, detector)
                if found is None:
                    misses[detector] += 1
                    cells.append("no")
                    continue
                err = landmark_error(found, reference, mirrored=name == "mirrored")
                errors[detector].append(err)
                cells.append(f"yes ({source}), {err:.3f}")
            lines.append(f"| {path.name} | {name} | " + " | ".join(cells) + " |")
    lines.append("(turns in the image plane go beyond the issue's target, turned heads: dlib's HOG filters cover "
                 "about +-15 deg of it)")
    for d in DETECTORS:
        mean = statistics.fmean(errors[d]) if errors[d] else float("nan")
        verdict = "met" if misses[d] == 0 and mean <= TARGET_ERROR else "NOT met"
        lines.append(f"{d}: missed {misses[d]} of {misses[d] + len(errors[d])}; mean error {mean:.3f} "
                     f"[{verdict}: every face found, mean error <= {TARGET_ERROR}]")
    return lines


def turn_direction(G, device, seeds: range) -> np.ndarray:
    """A W direction that turns the head: ridge regression of the signed turn on w (HOG faces)."""
    from bench.evaluation.latents import render, seed_ws

    ws_rows, turns = [], []
    for s in seeds:
        ws = seed_ws(G, s, truncation_psi=1.0, device=device)
        image = cv2.resize(render(G, ws, noise_mode="const")[0], (256, 256), interpolation=cv2.INTER_AREA)
        faces = detect_faces(image, config=DetectConfig(detector="hog"))
        if faces:
            marks = predict_landmarks(image, max(faces, key=lambda f: f.area))
            ws_rows.append(ws[0, 0].cpu().numpy())
            turns.append(signed_turn(marks))
    w = np.asarray(ws_rows, np.float64)
    t = np.asarray(turns)
    wc = w - w.mean(axis=0)
    d = np.linalg.solve(wc.T @ wc + 10.0 * np.eye(w.shape[1]), wc.T @ (t - t.mean()))
    return d / float(d @ d)  # one unit along it: about one eye distance of nose offset


def signed_turn(marks: np.ndarray) -> float:
    eyes = 0.5 * (marks[36:42].mean(axis=0) + marks[42:48].mean(axis=0))
    return float(marks[30, 0] - eyes[0]) / inter_ocular(marks)


def part_samples(num: int, seed: int) -> list[str]:
    from bench.evaluation.latents import render, seed_ws
    from pipeline.gan.loading import load_generator, resolve_model_arg

    device = torch.device("cpu")
    G = load_generator(resolve_model_arg(None), device=device)
    direction = torch.from_numpy(turn_direction(G, device, range(seed + 10000, seed + 10080))).float()
    cases = {"frontal": 0.0, "turned left (0.6)": 0.6, "turned right (0.6)": -0.6,
             "turned further left (0.9)": 0.9, "turned further right (0.9)": -0.9}
    found = {c: {d: 0 for d in DETECTORS} for c in (*cases, "fills the frame")}
    errors, turns, seconds = {d: [] for d in DETECTORS}, [], {d: [] for d in DETECTORS}
    for s in range(seed, seed + num):
        base = seed_ws(G, s, truncation_psi=0.7, device=device)
        for case, amount in cases.items():
            big = render(G, base + amount * direction, noise_mode="const")[0]  # [1024, 1024, 3]
            image = cv2.resize(big, (512, 512), interpolation=cv2.INTER_AREA)
            reference = None
            for d in DETECTORS:
                tick = time.perf_counter()
                faces = detect_faces(image, config=DetectConfig(detector=d))
                seconds[d].append(time.perf_counter() - tick)
                found[case][d] += bool(faces)
                if faces and reference is None:
                    reference = predict_landmarks(image, max(faces, key=lambda f: f.area))
            if reference is None:
                continue
            turns.append(abs(signed_turn(reference)))
            # The same face filling the frame: the middle of the 1024 px render, enlarged back to 1024.
            lo, hi = reference.min(axis=0) * 2, reference.max(axis=0) * 2
            side = 1.25 * float(max(hi - lo))
            cx, cy = 0.5 * (lo + hi)
            k = 1024 / side
            m = np.array([[k, 0, -(cx - side / 2) * k], [0, k, -(cy - side / 2) * k]])
            tight = cv2.warpAffine(big, m, (1024, 1024), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)
            ref_tight = _apply(m, (reference + 0.5) * 2 - 0.5)
            for d in DETECTORS:
                marks, _ = found_landmarks(tight, ref_tight, d)
                found["fills the frame"][d] += marks is not None
                if marks is not None:
                    errors[d].append(landmark_error(marks, ref_tight, mirrored=False))
    lines = [f"Part 2: {num} MobileStyleGAN faces (psi 0.7, seeds {seed}-{seed + num - 1}), each frontal and turned "
             "both ways along a W direction fitted to turn the head (nose offset 0.6 eye distances is about 45 deg; "
             f"measured turn of the faces: median {statistics.median(turns):.2f}, max {max(turns):.2f}), 512 px; "
             "then each found face filling a 1024 px frame (error against its 512 px landmarks)",
             "| case | images | " + " | ".join(DETECTORS) + " |", "|---|---|" + "---|" * len(DETECTORS)]
    for case, row in found.items():
        total = num if case != "fills the frame" else len(turns)
        lines.append(f"| {case} | {total} | " + " | ".join(f"{row[d]}" for d in DETECTORS) + " |")
    lines.append("fills the frame, mean landmark error / inter-ocular distance: " + ", ".join(
        f"{d} {statistics.fmean(errors[d]):.3f}" for d in DETECTORS if errors[d]))
    lines.append("seconds per 512 px photo (median): " + ", ".join(
        f"{d} {statistics.median(seconds[d]):.2f}" for d in DETECTORS))
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=30, help="generator faces in part 2 (0: skip)")
    parser.add_argument("--seed", type=int, default=1000, help="first seed of part 2")
    parser.add_argument("--out", type=Path, default=Path("out/bench"))
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    lines = part_photos()
    if args.samples > 0:
        lines += [""] + part_samples(args.samples, args.seed)
    text = "\n".join(lines)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "face_detection.txt").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
