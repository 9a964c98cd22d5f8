"""The batch on a Ray cluster (`cli.py batch --engine ray`; `pip install -e '.[cluster]'`).

Each worker is a Ray actor that loads the model once and edits photo after photo; a photo goes
to whichever actor finishes first, so long and short edits mix. The actors run the very code of
the local engine (batch_runner.process_job), so outputs, records, summary.csv and the resume
rule are the same and a folder started by one engine is finished by the other.

Why actors and not Ray Data's `map_batches` with an actor pool: a photo is one long task with
side effects (its output and its record), the driver must see each photo as it finishes (the
summary, Ctrl-C keeping what is done, resuming), and a dead worker's photo must be retried once
and then reported. Ray's actor fault tolerance does exactly that: `max_restarts` replaces a dead
actor's process (reloading the model), `max_task_retries=1` runs its photo again on the new one,
and a second death comes back as RayActorError, which becomes the photo's failed record. Ray
Data would retry whole blocks and hand results back only as the dataset is consumed.

Photos and outputs are read and written by the actors at the paths the driver planned: on a
multi-node cluster INPUT_DIR, OUT_DIR and the model file must be at the same paths on every node
(shared storage: NFS, a KubeRay volume).
"""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from pipeline.common import UserError, write_json_atomic

from .batch_runner import BatchJob, WorkerFactory, failed_record, process_job

logger = logging.getLogger(__name__)

INSTALL_HINT = "the ray engine needs Ray: pip install -e '.[cluster]' (or use the default --engine local)"


