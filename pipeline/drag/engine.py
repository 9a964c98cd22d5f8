"""The drag loop (DragGAN): motion supervision + point tracking on the generator's features.

Per step, as REFERENCE.md section 2 and the official code: one feature forward with the current
W+, tracking of every handle on those features (not at step 0), the stop test, motion
supervision for the handles still farther than the stop distance, plus lambda * the
fixed-region term when a mask is given, then one Adam step on the first `num_optimized_ws`
entries of W+ only; with the optional latent prior (drag_config.py) the optimised latent is then put
back on the shell of its start norm and within a cap around its start (latent_prior.py).

Deliberate deviations from the official numerics. Their measured effect, all together
(bench/drag_reference.py: the same 20 drags of 4-8 px on the demo model, same settings, lr 3e-2):
ours reached 20/20 targets in a median 31 steps (mean final distance 0.90 px), the
official-style step 20/20 in a median 48 steps (1.00 px). Speed: bench/drag_speed.py.
- Features come from `synthesis_features`, which stops after the feature block: no ToRGB and
  no block above it is ever computed during the optimisation. The image is rendered once, at
  the end (and by `DragState.render()` when a callback asks for a preview).
- F is never upsampled to image size. Motion supervision and tracking sample the feature map
  bilinearly at the image-pixel coordinates they need (sampling.py: the same pixel-centre
  convention as the official bilinear resize, so integer-pixel samples are identical); the
  shifted samples F(q + d) are bilinear in the low-resolution map instead of bilinear in the
  already-bilinear upsampled map (a smoother, exactly continuous interpolant).
- The fixed-region term is taken at feature resolution, the mask area-downsampled to it, so its
  cost does not grow with the image area.
- The pixel grid is the unit grid (the official linspace(0, h, h) is not unit-spaced), the loop
  has a step cap and honours its stop test and the callback's stop.
- The gradient is the paper's: F(q) detached, gradient through F(q + d) (the official code
  detaches the shifted side instead).
- A handle within the stop distance gets no motion term (official: within 1 px); the stop
  distance is the paper's 1 px (2 px over 5 points) at 512, scaled, floored at 1 px (the
  official GUI stops at max(2 px, 2/512*H)).
- Gradients are taken with `torch.autograd.grad` with respect to the optimised ws only: the
  generator's parameters are neither changed nor given .grad, whatever their requires_grad.
"""
from __future__ import annotations

import logging
import time
from typing import Callable, Sequence

import numpy as np
import torch

from ..common import UserError
from ..gan.interface import LatentGenerator
from .drag_config import DragConfig, DragSettings, resolve_settings
from .inputs import check_mask, check_points, check_reach
from .latent_prior import project_latent
from .motion_supervision import fixed_region_loss, fixed_region_weight, motion_loss
from .result import (
    STATUS_CONVERGED, STATUS_MAX_STEPS, STATUS_NAN, STATUS_STALLED, STATUS_STOPPED, DragResult, DragState, Point,
    StopDrag,
)
from .sampling import sample_features
from .tracking import patch_offsets, track_points

log = logging.getLogger(__name__)

DragCallback = Callable[[int, DragState], "bool | None"]


def drag(
    G: LatentGenerator,
    ws: torch.Tensor,  # [1, num_ws, w_dim] start latent
    handles: Sequence[Sequence[float]],  # [(x, y), ...] image px
    targets: Sequence[Sequence[float]],  # [(x, y), ...] image px, one per handle
    *,
    mask: np.ndarray | torch.Tensor | None = None,  # [H, W] in {0, 1}, 1 = may change
    config: DragConfig = DragConfig(),
    device: torch.device,  # where G already lives; ws and mask are moved there
    callback: DragCallback | None = None,  # (step, state) -> False (or raise StopDrag) to stop
) -> DragResult:
    """Move each handle to its target on the generator's image manifold; see the module docstring."""
    started = time.perf_counter()
    # 1. Check the inputs once.
    image_size = (G.img_resolution, G.img_resolution)
    G.check_ws(ws)
    if ws.shape[0] != 1:
        raise ValueError(f"drag works on one latent at a time: ws must be [1, num_ws, w_dim], got {list(ws.shape)}")
    if not torch.isfinite(ws).all():
        raise UserError("the start latent contains NaN or inf: regenerate or re-invert it")
    first_param = next(G.parameters(), None)
    if first_param is not None and first_param.device.type != torch.device(device).type:
        raise ValueError(f"G is on {first_param.device} but device is {device}: move G first")
    handles_np, targets_np = check_points(handles, targets, image_size)
    mask_t = check_mask(mask, image_size) if mask is not None else None
    check_reach(len(handles_np), image_size, mask_t)
    settings = resolve_settings(config, G, len(handles_np))
    log.debug("drag settings: %s", settings)

    devices = [device] if torch.device(device).type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(settings.seed)
        result = _run(G, ws, handles_np, targets_np, mask_t, settings, torch.device(device), callback)
    result.seconds_total = time.perf_counter() - started
    return result


