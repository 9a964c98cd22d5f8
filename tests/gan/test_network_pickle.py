"""Safe network-pickle reader: every fixture file gives its expected outcome; nothing is executed."""
from __future__ import annotations

import logging
import pickletools
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from nvidia_pickle_writer import (
    EasyDict, Node, ada_kwargs, dump, find, generator, stylegan3_kwargs, to_persistent, walk,
)
from pipeline.common import UserError
from pipeline.gan.network_pickle import FLAVOUR_ADA, FLAVOUR_STYLEGAN3, read_network_pickle, unpickle_safely

MARKER = Path("/tmp/pickle_fixture_executed")
LEGIT = {
    "stylegan3-G_ema.pkl": FLAVOUR_STYLEGAN3,
    "ada-G_ema.pkl": FLAVOUR_ADA,
    "numpy1-G_ema.pkl": FLAVOUR_STYLEGAN3,
    "stylegan3-defaults-G_ema.pkl": FLAVOUR_STYLEGAN3,
}


@pytest.fixture(scope="module")
def reference(stylegan2_fixtures) -> dict[str, torch.Tensor]:
    return torch.load(stylegan2_fixtures / "generator_state_dict.pt", weights_only=True)


@pytest.fixture
def no_marker():
    MARKER.unlink(missing_ok=True)
    yield
    assert not MARKER.exists(), "a pickle payload was executed"


def assert_bitwise(state: dict, reference: dict) -> None:
    assert list(state) == list(reference)  # names and official order
    for key, ref in reference.items():
        assert state[key].dtype == torch.float32 and state[key].shape == ref.shape, key
        assert torch.equal(state[key], ref), key


@pytest.mark.parametrize("name", sorted(LEGIT))
def test_legit_pickles_give_reference_state_dict(stylegan2_fixtures, reference, name):
    result = read_network_pickle(stylegan2_fixtures / name)
    assert result.flavour == LEGIT[name]
    assert result.source_key == "G_ema"
    assert_bitwise(result.state_dict, reference)
    cfg = result.config
    assert (cfg.z_dim, cfg.w_dim, cfg.img_resolution, cfg.mapping_layers) == (64, 64, 64, 4)
    assert (cfg.channel_base, cfg.channel_max, cfg.num_ws) == (4096, 128, 10)
    # No NVIDIA package was imported to read it.
    assert not {"torch_utils", "dnnlib", "training"} & set(sys.modules)


def test_explicit_and_defaulted_fp16_clamp_are_resolved_per_flavour(stylegan2_fixtures, caplog):
    explicit = read_network_pickle(stylegan2_fixtures / "stylegan3-G_ema.pkl").config
    assert (explicit.num_fp16_res, explicit.conv_clamp, explicit.w_avg_beta) == (0, None, 0.998)
    ada = read_network_pickle(stylegan2_fixtures / "ada-G_ema.pkl").config
    assert (ada.num_fp16_res, ada.conv_clamp, ada.w_avg_beta) == (0, None, 0.995)
    # Keys missing from _init_kwargs: the stylegan3 repo's defaults, not ada's.
    defaulted = read_network_pickle(stylegan2_fixtures / "stylegan3-defaults-G_ema.pkl").config
    assert (defaulted.num_fp16_res, defaulted.conv_clamp) == (4, 256.0)
    # The defaults agree with the values the layers stored: no cross-check warning.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_malicious_global_is_refused_by_name(stylegan2_fixtures, no_marker):
    with pytest.raises(UserError, match=r"'os\.system'"):
        read_network_pickle(stylegan2_fixtures / "malicious-global.pkl")


def test_malicious_exec_loads_weights_without_running_module_src(stylegan2_fixtures, reference, no_marker):
    result = read_network_pickle(stylegan2_fixtures / "malicious-exec.pkl")
    assert_bitwise(result.state_dict, reference)
    # The payload was read as text (so it was there to run) and ignored.
    top = unpickle_safely(stylegan2_fixtures / "malicious-exec.pkl")
    assert "pickle_fixture_executed" in top["G_ema"].meta["module_src"]


def test_truncated_pickle_is_a_clear_error(stylegan2_fixtures):
    with pytest.raises(UserError, match="truncated or corrupt network pickle"):
        read_network_pickle(stylegan2_fixtures / "truncated-G_ema.pkl")


@pytest.mark.parametrize("blob", [b"", b"not a pickle at all", b"PK\x03\x04zipdata"])
def test_non_pickles_are_refused(tmp_path, blob):
    path = tmp_path / "x.pkl"
    path.write_bytes(blob)
    with pytest.raises(UserError, match="not a network pickle"):
        read_network_pickle(path)


# ---- hand-built pickles: GLOBAL opcodes (protocols 2-3), snapshots, unsupported generators ----


