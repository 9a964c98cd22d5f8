"""Projection: find the latent (and noise maps) with which a generator reproduces a target image.

NVIDIA's StyleGAN2 projector, generalised to W+ and to any LatentGenerator (REFERENCE.md 4):
1. w statistics: mean and spread of mapping(z) over `w_avg_samples` seeded z; the search starts
   at that mean (NVIDIA's w_avg; equal to G.w_avg for a trained model up to sampling error).
2. Per step t = step / num_steps: learning rate with a linear warm-up over `lr_rampup` and a
   cosine ramp-down over the last `lr_rampdown`; Gaussian noise of std
   w_std * initial_noise_factor * max(0, 1 - t / noise_ramp)^2 added to w (exploration).
3. Loss: perceptual distance to the target (+ optional pixel MSE), both of the image as
   displayed (clipped to [-1, 1], gradient passed straight through; `clip_images`), + the
   noise maps' autocorrelation penalty; Adam over w and the noise maps; noise maps renormalised after
   each step. Noise maps are found by the rule in noise.py (`*.noise_const` buffers); they
   start as seeded white noise, as NVIDIA's.
4. Early stop when the mean fit loss (perceptual + pixel, without the noise penalty) of the
   last `plateau_window` steps improved on the window before by less than `plateau_tolerance`
   (relative); a NaN/inf loss stops with an error.

Space: 'w+' optimises one w per layer, 'w' one w repeated num_ws times; a generator with
num_ws == 1 (the DCGAN, whose latent is z) has a single latent entry and no distinction.
"""
from __future__ import annotations

import copy
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from pipeline.common.precision import autocast_bf16
from pipeline.gan.interface import LatentGenerator

from .invert_config import ProjectConfig
from .descent import checked_step
from .fidelity import as_displayed, check_target, reconstruction_metrics
from .noise import noise_buffers, noise_regularizer, normalize_noise_, with_noise, write_noise
from .perceptual import PerceptualDistance, load_perceptual

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Projection:
    """What the projector found; tensors on the CPU."""

    ws: torch.Tensor  # [1, num_ws, w_dim], the latent (without the exploration noise)
    noise: dict[str, torch.Tensor]  # noise-map buffer name -> map; {} when G has none or they were kept
    image: torch.Tensor  # [1, C, H, W] in about [-1, 1]: G with `noise` rendering `ws`
    space: str  # 'w' or 'w+'
    steps: int  # Adam steps run
    stop_reason: str  # 'max_steps' or 'plateau'
    final: dict  # perceptual, mse, psnr (dB) of `image` against the target
    history: dict[str, list[float]] = field(repr=False)  # per step: loss, fit, perceptual, pixel, noise_reg, lr
    backbone: dict = field(repr=False)  # PerceptualDistance.info
    config: dict = field(repr=False)  # ProjectConfig.to_dict()
    seconds: float = 0.0  # wall time of the search
    seconds_per_step: float = 0.0  # mean wall time of one Adam step, first (warm-up) step excluded when possible

    def generator(self, G: LatentGenerator) -> LatentGenerator:
        """A copy of G carrying this projection's noise maps (G itself is untouched)."""
        return with_noise(G, self.noise)

    def report(self) -> dict:
        """JSON-able summary: settings, steps, distances, time, backbone."""
        return {"space": self.space, "steps": self.steps, "stop_reason": self.stop_reason, "final": self.final,
                "seconds": round(self.seconds, 3), "seconds_per_step": round(self.seconds_per_step, 5),
                "backbone": self.backbone, "config": self.config,
                "losses": {k: [round(v, 6) for v in vals] for k, vals in self.history.items() if k != "lr"}}


