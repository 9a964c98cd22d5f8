"""The trajectory animation: frame choice and the marks it draws."""
import numpy as np

from pipeline.drag.trajectory import HANDLE_RGB, TARGET_RGB, draw_frame, select_frame_steps


def test_frame_steps_keep_first_and_last():
    assert select_frame_steps(5) == [0, 1, 2, 3, 4, 5]
    many = select_frame_steps(299, max_frames=40)
    assert many[0] == 0 and many[-1] == 299 and len(many) <= 40 and many == sorted(set(many))


def test_marks_handles_red_targets_blue_and_the_path():
    image = np.zeros((64, 64, 3), np.uint8)
    path = [[(10.0, 10.0)], [(14.0, 10.0)], [(20.0, 10.0)]]
    frame = np.asarray(draw_frame(image, path, [(40.0, 30.0)], min_size=256))
    scale = 4
    at = lambda x, y: tuple(frame[int((y + 0.5) * scale), int((x + 0.5) * scale)])  # noqa: E731
    assert frame.shape == (256, 256, 3)
    assert at(20, 10) == HANDLE_RGB  # current handle
    assert at(12, 10) == HANDLE_RGB  # on the path so far
    assert at(40, 30) == TARGET_RGB
    assert at(50, 50) == (0, 0, 0)
