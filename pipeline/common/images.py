"""Photos as users have them: read any common file into RGB uint8, save back atomically.

Reading applies the EXIF orientation (pixels come out as a viewer displays them), converts
grayscale / RGBA / palette / 16-bit / CMYK to 8-bit RGB, and refuses what Pillow calls a
decompression bomb. Saving keeps the photo's ICC profile, never overwrites an input, and
writes through `atomic_path` so a killed run leaves no half-written file.
"""
from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from .atomic import atomic_path
from .errors import UserError

logger = logging.getLogger(__name__)

# Suffix -> Pillow format name for the files we write.
_SAVE_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF"}


@dataclass(frozen=True, eq=False)
class Photo:
    """A decoded photo, upright as displayed, plus what saving it back needs."""

    pixels: np.ndarray          # [H, W, 3] uint8 RGB, EXIF orientation already applied
    path: Path | None           # where it was read from (None for in-memory images)
    icc_profile: bytes | None   # colour profile the pixels are in; written back on save
    source_mode: str            # Pillow mode of the file before conversion, e.g. 'RGB', 'I;16', 'CMYK'
    source_format: str | None   # Pillow format of the file, e.g. 'JPEG', 'PNG'
    exif_orientation: int       # EXIF orientation tag that was applied (1 = none)

    @property
    def name(self) -> str:
        return self.path.name if self.path is not None else "image"

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return int(self.pixels.shape[1]), int(self.pixels.shape[0])


def read_photo(path: str | os.PathLike) -> Photo:
    """Decode `path` to an upright RGB uint8 photo; bad or hostile files raise UserError."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such photo; check the path")
    try:
        with Image.open(path) as img:
            img.load()
            source_mode, source_format = img.mode, img.format
            orientation = int(img.getexif().get(0x0112, 1) or 1)
            icc = img.info.get("icc_profile") or None
            upright = ImageOps.exif_transpose(img)
            pixels, icc = _to_rgb8(upright if upright is not None else img, icc, path.name)
    except Image.DecompressionBombError as exc:
        raise UserError(
            f"{path.name}: refused as a possible decompression bomb ({exc}); "
            "downscale the photo below Pillow's limit first"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UserError(f"{path.name}: cannot read this photo ({exc}); use a JPEG, PNG, WebP or TIFF file") from None
    return Photo(
        pixels=pixels, path=path, icc_profile=icc, source_mode=source_mode,
        source_format=source_format, exif_orientation=orientation if 1 <= orientation <= 8 else 1,
    )


def photo_from_array(pixels: np.ndarray, *, icc_profile: bytes | None = None) -> Photo:
    """Wrap an in-memory RGB uint8 image as a Photo (no file behind it)."""
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(f"expected [H, W, 3] uint8 RGB, got {pixels.dtype} {pixels.shape}")
    return Photo(pixels=pixels, path=None, icc_profile=icc_profile, source_mode="RGB",
                 source_format=None, exif_orientation=1)


def save_image(
    path: str | os.PathLike,
    pixels: np.ndarray,
    *,
    icc_profile: bytes | None = None,
    jpeg_quality: int = 95,
    protect: Iterable[str | os.PathLike | None] = (),
) -> Path:
    """Write RGB uint8 `pixels` [H, W, 3] to `path` atomically; the format follows the suffix.

    `protect` lists input files that must never be overwritten (the photo being edited).
    """
    path = Path(path)
    fmt = _SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UserError(f"{path.name}: unsupported output type; use one of {', '.join(sorted(_SAVE_FORMATS))}")
    if not 1 <= int(jpeg_quality) <= 100:
        raise UserError(f"JPEG quality {jpeg_quality} is out of range; use 1 to 100")
    for other in protect:
        if other is not None and _same_file(path, Path(other)):
            raise UserError(f"{path}: refusing to overwrite the input photo; choose another output path")
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(f"expected [H, W, 3] uint8 RGB, got {pixels.dtype} {pixels.shape}")
    img = Image.fromarray(np.ascontiguousarray(pixels))
    options: dict = {}
    if icc_profile:
        options["icc_profile"] = icc_profile
    if fmt == "JPEG":
        # Full-resolution chroma at high quality: face edits live in fine colour detail.
        options.update(quality=int(jpeg_quality), subsampling=0 if jpeg_quality >= 90 else 2, optimize=True)
    elif fmt == "WEBP":
        options.update(quality=int(jpeg_quality))
    with atomic_path(path) as tmp:
        img.save(tmp, format=fmt, **options)
    return path


def save_photo(path: str | os.PathLike, pixels: np.ndarray, like: Photo, *, jpeg_quality: int = 95) -> Path:
    """Save an edited version of `like`: same ICC profile, upright, never over `like`'s own file."""
    if pixels.shape[:2] != like.pixels.shape[:2]:
        raise ValueError(f"edited photo is {pixels.shape[1]}x{pixels.shape[0]}, "
                         f"the input {like.size[0]}x{like.size[1]}")
    return save_image(path, pixels, icc_profile=like.icc_profile, jpeg_quality=jpeg_quality, protect=[like.path])


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def _to_rgb8(img: Image.Image, icc: bytes | None, name: str) -> tuple[np.ndarray, bytes | None]:
    """Pixels as [H, W, 3] uint8 RGB and the profile they are now in."""
    mode = img.mode
    if mode == "CMYK":
        return _cmyk_to_rgb(img, icc, name)
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # Pillow's own convert('RGB') clips high-bit values to white; rescale instead.
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or arr.max(initial=0) > 255 else 255.0
        gray = np.clip(np.rint(arr * (255.0 / top)), 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2), icc
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        mode = img.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        logger.info("%s: transparent areas are flattened onto white", name)
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return np.asarray(img.convert("RGB"), dtype=np.uint8).copy(), icc


def _cmyk_to_rgb(img: Image.Image, icc: bytes | None, name: str) -> tuple[np.ndarray, bytes | None]:
    """Colour-managed when the file carries a CMYK profile; the result is then sRGB."""
    if icc:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            srgb = ImageCms.createProfile("sRGB")
            rgb = ImageCms.profileToProfile(img, src, srgb, outputMode="RGB")
            return np.asarray(rgb, dtype=np.uint8).copy(), None
        except (ImageCms.PyCMSError, OSError) as exc:
            logger.warning("%s: CMYK profile unusable (%s); converting naively", name, exc)
    return np.asarray(img.convert("RGB"), dtype=np.uint8).copy(), None
