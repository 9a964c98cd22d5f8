"""MobileStyleGAN (the `random-face` export, our code): config, layers, networks, IR converter."""
from .config import MobileStyleGANConfig
from .networks import MobileStyleGANGenerator

__all__ = ["MobileStyleGANConfig", "MobileStyleGANGenerator"]
