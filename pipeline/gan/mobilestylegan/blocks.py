"""MobileStyleGAN's layers as the `random-face` export computes them (float32, plain PyTorch).

Every weight is stored as the export holds it: equalised-learning-rate gains are already folded
into the weights, except the 1/sqrt(fan_in) of each styled conv, which the export applies to
the style (we do the same, `style_gain`). There is no demodulation in this network.
Batch 1 is the common case (inversion, drag); its styles are folded into the depthwise and
head kernels, so the large feature maps are not rescaled in a pass of their own. The maps are
kept channels_last: measured on the 2-core CPU, depthwise and pointwise convs of the 512 px
block run 2.3-2.7x faster than in NCHW (bench/generator_speed.py has the whole-network figures).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .wavelets import haar_synthesis_kernel, inverse_haar


class StyleAffine(nn.Module):
    """w [N, w_dim] -> per-channel style [N, channels] (the export's Gemm nodes)."""

    def __init__(self, w_dim: int, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(channels, w_dim))
        self.bias = nn.Parameter(torch.ones(channels))

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return F.linear(w, self.weight, self.bias)


class LayerNoise(nn.Module):
    """Per-pixel noise added after a conv: strength * map, one map [R, R] shared by all channels.

    The export bakes strength * map into one constant; the converter splits it into
    `noise_strength` (its RMS) and a unit-RMS `noise_const`, so that projection can replace the
    map by white noise of the right scale and 'random' can draw fresh maps.
    """

    def __init__(self, resolution: int) -> None:
        super().__init__()
        self.resolution = resolution
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("noise_const", torch.zeros(resolution, resolution))

    def forward(self, x: torch.Tensor, noise_mode: str) -> torch.Tensor:
        if noise_mode == "none":
            return x
        if noise_mode == "random":
            noise = torch.randn(x.shape[0], 1, *x.shape[2:], device=x.device, dtype=x.dtype)
        else:
            noise = self.noise_const.to(x.dtype)
        return x + noise * self.noise_strength.to(x.dtype)


class _StyledLayer(nn.Module):
    """What both styled convs share: the style affine and gain, bias, noise, leaky slope."""

    def __init__(self, in_channels: int, out_channels: int, *, w_dim: int, resolution: int, slope: float) -> None:
        super().__init__()
        self.affine = StyleAffine(w_dim, in_channels)
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.noise = LayerNoise(resolution)
        self.style_gain = (in_channels * 9) ** -0.5
        self.slope = slope

    def style(self, w: torch.Tensor) -> torch.Tensor:
        return self.affine(w) * self.style_gain  # [N, C_in]

    def activate(self, x: torch.Tensor, noise_mode: str) -> torch.Tensor:
        return F.leaky_relu(self.noise(x, noise_mode), self.slope)


class StyledConv(_StyledLayer):
    """The 4 px layer: x * style, dense 3x3 conv, noise, bias, leaky ReLU."""

    def __init__(self, in_channels: int, out_channels: int, *, w_dim: int, resolution: int, slope: float) -> None:
        super().__init__(in_channels, out_channels, w_dim=w_dim, resolution=resolution, slope=slope)
        self.weight = nn.Parameter(torch.zeros(out_channels, in_channels, 3, 3))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str) -> torch.Tensor:
        style = self.style(w)
        x = F.conv2d(x * style[:, :, None, None].to(x.dtype), self.weight.to(x.dtype), self.bias.to(x.dtype), padding=1)
        return self.activate(x, noise_mode)


class SeparableStyledConv(_StyledLayer):
    """x * style, depthwise 3x3, pointwise 1x1, noise, bias, leaky ReLU (MobileStyleGAN's conv)."""

    def __init__(self, in_channels: int, out_channels: int, *, w_dim: int, resolution: int, slope: float) -> None:
        super().__init__(in_channels, out_channels, w_dim=w_dim, resolution=resolution, slope=slope)
        self.weight_dw = nn.Parameter(torch.zeros(in_channels, 1, 3, 3))
        self.weight_pw = nn.Parameter(torch.zeros(out_channels, in_channels, 1, 1))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str) -> torch.Tensor:
        c = x.shape[1]
        style = self.style(w)
        if x.shape[0] == 1:
            # Depthwise is per channel, so conv(x * s, k) == conv(x, k * s): the style goes into
            # the 3x3 kernels and the large map is not rescaled in a pass of its own.
            kernels = (self.weight_dw * style[0, :, None, None, None]).to(x.dtype)
            x = F.conv2d(x, kernels, padding=1, groups=c)
        else:
            x = F.conv2d(x * style[:, :, None, None].to(x.dtype), self.weight_dw.to(x.dtype), padding=1, groups=c)
        x = F.conv2d(x, self.weight_pw.to(x.dtype), self.bias.to(x.dtype))
        return self.activate(x, noise_mode)


class IDWTUpsample(nn.Module):
    """x * style, then the inverse Haar DWT: [N, 4C, R, R] -> [N, C, 2R, 2R] (the export's 'up')."""

    def __init__(self, in_channels: int, *, w_dim: int) -> None:
        super().__init__()
        self.affine = StyleAffine(w_dim, in_channels)
        self.register_buffer("haar_kernel", haar_synthesis_kernel(), persistent=False)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        style = self.affine(w)  # [N, C_in]; the export applies no gain here
        return inverse_haar(x * style[:, :, None, None].to(x.dtype), self.haar_kernel)


class WaveletHead(nn.Module):
    """x * style, 1x1 conv to 4 Haar bands per image channel, bias: [N, 4 * img_channels, R, R]."""

    def __init__(self, in_channels: int, img_channels: int, *, w_dim: int) -> None:
        super().__init__()
        self.affine = StyleAffine(w_dim, in_channels)
        self.weight = nn.Parameter(torch.zeros(4 * img_channels, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(4 * img_channels))
        self.style_gain = in_channels**-0.5
        self.register_buffer("haar_kernel", haar_synthesis_kernel(), persistent=False)

    def coefficients(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        style = self.affine(w) * self.style_gain  # [N, C_in]
        # The pointwise conv is linear in its input channels: fold the style into the weight.
        weight = self.weight[None] * style[:, None, :, None, None]  # [N, 12, C_in, 1, 1]
        if x.shape[0] == 1:
            return F.conv2d(x, weight[0].to(x.dtype), self.bias.to(x.dtype))
        return torch.cat([F.conv2d(x[i:i + 1], weight[i].to(x.dtype), self.bias.to(x.dtype)) for i in range(x.shape[0])])

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return inverse_haar(self.coefficients(x, w), self.haar_kernel)  # [N, img_channels, 2R, 2R]
