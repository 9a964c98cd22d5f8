#!/usr/bin/env python3
"""Make the shipped demo model: convert the gan-face-generate DCGAN into our safetensors format.

Route (a) of issue 4: the teacher itself, no training. Steps:
1. read the teacher's weights from the installed `gan-face-generate` wheel (only the weights
   file: none of that package's code runs; torch.load with weights_only=True);
2. fold its BatchNorm layers into the transposed convolutions (`fold_tutorial_state_dict`);
3. measure the landmark template: seeds 0..N-1 at --template-psi, dlib protocol of
   bench/sample_faces.py, drop outlier detections, average the 68 points in crop units;
4. write checkpoints/demo-face-64.safetensors (weights + metadata) and
   checkpoints/demo-face-64.landmarks.json (the template, for humans).

    pip install gan-face-generate==1.1.1    # tools-only dependency, not needed at run time
    python -m tools.make_demo_generator [--out checkpoints/demo-face-64.safetensors]
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]

from bench.evaluation.script_args import add_device_argument
from pipeline.common import resolve_device, write_json_atomic
from pipeline.gan.dcgan import DCGANConfig, DCGANGenerator, fold_tutorial_state_dict
from pipeline.gan.safetensors_format import save_generator
from bench.evaluation.sample_faces import DETECTOR_UPSAMPLING, UPSCALE, find_faces, render_samples

log = logging.getLogger("make_demo_generator")

TEACHER_PACKAGE = "gan-face-generate"
TEACHER_WEIGHTS = "weights.tar"  # inside the gan_face_generate package folder
TEACHER_KEY = "netG_state_dict"
MODEL_NAME = "demo-face-64"
LICENSE_NOTE = (
    "Weights converted from gan-face-generate (MIT, (c) 2023 Chien Liu). The network was trained on "
    "DigiFace-1M (Microsoft), whose licence allows non-commercial research use only: treat this "
    "model and its outputs as research-only."
)
# A detection whose mean landmark distance to the per-landmark median exceeds this many times
# the median of that distance is a dlib mistake (a box on hair or background), not a face layout.
OUTLIER_FACTOR = 3.0


def teacher_weights_path() -> Path:
    spec = importlib.util.find_spec("gan_face_generate")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"error: {TEACHER_PACKAGE} is not installed: pip install {TEACHER_PACKAGE}==1.1.1")
    path = Path(list(spec.submodule_search_locations)[0]) / TEACHER_WEIGHTS
    if not path.is_file():
        raise SystemExit(f"error: {path} is missing: reinstall {TEACHER_PACKAGE}")
    return path


def convert_teacher(path: Path) -> DCGANGenerator:
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    config = DCGANConfig()
    G = DCGANGenerator(config)
    G.load_state_dict(fold_tutorial_state_dict(checkpoint[TEACHER_KEY], config), strict=True)
    return G.eval().requires_grad_(False)


def landmark_template(G: DCGANGenerator, *, seeds: int, psi: float, device: torch.device) -> dict:
    """Mean 68-point layout of G's samples in crop units, with the figures that describe it."""
    images = render_samples(
        lambda z: G(z, truncation_psi=psi), range(seeds), z_dim=G.z_dim, device=device
    )
    faces = find_faces(images, landmarks=True)
    points = np.stack([f.landmarks for f in faces if f is not None])  # [D, 68, 2]
    median = np.median(points, axis=0)
    spread = np.linalg.norm(points - median, axis=2).mean(axis=1)  # [D], crop units
    keep = spread <= OUTLIER_FACTOR * np.median(spread)
    kept = points[keep]
    template = kept.mean(axis=0)  # [68, 2]
    std = kept.std(axis=0)  # [68, 2]
    return {
        "template": np.round(template, 5).tolist(),
        "std": np.round(std, 5).tolist(),
        "units": "fractions of the crop side from its outer top-left corner; x right, y down; "
        "pixel i's centre at (i + 0.5) / 64",
        "seeds": f"0-{seeds - 1}",
        "truncation_psi": psi,
        "protocol": f"uint8 sample, {UPSCALE}x bicubic (Pillow), dlib frontal detector with "
        f"{DETECTOR_UPSAMPLING} upsampling, largest box, shape_predictor_68_face_landmarks",
        "detected": int(len(points)),
        "kept": int(keep.sum()),
        "outlier_rule": f"dropped detections whose mean landmark distance to the per-landmark median "
        f"exceeds {OUTLIER_FACTOR} x the median of that distance",
        "mean_std": round(float(std.mean()), 5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "checkpoints" / f"{MODEL_NAME}.safetensors")
    parser.add_argument("--template-seeds", type=int, default=1000, help="samples for the landmark template")
    parser.add_argument("--template-psi", type=float, default=1.0, help="truncation of those samples")
    add_device_argument(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    device = resolve_device(args.device)
    t0 = time.perf_counter()

    # 1-2. Teacher weights -> our module.
    weights = teacher_weights_path()
    sha256 = hashlib.sha256(weights.read_bytes()).hexdigest()
    version = importlib.metadata.version(TEACHER_PACKAGE)
    G = convert_teacher(weights).to(device)
    log.info("converted %s %s (%s, sha256 %s)", TEACHER_PACKAGE, version, weights, sha256)

    # 3. Landmark template.
    tpl = landmark_template(G, seeds=args.template_seeds, psi=args.template_psi, device=device)
    log.info("landmark template: %d of %d samples detected, %d kept, mean std %.4f",
             tpl["detected"], args.template_seeds, tpl["kept"], tpl["mean_std"])

    # 4. Write the checkpoint and the human-readable template.
    source = {
        "package": TEACHER_PACKAGE,
        "version": version,
        "file": f"gan_face_generate/{TEACHER_WEIGHTS}",
        "key": TEACHER_KEY,
        "sha256": sha256,
        "conversion": "BatchNorm (running statistics, eps 1e-5) folded into the transposed convolutions",
    }
    metadata = {
        "name": MODEL_NAME,
        "crop_convention": "template",
        "landmark_template": json.dumps(tpl["template"], separators=(",", ":")),
        "source": json.dumps(source, separators=(",", ":")),
        "license": LICENSE_NOTE,
    }
    save_generator(G.cpu(), args.out, metadata=metadata)
    landmarks_path = args.out.with_name(args.out.name.removesuffix(".safetensors") + ".landmarks.json")
    write_json_atomic(landmarks_path, {"model": MODEL_NAME, **tpl})
    size_mb = args.out.stat().st_size / 2**20
    log.info("wrote %s (%.1f MiB) and %s in %.0f s", args.out, size_mb, landmarks_path, time.perf_counter() - t0)


if __name__ == "__main__":
    main()
