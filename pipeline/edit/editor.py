"""The editing core: one photo's edit as explicit steps that a CLI call, a batch worker and a
browser session all drive the same way.

    editor = Editor(G, config=EditConfig(), device=device)
    editor.open(photo, name="me.jpg", path=path)     1. the faces, with their landmarks
    editor.select(face=None)                         1. the chosen face's crop (None: the largest)
    editor.invert(session=None)                      2. projection + PTI, or reuse a saved session
    editor.place(points)                             3. the points file's handles/targets in the crop
    editor.drag(on_step=...)                         4. DragGAN; again to resume, undo() to step back
    result = editor.apply()                          5. the edit pasted back into the photo

Every input is an array (photo [H, W, 3] uint8, points in px, masks [S, S] 0/1): files are read
and written by the callers. Stages never import each other; they meet here.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pipeline.align import AlignedFace, DetectedFace, align_face, find_faces, select_face
from pipeline.blend import blend_face
from pipeline.common import UserError
from pipeline.common.image_tensors import tensor_to_image
from pipeline.drag import DragResult, drag
from pipeline.drag.progress import DragProgress
from pipeline.drag.result import STATUS_NAN
from pipeline.gan.interface import LatentGenerator

from .change_check import change_flags, focus_region
from .edit_config import EditConfig, drag_config, mask_in_drag
from .edit_masks import drag_mask, paste_mask
from .edit_points import EditPoints
from .edit_types import STAGES, EditResult, Inversion
from .inversion import invert_face
from .points_map import PlacedPoints, mask_in_crop, place_points

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class _Checkpoint:
    """What undo() goes back to: the latent and the handles before a drag."""

    ws: torch.Tensor       # [1, num_ws, w_dim]
    handles: np.ndarray    # [N, 2] crop px
    drags: int             # drags done before it


class Editor:
    """One photo (or one generated image) being edited; see the module docstring for the steps."""

    def __init__(self, G: LatentGenerator, *, config: EditConfig = EditConfig(), device: torch.device,
                 progress: bool = True, record_steps: bool = False) -> None:
        self.G, self.config, self.device = G, config, torch.device(device)
        self.progress = progress
        self.record_steps = record_steps  # keep every drag step's latent (for the animation)
        self._clear()

    def _clear(self) -> None:
        self.photo: np.ndarray | None = None
        self.name, self.path = "photo", None
        self.detected: list[DetectedFace] = []
        self.landmarks: list[np.ndarray] = []
        self.aligned: AlignedFace | None = None
        self.inversion: Inversion | None = None
        self.points: PlacedPoints | None = None
        self.mask: np.ndarray | None = None          # [S, S] 0/1 the user's flexible region, crop px
        self.handles: np.ndarray | None = None       # [N, 2] crop px, where the handles are now
        self.targets: np.ndarray | None = None       # [N, 2] crop px
        self._first_handles: np.ndarray | None = None  # [N, 2] crop px, where the handles were set
        self.ws: torch.Tensor | None = None          # [1, num_ws, w_dim] the current latent
        self.drags: list[DragResult] = []
        self.step_latents: dict[int, torch.Tensor] = {}
        self.seconds: dict[str, float] = {stage: 0.0 for stage in STAGES}
        self.session_photo: dict | None = None
        self._history: list[_Checkpoint] = []
        self._started = time.perf_counter()

    # 1. Faces.
    def open(self, photo: np.ndarray, *, name: str = "photo", path: str | os.PathLike | None = None,
             detect: bool = True) -> list[DetectedFace]:
        """Take the photo [H, W, 3] uint8 (upright RGB); find its faces and their landmarks unless `detect` is False."""
        _check_photo(photo)
        self._clear()
        self.photo, self.name, self.path = photo, name, None if path is None else Path(path)
        if detect:
            tick = time.perf_counter()
            self.detected, self.landmarks = find_faces(photo, detect=self.config.detect)
            self.seconds["align"] = time.perf_counter() - tick
        return self.detected

    def editable_faces(self) -> list[int]:
        """Indices of the faces large enough to edit (a batch's --face all); none at all is the one-line error."""
        wide = [i for i, f in enumerate(self.detected) if f.width >= self.config.detect.min_face_px]
        for i, f in enumerate(self.detected):
            if i not in wide:
                logger.warning("%s: skipping face %d, only %.0f px wide", self.name, i, f.width)
        if not wide:
            select_face(self.detected, None, name=self.name, config=self.config.detect)  # raises: none, or too small
        return wide

    def select(self, face: int | None = None, *, photo: np.ndarray | None = None) -> AlignedFace:
        """Crop face `face` (index left to right; None: config.face, else the largest) as G's training data,
        from `photo` when given (the opened photo with other faces already edited, same size)."""
        if self.photo is None:
            raise RuntimeError("open() a photo before select()")
        if photo is not None and photo.shape != self.photo.shape:
            raise ValueError(f"select(photo=...) needs the opened photo's shape {self.photo.shape}, got {photo.shape}")
        tick = time.perf_counter()
        if self.aligned is not None:  # another face of the photo: its seconds are its own, detection aside
            self.seconds["align"], self._started = 0.0, tick
        if not self.detected:
            self.open(self.photo, name=self.name, path=self.path)
        index = select_face(self.detected, self.config.face if face is None else face, name=self.name,
                            config=self.config.detect)
        convention, template = crop_convention(self.G)
        self.aligned = align_face(self.photo if photo is None else photo, self.landmarks[index], self.G.img_resolution,
                                  convention, template=template, config=self.config.align, face_index=index,
                                  face_box=self.detected[index].box)
        self.inversion = None
        self.seconds.update({stage: 0.0 for stage in STAGES if stage != "align"})  # this face's own
        self.seconds["align"] += time.perf_counter() - tick
        logger.info("[1/5] align: face %d of %d, %d px crop (%.1f s)", index, len(self.detected),
                    self.aligned.output_size, self.seconds["align"])
        return self.aligned

    # 2. Inversion.
    def invert(self, *, session: str | os.PathLike | None = None, on_step=None) -> Inversion:
        """The selected face inverted; with `session`, an inversion saved there is reused, else this one is
        saved there. `on_step(stage, done, total)` follows the inversion's steps (inversion.InvertStep)."""
        from .session_reuse import is_session, load_edit_session

        if session is not None and is_session(session):
            if self.photo is None:
                raise RuntimeError("open() the photo before reusing its session")
            wanted = self.aligned.face_index if self.aligned is not None else self.config.face
            aligned, inversion = load_edit_session(session, self.photo, self.path, self.G, device=self.device)
            if wanted is not None and wanted != aligned.face_index:
                raise UserError(f"session {session} holds face {aligned.face_index}, not --face {wanted}; "
                                "use another --session folder for that face")
            self.aligned = aligned
            logger.info("[1/5] align: reused from session %s (face %d)", session, aligned.face_index)
        else:
            if self.aligned is None:
                self.select()
            inversion = invert_face(self.aligned, self.G, config=self.config, device=self.device,
                                    progress=self.progress, on_step=on_step)
            if session is not None:
                self.inversion = inversion
                self.save_session(session)
                inversion = self.inversion  # now with its session folder
        self.seconds.update(inversion.seconds)
        logger.info("[3/5] invert: %s (%.1f s projection, %.1f s PTI)", "reused" if inversion.reused else "done",
                    inversion.seconds.get("invert", 0.0), inversion.seconds.get("pti", 0.0))
        return self.use_inversion(inversion)

    def save_session(self, path: str | os.PathLike, *, settings: dict | None = None) -> Path:
        """Write this run's inversion of the selected face as an edit session folder (cli.py invert's output)."""
        from .session_reuse import save_edit_session

        if self.inversion is None or self.aligned is None or self.inversion.projection is None:
            raise RuntimeError("invert() a face in this run before save_session()")
        saved = save_edit_session(path, self.G, self.aligned, self.inversion, photo_path=self.path,
                                  settings={"edit": self.config.to_dict(), **(settings or {})})
        self.inversion = dataclasses.replace(self.inversion, session=saved)
        return saved

    def use_inversion(self, inversion: Inversion) -> Inversion:
        """Start editing from `inversion` (of the selected face, or of a generated image when no photo is open)."""
        self.inversion = inversion
        self.ws = inversion.ws.detach().to(self.device)
        self.drags, self._history, self.step_latents = [], [], {}
        if self.targets is not None:
            self.handles = self._first_handles.copy()
        return inversion

    def start_from_latent(self, ws: torch.Tensor, *, G: LatentGenerator | None = None, report: dict | None = None,
                          session: Path | None = None) -> Inversion:
        """Edit a generated image (no photo): the latent ws [1, num_ws, w_dim] of G (default: the editor's G)."""
        G = G or self.G
        self.G.check_ws(ws)
        with torch.no_grad():
            image = G.synthesis(ws.to(self.device), noise_mode=drag_config(self.config).noise_mode)
        self.aligned = None
        return self.use_inversion(Inversion(G=G, ws=ws, reconstruction=tensor_to_image(image), report=report or {},
                                            seconds={"invert": 0.0, "pti": 0.0}, backbone="none",
                                            tuned=G is not self.G, session=session))

    def open_session(self, session: str | os.PathLike) -> Inversion:
        """Edit a session's image in its crop px, without its photo (`cli.py drag --session`)."""
        from pipeline.invert import load_session

        loaded = load_session(Path(session), G=self.G, device=self.device)  # refuses another model or changed files
        self.session_photo = loaded.photo  # the session's record of the photo it was made from
        results = loaded.record.get("results") or {}
        return self.start_from_latent(loaded.ws.to(self.device), G=loaded.generator(), session=Path(session),
                                      report={k: v for k, v in results.items() if v})

    # 3. Points.
    def place(self, points: EditPoints) -> PlacedPoints:
        """Resolve a points file (landmark anchors, photo or crop px, its mask) on the selected face."""
        if self.aligned is None:
            raise RuntimeError("select() a face (or invert() from a session) before place()")
        tick = time.perf_counter()
        placed = place_points(points, self.aligned)
        mask = mask_in_crop(points.mask, points.space, self.aligned, source=points.source) if points.mask else None
        self.set_points(placed.handles_crop, placed.targets_crop, mask=mask)
        self.points = placed
        self.seconds["map_points"] = time.perf_counter() - tick
        logger.info("[2/5] points: %d handle(s) placed in the crop%s", len(placed.handles_crop),
                    "" if mask is None else ", with a mask")
        return placed

    def set_points(self, handles: np.ndarray, targets: np.ndarray, *, mask: np.ndarray | None = None) -> None:
        """Handles and targets [N, 2] (x, y) crop px, and the flexible region [S, S] 0/1 (1 = may change) or None."""
        handles = np.asarray(handles, np.float64).reshape(-1, 2)
        targets = np.asarray(targets, np.float64).reshape(-1, 2)
        if len(handles) == 0 or handles.shape != targets.shape:
            raise UserError(f"give one target per handle, at least one pair (got {len(handles)} handles, "
                            f"{len(targets)} targets)")
        self.points = None
        self.targets, self.mask = targets, mask
        self._first_handles = handles
        self.handles = handles.copy()
        self._history = []

    # 4. Drag.
    def drag(self, *, on_step=None, max_steps: int | None = None) -> DragResult:
        """Drag the handles (from where the last drag left them) to the targets; call again to resume.

        `on_step(step, state)` sees every step (DragState.render() gives a preview) and may return
        False to stop; the state reached is kept either way, and undo() goes back to before this call.
        """
        if self.ws is None or self.inversion is None:
            raise RuntimeError("invert() (or use_inversion()) before drag()")
        if self.targets is None:
            raise RuntimeError("place() or set_points() before drag()")
        cfg = drag_config(self.config)
        if max_steps is not None:
            cfg = type(cfg)(**{**cfg.__dict__, "max_steps": max_steps})
        mask = self._drag_mask()
        self._history.append(_Checkpoint(ws=self.ws.clone(), handles=self.handles.copy(), drags=len(self.drags)))
        tick = time.perf_counter()
        steps_before = sum(d.steps for d in self.drags)
        with DragProgress(cfg.max_steps, enabled=self.progress, record_steps=self.record_steps, forward=on_step,
                          first_step=steps_before) as progress:
            result = drag(self.inversion.G, self.ws, self.handles.tolist(), self.targets.tolist(), mask=mask,
                          config=cfg, device=self.device, callback=progress)
        self.step_latents.update(progress.latents)
        self.seconds["drag"] += time.perf_counter() - tick
        self.ws = result.ws.detach()
        self.handles = np.asarray(result.handles, np.float64)
        self.drags.append(result)
        logger.info("[4/5] drag: %s after %d steps (%.1f s)", result.status, result.steps, self.seconds["drag"])
        if not result.converged and result.status != STATUS_NAN:
            logger.warning("the handles did not reach their targets (%s after %d steps; distances %s px)",
                           result.status, result.steps, ", ".join(f"{d:.2f}" for d in result.distances))
        return result

    def _drag_mask(self) -> np.ndarray | None:
        """The flexible region as the drag takes it: a generated image's as given, a photo face's grown."""
        if self.mask is None or self.aligned is None:
            return self.mask
        if mask_in_drag(self.config, self.G):
            return drag_mask(self.mask, self.aligned, self.config)
        logger.info("the mask limits the paste-back only (mask_use %s, %d latent entr%s)", self.config.mask_use,
                    self.G.num_ws, "y" if self.G.num_ws == 1 else "ies")
        return None

    def undo(self) -> bool:
        """Back to the state before the last drag; False when there is nothing to undo."""
        if not self._history:
            return False
        point = self._history.pop()
        self.ws, self.handles = point.ws, point.handles
        self.drags = self.drags[:point.drags]
        return True

    def reset(self) -> None:
        """Back to the inversion, handles where they started."""
        if self.inversion is not None:
            self.use_inversion(self.inversion)

    def render(self) -> np.ndarray:
        """[S, S, 3] uint8: the generator's image of the current latent."""
        with torch.no_grad():
            noise = drag_config(self.config).noise_mode
            return tensor_to_image(self.inversion.G.synthesis(self.ws, noise_mode=noise))

    # 5. Paste back.
    def apply(self, *, photo: np.ndarray | None = None) -> EditResult:
        """The edit pasted back into `photo` (default: the opened photo; a batch passes the photo with the
        other faces already edited)."""
        if not self.drags or self.aligned is None:
            raise RuntimeError("drag() a face of an opened photo before apply()")
        base = self.photo if photo is None else photo
        last = self.drags[-1]
        edited_crop = tensor_to_image(last.image) if _same(last.ws, self.ws) else self.render()
        tick = time.perf_counter()
        paste = paste_mask(self.mask, self.aligned, self.config) if self.mask is not None else None
        anchors = (self._first_handles, self.handles)
        focus = focus_region(self._first_handles, self.targets, self.aligned.crop_inter_ocular_px,
                             self.aligned.output_size, self.mask)
        blended = blend_face(base, edited_crop, self.aligned, reconstruction=self.inversion.reconstruction, mask=paste,
                             mode=self.config.blend_mode, anchors=anchors, focus=focus, seed=self.config.seed,
                             config=self.config.blend)
        self.seconds["blend"] = time.perf_counter() - tick
        seconds = {**self.seconds, "total": time.perf_counter() - self._started}
        flags = change_flags(blended)
        logger.info("[5/5] paste-back %s: new content %.1f%%, changed %.1f%% of the face (%.1f%% outside the asked "
                    "region)%s; %.1f s in all", blended.mode, 100 * blended.new_content, 100 * blended.changed,
                    100 * (blended.changed_outside or 0.0), ", greyscale kept" if blended.greyscale else "",
                    seconds["total"])
        for flag in flags:
            logger.warning("check the result: %s", flag)
        return EditResult(photo=blended.photo, aligned=self.aligned, points=self.points or self._crop_points(),
                          mask=self.mask, inversion=self.inversion, drag=last, blend=blended, edited_crop=edited_crop,
                          seconds={s: seconds.get(s, 0.0) for s in (*STAGES, "total")},
                          step_latents=dict(self.step_latents), flags=tuple(flags))

    def _crop_points(self) -> PlacedPoints:
        """Points given in crop px (set_points) carried to the photo for the report."""
        from pipeline.align import crop_to_photo

        return PlacedPoints(handles_photo=crop_to_photo(self._first_handles, self.aligned),
                            targets_photo=crop_to_photo(self.targets, self.aligned),
                            handles_crop=self._first_handles, targets_crop=self.targets,
                            names=tuple(f"points[{i}]" for i in range(len(self.targets))),
                            inter_ocular_px=self.aligned.inter_ocular_px)


def crop_convention(G: LatentGenerator) -> tuple[str, np.ndarray | None]:
    """How G's training faces were cropped ('ffhq', or a landmark template of its own)."""
    info = G.model_info or {}
    convention = info.get("crop_convention") or "ffhq"
    template = info.get("landmark_template")
    return convention, (np.asarray(template, dtype=np.float64) if template is not None else None)


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and bool(torch.equal(a.detach().to(b.device), b))


def _check_photo(photo: np.ndarray) -> None:
    if not isinstance(photo, np.ndarray) or photo.dtype != np.uint8 or photo.ndim != 3 or photo.shape[2] != 3:
        raise ValueError(f"photo must be [H, W, 3] uint8 RGB, got {getattr(photo, 'dtype', type(photo))} "
                         f"{getattr(photo, 'shape', '')}")


def edit_photo(
    photo: np.ndarray,
    points: EditPoints,
    G: LatentGenerator,
    *,
    config: EditConfig = EditConfig(),
    device: torch.device,
    name: str = "photo",
    path: str | os.PathLike | None = None,
    session: str | os.PathLike | None = None,
    record_steps: bool = False,
    progress: bool = True,
) -> EditResult:
    """The whole edit of one face of `photo` [H, W, 3] uint8, as `cli.py edit` runs it.

    With `session`, an inversion saved there is reused (no detection, no inversion) or this one
    is saved there. The points are placed before the inversion when there is one: a point off
    the crop is an error in seconds, not after minutes of inversion.
    """
    from .session_reuse import is_session

    editor = Editor(G, config=config, device=device, progress=progress, record_steps=record_steps)
    reuse = session is not None and is_session(session)
    editor.open(photo, name=name, path=path, detect=not reuse)
    if not reuse:
        editor.select()
        editor.place(points)
    editor.invert(session=session)
    if reuse:
        editor.place(points)
    editor.drag()
    return editor.apply()
