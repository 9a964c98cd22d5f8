"""The orchestrator: one photo and a points file in, the edited photo out.

    1. align      find the face, crop it the generator's way
    2. invert     project the crop into the latent space, then pivotal tuning (see
                  config.pti_wanted); or reuse an earlier inversion of the face (an edit session)
    3. points     handles, targets and the mask into crop pixels (run before step 2: it is
                  cheap and fails in seconds when a point falls outside the crop)
    4. drag       DragGAN on the (tuned) generator
    5. blend      the edit carried back into the full photo (same size; untouched elsewhere)

Stages never import each other; they meet here. Images are RGB uint8 [H, W, 3] unless noted.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch
from tqdm.auto import tqdm

from pipeline.align import AlignedFace, align_photo
from pipeline.blend import BlendResult, blend_face
from pipeline.drag import DragResult, DragState, drag
from pipeline.gan.interface import LatentGenerator
from pipeline.common.image_tensors import image_to_tensor, tensor_to_image
from pipeline.invert.perceptual import load_perceptual
from pipeline.invert.project import Projection, project
from pipeline.invert.pti import TunedGenerator, pivotal_tune

from .change_check import change_flags, focus_region
from .edit_config import EditConfig, drag_config, inversion_configs, mask_in_drag
from .points_map import PlacedPoints, mask_in_crop, place_points
from .edit_points import EditPoints

logger = logging.getLogger(__name__)

STAGES = ("align", "invert", "pti", "map_points", "drag", "blend")


@dataclass(frozen=True, eq=False)
class Inversion:
    """A face's latent and the generator that reproduces it: what an edit session stores."""

    G: LatentGenerator           # generator to drag on (tuned copy with PTI), eval, no grad, on the device
    ws: torch.Tensor             # [1, num_ws, w_dim]: the latent it reproduces the crop from
    reconstruction: np.ndarray   # [S, S, 3] uint8: G.synthesis(ws), the unedited render
    report: dict                 # projection and PTI reports (steps, distances, backbone, settings)
    seconds: dict[str, float]    # 'invert', 'pti' wall times (0 when reused)
    backbone: str                # perceptual backbone used
    tuned: bool                  # True when G carries PTI-tuned weights
    projection: Projection | None = None  # the stage results, kept for saving a session (None when loaded)
    pti: TunedGenerator | None = None
    session: Path | None = None  # the session folder it was loaded from or saved to


@dataclass(frozen=True, eq=False)
class EditResult:
    photo: np.ndarray                 # [H, W, 3] uint8, the edited photo, same size as the input
    aligned: AlignedFace              # the face's crop and transform
    points: PlacedPoints              # handles/targets in photo and crop px
    mask: np.ndarray | None           # [S, S] float32 0/1 the points file's flexible region (crop px), or None
    inversion: Inversion
    drag: DragResult
    blend: BlendResult
    edited_crop: np.ndarray           # [S, S, 3] uint8, the generator's render after the drag
    seconds: dict[str, float]         # per stage (STAGES) and 'total'
    step_latents: dict[int, torch.Tensor] = field(default_factory=dict, repr=False)  # step -> ws (CPU), if recorded
    flags: tuple[str, ...] = ()       # warnings: the edit changed far more than the points asked (change_check.py)


InvertFn = Callable[[AlignedFace], Inversion]


def edit_photo(
    photo: np.ndarray,
    points: EditPoints,
    G: LatentGenerator,
    *,
    config: EditConfig = EditConfig(),
    device: torch.device,
    name: str = "photo",
    inversion: Inversion | InvertFn | None = None,
    record_steps: bool = False,
    progress: bool = True,
) -> EditResult:
    """Edit the chosen face of `photo` [H, W, 3] uint8 (upright) as `points` says.

    `inversion`: a ready Inversion of this face, or a function giving one for the aligned face
    (e.g. loading an edit session); None inverts here. `record_steps` keeps the latent of every
    drag step (for a trajectory animation). G must already be on `device`.
    """
    _check_photo(photo)
    started = time.perf_counter()
    # 1. Align.
    aligned = align_face_for(photo, G, config=config, name=name)
    seconds = {"align": time.perf_counter() - started}
    return edit_face(photo, aligned, points, G, config=config, device=device, inversion=inversion,
                     record_steps=record_steps, progress=progress, seconds=seconds, started=started)


def align_face_for(photo: np.ndarray, G: LatentGenerator, *, config: EditConfig, name: str = "photo") -> AlignedFace:
    """Step 1: detect, choose (config.face or the largest) and crop the face as G's training data."""
    convention, template = crop_convention(G)
    tick = time.perf_counter()
    aligned = align_photo(photo, name=name, face=config.face, output_size=G.img_resolution, convention=convention,
                          template=template, detect=config.detect, config=config.align)
    logger.info("[1/5] align: face %d, %d px crop (%.1f s)", aligned.face_index, aligned.output_size,
                time.perf_counter() - tick)
    return aligned


