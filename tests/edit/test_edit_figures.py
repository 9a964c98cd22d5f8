"""The before/after picture: the points drawn as rings that leave the marked feature visible."""
import numpy as np

from pipeline.drag.trajectory import HANDLE_RGB, TARGET_RGB
from pipeline.edit.figures import side_by_side


def test_side_by_side_marks_points_with_rings_and_keeps_the_after_half_untouched():
    before = np.full((400, 300, 3), 90, np.uint8)
    after = np.random.default_rng(0).integers(0, 256, (400, 300, 3), dtype=np.uint8)
    pair = side_by_side(before, after, np.array([[100.0, 200.0]]), np.array([[160.0, 200.0]]))
    gap = pair.shape[1] - 2 * 300
    assert pair.shape == (400, 600 + gap, 3) and gap >= 4
    assert np.array_equal(pair[:, 300 + gap:], after)
    radius = 3  # max(3, 300 / 100)
    assert tuple(pair[200 - radius, 100]) == HANDLE_RGB and tuple(pair[200 - radius, 160]) == TARGET_RGB
    # The centre of each ring, and the space between the points off the arrow's line, show the photo.
    assert tuple(pair[201, 100]) == (90, 90, 90) and tuple(pair[201, 160]) == (90, 90, 90)
    assert tuple(pair[190, 130]) == (90, 90, 90)
