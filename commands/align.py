"""`cli.py align`: cut the generator's crop out of a photo and write its transform.

    cli.py align photo.jpg -o crop.png [--face N|all] [--size 512] [--convention ffhq|template]
                 [--template-json T.json] [--predictor PATH] [--upsample N]

Writes crop.png and crop.json (the crop's quad and affines in photo px, the landmarks, the
face index): everything needed to map points and paste back into this photo later.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from pipeline.align import CONVENTIONS, AlignedFace, align_all_faces, align_photo, aligned_to_json
from pipeline.common import UserError, write_json_atomic
from pipeline.common.images import Photo, read_photo, save_image

from .arguments import add_detector_arguments, detect_config, parse_face, photo_command


def add_align_arguments(p: argparse.ArgumentParser) -> None:
    """Options shared by `align` and `landmarks`."""
    p.add_argument("--face", default=None,
                   help="which face: index from 0, left to right (default: the largest; align also takes all)")
    p.add_argument("--size", type=int, default=512, help="crop side in px (default 512)")
    p.add_argument("--convention", choices=CONVENTIONS, default="ffhq",
                   help="ffhq: NVIDIA's FFHQ crop; template: fit to a landmark template (needs --template-json)")
    p.add_argument("--template-json", type=Path, default=None,
                   help='landmark template: [[x, y] x 68] in 0..1 of the crop, or {"landmark_template": [...]}')
    p.add_argument("--predictor", type=Path, default=None,
                   help="dlib shape_predictor_68_face_landmarks.dat (default: found automatically)")
    add_detector_arguments(p)


def register(subparsers) -> None:
    p = photo_command(subparsers, "align", help="crop a photo's face for the generator and write the transform",
                      description="Detect a face, crop it like the generator's training data, and write the crop "
                                  "with its transform JSON.")
    p.add_argument("-o", "--output", type=Path, required=True, help="the crop (.png recommended)")
    p.add_argument("--transform", type=Path, default=None, help="transform JSON (default: the output with .json)")
    add_align_arguments(p)
    p.set_defaults(func=run)


def load_template(path: Path | None, convention: str) -> np.ndarray | None:
    if convention != "template":
        return None
    if path is None:
        raise UserError("--convention template needs --template-json (the model's landmark template)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: cannot read the landmark template ({exc})") from None
    if isinstance(data, dict):
        data = data.get("landmark_template", data.get("model_info", {}).get("landmark_template"))
    template = np.asarray(data, dtype=np.float64) if data is not None else np.zeros(0)
    if template.shape != (68, 2):
        raise UserError(f"{path}: the landmark template must be 68 [x, y] pairs, got shape {template.shape}")
    return template


def align_from_args(args: argparse.Namespace, photo: Photo, face: int | None) -> AlignedFace:
    return align_photo(photo.pixels, name=photo.name, face=face, output_size=args.size, convention=args.convention,
                       template=load_template(args.template_json, args.convention), detect=detect_config(args),
                       predictor_path=args.predictor)


def run(args: argparse.Namespace) -> int:
    # 1. Inputs.
    face = parse_face(args.face, allow_all=True)
    photo = read_photo(args.photo)
    transform_path = args.transform or args.output.with_suffix(".json")
    if transform_path.resolve() == args.output.resolve():
        raise UserError(f"{args.output}: the crop and its transform need different names; use --transform")
    if args.output.resolve() == photo.path.resolve():
        raise UserError(f"{args.output}: refusing to overwrite the input photo; choose another output path")
    if transform_path.resolve() == photo.path.resolve():
        raise UserError(f"{transform_path}: refusing to overwrite the input photo; choose another --transform")

    # 2. Align.
    if face == "all":
        faces = align_all_faces(photo.pixels, name=photo.name, output_size=args.size, convention=args.convention,
                                template=load_template(args.template_json, args.convention),
                                detect=detect_config(args), predictor_path=args.predictor)
    else:
        faces = [align_from_args(args, photo, face)]

    # 3. Save each crop and its transform.
    for aligned in faces:
        out, tjson = args.output, transform_path
        if face == "all":
            out = out.with_name(f"{out.stem}_face{aligned.face_index}{out.suffix}")
            tjson = tjson.with_name(f"{tjson.stem}_face{aligned.face_index}{tjson.suffix}")
        save_image(out, aligned.crop, protect=[photo.path])
        record = {"photo": str(photo.path), "crop": str(out), **aligned_to_json(aligned)}
        write_json_atomic(tjson, record)
        print(f"wrote {out} ({aligned.output_size} px, face {aligned.face_index}) and {tjson}")
    return 0
