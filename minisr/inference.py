"""Running a model on an image: colour handling, pre-upsampling, tiling.

A Y model (SRCNN, FSRCNN, ESPCN) enlarges the BT.601 Y channel; Cb and Cr follow with
bicubic, as the papers do. An RGB model (EDSR) takes RGB. Gray in gives gray out, treated
as R = G = B. Large images run in overlapping tiles whose overlap covers the model's
receptive radius, so tiled and untiled results agree to float tolerance.
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache

import numpy as np

from minisr.autograd import Tensor, no_grad
from minisr.data.dataset import to_network
from minisr.image.color import rgb_to_ycbcr, ycbcr_to_rgb
from minisr.image.io import to_uint8
from minisr.image.resize import resize
from minisr.models import interpolate, load_pretrained, pretrained, twin
from minisr.models.interpolate import check_alpha


def _net_forward(model, x: np.ndarray) -> np.ndarray:
    """(C, h, w) float32 -> the network's (C, H, W) output, without a graph."""
    dtype = model.parameters()[0].dtype  # float32, or float64 for exact comparisons
    with no_grad():
        return model(Tensor(x[None], dtype=dtype)).data[0]


def _pre_upsample(x: np.ndarray, s: int) -> np.ndarray:
    """Bicubic x ``s`` of a (C, h, w) network input (SRCNN's first step), same dtype."""
    C, h, w = x.shape
    up = resize(x.transpose(1, 2, 0).astype(np.float64), float(s))
    return np.ascontiguousarray(up.reshape(h * s, w * s, C).transpose(2, 0, 1),
                                dtype=x.dtype)


def sr_image(model, lr: np.ndarray) -> np.ndarray:
    """Enlarge a whole (h, w, C) image in [0, 1] by ``model.scale`` (no tiling).

    C = 1 (gray), 3 (RGB), or 2 / 4 with alpha last; alpha is enlarged with bicubic.
    Returns float64, clipped to [0, 1].

    Shape:
        lr: (h, w, C) float in [0, 1]  ->  (s h, s w, C)
    """
    s = model.scale
    img = lr.astype(np.float64)
    alpha = None
    if img.shape[-1] in (2, 4):
        img, alpha = img[..., :-1], img[..., -1:]
    gray = img.shape[-1] == 1
    x = to_network(img, model.colour, model.parameters()[0].dtype)
    if model.pre_upsampled:
        x = _pre_upsample(x, s)
    y = _net_forward(model, x).transpose(1, 2, 0).astype(np.float64)
    if model.colour == "y":
        if gray:
            out = (y * 255.0 - 16.0) / 219.0
        else:
            cbcr = resize(rgb_to_ycbcr(img)[..., 1:], float(s))
            out = ycbcr_to_rgb(np.concatenate([y, cbcr], axis=-1))
    else:
        out = y.mean(axis=-1, keepdims=True) if gray else y
    if alpha is not None:
        out = np.concatenate([out, resize(alpha, float(s))], axis=-1)
    return np.clip(out, 0.0, 1.0)


