"""Turn the `random-face` package's IR files into our generator file, once, in the cache.

1. Find the four data files of the installed `random-face` wheel (its package metadata only:
   the package itself imports openvino and is never imported here).
2. Check them against the registry's combined sha256, read them as data (openvino_ir.py), map
   their constants onto MobileStyleGANGenerator (ir_weights.py).
3. Estimate w_avg: the mean of mapping(z) over z = RandomState(seed).randn(1, z_dim) for seeds
   0..W_AVG_SEEDS-1 (the export holds no w_avg).
4. Save it in our safetensors format in the cache folder under a name keyed by that sha256, so
   a later load reads one file (well under a second) and a changed package converts anew.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import time
from pathlib import Path

import numpy as np
import torch

from ...common import UserError
from ...common.hashing import sha256_file
from ..safetensors_format import save_generator
from .mobilestylegan_config import MobileStyleGANConfig
from .ir_weights import mapping_state, synthesis_state, to_state_dict
from .generator import MobileStyleGANGenerator
from .openvino_ir import read_ir

log = logging.getLogger(__name__)

REGISTRY_NAME = "mobilestylegan-ffhq-1024"  # the registry entry these files become
PACKAGE = "random-face"
PACKAGE_VERSION = "2021.7.21.1"
PIP_COMMAND = f"pip install --no-deps {PACKAGE}=={PACKAGE_VERSION}"
DATA_FILES = ("MappingNetwork.xml", "MappingNetwork.bin", "SynthesisNetwork.xml", "SynthesisNetwork.bin")
W_AVG_SEEDS = 10_000  # as NVIDIA's projector and the OpenVINO golden w_avg
LICENSE = ("non-commercial: the weights derive from NVIDIA's StyleGAN2-FFHQ (NVIDIA Source Code License-NC) "
           "and FFHQ (CC BY-NC-SA 4.0); random-face's code is Apache-2.0")
SOURCE = (f"MobileStyleGAN (Belousov 2021, arXiv 2104.04767) distilled from StyleGAN2-FFHQ-1024, "
          f"OpenVINO IR of the PyPI wheel {PACKAGE}=={PACKAGE_VERSION} (random_face/data)")


def package_ir_folder() -> Path:
    """random_face/data of the installed wheel; a one-line error with the pip command when absent."""
    try:
        dist = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise UserError(f"the default face model needs the {PACKAGE} package's data files: run '{PIP_COMMAND}'") from None
    folder = Path(dist.locate_file("random_face/data"))
    missing = [name for name in DATA_FILES if not (folder / name).is_file()]
    if missing:
        raise UserError(f"{folder} lacks {', '.join(missing)}: reinstall with '{PIP_COMMAND} --force-reinstall'")
    return folder


def ir_sha256(folder: str | Path) -> str:
    """One digest of the four IR files: sha256 over 'name sha256' lines in DATA_FILES order."""
    folder = Path(folder)
    lines = "".join(f"{name} {sha256_file(folder / name)}\n" for name in DATA_FILES)
    return hashlib.sha256(lines.encode()).hexdigest()


def convert_ir(folder: str | Path, *, w_avg_seeds: int = W_AVG_SEEDS) -> MobileStyleGANGenerator:
    """The generator the IR pair in `folder` describes, w_avg estimated, eval mode, on the CPU."""
    folder = Path(folder)
    cfg = MobileStyleGANConfig()
    started = time.perf_counter()
    arrays = {**mapping_state(read_ir(folder / "MappingNetwork.xml"), cfg),
              **synthesis_state(read_ir(folder / "SynthesisNetwork.xml"), cfg)}
    G = MobileStyleGANGenerator(cfg)
    expected = {k: v for k, v in G.state_dict().items() if k != "mapping.w_avg"}
    try:
        state = to_state_dict(arrays, expected)
    except ValueError as exc:
        raise UserError(f"{folder}: {exc}") from exc
    state["mapping.w_avg"] = estimate_w_avg(G.mapping_net, state, num_seeds=w_avg_seeds)
    G.load_state_dict(state, strict=True)
    log.info("converted the MobileStyleGAN IR in %s (w_avg of %d seeds) in %.1f s", folder, w_avg_seeds,
             time.perf_counter() - started)
    return G.eval().requires_grad_(False)


@torch.no_grad()
def estimate_w_avg(mapping: torch.nn.Module, state: dict[str, torch.Tensor], *, num_seeds: int) -> torch.Tensor:
    """[w_dim] mean of mapping(RandomState(seed).randn(1, z_dim)) over seeds 0..num_seeds-1, float32."""
    mapping.load_state_dict({k[len("mapping."):]: v for k, v in state.items() if k.startswith("mapping.")
                             and k != "mapping.w_avg"}, strict=False)
    z_dim = mapping.cfg.z_dim
    z = np.concatenate([np.random.RandomState(seed).randn(1, z_dim) for seed in range(num_seeds)]).astype(np.float32)
    return mapping(torch.from_numpy(z)).mean(0)


def converted_path(folder: Path, digest: str, stem: str) -> Path:
    """Where the conversion of IR files with combined sha256 `digest` lives in `folder`."""
    return folder / f"{stem}.{digest[:16]}.safetensors"


def check_digest(digest: str, expected: str | None, folder: Path) -> None:
    if expected is not None and digest != expected:
        raise UserError(f"the {PACKAGE} data files in {folder} do not match the registry's sha256 "
                        f"({digest[:12]}..., expected {expected[:12]}...): run '{PIP_COMMAND} --force-reinstall'")


def convert_into(path: Path, *, ir_folder: Path, digest: str, name: str, drag_lr: float) -> Path:
    """Convert the IR files in `ir_folder` (combined sha256 `digest`) and save them at `path`."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the cache folder {path.parent} ({exc}): set PORTRAIT_DRAG_HOME to a "
                        "writable folder") from exc
    log.info("first use of %s: converting %s's IR files into %s (once)", name, PACKAGE, path)
    G = convert_ir(ir_folder)
    G.default_drag_lr = drag_lr
    save_generator(G, path, metadata={
        "name": name, "crop_convention": "ffhq", "source": SOURCE, "source_sha256": digest, "license": LICENSE,
        "w_avg_seeds": str(W_AVG_SEEDS),
        "source_files": {f: sha256_file(ir_folder / f) for f in DATA_FILES},
    })
    return path
