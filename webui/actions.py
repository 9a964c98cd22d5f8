"""What each button of the page does to its session, through the editing core (pipeline/edit)."""
from __future__ import annotations

import hashlib
import logging
import secrets
import time
from pathlib import Path

import numpy as np
import torch

from pipeline.common import UserError, write_json_atomic
from pipeline.common.image_tensors import tensor_to_image
from pipeline.common.images import read_photo, save_image, save_photo
from pipeline.common.precision import autocast_bf16, bf16_native
from pipeline.drag.result import DragState
from pipeline.edit import load_edit_points
from pipeline.edit.edit_report import edit_report
from pipeline.edit.figures import side_by_side
from pipeline.gan import seeded_z

from .sessions import SessionRegistry, WebSession
from .uploads import jpeg_data_url, mask_from_data_url, png_data_url, save_upload

log = logging.getLogger(__name__)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PRESETS = {"smile": "smile.json", "slim jaw": "points.json", "open eyes": "open-eyes.json",
           "nose sideways": "nose-sideways.json"}
RESULT_FILES = ("result.jpg", "result.png", "result.webp", "result.tif", "before-after.jpg", "report.json")


def open_photo(reg: SessionRegistry, session: WebSession, data: bytes) -> dict:
    """An uploaded photo: checked, kept, its faces found."""
    photo = save_upload(data, session.folder)
    return _open(session, photo, hashlib.sha256(data).hexdigest())


def open_generated(reg: SessionRegistry, session: WebSession, seed: int) -> dict:
    """A random face of the generator, as a photo (PNG) to edit like any other."""
    if not 0 <= seed < 2**32:
        raise UserError(f"the seed must be between 0 and {2**32 - 1}")
    G = reg.G

    def render() -> np.ndarray:
        with torch.no_grad():
            ws = G.mapping(seeded_z(seed, G.z_dim, device=reg.device), truncation_psi=0.7)
            return tensor_to_image(G.synthesis(ws, noise_mode="const"))

    pixels = reg.queue.submit(f"{session.id}-generate", render).result()
    path = session.folder / "photo.png"
    save_image(path, pixels)
    return _open(session, read_photo(path), hashlib.sha256(path.read_bytes()).hexdigest())


def _open(session: WebSession, photo, sha256: str) -> dict:
    session.photo, session.photo_sha256 = photo, sha256
    faces = session.editor.open(photo.pixels, name="the photo", path=photo.path)
    if not faces:
        raise UserError("no face was found in this photo: try one where the face is larger and turned to the camera")
    width, height = photo.size
    return {"width": width, "height": height, "photo": jpeg_data_url(photo.pixels, side=1600),
            "faces": [{"index": i, "box": [round(v, 1) for v in f.box]} for i, f in enumerate(faces)]}


def check_idle(reg: SessionRegistry, session: WebSession) -> None:
    """A change of the edit waits for the tab's own job: refuse it while one runs or waits."""
    if session.job is not None and reg.queue.position(session.job) is not None:
        raise UserError("this tab's inversion or drag is still running: wait for it, or press Stop")


def choose_face(reg: SessionRegistry, session: WebSession, index: int) -> dict:
    """Crop the chosen face, then queue its inversion (reused when this photo's face was inverted before)."""
    if session.photo is None:
        raise UserError("open a photo first")
    aligned = session.editor.select(index)
    folder = reg.inversion_folder(session, aligned.face_index)
    job = _queue(reg, session, "invert", lambda: _invert(session, folder))
    return {"size": aligned.output_size, "crop": jpeg_data_url(aligned.crop, side=None),
            "landmarks": np.round(aligned.crop_landmarks, 2).tolist(), "job": job,
            "reused": (folder / "session.json").is_file()}


def _invert(session: WebSession, folder: Path) -> None:
    last = [0.0]

    def on_step(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] > 0.25 or done == total:
            last[0] = now
            session.events.post("invert", stage=stage, done=done, total=total)
            session.touch()

    inversion = session.editor.invert(session=folder, on_step=on_step)
    session.events.post("inverted", reused=inversion.reused, image=jpeg_data_url(inversion.reconstruction),
                        seconds=round(sum(inversion.seconds.values()), 1))


def preset_points(reg: SessionRegistry, session: WebSession, name: str) -> dict:
    """A landmark-anchored preset placed on the chosen face: handles, targets and mask in crop px."""
    if name not in PRESETS:
        raise UserError(f"unknown preset {name!r}: choose one of {', '.join(PRESETS)}")
    if session.editor.aligned is None:
        raise UserError("choose a face first")
    placed = session.editor.place(load_edit_points(EXAMPLES / PRESETS[name]))
    mask = session.editor.mask
    return {"handles": placed.handles_crop.round(2).tolist(), "targets": placed.targets_crop.round(2).tolist(),
            "mask": None if mask is None else png_data_url(mask)}