def tile_margin(model) -> int:
    """LR pixels a tile must be grown by so its core equals the untiled result.

    The bicubic kernel reaches 2 LR pixels (3 with MATLAB's extra zero-weight taps). A
    pre-upsampling model (SRCNN) runs bicubic and then the network, so the reaches add
    up: ceil(radius / scale) + 3. Otherwise the network and the bicubic of Cb/Cr and
    alpha run side by side, and the larger reach rules: max(radius, 3).
    """
    r = int(model.receptive_radius)
    return -(-r // model.scale) + 3 if model.pre_upsampled else max(r, 3)


def tile_boxes(h: int, w: int, tile: int, margin: int):
    """Each tile of an h x w image: ((t0, t1, l0, l1) the grown block, (top, bottom, left,
    right) its core), row by row. The block is the core grown by ``margin`` pixels on
    every side, less at the image border."""
    for top in range(0, h, tile):
        for left in range(0, w, tile):
            t0, l0 = max(top - margin, 0), max(left - margin, 0)
            t1, l1 = min(top + tile + margin, h), min(left + tile + margin, w)
            yield (t0, t1, l0, l1), (top, min(top + tile, h), left, min(left + tile, w))


def tiled(fn, lr: np.ndarray, scale: int, tile: int | None, margin: int, out=None,
          convert=None):
    """Apply ``fn`` ((h, w, C) -> (s h, s w, C')) tile by tile and assemble the result.

    Each ``tile`` x ``tile`` block of ``lr`` is grown by ``margin`` pixels on every side
    (less at the image border), enlarged, and only its core is kept, so peak memory
    follows the tile, not the image. ``out`` may be preallocated (e.g. uint8, with
    ``convert`` mapping a float tile to its dtype).
    """
    h, w = lr.shape[:2]
    if not tile or (h <= tile and w <= tile):
        y = fn(lr)
        if out is None:
            return y
        out[...] = convert(y) if convert else y
        return out
    s = scale
    for (t0, t1, l0, l1), (top, bottom, left, right) in tile_boxes(h, w, tile, margin):
        y = fn(np.ascontiguousarray(lr[t0:t1, l0:l1]))
        if out is None:
            out = np.empty((h * s, w * s, y.shape[-1]), y.dtype)
        core = y[(top - t0) * s:(bottom - t0) * s, (left - l0) * s:(right - l0) * s]
        out[top * s:bottom * s, left * s:right * s] = convert(core) if convert else core
    return out


class _Collected(Exception):
    """Raised by a global pool's collector: the rest of the forward pass is not needed."""


def global_pools(model) -> list:
    """The layers of ``model`` that pool over the whole image (``global_pool = True``,
    e.g. RCAN's channel attention), in forward order."""
    return [m for _, m in model.named_modules() if getattr(m, "global_pool", False)]


@contextmanager
def fixed_global_pools(model, lr: np.ndarray, tile: int, margin: int):
    """Within the block, every global pool of ``model`` uses the weights of the whole of
    ``lr``, measured tile by tile: for each pool in order (the later ones see the earlier
    ones' fixed weights), each tile runs up to that pool, which adds its core's feature
    sums (the margin makes the core's features exact); the image mean then gives the
    weights. So a tiled pass equals the untiled one, at the cost of one partial pass per
    pool. The pooled features must be at the LR size (they are in RCAN's body)."""
    pools = global_pools(model)
    h, w = lr.shape[:2]
    try:
        for pool in pools:
            total = [None]
            for (t0, t1, l0, l1), (top, bottom, left, right) in tile_boxes(h, w, tile, margin):
                def collect(x, t0=t0, l0=l0, box=(top, bottom, left, right), t=(t1, l1)):
                    if x.shape[2:] != (t[0] - t0, t[1] - l0):
                        raise ValueError("tiling: a global pool must see LR-sized features, "
                                         f"got {x.shape[2:]} for a {t[0] - t0}x{t[1] - l0} tile")
                    core = x.data[:, :, box[0] - t0:box[1] - t0, box[2] - l0:box[3] - l0]
                    part = core.astype(np.float64).sum(axis=(2, 3))
                    total[0] = part if total[0] is None else total[0] + part
                    raise _Collected
                pool._collect = collect
                try:
                    sr_image(model, np.ascontiguousarray(lr[t0:t1, l0:l1]))
                except _Collected:
                    pass
            pool._collect = None
            dtype = model.parameters()[0].dtype
            mean = (total[0] / (h * w)).astype(dtype)[:, :, None, None]
            with no_grad():
                pool._fixed = pool.weights_of_mean(Tensor(mean, dtype=dtype))
        yield
    finally:
        for pool in pools:
            pool._collect, pool._fixed = None, None


def tiled_sr(model, lr: np.ndarray, tile: int | None, ensemble: bool = False, out=None,
             convert=None):
    """``sr_image(model, lr)`` (the x8 self-ensemble if ``ensemble``) tile by tile, equal
    to the untiled result. A model with global pools first fixes their weights from the
    whole image (``fixed_global_pools``), once per ensemble transform; its result is
    assembled in float before ``out``, so the output, not the tile, bounds its memory."""
    margin, h, w = tile_margin(model), lr.shape[0], lr.shape[1]

    def one(t):
        return sr_image(model, t)

    def fn(t):
        return self_ensemble_avg(one, t) if ensemble else one(t)
    if not global_pools(model) or not tile or (h <= tile and w <= tile):
        return tiled(fn, lr, model.scale, tile, margin, out=out, convert=convert)
    acc = None
    for k in range(8) if ensemble else [0]:
        t = np.ascontiguousarray(dihedral(lr, k))
        with fixed_global_pools(model, t, tile, margin):
            y = dihedral(tiled(one, t, model.scale, tile, margin), k, inverse=True)
        acc = y.astype(np.float64) if acc is None else acc + y
    y = (acc / 8).astype(np.float32) if ensemble else acc
    if out is None:
        return y
    out[...] = convert(y) if convert else y
    return out


def upscale_with_model(model, lr: np.ndarray, tile: int | None = None,
                       ensemble: bool = False) -> np.ndarray:
    """Enlarge an image in [0, 1] by ``model.scale``; float32, clipped to [0, 1].

    Shape:
        lr: (h, w) or (h, w, C) float in [0, 1]  ->  same layout, s h x s w
    """
    img = lr.astype(np.float64)
    squeeze = img.ndim == 2
    if squeeze:
        img = img[..., None]

    out = tiled_sr(model, img, tile, ensemble).astype(np.float32)
    return out[..., 0] if squeeze else out


def dihedral(img: np.ndarray, k: int, inverse: bool = False) -> np.ndarray:
    """The k-th of the eight flips/rotations of an (H, W, ...) image, or its inverse.

    k = 4 * flip + rot: first a left-right flip if ``flip``, then ``rot`` quarter turns;
    the inverse undoes them in the reverse order (turn back, then flip).
    """
    flip, rot = divmod(k, 4)
    if not inverse:
        img = img[:, ::-1] if flip else img
        return np.rot90(img, rot, axes=(0, 1))
    img = np.rot90(img, -rot, axes=(0, 1))
    return img[:, ::-1] if flip else img


def self_ensemble_avg(fn, lr: np.ndarray) -> np.ndarray:
    """EDSR's ``forward_x8``: the mean of ``inverse_k(fn(transform_k(lr)))`` over the eight
    dihedral transforms (``fn`` maps an (h, w, ...) image to an (s h, s w, ...) one)."""
    acc = None
    for k in range(8):
        y = dihedral(fn(np.ascontiguousarray(dihedral(lr, k))), k, inverse=True)
        acc = y.astype(np.float64) if acc is None else acc + y
    return (acc / 8).astype(np.float32)


def model_upscaler(model, tile: int | None = None, ensemble: bool = False):
    """An ``evaluate``-style upscaler ``f(lr, scale) -> sr`` running ``model``."""
    def upscaler(lr: np.ndarray, scale: int) -> np.ndarray:
        if scale != model.scale:
            raise ValueError(f"upscale: model is x{model.scale}, asked for x{scale}")
        if ensemble:
            return self_ensemble_avg(lambda im: upscale_with_model(model, im, tile), lr)
        return upscale_with_model(model, lr, tile)
    return upscaler


def multiply_adds(model, out_hw=(720, 1280)) -> int:
    """Multiply-adds of one forward pass giving an ``out_hw`` output (the SR literature
    quotes them for 1280x720), counted over every conv and transposed conv."""
    from minisr.nn import Conv2d, ConvTranspose2d
    s, total = model.scale, [0]
    convs = [m for _, m in model.named_modules() if isinstance(m, (Conv2d, ConvTranspose2d))]

    def counting(m, forward):
        def run(x, *args):
            y = forward(x, *args)
            kh, kw = m.kernel_size
            pixels = x.shape[2] * x.shape[3] if isinstance(m, ConvTranspose2d) else \
                y.shape[2] * y.shape[3]
            other = m.out_channels if isinstance(m, ConvTranspose2d) else m.in_channels
            first = m.in_channels if isinstance(m, ConvTranspose2d) else m.out_channels
            total[0] += pixels * first * other // m.groups * kh * kw
            return y
        return run
    # every way a conv runs: alone, or fused with its activation (``forward_act``)
    entries = [(m, name) for m in convs for name in ("forward", "forward_act") if hasattr(m, name)]
    for m, name in entries:
        setattr(m, name, counting(m, getattr(m, name)))
    try:
        side = 12 * s  # a small probe, scaled up to out_hw (every layer is translation-equivariant)
        c = 3 if model.colour == "rgb" else 1
        q = side if model.pre_upsampled else side // s
        _net_forward(model, np.zeros((c, q, q), np.float32))
    finally:
        for m, name in entries:
            delattr(m, name)
    return int(round(total[0] * out_hw[0] * out_hw[1] / side ** 2))


# ---- the public call -----------------------------------------------------------------

INTERPOLATIONS = ("bicubic", "bilinear", "nearest")
DEFAULT_TILE = 256  # LR pixels; EDSR-small x4 peaks near 0.3 GB per tile (benchmarks/)
MAX_OUTPUT_PIXELS = 300_000_000  # like Pillow's decompression-bomb guard; max_pixels lifts it
MAX_INTERPOLATION_SCALE = 16.0


def as_float_image(img) -> np.ndarray:
    """An image array as float64 in [0, 1], layout kept.

    uint8 is divided by 255 and uint16 by 65535; float must already lie in [0, 1] (a
    0..255 float image is refused, not misread); anything else is a one-line ValueError.

    Shape:
        img: (H, W) or (H, W, C), C in 1..4 (2 and 4: alpha last)
    """
    a = np.asarray(img)
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (1, 2, 3, 4)):
        raise ValueError(f"upscale: expected an (H, W) or (H, W, C) image with C in 1..4, "
                         f"got shape {a.shape}")
    if 0 in a.shape:
        raise ValueError(f"upscale: the image is empty (shape {a.shape})")
    if a.dtype == np.uint8:
        return a.astype(np.float64) / 255.0
    if a.dtype == np.uint16:
        return a.astype(np.float64) / 65535.0
    if a.dtype.kind != "f":
        raise ValueError(f"upscale: unsupported pixel type {a.dtype} (use uint8, uint16 or "
                         f"float in [0, 1])")
    if not np.isfinite(a).all():
        raise ValueError("upscale: the image contains NaN or inf")
    lo, hi = float(a.min()), float(a.max())
    if lo < -1e-6 or hi > 1 + 1e-6:
        raise ValueError(f"upscale: float images must lie in [0, 1], got [{lo:.4g}, {hi:.4g}]"
                         f" (pass uint8 for 0..255 data)")
    return np.clip(a.astype(np.float64), 0.0, 1.0)


