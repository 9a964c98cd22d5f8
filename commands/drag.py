"""`cli.py drag`: drag handle points to targets on a generated image.

    cli.py drag --model M --seed S --points pts.json -o out.png [--mask mask.png] [--steps N]
                [--device D] [--report report.json] [--trajectory traj.gif]
    cli.py drag --session SESSION --points pts.json -o out.png [...]

With --session (a folder written by `cli.py invert` or `cli.py edit --session`), the session's
tuned generator and latent are dragged instead of a seed's: no inversion runs again, and the
points are in the session's crop pixels (crop.png).

The drag itself runs in the editing core (pipeline/edit/editor.py), as every edit does; this
command parses, loads, calls it and writes the image, the report and the animation.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from pipeline.common import UserError, check_distinct_outputs, resolve_device, write_atomic, write_json_atomic
from pipeline.common.image_tensors import tensor_to_image
from pipeline.common.mask_images import read_mask_image
from pipeline.drag import DragConfig, DragResult, drag_report, is_gaussian_latent
from pipeline.drag.drag_config import LATENT_PRIOR
from pipeline.drag.drag_points import load_points
from pipeline.drag.progress import render_frames
from pipeline.drag.result import STATUS_NAN
from pipeline.drag.trajectory import write_trajectory_gif
from pipeline.gan import seeded_z
from pipeline.gan.model_record import model_record

log = logging.getLogger(__name__)

DEFAULT_TRUNCATION = 0.7  # as the official DragGAN start latent


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "drag", help="move handle points to target points on a generated image (DragGAN)",
        description="Generate an image from --seed (or take an edit session's inverted photo), then drag its "
                    "handle points to their targets.",
    )
    p.add_argument("--session", type=Path, default=None,
                   help="edit-session folder (cli.py invert): drag its image, points in its crop px; no inversion")
    p.add_argument("--model", default=None, help="checkpoint file or registry name (default: mobilestylegan-ffhq-1024, non-commercial weights)")
    p.add_argument("--seed", type=int, default=0, help="seed of the start latent z (default 0)")
    p.add_argument("--truncation", type=float, default=DEFAULT_TRUNCATION, help="truncation psi of the start latent")
    p.add_argument("--points", required=True, help='JSON: {"points": [{"handle": [x, y], "target": [x, y]}]}, image px')
    p.add_argument("-o", "--output", required=True, help="the dragged image (PNG)")
    p.add_argument("--mask", help="binary image of the image's size: white = may change, black = keep")
    p.add_argument("--steps", type=int, help=f"cap on optimisation steps (default {DragConfig().max_steps})")
    p.add_argument("--lr", type=float, help="Adam learning rate (default: the model's drag lr)")
    p.add_argument("--latent-prior", action="store_true",
                   help="keep z on its start norm and near its start (Gaussian-latent models such as the demo; "
                        "fewer faces lost on long drags, shorter reach)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--report", help="write settings, per-point distances and timings as JSON here")
    p.add_argument("--trajectory", help="write an animation (GIF) of the handles' paths here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # 1. Inputs, checked before anything slow happens.
    check_distinct_outputs([args.output, args.report, args.trajectory], [args.points, args.mask, args.model])
    if args.steps is not None and args.steps < 0:
        raise UserError(f"--steps must be >= 0, got {args.steps}")
    if args.lr is not None and not args.lr > 0:
        raise UserError(f"--lr must be > 0, got {args.lr}")
    points = load_points(args.points)
    mask = read_mask_image(args.mask) if args.mask else None
    overrides = {k: v for k, v in (("max_steps", args.steps), ("lr", args.lr)) if v is not None}
    if args.latent_prior:
        overrides.update(LATENT_PRIOR)
    config = DragConfig(**overrides)
    device = resolve_device(args.device)

    # 2. Model and start latent: a seed's, or the session's inverted photo.
    from pipeline.edit import EditConfig, Editor
    from pipeline.gan.loading import load_generator, resolve_model_arg
    from pipeline.invert import session_model_ref

    if args.session is not None:
        if not (args.session / "session.json").is_file():
            raise UserError(f"{args.session} is not an edit session (no session.json): make one with cli.py invert")
        G = load_generator(args.model or session_model_ref(args.session), device=device)
    else:
        G = load_generator(resolve_model_arg(args.model), device=device)
    if args.latent_prior and not is_gaussian_latent(G):
        raise UserError(f"--latent-prior is for models whose latent is a Gaussian z (such as the demo model); "
                        f"{G.model_info.get('name', 'this model')} is dragged in W+: drop --latent-prior")
    editor = Editor(G, config=EditConfig(drag=config), device=device, progress=not args.quiet,
                    record_steps=bool(args.trajectory))
    if args.session is not None:
        info = _open_session(editor, args.session)
    else:
        with torch.no_grad():
            ws = G.mapping(seeded_z(args.seed, G.z_dim, device=device), truncation_psi=args.truncation)
        editor.start_from_latent(ws)
        info = {"model": model_record(G), "seed": args.seed, "truncation": args.truncation}

    # 3. Drag (the editing core) and save.
    editor.set_points(np.asarray(points.handles), np.asarray(points.targets), mask=mask)
    result = editor.drag()
    log.info("drag %s after %d steps (%.3f s/step); final distances %s px", result.status, result.steps,
             result.mean_seconds_per_step, ", ".join(f"{d:.2f}" for d in result.distances))
    save_drag(editor, result, output=args.output, report=args.report, trajectory=args.trajectory,
              report_info={**info, "device": str(device)})
    if result.status == STATUS_NAN:
        print(
            f"error: the drag loss became NaN after {result.steps} steps; the last finite result was saved "
            f"to {args.output}: try a lower --lr",
            file=sys.stderr,
        )
        return 1
    return 0


def save_drag(editor, result: DragResult, *, output: str | Path, report: str | Path | None,
              trajectory: str | Path | None, report_info: dict) -> None:
    """The dragged image (PNG), and on request the animation (GIF) and the report (JSON), each atomically."""
    image = Image.fromarray(tensor_to_image(result.image))
    write_atomic(output, lambda tmp: image.save(tmp, format="PNG"))
    if trajectory:
        frames = render_frames(editor.inversion.G, editor.step_latents, result.steps,
                               noise_mode=result.settings.noise_mode)
        write_trajectory_gif(trajectory, frames, result.trajectory, result.targets)
    if report:
        write_json_atomic(report, {**report_info, **drag_report(result)})


def _open_session(editor, session: Path) -> dict:
    """Load the session's tuned generator and latent into the editor; what the report says of them."""
    started = time.perf_counter()
    inversion = editor.open_session(session)
    seconds = {stage: (inversion.report.get(stage) or {}).get("seconds", 0.0) for stage in ("projection", "pti")}
    info = {"model": model_record(editor.G), "session": str(session), "photo": editor.session_photo,
            "session_load_seconds": time.perf_counter() - started, "inversion_seconds": seconds}
    log.info("dragging session %s (%s; the inversion took %.1f s and is not run again)", session,
             "tuned" if inversion.report.get("pti") else "projection only", sum(seconds.values()))
    return info
