"""The unpickling half of reading NVIDIA network pickles: a whitelist of globals, nothing executed.

NVIDIA pickles every module as `torch_utils.persistence._reconstruct_persistent_obj(meta)`,
where `meta['module_src']` is Python source the official loader executes. Here that global
builds an inert `PersistentStub` holding `meta`; storages are read with
`torch.load(weights_only=True)`; every other global outside `_ALLOWED` is refused with a
one-line error. network_pickle.py turns the stub tree into a state dict and a config.
"""
from __future__ import annotations

import collections
import io
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..common import UserError
from ..common.safe_pickle import LOAD_ERRORS, WhitelistUnpickler, latin1_encode, starts_like_a_pickle



class PersistentStub:
    """Stands in for a persistent NVIDIA module: holds `meta`; its `module_src` is never run."""

    __slots__ = ("meta",)

    def __init__(self, meta: Any) -> None:
        self.meta = meta

    @property
    def class_name(self) -> str:
        return str(self.meta.get("class_name", "?")) if isinstance(self.meta, dict) else "?"

    @property
    def state(self) -> dict:
        state = self.meta.get("state") if isinstance(self.meta, dict) else None
        if not isinstance(state, dict):
            raise MalformedPickle(f"persistent object '{self.class_name}' has no state dict")
        return state


class EasyDict(dict):
    """Stand-in for dnnlib.util.EasyDict: created by NEWOBJ, then filled by SETITEMS."""


class MalformedPickle(Exception):
    """The pickle unpickled but its content is not a network pickle as NVIDIA writes it."""


def _reconstruct_persistent_obj(meta: Any) -> PersistentStub:
    return PersistentStub(meta)


def _load_from_bytes(data: bytes) -> Any:
    # torch's own version unpickles the blob with weights_only=False; a storage needs nothing more.
    if not isinstance(data, (bytes, bytearray)):
        raise MalformedPickle("a storage blob is not a byte string")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TypedStorage deprecation warning on legacy streams
        return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    # Hooks are dropped on purpose: a network's tensors never need them.
    return torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, collections.OrderedDict())


def _rebuild_parameter(data, requires_grad, backward_hooks=None):
    if not isinstance(data, torch.Tensor):
        raise MalformedPickle("a parameter's data is not a tensor")
    return torch.nn.Parameter(data, requires_grad=bool(requires_grad))


def _numpy_scalar():
    try:
        from numpy._core.multiarray import scalar  # NumPy 2
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core.multiarray import scalar
    return scalar


_ALLOWED: dict[tuple[str, str], Any] = {
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _reconstruct_persistent_obj,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch.storage", "_load_from_bytes"): _load_from_bytes,
    ("numpy._core.multiarray", "scalar"): _numpy_scalar(),
    ("numpy.core.multiarray", "scalar"): _numpy_scalar(),  # NumPy 1.x spelling (NVIDIA's releases)
    ("numpy", "dtype"): np.dtype,
    ("dnnlib.util", "EasyDict"): EasyDict,
    # Data-only names that lower protocols need (fixtures are protocol 4 and use none of them):
    # protocols 2-3 pickle `_non_persistent_buffers_set` as set([...]); protocol 2 writes bytes
    # through _codecs.encode and spells builtins '__builtin__'.
    ("builtins", "set"): set,
    ("__builtin__", "set"): set,
    ("_codecs", "encode"): latin1_encode,
}


def _refusal(display_path: str):
    """The one-line error for a global outside _ALLOWED (TensorFlow-era pickles named as such)."""
    def refuse(module: str, name: str) -> UserError:
        if module.startswith("dnnlib.tflib"):
            return UserError(
                f"{display_path} is a TensorFlow-era StyleGAN pickle (it references '{module}.{name}'), "
                "which is not supported: use a PyTorch network pickle (stylegan3 or stylegan2-ada-pytorch)"
            )
        return UserError(
            f"network pickle {display_path} references the global '{module}.{name}', which is not allowed: "
            "only NVIDIA's StyleGAN2 generator pickles can be read (nothing in a pickle is ever executed)"
        )
    return refuse


def unpickle_safely(path: str | os.PathLike) -> Any:
    """The pickle's top-level object, with persistent modules as `PersistentStub`s."""
    path = Path(path)
    with open(path, "rb") as f:
        if not starts_like_a_pickle(f):
            raise UserError(f"{path} is not a network pickle (expected pickle protocol 2-5 at the start of the file)")
        try:
            # find_class serves GLOBAL, STACK_GLOBAL and EXT* alike: one gate for every form.
            return WhitelistUnpickler(f, allowed=_ALLOWED, refuse=_refusal(str(path))).load()
        except UserError:
            raise
        except (*LOAD_ERRORS, MalformedPickle) as exc:
            raise UserError(f"{path} is a truncated or corrupt network pickle ({type(exc).__name__}: {exc})") from exc
