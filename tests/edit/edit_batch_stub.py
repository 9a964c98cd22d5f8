"""A fast stand-in per-photo worker for the batch runner's tests (no GAN; the real one is tested too).

It reads the photo (so corrupt and renamed files fail as in the real worker), treats an almost
black photo as "no face", and writes the inverted photo. Module-level and picklable, so worker
processes can build it.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

from pipeline.common import UserError, atomic_path
from pipeline.common.images import read_photo, save_image
from pipeline.edit.batch_runner import STATUS_DONE, BatchJob


@dataclass(frozen=True)
class StubFactory:
    interrupt_on: str | None = None  # job name whose write raises KeyboardInterrupt half-way
    slow_write_s: float = 0.0        # sleep while the output's temporary file is open (kill tests)
    log_dir: str | None = None       # each call appends "<pid> <device> <job>" to a file here
    wait_for_workers: int = 0        # each worker waits (via files in log_dir) until this many have started
    crash_on: str | None = None      # job name whose edit kills the worker's process (a segfault, the OOM killer)

    def __call__(self, device: str) -> "StubWorker":
        if self.wait_for_workers:  # so that a fast worker cannot take every job before the others start
            open(os.path.join(self.log_dir, f"started-{os.getpid()}"), "w").close()
            deadline = time.time() + 60
            while len([n for n in os.listdir(self.log_dir) if n.startswith("started-")]) < self.wait_for_workers:
                if time.time() > deadline:
                    raise RuntimeError("the other workers never started")
                time.sleep(0.05)
        return StubWorker(self, device)


class StubWorker:
    def __init__(self, factory: StubFactory, device: str) -> None:
        self.factory, self.device = factory, device

    def __call__(self, job: BatchJob) -> dict:
        f = self.factory
        if f.log_dir:
            with open(os.path.join(f.log_dir, f"calls-{os.getpid()}.txt"), "a") as log:
                log.write(f"{os.getpid()} {self.device} {job.name}\n")
        if f.crash_on == job.name:
            os._exit(1)
        photo = read_photo(job.source)
        if photo.pixels.mean() < 3:
            raise UserError(f"{job.name}: no face found; use a photo with a frontal face")
        if f.interrupt_on == job.name or f.slow_write_s:
            with atomic_path(job.output) as tmp:
                tmp.write_bytes(b"half a photo")
                time.sleep(f.slow_write_s)
                if f.interrupt_on == job.name:
                    raise KeyboardInterrupt
            job.output.unlink()  # the bytes above were a placeholder; write the real photo below
        save_image(job.output, 255 - photo.pixels, protect=[job.source])
        face = {"face": 0, "status": STATUS_DONE, "steps": 3, "converged": True, "drag_status": "converged",
                "distances": [0.5, 0.75], "seconds": {"align": 0.1, "drag": 0.2, "total": 0.3}}
        return {"status": STATUS_DONE, "reason": "", "faces": [face]}
