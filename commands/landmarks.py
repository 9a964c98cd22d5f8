"""`cli.py landmarks`: draw the 68 numbered landmarks and the crop quad, to pick points from.

    cli.py landmarks photo.jpg -o preview.png [--face N] [--json marks.json] [align options]

The preview is upright as the photo is displayed; a small face is shown enlarged (--zoom),
with rulers in photo px along the top and left edges so positions read off it are photo
pixels (x, y). Every detected face is boxed with its index (for --face).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.align import align_face, draw_landmarks_preview, find_faces, select_face
from pipeline.align.preview import preview_scale
from pipeline.common import UserError, write_json_atomic
from pipeline.common.images import read_photo, save_image

from .align import add_align_arguments, load_template
from .arguments import detect_config, parse_face, photo_command

MAX_AUTO_PREVIEW_PX = 4096  # the automatic enlargement keeps the preview's long side within this


def register(subparsers) -> None:
    p = photo_command(subparsers, "landmarks", help="draw the 68 numbered landmarks and the crop quad on a photo",
                      description="Draw dlib's 68 landmarks (numbered) and the generator's crop quad.")
    p.add_argument("-o", "--output", type=Path, required=True, help="the preview image")
    p.add_argument("--zoom", type=int, default=None,
                   help="enlarge the preview this many times (default: enough to show the face 600 px wide); "
                        "the rulers stay in photo px")
    p.add_argument("--json", type=Path, default=None, help="also write the landmarks and quad (photo px) here")
    add_align_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # 1. Inputs.
    face = parse_face(args.face, allow_all=False)
    photo = read_photo(args.photo)
    if args.json is not None and args.json.resolve() == photo.path.resolve():
        raise UserError(f"{args.json}: refusing to overwrite the input photo; choose another --json")

    # 2. Faces, the chosen one's crop geometry.
    detect = detect_config(args)
    template = load_template(args.template_json, args.convention)
    faces, marks = find_faces(photo.pixels, detect=detect, predictor_path=args.predictor)
    index = select_face(faces, face, name=photo.name, config=detect)
    aligned = align_face(photo.pixels, marks[index], args.size, args.convention, template=template,
                         face_index=index, face_box=faces[index].box)

    # 3. Draw and save.
    if args.zoom is not None and not 1 <= args.zoom <= 16:
        raise UserError(f"--zoom must be 1 to 16, got {args.zoom}")
    if args.zoom is None:  # a tiny face in a large photo: enlarged as far as a preview stays openable
        scale = max(1, min(preview_scale(aligned.landmarks), 16, MAX_AUTO_PREVIEW_PX // max(photo.pixels.shape[:2])))
    else:
        scale = args.zoom
    preview = draw_landmarks_preview(photo.pixels, aligned.landmarks, aligned.quad, faces=faces, chosen=index,
                                     scale=scale)
    save_image(args.output, preview, icc_profile=photo.icc_profile, protect=[photo.path])
    if args.json is not None:
        write_json_atomic(args.json, {
            "photo": str(photo.path), "face_index": index, "faces": [list(f.box) for f in faces],
            "landmarks": aligned.landmarks.tolist(), "quad": aligned.quad.tolist(), "preview_zoom": scale,
            "pixel_convention": "(x, y) photo px; pixel (i, j) has its centre at (i, j)",
        })
    zoom = f", enlarged {scale}x: rulers show photo px" if scale > 1 else ""
    print(f"wrote {args.output} (face {index} of {len(faces)}{zoom})")
    return 0
