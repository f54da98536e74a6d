"""Read and write PNG, BMP and JPEG images as (H, W, C) float32 arrays in [0, 1].

``imread`` returns C = 1 (gray) or 3 (RGB): 8-bit data is divided by 255, 16-bit by 65535,
1-bit by 1, palettes are expanded to RGB. Alpha is never dropped silently: by default an
RGBA/LA file raises, and so does a PNG whose tRNS chunk gives its palette alphas or makes one
gray/RGB value transparent; ``alpha="drop"`` discards it and ``alpha="keep"`` returns it as
the last channel (C = 2 or 4), so an upscaler can resize it separately and re-attach it.
Limitation: Pillow (imageio's backend) decodes 16-bit RGB PNGs to 8 bits; 16-bit gray is exact.
``imwrite`` rounds to the 8-bit (or 16-bit) grid and replaces the target atomically. Every
failure is a one-line ``ValueError`` naming the file. Read next: ``image/resize.py``.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import imageio.v3 as iio
import numpy as np

EXTENSIONS = (".png", ".bmp", ".jpg", ".jpeg")
_ALPHA_MODES = ("error", "drop", "keep")
# Divisor per decoded dtype (anything else is refused) and Pillow modes decoded as another mode.
_SCALE = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0, np.dtype(np.bool_): 1.0}
_CONVERT = {"CMYK": "RGB", "YCbCr": "RGB", "PA": "RGBA", "La": "LA", "RGBa": "RGBA"}

__all__ = ["EXTENSIONS", "imread", "imwrite", "quantize", "to_uint8"]


def _extension(path: str | os.PathLike, who: str) -> str:
    ext = Path(path).suffix.lower()
    if ext not in EXTENSIONS:
        raise ValueError(f"{who}: {os.fspath(path)!r}: unsupported extension {ext or '(none)'!r}"
                         f" (use {', '.join(EXTENSIONS)})")
    return ext


def imread(path: str | os.PathLike, alpha: str = "error") -> np.ndarray:
    """Read a PNG/BMP/JPEG file as float32 in [0, 1].

    Shape:
        returns: (H, W, 1) gray or (H, W, 3) RGB float32 in [0, 1];
                 with alpha="keep" and an alpha channel: (H, W, 2) gray+A or (H, W, 4) RGBA
                 (a tRNS colour key becomes alpha 0 where the pixel equals the key, else 1)

    Parameters
    ----------
    alpha : {'error', 'drop', 'keep'}
        What to do with an alpha channel: raise ``ValueError`` (default), discard it, or
        return it as the last channel.
    """
    if alpha not in _ALPHA_MODES:
        raise ValueError(f"imread: alpha must be one of {_ALPHA_MODES}, got {alpha!r}")
    name = os.fspath(path)
    _extension(path, "imread")
    if not os.path.isfile(name):
        raise ValueError(f"imread: {name!r}: no such file")
    try:
        with iio.imopen(name, "r", plugin="pillow") as f:
            meta = f.metadata(index=0, exclude_applied=False)
            mode, key = meta.get("mode"), meta.get("transparency")  # key: from a tRNS chunk
            if f.properties(index=...).shape[0] > 1:
                raise ValueError("animated / multi-frame images are not supported")
            # A palette with tRNS carries one alpha per entry: Pillow expands it to RGBA.
            arr = f.read(index=0, mode="RGBA" if mode == "P" and key is not None
                         else _CONVERT.get(mode))
    except ValueError as e:
        raise ValueError(f"imread: {name!r}: {e}") from None
    except Exception as e:  # imageio/Pillow raise many types for undecodable files
        raise ValueError(f"imread: {name!r}: not a readable image ({type(e).__name__})") from None
    if arr.dtype not in _SCALE:
        raise ValueError(f"imread: {name!r}: unsupported pixel type {arr.dtype} (mode {mode})")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 2, 3, 4) or 0 in arr.shape:
        raise ValueError(f"imread: {name!r}: unsupported image shape {arr.shape}")
    img = arr.astype(np.float32) / np.float32(_SCALE[arr.dtype])
    if key is not None and mode != "P" and img.shape[2] in (1, 3):
        # A gray or RGB colour key (raw sample values, 16-bit too): exactly those pixels are
        # transparent. Computed here because Pillow's LA conversion truncates 16-bit gray.
        opaque = np.any(arr != np.reshape(key, (1, 1, -1)), axis=2)
        img = np.concatenate([img, opaque[:, :, None].astype(np.float32)], axis=2)
    if img.shape[2] in (2, 4):  # LA or RGBA
        if alpha == "error":
            raise ValueError(f"imread: {name!r}: has an alpha channel; pass alpha='drop' or"
                             " alpha='keep'")
        if alpha == "drop":
            img = img[:, :, :-1]
    return np.ascontiguousarray(img)


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Round to 8 bits: floor(clip(img, 0, 1) * 255 + 0.5), i.e. halves round up, as
    MATLAB's ``uint8()`` (NumPy's ``round`` would round halves to even).

    Shape:
        img: any shape, float in [0, 1]  ->  same shape, uint8
    """
    return np.floor(np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def quantize(img: np.ndarray) -> np.ndarray:
    """Snap to the 8-bit grid and stay float: ``to_uint8(img) / 255`` in img's dtype.

    The protocol's "LR stored as 8-bit" and "output rounded to 8-bit" (REFERENCE.md).

    Shape:
        img: any shape, float  ->  same shape and dtype (float64 for non-float input)
    """
    dt = img.dtype if img.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    return (to_uint8(img).astype(dt) / dt.type(255)).astype(dt)


def imwrite(path: str | os.PathLike, img: np.ndarray, bit_depth: int = 8,
            quality: int = 95) -> None:
    """Write a float image in [0, 1] (clipped, then rounded) to PNG, BMP or JPEG atomically;
    a uint8 (or, with ``bit_depth=16``, uint16) array is written as it is.

    The file is encoded in memory, written to a hidden temporary file in the target
    directory and moved over ``path`` with ``os.replace``; on any failure the temporary file
    is removed, so ``path`` is either untouched or complete. Alpha (C = 2 or 4) is PNG only;
    16-bit output is PNG gray only (Pillow cannot encode 16-bit RGB).

    Shape:
        img: (H, W), (H, W, 1) gray, (H, W, 2) gray+A, (H, W, 3) RGB or (H, W, 4) RGBA, float

    Parameters
    ----------
    bit_depth : {8, 16}
    quality : int, JPEG quality 1..100 (ignored for PNG/BMP).
    """
    name = os.fspath(path)
    ext = _extension(path, "imwrite")
    img = np.asarray(img)
    if img.dtype in (np.uint8, np.uint16):  # already rounded: written as it is
        if bit_depth != 8 * img.dtype.itemsize:
            raise ValueError(f"imwrite: {name!r}: a {img.dtype} image needs bit_depth="
                             f"{8 * img.dtype.itemsize}, got {bit_depth}")
    elif img.dtype.kind != "f":
        raise ValueError(f"imwrite: {name!r}: expected a float image in [0, 1] (or uint8/"
                         f"uint16), got {img.dtype}")
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3 or img.shape[2] not in (1, 2, 3, 4) or 0 in img.shape:
        raise ValueError(f"imwrite: {name!r}: unsupported image shape {img.shape}")
    if img.dtype.kind == "f" and not np.isfinite(img).all():
        raise ValueError(f"imwrite: {name!r}: image contains NaN or inf")
    C = img.shape[2]
    if C in (2, 4) and ext != ".png":
        raise ValueError(f"imwrite: {name!r}: alpha can only be saved as PNG")
    if bit_depth not in (8, 16) or (bit_depth == 16 and (ext != ".png" or C != 1)):
        raise ValueError(f"imwrite: {name!r}: bit_depth must be 8, or 16 for gray PNG;"
                         f" got {bit_depth} for {C} channel(s) {ext}")
    if img.dtype.kind == "u":
        data = img
    elif bit_depth == 16:
        data = np.floor(np.clip(img, 0.0, 1.0) * 65535.0 + 0.5).astype(np.uint16)
    else:
        data = to_uint8(img)
    data = data[:, :, 0] if C == 1 else data
    kwargs = {"quality": int(quality)} if ext in (".jpg", ".jpeg") else {}
    encoded = iio.imwrite("<bytes>", data, extension=ext, plugin="pillow", **kwargs)
    parent = os.path.dirname(os.path.abspath(name))
    tmp = os.path.join(parent, f".{os.path.basename(name)}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        # O_EXCL: never clobber; mode 0o666 so the umask applies as for a normal file.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(encoded)
        os.replace(tmp, name)
    except OSError as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise ValueError(f"imwrite: {name!r}: {e.strerror or e}") from None
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
