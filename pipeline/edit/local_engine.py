"""The batch's default engine: workers on this machine, no Ray needed.

One device: the photos run one after another in this process. Several (N CPU workers, or one per
GPU): one spawned process per device, each loading the model once, photos handed out as workers
free up (concurrent.futures).
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from dataclasses import dataclass
from typing import Iterator

from .batch_runner import BatchJob, PhotoWorker, WorkerFactory, process_job


@dataclass(frozen=True)
class LocalEngine:
    devices: tuple[str, ...] = ("cpu",)   # one worker per entry: 'cpu', 'cuda:1', ...
    threads_per_worker: int | None = None  # torch threads in each worker process (None: torch's default)

    def __post_init__(self) -> None:
        if not self.devices:
            raise ValueError("LocalEngine needs at least one device")

    def __call__(self, todo: list[BatchJob], factory: WorkerFactory) -> Iterator[dict]:
        if len(self.devices) == 1:
            worker = factory(self.devices[0])
            for job in todo:
                yield process_job(worker, job)
            return
        context = multiprocessing.get_context("spawn")  # fork + torch threads can deadlock
        queue = context.Queue()
        for device in self.devices:
            queue.put(device)
        with cf.ProcessPoolExecutor(max_workers=len(self.devices), mp_context=context, initializer=_init_worker,
                                    initargs=(factory, queue, self.threads_per_worker)) as pool:
            futures = [pool.submit(_run_in_worker, job) for job in todo]
            try:
                for future in cf.as_completed(futures):
                    yield future.result()
            except BaseException:  # Ctrl-C, or the iterator closed: drop the photos not started
                for f in futures:
                    f.cancel()
                raise


_WORKER: PhotoWorker | None = None


def _init_worker(factory: WorkerFactory, queue, threads: int | None) -> None:
    global _WORKER
    if threads:
        import torch

        torch.set_num_threads(threads)
    _WORKER = factory(queue.get())


def _run_in_worker(job: BatchJob) -> dict:
    assert _WORKER is not None, "worker process was not initialised"
    return process_job(_WORKER, job)
