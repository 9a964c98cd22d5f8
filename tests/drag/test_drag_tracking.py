"""Tracking recovers a known shift exactly on synthetic feature maps, at the borders too."""
import pytest
import torch

from pipeline.drag.sampling import sample_features
from pipeline.drag.tracking import search_offsets, track_points

SIZE = 32


def shifted(feats: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """Content moved by (+dx, +dy) feature pixels; the uncovered strip is fresh noise."""
    out = torch.randn_like(feats)
    h, w = feats.shape[-2:]
    src = feats[..., max(0, -dy): h - max(0, dy), max(0, -dx): w - max(0, dx)]
    out[..., max(0, dy): max(0, dy) + src.shape[-2], max(0, dx): max(0, dx) + src.shape[-1]] = src
    return out


@pytest.mark.parametrize("norm", ["l1", "l2"])
@pytest.mark.parametrize(
    "start,shift",
    [((15, 16), (3, -2)), ((2, 1), (-2, -1)), ((29, 30), (2, 1)), ((0, 31), (0, 0)), ((4, 30), (-4, 1))],
)
def test_finds_known_shift_same_resolution(norm, start, shift):
    torch.manual_seed(1)
    f0 = torch.randn(1, 8, SIZE, SIZE)
    f1 = shifted(f0, *shift)
    handle = torch.tensor([start], dtype=torch.float32)
    ref = sample_features(f0, handle, (SIZE, SIZE))
    found = track_points(f1, ref, handle, radius=5, step=1.0, image_size=(SIZE, SIZE), norm=norm)
    expected = (start[0] + shift[0], start[1] + shift[1])
    assert tuple(found[0].tolist()) == expected


@pytest.mark.parametrize("step", [1.0, 0.5])
def test_finds_known_shift_from_half_resolution_features(step):
    # Features at half the image resolution: one feature pixel = 2 image px.
    torch.manual_seed(2)
    f0 = torch.randn(1, 8, SIZE // 2, SIZE // 2)
    f1 = shifted(f0, 1, -1)  # = (+2, -2) image px
    handles = torch.tensor([[12.0, 14.0], [20.0, 9.0]])
    ref = sample_features(f0, handles, (SIZE, SIZE))
    found = track_points(f1, ref, handles, radius=4, step=step, image_size=(SIZE, SIZE), norm="l2")
    assert found.tolist() == [[14.0, 12.0], [22.0, 7.0]]


def test_never_leaves_the_image():
    torch.manual_seed(3)
    f = torch.randn(1, 4, SIZE, SIZE)
    ref = torch.full((1, 4), 100.0)  # matches nothing: the argmin is arbitrary but must be inside
    corner = torch.tensor([[0.0, 0.0]])
    found = track_points(f, ref, corner, radius=6, step=1.0, image_size=(SIZE, SIZE), norm="l2")
    assert (found >= 0).all() and (found <= SIZE - 1).all()


def test_search_offsets_square_window():
    off = search_offsets(12, 1.0)
    assert off.shape == (25 * 25, 2) and off.abs().max() == 12
    assert search_offsets(2, 0.5).shape == (81, 2)


def test_band_keeps_the_handle_near_its_line():
    """A better match off the drag's line (a contour running across it) is ignored inside the band."""
    torch.manual_seed(4)
    f = torch.randn(1, 8, SIZE, SIZE)
    start, target = torch.tensor([[8.0, 16.0]]), torch.tensor([[24.0, 16.0]])
    ref = sample_features(f, torch.tensor([[10.0, 21.0]]), (SIZE, SIZE))  # the exact match is 5 px off the line
    free = track_points(f, ref, start, radius=6, step=1.0, image_size=(SIZE, SIZE), norm="l2")
    banded = track_points(f, ref, start, radius=6, step=1.0, image_size=(SIZE, SIZE), norm="l2", band=1.0,
                          lines=(start, target))
    assert free.tolist() == [[10.0, 21.0]]
    assert abs(banded[0, 1].item() - 16.0) <= 1.0
    # A band that excludes every candidate falls back to the whole window (never an empty search).
    far = torch.tensor([[8.0, 3.0]])
    fallback = track_points(f, ref, far, radius=2, step=1.0, image_size=(SIZE, SIZE), norm="l2", band=0.5,
                            lines=(start, target))
    assert (fallback - far).abs().max() <= 2


def test_a_patch_descriptor_follows_a_point_along_a_self_similar_line():
    # A horizontal line whose features are the same all along it (a jaw contour, an eyebrow), one
    # distinctive mark 2 px right of the handle; everything moves 3 px right.
    from pipeline.drag.tracking import patch_offsets

    torch.manual_seed(0)
    f0 = torch.randn(1, 8, SIZE, SIZE) * 0.1
    f0[:, :, 16, :] = 1.0
    f0[:, :, 16, 12] = -1.0
    f1 = shifted(f0, 3, 0)
    handle = torch.tensor([[10.0, 16.0]])
    patch = patch_offsets(2.0)
    assert patch.shape == (9, 2) and patch_offsets(0.0) is None
    single = track_points(f1, sample_features(f0, handle, (SIZE, SIZE)), handle, radius=6, step=1.0,
                          image_size=(SIZE, SIZE), norm="l2")
    patched = track_points(f1, sample_features(f0, handle[:, None, :] + patch, (SIZE, SIZE)), handle, radius=6,
                           step=1.0, image_size=(SIZE, SIZE), norm="l2", patch=patch)
    assert patched.tolist() == [[13.0, 16.0]]
    assert single.tolist() != [[13.0, 16.0]]  # one feature cannot tell the line's points apart