def crop_convention(G: LatentGenerator) -> tuple[str, np.ndarray | None]:
    info = G.model_info or {}
    convention = info.get("crop_convention") or "ffhq"
    template = info.get("landmark_template")
    return convention, (np.asarray(template, dtype=np.float64) if template is not None else None)


def edit_face(
    photo: np.ndarray,
    aligned: AlignedFace,
    points: EditPoints,
    G: LatentGenerator,
    *,
    config: EditConfig = EditConfig(),
    device: torch.device,
    inversion: Inversion | InvertFn | None = None,
    record_steps: bool = False,
    progress: bool = True,
    seconds: dict[str, float] | None = None,
    started: float | None = None,
) -> EditResult:
    """Steps 2-5 for one already aligned face of `photo` (batch edits of several faces call this)."""
    seconds = dict(seconds or {"align": 0.0})
    started = time.perf_counter() - seconds.get("align", 0.0) if started is None else started
    # 3. Points and mask into the crop, done before step 2: it is cheap, and a point off the
    #    crop or a mask of the wrong size is an error now, not after a minute of inversion.
    tick = time.perf_counter()
    placed = place_points(points, aligned)
    mask = mask_in_crop(points.mask, points.space, aligned, source=points.source) if points.mask else None
    seconds["map_points"] = time.perf_counter() - tick
    logger.info("[2/5] points: %d handle(s) placed in the crop%s", len(placed.handles_crop),
                "" if mask is None else ", with a mask")

    # 2. Invert (or reuse an inversion, e.g. from an edit session).
    if inversion is None:
        inversion = invert_face(aligned, G, config=config, device=device, progress=progress)
    elif callable(inversion):
        inversion = inversion(aligned)
    seconds.update(inversion.seconds)
    logger.info("[3/5] invert: %s (%.1f s projection, %.1f s PTI)", "reused" if inversion.session and
                not inversion.seconds.get("invert") else "done", inversion.seconds.get("invert", 0.0),
                inversion.seconds.get("pti", 0.0))

    # 4. Drag.
    tick = time.perf_counter()
    drag_mask = _drag_mask(mask, aligned, config) if mask is not None and mask_in_drag(config, G) else None
    if mask is not None and drag_mask is None:
        logger.info("the mask limits the paste-back only (mask_use %s, %d latent entr%s)", config.mask_use, G.num_ws,
                    "y" if G.num_ws == 1 else "ies")
    result, latents = _drag(inversion, placed, drag_mask, config=config, device=device, record_steps=record_steps,
                            progress=progress)
    edited_crop = tensor_to_image(result.image)
    seconds["drag"] = time.perf_counter() - tick
    logger.info("[4/5] drag: %s after %d steps (%.1f s)", result.status, result.steps, seconds["drag"])

    # 5. Blend back into the photo.
    tick = time.perf_counter()
    paste_mask = _paste_mask(mask, aligned, config) if mask is not None else None
    anchors = (np.asarray(result.trajectory[0], np.float64), np.asarray(result.handles, np.float64))
    focus = focus_region(placed.handles_crop, placed.targets_crop, aligned.crop_inter_ocular_px, aligned.output_size, mask)
    blended = blend_face(photo, edited_crop, aligned, reconstruction=inversion.reconstruction, mask=paste_mask,
                         mode=config.blend_mode, anchors=anchors, focus=focus, seed=config.seed, config=config.blend)
    seconds["blend"] = time.perf_counter() - tick
    seconds["total"] = time.perf_counter() - started
    flags = change_flags(blended)
    logger.info("[5/5] paste-back %s: new content %.1f%%, changed %.1f%% of the face (%.1f%% outside the asked "
                "region)%s; %.1f s in all", blended.mode, 100 * blended.new_content, 100 * blended.changed,
                100 * (blended.changed_outside or 0.0), ", greyscale kept" if blended.greyscale else "",
                seconds["total"])
    for flag in flags:
        logger.warning("check the result: %s", flag)
    return EditResult(photo=blended.photo, aligned=aligned, points=placed, mask=mask, inversion=inversion,
                      drag=result, blend=blended, edited_crop=edited_crop,
                      seconds={s: seconds.get(s, 0.0) for s in (*STAGES, "total")}, step_latents=latents,
                      flags=tuple(flags))


