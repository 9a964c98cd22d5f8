"""Readable names for dlib's 68 face landmarks, landmark regions, and the face's own frame.

Left and right are as SEEN IN THE PHOTO (the viewer's left), the convention of REFERENCE.md
and of the FFHQ alignment script: points 36-41 are the eye on the image's left. Every point
also has a systematic name `<group>_<k>` (k from 0 along dlib's order), e.g. `jaw_8` (= `chin`)
or `outer_lip_0` (= `mouth_left`); plain integers 0..67 work everywhere a name does.
"""
from __future__ import annotations

import numpy as np

from pipeline.common import UserError

NUM_LANDMARKS = 68

# Region name -> dlib indices (REFERENCE.md section 3).
REGIONS: dict[str, tuple[int, ...]] = {
    "jaw": tuple(range(0, 17)),
    "left_brow": tuple(range(17, 22)),
    "right_brow": tuple(range(22, 27)),
    "brows": tuple(range(17, 27)),
    "nose_bridge": tuple(range(27, 31)),
    "nose_base": tuple(range(31, 36)),
    "nose": tuple(range(27, 36)),
    "left_eye": tuple(range(36, 42)),
    "right_eye": tuple(range(42, 48)),
    "eyes": tuple(range(36, 48)),
    "outer_lip": tuple(range(48, 60)),
    "inner_lip": tuple(range(60, 68)),
    "mouth": tuple(range(48, 68)),
    "face": tuple(range(0, 68)),
}

# Groups that give the systematic per-point names (disjoint, covering 0..67).
_GROUPS = ("jaw", "left_brow", "right_brow", "nose_bridge", "nose_base", "left_eye", "right_eye",
           "outer_lip", "inner_lip")

ALIASES: dict[str, int] = {
    "chin": 8,
    "jaw_left_top": 0, "jaw_right_top": 16,
    "left_brow_outer": 17, "left_brow_middle": 19, "left_brow_inner": 21,
    "right_brow_inner": 22, "right_brow_middle": 24, "right_brow_outer": 26,
    "nose_top": 27, "nose_tip": 30, "nostril_left": 31, "nose_bottom": 33, "nostril_right": 35,
    "left_eye_outer": 36, "left_eye_top": 37, "left_eye_inner": 39, "left_eye_bottom": 41,
    "right_eye_inner": 42, "right_eye_top": 44, "right_eye_outer": 45, "right_eye_bottom": 46,
    "mouth_left": 48, "upper_lip_top": 51, "mouth_right": 54, "lower_lip_bottom": 57,
    "mouth_inner_left": 60, "upper_lip_inner": 62, "mouth_inner_right": 64, "lower_lip_inner": 66,
}


def _point_names() -> dict[str, int]:
    names: dict[str, int] = {}
    for group in _GROUPS:
        for k, index in enumerate(REGIONS[group]):
            names[f"{group}_{k}"] = index
    names.update(ALIASES)
    return names


POINT_NAMES: dict[str, int] = _point_names()


def landmark_indices(ref: object, *, where: str) -> tuple[int, ...]:
    """Indices named by `ref`: an int 0..67, a point name (one index) or a region name (all of it).

    A region used as a point means its centroid (`left_eye` = the eye's centre).
    """
    if isinstance(ref, bool):
        ref = None  # true/false is never a landmark
    if isinstance(ref, int):
        if not 0 <= ref < NUM_LANDMARKS:
            raise UserError(f"{where}: landmark {ref} does not exist; dlib's landmarks are numbered 0 to 67")
        return (ref,)
    if isinstance(ref, str):
        key = ref.strip().lower().replace("-", "_").replace(" ", "_")
        if key in POINT_NAMES:
            return (POINT_NAMES[key],)
        if key in REGIONS:
            return REGIONS[key]
        raise UserError(f"{where}: unknown landmark '{ref}'; use 0-67, a name such as "
                        f"{', '.join(sorted(ALIASES)[:6])}... or a region ({', '.join(REGIONS)})")
    raise UserError(f"{where}: a landmark is an index 0-67 or a name such as 'mouth_left', got {ref!r}")


def region_indices(ref: object, *, where: str) -> tuple[int, ...]:
    """Indices of a region name (a mask region must be an area: points are refused)."""
    key = ref.strip().lower().replace("-", "_") if isinstance(ref, str) else None
    if key not in REGIONS:
        raise UserError(f"{where}: unknown region {ref!r}; use one of {', '.join(REGIONS)}")
    return REGIONS[key]


def face_frame(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(x axis, y axis, inter-ocular distance) of the face in the coordinates of `landmarks` [68, 2].

    x runs from the left eye's centre to the right eye's (as seen), y is x turned 90 degrees
    towards the chin (image y grows downwards), both unit length; the distance is between the
    two eye centres. Offsets [dx, dy] in this frame and unit mean the same on any portrait.
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.shape != (NUM_LANDMARKS, 2):
        raise ValueError(f"expected [68, 2] landmarks, got {lm.shape}")
    eye_to_eye = lm[42:48].mean(axis=0) - lm[36:42].mean(axis=0)
    iod = float(np.hypot(*eye_to_eye))
    if not np.isfinite(iod) or iod < 1e-6:
        raise UserError("the face's eye centres coincide (degenerate landmarks); pick another face")
    x_axis = eye_to_eye / iod
    y_axis = np.array([-x_axis[1], x_axis[0]])
    return x_axis, y_axis, iod
