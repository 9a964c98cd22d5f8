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
    run = _DragRun(G, ws, handles_np, targets_np, mask, s, device)  # steps 2 and 3
    # 4. The loop: each pass tracks on the current features, then (unless done) updates ws.
    while True:
        if not run.observe():
            status = STATUS_NAN
            break
        status = run.ask(callback) or run.stop_test()
        if status is not None:
            break
        if not run.update():
            status = STATUS_NAN
            break
    return run.result(status)  # step 5


class _DragRun:
    """One drag's state between the steps of the loop in `_run`."""

    def __init__(self, G: LatentGenerator, ws: torch.Tensor, handles_np: np.ndarray, targets_np: np.ndarray,
                 mask: torch.Tensor | None, s: DragSettings, device: torch.device) -> None:
        self.G, self.s, self.device, self.handles_np = G, s, device, handles_np
        # 2. Split W+ into the optimised head and the fixed tail.
        ws = ws.detach().to(device=device, dtype=torch.float32)
        k = s.num_optimized_ws
        self.ws_free = ws[:, :k].clone().requires_grad_(True)  # [1, k, w_dim]
        self.ws_fixed = ws[:, k:].clone()  # [1, num_ws - k, w_dim]
        self.optimizer = torch.optim.Adam([self.ws_free], lr=s.lr)
        self.ws_start = self.ws_free.detach().clone()  # [1, k, w_dim], for the latent prior
        self.handles = torch.as_tensor(handles_np, dtype=torch.float32, device=device)  # [N, 2] (x, y)
        self.starts = self.handles.clone()
        self.targets = torch.as_tensor(targets_np, dtype=torch.float32, device=device)
        self.target_list = [(float(x), float(y)) for x, y in targets_np]

        # 3. The references: F0 and each handle's start feature (or patch of features).
        self.feats = self.features(grad=s.max_steps > 0)
        self.feats0 = self.feats.detach()
        self.patch = patch_offsets(s.tracking_patch, device=device)  # [P, 2] or None
        at = self.handles if self.patch is None else self.handles[:, None, :] + self.patch
        self.references = sample_features(self.feats0, at, s.image_size)  # [N, C] or [N, P, C]
        self.weight = None
        if mask is not None and s.lambda_mask > 0 and bool((mask == 0).any()):
            self.weight = fixed_region_weight(mask.to(device), tuple(self.feats0.shape[-2:]))  # [1, 1, h, w]

        self.trajectory: list[list[Point]] = []
        self.seconds: list[float] = []
        self.last_good_ws = self.ws_free.detach().clone()
        self.step = 0
        self.best_worst, self.best_step = float("inf"), 0  # the stall test's record: smallest max distance, when
        self.lambda_mask, self.relaxed_step = s.lambda_mask, 0  # the fixed-region weight now, and when it last halved
        self.distances = torch.zeros(0)
        self.converged = False
        self.tracked_seconds = 0.0

    def current_ws(self) -> torch.Tensor:
        return torch.cat([self.ws_free, self.ws_fixed], dim=1)

    def features(self, grad: bool) -> torch.Tensor:
        with torch.set_grad_enabled(grad):
            return self.G.synthesis_features(self.current_ws(), self.s.feature_block, noise_mode=self.s.noise_mode)

    def observe(self) -> bool:
        """4a. Features of the current ws and the handles tracked on them; False when they are not finite."""
        t0 = time.perf_counter()
        s = self.s
        if self.step > 0:
            self.feats = self.features(grad=self.step < s.max_steps)
        if not torch.isfinite(self.feats).all():
            return False
        if self.step > 0:
            self.handles = track_points(
                self.feats, self.references, self.handles, radius=s.r2, step=s.tracking_step, image_size=s.image_size,
                norm=s.tracking_norm, band=s.tracking_band, lines=(self.starts, self.targets), patch=self.patch,
            )
        self.distances = (self.targets - self.handles).norm(dim=1)  # [N]
        self.converged = all(d <= s.stop_distance for d in self.distances.tolist())
        self.trajectory.append([(float(x), float(y)) for x, y in self.handles.tolist()])
        self.last_good_ws = self.ws_free.detach().clone()
        self.tracked_seconds = time.perf_counter() - t0
        return True

    def ask(self, callback: DragCallback | None) -> str | None:
        """4b. The callback sees the state; a status when it stops the drag."""
        if callback is None:
            return None
        state = DragState(
            step=self.step, handles=self.trajectory[-1], targets=self.target_list, distances=self.distances.tolist(),
            converged=self.converged, ws=self.current_ws().detach(),
            _render=_renderer(self.G, self.current_ws, self.s.noise_mode),
        )
        try:
            keep_going = callback(self.step, state)
        except StopDrag:
            keep_going = False
        if keep_going is False:
            return STATUS_CONVERGED if self.converged else STATUS_STOPPED
        return None

    def stop_test(self) -> str | None:
        """4c. Converged, out of steps, or stalled (no closer by a quarter of the stop distance in stall_steps).

        Before a masked drag stalls, the same no-progress count halves the fixed-region weight
        (mask_relax_steps): one record of progress serves both, and the stall count restarts at
        each halving."""
        s = self.s
        if self.converged:
            return STATUS_CONVERGED
        if self.step >= s.max_steps:
            return STATUS_MAX_STEPS
        worst = float(self.distances.max())
        since = self.step - max(self.best_step, self.relaxed_step)  # steps without progress under this weight
        if worst < self.best_worst - s.stop_distance / 4:
            self.best_worst, self.best_step = worst, self.step
        elif self.can_relax() and since >= s.mask_relax_steps:
            self.lambda_mask = max(self.lambda_mask / 2, s.min_lambda_mask)
            self.relaxed_step = self.step
            log.info("drag step %d: no progress for %d steps; fixed-region weight down to %g", self.step, since,
                     self.lambda_mask)
        elif s.stall_steps and since >= s.stall_steps:
            return STATUS_STALLED
        return None

    def can_relax(self) -> bool:
        s = self.s
        return self.weight is not None and s.mask_relax_steps > 0 and self.lambda_mask > s.min_lambda_mask

    def update(self) -> bool:
        """4d. Motion supervision (+ the fixed-region term), one Adam step; False when the loss is not finite."""
        s = self.s
        t1 = time.perf_counter()
        moving = self.distances > s.supervise_distance
        loss = motion_loss(self.feats, self.handles[moving], self.targets[moving], radius=s.r1, image_size=s.image_size)
        if self.weight is not None:
            loss = loss + self.lambda_mask * fixed_region_loss(self.feats, self.feats0, self.weight)
        if not torch.isfinite(loss):
            return False
        (grad,) = torch.autograd.grad(loss, [self.ws_free])
        self.ws_free.grad = grad
        self.optimizer.step()
        self.ws_free.grad = None
        if s.latent_shell or s.max_latent_change > 0:
            project_latent(self.ws_free, self.ws_start, shell=s.latent_shell, max_change=s.max_latent_change)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        self.seconds.append(self.tracked_seconds + time.perf_counter() - t1)
        self.step += 1
        return True

    def result(self, status: str) -> DragResult:
        """5. The last finite state, rendered once."""
        steps, seconds = self.step, self.seconds
        if status == STATUS_NAN:
            log.warning("drag stopped at step %d: features or loss became non-finite; keeping the last finite state",
                        self.step)
            with torch.no_grad():
                self.ws_free.copy_(self.last_good_ws)
            if not self.trajectory:  # non-finite from the very start: nothing moved
                self.trajectory.append([(float(x), float(y)) for x, y in self.handles_np])
            steps = len(self.trajectory) - 1
            seconds = seconds[:steps]
        final_ws = self.current_ws().detach()
        final = torch.as_tensor(self.trajectory[-1], dtype=torch.float32)
        final_distances = (torch.as_tensor(self.target_list, dtype=torch.float32) - final).norm(dim=1).tolist()
        with torch.no_grad():
            image = self.G.synthesis(final_ws, noise_mode=self.s.noise_mode)  # [1, C, H, W]
        return DragResult(
            ws=final_ws, image=image, trajectory=self.trajectory, targets=self.target_list, steps=steps,
            converged=status == STATUS_CONVERGED, status=status, distances=final_distances,
            seconds_per_step=seconds, seconds_total=0.0, settings=self.s,
            final_lambda_mask=self.lambda_mask if self.weight is not None else None,
        )


def _renderer(G: LatentGenerator, current_ws: Callable[[], torch.Tensor], noise_mode: str) -> Callable[[], torch.Tensor]:
    def render() -> torch.Tensor:
        with torch.no_grad():
            return G.synthesis(current_ws().detach(), noise_mode=noise_mode)

    return render