def start_drag(reg: SessionRegistry, session: WebSession, handles, targets, mask_url: str | None,
               max_steps: int | None) -> dict:
    """Queue a drag of these points (crop px) from the current state; its steps stream as events."""
    editor = session.editor
    if editor.inversion is None:
        raise UserError("wait for the inversion to finish before dragging")
    if not handles or len(handles) != len(targets):
        raise UserError("click a handle (red) and then its target (blue) first")
    size = editor.aligned.output_size
    pts = np.asarray([*handles, *targets], np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or not np.isfinite(pts).all() or (pts < 0).any() or (pts > size - 1).any():
        raise UserError(f"points must lie on the {size} px face crop")
    mask = mask_from_data_url(mask_url or "", size)
    same_mask = (mask is None and editor.mask is None) or (
        mask is not None and editor.mask is not None and np.array_equal(mask, editor.mask))
    same = editor.targets is not None and editor.drags and same_mask and \
        np.array_equal(np.asarray(targets, float), editor.targets)
    if not same:  # new points (or a new mask): start them from here; else resume the stopped drag
        editor.set_points(np.asarray(handles, float), np.asarray(targets, float), mask=mask)
    session.stop.clear()
    return {"job": _queue(reg, session, "drag", lambda: _drag(session, max_steps))}


def _drag(session: WebSession, max_steps: int | None) -> None:
    started = time.perf_counter()
    device = session.editor.device
    # Previews in bf16 where the device computes it natively: 0.22 s instead of 0.35 s per 1024 px
    # render on the 2-core CPU, which takes the stream from 1.5 to over 2 frames/s (bench/web_editor.py).
    fast = bf16_native(device)

    def on_step(step: int, state: DragState) -> bool:
        session.touch()
        with autocast_bf16(device, fast):
            frame = jpeg_data_url(tensor_to_image(state.render()))
        session.events.post("step", step=step, handles=state.handles, targets=state.targets,
                            distances=[round(d, 2) for d in state.distances], image=frame,
                            seconds=round(time.perf_counter() - started, 3))
        return not session.stop.is_set()

    result = session.editor.drag(on_step=on_step, max_steps=max_steps)
    session.events.post("dragged", status=result.status, steps=result.steps, handles=result.handles,
                        distances=[round(d, 2) for d in result.distances], image=jpeg_data_url(session.editor.render()))


def step_back(reg: SessionRegistry, session: WebSession, *, reset: bool) -> dict:
    """Undo the last drag (or reset to the inversion); the image and handles of the state reached."""
    editor = session.editor
    if editor.inversion is None:
        raise UserError("nothing to undo yet")
    if reset:
        editor.reset()
        undone = True
    else:
        undone = editor.undo()
    image = reg.queue.submit(f"{session.id}-render", editor.render).result()
    return {"undone": undone, "image": jpeg_data_url(image),
            "handles": [] if editor.handles is None else editor.handles.round(2).tolist()}


def apply_edit(reg: SessionRegistry, session: WebSession) -> dict:
    """Paste the edit back into the full photo; write the result, the before/after and the report."""
    editor = session.editor
    if not editor.drags:
        raise UserError("drag something before applying")
    result = reg.queue.submit(f"{session.id}-apply", editor.apply).result()
    photo = session.photo
    suffix = photo.path.suffix.lower() if photo.path is not None else ".png"
    name = f"result{suffix if f'result{suffix}' in RESULT_FILES else '.png'}"
    save_photo(session.folder / name, result.photo, photo)
    pair = side_by_side(photo.pixels, result.photo, result.points.handles_photo, result.points.targets_photo)
    save_image(session.folder / "before-after.jpg", pair, jpeg_quality=90)
    report = edit_report(result, G=reg.G, info={"photo": "uploaded photo", "output": name,
                                                "device": str(reg.device), "source": "cli.py serve"})
    write_json_atomic(session.folder / "report.json", report)
    height, width = result.photo.shape[:2]
    return {"result": name, "width": width, "height": height, "flags": list(result.flags),
            "new_content": round(result.blend.new_content, 4), "preview": jpeg_data_url(result.photo, side=1600),
            "files": [name, "before-after.jpg", "report.json"]}


def result_file(session: WebSession, name: str) -> Path:
    """One of the session's own result files; any other name is refused (nothing outside the folder)."""
    if name not in RESULT_FILES or not (session.folder / name).is_file():
        raise UserError(f"no file {name!r} in this session; apply the edit first")
    return session.folder / name


def _queue(reg: SessionRegistry, session: WebSession, kind: str, fn) -> str:
    check_idle(reg, session)
    job_id = f"{session.id}-{kind}-{secrets.token_hex(3)}"

    def run() -> None:
        try:
            with session.lock:
                fn()
        except UserError as exc:
            session.events.post("error", message=str(exc))
        except Exception:  # noqa: BLE001 - logged in full here, one sentence for the page
            log.exception("%s failed", job_id)
            session.events.post("error", message=f"the {kind} failed on the server; see its log")
        finally:
            session.job = None
            session.events.post("idle")

    session.job = job_id
    reg.queue.submit(job_id, run)
    session.events.post("queued", job_kind=kind, job=job_id, position=reg.queue.position(job_id))
    return job_id


__all__ = ["PRESETS", "apply_edit", "choose_face", "open_generated", "open_photo", "preset_points",
           "result_file", "start_drag", "step_back"]
