"""`cli.py batch`: the same edit on every portrait in a folder.

    cli.py batch INPUT_DIR --points spec.json -o OUT_DIR [-r] [--face all|N] [--workers N]
                 [--engine local|ray] [--address auto|HOST:PORT] [--gpus-per-worker G] [--cpus-per-worker C]
                 [--format .png] [--retry-failed] [edit options: --model, --no-pti, --steps, ...]

Outputs mirror INPUT_DIR under OUT_DIR (same names and formats unless --format), with
reports/<photo>.json and summary.csv (one row per photo and face). A photo that cannot be
edited is reported with a one-line reason and the batch goes on; the exit code is 1 when any
photo or face failed. Re-running resumes: finished photos are skipped, and a killed batch
leaves no half-written file. The local engine (worker processes here) is the default; --engine ray
runs the same workers as Ray actors (pipeline/edit/ray_engine.py), on one machine or a cluster.
"""
from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
from pathlib import Path

from pipeline.common import UserError

from .arguments import parse_face
from .edit import add_edit_arguments, edit_config

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "batch", help="apply one edit (points file) to every portrait in a folder",
        description="Edit every image in INPUT_DIR (jpg, png, webp, tiff) with the same points file; resumable.",
    )
    p.add_argument("input_dir", type=Path, help="folder of photos")
    p.add_argument("-o", "--output", type=Path, required=True, help="output folder (created; resumed if it exists)")
    p.add_argument("-r", "--recursive", action="store_true", help="also edit photos in sub-folders")
    p.add_argument("--face", default=None,
                   help="which face of each photo: all (every face, each edited on its own), an index left to right, "
                        "or the largest (default)")
    p.add_argument("--all-faces", action="store_true", help="same as --face all")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local (default): worker processes on this machine; ray: Ray actors on a cluster "
                        "(pip install -e '.[cluster]'); either engine resumes the other's folder")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes, or Ray actors (default: 1 on the CPU, one per GPU)")
    p.add_argument("--address", default=None,
                   help="ray: the cluster to join, auto or HOST:PORT (default: start a local Ray for this batch)")
    p.add_argument("--gpus-per-worker", type=float, default=None,
                   help="ray: GPUs per actor (default: 1 when the cluster has GPUs, else 0)")
    p.add_argument("--cpus-per-worker", type=float, default=None,
                   help="ray: CPUs per actor, its torch threads (default: 1 with GPUs, else the cores shared out)")
    p.add_argument("--format", default=None, choices=(".jpg", ".png", ".webp", ".tiff"),
                   help="write every output in this format (default: each input's own)")
    p.add_argument("--retry-failed", action="store_true", help="try photos that failed in an earlier run again")
    add_edit_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipeline.invert.backbone import resolve_backbone
    from pipeline.edit.batch_runner import check_manifest, plan_batch, run_batch
    from pipeline.edit.batch_worker import EditWorkerFactory
    from pipeline.edit.edit_points import load_edit_points
    from pipeline.common.hashing import sha256_file
    from pipeline.gan.loading import resolve_model_arg, resolve_model_path

    # 1. Inputs, checked before anything slow happens.
    points = load_edit_points(args.points)
    face = parse_face(args.face, allow_all=True)
    if args.all_faces and face not in (None, "all"):
        raise UserError(f"--all-faces and --face {face} disagree; give one of them")
    face = "all" if args.all_faces else face
    all_faces = face == "all"
    config = edit_config(args, face=None if all_faces else face)
    resolve_backbone(args.backbone)
    model = resolve_model_arg(args.model)
    model_path, _ = resolve_model_path(model)
    engine = _engine(args)
    jobs = plan_batch(args.input_dir, args.output, recursive=args.recursive, output_suffix=args.format)
    settings = {"points": points.to_json(), "edit": config.to_dict(), "model_sha256": sha256_file(model_path),
                "all_faces": all_faces, "format": args.format, "quality": args.quality}
    check_manifest(args.output, settings)
    log.info("batch: %d photos on the %s engine", len(jobs), args.engine)

    # 2. Run.
    factory = EditWorkerFactory(model=str(model_path), points=points, config=config, all_faces=all_faces,
                                jpeg_quality=args.quality)
    outcome = run_batch(jobs, factory, output_dir=args.output, engine=engine, retry_failed=args.retry_failed,
                        progress=not args.quiet)

    # 3. Report.
    failed = outcome.failed
    done = len(outcome.records) - len(failed)
    for name in failed:
        print(f"{name}: {outcome.records[name]['status']}: {outcome.records[name].get('reason', '')}", file=sys.stderr)
    flagged = outcome.flagged
    for name in flagged:
        reasons = "; ".join(f.get("reason", "") for f in outcome.records[name].get("faces") or [] if f.get("flagged"))
        print(f"{name}: check the result: {reasons}", file=sys.stderr)
    print(f"batch: {done} edited ({len(flagged)} flagged to check), {len(failed)} failed ({outcome.processed} run "
          f"now, {outcome.skipped} already finished); summary: {args.output / 'summary.csv'}", file=sys.stderr)
    return 1 if failed else 0


def _engine(args: argparse.Namespace):
    """The engine the options ask for; options of the other engine are one-line errors."""
    from pipeline.edit.local_engine import LocalEngine

    ray_only = [f"--{name.replace('_', '-')}" for name in ("address", "gpus_per_worker", "cpus_per_worker")
                if getattr(args, name) is not None]
    if args.engine == "local":
        if ray_only:
            raise UserError(f"{', '.join(ray_only)} go with --engine ray; add it, or leave them out")
        devices, threads = _devices(args)
        log.info("local engine: %d worker(s) on %s", len(devices), ", ".join(sorted(set(devices))))
        return LocalEngine(tuple(devices), threads_per_worker=threads)
    from pipeline.edit.ray_engine import INSTALL_HINT, RayEngine

    if importlib.util.find_spec("ray") is None:  # checked now, before any photo is planned
        raise UserError(INSTALL_HINT)
    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers must be >= 1, got {args.workers}")
    if args.gpus_per_worker is not None and args.gpus_per_worker < 0:
        raise UserError(f"--gpus-per-worker must be 0 or more, got {args.gpus_per_worker:g}")
    if args.cpus_per_worker is not None and args.cpus_per_worker <= 0:
        raise UserError(f"--cpus-per-worker must be more than 0, got {args.cpus_per_worker:g}")
    gpus = args.gpus_per_worker
    if gpus is None and args.device.startswith("cuda"):
        gpus = 1.0
    elif gpus is None and args.device in ("cpu", "mps"):
        gpus = 0.0
    return RayEngine(address=args.address, workers=args.workers, gpus_per_worker=gpus,
                     cpus_per_worker=args.cpus_per_worker, worker_logs=not args.quiet)


def _devices(args: argparse.Namespace) -> tuple[list[str], int | None]:
    """Worker devices and torch threads per worker: N CPU workers, or one worker per GPU."""
    import torch

    from pipeline.common import resolve_device

    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers must be >= 1, got {args.workers}")
    device = resolve_device(args.device)
    if device.type == "cuda":
        if device.index is not None:
            gpus = [f"cuda:{device.index}"]
        else:
            gpus = [f"cuda:{i}" for i in range(torch.cuda.device_count())]
        if args.workers is not None and args.workers > len(gpus):
            raise UserError(f"--workers {args.workers} but {len(gpus)} GPU(s): one worker per GPU at most")
        return gpus[: args.workers or len(gpus)], None
    workers = args.workers or 1
    cores = os.cpu_count() or 1
    return [str(device)] * workers, max(1, cores // workers) if workers > 1 else None
