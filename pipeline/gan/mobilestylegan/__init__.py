"""MobileStyleGAN (the `random-face` export, our code): config, blocks, generator, IR reader and converter."""
from .mobilestylegan_config import MobileStyleGANConfig
from .generator import MobileStyleGANGenerator

__all__ = ["MobileStyleGANConfig", "MobileStyleGANGenerator"]
