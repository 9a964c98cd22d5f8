"""Pivotal tuning (PTI, Roich et al. 2022): fit the generator's weights so that the pivot latent
reproduces the target exactly, keeping the latent fixed.

1. A copy of G carries the pivot's noise maps (when the pivot is a Projection); the caller's G
   is never modified.
2. Adam (lr `config.lr`) over every parameter of the copy; parameters that do not influence
   synthesis(pivot) (the mapping network) get no gradient and stay exactly as they were.
3. Loss: l2_weight * MSE + perceptual_weight * backbone distance, both of the image as
   displayed (clipped, gradient passed straight through; `clip_images`) against the target;
   the loop stops, before stepping, once the distance is below `stop_distance` and the PSNR is
   at least `stop_psnr`.
4. Optional locality regulariser (PTI's, off by default): a latent w_r = pivot + alpha *
   (w_z - pivot) / |w_z - pivot| for a fresh w_z = mapping(z, psi) each step; penalise
   (locality_l2_weight * MSE + locality_perceptual_weight * distance) between the tuned and the
   original generator at w_r, so edits far from the pivot behave as before.
"""
from __future__ import annotations

import copy
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from pipeline.common.precision import autocast_bf16
from pipeline.gan.interface import LatentGenerator

from .invert_config import PTIConfig
from .descent import checked_step
from .fidelity import as_displayed, check_target, reconstruction_metrics
from .noise import write_noise
from .perceptual import PerceptualDistance, load_perceptual
from .project import Projection, StepClock

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class TunedGenerator:
    """The tuned copy of the generator and how it got there."""

    G: LatentGenerator  # tuned copy (eval, no grad) on the device it was tuned on, pivot's noise maps inside
    ws: torch.Tensor  # [1, num_ws, w_dim] CPU: the pivot it reproduces
    image: torch.Tensor  # [1, C, H, W] CPU, about [-1, 1]: G.synthesis(ws)
    steps: int  # Adam steps run
    stop_reason: str  # 'max_steps' or 'target_reached' (distance and PSNR stops both met)
    final: dict  # perceptual, mse, psnr (dB) of `image` against the target
    history: dict[str, list[float]] = field(repr=False)  # per evaluation: loss, perceptual, mse, locality
    backbone: dict = field(repr=False)  # PerceptualDistance.info
    config: dict = field(repr=False)  # PTIConfig.to_dict()
    seconds: float = 0.0  # wall time of the tuning
    seconds_per_step: float = 0.0  # mean wall time of one Adam step, first (warm-up) step excluded when possible

    def report(self) -> dict:
        return {"steps": self.steps, "stop_reason": self.stop_reason, "final": self.final,
                "seconds": round(self.seconds, 3), "seconds_per_step": round(self.seconds_per_step, 5),
                "backbone": self.backbone, "config": self.config,
                "losses": {k: [round(v, 6) for v in vals] for k, vals in self.history.items()}}


def pivotal_tune(
    G: LatentGenerator,
    pivot: Projection | torch.Tensor,
    target: torch.Tensor,
    *,
    config: PTIConfig = PTIConfig(),
    device: torch.device,
    perceptual: PerceptualDistance | None = None,
    progress: bool = True,
    on_step: Callable[[int, int], None] | None = None,  # (steps done, steps at most) after each step
) -> TunedGenerator:
    """Tune a copy of G so that the pivot renders target [1, C, H, W] in [-1, 1].

    pivot: a Projection (its noise maps are carried over) or ws [1, num_ws, w_dim].
    """
    # 1. Inputs, backbone, the copy to tune (and the frozen original for the regulariser).
    check_target(target, channels=G.img_channels, resolution=G.img_resolution)
    noise = pivot.noise if isinstance(pivot, Projection) else {}
    ws = (pivot.ws if isinstance(pivot, Projection) else pivot).detach().to(device, torch.float32)
    G.check_ws(ws)
    if ws.shape[0] != 1:
        raise ValueError(f"the pivot must be one latent [1, {G.num_ws}, {G.w_dim}], got {list(ws.shape)}")
    perceptual = perceptual if perceptual is not None else load_perceptual(config.backbone, device=device)
    target = target.to(device, torch.float32)
    tuned = copy.deepcopy(G).to(device)
    write_noise(tuned, noise)
    tuned.eval().requires_grad_(True)
    original = copy.deepcopy(tuned).requires_grad_(False) if config.locality_weight > 0 else None
    gen = torch.Generator().manual_seed(config.seed)
    start = time.perf_counter()

    with torch.no_grad():
        target_feats = perceptual.features(target)
    optimizer = torch.optim.Adam(_param_groups(tuned, config), lr=config.lr)
    history: dict[str, list[float]] = {k: [] for k in ("loss", "perceptual", "mse", "locality")}
    stop_reason, adam_steps = "max_steps", 0

    # 2. Adam steps over the weights.
    clock = StepClock()
    bar = tqdm(range(config.num_steps), desc="pti", disable=not progress, leave=False)
    for step in bar:
        clock.tick()
        img, dist, mse = _fit_terms(tuned, ws, target, target_feats, perceptual, config, torch.device(device))
        history["perceptual"].append(dist.item())
        history["mse"].append(mse.item())
        if _target_reached(history, config):
            stop_reason = "target_reached"
            history["loss"].append((config.l2_weight * mse + config.perceptual_weight * dist).item())
            history["locality"].append(0.0)
            break
        loss = config.l2_weight * mse + config.perceptual_weight * dist
        locality = img.new_zeros(())
        if original is not None:
            locality = _locality(tuned, original, ws, config, perceptual, gen)
        loss = loss + config.locality_weight * locality
        checked_step(optimizer, loss, stage="pivotal tuning", step=step, lr=config.lr, fix="lower the PTI learning rate")
        adam_steps += 1
        history["loss"].append(loss.item())
        history["locality"].append(locality.item())
        if step % 10 == 0:
            bar.set_postfix(dist=f"{history['perceptual'][-1]:.4f}", mse=f"{history['mse'][-1]:.5f}")
        if on_step is not None:
            on_step(step + 1, config.num_steps)
    bar.close()
    clock.tick()

    # 3. The tuned generator, frozen, and its reconstruction.
    tuned.eval().requires_grad_(False)
    with torch.no_grad():
        image = tuned.synthesis(ws, noise_mode="const")
        final = reconstruction_metrics(image, target, perceptual)
    seconds = time.perf_counter() - start
    logger.info("pivotal tuning: %d steps, stopped by %s, perceptual %.4f, PSNR %.2f dB, %.1f s",
                adam_steps, stop_reason, final["perceptual"], final["psnr"], seconds)
    return TunedGenerator(
        G=tuned, ws=ws.cpu(), image=image.cpu(), steps=adam_steps, stop_reason=stop_reason, final=final,
        history=history, backbone=dict(perceptual.info), config=config.to_dict(), seconds=seconds,
        seconds_per_step=clock.mean(),
    )


