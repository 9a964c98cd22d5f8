"""Our generator file format: exact round trip, and clear refusals of anything else."""
from __future__ import annotations

import json
import struct

import pytest
import torch
from safetensors.torch import save_file

from pipeline.common import UserError
from pipeline.gan.architectures import build_generator
from pipeline.gan.safetensors_format import FORMAT_NAME, read_generator_file, save_generator
from pipeline.gan.stylegan2 import StyleGAN2Config, StyleGAN2Generator

TINY = StyleGAN2Config(z_dim=8, w_dim=8, img_resolution=8, mapping_layers=2, channel_base=64, channel_max=16, conv_clamp=256)


@pytest.fixture
def G() -> StyleGAN2Generator:
    torch.manual_seed(0)
    G = StyleGAN2Generator(TINY)
    G.mapping_net.w_avg.normal_()  # a non-default buffer must survive too
    G.default_drag_lr = 2e-3
    return G.eval()


def test_round_trip_is_exact(G, tmp_path):
    template = [[0.5, 0.25]] * 68
    meta = {"name": "tiny", "crop_convention": "template", "landmark_template": json.dumps(template),
            "source": "unit test", "license": "MIT"}
    path = save_generator(G, tmp_path / "g.safetensors", metadata=meta)
    assert [p.name for p in tmp_path.iterdir()] == ["g.safetensors"]  # no temp file left behind

    arch, config, state, metadata = read_generator_file(path)
    assert arch == "stylegan2" and config == G.config_dict()
    assert metadata["format"] == FORMAT_NAME and metadata["format_version"] == "1"
    assert float(metadata["drag_lr"]) == 2e-3
    assert {k: metadata[k] for k in meta} == meta
    expected = G.state_dict()
    assert set(state) == set(expected)
    for key, value in expected.items():
        assert state[key].dtype == torch.float32 and torch.equal(state[key], value), key

    G2 = build_generator(arch, config)
    G2.load_state_dict(state, strict=True)
    z = torch.randn(2, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(G2.eval()(z, truncation_psi=0.7), G(z, truncation_psi=0.7))


def test_non_string_metadata_is_stored_as_json_and_reserved_keys_refused(G, tmp_path):
    _, _, _, metadata = read_generator_file(save_generator(G, tmp_path / "g.safetensors", metadata={"steps": 3}))
    assert metadata["steps"] == "3"
    with pytest.raises(ValueError, match="arch"):
        save_generator(G, tmp_path / "h.safetensors", metadata={"arch": "dcgan"})


def test_refuses_files_that_are_not_ours(G, tmp_path):
    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, str(plain))
    with pytest.raises(UserError, match="not a portrait-drag generator"):
        read_generator_file(plain)

    pkl = tmp_path / "g.pkl"
    pkl.write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(UserError, match="not a safetensors file"):
        read_generator_file(pkl)

    with pytest.raises(UserError, match="does not exist"):
        read_generator_file(tmp_path / "missing.safetensors")


def _rewrite_metadata(G, tmp_path, **changes):
    path = save_generator(G, tmp_path / "g.safetensors")
    arch, config, state, metadata = read_generator_file(path)
    metadata.update(changes)
    metadata = {k: v for k, v in metadata.items() if v is not None}
    save_file(state, str(path), metadata=metadata)
    return path


@pytest.mark.parametrize(
    "changes,match",
    [
        ({"format_version": "2"}, "format version '2'"),
        ({"arch": "biggan"}, "unknown architecture 'biggan'"),
        ({"config": "{not json"}, "unreadable 'config'"),
        ({"format": None}, "not a portrait-drag generator"),
    ],
)
def test_refuses_bad_metadata(G, tmp_path, changes, match):
    with pytest.raises(UserError, match=match):
        read_generator_file(_rewrite_metadata(G, tmp_path, **changes))


def test_refuses_truncated_file(G, tmp_path):
    path = save_generator(G, tmp_path / "g.safetensors")
    data = path.read_bytes()
    (header_len,) = struct.unpack("<Q", data[:8])
    path.write_bytes(data[: 8 + header_len + 100])  # header intact, tensor bytes cut
    with pytest.raises(UserError, match="truncated or corrupt"):
        read_generator_file(path)