def project(
    G: LatentGenerator,
    target: torch.Tensor,
    *,
    config: ProjectConfig = ProjectConfig(),
    device: torch.device,
    perceptual: PerceptualDistance | None = None,
    start: Projection | None = None,
    progress: bool = True,
    on_step: Callable[[int, int], None] | None = None,  # (steps done, steps at most) after each step
) -> Projection:
    """Search the latent of `target` [1, C, H, W] in [-1, 1] (H = W = G.img_resolution).

    G is never modified: the search runs on a copy. `perceptual` overrides config.backbone.
    `start`: continue from an earlier projection (its latent, and its noise maps) instead of the
    mean latent, e.g. a W+ search from a W result.
    """
    # 1. Inputs, backbone, a private copy of G (its noise buffers get overwritten).
    check_target(target, channels=G.img_channels, resolution=G.img_resolution)
    perceptual = perceptual if perceptual is not None else load_perceptual(config.backbone, device=device)
    G = copy.deepcopy(G).eval().requires_grad_(False).to(device)
    if start is not None:
        write_noise(G, start.noise)
    target = target.to(device, torch.float32)
    space = "w" if G.num_ws == 1 else config.space
    gen = torch.Generator().manual_seed(config.seed)
    began = time.perf_counter()

    # 2. Start point and spread of w.
    # A continued stage without exploration noise needs neither (the mapping samples cost a pass).
    w_std = 0.0
    if start is None or config.initial_noise_factor > 0:
        w_avg, w_std = w_statistics(G, num_samples=config.w_avg_samples, seed=config.seed, device=device)
    w_start = w_avg if start is None else start.ws.to(device)[:, :1] if space == "w" else start.ws.to(device)
    w_opt = _expand(w_start, G.num_ws if space == "w+" else 1).clone().requires_grad_(True)  # [1, entries, w_dim]

    # 3. Noise maps: seeded white noise (or the start's maps), optimised with w.
    maps = list(noise_buffers(G).values()) if config.optimize_noise else []
    for m in maps:
        if start is None or not start.noise:
            m.copy_(torch.randn(m.shape, generator=gen))
        m.requires_grad_(True)

    # 4. Adam steps.
    history, stop_reason, clock = _descend(G, w_opt, maps, target, config, perceptual, w_std=w_std, device=device,
                                           gen=gen, desc=f"project {space}", progress=progress,
                                           on_step=on_step)

    # 5. The result without the exploration noise.
    for m in maps:
        m.requires_grad_(False)
    with torch.no_grad():
        ws = _expand(w_opt.detach(), G.num_ws)
        image = G.synthesis(ws, noise_mode="const")
        final = reconstruction_metrics(image, target, perceptual)
    seconds = time.perf_counter() - began
    logger.info("projection (%s): %d steps, stopped by %s, perceptual %.4f, PSNR %.2f dB, %.1f s",
                space, len(history["loss"]), stop_reason, final["perceptual"], final["psnr"], seconds)
    if maps:
        noise = {name: buf.detach().cpu().clone() for name, buf in noise_buffers(G).items()}
    else:  # the maps G (or the start) rendered with
        noise = dict(start.noise) if start is not None else {}
    return Projection(
        ws=ws.cpu(), noise=noise, image=image.cpu(), space=space, steps=len(history["loss"]),
        stop_reason=stop_reason, final=final, history=history, backbone=dict(perceptual.info),
        config=config.to_dict(), seconds=seconds, seconds_per_step=clock.mean(),
    )


def _descend(
    G: LatentGenerator, w_opt: torch.Tensor, maps: list[torch.Tensor], target: torch.Tensor, config: ProjectConfig,
    perceptual: PerceptualDistance, *, w_std: float, device: torch.device, gen: torch.Generator, desc: str,
    progress: bool, on_step: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, list[float]], str, "StepClock"]:
    """The Adam loop over w_opt (and the noise maps): (per-step history, stop reason, clock)."""
    targets = _target_features(perceptual, target, config)
    optimizer = torch.optim.Adam([w_opt] + maps, lr=config.initial_lr, betas=(0.9, 0.999))
    history: dict[str, list[float]] = {k: [] for k in ("loss", "fit", "perceptual", "pixel", "noise_reg", "lr")}
    stop_reason = "max_steps"
    clock = StepClock()
    bar = tqdm(range(config.num_steps), desc=desc, disable=not progress, leave=False)
    for step in bar:
        clock.tick()
        t = step / config.num_steps
        lr = config.initial_lr * _lr_ramp(t, config.lr_rampup, config.lr_rampdown)
        for group in optimizer.param_groups:
            group["lr"] = lr
        w_noise_scale = w_std * config.initial_noise_factor * max(0.0, 1.0 - t / config.noise_ramp) ** 2
        w_noise = torch.randn(w_opt.shape, generator=gen).to(device) * w_noise_scale
        with autocast_bf16(device, config.bf16):  # one region per step (see common/precision.py)
            img = G.synthesis(_expand(w_opt + w_noise, G.num_ws), noise_mode="const")
            terms = _loss_terms(img, target, targets, maps, config, perceptual, coarse=t < config.coarse_fraction)
        terms = {k: v.float() for k, v in terms.items()}
        checked_step(optimizer, terms["loss"], stage="projection", step=step, lr=lr,
                     fix="lower the learning rate or check the generator's weights")
        normalize_noise_(maps)
        for key, value in terms.items():
            history[key].append(value.detach().item())
        history["lr"].append(lr)
        if step % 10 == 0 or step == config.num_steps - 1:
            bar.set_postfix(dist=f"{history['perceptual'][-1]:.4f}", loss=f"{history['loss'][-1]:.4f}")
        if on_step is not None:
            on_step(step + 1, config.num_steps)
        # The fit alone: the noise penalty (1e5 x ~0.06 for a fresh 4x4 map) would dominate the total.
        if _plateaued(history["fit"], config.plateau_window, config.plateau_tolerance):
            stop_reason = "plateau"
            break
    bar.close()
    clock.tick()
    return history, stop_reason, clock