@lru_cache(maxsize=16)
def _pretrained(name: str, scale: int):
    return load_pretrained(name, scale)


@lru_cache(maxsize=4)
def _interpolated(name: str, scale: int, alpha: float):
    return interpolate(_pretrained(*twin(name, scale)), _pretrained(name, scale), alpha)


def check_interpolation(model, scale, alpha) -> float:
    """Validate ``upscale(..., model, alpha=alpha)`` without loading any weights: ``alpha``
    a finite number in [0, 1], ``model`` the name of a shipped model whose manifest entry
    names a PSNR twin. Returns alpha as a float; a one-line ValueError otherwise."""
    if not isinstance(model, str):
        raise ValueError("upscale: alpha blends a shipped model with its PSNR twin, so "
                         "model must be a name, not a Module (see minisr.models.interpolate)")
    if model in INTERPOLATIONS:
        raise ValueError(f"upscale: alpha needs a model with a PSNR twin, not {model}")
    alpha = check_alpha(alpha, where="upscale")
    _check_shipped(model, scale)
    if twin(model, int(scale)) is None:
        raise ValueError(f"upscale: model {model} x{int(scale)} has no PSNR twin to "
                         f"interpolate with (alpha needs a GAN model such as edsr-small-gan)")
    return alpha


def _check_shipped(model: str, scale) -> None:
    if int(scale) != scale:
        raise ValueError(f"upscale: model {model} needs an integer scale, got {scale}")
    shipped = sorted({n for n, _ in pretrained()})
    if model not in shipped:
        raise ValueError(f"upscale: unknown model {model!r}; choose "
                         f"{', '.join(INTERPOLATIONS + tuple(shipped))}")


