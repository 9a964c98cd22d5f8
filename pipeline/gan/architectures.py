"""Build a generator module from (architecture name, config dict): the only place that maps names."""
from __future__ import annotations

from .interface import LatentGenerator

ARCHITECTURES = ("stylegan2", "mobilestylegan", "dcgan")


def build_generator(arch: str, config: dict) -> LatentGenerator:
    """A freshly initialised generator of `arch` built from its JSON config (weights not loaded)."""
    if arch == "stylegan2":
        from .stylegan2 import StyleGAN2Config, StyleGAN2Generator

        return StyleGAN2Generator(StyleGAN2Config.from_dict(config))
    if arch == "mobilestylegan":
        from .mobilestylegan import MobileStyleGANConfig, MobileStyleGANGenerator

        return MobileStyleGANGenerator(MobileStyleGANConfig.from_dict(config))
    if arch == "dcgan":
        from .dcgan import DCGANConfig, DCGANGenerator

        return DCGANGenerator(DCGANConfig.from_dict(config))
    raise ValueError(f"unknown generator architecture '{arch}': known are {', '.join(ARCHITECTURES)}")
