"""The inversion an edit runs for a generator and a device: projection stages, then PTI.

Three presets (numbers are the generator's own figures on the shared photos, bench/invert_presets.py):
- 'small' (models under 128 px, the 64 px demo): one projection of 250 steps, PTI of 120 with one
  absolute lr (its measured settings since session 1);
- 'cpu' (larger models, no GPU): W, then W+, then PTI, sized so the README's edit of the default
  1024 px model stays under 5 minutes on a 2-core CPU with 1 or 2 threads; bf16 autocast where the
  CPU computes bf16 natively (AVX512-BF16/AMX), float32 elsewhere;
- 'gpu' (CUDA): the published schedules: a 450-step W pivot (PTI paper), 100 W+ steps, PTI of 350.
Noise maps stay the generator's own (`optimize_noise=False`): a projection that fits detail into
the per-pixel noise leaves that detail in place while the drag moves the face around it.
"""
from __future__ import annotations

import dataclasses

import torch

from pipeline.common.precision import bf16_native
from pipeline.gan.interface import LatentGenerator
from pipeline.invert.config import ProjectConfig, PTIConfig

SMALL_MODEL_PX = 128  # below: toy models (the 64 px demo)
PRESETS = ("auto", "small", "cpu", "gpu")


def preset_for(G: LatentGenerator, device: torch.device, preset: str = "auto") -> str:
    if preset != "auto":
        return preset
    if G.img_resolution < SMALL_MODEL_PX:
        return "small"
    return "gpu" if device.type == "cuda" else "cpu"


def preset_plan(preset: str, device: torch.device, G: LatentGenerator) -> tuple[tuple[ProjectConfig, ...], PTIConfig]:
    """(projection stages run in order, each from the previous result; PTI settings) of a preset."""
    if preset == "small":
        return (ProjectConfig(num_steps=250),), PTIConfig(num_steps=120, relative_lr=False)
    if G.num_ws == 1:  # one latent entry: no W+ stage
        return (ProjectConfig(num_steps=450 if preset == "gpu" else 100, space="w"),), PTIConfig()
    if preset == "gpu":
        return (
            ProjectConfig(num_steps=450, space="w", optimize_noise=False),
            ProjectConfig(num_steps=100, space="w+", initial_lr=0.03, initial_noise_factor=0.0, optimize_noise=False),
        ), PTIConfig(num_steps=350, lr=5e-4, stop_distance=0.04, stop_psnr=30.0)
    bf16 = bf16_native(device)
    return (
        ProjectConfig(num_steps=50, space="w", optimize_noise=False, coarse_fraction=0.5, bf16=bf16,
                      plateau_window=0),
        ProjectConfig(num_steps=30, space="w+", initial_lr=0.03, initial_noise_factor=0.0, optimize_noise=False,
                      bf16=bf16, plateau_window=0),
    ), PTIConfig(num_steps=100, lr=3e-3, stop_distance=0.06, stop_psnr=27.0, bf16=bf16)


def scale_steps(stages: tuple[ProjectConfig, ...], total: int) -> tuple[ProjectConfig, ...]:
    """The stages with `total` projection steps shared in their preset proportions (each >= 1).

    Fewer steps than stages keep the last stages only (W+ before W): one step each.
    """
    if total < len(stages):
        stages = stages[len(stages) - total:]
    planned = sum(s.num_steps for s in stages)
    out, left = [], total
    for i, stage in enumerate(stages):
        steps = left if i == len(stages) - 1 else max(1, round(total * stage.num_steps / planned))
        steps = max(1, min(steps, left - (len(stages) - 1 - i)))
        out.append(dataclasses.replace(stage, num_steps=steps))
        left -= steps
    return tuple(out)
