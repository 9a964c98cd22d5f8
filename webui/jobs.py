"""One job at a time on the device, first come first served, with each waiting job's place in line."""
from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from typing import Callable

log = logging.getLogger(__name__)


class DeviceQueue:
    """A single worker thread runs the submitted jobs in order; `position` tells a page where it waits."""

    def __init__(self) -> None:
        self._jobs: queue.Queue = queue.Queue()
        self._waiting: list[str] = []  # job ids in line, next first
        self._running: str | None = None
        self._lock = threading.Lock()
        self._worker = threading.Thread(target=self._work, name="device-queue", daemon=True)
        self._worker.start()

    def submit(self, job_id: str, fn: Callable[[], object]) -> Future:
        """Queue fn(); its Future holds the result or the exception it raised."""
        future: Future = Future()
        with self._lock:
            self._waiting.append(job_id)
        self._jobs.put((job_id, fn, future))
        return future

    def position(self, job_id: str) -> int | None:
        """0 while the job runs, 1.. while it waits (1 = next), None once it is done or unknown."""
        with self._lock:
            if self._running == job_id:
                return 0
            return self._waiting.index(job_id) + 1 if job_id in self._waiting else None

    def _work(self) -> None:
        while True:
            job_id, fn, future = self._jobs.get()
            with self._lock:
                self._waiting.remove(job_id)
                self._running = job_id
            try:
                if future.set_running_or_notify_cancel():
                    future.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 - the job's caller reads it from the future
                future.set_exception(exc)
            finally:
                with self._lock:
                    self._running = None
