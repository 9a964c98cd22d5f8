"""Plain-PyTorch forms of StyleGAN2's resampling and modulated convolution (no custom CUDA ops).

Every function here reproduces NVIDIA's reference path numerically (see the parity tests);
none of it is their code.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def upsample_zero_insert(x: torch.Tensor) -> torch.Tensor:
    """[N, C, H, W] -> [N, C, 2H, 2W]: each sample at the even position, zeros in between."""
    n, c, h, w = x.shape
    out = x.new_zeros(n, c, h, 2, w, 2)
    out[:, :, :, 0, :, 0] = x
    return out.reshape(n, c, 2 * h, 2 * w)


def fir_filter(x: torch.Tensor, taps: torch.Tensor, *, pad: tuple[int, int], gain: float) -> torch.Tensor:
    """Pad (before, after) on both axes, then convolve every channel with the 2D filter `taps`.

    taps: [k, k], applied flipped (true convolution) as upfirdn2d does; the StyleGAN filters are
    symmetric, so this only matters for exotic checkpoints.
    """
    c = x.shape[1]
    x = F.pad(x, [pad[0], pad[1], pad[0], pad[1]])
    weight = (taps * gain).flip([0, 1]).to(x.dtype)[None, None].repeat(c, 1, 1, 1)
    return F.conv2d(x, weight, groups=c)


def upsample2d(img: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
    """The skip path's x2 up-sampling: zero insertion, pad (2, 1), FIR filter with gain 4."""
    k = taps.shape[-1]
    return fir_filter(upsample_zero_insert(img), taps, pad=((k + 1) // 2, (k - 2) // 2), gain=4.0)


def modulated_conv2d(
    x: torch.Tensor,  # [N, I, H, W]
    weight: torch.Tensor,  # [O, I, k, k]
    styles: torch.Tensor,  # [N, I]
    *,
    demodulate: bool,
    up: bool = False,
    taps: torch.Tensor | None = None,  # [4, 4] FIR filter, needed when up
) -> torch.Tensor:
    """Style-modulated convolution: each sample convolved with its own (de)modulated kernel.

    The kernels are modulated rather than the activations (one grouped convolution, groups = N):
    at the batch sizes of editing (1) this saves two full passes over the activations per layer.
    Returns [N, O, H, W] ([N, O, 2H, 2W] if up).
    """
    n, i, h, w = x.shape
    o, _, k, _ = weight.shape
    wt = weight.unsqueeze(0) * styles[:, None, :, None, None]  # [N, O, I, k, k]
    if demodulate:
        wt = wt * (wt.square().sum(dim=[2, 3, 4], keepdim=True) + 1e-8).rsqrt()
    x = x.reshape(1, n * i, h, w)
    if up:
        # Transposed stride-2 conv with the kernel as stored (in/out roles swapped, no flip):
        # 2H+1 px; then pad 1 and low-pass with the FIR filter (gain 4): 2H px.
        wt = wt.transpose(1, 2).reshape(n * i, o, k, k)
        x = F.conv_transpose2d(x, wt, stride=2, groups=n)
        x = fir_filter(x, taps, pad=(1, 1), gain=4.0)
    else:
        x = F.conv2d(x, wt.reshape(n * o, i, k, k), padding=k // 2, groups=n)
    return x.reshape(n, o, *x.shape[2:])
