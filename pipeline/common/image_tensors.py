"""Images between numpy and torch, the one convention of the whole project.

numpy images are RGB uint8 [H, W, 3]; tensors are float32 [N, C, H, W] with values in [-1, 1]
(the generators' output range; C is 3, or 1 for a grey model, repeated to RGB on the way out).
"""
from __future__ import annotations

import numpy as np
import torch


def image_to_tensor(pixels: np.ndarray, *, device: torch.device | str = "cpu") -> torch.Tensor:
    """RGB uint8 [H, W, 3] -> [1, 3, H, W] float32 in [-1, 1]."""
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(f"expected [H, W, 3] uint8 RGB, got {getattr(pixels, 'dtype', type(pixels))} "
                         f"{getattr(pixels, 'shape', '')}")
    x = torch.from_numpy(np.array(pixels, copy=True)).permute(2, 0, 1)[None].float()
    return (x / 127.5 - 1).to(device)


def tensors_to_images(images: torch.Tensor) -> np.ndarray:
    """[N, C, H, W] about [-1, 1], C in (1, 3) -> RGB uint8 [N, H, W, 3] (rounded, clipped)."""
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"expected images [N, 1 or 3, H, W], got {list(images.shape)}")
    x = ((images.detach().float().cpu() + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)
    return x.permute(0, 2, 3, 1).numpy().copy()


def tensor_to_image(image: torch.Tensor) -> np.ndarray:
    """One image [1, C, H, W] about [-1, 1] -> RGB uint8 [H, W, 3]."""
    if image.ndim != 4 or image.shape[0] != 1:
        raise ValueError(f"expected one image [1, C, H, W], got {list(image.shape)}")
    return tensors_to_images(image)[0]
