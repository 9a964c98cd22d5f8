"""How close a render is to its target: images compared as displayed, PSNR, the metrics a report keeps, checks."""
from __future__ import annotations

import math

import torch


def as_displayed(img: torch.Tensor) -> torch.Tensor:
    """img clipped to [-1, 1] as it will be shown; the gradient may pull a clipped pixel back in, never out.

    A plain clamp has no gradient where the generator overshoots, so a pixel at +3 whose target
    is -1 could never be pulled back; a straight-through clip lets the loss push a pixel already
    at +3 ever higher (its displayed value, and so the loss, do not change: w drifts away);
    comparing the unclipped image pulls correct overshoots (1.4 for a white target) away from the
    true latent. Hence: clip forward; backward, pass the gradient inside [-1, 1] and, outside,
    only the part that moves the pixel towards the range.
    """
    return _ClipTowardsRange.apply(img)


class _ClipTowardsRange(torch.autograd.Function):
    @staticmethod
    def forward(ctx, img: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(img)
        return img.clamp(-1, 1)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (img,) = ctx.saved_tensors
        # A descent step moves img by -grad: above the range keep grad > 0, below keep grad < 0.
        keep = ((img >= -1) & (img <= 1)) | ((img > 1) & (grad > 0)) | ((img < -1) & (grad < 0))
        return grad * keep


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """PSNR in dB of two images in [-1, 1] (both clipped; peak-to-peak 2, i.e. the 8-bit figure)."""
    mse = (a.detach().clamp(-1, 1) - b.detach().clamp(-1, 1)).square().mean().item()
    return float("inf") if mse == 0 else 10 * math.log10(4.0 / mse)


def reconstruction_metrics(image: torch.Tensor, target: torch.Tensor, perceptual) -> dict:
    """perceptual distance, MSE and PSNR (dB) of `image` as displayed (clipped to [-1, 1]) against `target`."""
    shown = image.detach().clamp(-1, 1)
    return {"perceptual": float(perceptual(shown, target).sum()), "mse": float((shown - target).square().mean()),
            "psnr": psnr(shown, target)}


def check_target(target: torch.Tensor, *, channels: int, resolution: int) -> None:
    """One image [1, channels, resolution, resolution], finite, about [-1, 1]."""
    expected = [1, channels, resolution, resolution]
    if not isinstance(target, torch.Tensor) or list(target.shape) != expected:
        got = list(target.shape) if isinstance(target, torch.Tensor) else type(target).__name__
        raise ValueError(f"target must be one image {expected} in [-1, 1] for this generator, got {got}")
    if not torch.isfinite(target).all():
        raise ValueError("target has NaN or infinite pixels")
    if target.abs().max() > 1.01:
        raise ValueError(f"target must be in [-1, 1], its values reach {target.abs().max().item():.3g}")
