"""A latent prior for generators whose latent is a standard Gaussian z used as is (the demo DCGAN).

Adam moves every optimised coordinate by about lr per step whatever its gradient, so a 100-d z
drifts off the shell where Gaussian samples live (|z| about sqrt(z_dim), 7 for truncated demo
latents, 9 to 10 after 300 demo drag steps) and far from the start, which is where the demo model
stops drawing faces. After each step the optimised entries are put back on the sphere of their
start norm and into a cap around the start (|w - w_start| <= max_change * |w_start|). StyleGAN2's W is not Gaussian: off there.
"""
from __future__ import annotations

import math

import torch

from ..gan.interface import LatentGenerator


def is_gaussian_latent(G: LatentGenerator) -> bool:
    """True when ws is z itself (one entry, w_dim == z_dim, w_avg all zero): a Gaussian latent."""
    return G.num_ws == 1 and G.w_dim == G.z_dim and not bool(G.w_avg.abs().amax() > 0)


@torch.no_grad()
def project_latent(
    ws_free: torch.Tensor,  # [1, k, w_dim] optimised entries, modified in place
    ws_start: torch.Tensor,  # [1, k, w_dim] their values at the start of the drag
    *,
    shell: bool,  # put each entry back on the sphere of its start norm
    max_change: float,  # |w - w_start| <= max_change * |w_start| per entry; 0 = no cap
) -> None:
    start_norm = ws_start.norm(dim=-1, keepdim=True)  # [1, k, 1]
    if shell:
        ws_free.mul_(start_norm / ws_free.norm(dim=-1, keepdim=True).clamp_min(1e-12))
        if max_change > 0:
            # On the sphere the region is a cap: the chord max_change * |w_start| is the angle below.
            max_angle = 2.0 * math.asin(min(max_change / 2.0, 1.0))
            u = ws_start / start_norm.clamp_min(1e-12)
            v = ws_free / start_norm.clamp_min(1e-12)
            cos = (u * v).sum(dim=-1, keepdim=True).clamp(-1.0, 1.0)
            ortho = v - cos * u
            ortho = ortho / ortho.norm(dim=-1, keepdim=True).clamp_min(1e-12)
            capped = start_norm * (math.cos(max_angle) * u + math.sin(max_angle) * ortho)
            ws_free.copy_(torch.where(torch.acos(cos) > max_angle, capped, ws_free))
    elif max_change > 0:
        delta = ws_free - ws_start
        limit = max_change * start_norm
        shrink = (limit / delta.norm(dim=-1, keepdim=True).clamp_min(1e-12)).clamp(max=1.0)
        ws_free.copy_(ws_start + delta * shrink)
