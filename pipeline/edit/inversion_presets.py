"""The inversion an edit runs for a generator and a device: projection stages, then PTI.

Three presets:
- 'small' (models under 128 px, the 64 px demo): one projection of 250 steps, PTI of 120 with one
  absolute lr (its measured settings since session 1);
- 'cpu' (larger models, no GPU): W 50 steps (the first half comparing at 128 px), W+ 30, PTI at
  most 100 (stop at LPIPS-VGG 0.06 and 27 dB) with its locality regulariser, bf16 autocast where
  the CPU computes bf16 natively;
- 'gpu' (CUDA): the published schedules: a 450-step W pivot (PTI paper), 100 W+ steps, PTI of 350
  with its locality regulariser (not measured on a GPU yet: no GPU was lent).

How the CPU preset was chosen (default model, 2-core CPU; `python bench/invert_presets.py --levers`
prints the per-step costs, without it the per-photo results):
- step costs, 2 threads: projection 1.00 s (float32, LPIPS-VGG at 256 px), 0.66 s (bf16), 0.48 s
  (bf16, LPIPS at 128 px); PTI 1.14 s (float32), 0.80 s (bf16), 0.54 s (bf16, LPIPS-Alex);
- bf16's quality cost: PTI from the same grace_hopper pivot, 120 steps: float32 27.5 dB / LPIPS-VGG
  0.055, bf16 26.6 dB / 0.061 (after 80 steps 24.7 / 0.082 and 25.2 / 0.077): about the same
  curve for a third less time;
- PTI's loss on LPIPS-VGG, not Alex: 80 Alex steps reached 24.8-25.0 dB but LPIPS-VGG only 0.21
  (0.082 with VGG steps), and the PTI paper's figure (0.082) is what the edit must beat;
- PTI's relative lr 3e-3 (pti._param_groups): one absolute 5e-4 (DragGAN's) reached 24.8 dB in 80
  steps but covered the face in grain (the 0.0002-0.005 noise strengths grew); relative 5e-4 was
  clean but slow (20.4 dB), relative 3e-3 clean at 24.8 dB;
- steps: the README edit took 291 s with one thread at W 60 + W+ 40 + PTI 120 (too close to the
  5-minute budget) and 240 s at 50 + 30 + 100 (2 threads: 139 s); PTI then stops at 26-27 dB.
PTI's locality regulariser is on (weight 1, PTI paper's alpha 30) in the cpu and gpu presets: a
generator tuned to the pivot alone renders the pivot's features wherever the drag goes (measured,
examples/open-eyes.json on astronaut.png: ghosted double eyes, 11.5% of the face new content;
with the regulariser clean lids, 4.2%, the same 30.9 dB, in 55 steps instead of 52). On the jaw
edit of examples/points.json PTI without it did no harm (new content 0-1.3% against 0.5-2.4%
without PTI, the render as sharp as its reconstruction: 0.91-0.99 of its Laplacian variance).
Noise maps stay the generator's own (`optimize_noise=False`): a projection that fits detail into
the per-pixel noise leaves that detail in place while the drag moves the face around it.
"""
from __future__ import annotations

import dataclasses

import torch

from pipeline.common.precision import bf16_native
from pipeline.gan.interface import LatentGenerator
from pipeline.invert.invert_config import ProjectConfig, PTIConfig

SMALL_MODEL_PX = 128  # below: toy models (the 64 px demo)
PRESETS = ("auto", "small", "cpu", "gpu")


def preset_for(G: LatentGenerator, device: torch.device, preset: str = "auto") -> str:
    if preset != "auto":
        return preset
    if G.img_resolution < SMALL_MODEL_PX:
        return "small"
    return "gpu" if device.type == "cuda" else "cpu"  # MPS: the CPU preset's budget, float32 there


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
        ), PTIConfig(num_steps=350, lr=5e-4, stop_distance=0.04, stop_psnr=30.0, locality_weight=1.0)
    bf16 = bf16_native(device)
    return (
        ProjectConfig(num_steps=50, space="w", optimize_noise=False, coarse_fraction=0.5, bf16=bf16,
                      plateau_window=0),
        ProjectConfig(num_steps=30, space="w+", initial_lr=0.03, initial_noise_factor=0.0, optimize_noise=False,
                      bf16=bf16, plateau_window=0),
    ), PTIConfig(num_steps=100, lr=3e-3, stop_distance=0.06, stop_psnr=27.0, bf16=bf16, locality_weight=1.0)


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
