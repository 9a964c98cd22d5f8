"""Write network pickles in NVIDIA's persistence layout, for loader tests of cases no fixture has.

The persistent-object tree is rebuilt from an official state dict (module path -> NVIDIA class
name), then pickled while stand-in `torch_utils.persistence` and `dnnlib.util` modules exist in
sys.modules, so the pickle names exactly the globals NVIDIA's files name. Any protocol can be
chosen: 2 and 3 spell globals with GLOBAL opcodes, 4 and 5 with STACK_GLOBAL. module_src is an
inert string that raises if anyone ever executes it.
"""
from __future__ import annotations

import contextlib
import pickle
import re
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

import torch

PLACEHOLDER_SRC = "raise RuntimeError('test pickle: module_src must never be executed')\n"
BUFFER_NAMES = frozenset({"resample_filter", "noise_const", "w_avg"})


class EasyDict(dict):
    pass


def _reconstruct_persistent_obj(meta):  # only its name is pickled; never called here
    raise AssertionError("the writer never unpickles")


EasyDict.__module__, EasyDict.__qualname__ = "dnnlib.util", "EasyDict"
_reconstruct_persistent_obj.__module__ = "torch_utils.persistence"


class _Persistent:
    """Pickles as NVIDIA's persistent modules do: _reconstruct_persistent_obj(meta)."""

    def __init__(self, meta: dict) -> None:
        self.meta = meta

    def __reduce__(self):
        return _reconstruct_persistent_obj, (self.meta,)


@dataclass
class Node:
    class_name: str
    params: dict = field(default_factory=dict)
    buffers: dict = field(default_factory=dict)
    children: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)  # plain attributes stored in `state`
    init_kwargs: dict = field(default_factory=dict)


def _class_name(path: str) -> str:
    last = path.rsplit(".", 1)[-1]
    if path == "":
        return "Generator"
    if path == "mapping":
        return "MappingNetwork"
    if path == "synthesis":
        return "SynthesisNetwork"
    if re.fullmatch(r"b\d+", last):
        return "SynthesisBlock"
    if re.fullmatch(r"conv\d", last):
        return "SynthesisLayer"
    if last == "torgb":
        return "ToRGBLayer"
    if re.fullmatch(r"fc\d+", last) or last == "affine":
        return "FullyConnectedLayer"
    raise ValueError(f"no NVIDIA class for module '{path}'")


def tree_from_state_dict(state_dict: dict[str, torch.Tensor]) -> Node:
    """Module tree whose torch-style walk (params, buffers, children) gives state_dict's order."""
    root = Node("Generator")
    for key, tensor in state_dict.items():
        *parts, leaf = key.split(".")
        node, path = root, ""
        for part in parts:
            path = f"{path}.{part}" if path else part
            node = node.children.setdefault(part, Node(_class_name(path)))
        (node.buffers if leaf in BUFFER_NAMES else node.params)[leaf] = tensor
    return root


def find(node: Node, path: str) -> Node:
    for part in path.split(".") if path else []:
        node = node.children[part]
    return node


def walk(node: Node):
    yield node
    for child in node.children.values():
        yield from walk(child)


def to_persistent(node: Node, module_src: str = PLACEHOLDER_SRC) -> _Persistent:
    state = {
        "training": False,
        "_parameters": {k: torch.nn.Parameter(v.clone(), requires_grad=False) for k, v in node.params.items()},
        "_buffers": {k: v.clone() for k, v in node.buffers.items()},
        "_non_persistent_buffers_set": set(),
        "_modules": {k: to_persistent(v, module_src) for k, v in node.children.items()},
        **node.attrs,
        "_init_args": (),
        "_init_kwargs": dict(node.init_kwargs),
    }
    return _Persistent({"type": "class", "version": 6, "module_src": module_src, "class_name": node.class_name, "state": state})


@contextlib.contextmanager
def _stand_in_modules():
    names = {
        "torch_utils": types.ModuleType("torch_utils"),
        "torch_utils.persistence": types.ModuleType("torch_utils.persistence"),
        "dnnlib": types.ModuleType("dnnlib"),
        "dnnlib.util": types.ModuleType("dnnlib.util"),
    }
    names["torch_utils.persistence"]._reconstruct_persistent_obj = _reconstruct_persistent_obj
    names["dnnlib.util"].EasyDict = EasyDict
    clash = [n for n in names if n in sys.modules]
    assert not clash, f"real modules {clash} are imported; refusing to shadow them"
    sys.modules.update(names)
    try:
        yield
    finally:
        for n in names:
            sys.modules.pop(n, None)


def dump(obj, path: Path, *, protocol: int) -> Path:
    with _stand_in_modules():
        path.write_bytes(pickle.dumps(obj, protocol=protocol))
    return path


def stylegan3_kwargs(**overrides) -> dict:
    """The reference fixture's Generator kwargs, stylegan3-repo (flat) layout."""
    kw = dict(z_dim=64, w_dim=64, mapping_kwargs=EasyDict(num_layers=4), channel_base=4096, channel_max=128,
              num_fp16_res=0, conv_clamp=None, architecture="skip", c_dim=0, img_resolution=64, img_channels=3)
    kw.update(overrides)
    return kw


def ada_kwargs(synthesis: dict | None = None, **overrides) -> dict:
    """The same in stylegan2-ada-pytorch's layout (synthesis arguments nested)."""
    syn = EasyDict(channel_base=4096, channel_max=128, architecture="skip")
    syn.update(synthesis or {})
    kw = dict(z_dim=64, w_dim=64, mapping_kwargs=EasyDict(num_layers=4), synthesis_kwargs=syn,
              c_dim=0, img_resolution=64, img_channels=3)
    kw.update(overrides)
    return kw


def generator(state_dict: dict[str, torch.Tensor], init_kwargs: dict) -> Node:
    root = tree_from_state_dict(state_dict)
    root.init_kwargs = init_kwargs
    return root
