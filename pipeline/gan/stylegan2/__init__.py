"""StyleGAN2 (NVIDIA's architecture, our code): config, layers, networks."""
from .stylegan2_config import StyleGAN2Config
from .networks import StyleGAN2Generator

__all__ = ["StyleGAN2Config", "StyleGAN2Generator"]
