"""Arguments several commands share: the photo a command reads, and how its faces are found."""
from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.align import DETECTORS, DetectConfig
from pipeline.common import UserError


def photo_command(subparsers, name: str, *, help: str, description: str) -> argparse.ArgumentParser:
    """A sub-command whose first argument is a photo."""
    p = subparsers.add_parser(name, help=help, description=description)
    p.add_argument("photo", type=Path, help="the photo (JPEG, PNG, WebP, TIFF)")
    return p


def add_detector_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--detector", choices=DETECTORS, default=DetectConfig().detector,
                   help="face detector: auto (default: dlib's HOG and CNN detectors, merged; finds turned heads and "
                        "faces filling the frame), hog (fastest, frontal faces), cnn")
    p.add_argument("--upsample", type=int, default=DetectConfig().upsample,
                   help="dlib detector upsamplings (more finds smaller faces, slower; default 1)")


def detect_config(args: argparse.Namespace) -> DetectConfig:
    """DetectConfig from --detector and --upsample; a bad value is a one-line error."""
    if not 0 <= args.upsample <= 4:
        raise UserError(f"--upsample must be 0 to 4, got {args.upsample}")
    return DetectConfig(upsample=args.upsample, detector=args.detector)



def parse_face(value: str | None, *, allow_all: bool) -> int | str | None:
    """--face: None (the largest), an index (0 and up, left to right) or, where allowed, 'all'."""
    if value is None:
        return None
    if allow_all and value.strip().lower() == "all":
        return "all"
    try:
        index = int(value)
    except ValueError:
        choices = "a face index (0, 1, ...)" + (" or all" if allow_all else "")
        raise UserError(f"--face must be {choices}, got '{value}'") from None
    if index < 0:
        raise UserError(f"--face must be 0 or more, got {index}")
    return index
