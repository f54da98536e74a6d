"""Running a model on an image: colour handling, pre-upsampling, tiling.

A Y model (SRCNN, FSRCNN, ESPCN) enlarges the BT.601 Y channel; Cb and Cr follow with
bicubic, as the papers do. An RGB model (EDSR) takes RGB. Gray in gives gray out, treated
as R = G = B. Large images run in overlapping tiles whose overlap covers the model's
receptive radius, so tiled and untiled results agree to float tolerance.
"""
from __future__ import annotations

import numpy as np

from minisr.autograd import Tensor, no_grad
from minisr.data.dataset import to_network
from minisr.image.color import rgb_to_ycbcr, ycbcr_to_rgb
from minisr.image.resize import resize


def _net_forward(model, x: np.ndarray) -> np.ndarray:
    """(C, h, w) float32 -> the network's (C, H, W) output, without a graph."""
    with no_grad():
        return model(Tensor(x[None], dtype=np.float32)).data[0]


def run_network(model, x: np.ndarray, tile: int | None = None) -> np.ndarray:
    """The network on a (C, h, w) input, whole or in overlapping ``tile``-sized tiles.

    ``tile`` is in input pixels (LR, or upscaled for pre-upsampled models); each tile is
    grown by ``model.receptive_radius`` on every side, and only its core is kept.
    """
    f = 1 if model.pre_upsampled else model.scale
    C, h, w = x.shape
    if tile is None or (h <= tile and w <= tile):
        return _net_forward(model, x)
    r = int(model.receptive_radius)
    out = None
    for top in range(0, h, tile):
        for left in range(0, w, tile):
            t0, l0 = max(top - r, 0), max(left - r, 0)
            t1, l1 = min(top + tile + r, h), min(left + tile + r, w)
            y = _net_forward(model, np.ascontiguousarray(x[:, t0:t1, l0:l1]))
            if out is None:
                out = np.empty((y.shape[0], h * f, w * f), np.float32)
            bottom, right = min(top + tile, h), min(left + tile, w)
            out[:, top * f:bottom * f, left * f:right * f] = \
                y[:, (top - t0) * f:(bottom - t0) * f, (left - l0) * f:(right - l0) * f]
    return out


def upscale_with_model(model, lr: np.ndarray, tile: int | None = None) -> np.ndarray:
    """Enlarge an (h, w, C) image in [0, 1] by ``model.scale``; float32, clipped to [0, 1].

    Shape:
        lr: (h, w) or (h, w, 1) or (h, w, 3) float in [0, 1]  ->  same layout, s h x s w
    """
    s = model.scale
    img = lr.astype(np.float64)
    squeeze = img.ndim == 2
    if squeeze:
        img = img[..., None]
    gray = img.shape[-1] == 1
    if model.colour == "y":
        x = to_network(img, "y")
        cbcr = None if gray else resize(rgb_to_ycbcr(img)[..., 1:], float(s))
    else:
        x = to_network(img, "rgb")
    if model.pre_upsampled:
        x = np.ascontiguousarray(resize(x.transpose(1, 2, 0).astype(np.float64), float(s))
                                 .reshape(img.shape[0] * s, img.shape[1] * s, -1)
                                 .transpose(2, 0, 1), dtype=np.float32)
    y = run_network(model, x, tile).transpose(1, 2, 0).astype(np.float64)
    if model.colour == "y":
        if gray:
            out = (y * 255.0 - 16.0) / 219.0
        else:
            out = ycbcr_to_rgb(np.concatenate([y, cbcr], axis=-1))
    else:
        out = y.mean(axis=-1, keepdims=True) if gray else y
    out = np.clip(out, 0.0, 1.0).astype(np.float32)
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


def self_ensemble(fn, lr: np.ndarray) -> np.ndarray:
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
            return self_ensemble(lambda im: upscale_with_model(model, im, tile), lr)
        return upscale_with_model(model, lr, tile)
    return upscaler


def multiply_adds(model, out_hw=(720, 1280)) -> int:
    """Multiply-adds of one forward pass giving an ``out_hw`` output (the SR literature
    quotes them for 1280x720), counted over every conv and transposed conv."""
    from minisr.nn import Conv2d, ConvTranspose2d
    s, total = model.scale, [0]
    convs = [m for _, m in model.named_modules() if isinstance(m, (Conv2d, ConvTranspose2d))]
    originals = {}

    def counting(m, forward):
        def run(x):
            y = forward(x)
            kh, kw = m.kernel_size
            pixels = x.shape[2] * x.shape[3] if isinstance(m, ConvTranspose2d) else \
                y.shape[2] * y.shape[3]
            other = m.out_channels if isinstance(m, ConvTranspose2d) else m.in_channels
            first = m.in_channels if isinstance(m, ConvTranspose2d) else m.out_channels
            total[0] += pixels * first * other // m.groups * kh * kw
            return y
        return run
    for m in convs:
        originals[id(m)] = m.forward
        m.forward = counting(m, m.forward)
    try:
        side = 12 * s  # a small probe, scaled up to out_hw (every layer is translation-equivariant)
        c = 3 if model.colour == "rgb" else 1
        q = side if model.pre_upsampled else side // s
        _net_forward(model, np.zeros((c, q, q), np.float32))
    finally:
        for m in convs:
            del m.forward
    return int(round(total[0] * out_hw[0] * out_hw[1] / side ** 2))
