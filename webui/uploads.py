"""What the page sends and gets as images: uploads checked before decoding, previews encoded small."""
from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from pipeline.common import UserError, write_bytes_atomic
from pipeline.common.images import Photo, read_photo
from pipeline.common.mask_images import mask_from_pixels

MAX_UPLOAD_BYTES = 30 * 1024 * 1024   # a 12 MP JPEG is 3-8 MB
MAX_PHOTO_PIXELS = 40_000_000         # decoded size; Pillow's own bomb limit is 89 M
FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "TIFF": ".tif"}
PREVIEW_SIDE = 512                    # px: the drag's streamed frames


def save_upload(data: bytes, folder: Path) -> Photo:
    """Check the bytes (size, type, pixel count) before decoding them, keep them in `folder`, read the photo."""
    if not data:
        raise UserError("the upload is empty: choose a photo file")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UserError(f"the photo is {len(data) / 2**20:.0f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB, "
                        "so save a smaller copy")
    try:
        with Image.open(io.BytesIO(data)) as probe:  # reads the header only
            kind, (width, height) = probe.format, probe.size
    except Image.DecompressionBombError:
        raise UserError("the photo claims more pixels than is safe to decode (a possible decompression bomb): "
                        "save a smaller copy") from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise UserError("this file is not a photo this editor reads: use a JPEG, PNG, WebP or TIFF file") from None
    if kind not in FORMATS:
        raise UserError(f"{kind} images are not taken: use a JPEG, PNG, WebP or TIFF file")
    if width * height > MAX_PHOTO_PIXELS:
        raise UserError(f"the photo is {width}x{height} ({width * height / 1e6:.0f} MP); the limit is "
                        f"{MAX_PHOTO_PIXELS // 1_000_000} MP, so save a smaller copy")
    path = folder / f"photo{FORMATS[kind]}"
    write_bytes_atomic(path, data)
    return read_photo(path)


def jpeg_data_url(pixels: np.ndarray, *, side: int | None = PREVIEW_SIDE, quality: int = 85) -> str:
    """[H, W, 3] uint8 -> 'data:image/jpeg;base64,...', reduced to `side` px on its long side."""
    image = Image.fromarray(pixels)
    if side is not None and max(image.size) > side:
        scale = side / max(image.size)
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def png_data_url(mask: np.ndarray) -> str:
    """[S, S] 0/1 mask -> 'data:image/png;base64,...' (white = may change), as the page paints it."""
    buffer = io.BytesIO()
    Image.fromarray((mask > 0.5).astype(np.uint8) * 255).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def mask_from_data_url(url: str, size: int) -> np.ndarray | None:
    """A painted mask (PNG data URL, white = may change) -> [size, size] float32 0/1; None when nothing is painted."""
    if not url:
        return None
    if not url.startswith("data:image/png;base64,"):
        raise UserError("the mask must be sent as a PNG image")
    try:
        raw = base64.b64decode(url.split(",", 1)[1], validate=True)
        with Image.open(io.BytesIO(raw)) as img:
            if img.width * img.height > 4096 * 4096:
                raise UserError("the mask image is too large")
            grey = img.convert("L").resize((size, size), Image.NEAREST)
    except (ValueError, OSError, UnidentifiedImageError):
        raise UserError("the mask image could not be read; paint it again") from None
    mask = mask_from_pixels(np.asarray(grey), name="the painted mask")
    return mask if mask.any() else None
