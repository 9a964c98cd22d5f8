"""Arguments and set-up shared by the evaluation scripts (model, device, threads, output)."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

import torch

from pipeline.common import resolve_device
from pipeline.gan import LatentGenerator
from pipeline.gan.loading import load_generator, resolve_model_arg

from .perceptual_choice import BENCH_BACKBONES
from .optical_flow import FLOW_METHODS
from .paired_protocol import PairedProtocol
from .bench_report import DEFAULT_OUT


def add_device_argument(parser: argparse.ArgumentParser) -> None:
    """The one --device of every script: auto picks cuda, then mps, then the CPU (pipeline.common.device)."""
    parser.add_argument("--device", default="auto", help="auto (default: cuda, then mps, then cpu) | cpu | cuda | "
                                                         "cuda:N | mps")


def add_common_arguments(parser: argparse.ArgumentParser, *, pairs: int) -> None:
    parser.add_argument("--model", default=None, help="registry name or checkpoint file (default: mobilestylegan-ffhq-1024, non-commercial weights)")
    parser.add_argument("--pairs", type=int, default=pairs, help="pairs to edit")
    parser.add_argument("--seed", type=int, default=0, help="first latent seed; also seeds the point choices")
    parser.add_argument("--psi", type=float, default=0.7, help="truncation of the latents")
    add_device_argument(parser)
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads for torch (default: torch's choice; 1 is fastest on a busy machine)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the .txt and .json reports")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def set_up(args: argparse.Namespace) -> tuple[torch.device, LatentGenerator]:
    """Logging, threads, device and generator, from the common arguments."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.threads is not None:
        if args.threads < 1:
            raise ValueError(f"--threads must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    torch.set_grad_enabled(True)
    device = resolve_device(args.device)
    return device, load_generator(resolve_model_arg(args.model), device=device)


def parse_points(text: str) -> tuple[int, ...]:
    """'1,5,68' -> (1, 5, 68): landmark counts per edit."""
    try:
        counts = tuple(int(p) for p in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}': give counts like 1,5,68") from None
    if any(not 1 <= n <= 68 for n in counts):
        raise argparse.ArgumentTypeError(f"'{text}': each count must be 1..68")
    return counts


def add_paired_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--points", type=int, default=32, help="handles sampled from the flow (paper: 32)")
    parser.add_argument("--flow", choices=FLOW_METHODS, default="farneback", help="OpenCV dense flow")
    parser.add_argument("--strength", type=float, default=0.3,
                        help="perturbation: fraction of the way to another latent")
    parser.add_argument("--perturb-ws", type=int, default=6, help="leading W+ entries perturbed")
    parser.add_argument("--backbone", choices=BENCH_BACKBONES, default="auto", help="perceptual distance")


def paired_protocol_from_args(args: argparse.Namespace, *, num_pairs: int) -> PairedProtocol:
    return PairedProtocol(num_pairs=num_pairs, num_points=args.points, seed=args.seed, truncation_psi=args.psi,
                          perturb_strength=args.strength, perturb_ws=args.perturb_ws, flow_method=args.flow)


def landmark_protocol_from_args(args: argparse.Namespace, point_counts: tuple[int, ...]):
    """The Table 1 protocol of the common arguments (pairs, seed, psi) for these landmark counts."""
    from .landmark_protocol import LandmarkProtocol

    return LandmarkProtocol(num_pairs=args.pairs, point_counts=point_counts, seed=args.seed, truncation_psi=args.psi)


def warm_pairs(G: LatentGenerator, protocol, config, *, device: torch.device, progress: bool):
    """Warm the drag up (torch's one-off costs off the first timed edit), then the protocol's face pairs
    -> (pairs, candidate pairs looked at)."""
    from .drag_options import warm_up_drag
    from .landmark_protocol import find_face_pairs

    warm_up_drag(G, config, device=device)
    return find_face_pairs(G, protocol, device=device, progress=progress)
