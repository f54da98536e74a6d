"""SR-LUT (Jo and Kim, CVPR 2021): a network small enough to become a look-up table.

The network sees only a 2x2 window of one colour channel (a 2x2 conv, then 1x1 convs), so
its r x r output block is a function of four bytes and can be tabulated. Its receptive
field is widened for free by the rotation ensemble: the network runs on the image turned
by 0, 90, 180 and 270 degrees (each padded by one row and column, reflected), each result
is turned back, and the four are summed, so every output block sees the 3x3 window around
its pixel. Training uses that ensemble end to end. ``net_to_lut`` then evaluates the
network once per sampled input (4-bit: 17^4 = 83,521 windows) and stores
round(127 clamp(out, -1, 1)) as int8; ``SRLUT`` runs the table with the 4-simplex
interpolation of ``kernels/lut.py``. Read next: ``kernels/lut.py``.
"""
from __future__ import annotations

import numpy as np

from minisr.autograd import Tensor, no_grad
from minisr.kernels.lut import lut_interp_cpu, sample_levels
from minisr.nn import Conv2d, Module, PixelShuffle
from minisr.ops import functional as F

# the ensemble's scaling: each rotation contributes 127 clamp(out, -1, 1) / 255
OUT_SCALE = 127.0 / 255.0


def rot90(x: Tensor, k: int) -> Tensor:
    """x turned by k quarter turns counter-clockwise on its last two axes, as
    ``torch.rot90(x, k, [2, 3])`` / ``np.rot90(x, k, axes=(2, 3))``; differentiable."""
    k %= 4
    if k == 0:
        return x
    if k == 2:
        return F.getitem(x, (Ellipsis, slice(None, None, -1), slice(None, None, -1)))
    if k == 1:
        return F.transpose_last(F.getitem(x, (Ellipsis, slice(None, None, -1))))
    return F.getitem(F.transpose_last(x), (Ellipsis, slice(None, None, -1)))


def pad_next(x: Tensor) -> Tensor:
    """One more row and column at the bottom and right, reflected as SR-LUT pads (a copy
    of the row and column before the last); a side of 1 pixel repeats its pixel."""
    h, w = x.shape[-2:]
    if min(h, w) >= 2:
        return F.pad(x, (0, 1, 0, 1), mode="reflect")
    i, j = max(h - 2, 0), max(w - 2, 0)
    x = F.concat([x, F.getitem(x, (Ellipsis, slice(i, i + 1), slice(None)))], axis=2)
    return F.concat([x, F.getitem(x, (Ellipsis, slice(j, j + 1)))], axis=3)


def _pad_next_np(plane: np.ndarray) -> np.ndarray:
    """``pad_next`` of one (h, w) array."""
    i, j = max(plane.shape[0] - 2, 0), max(plane.shape[1] - 2, 0)
    plane = np.concatenate([plane, plane[i:i + 1]], axis=0)
    return np.concatenate([plane, plane[:, j:j + 1]], axis=1)


def clamp_unit(x: Tensor) -> Tensor:
    """clamp(x, -1, 1) = relu(x + 1) - relu(x - 1) - 1 (gradient 1 inside, 0 outside)."""
    return F.relu(x + 1.0) - F.relu(x - 1.0) - 1.0


