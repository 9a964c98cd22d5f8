"""Read NVIDIA network pickles (stylegan3 repo / stylegan2-ada-pytorch) without executing them.

NVIDIA pickles every module as `torch_utils.persistence._reconstruct_persistent_obj(meta)`,
where `meta['module_src']` is a whole Python source file that the official loader executes.
We never do (nvidia_unpickler.py): a whitelist unpickler maps the nine globals NVIDIA's pickles use (plus `set` and a
latin1-only `_codecs.encode`, which protocols 2-3 need), persistent objects become inert
`PersistentStub`s holding `meta`, and storages are read with `torch.load(weights_only=True)`.
From the stub tree we rebuild the official state dict (parameters, persistent buffers, then
submodules, joined with '.') and a `StyleGAN2Config` from the constructor keywords.

Which generator: a training snapshot holds G, D, G_ema and augment_pipe; we take `G_ema` (the
weights every NVIDIA script samples from). If there is no `G_ema` we fall back to `G` with a
warning: its weights are valid but noisier. A pickled bare Generator (no dict) is also accepted.

Flavours: 'stylegan3-repo' (synthesis keywords flat in the Generator's `_init_kwargs`) and
'stylegan2-ada' (nested under `synthesis_kwargs`). Keys missing from `_init_kwargs` take that
repository's constructor defaults; the effective values the layers stored (conv_clamp,
num_fp16_res) are cross-checked against them and win when they disagree.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..common import UserError
from .nvidia_unpickler import MalformedPickle, PersistentStub, unpickle_safely
from .stylegan2.stylegan2_config import StyleGAN2Config

log = logging.getLogger(__name__)

FLAVOUR_STYLEGAN3 = "stylegan3-repo"
FLAVOUR_ADA = "stylegan2-ada"

# Class names a StyleGAN2 Generator (either repository) is made of; anything else in G_ema's
# tree means another architecture (StyleGAN3's SynthesisInput, StyleGAN-XL, ...).
STYLEGAN2_CLASSES = frozenset(
    {"Generator", "MappingNetwork", "SynthesisNetwork", "SynthesisBlock", "SynthesisLayer", "ToRGBLayer", "FullyConnectedLayer"}
)

# Constructor defaults of the two repositories for keys a pickle may omit (fixture README table).
_DEFAULTS = {
    FLAVOUR_STYLEGAN3: dict(num_fp16_res=4, conv_clamp=256, w_avg_beta=0.998),
    FLAVOUR_ADA: dict(num_fp16_res=0, conv_clamp=None, w_avg_beta=0.995),
}


@dataclass(frozen=True)
class NetworkPickle:
    """What a network pickle holds for us: the generator's config and official state dict."""

    config: StyleGAN2Config
    state_dict: dict[str, torch.Tensor]  # official names and order, float32 CPU tensors
    flavour: str  # 'stylegan3-repo' | 'stylegan2-ada'
    source_key: str  # 'G_ema' | 'G' | 'root' (a bare pickled Generator)


# ---- from the stub tree to a state dict and a config --------------------------------------


def _walk_modules(stub: PersistentStub, prefix: str = ""):
    """(dotted name, stub) for the module and every submodule, depth first, registration order."""
    yield prefix, stub
    for name, child in stub.state.get("_modules", {}).items():
        if child is None:
            continue
        if not isinstance(child, PersistentStub):
            raise MalformedPickle(f"submodule '{prefix}{name}' is not a persistent object")
        yield from _walk_modules(child, f"{prefix}{name}.")


def _state_dict_of(root: PersistentStub) -> dict[str, torch.Tensor]:
    """torch's state_dict order: own parameters, own persistent buffers, then submodules."""
    out: dict[str, torch.Tensor] = {}
    for prefix, stub in _walk_modules(root):
        state = stub.state
        non_persistent = state.get("_non_persistent_buffers_set") or set()
        entries = list(state.get("_parameters", {}).items())
        entries += [(k, v) for k, v in state.get("_buffers", {}).items() if k not in non_persistent]
        for name, tensor in entries:
            if tensor is None:
                continue
            if not isinstance(tensor, torch.Tensor):
                raise MalformedPickle(f"'{prefix}{name}' is not a tensor")
            out[prefix + name] = tensor.detach().to(torch.float32)
    return out


