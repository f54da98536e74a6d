"""Saving and loading weights and checkpoints as ``.npz`` files.

A file holds arrays under dotted names (``model/body.0.conv1.weight``,
``optimizer/state/3/exp_avg``), a ``__format__`` version and a JSON ``__meta__`` record
(model name, scale, training command, ...). Nested dicts of arrays and numbers, such as
optimizer and scheduler states, are flattened into keys and rebuilt on load. Files are
written to a temporary name and renamed, so an interrupted save never leaves a torn file.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["FORMAT_VERSION", "flatten", "unflatten", "save_npz", "load_npz", "save_weights",
           "load_weights", "save_checkpoint", "load_checkpoint"]

FORMAT_VERSION = 1
_SEP = "/"


def flatten(tree: dict, prefix: str = "") -> dict[str, np.ndarray]:
    """{'a': {'b': x}} -> {'a/b': x}; leaves become arrays (numbers become 0-d arrays)."""
    flat = {}
    for key, value in tree.items():
        key = str(key)
        if _SEP in key:
            raise ValueError(f"serialization: key {key!r} may not contain {_SEP!r}")
        full = prefix + _SEP + key if prefix else key
        if isinstance(value, dict):
            flat.update(flatten(value, full) or {full + _SEP: np.zeros(0)})
        else:
            flat[full] = np.asarray(value)
    return flat


def unflatten(flat: dict[str, np.ndarray]) -> dict:
    """Inverse of :func:`flatten`; 0-d arrays come back as Python numbers."""
    tree: dict = {}
    for full, value in flat.items():
        parts = full.split(_SEP)
        node = tree
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        if parts[-1] == "":  # an empty dict was saved
            continue
        node[parts[-1]] = value.item() if value.ndim == 0 else value
    return tree


def save_npz(path, tree: dict, meta: dict | None = None) -> None:
    """Write a nested dict of arrays to ``path`` atomically, with format and metadata."""
    path = Path(path)
    flat = flatten(tree)
    flat["__format__"] = np.asarray(FORMAT_VERSION)
    flat["__meta__"] = np.asarray(json.dumps(meta or {}))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".npz",
                               dir=path.parent if str(path.parent) else ".")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **flat)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would make weights private
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load_npz(path) -> tuple[dict, dict]:
    """Read a file written by :func:`save_npz`: (nested dict of arrays, metadata)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            flat = {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not a minisr .npz file ({e})") from None
    version = int(flat.pop("__format__", -1))
    if version != FORMAT_VERSION:
        raise ValueError(f"{path}: weight format {version}, this minisr reads "
                         f"{FORMAT_VERSION}")
    meta = json.loads(str(flat.pop("__meta__", "{}")))
    return unflatten(flat), meta


def save_weights(module, path, meta: dict | None = None) -> None:
    """Save a module's ``state_dict`` (under 'model') with metadata."""
    save_npz(path, {"model": module.state_dict()}, meta)


def load_weights(module, path) -> dict:
    """Load weights saved by :func:`save_weights` into ``module``; return the metadata.

    A name or shape mismatch raises one ValueError naming the file and the problems.
    """
    tree, meta = load_npz(path)
    try:
        module.load_state_dict(tree.get("model", {}))
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    return meta



def save_checkpoint(path, model, optimizer=None, scheduler=None, meta: dict | None = None,
                    **extra) -> None:
    """Everything a run needs to resume exactly: model weights, optimizer state (moments,
    step counts, group settings), scheduler position, and ``extra`` values (epoch, ...).

    Any object with ``state_dict()`` works for ``optimizer`` and ``scheduler``.
    """
    tree = {"model": model.state_dict(), **extra}
    if optimizer is not None:
        tree["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        tree["scheduler"] = scheduler.state_dict()
    save_npz(path, tree, meta)


def load_checkpoint(path, model, optimizer=None, scheduler=None) -> tuple[dict, dict]:
    """Restore what :func:`save_checkpoint` wrote into the given objects.

    Returns (the ``extra`` values, metadata). A missing optimizer or scheduler state, or a
    model mismatch, is one ValueError naming the file.
    """
    tree, meta = load_npz(path)
    try:
        model.load_state_dict(tree.pop("model", {}))
        for name, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
            state = tree.pop(name, None)
            if obj is not None:
                if state is None:
                    raise ValueError(f"no {name} state saved")
                obj.load_state_dict(state)
    except (ValueError, KeyError) as e:
        raise ValueError(f"{path}: {e}") from None
    return tree, meta