def _fit_terms(tuned: LatentGenerator, ws: torch.Tensor, target: torch.Tensor, target_feats: list, perceptual,
               config: PTIConfig, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(image as compared, perceptual distance, MSE) of the tuned generator at the pivot."""
    with autocast_bf16(device, config.bf16):  # one region per step (see common/precision.py)
        img = tuned.synthesis(ws, noise_mode="const")
        if config.clip_images:
            img = as_displayed(img)
        dist = perceptual.distance(perceptual.features(img), target_feats).sum().float()
        mse = F.mse_loss(img.float(), target)
    return img, dist, mse


def _target_reached(history: dict[str, list[float]], config: PTIConfig) -> bool:
    """The early stop: distance under stop_distance and PSNR at least stop_psnr (before stepping)."""
    if config.stop_distance <= 0 or history["perceptual"][-1] >= config.stop_distance:
        return False
    return config.stop_psnr <= 0 or _mse_psnr(history["mse"][-1]) >= config.stop_psnr


def _param_groups(G: LatentGenerator, config: PTIConfig) -> list[dict]:
    """One Adam group per tensor; with config.relative_lr a weight tensor's lr is lr x its RMS.

    Adam moves every coordinate by about lr per step, whatever its scale. NVIDIA's StyleGAN2
    stores weights at unit scale and applies the equalised-lr gain at run time, so one lr suits
    all; exports such as MobileStyleGAN store the scaled weights (RMS 0.04 for a pointwise conv,
    5 for a depthwise one), where one lr either freezes some or blows up others. Weights
    (2 or more dims) therefore step by lr x RMS, biases (1 dim, never gain-scaled) by lr, and
    scalars (noise strengths, RMS 0.0002-0.005) by lr x |value| (measured: one lr of 5e-4 on them
    covered the tuned face in a grain texture).
    """
    groups = []
    for p in G.parameters():
        if not p.requires_grad:
            continue
        scale = 1.0
        if config.relative_lr and p.ndim != 1:
            scale = float(p.detach().float().square().mean().sqrt())
        groups.append({"params": [p], "lr": config.lr * scale})
    return groups


def _mse_psnr(mse: float) -> float:
    """PSNR in dB of images in [-1, 1] (peak-to-peak 2) from their MSE."""
    return float("inf") if mse <= 0 else 10 * math.log10(4.0 / mse)


def _locality(
    tuned: LatentGenerator, original: LatentGenerator, ws: torch.Tensor, config: PTIConfig,
    perceptual: PerceptualDistance, gen: torch.Generator,
) -> torch.Tensor:
    """PTI's locality regulariser at one random latent `locality_alpha` away from the pivot."""
    z = torch.randn(1, original.z_dim, generator=gen).to(ws.device)
    with torch.no_grad():
        w_z = original.mapping(z, truncation_psi=config.locality_psi)  # [1, num_ws, w_dim]
        direction = w_z - ws
        w_r = ws + config.locality_alpha * direction / direction.norm().clamp_min(1e-8)
        reference = original.synthesis(w_r, noise_mode="const")
    img = tuned.synthesis(w_r, noise_mode="const")
    return (config.locality_l2_weight * F.mse_loss(img, reference)
            + config.locality_perceptual_weight * perceptual(img, reference).sum())
