"""The demo face generator: a 64 px DCGAN (PyTorch tutorial layout) behind the LatentGenerator interface.

Latent: z itself is the single latent entry (num_ws == 1, w_dim == z_dim); truncation scales z
towards 0, so w_avg is the zero vector.

BatchNorm is folded, once, into the preceding transposed convolution (per-output-channel scale
and a bias) when the tutorial weights are converted (`fold_tutorial_state_dict`). The module
therefore has no BatchNorm at all: it computes the teacher's inference-mode output whether it
is in .train() or .eval() mode, and inversion may tune its weights without touching batch
statistics.

Feature blocks are the outputs after each ReLU: 'l1' 4x4, 'l2' 8x8, 'l3' 16x16, 'l4' 32x32.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from .config_dicts import JsonConfig
from .interface import FeatureBlock, LatentGenerator

# (block name, channel multiplier of ngf, output resolution px), lowest resolution first.
_BLOCKS = (("l1", 8, 4), ("l2", 4, 8), ("l3", 2, 16), ("l4", 1, 32))
# Indices of (ConvTranspose2d, BatchNorm2d) pairs in the tutorial's `main` nn.Sequential, per block,
# and of its last ConvTranspose2d (followed by Tanh).
_TUTORIAL_LAYERS = {"l1": (0, 1), "l2": (3, 4), "l3": (6, 7), "l4": (9, 10)}
_TUTORIAL_TO_RGB = 12


@dataclass(frozen=True, kw_only=True)
class DCGANConfig(JsonConfig):
    config_name: ClassVar[str] = "DCGAN"
    z_dim: int = 100  # input latent size (also w_dim: the latent is z itself)
    ngf: int = 64  # base channel count: blocks l1..l4 have 8, 4, 2, 1 x ngf channels
    img_channels: int = 3  # output channels
    img_resolution: int = 64  # output px; the tutorial layout is fixed at 64
    bn_eps: float = 1e-5  # eps of the teacher's BatchNorm, used only when folding its weights

    def __post_init__(self) -> None:
        if self.img_resolution != 64:
            raise ValueError(f"the DCGAN layout only makes 64 px images, got img_resolution={self.img_resolution}")
        for name in ("z_dim", "ngf", "img_channels"):
            if getattr(self, name) < 1:
                raise ValueError(f"DCGAN {name} must be >= 1, got {getattr(self, name)}")
        if not self.bn_eps > 0:
            raise ValueError(f"DCGAN bn_eps must be > 0, got {self.bn_eps}")



class DCGANGenerator(LatentGenerator):
    """z [N, z_dim] -> img [N, img_channels, 64, 64] in [-1, 1] (tanh output).

    State dict: l1..l4.{weight, bias} (transposed convs with BatchNorm folded in) and
    to_rgb.weight (the last transposed conv, no bias). These names are part of our checkpoint
    format: do not rename them.
    """

    arch = "dcgan"

    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        self.config = config
        self.z_dim = config.z_dim
        self.w_dim = config.z_dim
        self.num_ws = 1
        self.img_resolution = config.img_resolution
        self.img_channels = config.img_channels
        self._blocks = tuple(FeatureBlock(name, mult * config.ngf, res) for name, mult, res in _BLOCKS)

        in_ch = config.z_dim
        for block in self._blocks:
            # The first block turns the 1x1 latent into 4x4 (stride 1, no padding); the others double.
            stride, padding = (1, 0) if block.resolution == 4 else (2, 1)
            conv = nn.ConvTranspose2d(in_ch, block.channels, 4, stride, padding, bias=True)
            self.add_module(block.name, conv)
            in_ch = block.channels
        self.to_rgb = nn.ConvTranspose2d(in_ch, config.img_channels, 4, 2, 1, bias=False)
        # Truncation target; not a checkpoint entry (it is zero by construction).
        self.register_buffer("_w_avg", torch.zeros(config.z_dim), persistent=False)

    # ---- LatentGenerator --------------------------------------------------------------------
    @property
    def feature_blocks(self) -> tuple[FeatureBlock, ...]:
        return self._blocks

    @property
    def w_avg(self) -> torch.Tensor:
        return self._w_avg  # [w_dim], zeros

    def config_dict(self) -> dict:
        return self.config.to_dict()

    def mapping(
        self, z: torch.Tensor, truncation_psi: float = 1.0, truncation_cutoff: int | None = None
    ) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must be [N, {self.z_dim}], got {list(z.shape)}")
        ws = z.to(self._w_avg.dtype).unsqueeze(1)  # [N, 1, w_dim]
        # As StyleGAN2: the cutoff truncates only the first `cutoff` entries; with one entry a
        # cutoff of 0 means no truncation.
        if truncation_psi != 1 and (truncation_cutoff is None or truncation_cutoff >= 1):
            ws = self._w_avg + truncation_psi * (ws - self._w_avg)
        return ws

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        x = self._run_blocks(ws, noise_mode, stop_after=None)
        return torch.tanh(self.to_rgb(x))  # [N, img_channels, 64, 64], in [-1, 1]

    def synthesis_features(self, ws: torch.Tensor, block: str, noise_mode: str = "const") -> torch.Tensor:
        self.feature_block(block)  # raises on an unknown name
        return self._run_blocks(ws, noise_mode, stop_after=block)  # [N, C, h, w], >= 0 (after ReLU)

    # ---- internals --------------------------------------------------------------------------
    def _run_blocks(self, ws: torch.Tensor, noise_mode: str, stop_after: str | None) -> torch.Tensor:
        self.check_ws(ws)
        self.check_noise_mode(noise_mode)  # accepted for the interface; this network has no noise
        x = ws[:, 0].reshape(ws.shape[0], self.z_dim, 1, 1)
        for block in self._blocks:
            x = torch.relu(getattr(self, block.name)(x))
            if block.name == stop_after:
                break
        return x


def fold_tutorial_state_dict(state_dict: dict[str, torch.Tensor], config: DCGANConfig) -> dict[str, torch.Tensor]:
    """The tutorial Generator's state dict (`main.0.weight`, `main.1.running_mean`, ...) -> ours.

    Each ConvTranspose2d (no bias) + BatchNorm2d pair becomes one ConvTranspose2d with bias that
    computes BatchNorm's inference output: scale = gamma / sqrt(running_var + eps) per output
    channel, weight' = weight * scale, bias = beta - running_mean * scale. Folding is done in
    float64 and stored as float32.
    """
    expected = DCGANGenerator(config).state_dict()
    out: dict[str, torch.Tensor] = {}
    for name, (conv_i, bn_i) in _TUTORIAL_LAYERS.items():
        weight = _take(state_dict, f"main.{conv_i}.weight").double()  # [in, out, 4, 4]
        gamma = _take(state_dict, f"main.{bn_i}.weight").double()
        beta = _take(state_dict, f"main.{bn_i}.bias").double()
        mean = _take(state_dict, f"main.{bn_i}.running_mean").double()
        var = _take(state_dict, f"main.{bn_i}.running_var").double()
        scale = gamma / torch.sqrt(var + config.bn_eps)  # [out]
        out[f"{name}.weight"] = (weight * scale[None, :, None, None]).float()
        out[f"{name}.bias"] = (beta - mean * scale).float()
    out["to_rgb.weight"] = _take(state_dict, f"main.{_TUTORIAL_TO_RGB}.weight").float()

    for key, tensor in out.items():
        if tensor.shape != expected[key].shape:
            raise ValueError(
                f"tutorial weights do not fit {config}: {key} is {list(tensor.shape)}, "
                f"expected {list(expected[key].shape)}"
            )
    return out


def _take(state_dict: dict[str, torch.Tensor], key: str) -> torch.Tensor:
    if key not in state_dict:
        raise ValueError(f"not a DCGAN tutorial generator state dict: '{key}' is missing")
    return state_dict[key]
