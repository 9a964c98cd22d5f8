"""What every evaluation run writes beside its table: the settings, the model, the figures (atomic files)."""
from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path

import torch

from pipeline.common import write_bytes_atomic, write_json_atomic
from pipeline.drag import DragConfig
from pipeline.gan import LatentGenerator

DEFAULT_OUT = Path("out") / "bench"  # git-ignored


def model_label(G: LatentGenerator) -> str:
    return str(G.model_info.get("name") or Path(str(G.model_info.get("path", "model"))).stem)


def model_record(G: LatentGenerator) -> dict:
    info = {k: v for k, v in G.model_info.items() if k != "landmark_template"}
    return {**info, "arch": G.arch, "img_resolution": G.img_resolution, "num_ws": G.num_ws}


def config_record(config: DragConfig) -> dict:
    return dataclasses.asdict(config)


def settings_line(settings: dict) -> str:
    """One line naming what a run used, from DragSettings.to_dict()."""
    return (f"drag: block {settings['feature_block']} ({settings['feature_resolution']} px), r1 {settings['r1']:g} px, "
            f"r2 {settings['r2']:g} px, stop {settings['stop_distance']:g} px, lr {settings['lr']:g}, "
            f"norm {settings['tracking_norm']}, ws optimised {settings['num_optimized_ws']}, "
            f"max steps {settings['max_steps']}"
            + (f", latent prior: shell {settings['latent_shell']}, max change {settings['max_latent_change']:g}"
               if settings.get("latent_shell") or settings.get("max_latent_change") else ""))


def run_stem(kind: str, model: str, **parts: object) -> str:
    """A file stem naming the run, e.g. landmark_drag-demo-face-64-pairs20-seed0."""
    tail = "-".join(f"{k}{v}" for k, v in parts.items())
    return re.sub(r"[^A-Za-z0-9_.,-]+", "_", f"{kind}-{model}-{tail}")


def write_report(out_dir: Path, stem: str, text: str, data: dict) -> tuple[Path, Path]:
    """stem.txt (the printed tables) and stem.json (everything) in out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    txt, js = out_dir / f"{stem}.txt", out_dir / f"{stem}.json"
    data = {**data, "command": " ".join(sys.argv), "torch": torch.__version__}
    write_bytes_atomic(txt, (text + "\n").encode("utf-8"))
    write_json_atomic(js, data)
    return txt, js