def _pick_generator(top: Any, path: Path) -> tuple[str, PersistentStub]:
    if isinstance(top, PersistentStub):
        return "root", top
    if not isinstance(top, dict):
        raise UserError(f"{path} holds a {type(top).__name__}, not a network pickle (expected a dict with 'G_ema')")
    for key in ("G_ema", "G"):
        if isinstance(top.get(key), PersistentStub):
            if key == "G":
                log.warning("%s has no G_ema; using the non-averaged generator G", path)
            return key, top[key]
    keys = ", ".join(repr(k) for k in top) or "none"
    raise UserError(f"{path} holds no generator (expected the key 'G_ema' or 'G'; found {keys})")


def _check_stylegan2(G: PersistentStub, state_dict: dict, path: Path) -> None:
    if G.class_name != "Generator":
        raise UserError(f"{path}: the generator is a '{G.class_name}', not a StyleGAN2 Generator")
    classes = {stub.class_name for _, stub in _walk_modules(G)}
    if "SynthesisInput" in classes or any(k.startswith("synthesis.input.") for k in state_dict):
        raise UserError(
            f"{path} is a StyleGAN3 (T/R) generator, which is not supported: use a StyleGAN2 network pickle"
        )
    alien = sorted(classes - STYLEGAN2_CLASSES)
    if alien:
        raise UserError(f"{path} is not a StyleGAN2 generator (it contains {', '.join(alien)}), which is not supported")


def _detect_flavour(kwargs: dict, synthesis_state: dict, path: Path) -> str:
    flavour = FLAVOUR_ADA if "synthesis_kwargs" in kwargs else FLAVOUR_STYLEGAN3
    # Cross-check: only the stylegan3 repo stores SynthesisNetwork.num_fp16_res.
    by_attrs = FLAVOUR_STYLEGAN3 if "num_fp16_res" in synthesis_state else FLAVOUR_ADA
    if by_attrs != flavour:
        log.warning("%s: keyword layout says %s but stored attributes say %s; using %s", path, flavour, by_attrs, flavour)
    return flavour


# Keys the layers accept through **kwargs; listed with the only value we can build.
_FIXED_LAYER_KWARGS = {"kernel_size": 3, "use_noise": True, "activation": "lrelu"}
# Keys that change nothing in float32 inference (memory layout, fp16 switches, fused-conv choice).
_IGNORED_SYNTHESIS_KWARGS = frozenset({"fp16_channels_last", "fused_modconv_default", "use_fp16", "channels_last"})


def _refuse(path: Path, what: str) -> UserError:
    return UserError(f"{path}: {what}, which StyleGAN2Config cannot represent: this generator is not supported")