def _target_features(perceptual: PerceptualDistance, target: torch.Tensor, config: ProjectConfig) -> dict:
    """The target's features at the fine (and coarse) resolution, computed once."""
    if config.perceptual_weight == 0:
        return {}
    with torch.no_grad():
        out = {"fine": perceptual.features(target, resolution=config.perceptual_resolution)}
        if config.coarse_fraction > 0:
            out["coarse"] = perceptual.features(target, resolution=config.coarse_resolution)
    return out


def _loss_terms(img: torch.Tensor, target: torch.Tensor, targets: dict, maps: list[torch.Tensor],
                config: ProjectConfig, perceptual: PerceptualDistance, *, coarse: bool) -> dict[str, torch.Tensor]:
    """loss = perceptual (coarse or fine resolution) + pixel MSE + noise penalty, and its parts."""
    if config.clip_images:
        img = as_displayed(img)
    zero = img.new_zeros(())
    dist = zero
    if targets:
        key, res = ("coarse", config.coarse_resolution) if coarse else ("fine", config.perceptual_resolution)
        dist = perceptual.distance(perceptual.features(img, resolution=res), targets[key]).sum()
    pixel = F.mse_loss(img, target) if config.pixel_weight > 0 else zero
    reg = noise_regularizer(maps) if maps else zero
    fit = config.perceptual_weight * dist + config.pixel_weight * pixel
    return {"loss": fit + config.regularize_noise_weight * reg, "fit": fit, "perceptual": dist, "pixel": pixel,
            "noise_reg": reg}


@torch.no_grad()
def w_statistics(
    G: LatentGenerator, *, num_samples: int, seed: int, device: torch.device, batch: int = 1000
) -> tuple[torch.Tensor, float]:
    """(w_avg [1, 1, w_dim], w_std): mean of mapping(z) entry 0 over seeded z, and the RMS distance to it."""
    z = torch.from_numpy(np.random.RandomState(seed).randn(num_samples, G.z_dim)).float()
    w = torch.cat([G.mapping(z[i:i + batch].to(device))[:, :1] for i in range(0, num_samples, batch)])  # [N, 1, w_dim]
    w_avg = w.mean(0, keepdim=True)
    w_std = float(((w - w_avg).square().sum() / num_samples).sqrt())
    return w_avg, w_std


class StepClock:
    """Mean seconds per loop step from tick() at each step's start and once after the loop."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def tick(self) -> None:
        self.times.append(time.perf_counter())

    def mean(self) -> float:
        t = self.times[1:] if len(self.times) > 2 else self.times  # skip the warm-up step when there are others
        return (t[-1] - t[0]) / (len(t) - 1) if len(t) > 1 else 0.0


def _expand(w: torch.Tensor, num_ws: int) -> torch.Tensor:
    """[1, 1 or num_ws, w_dim] -> [1, num_ws, w_dim]."""
    return w if w.shape[1] == num_ws else w.repeat(1, num_ws, 1)


def _lr_ramp(t: float, rampup: float, rampdown: float) -> float:
    ramp = min(1.0, (1.0 - t) / rampdown)
    ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
    return ramp * min(1.0, t / rampup)


def _plateaued(losses: list[float], window: int, tolerance: float) -> bool:
    """True when the last `window` losses improved on the `window` before by less than `tolerance` (relative)."""
    n = len(losses)
    if window <= 0 or n < 2 * window or n % window:
        return False
    previous = sum(losses[-2 * window:-window]) / window
    current = sum(losses[-window:]) / window
    return previous - current < tolerance * abs(previous)
