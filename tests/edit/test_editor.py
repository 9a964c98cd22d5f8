"""The editing core (pipeline/edit/editor.py) step by step, on the demo model and a real photo."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from pipeline.common import UserError
from pipeline.drag import DragConfig
from pipeline.drag.result import STATUS_CONVERGED, STATUS_STOPPED
from pipeline.edit import EditConfig, Editor, parse_edit_points
from pipeline.gan.loading import load_generator

CPU = torch.device("cpu")
PHOTO = "portrait_a.jpg"
CONFIG = EditConfig(invert_steps=12, drag=DragConfig(max_steps=30))
UP = parse_edit_points({"points": [{"handle": {"landmark": name}, "target": {"offset": [0, -0.3]}}
                                   for name in ("mouth_left", "mouth_right")]})


@pytest.fixture(scope="module")
def demo_G():
    return load_generator("demo-face-64", device=CPU)


@pytest.fixture(scope="module")
def inverted(demo_G, photos, tmp_path_factory):
    """An editor with the photo's face inverted once (12 steps, no PTI: the demo model's auto) and saved."""
    session = tmp_path_factory.mktemp("editor") / "session"
    editor = Editor(demo_G, config=CONFIG, device=CPU, progress=False)
    faces = editor.open(photos[PHOTO].pixels, name=PHOTO, path=photos[PHOTO].path)
    assert len(faces) == 1 and editor.select().face_index == 0
    inversion = editor.invert(session=session)
    assert not inversion.tuned and inversion.session == session and not inversion.reused
    return editor, inversion, session


def fresh(demo_G, photos, inversion, config=CONFIG) -> Editor:
    """A new editor on the same face and inversion (no detection, no inversion)."""
    editor = Editor(demo_G, config=config, device=CPU, progress=False)
    editor.open(photos[PHOTO].pixels, name=PHOTO, path=photos[PHOTO].path)
    editor.select()
    editor.use_inversion(inversion)
    return editor


def test_drag_stops_resumes_undoes_and_resets(demo_G, photos, inverted):
    _, inversion, _ = inverted
    editor = fresh(demo_G, photos, inversion)
    editor.place(UP)
    start_handles = editor.handles.copy()
    first = editor.drag(on_step=lambda step, state: step < 4)  # the page's Stop after 4 steps
    assert first.status == STATUS_STOPPED and first.steps == 4
    after_first = editor.ws.clone()
    assert not torch.equal(after_first, inversion.ws)
    second = editor.drag(max_steps=6)  # resume from where the handles are now
    assert second.trajectory[0] == first.handles and len(editor.drags) == 2
    assert editor.undo() and torch.equal(editor.ws, after_first) and editor.drags == [first]
    assert editor.undo() and torch.equal(editor.ws, inversion.ws.to(CPU))
    assert np.array_equal(editor.handles, start_handles) and not editor.undo()
    editor.drag(max_steps=3)
    editor.reset()
    assert torch.equal(editor.ws, inversion.ws.to(CPU)) and np.array_equal(editor.handles, start_handles)


def test_a_handle_on_its_target_changes_nothing(demo_G, photos, inverted):
    _, inversion, _ = inverted
    editor = fresh(demo_G, photos, inversion)
    here = np.array([[30.0, 40.0]])
    editor.set_points(here, here)
    result = editor.drag()
    assert result.status == STATUS_CONVERGED and result.steps == 0 and torch.equal(editor.ws, inversion.ws.to(CPU))
    edit = editor.apply()
    assert np.array_equal(edit.photo, photos[PHOTO].pixels) and edit.blend.new_content == 0.0


def test_a_mouth_mask_keeps_the_rest_of_the_photo(demo_G, photos, inverted):
    _, inversion, _ = inverted
    editor = fresh(demo_G, photos, inversion)
    masked = parse_edit_points({**UP.to_json(), "mask": {"region": "mouth", "grow": 0.1}})
    editor.place(masked)
    assert editor.mask is not None and 0 < editor.mask.mean() < 0.2
    assert editor._drag_mask() is None  # one latent entry: the mask limits the paste-back only (mask_in_drag)
    editor.drag()
    edit = editor.apply()
    changed = np.abs(edit.photo.astype(int) - photos[PHOTO].pixels.astype(int)).max(axis=2) > 0
    mouth = edit.points.handles_photo.mean(axis=0)
    ys, xs = np.nonzero(changed)
    assert len(xs) > 0
    reach = np.hypot(xs - mouth[0], ys - mouth[1]).max()
    assert reach < 1.0 * edit.points.inter_ocular_px  # nothing changed an eye distance or more from the mouth


def test_session_reuse_skips_detection_and_inversion(demo_G, photos, inverted):
    _, inversion, session = inverted
    editor = Editor(demo_G, config=CONFIG, device=CPU, progress=False)
    assert editor.open(photos[PHOTO].pixels, name=PHOTO, path=photos[PHOTO].path, detect=False) == []
    again = editor.invert(session=session)
    assert again.reused and again.seconds == {"invert": 0.0, "pti": 0.0} and editor.aligned.face_index == 0
    assert torch.equal(again.ws.to(CPU), inversion.ws.to(CPU))
    assert np.array_equal(again.reconstruction, inversion.reconstruction)
    other = Editor(demo_G, config=EditConfig(face=1), device=CPU, progress=False)
    other.open(photos[PHOTO].pixels, name=PHOTO, path=photos[PHOTO].path, detect=False)
    with pytest.raises(UserError, match="holds face 0, not --face 1"):
        other.invert(session=session)
    elsewhere = Editor(demo_G, config=CONFIG, device=CPU, progress=False)
    elsewhere.open(photos["grace_hopper.jpg"].pixels, name="grace_hopper.jpg", path=photos["grace_hopper.jpg"].path,
                   detect=False)
    with pytest.raises(UserError, match="made from another photo"):
        elsewhere.invert(session=session)


def test_steps_out_of_order_are_refused(demo_G, photos):
    editor = Editor(demo_G, config=CONFIG, device=CPU, progress=False)
    with pytest.raises(RuntimeError, match="open"):
        editor.select()
    editor.open(photos[PHOTO].pixels, name=PHOTO, detect=False)
    with pytest.raises(RuntimeError, match="invert"):
        editor.drag()
    with pytest.raises(ValueError, match="uint8"):
        editor.open(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(UserError, match="one target per handle"):
        editor.set_points(np.zeros((2, 2)), np.zeros((1, 2)))


def test_a_generated_image_is_edited_without_a_photo(demo_G):
    editor = Editor(demo_G, config=CONFIG, device=CPU, progress=False, record_steps=True)
    with torch.no_grad():
        ws = demo_G.mapping(torch.zeros(1, demo_G.z_dim), truncation_psi=0.7)
    editor.start_from_latent(ws)
    editor.set_points(np.array([[30.0, 40.0]]), np.array([[34.0, 40.0]]))
    result = editor.drag(max_steps=5)
    assert result.steps == 5 and sorted(editor.step_latents) == list(range(6))
    assert editor.render().shape == (64, 64, 3)
    with pytest.raises(RuntimeError, match="opened photo"):
        editor.apply()
