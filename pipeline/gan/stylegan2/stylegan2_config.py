"""StyleGAN2 generator configuration: the constructor arguments of NVIDIA's Generator, flat."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from ..config_dicts import JsonConfig


@dataclass(frozen=True, kw_only=True)
class StyleGAN2Config(JsonConfig):
    config_name: ClassVar[str] = "StyleGAN2"
    int_tuples: ClassVar[tuple[str, ...]] = ("resample_filter",)
    z_dim: int = 512  # input latent size
    w_dim: int = 512  # intermediate latent size
    c_dim: int = 0  # conditioning labels; only 0 (unconditional) is supported
    img_resolution: int = 512  # output px, a power of two >= 4
    img_channels: int = 3  # output channels
    mapping_layers: int = 8  # FC layers in the mapping network
    mapping_lr_multiplier: float = 0.01  # equalised-lr gain of the mapping FCs
    channel_base: int = 32768  # channels at resolution r = min(channel_base // r, channel_max)
    channel_max: int = 512  # cap on channels per block
    conv_clamp: float | None = None  # clamp of every conv/ToRGB output; NVIDIA trains with 256
    num_fp16_res: int = 0  # recorded from the checkpoint only: we always compute in float32
    architecture: str = "skip"  # only 'skip' (every released StyleGAN2 generator) is built
    resample_filter: tuple[int, ...] = (1, 3, 3, 1)  # FIR taps of the up-sampling filter
    w_avg_beta: float = 0.998  # training-only; kept so a conversion round-trips

    def __post_init__(self) -> None:
        res = self.img_resolution
        if res < 4 or res & (res - 1):
            raise ValueError(f"img_resolution must be a power of two >= 4, got {res}")
        if self.c_dim != 0:
            raise ValueError("conditional StyleGAN2 generators (c_dim > 0) are not supported")
        if self.architecture != "skip":
            raise ValueError(f"StyleGAN2 architecture '{self.architecture}' is not supported: only 'skip'")

    @property
    def block_resolutions(self) -> list[int]:
        return [2**i for i in range(2, int(math.log2(self.img_resolution)) + 1)]

    def channels(self, resolution: int) -> int:
        return min(self.channel_base // resolution, self.channel_max)

    @property
    def num_ws(self) -> int:
        # Each block consumes num_conv ws (1 for b4, else 2); the last ToRGB adds one more.
        return 1 + 2 * (len(self.block_resolutions) - 1) + 1

