"""Step 2 of an edit: the projection stages (W, then W+, each from the last), then pivotal tuning."""
from __future__ import annotations

import time
from typing import Callable

import torch

from pipeline.align import AlignedFace
from pipeline.common.image_tensors import image_to_tensor, tensor_to_image
from pipeline.gan.interface import LatentGenerator
from pipeline.invert.perceptual import load_perceptual
from pipeline.invert.project import project
from pipeline.invert.pti import pivotal_tune

from .edit_config import EditConfig, inversion_configs
from .edit_types import Inversion


InvertStep = Callable[[str, int, int], None]  # (stage name, steps done, steps at most)


def invert_face(
    aligned: AlignedFace, G: LatentGenerator, *, config: EditConfig = EditConfig(), device: torch.device,
    progress: bool = True, on_step: InvertStep | None = None,
) -> Inversion:
    """The face's crop projected into G's latent space, then tuned around (unless config.pti_wanted says no).

    `on_step(stage, done, total)` follows every step ('project w', 'project w+', 'pti'): a page's progress bar.
    """
    stages, pti_cfg = inversion_configs(config, G, device)
    perceptual = load_perceptual(stages[-1].backbone, device=device)
    target = image_to_tensor(aligned.crop.copy(), device=device)  # [1, 3, S, S] in [-1, 1]
    tick = time.perf_counter()
    projection = None
    stage_reports = []
    for stage in stages:
        projection = project(G, target, config=stage, device=device, perceptual=perceptual, start=projection,
                             progress=progress, on_step=_named(on_step, f"project {stage.space}"))
        stage_reports.append(without_curves(projection.report()))
    seconds = {"invert": time.perf_counter() - tick, "pti": 0.0}
    report = {"projection": stage_reports[-1], "projection_stages": stage_reports}
    tuned = None
    if pti_cfg is None:
        G_edit = projection.generator(G).to(device).eval().requires_grad_(False)
        ws, image = projection.ws, projection.image
    else:
        tick = time.perf_counter()
        pti_perceptual = load_perceptual(pti_cfg.backbone, device=device)
        tuned = pivotal_tune(G, projection, target, config=pti_cfg, device=device, perceptual=pti_perceptual,
                             progress=progress, on_step=_named(on_step, "pti"))
        seconds["pti"] = time.perf_counter() - tick
        report["pti"] = without_curves(tuned.report())
        G_edit, ws, image = tuned.G, tuned.ws, tuned.image
    return Inversion(G=G_edit, ws=ws, reconstruction=tensor_to_image(image), report=report, seconds=seconds,
                     backbone=stages[-1].backbone, tuned=tuned is not None, projection=projection, pti=tuned)


def _named(on_step: InvertStep | None, stage: str):
    return None if on_step is None else (lambda done, total: on_step(stage, done, total))


def without_curves(report: dict) -> dict:
    """A stage report without its per-step loss curves (they go in the file only as final values)."""
    return {k: v for k, v in report.items() if k != "losses"}
