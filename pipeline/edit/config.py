"""Settings of a whole photo edit, gathering each stage's own config."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from pipeline.align import AlignConfig, DetectConfig
from pipeline.blend import MODES, BlendConfig
from pipeline.drag import DragConfig
from pipeline.gan.interface import LatentGenerator
from pipeline.invert.config import ProjectConfig, PTIConfig

from pipeline.invert.backbone import CHOICES, resolve_backbone

# Generators below this size are toys (the 64 px demo): fewer inversion steps fit them as well
# as the published step counts fit FFHQ models, and keep the CPU demo at about a minute.
SMALL_MODEL_PX = 128
SMALL_PROJECT_STEPS = 250  # projector steps for small models
SMALL_PTI_STEPS = 120      # PTI steps for small models
PIVOT_STEPS = 450          # PTI paper: the pivot is 450 projector steps
PTI_STEPS = 350            # PTI paper
MASK_USES = ("auto", "drag+paste", "paste")


@dataclass(frozen=True, kw_only=True)
class EditConfig:
    face: int | None = None                # face index left to right; None = the largest
    seed: int = 0                          # seeds the projection, PTI and the drag (overrides their own seeds)
    backbone: str = "auto"                 # perceptual backbone: auto | lpips-vgg | hed-vgg16
    project: ProjectConfig | None = None   # projector; None = `inversion_configs` defaults for the model size
    pti: PTIConfig | None = None           # pivotal tuning; None = defaults for the model size
    use_pti: bool | None = None            # pivotal tuning on/off; None = `pti_wanted` (auto)
    drag: DragConfig = DragConfig()        # drag hyperparameters (lengths at 512 px, scaled to the model)
    blend_mode: str = "auto"               # paste-back: auto | flow | feather | poisson | none
    blend: BlendConfig = BlendConfig()
    detect: DetectConfig = DetectConfig()
    align: AlignConfig = AlignConfig()
    mask_use: str = "auto"                 # the points file's mask: 'drag+paste' (DragGAN's fixed-region term and
                                           # the paste-back region), 'paste' (paste-back only), 'auto' (see mask_roles)
    paste_mask_grow: float = 0.15          # inter-ocular distances: a user mask grows by this for paste-back
    paste_mask_feather: float = 0.05       # inter-ocular distances: Gaussian sigma of its soft edge

    def __post_init__(self) -> None:
        if self.backbone not in CHOICES:
            raise ValueError(f"backbone must be one of {CHOICES}, got '{self.backbone}'")
        if self.blend_mode not in MODES:
            raise ValueError(f"blend_mode must be one of {MODES}, got '{self.blend_mode}'")
        if self.mask_use not in MASK_USES:
            raise ValueError(f"mask_use must be one of {MASK_USES}, got '{self.mask_use}'")
        if self.face is not None and self.face < 0:
            raise ValueError(f"face must be >= 0 or None, got {self.face}")
        if not (self.paste_mask_grow >= 0 and self.paste_mask_feather >= 0):
            raise ValueError("paste_mask_grow and paste_mask_feather must be >= 0")

    def to_dict(self) -> dict:
        return _plain(dataclasses.asdict(self))


def inversion_configs(config: EditConfig, G: LatentGenerator) -> tuple[ProjectConfig, PTIConfig | None]:
    """The projector and PTI settings for this generator, with the backbone resolved ('auto')."""
    backbone = resolve_backbone(config.backbone)
    small = G.img_resolution < SMALL_MODEL_PX
    project = config.project or ProjectConfig(num_steps=SMALL_PROJECT_STEPS if small else PIVOT_STEPS)
    project = dataclasses.replace(project, backbone=backbone, seed=config.seed)
    pti = None
    if pti_wanted(config, G):
        pti = config.pti or PTIConfig(num_steps=SMALL_PTI_STEPS if small else PTI_STEPS)
        pti = dataclasses.replace(pti, backbone=backbone, seed=config.seed)
    return project, pti


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
