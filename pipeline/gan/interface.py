"""The generator interface: all that drag, inversion and evaluation may assume of a generator.

Three implementations: StyleGAN2 (`stylegan2/`, W+ with `num_ws` entries), MobileStyleGAN
(`mobilestylegan/`, the default model, 23 W+ entries) and the demo DCGAN adapter (`dcgan.py`, a
single latent entry). Code outside `pipeline/gan/` must use only what is
declared here, never the internals of one architecture.

Conventions
- z:  [N, z_dim], standard normal.
- ws: [N, num_ws, w_dim]; for a single-latent generator num_ws == 1.
- images: [N, img_channels, H, W], float32, about [-1, 1] (not clipped).
- features: [N, C, h, w] of a named block; synthesis stops after that block.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch
from torch import nn

NOISE_MODES = ("const", "random", "none")


@dataclass(frozen=True)
class FeatureBlock:
    """A synthesis block whose output can serve as drag features."""

    name: str  # e.g. 'b128' for StyleGAN2, 'l3' for the DCGAN adapter
    channels: int  # C of the feature map
    resolution: int  # h == w of the feature map, px


class LatentGenerator(nn.Module, ABC):
    """A generator with a mapping to a (possibly multi-entry) latent and a stoppable synthesis."""

    arch: str = ""  # registry key of the architecture ('stylegan2', 'mobilestylegan', 'dcgan')
    z_dim: int
    w_dim: int
    num_ws: int
    img_resolution: int
    img_channels: int
    # Drag learning rate the paper uses for this model family (2e-3 FFHQ/AFHQCat/cars, else 1e-3);
    # loaders overwrite it from the checkpoint registry or the checkpoint's metadata.
    default_drag_lr: float = 1e-3
    # Set by the loaders (pipeline.gan.loading), never by the networks: where the weights came
    # from and how photos must be cropped for this model. Keys: name, format, sha256, path,
    # crop_convention ('ffhq' or 'template'), landmark_template ([68][2] floats in [0, 1] of the
    # crop, only for 'template'). Empty for a freshly built module.
    model_info: dict

    @abstractmethod
    def mapping(
        self, z: torch.Tensor, truncation_psi: float = 1.0, truncation_cutoff: int | None = None
    ) -> torch.Tensor:
        """z [N, z_dim] -> ws [N, num_ws, w_dim]."""

    @abstractmethod
    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        """ws [N, num_ws, w_dim] -> img [N, C, H, W], about [-1, 1]."""

    @abstractmethod
    def synthesis_features(self, ws: torch.Tensor, block: str, noise_mode: str = "const") -> torch.Tensor:
        """ws [N, num_ws, w_dim] -> features [N, C, h, w] of `block`; nothing above it is computed."""

    @property
    @abstractmethod
    def feature_blocks(self) -> tuple[FeatureBlock, ...]:
        """Blocks usable as features, from lowest to highest resolution."""

    @property
    @abstractmethod
    def w_avg(self) -> torch.Tensor:
        """[w_dim] centre of the latent distribution (truncation target, projection start)."""

    @abstractmethod
    def config_dict(self) -> dict:
        """JSON-able constructor arguments; `build_generator(arch, config)` rebuilds the module."""

    def __init__(self) -> None:
        super().__init__()
        self.model_info = {}

    # ---- helpers shared by every implementation -------------------------------------------
    def feature_block(self, name: str) -> FeatureBlock:
        for block in self.feature_blocks:
            if block.name == name:
                return block
        names = ", ".join(b.name for b in self.feature_blocks)
        raise ValueError(f"unknown feature block '{name}' for {self.arch}: choose one of {names}")

    def forward(self, z: torch.Tensor, truncation_psi: float = 1.0, noise_mode: str = "const") -> torch.Tensor:
        return self.synthesis(self.mapping(z, truncation_psi=truncation_psi), noise_mode=noise_mode)

    def check_ws(self, ws: torch.Tensor) -> None:
        if ws.ndim != 3 or ws.shape[1] != self.num_ws or ws.shape[2] != self.w_dim:
            raise ValueError(
                f"ws must be [N, {self.num_ws}, {self.w_dim}] for this generator, got {list(ws.shape)}"
            )

    @staticmethod
    def check_noise_mode(noise_mode: str) -> None:
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got '{noise_mode}'")

    def drag_defaults(self) -> dict:
        """DragConfig fields this model needs other than DragGAN's paper values, as measured for it ({}: the paper's)."""
        return {}

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def seeded_z(seed: int, z_dim: int, *, device: torch.device | str = "cpu") -> torch.Tensor:
    """[1, z_dim] from numpy's RandomState(seed), as DragGAN and NVIDIA's scripts draw it."""
    import numpy as np

    z = np.random.RandomState(seed).randn(1, z_dim)
    return torch.from_numpy(z).to(torch.float32).to(device)
