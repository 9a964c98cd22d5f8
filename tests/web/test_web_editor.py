"""The browser editor (`cli.py serve`): its API's checks, and the whole page driven in Debian's Chromium.

The end-to-end test needs /usr/bin/chromium (Debian's package `chromium`, which .ci/run installs)
and fails, rather than skips, without it. Screenshots of each stage go to the test's folder, or
to $PORTRAIT_DRAG_SCREENSHOTS when set.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import socket
import struct
import threading
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
import uvicorn
from PIL import Image

from pipeline.edit import EditConfig
from pipeline.gan.loading import load_generator
from webui.app import create_app
from webui.sessions import SessionRegistry

PHOTOS = Path(__file__).resolve().parents[1] / "data" / "photos"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The editor on the demo model (12 projection steps), served on a free port of 127.0.0.1."""
    G = load_generator("demo-face-64", device=torch.device("cpu"))
    workdir = tmp_path_factory.mktemp("web")
    registry = SessionRegistry(G, config=EditConfig(invert_steps=12), device=torch.device("cpu"), workdir=workdir,
                               idle_seconds=600)
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(create_app(registry), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uv.started, "the server did not start"
    yield f"http://127.0.0.1:{port}", registry
    uv.should_exit = True
    thread.join(timeout=10)


def call(url: str, *, data: bytes | None = None, body: dict | None = None, method: str = "POST") -> tuple[int, dict]:
    headers = {}
    if body is not None:
        data, headers = json.dumps(body).encode(), {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height (a decompression bomb's shape)."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def test_bad_uploads_and_requests_get_one_sentence(server):
    base, registry = server
    before = registry.open_count()
    noface = io.BytesIO()
    Image.open(PHOTOS / "portrait_a.jpg").crop((0, 0, 120, 120)).save(noface, format="PNG")
    cases = [(b"", "empty"), (b"not a photo at all", "not a photo"), (png_claiming(7000, 7000), "49 MP"),
             (png_claiming(20000, 20000), "decompression bomb"), (noface.getvalue(), "no face")]
    for data, words in cases:
        status, answer = call(f"{base}/api/sessions", data=data)
        assert status == 400 and words in answer["error"] and "\n" not in answer["error"], answer
    assert registry.open_count() == before  # a refused upload leaves no session behind
    status, answer = call(f"{base}/api/s/0123456789abcdef/undo")
    assert status == 404 and "expired" in answer["error"]


def test_each_tab_gets_its_own_session_and_files_stay_inside(server):
    base, registry = server
    data = (PHOTOS / "grace_hopper.jpg").read_bytes()
    (s1, a), (s2, b) = call(f"{base}/api/sessions", data=data), call(f"{base}/api/sessions", data=data)
    assert s1 == s2 == 200 and a["id"] != b["id"] and len(a["faces"]) == 1
    folders = {registry.get(x["id"]).folder for x in (a, b)}
    assert len(folders) == 2 and all(registry.workdir in f.parents for f in folders)
    for name in ("..%2F..%2Fsecret", "photo.jpg", "report.json"):  # nothing outside the result files
        status, answer = call(f"{base}/api/s/{a['id']}/files/{name}", method="GET")
        assert status in (400, 404) and "error" in answer
    for x in (a, b):
        assert call(f"{base}/api/s/{x['id']}", method="DELETE")[0] == 200
        assert not registry.is_open(x["id"])


def test_the_device_runs_one_job_at_a_time_and_says_who_waits(server):
    _, registry = server
    release = threading.Event()
    first = registry.queue.submit("first", release.wait)
    second = registry.queue.submit("second", lambda: "done")
    time.sleep(0.2)
    assert registry.queue.position("first") == 0 and registry.queue.position("second") == 1
    release.set()
    assert second.result(timeout=10) == "done" and first.result(timeout=10) is True
    assert registry.queue.position("second") is None


def test_an_idle_session_is_freed(tmp_path):
    G = load_generator("demo-face-64", device=torch.device("cpu"))
    registry = SessionRegistry(G, config=EditConfig(), device=torch.device("cpu"), workdir=tmp_path, idle_seconds=0.5)
    session = registry.create()
    assert session.folder.is_dir()
    deadline = time.monotonic() + 10
    while registry.is_open(session.id) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not registry.is_open(session.id) and not session.folder.exists()


def test_serve_binds_to_this_machine_unless_told(monkeypatch):
    import cli

    args = cli.build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1" and args.port == 7860


def test_the_page_edits_a_photo_end_to_end(server, tmp_path):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).is_file(), "Debian's chromium is needed: apt-get install chromium (.ci/run does)"
    base, _ = server
    shots = Path(os.environ.get("PORTRAIT_DRAG_SCREENSHOTS", tmp_path / "screens"))
    shots.mkdir(parents=True, exist_ok=True)
    photo = PHOTOS / "portrait_a.jpg"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1200, "height": 1100})
        page.goto(f"{base}/")
        page.screenshot(path=str(shots / "1-open.png"))
        # 1. Open a shared portrait; its one face is chosen and inverted.
        page.set_input_files("#file", str(photo))
        page.wait_for_function('window.__editor.status.startsWith("ready")', timeout=120_000)
        page.screenshot(path=str(shots / "2-inverted.png"), full_page=True)
        # 2. A handle on the left mouth corner, its target 6 crop px above; then Drag.
        size, landmarks = page.evaluate("state.size"), page.evaluate("state.landmarks")
        canvas = page.locator("#crop-canvas")
        k = canvas.bounding_box()["width"] / size
        hx, hy = landmarks[48]
        canvas.click(position={"x": hx * k, "y": hy * k})
        canvas.click(position={"x": hx * k, "y": (hy - 6) * k})
        assert len(page.evaluate("state.pairs")) == 1
        page.click("#drag")
        page.wait_for_function('window.__editor.status.startsWith("drag ")', timeout=120_000)
        page.screenshot(path=str(shots / "3-dragged.png"), full_page=True)
        editor = page.evaluate("window.__editor")
        assert editor["frames"] >= 2 and editor["firstFrameMs"] is not None
        start, end = np.array(editor["steps"][0]["handles"][0]), np.array(editor["lastHandles"][0])
        target = np.array([hx, hy - 6])
        assert np.linalg.norm(end - target) < np.linalg.norm(start - target), (start, end, target)
        # 3. Apply, then download the full-resolution result.
        page.click("#apply")
        page.wait_for_function('window.__editor.status.startsWith("the edited photo")', timeout=120_000)
        page.screenshot(path=str(shots / "4-applied.png"), full_page=True)
        with page.expect_download() as download:
            page.click("#download-result")
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        browser.close()
    with Image.open(saved) as result, Image.open(photo) as original:
        assert result.size == original.size
    if "PORTRAIT_DRAG_SCREENSHOTS" in os.environ:
        shutil.copy(saved, shots / saved.name)