def test_protocol2_global_opcodes_pass_the_whitelist(tmp_path):
    # Hand-written protocol 2: GLOBAL 'collections OrderedDict', called with ().
    path = tmp_path / "od.pkl"
    path.write_bytes(b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01.")
    assert type(unpickle_safely(path)).__name__ == "OrderedDict"
    # The same form naming a forbidden global is refused before REDUCE could call it.
    path.write_bytes(b"\x80\x02cbuiltins\neval\nq\x00X\x04\x00\x00\x001+1q\x01\x85q\x02Rq\x03.")
    with pytest.raises(UserError, match=r"'builtins\.eval'"):
        unpickle_safely(path)


@pytest.mark.parametrize("protocol", [2, 3, 5])
def test_generator_pickled_with_other_protocols(tmp_path, reference, protocol):
    tree = generator(reference, stylegan3_kwargs())
    for node in walk(tree):  # numpy scalars as NVIDIA stores weight_gain, in every protocol
        if node.class_name == "FullyConnectedLayer":
            node.attrs["weight_gain"] = np.float64(0.125)
    path = dump({"G_ema": to_persistent(tree)}, tmp_path / "g.pkl", protocol=protocol)
    ops = {op.name for op, _, _ in pickletools.genops(path.read_bytes())}
    assert ("GLOBAL" in ops) == (protocol < 4) and ("STACK_GLOBAL" in ops) == (protocol >= 4)
    result = read_network_pickle(path)
    assert result.flavour == FLAVOUR_STYLEGAN3
    assert_bitwise(result.state_dict, reference)


def test_training_snapshot_takes_G_ema(tmp_path, reference):
    G = generator({k: v + 1 for k, v in reference.items()}, stylegan3_kwargs())
    G_ema = generator(reference, stylegan3_kwargs())
    D = Node("Discriminator", children={"b64": Node("DiscriminatorBlock", params={"weight": torch.ones(2, 2)})})
    snapshot = {
        "G": to_persistent(G), "D": to_persistent(D), "G_ema": to_persistent(G_ema),
        "augment_pipe": to_persistent(Node("AugmentPipe")), "training_set_kwargs": {"path": "x.zip", "xflip": False},
    }
    result = read_network_pickle(dump(snapshot, tmp_path / "snap.pkl", protocol=4))
    assert result.source_key == "G_ema"
    assert_bitwise(result.state_dict, reference)
    only_G = read_network_pickle(dump({"G": to_persistent(G_ema)}, tmp_path / "g.pkl", protocol=4))
    assert only_G.source_key == "G"
    with pytest.raises(UserError, match="no generator"):
        read_network_pickle(dump({"D": to_persistent(D)}, tmp_path / "d.pkl", protocol=4))


def test_ada_missing_keys_take_ada_defaults(tmp_path, reference):
    path = dump({"G_ema": to_persistent(generator(reference, ada_kwargs()))}, tmp_path / "ada.pkl", protocol=3)
    cfg = read_network_pickle(path).config
    assert (cfg.num_fp16_res, cfg.conv_clamp, cfg.w_avg_beta) == (0, None, 0.995)


def test_stored_layer_clamp_wins_over_defaults(tmp_path, reference):
    tree = generator(reference, ada_kwargs())
    for node in walk(tree):
        if node.class_name in ("SynthesisLayer", "ToRGBLayer"):
            node.attrs["conv_clamp"] = 256
    cfg = read_network_pickle(dump({"G_ema": to_persistent(tree)}, tmp_path / "c.pkl", protocol=4)).config
    assert cfg.conv_clamp == 256.0


def test_stylegan3_generator_is_refused(tmp_path, reference):
    tree = generator(reference, stylegan3_kwargs())
    find(tree, "synthesis").children = {"input": Node("SynthesisInput", params={"freqs": torch.zeros(4, 2)})}
    path = dump({"G_ema": to_persistent(tree)}, tmp_path / "sg3.pkl", protocol=4)
    with pytest.raises(UserError, match="StyleGAN3"):
        read_network_pickle(path)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (stylegan3_kwargs(c_dim=10), "conditional"),
        (stylegan3_kwargs(architecture="resnet"), "architecture 'resnet'"),
        (stylegan3_kwargs(activation="linear"), "activation"),
        (stylegan3_kwargs(square=False), r"unknown synthesis arguments \['square'\]"),
        (stylegan3_kwargs(mapping_kwargs=EasyDict(num_layers=4, activation="linear")), "activation other than lrelu"),
        (stylegan3_kwargs(mapping_kwargs=EasyDict(num_layers=4, layer_features=32)), "layer_features"),
        (ada_kwargs(foo=1), r"unknown Generator arguments \['foo'\]"),
    ],
)
def test_unrepresentable_generators_are_refused(tmp_path, reference, kwargs, match):
    path = dump({"G_ema": to_persistent(generator(reference, kwargs))}, tmp_path / "x.pkl", protocol=4)
    with pytest.raises(UserError, match=match):
        read_network_pickle(path)


def test_kwargs_that_contradict_the_tensors_are_refused(tmp_path, reference):
    kwargs = stylegan3_kwargs(mapping_kwargs=EasyDict(num_layers=8))
    path = dump({"G_ema": to_persistent(generator(reference, kwargs))}, tmp_path / "x.pkl", protocol=4)
    with pytest.raises(UserError, match="mapping.fc7.weight"):
        read_network_pickle(path)
