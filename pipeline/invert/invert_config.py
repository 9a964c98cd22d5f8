"""Hyperparameters of inversion: the projector (latent search) and pivotal tuning (weight search).

Defaults follow NVIDIA's StyleGAN2 projector and the PTI paper (REFERENCE.md section 4), with
deliberate choices of ours:
- the projector searches W+ (as DragGAN's bundled PTI; DragGAN edits in W+), PTI's lr is 5e-4
  (DragGAN) instead of 3e-4;
- PTI stops at distance 0.04 (DragGAN; PTI: 0.06) only once the crop's PSNR is also >= 30 dB:
  the distance alone is no fidelity floor. Measured on the 64 px demo model with a former
  offline stand-in trunk (an edge-detection VGG16, since retired for real LPIPS-VGG), 0.04
  stopped portrait_a at ~27 dB, and even 0.015 stopped grace_hopper at 25.9 dB;
- images are compared as displayed, clipped to [-1, 1] (`clip_images`, see fidelity.py).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

BACKBONES = ("lpips-vgg", "lpips-alex", "random-vgg")
SPACES = ("w", "w+")


class _StageConfig:
    """What a report records of a stage's settings."""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True, kw_only=True)
class ProjectConfig(_StageConfig):
    num_steps: int = 1000  # Adam steps at most (NVIDIA: 1000; PTI's pivot: 450)
    space: str = "w+"  # 'w' (one w repeated num_ws times) or 'w+' (one w per layer); ignored when num_ws == 1
    w_avg_samples: int = 10_000  # mapping samples for the start point (their mean) and w_std
    initial_lr: float = 0.1  # peak Adam learning rate
    lr_rampup: float = 0.05  # fraction of num_steps for the linear warm-up
    lr_rampdown: float = 0.25  # fraction of num_steps for the final cosine decay
    initial_noise_factor: float = 0.05  # std of the noise added to w, in units of w_std, at step 0
    noise_ramp: float = 0.75  # fraction of num_steps after which no noise is added to w
    regularize_noise_weight: float = 1e5  # weight of the noise-map autocorrelation penalty
    optimize_noise: bool = True  # also optimise the generator's per-layer noise maps (if it has any)
    perceptual_weight: float = 1.0  # weight of the backbone distance
    pixel_weight: float = 0.0  # weight of an extra MSE on images in [-1, 1] (0: NVIDIA's loss)
    clip_images: bool = True  # compare the generated image clipped to [-1, 1], as displayed (NVIDIA: False)
    plateau_window: int = 100  # steps per window of the plateau test; 0 disables early stopping
    plateau_tolerance: float = 1e-3  # stop when a window's mean fit loss improves on the previous by less (relative)
    backbone: str = "lpips-vgg"  # perceptual backbone, one of BACKBONES
    perceptual_resolution: int = 256  # px: images are area-downsampled to this side for the perceptual term
    coarse_resolution: int = 128  # px: the side used instead during the first `coarse_fraction` of the steps
    coarse_fraction: float = 0.0  # fraction of num_steps compared at coarse_resolution (0: none)
    bf16: bool = False  # each step's forward under bf16 autocast (the result is rendered in float32)
    seed: int = 0  # seeds the w_avg samples, the noise maps' start and the noise added to w

    def __post_init__(self) -> None:
        _check_positive(self, "num_steps", "w_avg_samples", "initial_lr", "perceptual_resolution",
                        "coarse_resolution")
        if not 0 <= self.coarse_fraction <= 1:
            raise ValueError(f"coarse_fraction must be in [0, 1], got {self.coarse_fraction}")
        _check_fraction(self, "lr_rampup", "lr_rampdown", "noise_ramp")
        _check_non_negative(self, "initial_noise_factor", "regularize_noise_weight", "perceptual_weight",
                            "pixel_weight", "plateau_window", "plateau_tolerance")
        if self.space not in SPACES:
            raise ValueError(f"space must be one of {SPACES}, got '{self.space}'")
        _check_backbone(self.backbone)
        _check_some_loss(self, "perceptual_weight", "pixel_weight")


@dataclass(frozen=True, kw_only=True)
class PTIConfig(_StageConfig):
    num_steps: int = 350  # Adam steps at most (PTI: 350)
    lr: float = 5e-4  # Adam learning rate over all generator weights (PTI 3e-4, DragGAN 5e-4)
    relative_lr: bool = True  # each tensor's lr = lr x its RMS (the same relative step; see pti._param_groups)
    bf16: bool = False  # each step's forward under bf16 autocast (the result is rendered in float32)
    l2_weight: float = 1.0  # weight of the MSE on images in [-1, 1]
    perceptual_weight: float = 1.0  # weight of the backbone distance
    clip_images: bool = True  # compare the generated image clipped to [-1, 1], as displayed (PTI: False)
    stop_distance: float = 0.04  # stop once the backbone distance is below this (PTI 0.06, DragGAN 0.04)...
    stop_psnr: float = 30.0  # ...and the PSNR against the target is at least this, dB (0: distance alone)
    locality_weight: float = 0.0  # weight of PTI's locality regulariser (0: off, as PTI's default)
    locality_alpha: float = 30.0  # distance of the regulariser's latents from the pivot, in w units
    locality_psi: float = 0.5  # truncation of the random latents that set the regulariser's directions
    locality_l2_weight: float = 0.1  # MSE weight inside the regulariser
    locality_perceptual_weight: float = 0.1  # backbone-distance weight inside the regulariser
    backbone: str = "lpips-vgg"  # perceptual backbone, one of BACKBONES
    seed: int = 0  # seeds the regulariser's random latents

    def __post_init__(self) -> None:
        _check_positive(self, "num_steps", "lr")
        _check_non_negative(self, "l2_weight", "perceptual_weight", "stop_distance", "stop_psnr", "locality_weight",
                            "locality_alpha", "locality_l2_weight", "locality_perceptual_weight")
        if not 0 <= self.locality_psi <= 1:
            raise ValueError(f"locality_psi must be in [0, 1], got {self.locality_psi}")
        _check_backbone(self.backbone)
        _check_some_loss(self, "l2_weight", "perceptual_weight")


def _check_backbone(name: str) -> None:
    if name not in BACKBONES:
        raise ValueError(f"backbone must be one of {BACKBONES}, got '{name}'")


def _check_some_loss(cfg, first: str, second: str) -> None:
    if getattr(cfg, first) == 0 and getattr(cfg, second) == 0:
        raise ValueError(f"{first} and {second} are both 0: nothing to optimise")


def _check_positive(cfg, *names: str) -> None:
    for name in names:
        if not getattr(cfg, name) > 0:
            raise ValueError(f"{name} must be > 0, got {getattr(cfg, name)}")


def _check_non_negative(cfg, *names: str) -> None:
    for name in names:
        if not getattr(cfg, name) >= 0:
            raise ValueError(f"{name} must be >= 0, got {getattr(cfg, name)}")


def _check_fraction(cfg, *names: str) -> None:
    for name in names:
        if not 0 < getattr(cfg, name) <= 1:
            raise ValueError(f"{name} must be in (0, 1], got {getattr(cfg, name)}")
