"""Generators: the LatentGenerator interface, StyleGAN2, MobileStyleGAN (default), the demo DCGAN, safe loaders, registry."""
from .architectures import build_generator
from .interface import FeatureBlock, LatentGenerator, seeded_z

__all__ = ["FeatureBlock", "LatentGenerator", "build_generator", "seeded_z"]
