#!/usr/bin/env python3
"""A drag step written the way the official DragGAN renderer computes it, to compare against.

`ReferenceDrag.step()` per iteration: one FULL synthesis (the image is rendered every step); the
feature block's output, captured on the way, is resized bilinearly (align_corners False) to the
whole image; tracking searches windows of that upsampled map; motion supervision indexes the
upsampled map on the disc and `grid_sample`s it (align_corners True) at q - d, detached, as the
official code does; the mask term is an L1 over the whole upsampled map. Two of the official
faults are left out so that the loops can be compared at all: the pixel grid is unit-spaced and
the loop has a step cap. The stop distance is taken from our settings so that "steps to converge"
means the same thing for both.

Run as a script it compares convergence of `pipeline.drag.drag` and this reference on the same
drags (the measured effect of our deviations, quoted in pipeline/drag/engine.py):

    python -m bench.drag_reference [--model M] [--n 20] [--set key=value ...]
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from bench.evaluation.script_args import add_device_argument
from pipeline.drag import DragConfig, drag, resolve_settings
from pipeline.gan import LatentGenerator, seeded_z


class ReferenceDrag:
    """The official per-step computation for one drag; points (x, y) publicly, [row, col] inside."""

    def __init__(
        self, G: LatentGenerator, ws: torch.Tensor, handles, targets, *, mask=None, config: DragConfig = DragConfig(),
    ) -> None:
        s = resolve_settings(config, G, len(handles))
        self.G, self.s = G, s
        self.size = G.img_resolution
        self.r1 = round(config.r1_at_512 / 512 * self.size)  # official rounding, no floor
        self.r2 = round(config.r2_at_512 / 512 * self.size)
        if self.size < 256:  # the floors our config applies; without them a 64 px model has r1 = 0
            self.r1, self.r2 = max(self.r1, round(s.r1)), max(self.r2, round(s.r2))
        k = s.num_optimized_ws
        self.w = ws[:, :k].detach().clone().requires_grad_(True)
        self.w_fixed = ws[:, k:].detach().clone()
        self.opt = torch.optim.Adam([self.w], lr=s.lr)
        self.points = [[int(round(y)), int(round(x))] for x, y in handles]  # [row, col]
        self.targets = [[int(round(y)), int(round(x))] for x, y in targets]
        self.mask_fixed = None
        if mask is not None:
            self.mask_fixed = (1 - torch.as_tensor(mask, dtype=torch.float32))[None, None].to(ws.device)
        self.feat_refs = None
        self.feat0_resize = None
        self.stop = False
        self.grid_y, self.grid_x = torch.meshgrid(
            torch.arange(self.size, device=ws.device, dtype=torch.float32),
            torch.arange(self.size, device=ws.device, dtype=torch.float32), indexing="ij",
        )
        self._captured = None
        self._hook = None
        block_module = getattr(getattr(G, "synthesis_net", None), s.feature_block, None)
        if block_module is not None:  # StyleGAN2: capture the block output during the full synthesis
            self._hook = block_module.register_forward_hook(self._capture)

    def _capture(self, module, inputs, output) -> None:
        self._captured = output[0]

    def close(self) -> None:
        if self._hook is not None:
            self._hook.remove()

    def features_and_image(self) -> tuple[torch.Tensor, torch.Tensor]:
        ws = torch.cat([self.w, self.w_fixed], dim=1)
        if self._hook is not None:
            img = self.G.synthesis(ws, noise_mode=self.s.noise_mode)
            return self._captured, img
        # Other architectures: the same two results, from two calls.
        return self.G.synthesis_features(ws, self.s.feature_block), self.G.synthesis(ws).detach()

    def step(self, update: bool = True) -> bool:
        """One official iteration (tracking, losses, Adam step unless `update` is False);
        returns False once every handle is within the stop distance."""
        feat, _img = self.features_and_image()
        h = w = self.size
        feat_resize = F.interpolate(feat, [h, w], mode="bilinear", align_corners=False)
        if self.feat_refs is None:
            self.feat0_resize = feat_resize.detach()
            self.feat_refs = [self.feat0_resize[:, :, py, px] for py, px in self.points]
        with torch.no_grad():
            for j, (py, px) in enumerate(self.points):
                up, down = max(py - self.r2, 0), min(py + self.r2 + 1, h)
                left, right = max(px - self.r2, 0), min(px + self.r2 + 1, w)
                patch = feat_resize[:, :, up:down, left:right]
                dist = torch.linalg.norm(patch - self.feat_refs[j].reshape(1, -1, 1, 1), dim=1)
                idx = int(torch.argmin(dist.view(1, -1), dim=-1).item())
                width = right - left
                self.points[j] = [idx // width + up, idx % width + left]
        loss = feat_resize.new_zeros(())
        self.stop = True
        for (py, px), (ty, tx) in zip(self.points, self.targets):
            direction = torch.tensor([tx - px, ty - py], dtype=torch.float32, device=feat.device)
            norm = float(torch.linalg.norm(direction))
            if norm > self.s.stop_distance:
                self.stop = False
            if norm > 1:
                distance = ((self.grid_y - py) ** 2 + (self.grid_x - px) ** 2).sqrt()
                relis, reljs = torch.where(distance < self.r1)
                direction = direction / (norm + 1e-7)
                gridh = (relis - direction[1]) / (h - 1) * 2 - 1
                gridw = (reljs - direction[0]) / (w - 1) * 2 - 1
                grid = torch.stack([gridw, gridh], dim=-1).unsqueeze(0).unsqueeze(0)
                target = F.grid_sample(feat_resize.float(), grid, align_corners=True).squeeze(2)
                loss = loss + F.l1_loss(feat_resize[:, :, relis, reljs], target.detach())
        if self.mask_fixed is not None:
            loss = loss + self.s.lambda_mask * F.l1_loss(feat_resize * self.mask_fixed, self.feat0_resize * self.mask_fixed)
        if not self.stop and update:
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
        return not self.stop

    def handles_xy(self) -> list[tuple[float, float]]:
        return [(float(px), float(py)) for py, px in self.points]


def run_reference(G, ws, handles, targets, *, mask=None, config: DragConfig = DragConfig()) -> dict:
    ref = ReferenceDrag(G, ws, handles, targets, mask=mask, config=config)
    steps, started = 0, time.perf_counter()
    try:
        while True:
            moving = ref.step(update=steps < config.max_steps)
            if not moving or steps >= config.max_steps:
                break
            steps += 1
    finally:
        ref.close()
    final = ref.handles_xy()
    dist = [float(np.hypot(t[0] - h[0], t[1] - h[1])) for h, t in zip(final, targets)]
    return {"steps": steps, "converged": ref.stop, "distances": dist, "seconds": time.perf_counter() - started}


def main() -> int:
    from bench.demo_drag_rate import SUCCESS_PX, TRUNCATION, make_drags, parse_overrides

    from pipeline.common import resolve_device
    from pipeline.gan.loading import load_generator, resolve_model_arg

    ap = argparse.ArgumentParser(description="convergence of our drag vs the official-style step, same drags")
    ap.add_argument("--model", default="demo-face-64", help="registry name or checkpoint (default: the demo model, "
                                                              "on which the docstring's figures were measured)")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--base-seed", type=int, default=1000)
    ap.add_argument("--protocol-seed", type=int, default=0)
    add_device_argument(ap)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    device = resolve_device(args.device)
    G = load_generator(resolve_model_arg(args.model), device=device)
    config = DragConfig(**parse_overrides(args.set))
    rows = {"ours": [], "reference": []}
    for i, (handle, target) in enumerate(make_drags(args.n, G.img_resolution, args.protocol_seed)):
        with torch.no_grad():
            ws = G.mapping(seeded_z(args.base_seed + i, G.z_dim, device=device), truncation_psi=TRUNCATION)
        r = drag(G, ws, [handle], [target], config=config, device=device)
        rows["ours"].append((r.steps, r.distances[0]))
        ref = run_reference(G, ws, [handle], [target], config=config)
        rows["reference"].append((ref["steps"], ref["distances"][0]))
    print(f"{args.n} drags on {G.model_info.get('name', '?')}, settings {config}")
    print(f"{'':10s} {'reached':>8s} {'median steps':>13s} {'mean final px':>14s}")
    for name, vals in rows.items():
        steps, finals = np.array([v[0] for v in vals]), np.array([v[1] for v in vals])
        print(f"{name:10s} {np.mean(finals <= SUCCESS_PX) * 100:7.0f}% {np.median(steps):13.0f} {finals.mean():14.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