def _run(
    G: LatentGenerator,
    ws: torch.Tensor,
    handles_np: np.ndarray,
    targets_np: np.ndarray,
    mask: torch.Tensor | None,
    s: DragSettings,
    device: torch.device,
    callback: DragCallback | None,
) -> DragResult:
    # 2. Split W+ into the optimised head and the fixed tail.
    ws = ws.detach().to(device=device, dtype=torch.float32)
    k = s.num_optimized_ws
    ws_free = ws[:, :k].clone().requires_grad_(True)  # [1, k, w_dim]
    ws_fixed = ws[:, k:].clone()  # [1, num_ws - k, w_dim]
    optimizer = torch.optim.Adam([ws_free], lr=s.lr)
    ws_start = ws_free.detach().clone()  # [1, k, w_dim], for the latent prior
    handles = torch.as_tensor(handles_np, dtype=torch.float32, device=device)  # [N, 2] (x, y)
    starts = handles.clone()
    targets = torch.as_tensor(targets_np, dtype=torch.float32, device=device)
    target_list = [(float(x), float(y)) for x, y in targets_np]

    def current_ws() -> torch.Tensor:
        return torch.cat([ws_free, ws_fixed], dim=1)

    def features(grad: bool) -> torch.Tensor:
        with torch.set_grad_enabled(grad):
            return G.synthesis_features(current_ws(), s.feature_block, noise_mode=s.noise_mode)  # [1, C, h, w]

    # 3. The references: F0 and each handle's start feature.
    feats = features(grad=s.max_steps > 0)
    feats0 = feats.detach()
    patch = patch_offsets(s.tracking_patch, device=device)  # [P, 2] or None
    if patch is None:
        references = sample_features(feats0, handles, s.image_size)  # [N, C]
    else:
        references = sample_features(feats0, handles[:, None, :] + patch, s.image_size)  # [N, P, C]
    weight = None
    if mask is not None and s.lambda_mask > 0 and bool((mask == 0).any()):
        weight = fixed_region_weight(mask.to(device), tuple(feats0.shape[-2:]))  # [1, 1, h, w]

    trajectory: list[list[Point]] = []
    seconds: list[float] = []
    last_good_ws = ws_free.detach().clone()
    status = STATUS_MAX_STEPS
    step = 0
    best_worst, best_step = float("inf"), 0  # the stall test's record: smallest max distance, when
    # 4. The loop: each pass tracks on the current features, then (unless done) updates ws.
    while True:
        t0 = time.perf_counter()
        if step > 0:
            feats = features(grad=step < s.max_steps)
        if not torch.isfinite(feats).all():
            status = STATUS_NAN
            break
        if step > 0:
            handles = track_points(
                feats, references, handles, radius=s.r2, step=s.tracking_step,
                image_size=s.image_size, norm=s.tracking_norm, band=s.tracking_band, lines=(starts, targets), patch=patch,
            )
        distances = (targets - handles).norm(dim=1)  # [N]
        dist_list = distances.tolist()
        converged = all(d <= s.stop_distance for d in dist_list)
        trajectory.append([(float(x), float(y)) for x, y in handles.tolist()])
        last_good_ws = ws_free.detach().clone()
        elapsed = time.perf_counter() - t0

        if callback is not None:
            state = DragState(
                step=step, handles=trajectory[-1], targets=target_list, distances=dist_list,
                converged=converged, ws=current_ws().detach(), _render=_renderer(G, current_ws, s.noise_mode),
            )
            try:
                keep_going = callback(step, state)
            except StopDrag:
                keep_going = False
            if keep_going is False:
                status = STATUS_CONVERGED if converged else STATUS_STOPPED
                break
        if converged:
            status = STATUS_CONVERGED
            break
        if step >= s.max_steps:
            status = STATUS_MAX_STEPS
            break
        worst = max(dist_list)
        if worst < best_worst - s.stop_distance / 4:  # progress: a quarter of the stop distance closer
            best_worst, best_step = worst, step
        elif s.stall_steps and step - best_step >= s.stall_steps:
            status = STATUS_STALLED
            break

        t1 = time.perf_counter()
        moving = distances > s.stop_distance
        loss = motion_loss(feats, handles[moving], targets[moving], radius=s.r1, image_size=s.image_size)
        if weight is not None:
            loss = loss + s.lambda_mask * fixed_region_loss(feats, feats0, weight)
        if not torch.isfinite(loss):
            status = STATUS_NAN
            break
        (grad,) = torch.autograd.grad(loss, [ws_free])
        ws_free.grad = grad
        optimizer.step()
        ws_free.grad = None
        if s.latent_shell or s.max_latent_change > 0:
            project_latent(ws_free, ws_start, shell=s.latent_shell, max_change=s.max_latent_change)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds.append(elapsed + time.perf_counter() - t1)
        step += 1

    # 5. The result: the last finite state, rendered once.
    if status == STATUS_NAN:
        log.warning("drag stopped at step %d: features or loss became non-finite; keeping the last finite state", step)
        with torch.no_grad():
            ws_free.copy_(last_good_ws)
        if not trajectory:  # non-finite from the very start: nothing moved
            trajectory.append([(float(x), float(y)) for x, y in handles_np])
        steps = len(trajectory) - 1
        seconds = seconds[:steps]
    else:
        steps = step
    final_ws = current_ws().detach()
    final = torch.as_tensor(trajectory[-1], dtype=torch.float32)
    final_distances = (torch.as_tensor(target_list, dtype=torch.float32) - final).norm(dim=1).tolist()
    with torch.no_grad():
        image = G.synthesis(final_ws, noise_mode=s.noise_mode)  # [1, C, H, W]
    return DragResult(
        ws=final_ws, image=image, trajectory=trajectory, targets=target_list, steps=steps,
        converged=status == STATUS_CONVERGED, status=status, distances=final_distances,
        seconds_per_step=seconds, seconds_total=0.0, settings=s,
    )


def _renderer(G: LatentGenerator, current_ws: Callable[[], torch.Tensor], noise_mode: str) -> Callable[[], torch.Tensor]:
    def render() -> torch.Tensor:
        with torch.no_grad():
            return G.synthesis(current_ws().detach(), noise_mode=noise_mode)

    return render
