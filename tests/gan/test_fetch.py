"""Checkpoint download against a local HTTP server: resume, verification, offline errors."""
from __future__ import annotations

import hashlib
import http.server
import threading

import pytest

from pipeline.common import UserError
from pipeline.gan.fetch import fetch_checkpoint
from pipeline.gan.registry import REGISTRY, CheckpointEntry

DATA = bytes(range(256)) * 4096 + b"tail"  # 1 MiB + 4 bytes: more than one download chunk
SHA = hashlib.sha256(DATA).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    ranges: list = []  # Range header of every request ('' when absent)

    def do_GET(self):  # noqa: N802 - http.server's naming
        rng = self.headers.get("Range", "")
        type(self).ranges.append(rng)
        if self.path == "/missing.bin":
            self.send_error(404)
            return
        start = 0
        if rng and self.path == "/file.bin":  # /norange.bin ignores Range, like some servers
            start = int(rng.removeprefix("bytes=").split("-")[0])
        body = DATA[start:]
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(DATA) - 1}/{len(DATA)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def _clear_requests():
    _Handler.ranges.clear()


def entry(url: str, sha256: str | None = SHA, size: int | None = None) -> CheckpointEntry:
    return CheckpointEntry(name="test-model", filename="model.pkl", url=url, resolution=64, category="face",
                           drag_lr=1e-3, size_bytes=size, sha256=sha256, format="network-pickle")


def test_download_verifies_and_renames(server, tmp_path):
    path = fetch_checkpoint(entry(f"{server}/file.bin", size=len(DATA)), dest_dir=tmp_path, progress=False)
    assert path == tmp_path / "model.pkl" and path.read_bytes() == DATA
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pkl"]
    # Present and verified: no second request.
    assert fetch_checkpoint(entry(f"{server}/file.bin"), dest_dir=tmp_path, progress=False) == path
    assert len(_Handler.ranges) == 1


def test_resumes_from_partial_file(server, tmp_path):
    (tmp_path / "model.pkl.part").write_bytes(DATA[:300_000])
    path = fetch_checkpoint(entry(f"{server}/file.bin"), dest_dir=tmp_path, progress=False)
    assert _Handler.ranges == ["bytes=300000-"]
    assert path.read_bytes() == DATA
    assert not (tmp_path / "model.pkl.part").exists()


def test_restarts_when_server_ignores_range(server, tmp_path):
    (tmp_path / "model.pkl.part").write_bytes(b"x" * 1000)  # not even a valid prefix
    path = fetch_checkpoint(entry(f"{server}/norange.bin"), dest_dir=tmp_path, progress=False)
    assert _Handler.ranges == ["bytes=1000-"]
    assert path.read_bytes() == DATA


def test_checksum_mismatch_deletes_download(server, tmp_path):
    with pytest.raises(UserError, match="sha256 mismatch"):
        fetch_checkpoint(entry(f"{server}/file.bin", sha256="0" * 64), dest_dir=tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_unknown_hash_is_accepted_and_file_kept(server, tmp_path):
    path = fetch_checkpoint(entry(f"{server}/file.bin", sha256=None), dest_dir=tmp_path, progress=False)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SHA


@pytest.mark.parametrize("url_suffix,reason", [(None, "download of test-model failed"), ("/missing.bin", "HTTP 404")])
def test_unreachable_or_missing_gives_one_line_with_url_and_destination(server, tmp_path, url_suffix, reason):
    url = "http://127.0.0.1:9/model.pkl" if url_suffix is None else server + url_suffix
    with pytest.raises(UserError) as info:
        fetch_checkpoint(entry(url), dest_dir=tmp_path, progress=False)
    message = str(info.value)
    assert "\n" not in message and reason in message
    assert url in message and str(tmp_path / "model.pkl") in message
    assert not (tmp_path / "model.pkl").exists()


def test_bundled_model_is_not_downloadable(tmp_path):
    with pytest.raises(UserError, match="nothing to download"):
        fetch_checkpoint(REGISTRY["demo-face-64"], dest_dir=tmp_path, progress=False)


def test_existing_bad_file_is_reported_not_deleted(server, tmp_path):
    (tmp_path / "model.pkl").write_bytes(b"someone else's file")
    with pytest.raises(UserError, match="not a valid copy"):
        fetch_checkpoint(entry(f"{server}/file.bin"), dest_dir=tmp_path, progress=False)
    assert (tmp_path / "model.pkl").read_bytes() == b"someone else's file"
    assert _Handler.ranges == []