def _config_from_kwargs(G: PersistentStub, flavour: str, path: Path) -> StyleGAN2Config:
    kwargs = dict(G.state.get("_init_kwargs") or {})
    args = G.state.get("_init_args") or ()
    if args:
        raise _refuse(path, f"the Generator was built with positional arguments {args!r}")
    defaults = _DEFAULTS[flavour]
    mapping_kwargs = dict(kwargs.pop("mapping_kwargs", None) or {})
    if flavour == FLAVOUR_ADA:
        synthesis_kwargs = dict(kwargs.pop("synthesis_kwargs", None) or {})
        top_keys = {"z_dim", "c_dim", "w_dim", "img_resolution", "img_channels"}
        extra = sorted(set(kwargs) - top_keys)
        if extra:
            raise _refuse(path, f"unknown Generator arguments {extra}")
    else:
        top_keys = {"z_dim", "c_dim", "w_dim", "img_resolution", "img_channels"}
        synthesis_kwargs = {k: v for k, v in kwargs.items() if k not in top_keys}
        kwargs = {k: v for k, v in kwargs.items() if k in top_keys}
    missing = sorted({"z_dim", "w_dim", "img_resolution", "img_channels"} - set(kwargs))
    if missing:
        raise UserError(f"{path} is a corrupt network pickle: the Generator's arguments lack {missing}")

    if int(kwargs.get("c_dim", 0) or 0) != 0:
        raise _refuse(path, f"it is a conditional generator (c_dim={kwargs['c_dim']})")

    # Mapping network.
    mapping_kwargs.pop("embed_features", None)  # used only to embed labels, and c_dim is 0
    layer_features = mapping_kwargs.pop("layer_features", None)
    if layer_features is not None and int(layer_features) != int(kwargs["w_dim"]):
        raise _refuse(path, f"mapping layer_features={layer_features} differs from w_dim={kwargs['w_dim']}")
    if mapping_kwargs.pop("activation", "lrelu") != "lrelu":
        raise _refuse(path, "the mapping network uses an activation other than lrelu")
    mapping_layers = int(mapping_kwargs.pop("num_layers", 8))
    mapping_lr = float(mapping_kwargs.pop("lr_multiplier", 0.01))
    w_avg_beta = mapping_kwargs.pop("w_avg_beta", defaults["w_avg_beta"])
    w_avg_beta = None if w_avg_beta is None else float(w_avg_beta)
    if mapping_kwargs:
        raise _refuse(path, f"unknown mapping arguments {sorted(mapping_kwargs)}")

    # Synthesis network.
    for key, allowed in _FIXED_LAYER_KWARGS.items():
        if key in synthesis_kwargs and synthesis_kwargs.pop(key) != allowed:
            raise _refuse(path, f"synthesis {key} is not {allowed!r}")
    for key in _IGNORED_SYNTHESIS_KWARGS:
        synthesis_kwargs.pop(key, None)
    architecture = synthesis_kwargs.pop("architecture", "skip")
    if architecture != "skip":
        raise _refuse(path, f"synthesis architecture '{architecture}' (only 'skip' is built)")
    resample_filter = tuple(int(v) for v in synthesis_kwargs.pop("resample_filter", (1, 3, 3, 1)))
    channel_base = int(synthesis_kwargs.pop("channel_base", 32768))
    channel_max = int(synthesis_kwargs.pop("channel_max", 512))
    num_fp16_res = int(synthesis_kwargs.pop("num_fp16_res", defaults["num_fp16_res"]))
    conv_clamp = synthesis_kwargs.pop("conv_clamp", defaults["conv_clamp"])
    if synthesis_kwargs:
        raise _refuse(path, f"unknown synthesis arguments {sorted(synthesis_kwargs)}")

    # The layers record the values they were really built with; prefer them to our defaults.
    conv_clamp = _stored_conv_clamp(G, conv_clamp, path)
    num_fp16_res = _stored_num_fp16_res(G, num_fp16_res, path)
    if w_avg_beta is None:
        w_avg_beta = defaults["w_avg_beta"]

    res = int(kwargs["img_resolution"])
    if res < 4 or res & (res - 1):
        raise _refuse(path, f"img_resolution {res} is not a power of two")
    return StyleGAN2Config(
        z_dim=int(kwargs["z_dim"]), w_dim=int(kwargs["w_dim"]), c_dim=0,
        img_resolution=res, img_channels=int(kwargs["img_channels"]),
        mapping_layers=mapping_layers, mapping_lr_multiplier=mapping_lr,
        channel_base=channel_base, channel_max=channel_max,
        conv_clamp=None if conv_clamp is None else float(conv_clamp),
        num_fp16_res=num_fp16_res, architecture="skip", resample_filter=resample_filter,
        w_avg_beta=w_avg_beta,
    )


