"""Browser sessions: one editor per tab, its event log for the page, freed after a while idle."""
from __future__ import annotations

import hashlib
import json
import logging
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.common import UserError
from pipeline.common.images import Photo
from pipeline.edit import EditConfig, Editor
from pipeline.gan.interface import LatentGenerator

from .jobs import DeviceQueue

log = logging.getLogger(__name__)

MAX_EVENTS = 400  # kept per session; a page that falls further behind gets the newest only


class SessionGone(LookupError):
    """No open session has this id (freed after idling, closed, or the server restarted)."""


class EventLog:
    """Events for the page (dicts with a growing 'id'), read by the event stream as they come."""

    def __init__(self) -> None:
        self._events: list[dict] = []
        self._next = 1
        self._changed = threading.Condition()

    def post(self, event_type: str, **data) -> None:
        with self._changed:
            self._events.append({"id": self._next, "type": event_type, **data})
            self._next += 1
            del self._events[:-MAX_EVENTS]
            self._changed.notify_all()

    def after(self, cursor: int, *, timeout: float) -> list[dict]:
        """The events with id > cursor, waiting up to `timeout` s for one."""
        with self._changed:
            if not self._events or self._events[-1]["id"] <= cursor:
                self._changed.wait(timeout)
            return [e for e in self._events if e["id"] > cursor]


@dataclass(eq=False)
class WebSession:
    """One tab's edit: its photo, its editor, where its files go, what the page has been told."""

    id: str
    folder: Path                     # inside the server's working folder; every file of the session
    editor: Editor
    photo: Photo | None = None
    photo_sha256: str = ""
    events: EventLog = field(default_factory=EventLog)
    job: str | None = None           # id of the job queued or running for it
    stop: threading.Event = field(default_factory=threading.Event)
    last_seen: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)  # one request changes the editor at a time

    def touch(self) -> None:
        self.last_seen = time.monotonic()


class SessionRegistry:
    """Every open session, the device queue they share, the working folder and the inversion cache."""

    def __init__(self, G: LatentGenerator, *, config: EditConfig, device, workdir: Path,
                 idle_seconds: float = 1800.0, max_sessions: int = 16) -> None:
        self.G, self.config, self.device = G, config, device
        self.workdir = Path(workdir).resolve()
        (self.workdir / "sessions").mkdir(parents=True, exist_ok=True)
        (self.workdir / "inversions").mkdir(parents=True, exist_ok=True)
        self.idle_seconds, self.max_sessions = idle_seconds, max_sessions
        self.queue = DeviceQueue()
        self._sessions: dict[str, WebSession] = {}
        self._lock = threading.Lock()
        self._janitor = threading.Thread(target=self._sweep, name="session-janitor", daemon=True)
        self._janitor.start()

    def create(self) -> WebSession:
        with self._lock:
            if len(self._sessions) >= self.max_sessions:
                raise UserError(f"the server already holds {self.max_sessions} open edits; close a tab or wait "
                                "for an idle one to be freed")
            sid = secrets.token_hex(8)
            folder = self.workdir / "sessions" / sid
            folder.mkdir(parents=True)
            session = WebSession(id=sid, folder=folder,
                                 editor=Editor(self.G, config=self.config, device=self.device, progress=False))
            self._sessions[sid] = session
        log.info("session %s opened (%d open)", sid, len(self._sessions))
        return session

    def get(self, sid: str) -> WebSession:
        session = self._sessions.get(sid)
        if session is None:
            raise SessionGone(sid)
        session.touch()
        return session

    def free(self, sid: str) -> None:
        with self._lock:
            session = self._sessions.pop(sid, None)
        if session is not None:
            session.stop.set()
            shutil.rmtree(session.folder, ignore_errors=True)
            log.info("session %s freed", sid)

    def inversion_folder(self, session: WebSession, face: int) -> Path:
        """Where the inversion of this photo's face with these settings is kept, shared by every tab."""
        settings = json.dumps({"face": face, "edit": self.config.to_dict(), "model": self.G.model_info.get("name")},
                              sort_keys=True, default=str)
        key = hashlib.sha256((session.photo_sha256 + settings).encode()).hexdigest()[:24]
        return self.workdir / "inversions" / key

    def is_open(self, sid: str) -> bool:
        return sid in self._sessions

    def open_count(self) -> int:
        return len(self._sessions)

    def _sweep(self) -> None:
        while True:
            time.sleep(min(30.0, max(self.idle_seconds / 4, 0.5)))
            now = time.monotonic()
            idle = [s.id for s in list(self._sessions.values())
                    if now - s.last_seen > self.idle_seconds and s.job is None]
            for sid in idle:
                self.free(sid)