class SRLUTNet(Module):
    """SR-LUT-S's network with its rotation ensemble, on every colour channel alike.

    ::

        one channel, turned by k quarter turns, padded (0, 1, 0, 1) reflect  (B, 1, h+1, w+1)
          conv1       conv 2x2, 1 -> F                                       (B, F, h, w)
          conv2..5    4 x [ReLU, conv 1x1, F -> F]                           (B, F, h, w)
          conv6       ReLU, conv 1x1, F -> r^2; shuffle(r); turned back      (B, 1, r h, r w)
        y = sum over k of 127 / 255 * clamp(block_k, -1, 1)

    Parameters: 16,960 + 65 r^2 (18,000 at x4), 64 features.

    Equivalent PyTorch module: the authors' ``SRNet(upscale)`` (conv1 ... conv6,
    ``pixel_shuffle``, same names and layouts), with the ensemble written around it as here.

    Shape:
        x: (N, C, h, w) LR in [0, 1]    y: (N, C, h * scale, w * scale)

    References:
        Y. Jo, S. J. Kim, "Practical Single-Image Super-Resolution Using Look-Up Table",
        CVPR 2021.
    """

    colour = "rgb"
    pre_upsampled = False
    receptive_radius = 1  # the ensemble's 3x3 window

    def __init__(self, scale: int = 4, num_features: int = 64, residual: bool = False):
        if residual:
            raise ValueError("SR-LUT: residual=True is not supported (the table holds the "
                             "whole output)")
        self.scale, self.residual, self.num_features = scale, False, num_features
        self.conv1 = Conv2d(1, num_features, 2)
        self.conv2 = Conv2d(num_features, num_features, 1)
        self.conv3 = Conv2d(num_features, num_features, 1)
        self.conv4 = Conv2d(num_features, num_features, 1)
        self.conv5 = Conv2d(num_features, num_features, 1)
        self.conv6 = Conv2d(num_features, scale * scale, 1)
        self.pixel_shuffle = PixelShuffle(scale)

    def block(self, windows: Tensor) -> Tensor:
        """The network alone: (B, 1, h+1, w+1) -> (B, 1, r h, r w), no clamp."""
        f = self.conv1(windows)
        for conv in (self.conv2, self.conv3, self.conv4, self.conv5, self.conv6):
            f = conv(F.relu(f))
        return self.pixel_shuffle(f)

    def forward(self, x: Tensor) -> Tensor:
        N, C, h, w = x.shape
        planes = F.reshape(x, (N * C, 1, h, w))
        total = None
        for k in range(4):
            turned = pad_next(rot90(planes, k))
            part = rot90(clamp_unit(self.block(turned)), -k) * OUT_SCALE
            total = part if total is None else total + part
        return F.reshape(total, (N, C, h * self.scale, w * self.scale))


def net_to_lut(net: SRLUTNet, bits: int = 4) -> np.ndarray:
    """The network tabulated: row ((ia L + ib) L + ic) L + id holds
    round(127 clamp(block(a, b; c, d), -1, 1)) as int8 for the sampled levels
    (``kernels.lut.sample_levels``) a, b, c, d of the window's four pixels, L = 2^bits + 1.

    Shape: (L^4, r^2) int8
    """
    lv = sample_levels(bits).astype(np.float32) / 255.0
    a, b, c, d = np.meshgrid(lv, lv, lv, lv, indexing="ij")
    windows = np.stack([a.ravel(), b.ravel(), c.ravel(), d.ravel()], 1).reshape(-1, 1, 2, 2)
    r = net.scale
    dtype = net.parameters()[0].dtype
    rows = []
    with no_grad():
        for start in range(0, len(windows), 8192):
            out = net.block(Tensor(windows[start:start + 8192], dtype=dtype)).data
            rows.append(out.reshape(-1, r * r))  # (r, r) block, row-major = i r + j
    table = np.clip(np.concatenate(rows), -1.0, 1.0) * 127.0
    return np.round(table).astype(np.int8)


class SRLUT(Module):
    """The table at inference: per channel and rotation, ``kernels.lut`` interpolates the
    int8 table at every 2x2 window of the 8-bit input; the four rotations turned back and
    summed, over 255. The input is rounded to 8 bits first (the table's inputs are bytes).

    ``lut`` is a buffer (int8, (L^4, r^2)), so it saves and loads with the state_dict.

    Shape:
        x: (N, C, h, w) LR in [0, 1]    y: (N, C, h * scale, w * scale)
    """

    colour = "rgb"
    pre_upsampled = False
    receptive_radius = 1

    def __init__(self, scale: int = 4, bits: int = 4, residual: bool = False):
        if residual:
            raise ValueError("SR-LUT: residual=True is not supported")
        self.scale, self.bits, self.residual = scale, bits, False
        L = 2 ** bits + 1
        self.register_buffer("lut", np.zeros((L ** 4, scale * scale), np.int8))

    def forward(self, x: Tensor) -> Tensor:
        img = np.clip(np.round(np.asarray(x.data, dtype=np.float64) * 255.0), 0, 255)
        img = img.astype(np.uint8)
        N, C, h, w = img.shape
        r, lut = self.scale, np.asarray(self.lut.data)
        out = np.zeros((N, C, h * r, w * r))
        for n in range(N):
            for c in range(C):
                for k in range(4):
                    turned = _pad_next_np(np.rot90(img[n, c], k))
                    out[n, c] += np.rot90(lut_interp_cpu(turned, lut, self.bits, r), -k)
        return Tensor((out / 255.0).astype(x.dtype))


__all__ = ["OUT_SCALE", "SRLUT", "SRLUTNet", "clamp_unit", "net_to_lut", "pad_next", "rot90"]
