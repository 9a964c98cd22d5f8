"""What StyleGAN2 and MobileStyleGAN share behind the interface: a mapping and a synthesis network.

Both keep their networks at `mapping.*` and `synthesis.*` in the state dict (NVIDIA's names),
while on the generator `mapping` and `synthesis` are the interface's methods: the submodules are
registered in `_modules` directly, so the state-dict names stay and attribute lookup still finds
the methods first.
"""
from __future__ import annotations

import torch
from torch import nn

from .interface import LatentGenerator


class StyleBasedGenerator(LatentGenerator):
    """A LatentGenerator over `mapping_net` (z -> w, holding `w_avg`) and `synthesis_net`.

    synthesis_net(ws, noise_mode) renders; synthesis_net.features(ws, resolution, noise_mode)
    stops after the block of that resolution.
    """

    def __init__(self, config, *, mapping: nn.Module, synthesis: nn.Module, first: str = "mapping") -> None:
        super().__init__()
        self.config = config
        self.z_dim, self.w_dim = config.z_dim, config.w_dim
        self.num_ws = config.num_ws
        self.img_resolution, self.img_channels = config.img_resolution, config.img_channels
        networks = {"mapping": mapping, "synthesis": synthesis}
        for name in (first, *(n for n in networks if n != first)):  # registration order = state-dict order
            self._modules[name] = networks[name]

    @property
    def mapping_net(self) -> nn.Module:
        return self._modules["mapping"]

    @property
    def synthesis_net(self) -> nn.Module:
        return self._modules["synthesis"]

    def check_z(self, z: torch.Tensor) -> None:
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must be [N, {self.z_dim}], got {list(z.shape)}")

    def synthesis(self, ws, noise_mode="const"):
        self.check_ws(ws)
        self.check_noise_mode(noise_mode)
        return self.synthesis_net(ws, noise_mode)

    def synthesis_features(self, ws, block, noise_mode="const"):
        self.check_ws(ws)
        self.check_noise_mode(noise_mode)
        return self.synthesis_net.features(ws, self.feature_block(block).resolution, noise_mode)

    @property
    def w_avg(self) -> torch.Tensor:
        return self.mapping_net.w_avg

    def config_dict(self) -> dict:
        return self.config.to_dict()
