"""StyleGAN2 mapping and synthesis networks ('skip' generator), float32, plain PyTorch.

Module and parameter names follow NVIDIA's (`mapping.fc0.weight`, `synthesis.b64.conv1.affine.bias`,
...), so official state dicts load with strict=True. The synthesis can stop after any block and
return its features without computing a single ToRGB: the drag stage needs only those.
"""
from __future__ import annotations

import torch
from torch import nn

from ..interface import FeatureBlock
from ..style_generator import StyleBasedGenerator
from .stylegan2_config import StyleGAN2Config
from .layers import FullyConnectedLayer, SynthesisLayer, ToRGBLayer
from .ops import upsample2d


def make_resample_filter(taps: tuple[int, ...]) -> torch.Tensor:
    """Outer product of the 1D taps, normalised to sum 1: [k, k]."""
    f = torch.tensor(taps, dtype=torch.float32)
    f = torch.outer(f, f)
    return f / f.sum()


class MappingNetwork(nn.Module):
    def __init__(self, cfg: StyleGAN2Config) -> None:
        super().__init__()
        self.num_ws = cfg.num_ws
        self.register_buffer("w_avg", torch.zeros(cfg.w_dim))
        dims = [cfg.z_dim] + [cfg.w_dim] * cfg.mapping_layers
        for i in range(cfg.mapping_layers):
            layer = FullyConnectedLayer(dims[i], dims[i + 1], lrelu=True, lr_multiplier=cfg.mapping_lr_multiplier)
            setattr(self, f"fc{i}", layer)
        self.num_layers = cfg.mapping_layers

    def forward(self, z: torch.Tensor, truncation_psi: float, truncation_cutoff: int | None) -> torch.Tensor:
        x = z * (z.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt()  # normalise 2nd moment
        for i in range(self.num_layers):
            x = getattr(self, f"fc{i}")(x)
        ws = x.unsqueeze(1).repeat(1, self.num_ws, 1)  # [N, num_ws, w_dim]
        if truncation_psi != 1:
            if truncation_cutoff is None:
                ws = self.w_avg.lerp(ws, truncation_psi)
            else:
                ws = ws.clone()
                ws[:, :truncation_cutoff] = self.w_avg.lerp(ws[:, :truncation_cutoff], truncation_psi)
        return ws


class SynthesisBlock(nn.Module):
    """One resolution: (const | conv0 up x2), conv1, ToRGB; consumes num_conv + 1 ws."""

    def __init__(self, in_channels: int, out_channels: int, *, resolution: int, cfg: StyleGAN2Config) -> None:
        super().__init__()
        self.resolution = resolution
        self.num_conv = 1 if in_channels == 0 else 2
        taps = make_resample_filter(cfg.resample_filter)
        layer_kwargs = dict(w_dim=cfg.w_dim, resolution=resolution, conv_clamp=cfg.conv_clamp, resample_filter=taps)
        if in_channels == 0:
            self.const = nn.Parameter(torch.randn(out_channels, resolution, resolution))
        self.register_buffer("resample_filter", taps.clone())
        if in_channels != 0:
            self.conv0 = SynthesisLayer(in_channels, out_channels, up=True, **layer_kwargs)
        self.conv1 = SynthesisLayer(out_channels, out_channels, up=False, **layer_kwargs)
        self.torgb = ToRGBLayer(out_channels, cfg.img_channels, w_dim=cfg.w_dim, conv_clamp=cfg.conv_clamp)

    def features(self, x: torch.Tensor | None, ws: torch.Tensor, noise_mode: str) -> torch.Tensor:
        """ws [N, num_conv(+1), w_dim] -> x [N, out_channels, R, R] (the ToRGB is not evaluated)."""
        if self.num_conv == 1:
            x = self.const.unsqueeze(0).repeat(ws.shape[0], 1, 1, 1)
            return self.conv1(x, ws[:, 0], noise_mode)
        x = self.conv0(x, ws[:, 0], noise_mode)
        return self.conv1(x, ws[:, 1], noise_mode)

    def forward(
        self, x: torch.Tensor | None, img: torch.Tensor | None, ws: torch.Tensor, noise_mode: str
    ) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.features(x, ws, noise_mode)
        y = self.torgb(x, ws[:, self.num_conv])
        img = y if img is None else upsample2d(img, self.resample_filter) + y
        return x, img


class SynthesisNetwork(nn.Module):
    def __init__(self, cfg: StyleGAN2Config) -> None:
        super().__init__()
        self.block_resolutions = cfg.block_resolutions
        self.num_ws = cfg.num_ws
        in_ch = 0
        for res in self.block_resolutions:
            out_ch = cfg.channels(res)
            setattr(self, f"b{res}", SynthesisBlock(in_ch, out_ch, resolution=res, cfg=cfg))
            in_ch = out_ch

    def _block_ws(self, ws: torch.Tensor) -> list[tuple[int, torch.Tensor]]:
        """Each block's slice of ws; consecutive slices overlap by one (ToRGB = next conv0)."""
        out, w_idx = [], 0
        for res in self.block_resolutions:
            block = getattr(self, f"b{res}")
            out.append((res, ws.narrow(1, w_idx, block.num_conv + 1)))
            w_idx += block.num_conv
        return out

    def forward(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        x = img = None
        for res, block_ws in self._block_ws(ws):
            x, img = getattr(self, f"b{res}")(x, img, block_ws, noise_mode)
        return img

    def features(self, ws: torch.Tensor, stop_resolution: int, noise_mode: str = "const") -> torch.Tensor:
        x = None
        for res, block_ws in self._block_ws(ws):
            x = getattr(self, f"b{res}").features(x, block_ws, noise_mode)
            if res == stop_resolution:
                return x
        raise ValueError(f"no synthesis block at resolution {stop_resolution}")


class StyleGAN2Generator(StyleBasedGenerator):
    """NVIDIA's StyleGAN2 generator (unconditional, 'skip'), behind our LatentGenerator interface."""

    arch = "stylegan2"

    def __init__(self, config: StyleGAN2Config) -> None:
        super().__init__(config, mapping=MappingNetwork(config), synthesis=SynthesisNetwork(config), first="synthesis")

    def mapping(self, z, truncation_psi=1.0, truncation_cutoff=None):
        self.check_z(z)
        return self.mapping_net(z, truncation_psi, truncation_cutoff)

    @property
    def feature_blocks(self) -> tuple[FeatureBlock, ...]:
        cfg = self.config
        return tuple(FeatureBlock(f"b{r}", cfg.channels(r), r) for r in cfg.block_resolutions)