@dataclass(frozen=True, kw_only=True)
class RayEngine:
    address: str | None = None          # 'auto' or 'HOST:PORT' of a running cluster; None: a local Ray for this batch
    workers: int | None = None          # actors; None: one per gpus_per_worker GPUs of the cluster, else 1
    gpus_per_worker: float | None = None  # GPUs each actor holds; None: 1 when the cluster has GPUs, else 0
    cpus_per_worker: float | None = None  # CPUs each actor holds (its torch threads); None: see _plan
    restarts_per_worker: int = 4        # times Ray replaces an actor whose process died, before giving up on it
    worker_logs: bool = True            # show the actors' log lines on the driver's console

    def __call__(self, todo: list[BatchJob], factory: WorkerFactory) -> Iterator[dict]:
        ray = _import_ray(self.address)
        started_here = _connect(ray, self.address, worker_logs=self.worker_logs)
        actors = []
        try:
            plan = self._plan(ray, len(todo), can_grow=not started_here)
            logger.info("ray: %d actor(s), %g CPU and %g GPU each, on %s", plan.workers, plan.cpus, plan.gpus,
                        "a local Ray instance" if started_here else f"the cluster at {self.address}")
            actor_class = ray.remote(PhotoActor).options(
                num_cpus=plan.cpus, num_gpus=plan.gpus, max_restarts=self.restarts_per_worker, max_task_retries=1)
            device = "cuda" if plan.gpus > 0 else "cpu"  # Ray gives each actor its own CUDA_VISIBLE_DEVICES
            threads = max(1, int(plan.cpus))
            actors = [actor_class.remote(factory, device, threads) for _ in range(plan.workers)]
            _wait_until_ready(ray, actors)
            yield from _edit_on_actors(ray, actors, todo)
        finally:
            for actor in actors:  # Ctrl-C or the end: no actor outlives the batch
                ray.kill(actor, no_restart=True)
            if started_here:
                ray.shutdown()

    def _plan(self, ray, jobs: int, *, can_grow: bool) -> "_Plan":
        """Actors and what each holds. More than the cluster has is an error on a local instance; on
        a running cluster (`can_grow`: an autoscaler may add nodes) a warning, and the actors wait."""
        resources = ray.cluster_resources()
        cluster_gpus, cluster_cpus = resources.get("GPU", 0.0), resources.get("CPU", 1.0)
        gpus = self.gpus_per_worker if self.gpus_per_worker is not None else (1.0 if cluster_gpus else 0.0)
        if gpus < 0:
            raise UserError(f"--gpus-per-worker must be 0 or more, got {gpus:g}")
        if self.workers is not None and self.workers < 1:
            raise UserError(f"--workers must be >= 1, got {self.workers}")
        workers = self.workers or (max(1, int(cluster_gpus // gpus)) if gpus else 1)
        node_cpus = max((n.get("Resources", {}).get("CPU", 0.0) for n in ray.nodes() if n.get("Alive")),
                        default=cluster_cpus)
        cpus = self.cpus_per_worker
        if cpus is None:  # GPU actors need a core; CPU actors share the cores out, one node at most each
            cpus = 1.0 if gpus else max(1.0, min(node_cpus, cluster_cpus // workers))
        if cpus <= 0:
            raise UserError(f"--cpus-per-worker must be more than 0, got {cpus:g}")
        workers = min(workers, max(jobs, 1))
        for kind, each, have in (("GPU", gpus, cluster_gpus), ("CPU", cpus, cluster_cpus)):
            if workers * each > have:
                message = (f"{workers} actor(s) x {each:g} {kind} need {workers * each:g} {kind}s but the cluster "
                           f"has {have:g}; lower --workers or --{kind.lower()}s-per-worker")
                if not can_grow:
                    raise UserError(message)
                logger.warning("%s (the actors wait until nodes join)", message)
        return _Plan(workers=workers, cpus=cpus, gpus=gpus)


@dataclass(frozen=True)
class _Plan:
    workers: int
    cpus: float
    gpus: float


class PhotoActor:
    """One Ray worker: the model loaded once (factory(device)), then one photo per call."""

    def __init__(self, factory: WorkerFactory, device: str, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)
        self.worker = factory(device)

    def ready(self) -> int:
        return os.getpid()

    def edit(self, job: BatchJob) -> dict:
        if not job.source.exists():
            return failed_record(job, f"{job.source} is not on this node ({socket.gethostname()}); the ray engine needs "
                                      "the photos and the output folder at the same paths on every node (shared storage)")
        return process_job(self.worker, job)


def _import_ray(address: str | None):
    """Ray, imported after the settings it reads once at import time."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # never phone home (offline machines, studios' clusters)
    if address not in (None, "auto") and "RAY_AUTH_MODE" not in os.environ and _token_available():
        # A cluster started where a Ray token exists requires it, but (Ray 2.60) a driver given HOST:PORT
        # sends it only in token mode; clusters without authentication accept it too.
        os.environ["RAY_AUTH_MODE"] = "token"
    try:
        import ray
    except ImportError:
        raise UserError(INSTALL_HINT) from None
    return ray


def _connect(ray, address: str | None, *, worker_logs: bool) -> bool:
    """Join the cluster at `address`, or start a local one; True when it was started here (and so is ours to stop)."""
    if ray.is_initialized():
        return False
    try:
        if address is None:
            # 'local': a new instance even where `ray start` left a cluster running (that one is --address auto)
            ray.init(address="local", include_dashboard=False, log_to_driver=worker_logs,
                     logging_level=logging.WARNING)
            return True
        ray.init(address=address, log_to_driver=worker_logs, logging_level=logging.WARNING)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = "a running cluster (ray start --head)" if address == "auto" else f"the cluster at {address}"
        raise UserError(f"could not join {where}: {str(exc).splitlines()[0]}; check --address, or leave it out "
                        "to run on a local Ray instance") from None
    return False


def _token_available() -> bool:
    return bool(os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")
                or (Path.home() / ".ray" / "auth_token").is_file())


def _wait_until_ready(ray, actors: list) -> None:
    """Every actor has loaded the model, or the first one's error stops the batch before any photo."""
    try:
        ray.get([actor.ready.remote() for actor in actors])
    except ray.exceptions.RayError as exc:
        raise UserError(f"a Ray worker could not start: {_first_line(exc)}") from None


def _edit_on_actors(ray, actors: list, todo: list[BatchJob]) -> Iterator[dict]:
    """Each actor holds one photo at a time; the next photo goes to the first actor to finish."""
    pending = list(reversed(todo))
    in_flight: dict = {}  # ObjectRef -> (actor, job)

    def hand_out(actor) -> None:
        if pending:
            job = pending.pop()
            in_flight[actor.edit.remote(job)] = (actor, job)

    for actor in actors:
        hand_out(actor)
    with _ctrl_c_flag() as interrupted:
        while in_flight:
            done, _ = ray.wait(list(in_flight), num_returns=1, timeout=0.5)
            if interrupted.is_set():
                raise KeyboardInterrupt
            if not done:
                continue
            actor, job = in_flight.pop(done[0])
            yield _finished(ray, done[0], job)
            hand_out(actor)


def _finished(ray, ref, job: BatchJob) -> dict:
    """The photo's record: the actor's, or a failed one when Ray could not finish it."""
    try:
        record = ray.get(ref)  # written by the actor too (shared storage); again here, so it is never lost
    except ray.exceptions.RayActorError as exc:  # died on it twice (Ray retried it once on a new process)
        logger.warning("%s: its worker died twice while editing it", job.name)
        record = failed_record(job, f"the worker process died while editing it, twice ({_first_line(exc)})")
    except ray.exceptions.RayError as exc:
        record = failed_record(job, f"Ray could not run it: {_first_line(exc)}")
    write_json_atomic(job.record, record)
    return record


@contextlib.contextmanager
def _ctrl_c_flag():
    """Ctrl-C sets a flag the loop checks twice a second. A signal that lands while Ray's C++ code
    waits can be lost to Python (seen in CI: a batch ran on after SIGINT), so the loop polls."""
    flag = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: flag.set())
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] + ("..." if len(text) > 200 else "")
