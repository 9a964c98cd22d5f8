"""The inverse Haar DWT of the export: 4 sub-bands per channel at H x W -> one channel at 2H x 2W.

Channel layout of the input [N, 4C, H, W], as the export's IDWT nodes read it: the C low-pass
maps first, then the 3C high-pass maps interleaved per channel (channel c's k-th band at
C + 3c + k). With the orthonormal Haar pair h0 = (1, 1)/sqrt(2) and h1 = (1, -1)/sqrt(2), the
pixel (2i + a, 2j + b) of channel c is

    0.5 * (LL + s_a * H1 + s_b * H2 + s_a * s_b * H3),   s_0 = +1, s_1 = -1,

which the export computes as separable transposed convolutions (rows with h0 | h1, then
columns). We compute it as one grouped transposed convolution with a fixed 2 x 2 kernel per
band: no overlap between output pixels, so it is exact, and it reads every input once.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

HAAR = 2**-0.5  # the taps of h0 and h1, magnitude


def haar_synthesis_kernel(dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """[4, 2, 2]: the kernel of each band (LL, H1, H2, H3) for output phase (a, b)."""
    sign = torch.tensor([1.0, -1.0], dtype=torch.float64)
    ones = torch.ones(2, dtype=torch.float64)
    # [a, b] grids of s_a and s_b.
    s_a = sign[:, None] * ones[None, :]
    s_b = ones[:, None] * sign[None, :]
    kernel = torch.stack([torch.ones(2, 2, dtype=torch.float64), s_a, s_b, s_a * s_b]) * (HAAR * HAAR)
    return kernel.to(dtype)


def inverse_haar(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """x [N, 4C, H, W] (export layout) -> [N, C, 2H, 2W]; kernel from haar_synthesis_kernel."""
    n, c4, h, w = x.shape
    if c4 % 4:
        raise ValueError(f"inverse Haar DWT needs 4 bands per channel, got {c4} channels")
    c = c4 // 4
    if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
        return _inverse_haar_channels_last(x, kernel)
    low = x[:, :c].unsqueeze(2)  # [N, C, 1, H, W]
    high = x[:, c:].reshape(n, c, 3, h, w)  # [N, C, 3, H, W]
    bands = torch.cat([low, high], dim=2).reshape(n, c4, h, w)  # channel c's bands adjacent
    weight = kernel.to(x.dtype).repeat(c, 1, 1).unsqueeze(1)  # [4C, 1, 2, 2]
    return F.conv_transpose2d(bands, weight, stride=2, groups=c)


def _inverse_haar_channels_last(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """The same sum for a channels_last x, phase by phase, assembled into a channels_last output."""
    n, c4, h, w = x.shape
    c = c4 // 4
    pixels = x.permute(0, 2, 3, 1)  # [N, H, W, 4C], a contiguous view
    bands = [pixels[..., :c]] + list(pixels[..., c:].reshape(n, h, w, c, 3).unbind(-1))
    k = kernel.tolist()  # [band][a][b]
    rows = []
    for a in (0, 1):
        phases = [sum(bands[i] * k[i][a][b] for i in range(4)) for b in (0, 1)]  # each [N, H, W, C]
        rows.append(torch.stack(phases, dim=3))  # [N, H, W, b, C]
    out = torch.stack(rows, dim=2)  # [N, H, a, W, b, C]
    return out.reshape(n, 2 * h, 2 * w, c).permute(0, 3, 1, 2)  # [N, C, 2H, 2W] in channels_last memory
