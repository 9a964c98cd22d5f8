#!/usr/bin/env python3
"""Our MobileStyleGAN against OpenVINO's own outputs of the random-face IR (shared/fixtures/random-face-reference).

Prints, for every golden: the w's max abs difference (target <= 2e-5), and each 1024 image's
max and mean abs difference (targets <= 1e-3 and <= 1e-4), then PASS or FAIL per line.

    python -m bench.mobilestylegan_parity [DIR]    (DIR holds golden.npz; default ../shared/fixtures/random-face-reference)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]

from pipeline.common import resolve_device
from pipeline.gan.loading import load_generator

W_TARGET, IMG_MAX_TARGET, IMG_MEAN_TARGET = 2e-5, 1e-3, 1e-4


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", nargs="?", type=Path, default=ROOT.parent / "shared" / "fixtures" / "random-face-reference")
    args = parser.parse_args()
    golden = np.load(args.dir / "golden.npz")
    G = load_generator("mobilestylegan-ffhq-1024", device=resolve_device("cpu"))
    failed = 0
    with torch.no_grad():
        for seed in (0, 1):
            w = G.mapping(torch.from_numpy(golden[f"z_seed{seed}"]))[:, 0]
            d = (w - torch.from_numpy(golden[f"w_seed{seed}"])).abs().max().item()
            failed += d > W_TARGET
            print(f"w seed {seed}: max abs {d:.2e}  {verdict(d <= W_TARGET)}")
        d = (G.w_avg - torch.from_numpy(golden["w_avg"][0])).abs().max().item()
        failed += d > W_TARGET
        print(f"w_avg (10,000 seeds): max abs {d:.2e}, norm {G.w_avg.norm():.4f}  {verdict(d <= W_TARGET)}")
        w = G.mapping(torch.from_numpy(golden["z_seed0"]), truncation_psi=0.7)
        d = (w[:, 0] - torch.from_numpy(golden["w_trunc07_seed0"])).abs().max().item()
        failed += d > W_TARGET
        print(f"w psi 0.7 seed 0: max abs {d:.2e}  {verdict(d <= W_TARGET)}")
        for key, w_key in (("img1024_seed0", "w_seed0"), ("img1024_seed1", "w_seed1"),
                           ("img1024_trunc07_seed0", "w_trunc07_seed0")):
            ws = torch.from_numpy(golden[w_key])[:, None].repeat(1, G.num_ws, 1)
            diff = (G.synthesis(ws) - torch.from_numpy(golden[key])).abs()
            ok = diff.max().item() <= IMG_MAX_TARGET and diff.mean().item() <= IMG_MEAN_TARGET
            failed += not ok
            print(f"{key}: max abs {diff.max().item():.2e}, mean abs {diff.mean().item():.2e}  {verdict(ok)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
