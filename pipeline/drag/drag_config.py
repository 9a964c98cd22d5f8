"""Drag hyperparameters, and the per-model settings they resolve to.

Lengths in `DragConfig` are given as the paper gives them, in pixels of a 512 px image, and are
scaled by H / 512 for the model at hand (as the official code does), then floored by the `min_*`
fields so that small models (64 px) still get a motion disc, a search window and a stop distance
the integer pixel grid can honour.

Small-model defaults, measured on the 64 px demo model with bench/demo_drag_rate.py (drags of
4-8 px; reached = final distance <= 1.5 px):
- feature block: a quarter of the image resolution (16x16 'l3'); 32x32 reached 0/12 and 8x8
  8/12 where 16x16 reached 10/12 (lr 3e-2, 120 steps);
- lr: the demo model needs 3e-2 (its registry entry must say so): 1e-3 reached 0/10 within 100
  steps, 1e-2 6/10, 2e-2 20/20 (300 steps, median 36), 3e-2 50/50 (median 34 steps), 5e-2 20/20
  (median 31). Adam moves every optimised coordinate by about lr per step; the DCGAN optimises
  one 100-d z (std 1) where StyleGAN2 optimises 6 x 512 W entries, so it needs larger steps;
- floors r1 >= 2 px and r2 >= 3 px: r1 >= 3 reached the same 20/20 but took more steps (median
  42 vs 31); r2 >= 4 did worse (6/12 vs 8/12 at lr 1e-2);
- tracking on the integer pixel grid: 0.5 px sub-pixel candidates did not help (6/12 at lr 1e-2);
- L2 tracking distance (the official code's), not L1 (the paper's): 50/50 vs 48/50 (one handle
  lost, 9 px off), same median steps.
The stop distance floor of 1 px is what integer tracking can reach short of an exact hit.
Caution: "reached" above is the tracker's own claim. Against dlib's landmarks re-detected on
the result (bench/landmark_drag.py) the tracker is off by about 2 px on this model (mean over
drag steps 5-60: 2.5 px with 5 points, more than the 2.9 px the landmarks have to move).

Latent prior (`latent_shell`, `max_latent_change`; latent_prior.py): off by default, an option
for Gaussian-latent generators (ws is z: the demo DCGAN). On the demo model, bench/landmark_drag.py
--pairs 20 (MD / no-edit MD for 1 / 5 / 68 points; faces lost over all 60 edits) against
bench/demo_drag_rate.py (50 drags of 4-8 px the tracker calls reached; issue 4 wants >= 80 %):
- no prior:                 0.60 / 0.72 / 0.75, 38 % lost (|z| 7 -> 9-10), 50/50 reached  <- default;
- shell only:               0.69 / 0.86 / 0.74, 33 % lost, 50/50 reached;
- shell, cap 0.6 x |z_start|: 0.59 / 0.89 / 0.72, 28 % lost, 43/50 reached;
- shell, cap 0.5 x |z_start|: 0.61 / 0.84 / 0.65, 23 % lost, 41/50 reached (`LATENT_PRIOR`);
- shell, cap 0.4 x |z_start|: 0.68 / 0.74 / 0.63, 17 % lost, 38/50 reached (identity change
  A->result 0.41 / 0.60 / 0.56; paired reconstruction MSE x1e2 1.36, no edit 0.79, no prior 2.32);
- shell, cap 0.3: 0.66 / 0.79 / 0.61, 13 % lost; cap 0.2: 0.59 / 0.77 / 0.67, 10 % lost (paired
  MSE 1.05), but a drag of more than about 4 px no longer moves.
Why off: on real photos (the product: `cli.py edit` with examples/points.json on the five shared
portraits, the same inversions) the share of the face that paste-back had to take from the render
was 0.05 / 0.54 / 0.72 / 0.00 / 0.21 (grace_hopper, portrait_a, astronaut, messi5, portrait_b)
without the prior and 0.47 / 0.56 / 0.63 / 0.00 / 0.21 with cap 0.5 (shell only: 0.57 / 0.59 /
0.66 / 0 / 0.21): a projected z is not a Gaussian sample, and the prior lengthened the example
edit from 14 to 70 steps and blurred its lower face. It also costs the short-drag rate.
The MD ratios do not move with the cap (20-pair noise); faces lost and how far a handle can go
do: the cap bounds the edit. 0.5 is the tightest cap that keeps issue 4's short-drag rate.
Issue 8's MD targets (0.35 / 0.45 / 0.55) are out of reach of every variant tried: the tracker,
not the prior, is what fails on this model.
Tried on 8 pairs and dropped (no gain in MD ratio or faces lost): lr 1e-2 and 3e-3; a penalty
on |z - z_start|^2; plain and normalised gradient descent instead of Adam; tracking on l4, on
l2+l3+l4 or l3+l4 concatenated, or on RGB patches; supervision on l2; r2 floor 2 px; r1 floor
4 px; an automatic mask around the handles (nothing moves: MD ratio 0.98-1.0).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..gan.interface import LatentGenerator

TRACKING_NORMS = ("l1", "l2")
NOISE_MODES = ("const", "random", "none")
# The official code takes its features from the 128x128 block for every model size.
OFFICIAL_FEATURE_RESOLUTION = 128
# Paper: stop distance 1 px for up to 5 points, 2 px for more.
MANY_POINTS = 5
# The latent prior for Gaussian-latent generators, as DragConfig fields (module docstring).
LATENT_PRIOR = {"latent_shell": True, "max_latent_change": 0.5}


@dataclass(frozen=True, kw_only=True)
class DragConfig:
    # Block whose output is the feature map F; None: `choose_feature_block` (128x128 block as the
    # official code, or a quarter of the image resolution for models under 256 px).
    feature_block: str | None = None
    r1_at_512: float = 3.0  # motion-supervision disc radius, px at 512 (paper r1)
    r2_at_512: float = 12.0  # tracking search half-width, px at 512 (paper r2)
    min_r1: float = 2.0  # px: floor on the scaled r1 (3/512*64 would be 0.4 px: no disc at all)
    min_r2: float = 3.0  # px: floor on the scaled r2
    stop_distance_at_512: float | None = None  # px at 512: converged when every handle is this close; None: model's (paper 1)
    stop_distance_many_at_512: float = 2.0  # px at 512, used with more than 5 points
    min_stop_distance: float = 1.0  # px: floor on the scaled stop distance (integer tracking)
    # image px: a handle keeps its motion term until it is this close, even past the stop distance
    # (official code: 1 px), so a handle that arrived first keeps closing in while the others move;
    # None: the stop distance (the handle is let go once it arrives)
    supervise_distance: float | None = 1.0
    lambda_mask: float | None = None  # weight of the fixed-region term; None: the model's (paper: 20)
    # With a mask: once the farthest handle got no closer for this many steps, lambda_mask halves
    # (down to min_lambda_mask), so the paper's locality holds wherever it lets the points move;
    # 0: never (official); None: the model's
    mask_relax_steps: int | None = None
    min_lambda_mask: float = 5.0  # floor of the relaxed weight (ignored when lambda_mask starts below it)
    lr: float | None = None  # Adam learning rate; None: the model's `default_drag_lr` (registry)
    num_optimized_ws: int | None = None  # leading W+ entries optimised (clipped to num_ws); None: the model's (paper: 6)
    max_steps: int = 300  # hard cap on optimisation steps (the official GUI has none)
    # Stop ('stalled') once the farthest handle got no closer for this many steps; 0: never; None: the model's
    stall_steps: int | None = None
    tracking_norm: str = "l2"  # feature distance for tracking: 'l2' (official code; measured better) or 'l1' (paper)
    tracking_step: float = 1.0  # px between tracking candidates; 1 = integer pixels as official
    # px at 512: tracking candidates only this close to the start->target line; 0: the official
    # square window; None: the model's (0 unless it says otherwise)
    tracking_band_at_512: float | None = None
    # px at 512: spacing of a 3 x 3 grid of feature samples compared in tracking; 0: one sample (official)
    tracking_patch_at_512: float = 0.0
    noise_mode: str = "const"  # synthesis noise during the drag ('const' as the official code)
    seed: int = 0  # seeds torch's RNG for the run (only 'random' noise draws numbers)
    # Latent prior (latent_prior.py), off as DragGAN; `LATENT_PRIOR` for Gaussian-latent generators.
    latent_shell: bool = False  # renormalise each optimised entry to its start norm after every step
    max_latent_change: float = 0.0  # cap on |w - w_start| per entry, fraction of |w_start|; 0: none

    def __post_init__(self) -> None:
        for name in ("r1_at_512", "r2_at_512", "min_r1", "min_r2", "stop_distance_at_512",
                     "stop_distance_many_at_512", "min_stop_distance", "tracking_step"):
            value = getattr(self, name)
            if value is None and name == "stop_distance_at_512":
                continue
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"DragConfig.{name} must be a finite number > 0, got {value}")
        for name in ("tracking_band_at_512", "lambda_mask", "supervise_distance"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ValueError(f"DragConfig.{name} must be >= 0 or None, got {value}")
        if self.lr is not None and not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"DragConfig.lr must be > 0 or None, got {self.lr}")
        if not (math.isfinite(self.max_latent_change) and self.max_latent_change >= 0):
            raise ValueError(f"DragConfig.max_latent_change must be >= 0, got {self.max_latent_change}")
        if self.num_optimized_ws is not None and self.num_optimized_ws < 1:
            raise ValueError(f"DragConfig.num_optimized_ws must be >= 1, got {self.num_optimized_ws}")
        if self.mask_relax_steps is not None and self.mask_relax_steps < 0:
            raise ValueError(f"DragConfig.mask_relax_steps must be >= 0 or None, got {self.mask_relax_steps}")
        if not (math.isfinite(self.min_lambda_mask) and self.min_lambda_mask >= 0):
            raise ValueError(f"DragConfig.min_lambda_mask must be a finite number >= 0, got {self.min_lambda_mask}")
        if self.stall_steps is not None and self.stall_steps < 0:
            raise ValueError(f"DragConfig.stall_steps must be >= 0 or None, got {self.stall_steps}")
        if self.max_steps < 0:
            raise ValueError(f"DragConfig.max_steps must be >= 0, got {self.max_steps}")
        if self.tracking_norm not in TRACKING_NORMS:
            raise ValueError(f"DragConfig.tracking_norm must be one of {TRACKING_NORMS}, got '{self.tracking_norm}'")
        if self.noise_mode not in NOISE_MODES:
            raise ValueError(f"DragConfig.noise_mode must be one of {NOISE_MODES}, got '{self.noise_mode}'")


@dataclass(frozen=True, kw_only=True)
class DragSettings:
    """A DragConfig resolved for one generator and one number of points (what a report records)."""

    feature_block: str  # block name
    feature_resolution: int  # h == w of the feature map, px
    image_size: tuple[int, int]  # (W, H) of the generated image, px
    r1: float  # motion disc radius, image px (offsets with length < r1)
    r2: float  # tracking half-width, image px (square window)
    stop_distance: float  # image px
    supervise_distance: float  # image px: handles farther than this get the motion term
    lambda_mask: float  # at the start
    mask_relax_steps: int  # steps without progress before lambda_mask halves; 0 = fixed weight
    min_lambda_mask: float  # the relaxed weight's floor
    lr: float
    num_optimized_ws: int  # entries 0 .. num_optimized_ws-1 of W+ are optimised
    max_steps: int
    stall_steps: int  # 0 = no stall test
    tracking_norm: str
    tracking_step: float  # px
    tracking_band: float  # image px; 0 = the official square window only
    tracking_patch: float  # image px between descriptor samples; 0 = one sample
    noise_mode: str
    seed: int
    latent_shell: bool  # optimised entries kept on the sphere of their start norm
    max_latent_change: float  # |w - w_start| cap, fraction of |w_start|; 0 = none

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def choose_feature_block(G: LatentGenerator) -> str:
    """The official 128x128 block for models of 256 px and more; for smaller models the largest
    block at no more than a quarter of the image resolution (the official ratio at 512 px).

    Measured on the 64 px demo model (bench/demo_drag_rate.py, 12 drags of 4-8 px, lr 1e-2 to
    3e-2): features at 32x32 (half resolution) reached 0/12 targets, 16x16 up to 10/12, 8x8 8/12.
    """
    res = G.img_resolution
    limit = OFFICIAL_FEATURE_RESOLUTION if res >= 256 else res // 4
    usable = [b for b in G.feature_blocks if b.resolution <= limit]
    if not usable:
        usable = [G.feature_blocks[0]]
    return usable[-1].name


# DragConfig fields left None take the generator's `drag_defaults()`, else these (the paper's).
PAPER_DEFAULTS = {"lambda_mask": 20.0, "num_optimized_ws": 6, "tracking_band_at_512": 0.0, "stop_distance_at_512": 1.0,
                  "stall_steps": 0, "mask_relax_steps": 0}


def model_default(config: DragConfig, G: LatentGenerator, name: str):
    """config's value of field `name`, else the generator's own default, else the paper's."""
    value = getattr(config, name)
    if value is not None:
        return value
    return G.drag_defaults().get(name, PAPER_DEFAULTS[name])


