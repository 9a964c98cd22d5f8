"""Paired image reconstruction (DragGAN paper, Table 2), on any generator behind the interface.

Protocol, pair i:
1. w1 = latent of seed + 2i (truncation 0.7); w2 = w1 moved `perturb_strength` of the way
   towards the latent of seed + 2i + 1, in its first `perturb_ws` W+ entries (the entries the
   default drag optimises, so image 2 is reachable by a drag; the paper does not say which).
2. Dense optical flow image 1 -> image 2 (OpenCV; optical_flow.py); `num_points` handles sampled where
   the flow is trusted, targets = handles + flow.
3. Drag from w1, handles -> targets, no mask. Compare the result with image 2: MSE on images in
   [0, 1] (the paper's table shows x 1e2) and a perceptual distance (x 10), both also for
   image 1 ("no edit") as the reference.
"""
from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm

from pipeline.common.image_tensors import tensors_to_images
from pipeline.drag import DragConfig, drag
from pipeline.gan import LatentGenerator

from .optical_flow import FLOW_METHODS, dense_flow, sample_flow_points
from .latents import perturb_ws, seed_ws

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class PairedProtocol:
    num_pairs: int = 20  # image pairs
    num_points: int = 32  # handles sampled from the flow (paper: 32)
    seed: int = 0  # pair i: latent seeds seed + 2i (w1) and seed + 2i + 1 (direction of the perturbation)
    truncation_psi: float = 0.7  # truncation of both latents
    noise_mode: str = "const"  # synthesis noise for both images and the drag
    perturb_strength: float = 0.3  # fraction of the way from w1 to the other latent, in [0, 1]
    perturb_ws: int = 6  # leading W+ entries perturbed (clipped to num_ws)
    flow_method: str = "farneback"  # 'farneback' or 'dis' (OpenCV)
    margin_at_512: float = 16.0  # px at 512 kept free at the border for handles and targets (at least 1 px)
    fb_tolerance_at_512: float = 4.0  # px at 512: forward-backward flow error allowed (at least 0.5 px)

    def __post_init__(self) -> None:
        if self.num_pairs < 1 or self.num_points < 1:
            raise ValueError(f"num_pairs and num_points must be >= 1, got {self.num_pairs}, {self.num_points}")
        if self.flow_method not in FLOW_METHODS:
            raise ValueError(f"flow_method must be one of {FLOW_METHODS}, got '{self.flow_method}'")
        if not 0 < self.perturb_strength <= 1:
            raise ValueError(f"perturb_strength must be in (0, 1], got {self.perturb_strength}")

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class PairedEdit:
    pair: int
    seeds: tuple[int, int]
    num_points: int  # handles actually sampled (fewer than asked when the flow is trusted at fewer pixels)
    mean_flow_px: float  # mean |target - handle| of the sampled points
    steps: int
    status: str
    seconds: float
    mse: float  # result vs image 2, images in [0, 1]
    perceptual: float | None  # result vs image 2; None without a backbone
    no_edit_mse: float  # image 1 vs image 2
    no_edit_perceptual: float | None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def run_paired_edits(
    G: LatentGenerator,
    protocol: PairedProtocol,
    *,
    config: DragConfig,
    device: torch.device,
    perceptual=None,  # callable (a, b) -> [N] on images [N, 3, H, W] in [-1, 1], or None
    progress: bool = True,
) -> tuple[list[PairedEdit], dict]:
    """(one edit per pair, the drag settings used)."""
    size = G.img_resolution
    margin = max(1.0, protocol.margin_at_512 * size / 512)
    tolerance = max(0.5, protocol.fb_tolerance_at_512 * size / 512)
    edits: list[PairedEdit] = []
    settings: dict = {}
    for i in tqdm(range(protocol.num_pairs), desc="paired drags", unit="edit", disable=not progress):
        seeds = (protocol.seed + 2 * i, protocol.seed + 2 * i + 1)
        # 1. The pair of latents and images.
        w1 = seed_ws(G, seeds[0], truncation_psi=protocol.truncation_psi, device=device)  # [1, num_ws, w_dim]
        other = seed_ws(G, seeds[1], truncation_psi=protocol.truncation_psi, device=device)
        w2 = perturb_ws(w1, other, strength=protocol.perturb_strength, num_entries=protocol.perturb_ws)
        with torch.no_grad():
            img1 = G.synthesis(w1, noise_mode=protocol.noise_mode)  # [1, 3, H, W] about [-1, 1]
            img2 = G.synthesis(w2, noise_mode=protocol.noise_mode)
        u1, u2 = tensors_to_images(img1)[0], tensors_to_images(img2)[0]
        # 2. Points from the flow.
        forward = dense_flow(u1, u2, method=protocol.flow_method)
        backward = dense_flow(u2, u1, method=protocol.flow_method)
        handles, targets = sample_flow_points(
            forward, backward, protocol.num_points, seed=protocol.seed + i, margin=margin, fb_tolerance=tolerance)
        if not handles:
            log.warning("pair %d: no pixel with a trusted flow; skipped", i)
            continue
        # 3. Drag and compare.
        result = drag(G, w1, handles, targets, config=config, device=device)
        settings = settings or result.settings.to_dict()
        out = result.image.clamp(-1, 1)
        edits.append(PairedEdit(
            pair=i, seeds=seeds, num_points=len(handles),
            mean_flow_px=float(np.mean(np.linalg.norm(np.subtract(targets, handles), axis=1))),
            steps=result.steps, status=result.status, seconds=result.seconds_total,
            mse=image_mse(out, img2), no_edit_mse=image_mse(img1, img2),
            perceptual=_perceptual(perceptual, out, img2), no_edit_perceptual=_perceptual(perceptual, img1, img2),
        ))
    return edits, settings


def image_mse(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean squared error of two images [N, C, H, W] in [-1, 1], measured on the [0, 1] scale."""
    if a.shape != b.shape:
        raise ValueError(f"image_mse needs images of one shape, got {list(a.shape)} and {list(b.shape)}")
    return float((((a.clamp(-1, 1) - b.clamp(-1, 1)) / 2) ** 2).mean())


def summarize(edits: list[PairedEdit]) -> dict:
    def mean(key: str) -> float | None:
        values = [getattr(e, key) for e in edits if getattr(e, key) is not None]
        return float(np.mean(values)) if values else None

    return {
        "edits": len(edits),
        "mse": mean("mse"), "perceptual": mean("perceptual"),
        "no_edit_mse": mean("no_edit_mse"), "no_edit_perceptual": mean("no_edit_perceptual"),
        "points_mean": mean("num_points"), "mean_flow_px": mean("mean_flow_px"),
        "steps_mean": mean("steps"), "steps_median": statistics.median(e.steps for e in edits) if edits else None,
        "converged_share": sum(e.status == "converged" for e in edits) / len(edits) if edits else None,
        "seconds_per_edit": mean("seconds"),
    }


def _perceptual(perceptual, a: torch.Tensor, b: torch.Tensor) -> float | None:
    if perceptual is None:
        return None
    with torch.no_grad():
        return float(perceptual(a, b).mean())
