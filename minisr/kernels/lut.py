"""Look-up-table upsampling (SR-LUT, Jo and Kim, CVPR 2021): 4-simplex interpolation.

SR-LUT's network sees a 2x2 patch of 8-bit pixels (a, b, c, d) and gives r*r output
pixels, so it is a function of four bytes: it can be stored as a table. Storing all 256^4
inputs is too much, so the table holds the outputs at inputs sampled every q = 2^(8 - bits)
levels (17 samples per axis for 4 bits: 0, 16, ..., 240, 255), and values in between are
interpolated. In 4-D a cell of the sampling grid has 16 corners; instead of weighing all
16 (quadrilinear), the 4-simplex scheme splits the cell into 24 simplices and weighs only
the 5 corners of the one that holds the point: with the fractional parts sorted,
f1 >= f2 >= f3 >= f4 (each in [0, q)), walk from the cell's lowest corner along the axis of
f1, then of f2, f3 and f4, and weigh the five corners visited by

    (q - f1), (f1 - f2), (f2 - f3), (f3 - f4), f4        (they sum to q).

Within each simplex the result is linear in (a, b, c, d), and it is continuous across
simplices; a table of a linear function is reproduced exactly. Read next:
``models/srlut.py`` (the network, the rotation ensemble, the transfer to a table).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["lut_interp_ref", "lut_interp_cpu", "sample_levels"]


def sample_levels(bits: int) -> np.ndarray:
    """The sampled input levels of one axis: 0, q, 2q, ..., 256 - q, then 255 (as SR-LUT:
    256 itself is not a byte), q = 2^(8 - bits); 2^bits + 1 of them."""
    q = 2 ** (8 - bits)
    levels = np.arange(0, 257, q)
    levels[-1] = 255
    return levels


# --- reference --------------------------------------------------------------------------

def lut_interp_ref(img: np.ndarray, lut: np.ndarray, bits: int, r: int) -> np.ndarray:
    """Interpolate the table at every 2x2 window of a padded 8-bit image.

    out[y*r + i, x*r + j] = sum_k w_k lut[corner_k, i*r + j] / q, where the window is
    a = img[y, x], b = img[y, x+1], c = img[y+1, x], d = img[y+1, x+1], each split into
    its sample index v // q and fraction v % q, and (corner_k, w_k) are the 4-simplex
    corners and weights of the module docstring. The table is indexed
    ((ia * L + ib) * L + ic) * L + id, L = 2^bits + 1.

    Shape:
        img: (H + 1, W + 1) uint8 (the image padded by one row and column)
        lut: (L^4, r*r) int8 or float     out: (H*r, W*r) float64
    """
    q, L = 2 ** (8 - bits), 2 ** bits + 1
    H, W = img.shape[0] - 1, img.shape[1] - 1
    out = np.zeros((H * r, W * r))
    strides = (L ** 3, L ** 2, L, 1)
    for y in range(H):
        for x in range(W):
            window = [int(img[y, x]), int(img[y, x + 1]), int(img[y + 1, x]),
                      int(img[y + 1, x + 1])]
            base = sum((v // q) * s for v, s in zip(window, strides))
            frac = [v % q for v in window]
            order = sorted(range(4), key=lambda k: -frac[k])  # largest fraction first
            corner, prev, value = base, q, np.zeros(r * r)
            for k in order:
                value += (prev - frac[k]) * lut[corner].astype(np.float64)
                corner += strides[k]
                prev = frac[k]
            value += prev * lut[corner].astype(np.float64)
            out[y * r:(y + 1) * r, x * r:(x + 1) * r] = (value / q).reshape(r, r)
    return out


# --- fast -------------------------------------------------------------------------------

@njit(parallel=True, cache=True)
def _lut_interp(img, lut, q, L, r, out):
    H, W = img.shape[0] - 1, img.shape[1] - 1
    s0, s1, s2 = L * L * L, L * L, L
    for y in prange(H):
        v = np.empty(4, np.int64)
        f = np.empty(4, np.int64)
        stride = np.empty(4, np.int64)
        idx = np.empty(4, np.int64)
        for x in range(W):
            v[0], v[1], v[2], v[3] = img[y, x], img[y, x + 1], img[y + 1, x], img[y + 1, x + 1]
            stride[0], stride[1], stride[2], stride[3] = s0, s1, s2, 1
            corner = 0
            for k in range(4):
                corner += (v[k] // q) * stride[k]
                f[k] = v[k] % q
                idx[k] = k
            # insertion sort of the four axes by fraction, largest first (stable, as the ref)
            for i in range(1, 4):
                j = i
                while j > 0 and f[idx[j - 1]] < f[idx[j]]:
                    idx[j - 1], idx[j] = idx[j], idx[j - 1]
                    j -= 1
            prev = q
            for t in range(r * r):
                out[y * r + t // r, x * r + t % r] = 0.0
            for n in range(5):
                if n < 4:
                    w = prev - f[idx[n]]
                else:
                    w = prev
                if w != 0:
                    for t in range(r * r):
                        out[y * r + t // r, x * r + t % r] += w * lut[corner, t]
                if n < 4:
                    corner += stride[idx[n]]
                    prev = f[idx[n]]
            for t in range(r * r):
                out[y * r + t // r, x * r + t % r] /= q


def lut_interp_cpu(img: np.ndarray, lut: np.ndarray, bits: int, r: int) -> np.ndarray:
    """``lut_interp_ref`` in one parallel Numba pass over the rows (same signature)."""
    img = np.ascontiguousarray(img, dtype=np.uint8)
    lut = np.ascontiguousarray(lut)
    out = np.empty(((img.shape[0] - 1) * r, (img.shape[1] - 1) * r))
    _lut_interp(img, lut, 2 ** (8 - bits), 2 ** bits + 1, r, out)
    return out
