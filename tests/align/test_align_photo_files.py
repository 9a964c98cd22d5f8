"""Photos as users have them: orientation, modes, bombs, profiles; and the saving rules."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageCms

from pipeline.align import align_photo, find_faces
from pipeline.common import UserError
from pipeline.common.images import read_photo, save_image, save_photo


@pytest.fixture(scope="module")
def upright(photos):
    return photos["portrait_a.jpg"].pixels


def _mean_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean())


@pytest.mark.parametrize("orientation,stored", [(6, lambda a: np.rot90(a, 1)), (8, lambda a: np.rot90(a, -1)),
                                                (3, lambda a: a[::-1, ::-1])])
def test_exif_orientation_is_applied(tmp_path, upright, detections, orientation, stored):
    """A camera stores the sensor's pixels plus a tag; we read what a viewer shows."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "rotated.jpg"
    Image.fromarray(np.ascontiguousarray(stored(upright))).save(path, quality=95, exif=exif.tobytes())
    photo = read_photo(path)
    assert photo.exif_orientation == orientation
    assert photo.pixels.shape == upright.shape
    assert _mean_abs(photo.pixels, upright) < 3.0
    faces, marks = find_faces(photo.pixels)
    assert len(faces) == 1
    assert np.abs(marks[0] - detections["portrait_a.jpg"][1][0]).mean() < 3.0


def test_rgba_png_is_flattened_on_white(tmp_path, upright):
    rgba = np.dstack([upright, np.full(upright.shape[:2], 255, np.uint8)])
    rgba[:40, :40, 3] = 0  # a transparent corner
    path = tmp_path / "cutout.png"
    Image.fromarray(rgba).save(path)
    photo = read_photo(path)
    assert photo.pixels.shape == upright.shape and photo.source_mode == "RGBA"
    assert (photo.pixels[:40, :40] == 255).all()
    assert np.array_equal(photo.pixels[40:, 40:], upright[40:, 40:])
    assert len(find_faces(photo.pixels)[0]) == 1


def test_grayscale_jpeg_and_16_bit_png(tmp_path, upright):
    gray = np.asarray(Image.fromarray(upright).convert("L"))
    Image.fromarray(gray).save(tmp_path / "gray.jpg", quality=95)
    photo = read_photo(tmp_path / "gray.jpg")
    assert photo.pixels.shape == upright.shape
    assert np.array_equal(photo.pixels[:, :, 0], photo.pixels[:, :, 2])
    assert len(find_faces(photo.pixels)[0]) == 1

    deep = gray.astype(np.uint16) * 257  # full 16-bit range; Pillow alone would clip it to white
    Image.fromarray(deep).save(tmp_path / "deep.png")
    photo16 = read_photo(tmp_path / "deep.png")
    assert photo16.source_mode.startswith("I")
    assert np.abs(photo16.pixels[:, :, 1].astype(int) - gray).max() <= 1


def test_palette_and_cmyk(tmp_path, upright):
    Image.fromarray(upright).quantize(colors=128).save(tmp_path / "palette.png")
    pal = read_photo(tmp_path / "palette.png")
    assert pal.source_mode == "P" and pal.pixels.shape == upright.shape
    assert _mean_abs(pal.pixels, upright) < 6.0

    Image.fromarray(upright).convert("CMYK").save(tmp_path / "print.jpg", quality=95)
    cmyk = read_photo(tmp_path / "print.jpg")
    assert cmyk.source_mode == "CMYK"
    assert _mean_abs(cmyk.pixels, upright) < 6.0


def test_decompression_bomb_is_refused(tmp_path, upright, monkeypatch):
    path = tmp_path / "bomb.png"
    Image.fromarray(upright).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 434x434 is then far over twice the limit
    with pytest.raises(UserError, match=r"bomb\.png.*decompression bomb"):
        read_photo(path)


def test_unreadable_and_missing_files(tmp_path):
    (tmp_path / "notes.jpg").write_text("not a photo")
    with pytest.raises(UserError, match=r"notes\.jpg.*cannot read"):
        read_photo(tmp_path / "notes.jpg")
    with pytest.raises(UserError, match="no such photo"):
        read_photo(tmp_path / "absent.jpg")


def test_save_keeps_size_profile_and_never_overwrites_the_input(tmp_path, upright):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    src = tmp_path / "in.jpg"
    Image.fromarray(upright).save(src, quality=95, icc_profile=icc)
    before = src.read_bytes()
    photo = read_photo(src)
    assert photo.icc_profile == icc

    out_hi = save_photo(tmp_path / "out_hi.jpg", photo.pixels, photo, jpeg_quality=95)
    out_lo = save_photo(tmp_path / "out_lo.jpg", photo.pixels, photo, jpeg_quality=40)
    with Image.open(out_hi) as img:
        assert img.size == (upright.shape[1], upright.shape[0])
        assert img.info.get("icc_profile") == icc
    assert out_lo.stat().st_size < out_hi.stat().st_size
    save_photo(tmp_path / "out.png", photo.pixels, photo)
    assert np.array_equal(read_photo(tmp_path / "out.png").pixels, photo.pixels)

    with pytest.raises(UserError, match="overwrite the input"):
        save_photo(src, photo.pixels, photo)
    assert src.read_bytes() == before
    with pytest.raises(UserError, match="unsupported output"):
        save_image(tmp_path / "out.gifx", photo.pixels)
    assert not [p for p in tmp_path.iterdir() if ".part" in p.name]  # no temporary files left behind


def test_rotated_photo_aligns_like_the_upright_one(tmp_path, upright, aligned512):
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "phone.jpg"
    Image.fromarray(np.ascontiguousarray(np.rot90(upright, 1))).save(path, quality=95, exif=exif.tobytes())
    aligned = align_photo(read_photo(path).pixels, name="phone.jpg")
    np.testing.assert_allclose(aligned.quad, aligned512["portrait_a.jpg"].quad, atol=4.0)
