"""MobileStyleGAN generator configuration: the layout of the `random-face` export, flat.

The export (REFERENCE.md section 6) is the older upstream layout: a constant 4x4 input and a
styled 3x3 conv, then one block per resolution 8..512, each an inverse-Haar up-sampling (IDWT)
with its own style, then two depthwise-separable styled convs; a final wavelet head (12 Haar
coefficient channels at 512 px) whose inverse DWT is the 1024 px image.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..config_dicts import JsonConfig


@dataclass(frozen=True, kw_only=True)
class MobileStyleGANConfig(JsonConfig):
    config_name: ClassVar[str] = "MobileStyleGAN"
    int_tuples: ClassVar[tuple[str, ...]] = ("channels",)
    z_dim: int = 512  # input latent size
    w_dim: int = 512  # style size (every affine reads one w of this size)
    mapping_layers: int = 8  # FC layers of the mapping network
    mapping_gain: float = 2**0.5  # the mapping multiplies every activation by this (the export's constant)
    lrelu_slope: float = 0.2  # leaky ReLU slope of every activation
    pixel_norm_eps: float = 1e-8  # eps inside the mapping's input normalisation
    # Channels of the hidden map at 4, 8, ..., 512 px; the IDWT of a block divides its input's by 4.
    channels: tuple[int, ...] = (512, 512, 512, 512, 512, 256, 128, 64)
    img_channels: int = 3  # output channels (RGB)

    def __post_init__(self) -> None:
        if len(self.channels) < 2:
            raise ValueError(f"channels needs at least the 4 px map and one block, got {self.channels}")
        for prev in self.channels[:-1]:
            if prev % 4:
                raise ValueError(f"every block's input channels must divide by 4 (IDWT), got {self.channels}")
        if min(self.channels) < 1 or min(self.z_dim, self.w_dim, self.mapping_layers, self.img_channels) < 1:
            raise ValueError("MobileStyleGAN sizes must all be >= 1")

    @property
    def hidden_resolutions(self) -> list[int]:
        """Sides of the hidden maps, px: 4, 8, ..., 4 * 2^(blocks)."""
        return [4 * 2**i for i in range(len(self.channels))]

    @property
    def img_resolution(self) -> int:
        return 2 * self.hidden_resolutions[-1]  # the wavelet head's inverse DWT doubles the last map

    @property
    def num_ws(self) -> int:
        # conv1 at 4 px; per block the IDWT's style, conv1 and conv2; the wavelet head.
        return 1 + 3 * (len(self.channels) - 1) + 1