def resolve_settings(config: DragConfig, G: LatentGenerator, num_points: int) -> DragSettings:
    block_name = config.feature_block or choose_feature_block(G)
    band = model_default(config, G, "tracking_band_at_512")
    block = G.feature_block(block_name)  # raises on an unknown name
    res = G.img_resolution
    scale = res / 512.0
    stop_few = float(model_default(config, G, "stop_distance_at_512"))
    stop_at_512 = max(config.stop_distance_many_at_512, stop_few) if num_points > MANY_POINTS else stop_few
    stop = max(stop_at_512 * scale, config.min_stop_distance)
    return DragSettings(
        feature_block=block.name,
        feature_resolution=block.resolution,
        image_size=(res, res),
        r1=max(config.r1_at_512 * scale, config.min_r1),
        r2=max(config.r2_at_512 * scale, config.min_r2),
        stop_distance=stop,
        supervise_distance=stop if config.supervise_distance is None else min(config.supervise_distance, stop),
        lambda_mask=float(model_default(config, G, "lambda_mask")),
        mask_relax_steps=int(model_default(config, G, "mask_relax_steps")),
        min_lambda_mask=config.min_lambda_mask,
        lr=config.lr if config.lr is not None else float(G.default_drag_lr),
        num_optimized_ws=min(int(model_default(config, G, "num_optimized_ws")), G.num_ws),
        max_steps=config.max_steps,
        stall_steps=int(model_default(config, G, "stall_steps")),
        tracking_norm=config.tracking_norm,
        tracking_step=config.tracking_step,
        tracking_band=band * scale if band > 0 else 0.0,
        tracking_patch=config.tracking_patch_at_512 * scale,
        noise_mode=config.noise_mode,
        seed=config.seed,
        latent_shell=config.latent_shell,
        max_latent_change=config.max_latent_change,
    )