def resolve_model(model, scale, alpha: float | None = None):
    """'bicubic' | 'bilinear' | 'nearest' (returned as the string), a shipped model's
    name (loaded once and cached), or a Module (checked against ``scale``). With
    ``alpha``, the named model blended with its PSNR twin (``check_interpolation``)."""
    if alpha is not None:
        alpha = check_interpolation(model, scale, alpha)
        return _interpolated(model, int(scale), alpha)
    if isinstance(model, str):
        if model in INTERPOLATIONS:
            return model
        _check_shipped(model, scale)
        return _pretrained(model, int(scale))
    if getattr(model, "scale", None) != scale:
        raise ValueError(f"upscale: the model is x{getattr(model, 'scale', '?')}, "
                         f"asked for x{scale}")
    return model


def upscale(img, scale=3, model="espcn", tile: int | None = None,
            self_ensemble: bool = False, max_pixels: int | None = MAX_OUTPUT_PIXELS,
            dtype=np.float32, alpha: float | None = None) -> np.ndarray:
    """Super-resolve an image by ``scale`` with a shipped model or an interpolation.

    Y-channel models enlarge Y with the network and Cb/Cr with bicubic; RGB models take
    RGB; gray in gives gray out; alpha is enlarged with bicubic and re-attached.

    Parameters
    ----------
    img : (H, W) or (H, W, C) array: uint8, uint16, or float in [0, 1].
    scale : the factor; 2, 3 or 4 for models (any in (0, 16] for interpolations).
    model : a name from ``minisr.models.pretrained()``, 'bicubic', 'bilinear', 'nearest',
        or a Module.
    tile : tile side in input pixels (None: ``DEFAULT_TILE``; 0: the whole image at once).
    self_ensemble : average the eight flips/rotations (EDSR's x8; models only).
    max_pixels : refuse outputs larger than this many pixels (None lifts the guard).
    dtype : float32 (default, in [0, 1]), or uint8 / uint16 to get the rounded image
        without ever holding a float copy of the whole output.
    alpha : ESRGAN's network interpolation, for a GAN model whose manifest entry names a
        PSNR twin (``minisr.models.twin``): the weights alpha * twin + (1 - alpha) * model,
        so 1 gives the PSNR twin's result and 0 the GAN model's. None: the model as is.

    Returns
    -------
    The enlarged image, the input's layout.
    """
    x = as_float_image(img)
    if not (isinstance(scale, (int, float, np.integer, np.floating)) and scale > 0):
        raise ValueError(f"upscale: scale must be a positive number, got {scale!r}")
    net = resolve_model(model, scale, alpha)
    is_interp = isinstance(net, str)
    if is_interp and scale > MAX_INTERPOLATION_SCALE:
        raise ValueError(f"upscale: scale {scale} is above {MAX_INTERPOLATION_SCALE:g}")
    h, w = x.shape[:2]
    out_h, out_w = int(np.ceil(h * scale)), int(np.ceil(w * scale))
    if max_pixels is not None and out_h * out_w > max_pixels:
        raise ValueError(f"upscale: the result would be {out_h}x{out_w} = "
                         f"{out_h * out_w:,} pixels, above the limit of {max_pixels:,} "
                         f"(lift it with max_pixels / --max-pixels)")
    if is_interp:
        if self_ensemble:
            raise ValueError("upscale: --self-ensemble needs a model, not an interpolation")
        y = np.clip(resize(x, float(scale), method=net), 0.0, 1.0)
        return _to_dtype(y, dtype)
    squeeze = x.ndim == 2
    x3 = x[..., None] if squeeze else x

    tile = DEFAULT_TILE if tile is None else int(tile)
    c = x3.shape[-1]
    out = np.empty((h * net.scale, w * net.scale, c), dtype)
    tiled_sr(net, x3, tile, self_ensemble, out=out, convert=lambda t: _to_dtype(t, dtype))
    return out[..., 0] if squeeze else out


def _to_dtype(y: np.ndarray, dtype) -> np.ndarray:
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return to_uint8(y)
    if dtype == np.uint16:
        return np.floor(np.clip(y, 0.0, 1.0) * 65535.0 + 0.5).astype(np.uint16)
    return y.astype(dtype)


__all__ = ["DEFAULT_TILE", "INTERPOLATIONS", "MAX_INTERPOLATION_SCALE", "MAX_OUTPUT_PIXELS",
           "as_float_image", "check_interpolation", "dihedral", "fixed_global_pools",
           "global_pools", "model_upscaler", "multiply_adds", "resolve_model",
           "self_ensemble_avg", "sr_image", "tile_boxes", "tile_margin", "tiled", "tiled_sr",
           "upscale", "upscale_with_model"]
