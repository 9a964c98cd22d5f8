"""StyleGAN2 layers with NVIDIA's parameter names, so official state dicts load with strict=True.

Weights are stored unscaled; the equalised-learning-rate gains are applied in forward().
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .ops import modulated_conv2d

LRELU_SLOPE = 0.2
LRELU_GAIN = math.sqrt(2.0)


def lrelu_gain_clamp(x: torch.Tensor, clamp: float | None) -> torch.Tensor:
    x = F.leaky_relu(x, LRELU_SLOPE) * LRELU_GAIN
    return x.clamp(-clamp, clamp) if clamp is not None else x


class FullyConnectedLayer(nn.Module):
    """y = x @ (weight * lr_mult / sqrt(in)).T + bias * lr_mult, optionally lrelu * sqrt(2)."""

    def __init__(
        self, in_features: int, out_features: int, *, lrelu: bool, lr_multiplier: float = 1.0, bias_init: float = 0.0
    ) -> None:
        super().__init__()
        self.lrelu = lrelu
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.full([out_features], float(bias_init)))
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight * self.weight_gain
        b = self.bias * self.bias_gain
        if not self.lrelu:
            return torch.addmm(b.unsqueeze(0), x, w.t())
        return lrelu_gain_clamp(x.matmul(w.t()) + b, None)


class SynthesisLayer(nn.Module):
    """Modulated 3x3 conv (+ optional x2 up-sampling), noise, bias, lrelu, gain, clamp."""

    def __init__(
        self, in_channels: int, out_channels: int, *, w_dim: int, resolution: int, up: bool,
        conv_clamp: float | None, resample_filter: torch.Tensor,
    ) -> None:
        super().__init__()
        self.up = up
        self.resolution = resolution
        self.conv_clamp = conv_clamp
        # Registration order gives NVIDIA's state-dict order: params, buffers, then `affine`.
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 3, 3))
        self.noise_strength = nn.Parameter(torch.zeros([]))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.register_buffer("resample_filter", resample_filter.clone())
        self.register_buffer("noise_const", torch.randn(resolution, resolution))
        self.affine = FullyConnectedLayer(w_dim, in_channels, lrelu=False, bias_init=1.0)

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str) -> torch.Tensor:
        styles = self.affine(w)  # [N, in_channels]
        x = modulated_conv2d(
            x, self.weight, styles, demodulate=True, up=self.up,
            taps=self.resample_filter,
        )
        if noise_mode == "const":
            x = x + self.noise_const * self.noise_strength
        elif noise_mode == "random":
            n = x.shape[0]
            x = x + torch.randn(n, 1, self.resolution, self.resolution, device=x.device) * self.noise_strength
        x = x + self.bias[None, :, None, None]
        return lrelu_gain_clamp(x, self.conv_clamp)


class ToRGBLayer(nn.Module):
    """Modulated 1x1 conv without demodulation or noise, plus bias, optionally clamped."""

    def __init__(self, in_channels: int, out_channels: int, *, w_dim: int, conv_clamp: float | None) -> None:
        super().__init__()
        self.conv_clamp = conv_clamp
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.affine = FullyConnectedLayer(w_dim, in_channels, lrelu=False, bias_init=1.0)
        self.weight_gain = 1.0 / math.sqrt(in_channels)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain  # [N, in_channels]
        x = modulated_conv2d(x, self.weight, styles, demodulate=False)
        x = x + self.bias[None, :, None, None]
        return x.clamp(-self.conv_clamp, self.conv_clamp) if self.conv_clamp is not None else x
