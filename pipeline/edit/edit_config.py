"""Settings of a whole photo edit, gathering each stage's own config."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from pipeline.align import AlignConfig, DetectConfig
from pipeline.blend import MODES, BlendConfig
from pipeline.drag import DragConfig
from pipeline.gan.interface import LatentGenerator
from pipeline.invert.backbone import CHOICES, resolve_backbone
from pipeline.invert.invert_config import ProjectConfig, PTIConfig

from .inversion_presets import PRESETS, preset_for, preset_plan, scale_steps

MASK_USES = ("auto", "drag+paste", "paste")


@dataclass(frozen=True, kw_only=True)
class EditConfig:
    face: int | None = None                # face index left to right; None = the largest
    seed: int = 0                          # seeds the projection, PTI and the drag (overrides their own seeds)
    backbone: str = "auto"                 # perceptual backbone: auto | lpips-vgg | lpips-alex
    preset: str = "auto"                   # inversion preset: auto (by model size and device) | small | cpu | gpu
    projections: tuple[ProjectConfig, ...] | None = None  # projection stages; None = the preset's
    invert_steps: int | None = None        # total projection steps, shared as the preset shares them; None = preset's
    pti: PTIConfig | None = None           # pivotal tuning; None = the preset's
    pti_steps: int | None = None           # PTI steps at most; None = those of `pti` (or the preset's)
    use_pti: bool | None = None            # pivotal tuning on/off; None = `pti_wanted` (auto)
    drag: DragConfig = DragConfig()        # drag hyperparameters (lengths at 512 px, scaled to the model)
    blend_mode: str = "auto"               # paste-back: auto | flow | feather | poisson | none
    blend: BlendConfig = BlendConfig()
    detect: DetectConfig = DetectConfig()
    align: AlignConfig = AlignConfig()
    mask_use: str = "auto"                 # the points file's mask: 'drag+paste' (DragGAN's fixed-region term and
                                           # the paste-back region), 'paste' (paste-back only), 'auto' (see mask_roles)
    drag_mask_grow: float = 0.1            # inter-ocular distances: a user mask grows by this for the drag
    paste_mask_grow: float = 0.15          # inter-ocular distances: a user mask grows by this for paste-back
    paste_mask_feather: float = 0.05       # inter-ocular distances: Gaussian sigma of its soft edge

    def __post_init__(self) -> None:
        if self.backbone not in CHOICES:
            raise ValueError(f"backbone must be one of {CHOICES}, got '{self.backbone}'")
        if self.blend_mode not in MODES:
            raise ValueError(f"blend_mode must be one of {MODES}, got '{self.blend_mode}'")
        if self.mask_use not in MASK_USES:
            raise ValueError(f"mask_use must be one of {MASK_USES}, got '{self.mask_use}'")
        if self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {PRESETS}, got '{self.preset}'")
        for name in ("invert_steps", "pti_steps"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.face is not None and self.face < 0:
            raise ValueError(f"face must be >= 0 or None, got {self.face}")
        if not (self.drag_mask_grow >= 0 and self.paste_mask_grow >= 0 and self.paste_mask_feather >= 0):
            raise ValueError("drag_mask_grow, paste_mask_grow and paste_mask_feather must be >= 0")

    def to_dict(self) -> dict:
        return _plain(dataclasses.asdict(self))


def inversion_configs(
    config: EditConfig, G: LatentGenerator, device: torch.device
) -> tuple[tuple[ProjectConfig, ...], PTIConfig | None]:
    """The projection stages and PTI settings for this generator and device (backbone resolved, seeds set)."""
    backbone = resolve_backbone(config.backbone)
    preset_stages, preset_pti = preset_plan(preset_for(G, device, config.preset), device, G)
    stages = config.projections or preset_stages
    if config.invert_steps is not None:
        stages = scale_steps(stages, config.invert_steps)
    stages = tuple(dataclasses.replace(s, backbone=backbone, seed=config.seed) for s in stages)
    pti = None
    if pti_wanted(config, G):
        pti = config.pti or preset_pti
        pti = dataclasses.replace(pti, backbone=backbone, seed=config.seed, num_steps=config.pti_steps or pti.num_steps)
    return stages, pti


def pti_wanted(config: EditConfig, G: LatentGenerator) -> bool:
    """Pivotal tuning unless switched off; 'auto' (None) leaves it out for generators with one latent entry.

    There (the demo DCGAN, whose latent is z) every drag step leaves the pivot, and the tuned
    weights are only right at the pivot: measured on examples/grace_hopper.jpg with
    examples/points.json, the tuned generator's edit drifted in colour so that paste-back took
    77% of the face from the 64 px render (a blurred face), against 9% without PTI.
    """
    if config.use_pti is None:
        return G.num_ws > 1
    return config.use_pti


def mask_in_drag(config: EditConfig, G: LatentGenerator) -> bool:
    """Whether the points file's mask goes to the drag (DragGAN's fixed-region term) as well as paste-back.

    'auto' leaves it out for generators with one latent entry (num_ws == 1, the demo DCGAN): there
    every latent change is global, so the fixed-region term freezes the whole drag (measured: with
    a mouth mask, the handles did not move in 300 steps at lambda 5 or 20). The mask then limits
    what the paste-back changes in the photo.
    """
    if config.mask_use == "auto":
        return G.num_ws > 1
    return config.mask_use == "drag+paste"


def drag_config(config: EditConfig) -> DragConfig:
    return dataclasses.replace(config.drag, seed=config.seed)


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
