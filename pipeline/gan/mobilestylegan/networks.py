"""MobileStyleGAN (Belousov 2021) mapping and synthesis behind our LatentGenerator interface.

The network of the `random-face` export, re-implemented; the converter (convert.py) loads the
export's constants into it. Weights derive from NVIDIA's StyleGAN2-FFHQ (NVIDIA Source Code
License-NC) and FFHQ (CC BY-NC-SA 4.0): non-commercial use only.

W+ layout (23 entries for the 1024 model, in the export's order):
    0             b4.conv1
    1 + 3i        b{8 * 2^i}.up      (the IDWT's own style)
    2 + 3i        b{8 * 2^i}.conv1
    3 + 3i        b{8 * 2^i}.conv2
    num_ws - 1    head               (the wavelet output head)
All entries equal reproduce the exported single-style network.

Noise modes: 'const' adds the export's baked maps (strength x unit map, see LayerNoise);
'random' draws a fresh unit Gaussian map per layer and call, scaled by the same strength (as
StyleGAN2's 'random'); 'none' adds nothing.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..interface import FeatureBlock, LatentGenerator
from .config import MobileStyleGANConfig
from .layers import IDWTUpsample, SeparableStyledConv, StyledConv, WaveletHead


class MappingNetwork(nn.Module):
    """z [N, z_dim] -> w [N, w_dim]: normalise z's second moment, then FC + leaky ReLU + gain."""

    def __init__(self, cfg: MobileStyleGANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        dims = [cfg.z_dim] + [cfg.w_dim] * cfg.mapping_layers
        for i in range(cfg.mapping_layers):
            setattr(self, f"fc{i}", nn.Linear(dims[i], dims[i + 1]))
        # Estimated by the converter (mean of 10,000 mapped seeds); the export holds none.
        self.register_buffer("w_avg", torch.zeros(cfg.w_dim))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        x = z * (z.square().mean(dim=1, keepdim=True) + cfg.pixel_norm_eps).rsqrt()
        for i in range(cfg.mapping_layers):
            x = F.leaky_relu(getattr(self, f"fc{i}")(x), cfg.lrelu_slope) * cfg.mapping_gain
        return x


class SynthesisBlock(nn.Module):
    """One resolution: IDWT up-sampling of the previous map, then two separable styled convs."""

    def __init__(self, in_channels: int, out_channels: int, *, resolution: int, cfg: MobileStyleGANConfig) -> None:
        super().__init__()
        kw = dict(w_dim=cfg.w_dim, resolution=resolution, slope=cfg.lrelu_slope)
        self.resolution = resolution
        self.up = IDWTUpsample(in_channels, w_dim=cfg.w_dim)
        self.conv1 = SeparableStyledConv(in_channels // 4, out_channels, **kw)
        self.conv2 = SeparableStyledConv(out_channels, out_channels, **kw)

    def forward(self, x: torch.Tensor, ws: torch.Tensor, noise_mode: str) -> torch.Tensor:
        """x [N, C_in, R/2, R/2], ws [N, 3, w_dim] -> [N, C_out, R, R]."""
        x = self.up(x, ws[:, 0])
        x = self.conv1(x, ws[:, 1], noise_mode)
        return self.conv2(x, ws[:, 2], noise_mode)


class SynthesisNetwork(nn.Module):
    def __init__(self, cfg: MobileStyleGANConfig) -> None:
        super().__init__()
        res = cfg.hidden_resolutions
        self.resolutions = res
        self.const = nn.Parameter(torch.zeros(1, cfg.channels[0], 4, 4))
        self.b4 = nn.Module()
        self.b4.conv1 = StyledConv(cfg.channels[0], cfg.channels[0], w_dim=cfg.w_dim, resolution=4,
                                   slope=cfg.lrelu_slope)
        for i in range(1, len(res)):
            setattr(self, f"b{res[i]}", SynthesisBlock(cfg.channels[i - 1], cfg.channels[i], resolution=res[i], cfg=cfg))
        self.head = WaveletHead(cfg.channels[-1], cfg.img_channels, w_dim=cfg.w_dim)

    def features(self, ws: torch.Tensor, noise_mode: str, stop_resolution: int | None) -> torch.Tensor:
        """ws [N, num_ws, w_dim] -> the hidden map [N, C, R, R] at stop_resolution (None: the last)."""
        x = self.const.expand(ws.shape[0], -1, -1, -1).contiguous(memory_format=torch.channels_last)
        x = self.b4.conv1(x, ws[:, 0], noise_mode)
        if stop_resolution == 4:
            return x
        for i, res in enumerate(self.resolutions[1:]):
            x = getattr(self, f"b{res}")(x, ws[:, 1 + 3 * i:4 + 3 * i], noise_mode)
            if res == stop_resolution:
                return x
        if stop_resolution is not None:
            raise ValueError(f"no hidden map at resolution {stop_resolution}")
        return x

    def forward(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        x = self.features(ws, noise_mode, stop_resolution=None)
        return self.head(x, ws[:, -1])  # [N, img_channels, 2R, 2R]


class MobileStyleGANGenerator(LatentGenerator):
    """MobileStyleGAN behind our LatentGenerator interface (see the module docstring)."""

    arch = "mobilestylegan"

    def __init__(self, config: MobileStyleGANConfig) -> None:
        super().__init__()
        self.config = config
        self.z_dim, self.w_dim = config.z_dim, config.w_dim
        self.num_ws = config.num_ws
        self.img_resolution, self.img_channels = config.img_resolution, config.img_channels
        # As StyleGAN2Generator: the submodules keep the names `mapping.*` / `synthesis.*` in the
        # state dict while attribute lookup finds the interface methods of the same names.
        self._modules["mapping"] = MappingNetwork(config)
        self._modules["synthesis"] = SynthesisNetwork(config)

    @property
    def mapping_net(self) -> MappingNetwork:
        return self._modules["mapping"]

    @property
    def synthesis_net(self) -> SynthesisNetwork:
        return self._modules["synthesis"]

    def mapping(self, z, truncation_psi=1.0, truncation_cutoff=None):
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must be [N, {self.z_dim}], got {list(z.shape)}")
        w = self.mapping_net(z)  # [N, w_dim]
        ws = w.unsqueeze(1).repeat(1, self.num_ws, 1)  # [N, num_ws, w_dim]
        if truncation_psi != 1:
            w_avg = self.mapping_net.w_avg
            cut = self.num_ws if truncation_cutoff is None else truncation_cutoff
            ws[:, :cut] = w_avg.lerp(ws[:, :cut], truncation_psi)
        return ws

    def synthesis(self, ws, noise_mode="const"):
        self.check_ws(ws)
        self.check_noise_mode(noise_mode)
        return self.synthesis_net(ws, noise_mode)

    def synthesis_features(self, ws, block, noise_mode="const"):
        self.check_ws(ws)
        self.check_noise_mode(noise_mode)
        return self.synthesis_net.features(ws, noise_mode, self.feature_block(block).resolution)

    @property
    def feature_blocks(self) -> tuple[FeatureBlock, ...]:
        cfg = self.config
        return tuple(FeatureBlock(f"b{r}", c, r) for r, c in zip(cfg.hidden_resolutions, cfg.channels))

    @property
    def w_avg(self) -> torch.Tensor:
        return self.mapping_net.w_avg

    def config_dict(self) -> dict:
        return self.config.to_dict()
