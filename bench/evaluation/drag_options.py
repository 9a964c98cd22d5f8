"""The drag settings a benchmark run may switch (the paper's ablations), as flags and as named variants.

Every switch maps onto a `DragConfig` field; unknown fields fail at once, so a rename in
`pipeline/drag/drag_config.py` breaks the benchmark loudly instead of silently ignoring a switch.
"""
from __future__ import annotations

import argparse
import ast
import dataclasses
from dataclasses import dataclass, field

import torch

from pipeline.drag import DragConfig, drag
from pipeline.drag.drag_config import LATENT_PRIOR, TRACKING_NORMS
from pipeline.drag.latent_prior import is_gaussian_latent
from pipeline.gan import LatentGenerator, seeded_z

ALL_WS = "all"


@dataclass(frozen=True, kw_only=True)
class DragVariant:
    """One row of an ablation: a name and the DragConfig fields it changes from the base."""

    name: str
    overrides: dict = field(default_factory=dict)  # DragConfig field -> value; num_optimized_ws may be 'all'


def add_drag_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("drag settings (ablation switches; default: DragConfig's)")
    group.add_argument("--tracking-norm", choices=TRACKING_NORMS, default=None, help="feature distance for tracking")
    group.add_argument("--feature-block", default=None, help="generator block whose features drive the drag")
    group.add_argument("--r1", type=float, default=None, dest="r1_at_512", help="motion disc radius, px at 512")
    group.add_argument("--optimize-ws", default=None, help="leading W+ entries optimised: a number, or 'all'")
    group.add_argument("--max-steps", type=int, default=None, help="step cap per edit")
    group.add_argument("--lr", type=float, default=None, help="Adam learning rate (default: the model's)")
    group.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", dest="config_set",
                       help="any other DragConfig field, e.g. --set min_stop_distance=0.5 (repeatable)")


def parse_assignments(items: list[str]) -> dict:
    """['field=value', ...] -> {field: value}; values read as Python literals, else kept as text."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set '{item}': write FIELD=VALUE, e.g. --set tracking_step=0.5")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


def variant_from_args(args: argparse.Namespace, *, name: str = "as given") -> DragVariant:
    overrides = parse_assignments(args.config_set)
    for key in ("tracking_norm", "feature_block", "r1_at_512", "max_steps", "lr"):
        if getattr(args, key) is not None:
            overrides[key] = getattr(args, key)
    if args.optimize_ws is not None:
        overrides["num_optimized_ws"] = args.optimize_ws if args.optimize_ws == ALL_WS else int(args.optimize_ws)
    return DragVariant(name=name, overrides=overrides)


def build_config(G: LatentGenerator, variant: DragVariant, base: DragConfig = DragConfig()) -> DragConfig:
    """base with the variant's overrides applied ('all' ws resolved to G.num_ws)."""
    known = {f.name for f in dataclasses.fields(DragConfig)}
    unknown = sorted(set(variant.overrides) - known)
    if unknown:
        raise ValueError(f"variant '{variant.name}': DragConfig has no field(s) {unknown}")
    overrides = dict(variant.overrides)
    if overrides.get("num_optimized_ws") == ALL_WS:
        overrides["num_optimized_ws"] = G.num_ws
    if overrides.get("feature_block") is not None:
        G.feature_block(overrides["feature_block"])  # raises, naming the blocks, on an unknown one
    return dataclasses.replace(base, **overrides)


def ablation_variants(G: LatentGenerator, base: DragConfig = DragConfig()) -> list[DragVariant]:
    """The paper's ablation axes for this generator: tracking norm, feature block, r1, optimised ws.

    Feature blocks: the default block and its lower- and higher-resolution neighbours below the
    output. r1: twice the radius the default resolves to on this model. ws: all entries (the same
    thing for a generator with a single latent entry). Then the paper's settings where a model's
    defaults differ: the first 6 entries, lr 2e-3, stop at 1 px, the official square tracking
    window without the band. Gaussian-latent generators (the demo DCGAN) also get the drag with the latent prior (pipeline/drag/latent_prior.py).
    """
    from pipeline.drag import choose_feature_block

    default_block = base.feature_block or choose_feature_block(G)
    names = [b.name for b in G.feature_blocks if b.resolution < G.img_resolution]
    i = names.index(default_block) if default_block in names else len(names) - 1
    variants = [DragVariant(name="default")]
    other_norm = "l1" if base.tracking_norm == "l2" else "l2"
    variants.append(DragVariant(name=f"tracking {other_norm}", overrides={"tracking_norm": other_norm}))
    for j in (i - 1, i + 1):
        if 0 <= j < len(names):
            variants.append(DragVariant(name=f"features {names[j]}", overrides={"feature_block": names[j]}))
    # Twice the motion radius the default resolves to on this model (the min_r1 floor decides it at 64 px).
    r1_px = 2 * max(base.r1_at_512 * G.img_resolution / 512, base.min_r1)
    variants.append(DragVariant(name=f"r1 x2 ({r1_px:g} px)", overrides={"r1_at_512": r1_px * 512 / G.img_resolution}))
    variants.append(DragVariant(name="all ws", overrides={"num_optimized_ws": ALL_WS}))
    # The paper's own settings where a model's defaults differ from them (issue 14 item 5).
    variants.append(DragVariant(name="ws 6 (paper)", overrides={"num_optimized_ws": 6}))
    variants.append(DragVariant(name="lr 2e-3 (paper)", overrides={"lr": 2e-3}))
    variants.append(DragVariant(name="no tracking band", overrides={"tracking_band_at_512": 0.0}))
    variants.append(DragVariant(name="stop 1 px at 512 (paper)", overrides={"stop_distance_at_512": 1.0}))
    if is_gaussian_latent(G):
        # The shell and the trust region are one switch: the latent prior of Gaussian-z models.
        variants.append(DragVariant(name="latent prior", overrides=dict(LATENT_PRIOR)))
    return variants


def warm_up_drag(G: LatentGenerator, config: DragConfig, *, device: torch.device) -> None:
    """One 2-step drag, untimed, so torch's one-off costs (the first Adam imports torch._dynamo,
    seconds on CPU) are not charged to the first timed edit."""
    size = G.img_resolution
    with torch.no_grad():
        ws = G.mapping(seeded_z(0, G.z_dim, device=device), truncation_psi=0.7)
    drag(G, ws, [(size / 2, size / 2)], [(size / 2 + 2, size / 2)],
         config=dataclasses.replace(config, max_steps=2), device=device)
