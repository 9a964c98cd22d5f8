"""Per-layer noise maps of a generator, found by one documented rule: buffers named `*.noise_const`.

A generator whose synthesis adds fixed per-layer noise in noise_mode 'const' keeps each map in a
buffer whose name ends in `.noise_const` (StyleGAN2: `synthesis.b{R}.conv{0,1}.noise_const`,
[R, R]). Inversion may replace these maps (the projector optimises them), so a reconstruction is
(generator weights, noise maps, ws). Generators without such buffers (the DCGAN) simply have no
noise maps. Nothing here knows any architecture's classes.
"""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

NOISE_SUFFIX = ".noise_const"


def noise_buffer_names(G: nn.Module) -> list[str]:
    return [name for name, _ in G.named_buffers() if name.endswith(NOISE_SUFFIX)]


def noise_buffers(G: nn.Module) -> dict[str, torch.Tensor]:
    """name -> the live buffer tensor (writing into it changes G's 'const' noise)."""
    return {name: buf for name, buf in G.named_buffers() if name.endswith(NOISE_SUFFIX)}


def with_noise(G: nn.Module, noise: dict[str, torch.Tensor]) -> nn.Module:
    """A deep copy of G whose noise maps are `noise` (G itself is untouched); {} keeps G's maps."""
    out = copy.deepcopy(G)
    write_noise(out, noise)
    return out


def write_noise(G: nn.Module, noise: dict[str, torch.Tensor]) -> None:
    """Copy `noise` into G's noise buffers in place; names and shapes must match ({} changes nothing)."""
    if not noise:
        return
    bufs = noise_buffers(G)
    if set(noise) != set(bufs):
        raise ValueError(f"noise maps {sorted(noise)} do not match the generator's {sorted(bufs)}")
    with torch.no_grad():
        for name, value in noise.items():
            if value.shape != bufs[name].shape:
                raise ValueError(f"noise map {name} is {list(value.shape)}, the generator's {list(bufs[name].shape)}")
            bufs[name].copy_(value)


def noise_regularizer(maps: list[torch.Tensor]) -> torch.Tensor:
    """NVIDIA's projector penalty: squared autocorrelation at shifts of 1 px, over a pyramid down to 8x8."""
    total = 0
    for v in maps:
        v = v.reshape(1, 1, *v.shape[-2:])
        while True:
            across = (v * torch.roll(v, 1, dims=3)).mean().square()
            down = (v * torch.roll(v, 1, dims=2)).mean().square()
            total = total + across + down
            if v.shape[2] <= 8:
                break
            v = F.avg_pool2d(v, 2)
    return total


def normalize_noise_(maps: list[torch.Tensor]) -> None:
    """Zero mean, unit variance, in place (after every projector step)."""
    with torch.no_grad():
        for v in maps:
            v -= v.mean()
            v *= v.square().mean().rsqrt()
