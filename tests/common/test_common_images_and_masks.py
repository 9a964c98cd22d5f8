"""The one image<->tensor convention and the one mask rule (pipeline/common)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from pipeline.common import UserError
from pipeline.common.image_tensors import image_to_tensor, tensor_to_image, tensors_to_images
from pipeline.common.mask_images import mask_from_pixels, read_mask_image


def test_uint8_images_round_trip_through_tensors():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    x = image_to_tensor(pixels)
    assert x.shape == (1, 3, 5, 7) and x.dtype == torch.float32 and -1 <= x.min() and x.max() <= 1
    assert np.array_equal(tensor_to_image(x), pixels)
    over = torch.full((2, 1, 2, 2), 3.0)  # out of range, grey: clipped, repeated to RGB
    out = tensors_to_images(over)
    assert out.shape == (2, 2, 2, 3) and (out == 255).all()
    with pytest.raises(ValueError, match="uint8"):
        image_to_tensor(pixels.astype(np.float32))
    with pytest.raises(ValueError, match="one image"):
        tensor_to_image(torch.zeros(2, 3, 4, 4))


def test_one_mask_rule_for_painted_and_binary_masks(tmp_path):
    painted = np.zeros((40, 40), np.uint8)
    painted[10:30, 10:30] = 255
    painted[10:30, 30] = 128  # an anti-aliased brush edge
    mask = mask_from_pixels(painted)
    assert mask.dtype == np.float32 and set(np.unique(mask)) == {0.0, 1.0} and mask[20, 30] == 1.0
    assert np.array_equal(mask_from_pixels((painted > 127).astype(np.float32)), mask)  # 0/1 floats
    Image.fromarray(painted).convert("RGB").save(tmp_path / "mask.png")
    assert np.array_equal(read_mask_image(tmp_path / "mask.png"), mask)
    with pytest.raises(UserError, match="not binary"):
        mask_from_pixels(np.full((40, 40), 128, np.uint8))
    with pytest.raises(UserError, match="not binary"):
        mask_from_pixels(np.tile(np.arange(40, dtype=np.uint8) * 6, (40, 1)))  # a gradient is no mask
