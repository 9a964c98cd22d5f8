"""`cli.py serve`: the browser editor on this machine.

    cli.py serve [--host 127.0.0.1] [--port 7860] [--model M] [--device D] [--workdir DIR]

Serves the page and its API (webui/, FastAPI on uvicorn) until Ctrl-C. Binds to 127.0.0.1
unless --host says otherwise; every file it writes stays in --workdir.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from pipeline.common import UserError, resolve_device
from pipeline.drag import DragConfig
from pipeline.edit.inversion_presets import PRESETS

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    p = subparsers.add_parser("serve", help="start the browser editor (a local web page)",
                              description="Start a local web editor: open a photo, click handles and targets, "
                                          "watch the drag, download the full-resolution result.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--model", default=None,
                   help="checkpoint file or registry name (default: mobilestylegan-ffhq-1024, non-commercial weights)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    p.add_argument("--workdir", type=Path, default=Path("portrait-drag-web"),
                   help="folder for uploads, saved inversions and results (default ./portrait-drag-web)")
    p.add_argument("--preset", choices=PRESETS, default="auto", help="inversion schedule (as cli.py edit)")
    p.add_argument("--invert-steps", type=int, default=None, help="projection steps in all (default: the preset's)")
    p.add_argument("--pti-steps", type=int, default=None, help="pivotal tuning steps at most (default: the preset's)")
    p.add_argument("--steps", type=int, default=None, help=f"drag steps at most (default {DragConfig().max_steps})")
    p.add_argument("--idle-minutes", type=float, default=30.0, help="free an edit untouched this long (default 30)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from pipeline.edit import EditConfig
    from pipeline.gan.loading import load_generator, resolve_model_arg
    from webui.app import create_app
    from webui.sessions import SessionRegistry

    # 1. Inputs, checked before the model loads.
    if not 1 <= args.port <= 65535:
        raise UserError(f"--port must be 1 to 65535, got {args.port}")
    for name in ("invert_steps", "pti_steps", "steps"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UserError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if not args.idle_minutes > 0:
        raise UserError(f"--idle-minutes must be > 0, got {args.idle_minutes}")
    if args.workdir.exists() and not args.workdir.is_dir():
        raise UserError(f"--workdir {args.workdir} is a file; give a folder")
    drag = DragConfig(max_steps=args.steps) if args.steps is not None else DragConfig()
    config = EditConfig(preset=args.preset, invert_steps=args.invert_steps, pti_steps=args.pti_steps, drag=drag)

    # 2. The model, the sessions, the server.
    device = resolve_device(args.device)
    G = load_generator(resolve_model_arg(args.model), device=device)
    registry = SessionRegistry(G, config=config, device=device, workdir=args.workdir,
                               idle_seconds=60.0 * args.idle_minutes)
    app = create_app(registry)
    server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port, log_level="warning"))
    print(f"portrait-drag editor: http://{args.host}:{args.port}/  (model {G.model_info.get('name')}, {device}; "
          "Ctrl-C stops)", flush=True)
    server.run()
    return 0
