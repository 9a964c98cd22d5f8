"""The web editor's HTTP routes (FastAPI): the page, its API, the event stream of each session.

Every route parses the request, calls webui/actions.py (which calls the editing core) and
answers JSON; a bad request gets {"error": one sentence} and a 4xx status, never a trace.
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeline.common import UserError

from . import actions
from .sessions import SessionGone, SessionRegistry, WebSession
from .uploads import MAX_UPLOAD_BYTES

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
STREAM_SECONDS = 3600.0  # an event stream ends after this; the page reconnects from its last event


def create_app(registry: SessionRegistry) -> FastAPI:
    app = FastAPI(title="portrait-drag editor", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.registry = registry
    _error_handlers(app)
    _opening_routes(app, registry)
    _editing_routes(app, registry)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": f"{request.url.path}: {exc.detail}"}, status_code=exc.status_code)

    @app.exception_handler(SessionGone)
    async def unknown_session(request: Request, exc: SessionGone) -> JSONResponse:
        return JSONResponse({"error": "this edit has expired (idle too long, or the server restarted): open the "
                                      "photo again"}, status_code=404)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("request %s failed", request.url.path)
        return JSONResponse({"error": "the server could not do that; its log says why"}, status_code=500)


def _opening_routes(app: FastAPI, registry: SessionRegistry) -> None:
    @app.get("/")
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    @app.get("/api/info")
    def info() -> dict:
        G = registry.G
        return {"model": G.model_info.get("name"), "license": G.model_info.get("license"),
                "resolution": G.img_resolution, "device": str(registry.device), "presets": list(actions.PRESETS),
                "open_sessions": registry.open_count()}

    @app.post("/api/sessions")
    async def open_upload(request: Request) -> dict:
        data = await _read_body(request)
        session = registry.create()
        try:
            return {"id": session.id, **actions.open_photo(registry, session, data)}
        except Exception:
            registry.free(session.id)
            raise

    @app.post("/api/sessions/random")
    def open_random(body: dict) -> dict:
        session = registry.create()
        try:
            return {"id": session.id, **actions.open_generated(registry, session, int(body.get("seed", 0)))}
        except Exception:
            registry.free(session.id)
            raise

    @app.get("/api/s/{sid}/events")
    def events(sid: str, after: int = 0) -> StreamingResponse:
        session = registry.get(sid)
        return StreamingResponse(_stream(registry, session, after), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @app.delete("/api/s/{sid}")
    def close(sid: str) -> dict:
        registry.free(sid)
        return {"closed": True}


def _editing_routes(app: FastAPI, registry: SessionRegistry) -> None:
    @app.post("/api/s/{sid}/face")
    def face(sid: str, body: dict) -> dict:
        session = registry.get(sid)
        actions.check_idle(registry, session)
        return actions.choose_face(registry, session, _int(body, "index"))

    @app.post("/api/s/{sid}/preset")
    def preset(sid: str, body: dict) -> dict:
        session = registry.get(sid)
        actions.check_idle(registry, session)
        return actions.preset_points(registry, session, str(body.get("name", "")))

    @app.post("/api/s/{sid}/drag")
    def start_drag(sid: str, body: dict) -> dict:
        session = registry.get(sid)
        steps = body.get("steps")
        return actions.start_drag(registry, session, body.get("handles") or [], body.get("targets") or [],
                                  body.get("mask"), None if steps is None else _int(body, "steps"))

    @app.post("/api/s/{sid}/stop")
    def stop(sid: str) -> dict:
        registry.get(sid).stop.set()
        return {"stopping": True}

    @app.post("/api/s/{sid}/undo")
    def undo(sid: str) -> dict:
        session = registry.get(sid)
        actions.check_idle(registry, session)
        return actions.step_back(registry, session, reset=False)

    @app.post("/api/s/{sid}/reset")
    def reset(sid: str) -> dict:
        session = registry.get(sid)
        actions.check_idle(registry, session)
        return actions.step_back(registry, session, reset=True)

    @app.post("/api/s/{sid}/apply")
    def apply(sid: str) -> dict:
        session = registry.get(sid)
        actions.check_idle(registry, session)
        return actions.apply_edit(registry, session)

    @app.get("/api/s/{sid}/files/{name}")
    def download(sid: str, name: str) -> FileResponse:
        path = actions.result_file(registry.get(sid), name)
        return FileResponse(path, filename=name)


def _stream(registry: SessionRegistry, session: WebSession, cursor: int):
    """Server-sent events: the session's events as they come, its place in the device queue while it waits."""
    ends = time.monotonic() + STREAM_SECONDS
    told = None
    yield "retry: 1000\n\n"
    while time.monotonic() < ends and registry.is_open(session.id):
        for event in session.events.after(cursor, timeout=0.5):
            cursor = event["id"]
            yield f"id: {cursor}\ndata: {json.dumps(event)}\n\n"
        position = registry.queue.position(session.job) if session.job else None
        if position != told:
            told = position
            yield f"data: {json.dumps({'type': 'position', 'position': position})}\n\n"


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
        raise UserError(f"the photo is over the {MAX_UPLOAD_BYTES // 2**20} MB limit: save a smaller copy")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise UserError(f"the photo is over the {MAX_UPLOAD_BYTES // 2**20} MB limit: save a smaller copy")
        chunks.append(chunk)
    return b"".join(chunks)


def _int(body: dict, name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise UserError(f"'{name}' must be a whole number")
    return int(value)
