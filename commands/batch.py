"""`cli.py batch`: the same edit on every portrait in a folder.

    cli.py batch INPUT_DIR --points spec.json -o OUT_DIR [-r] [--face all|N] [--workers N]
                 [--format .png] [--retry-failed] [edit options: --model, --no-pti, --steps, ...]

Outputs mirror INPUT_DIR under OUT_DIR (same names and formats unless --format), with
reports/<photo>.json and summary.csv (one row per photo and face). A photo that cannot be
edited is reported with a one-line reason and the batch goes on; the exit code is 1 when any
photo or face failed. Re-running resumes: finished photos are skipped, and a killed batch
leaves no half-written file.
"""
from __future__ import annotations

import argparse
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
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes (default: 1 on the CPU, one per GPU with --device auto/cuda)")
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
    face = "all" if args.all_faces else parse_face(args.face, allow_all=True)
    all_faces = face == "all"
    config = edit_config(args, face=None if all_faces else face)
    resolve_backbone(args.backbone)
    model = resolve_model_arg(args.model)
    model_path, _ = resolve_model_path(model)
    devices, threads = _devices(args)
    jobs = plan_batch(args.input_dir, args.output, recursive=args.recursive, output_suffix=args.format)
    settings = {"points": points.to_json(), "edit": config.to_dict(), "model_sha256": sha256_file(model_path),
                "all_faces": all_faces, "format": args.format, "quality": args.quality}
    check_manifest(args.output, settings)
    log.info("batch: %d photos, %d worker(s) on %s", len(jobs), len(devices), ", ".join(sorted(set(devices))))

    # 2. Run.
    factory = EditWorkerFactory(model=str(model_path), points=points, config=config, all_faces=all_faces,
                                jpeg_quality=args.quality)
    outcome = run_batch(jobs, factory, output_dir=args.output, devices=devices, threads_per_worker=threads,
                        retry_failed=args.retry_failed, progress=not args.quiet)

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