def _stored_conv_clamp(G: PersistentStub, from_kwargs: Any, path: Path) -> Any:
    stored = {
        _as_clamp(stub.state["conv_clamp"])
        for _, stub in _walk_modules(G)
        if stub.class_name in ("SynthesisLayer", "ToRGBLayer") and "conv_clamp" in stub.state
    }
    if not stored:
        return from_kwargs
    if len(stored) > 1:
        raise _refuse(path, f"its layers use different conv_clamp values {sorted(stored, key=str)}")
    (value,) = stored
    if value != _as_clamp(from_kwargs):
        log.warning("%s: conv_clamp from arguments/defaults is %s but the layers store %s; using %s",
                    path, from_kwargs, value, value)
    return value


def _as_clamp(value: Any) -> float | None:
    return None if value is None else float(value)


def _stored_num_fp16_res(G: PersistentStub, from_kwargs: int, path: Path) -> int:
    synthesis = G.state.get("_modules", {}).get("synthesis")
    stored = synthesis.state.get("num_fp16_res") if isinstance(synthesis, PersistentStub) else None
    if stored is None:
        return from_kwargs
    if int(stored) != from_kwargs:
        log.warning("%s: num_fp16_res from arguments/defaults is %d but the network stores %d; using %d",
                    path, from_kwargs, int(stored), int(stored))
    return int(stored)


def _check_shapes(config: StyleGAN2Config, state_dict: dict[str, torch.Tensor], path: Path) -> None:
    """Catch a config that does not fit the tensors here, with a message, not at load_state_dict."""
    expected = {f"mapping.fc{config.mapping_layers - 1}.weight": (config.w_dim, None)}
    expected["synthesis.b4.const"] = (config.channels(4), 4, 4)
    for res in config.block_resolutions:
        expected[f"synthesis.b{res}.conv1.weight"] = (config.channels(res), config.channels(res), 3, 3)
        expected[f"synthesis.b{res}.torgb.weight"] = (config.img_channels, config.channels(res), 1, 1)
    for key, shape in expected.items():
        if key not in state_dict:
            raise UserError(f"{path}: the weights lack '{key}', so they do not match the generator's arguments")
        actual = tuple(state_dict[key].shape)
        if len(actual) != len(shape) or any(s is not None and s != a for s, a in zip(shape, actual)):
            raise UserError(f"{path}: '{key}' has shape {list(actual)} but the arguments imply {list(shape)}")
    if f"mapping.fc{config.mapping_layers}.weight" in state_dict:
        raise UserError(f"{path}: the mapping network has more layers than its arguments say")
    if f"synthesis.b{config.img_resolution * 2}.torgb.weight" in state_dict:
        raise UserError(f"{path}: the synthesis network has more blocks than img_resolution says")


def read_network_pickle(path: str | os.PathLike) -> NetworkPickle:
    """Config and official state dict of the StyleGAN2 generator in an NVIDIA network pickle.

    Never executes anything from the file. Raises UserError for a disallowed global, a
    truncated/corrupt file, or a generator StyleGAN2Config cannot represent.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"network pickle {path} does not exist")
    top = unpickle_safely(path)
    try:
        source_key, G = _pick_generator(top, path)
        state_dict = _state_dict_of(G)
        _check_stylegan2(G, state_dict, path)
        synthesis = G.state.get("_modules", {}).get("synthesis")
        synthesis_state = synthesis.state if isinstance(synthesis, PersistentStub) else {}
        flavour = _detect_flavour(G.state.get("_init_kwargs") or {}, synthesis_state, path)
        config = _config_from_kwargs(G, flavour, path)
    except (MalformedPickle, AttributeError, TypeError, ValueError) as exc:
        raise UserError(f"{path} is a truncated or corrupt network pickle ({exc})") from exc
    _check_shapes(config, state_dict, path)
    log.debug("%s: %s generator from '%s', %d tensors, %s", path, flavour, source_key, len(state_dict), config)
    return NetworkPickle(config=config, state_dict=state_dict, flavour=flavour, source_key=source_key)


__all__ = ["NetworkPickle", "PersistentStub", "read_network_pickle", "unpickle_safely", "FLAVOUR_ADA", "FLAVOUR_STYLEGAN3"]

