"""Blend stage: put an edited crop back into the full photo (images only; knows nothing of latents)."""
from .edit_flow import FlowField, dense_flow, flow_in_photo, move_points, new_content
from .mask import face_mask, hull_mask
from .paste import blend_face
from .poisson import seamless_clone
from .blend_types import MODES, BlendConfig, BlendResult, CropGeometry

__all__ = [
    "MODES", "BlendConfig", "BlendResult", "CropGeometry", "FlowField", "blend_face", "dense_flow", "face_mask",
    "flow_in_photo", "hull_mask", "move_points", "new_content", "seamless_clone",
]
