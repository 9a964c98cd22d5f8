#!/usr/bin/env python3
"""Inversion quality: known-latent recovery and real-photo reconstruction (PSNR on the crop).

1. Known latents: images from `--seeds` seeds (psi 0.7, clipped to [-1, 1]) of the small
   StyleGAN2 reference fixture generator (tests/data/stylegan2-fixtures) and of the demo model;
   W+ projection of each; mean PSNR (target for the fixture: >= 28 dB). Protocol (KNOWN_LATENT):
   the question is whether the latent can be found, so the generator keeps its own noise maps
   (those that made the image), the loss is the pixel MSE and no exploration noise is added to
   w. With the default projector (random noise maps, perceptual loss only) the fixture's
   half-saturated, noise-like images are not recovered in PSNR terms (see --known-default).
2. Real photos (tests/data/photos, the shared photos): aligned for the demo model, projection,
   then PTI; PSNR of both per photo (targets: PTI >= 30 dB, and PTI > projection, on every photo).

The perceptual backbone must be a real one (lpips-vgg or lpips-alex), never the random trunk.

    python -m bench.invert_quality [--device auto] [--backbone lpips-vgg] [--seeds 20] [--steps 1000]
                                   [--pti-steps 350] [--photos DIR] [--skip-known] [--skip-photos] [--json out.json]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import statistics
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bench.evaluation.script_args import add_device_argument
from pipeline.common import resolve_device
from pipeline.gan import seeded_z
from pipeline.gan.interface import LatentGenerator
from pipeline.invert import (PTIConfig, ProjectConfig, image_to_tensor, load_perceptual,
                             pivotal_tune, project)

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "data" / "stylegan2-fixtures"
PHOTOS = ROOT / "tests" / "data" / "photos"
KNOWN_TARGET_DB = 28.0
KNOWN_LATENT = dict(space="w+", optimize_noise=False, perceptual_weight=0.0, pixel_weight=1.0, initial_noise_factor=0.0)
PTI_TARGET_DB = 30.0


def fixture_generator(device: torch.device) -> LatentGenerator:
    """The 64 px reference StyleGAN2 of the parity tests, read from its checked archive."""
    from pipeline.gan.stylegan2 import StyleGAN2Config, StyleGAN2Generator

    sums = dict(line.split()[::-1] for line in (FIXTURES / "SHA256SUMS").read_text().splitlines())
    with tempfile.TemporaryDirectory() as tmp:
        with lzma.open(FIXTURES / "weights-and-pickles.tar.xz") as xz, tarfile.open(fileobj=xz, mode="r|") as tar:
            tar.extractall(tmp, filter="data")
        files = {name: Path(tmp) / name for name in ("generator_state_dict.pt", "generator_config.json")}
        for name, path in files.items():
            if hashlib.sha256(path.read_bytes()).hexdigest() != sums[name]:
                raise SystemExit(f"fixture {name} is corrupt")
        kw = json.loads(files["generator_config.json"].read_text())["constructor_kwargs"]
        cfg = StyleGAN2Config(
            z_dim=kw["z_dim"], w_dim=kw["w_dim"], img_resolution=kw["img_resolution"], img_channels=kw["img_channels"],
            mapping_layers=kw["mapping_kwargs"]["num_layers"], channel_base=kw["channel_base"],
            channel_max=kw["channel_max"], num_fp16_res=kw["num_fp16_res"], conv_clamp=kw["conv_clamp"],
        )
        G = StyleGAN2Generator(cfg)
        G.load_state_dict(torch.load(files["generator_state_dict.pt"], weights_only=True), strict=True)
    return G.eval().requires_grad_(False).to(device)


def known_latent_recovery(G: LatentGenerator, name: str, *, args, device, perceptual) -> dict:
    psnrs = []
    for seed in range(args.seeds):
        with torch.no_grad():
            target = G.synthesis(G.mapping(seeded_z(seed, G.z_dim, device=device), truncation_psi=0.7)).clamp(-1, 1)
        protocol = {"space": "w+"} if args.known_default else KNOWN_LATENT
        proj = project(G, target, config=ProjectConfig(num_steps=args.steps, backbone=args.backbone, **protocol),
                       device=device, perceptual=perceptual, progress=False)
        psnrs.append(proj.final["psnr"])
        print(f"  {name} seed {seed:2d}: {proj.final['psnr']:.2f} dB after {proj.steps} steps ({proj.stop_reason})",
              flush=True)
    return {"psnr": psnrs, "mean_psnr": statistics.fmean(psnrs)}


def photo_reconstruction(G: LatentGenerator, *, args, device, perceptual) -> dict:
    from pipeline.align import align_photo
    from pipeline.common.images import read_photo

    template = G.model_info.get("landmark_template")
    out = {}
    for path in sorted(p for p in args.photos.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")):
        photo = read_photo(path)
        aligned = align_photo(photo.pixels, name=path.name, output_size=G.img_resolution,
                              convention=G.model_info.get("crop_convention", "ffhq"),
                              template=None if template is None else np.asarray(template))
        target = image_to_tensor(aligned.crop, device=device)
        proj = project(G, target, config=ProjectConfig(num_steps=args.steps, backbone=args.backbone), device=device,
                       perceptual=perceptual, progress=False)
        tuned = pivotal_tune(G, proj, target, config=PTIConfig(num_steps=args.pti_steps, backbone=args.backbone),
                             device=device, perceptual=perceptual, progress=False)
        out[path.name] = {"projection_psnr": proj.final["psnr"], "pti_psnr": tuned.final["psnr"],
                          "projection_distance": proj.final["perceptual"], "pti_distance": tuned.final["perceptual"],
                          "projection_steps": proj.steps, "pti_steps": tuned.steps, "pti_stop": tuned.stop_reason}
        print(f"  {path.name:18s} projection {proj.final['psnr']:.2f} dB -> PTI {tuned.final['psnr']:.2f} dB "
              f"({tuned.steps} PTI steps, {tuned.stop_reason}; distance {tuned.final['perceptual']:.4f})", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_device_argument(parser)
    parser.add_argument("--backbone", default="lpips-vgg", choices=("lpips-vgg", "lpips-alex"))
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--steps", type=int, default=ProjectConfig().num_steps, help="projection steps")
    parser.add_argument("--pti-steps", type=int, default=PTIConfig().num_steps)
    parser.add_argument("--photos", type=Path, default=PHOTOS)
    parser.add_argument("--skip-known", action="store_true")
    parser.add_argument("--known-default", action="store_true",
                        help="known latents with the default projector (W+) instead of the KNOWN_LATENT protocol")
    parser.add_argument("--skip-photos", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    device = resolve_device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    from pipeline.gan.loading import load_generator

    perceptual = load_perceptual(args.backbone, device=device)
    demo = load_generator("demo-face-64", device=device)
    started = time.perf_counter()
    out: dict = {"device": str(device), "backbone": perceptual.info, "steps": args.steps,
                 "pti_steps": args.pti_steps, "seeds": args.seeds}
    print(f"backbone {args.backbone}, device {device}, projection {args.steps} steps, PTI <= {args.pti_steps} steps")

    if not args.skip_known:
        protocol = "default projector" if args.known_default else f"protocol {KNOWN_LATENT}"
        print(f"known-latent recovery, W+ projection, {args.seeds} seeds, psi 0.7, {protocol}:")
        fixture = known_latent_recovery(fixture_generator(device), "fixture", args=args, device=device,
                                        perceptual=perceptual)
        demo_known = known_latent_recovery(demo, "demo", args=args, device=device, perceptual=perceptual)
        out["known_latent"] = {"fixture": fixture, "demo-face-64": demo_known,
                               "protocol": {"space": "w+"} if args.known_default else KNOWN_LATENT}

    if not args.skip_photos:
        print(f"real photos from {args.photos}, aligned for demo-face-64:")
        out["photos"] = photo_reconstruction(demo, args=args, device=device, perceptual=perceptual)

    print("summary:")
    if "known_latent" in out:
        fx, dm = out["known_latent"]["fixture"]["mean_psnr"], out["known_latent"]["demo-face-64"]["mean_psnr"]
        print(f"  known latents, fixture StyleGAN2: mean {fx:.2f} dB (target >= {KNOWN_TARGET_DB}): "
              f"{'PASS' if fx >= KNOWN_TARGET_DB else 'FAIL'}")
        print(f"  known latents, demo-face-64: mean {dm:.2f} dB")
    if "photos" in out:
        rows = out["photos"].values()
        proj_mean = statistics.fmean(r["projection_psnr"] for r in rows)
        pti_mean = statistics.fmean(r["pti_psnr"] for r in rows)
        reach = all(r["pti_psnr"] >= PTI_TARGET_DB for r in rows)
        beats = all(r["pti_psnr"] > r["projection_psnr"] for r in rows)
        print(f"  photos: projection mean {proj_mean:.2f} dB, PTI mean {pti_mean:.2f} dB; PTI >= {PTI_TARGET_DB} dB "
              f"on every photo: {'PASS' if reach else 'FAIL'}; PTI beats projection on every photo: "
              f"{'PASS' if beats else 'FAIL'}")
    out["seconds"] = time.perf_counter() - started
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