def invert_face(
    aligned: AlignedFace, G: LatentGenerator, *, config: EditConfig = EditConfig(), device: torch.device,
    progress: bool = True,
) -> Inversion:
    """Step 2: the projection stages (W, then W+, each from the last), then pivotal tuning unless switched off."""
    stages, pti_cfg = inversion_configs(config, G, device)
    perceptual = load_perceptual(stages[-1].backbone, device=device)
    target = image_to_tensor(aligned.crop.copy(), device=device)  # [1, 3, S, S] in [-1, 1]
    tick = time.perf_counter()
    projection = None
    stage_reports = []
    for stage in stages:
        projection = project(G, target, config=stage, device=device, perceptual=perceptual, start=projection,
                             progress=progress)
        stage_reports.append(_short(projection.report()))
    seconds = {"invert": time.perf_counter() - tick, "pti": 0.0}
    report = {"projection": stage_reports[-1], "projection_stages": stage_reports}
    tuned = None
    if pti_cfg is None:
        G_edit = projection.generator(G).to(device).eval().requires_grad_(False)
        ws, image = projection.ws, projection.image
    else:
        tick = time.perf_counter()
        pti_perceptual = load_perceptual(pti_cfg.backbone, device=device)
        tuned = pivotal_tune(G, projection, target, config=pti_cfg, device=device, perceptual=pti_perceptual,
                             progress=progress)
        seconds["pti"] = time.perf_counter() - tick
        report["pti"] = _short(tuned.report())
        G_edit, ws, image = tuned.G, tuned.ws, tuned.image
    return Inversion(G=G_edit, ws=ws, reconstruction=tensor_to_image(image), report=report, seconds=seconds,
                     backbone=stages[-1].backbone, tuned=tuned is not None, projection=projection, pti=tuned)


def _drag(inversion: Inversion, placed: PlacedPoints, mask, *, config: EditConfig, device: torch.device,
          record_steps: bool, progress: bool) -> tuple[DragResult, dict[int, torch.Tensor]]:
    latents: dict[int, torch.Tensor] = {}
    bar = tqdm(total=config.drag.max_steps, desc="drag", unit="step", disable=not progress, leave=False)

    def on_step(step: int, state: DragState) -> None:
        if record_steps:
            latents[step] = state.ws.detach().cpu().clone()
        bar.n = step
        bar.set_postfix(max_dist=f"{max(state.distances):.1f}px", refresh=False)
        bar.refresh()

    try:
        result = drag(inversion.G, inversion.ws.to(device), placed.handles_crop.tolist(), placed.targets_crop.tolist(),
                      mask=mask, config=drag_config(config), device=device, callback=on_step)
    finally:
        bar.close()
    if not result.converged:
        logger.warning("the handles did not reach their targets (%s after %d steps; distances %s crop px)",
                       result.status, result.steps, ", ".join(f"{d:.2f}" for d in result.distances))
    return result, latents


def _grown(mask: np.ndarray, grow_px: float) -> np.ndarray:
    """[S, S] float32 0/1: the pixels within grow_px of the mask."""
    return (cv2.distanceTransform((mask < 0.5).astype(np.uint8), cv2.DIST_L2, 5) <= grow_px).astype(np.float32)


def _drag_mask(mask: np.ndarray, aligned: AlignedFace, config: EditConfig) -> np.ndarray:
    """The flexible region the drag may change: the user's mask grown a little.

    A handle on the mask's edge (a jaw point on a jaw polygon) must be able to move, and what
    lies just outside the contour it moves has to change too (background fills in where the
    jaw was): with the polygon itself, measured on examples/grace_hopper.jpg, the handles did
    not move at all in 150 steps.
    """
    return _grown(mask, config.drag_mask_grow * aligned.crop_inter_ocular_px)


def _paste_mask(mask: np.ndarray, aligned: AlignedFace, config: EditConfig) -> np.ndarray:
    """The user's flexible region, grown and feathered: paste-back changes nothing outside it."""
    iod = aligned.crop_inter_ocular_px
    grown = _grown(mask, config.paste_mask_grow * iod)
    sigma = max(config.paste_mask_feather * iod, 0.5)
    k = 2 * int(np.ceil(3 * sigma)) + 1
    return np.clip(cv2.GaussianBlur(grown, (k, k), sigma, borderType=cv2.BORDER_CONSTANT), 0.0, 1.0)


def _short(report: dict) -> dict:
    """A stage report without its per-step loss curves (they go in the file only as final values)."""
    return {k: v for k, v in report.items() if k != "losses"}


def _check_photo(photo: np.ndarray) -> None:
    if not isinstance(photo, np.ndarray) or photo.dtype != np.uint8 or photo.ndim != 3 or photo.shape[2] != 3:
        raise ValueError(f"photo must be [H, W, 3] uint8 RGB, got {getattr(photo, 'dtype', type(photo))} "
                         f"{getattr(photo, 'shape', '')}")
