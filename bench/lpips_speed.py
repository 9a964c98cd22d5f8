#!/usr/bin/env python3
"""Time LPIPS (VGG, Alex) forward+backward as the projector uses it, batch 1, in float32, bf16 and channels_last.

One step = features of an image that requires grad, distance to cached target features,
backward to the image (the target's features are computed once, as project.py does). Rows: net x
input size x variant: 'f32'; 'bf16' (torch.autocast bfloat16: on CPUs with AMX-bf16 the convs
run in bf16); 'channels_last' (trunk and input in NHWC, float32); 'channels_last+bf16'. With
--examples DIR, also prints how far bf16 moves the distances of LPIPS's example images.

    python -m bench.lpips_speed [--device cpu] [--threads 2] [--repeats 5] [--sizes 128 256]
                                [--examples /work/shared/fixtures/lpips-examples]
"""
from __future__ import annotations

import argparse
import contextlib
import copy
from pathlib import Path

import torch

from bench.evaluation.script_args import add_device_argument
from bench.lpips_examples import read_examples
from bench.evaluation.timing import timed
from pipeline.common import resolve_device
from pipeline.invert import PerceptualDistance, load_perceptual
from pipeline.invert.perceptual import lpips_scaling

NETS = ("lpips-vgg", "lpips-alex")
VARIANTS = ("f32", "bf16", "channels_last", "channels_last+bf16")


def _nhwc(x: torch.Tensor) -> torch.Tensor:
    return lpips_scaling(x).contiguous(memory_format=torch.channels_last)


def variant(d: PerceptualDistance, name: str) -> tuple[PerceptualDistance, contextlib.AbstractContextManager]:
    """(module, autocast context) for a variant; channels_last works on a copy, leaving the cached module alone."""
    if "channels_last" in name:
        d = copy.deepcopy(d).to(memory_format=torch.channels_last)
        d._preprocess = _nhwc
    device_type = next(d.buffers()).device.type
    ctx = torch.autocast(device_type, dtype=torch.bfloat16) if "bf16" in name else contextlib.nullcontext()
    return d, ctx


def step_time(d: PerceptualDistance, name: str, size: int, *, repeats: int, device: torch.device) -> float:
    g = torch.Generator().manual_seed(0)
    img, target = (torch.rand(2, 1, 3, size, size, generator=g) * 2 - 1).to(device)
    d, ctx = variant(d, name)
    with ctx, torch.no_grad():
        target_feats = d.features(target)

    def step():
        x = img.clone().requires_grad_(True)
        with ctx:
            loss = d.distance(d.features(x), target_feats).sum()
        loss.backward()

    return timed(step, repeats=repeats, device=device)


def bf16_shift(d: PerceptualDistance, examples: Path, device: torch.device) -> float:
    """Largest |bf16 - f32| over the example distances ref-p0, ref-p1."""
    ref, p0, p1 = (x.to(device) for x in read_examples(examples))
    out = []
    for name in ("f32", "bf16"):
        m, ctx = variant(d, name)
        with ctx, torch.no_grad():
            out.append(torch.stack([m(ref, p0), m(ref, p1)]).float())
    return (out[1] - out[0]).abs().max().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_device_argument(parser)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--examples", type=Path, default=None, help="folder with ex_ref.png, ex_p0.png, ex_p1.png")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu, {torch.get_num_threads()} threads"
    print(f"LPIPS forward+backward to the image, batch 1, {where}; torch {torch.__version__}; "
          f"median of {args.repeats} runs after one warm-up (ms)")
    print(f"{'net':11s} {'px':>4s} " + " ".join(f"{v:>18s}" for v in VARIANTS))
    for net in NETS:
        d = load_perceptual(net, device=device)
        for size in args.sizes:
            ms = [1000 * step_time(d, v, size, repeats=args.repeats, device=device) for v in VARIANTS]
            print(f"{net:11s} {size:4d} " + " ".join(f"{m:18.1f}" for m in ms), flush=True)
        if args.examples is not None:
            print(f"{net:11s} bf16 moves the example distances by at most {bf16_shift(d, args.examples, device):.4f}")


if __name__ == "__main__":
    main()
