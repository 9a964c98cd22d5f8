"""Align stage: dlib detection, 68 landmarks, the generator's crop and its transform (no networks)."""
from .alignment import align_all_faces, align_face, align_photo, find_faces
from .detect import detect_faces, select_face
from .geometry import apply_affine, crop_from_quad, ffhq_quad, invert_affine, quad_size, template_quad
from .landmark_predictor import find_predictor, predict_landmarks
from .points import crop_to_photo, photo_to_crop
from .preview import draw_landmarks_preview
from .serialize import aligned_from_json, aligned_to_json
from .align_types import CONVENTIONS, DETECTORS, AlignConfig, AlignedFace, DetectConfig, DetectedFace

__all__ = [
    "CONVENTIONS", "DETECTORS", "AlignConfig", "AlignedFace", "DetectConfig", "DetectedFace",
    "align_all_faces", "align_face", "align_photo", "aligned_from_json", "aligned_to_json", "apply_affine",
    "crop_from_quad", "crop_to_photo", "detect_faces", "draw_landmarks_preview", "ffhq_quad", "find_faces",
    "find_predictor", "invert_affine", "photo_to_crop", "predict_landmarks", "quad_size", "select_face",
    "template_quad",
]
