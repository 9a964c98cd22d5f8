#!/usr/bin/env python3
"""The edit's inversion on real photos: per-step costs of the CPU levers, and what each preset variant reaches.

--levers prints the seconds of one projection step and one PTI step of the default model under
each lever (float32 or bf16 autocast; LPIPS-VGG at 256 or 128 px; LPIPS-Alex for PTI).
Without it, every photo is aligned for the model and inverted with the device's preset (and the
variants asked for); one row per photo and variant: projection and PTI PSNR at the model's
resolution, LPIPS-VGG and LPIPS-Alex of the images area-downsampled to 256 px (as the PTI paper
reports; its CelebA-HQ figures: 24.61 dB / 0.082), steps and seconds.

Variants: preset (the device's), f32 (bf16 autocast off), fine (no 128 px LPIPS phase),
no-w (the W stage's steps spent in W+ instead), alex-pti (PTI with LPIPS-Alex).

    python -m bench.invert_presets [--levers] [--photos DIR ...] [--variants preset f32 ...] [--device auto]
"""
from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]

from bench.evaluation.script_args import add_device_argument
from pipeline.common import resolve_device
from pipeline.common.images import read_photo
from pipeline.edit.edit_config import EditConfig, inversion_configs
from pipeline.edit.editor import Editor
from pipeline.gan.loading import load_generator
from pipeline.invert import PTIConfig, ProjectConfig, image_to_tensor, load_perceptual, pivotal_tune, project
from pipeline.invert.fidelity import psnr

VARIANTS = ("preset", "f32", "fine", "no-w", "alex-pti")
DEFAULT_PHOTOS = [ROOT / "examples" / "grace_hopper.jpg"] + sorted(
    p for p in (ROOT / "tests" / "data" / "photos").iterdir() if p.suffix in (".jpg", ".png") and "grace" not in p.name)


def variant_plan(name: str, stages: tuple[ProjectConfig, ...], pti: PTIConfig):
    if name == "f32":
        return tuple(dataclasses.replace(s, bf16=False) for s in stages), dataclasses.replace(pti, bf16=False)
    if name == "fine":
        return tuple(dataclasses.replace(s, coarse_fraction=0.0) for s in stages), pti
    if name == "no-w":
        total = sum(s.num_steps for s in stages)
        return (dataclasses.replace(stages[-1], num_steps=total, initial_lr=stages[0].initial_lr),), pti
    if name == "alex-pti":
        return stages, dataclasses.replace(pti, backbone="lpips-alex")
    return stages, pti


def fidelity(image: torch.Tensor, target: torch.Tensor, vgg, alex) -> tuple[float, float, float]:
    """PSNR at full resolution; LPIPS-VGG and -Alex at 256 px."""
    small = [F.interpolate(x.clamp(-1, 1), size=256, mode="area") for x in (image, target)]
    return psnr(image, target), float(vgg(*small)), float(alex(*small))


def invert_rows(G, photos, variants, device) -> None:
    vgg, alex = load_perceptual("lpips-vgg", device=device), load_perceptual("lpips-alex", device=device)
    print(f"{'photo':<18}{'variant':<10}{'proj dB':>8}{'proj vgg':>9}{'PTI dB':>8}{'PTI vgg':>8}{'PTI alex':>9}"
          f"{'steps':>12}{'seconds':>16}")
    for path in photos:
        photo = read_photo(path)
        editor = Editor(G, config=EditConfig(), device=device, progress=False)
        editor.open(photo.pixels, name=photo.name)
        aligned = editor.select()
        target = image_to_tensor(aligned.crop.copy(), device=device)
        stages, pti = inversion_configs(EditConfig(), G, device)
        for name in variants:
            v_stages, v_pti = variant_plan(name, stages, pti)
            t0 = time.perf_counter()
            proj = None
            for stage in v_stages:
                proj = project(G, target, config=stage, device=device, start=proj, progress=False)
            t1 = time.perf_counter()
            tuned = pivotal_tune(G, proj, target, config=v_pti, device=device, progress=False)
            t2 = time.perf_counter()
            with torch.no_grad():
                p_img = proj.generator(G).to(device).synthesis(proj.ws.to(device))
                t_img = tuned.G.synthesis(tuned.ws.to(device))
            pp, pv, _ = fidelity(p_img, target, vgg, alex)
            tp, tv, ta = fidelity(t_img, target, vgg, alex)
            steps = f"{sum(s.num_steps for s in v_stages)}+{tuned.steps}"
            print(f"{path.name:<18}{name:<10}{pp:8.2f}{pv:9.4f}{tp:8.2f}{tv:8.4f}{ta:9.4f}{steps:>12}"
                  f"{t1 - t0:8.1f}+{t2 - t1:6.1f}", flush=True)


def lever_rows(G, device) -> None:
    target = torch.zeros(1, 3, G.img_resolution, G.img_resolution, device=device)
    base_w = ProjectConfig(num_steps=6, space="w+", optimize_noise=False, plateau_window=0)
    rows = [("projection step, float32, LPIPS-VGG 256 px", base_w, None),
            ("projection step, bf16, LPIPS-VGG 256 px", dataclasses.replace(base_w, bf16=True), None),
            ("projection step, bf16, LPIPS-VGG 128 px", dataclasses.replace(base_w, bf16=True, perceptual_resolution=128),
             None),
            ("PTI step, float32, LPIPS-VGG", None, PTIConfig(num_steps=6, stop_distance=0)),
            ("PTI step, bf16, LPIPS-VGG", None, PTIConfig(num_steps=6, stop_distance=0, bf16=True)),
            ("PTI step, bf16, LPIPS-Alex", None, PTIConfig(num_steps=6, stop_distance=0, bf16=True, backbone="lpips-alex"))]
    start = project(G, target, config=dataclasses.replace(base_w, num_steps=1), device=device, progress=False)
    print(f"{'lever':<48}{'s/step':>8}")
    for what, p_cfg, t_cfg in rows:
        if p_cfg is not None:
            seconds = project(G, target, config=p_cfg, device=device, progress=False).seconds_per_step
        else:
            seconds = pivotal_tune(G, start, target, config=t_cfg, device=device, progress=False).seconds_per_step
        print(f"{what:<48}{seconds:8.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mobilestylegan-ffhq-1024")
    add_device_argument(parser)
    parser.add_argument("--levers", action="store_true", help="per-step costs only")
    parser.add_argument("--photos", nargs="+", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=["preset"])
    args = parser.parse_args()
    device = resolve_device(args.device)
    G = load_generator(args.model, device=device)
    print(f"{args.model} on {device} ({torch.get_num_threads()} threads)")
    if args.levers:
        lever_rows(G, device)
    else:
        invert_rows(G, args.photos, args.variants, device)


if __name__ == "__main__":
    main()
