"""Space-to-depth: a stride-s convolution as a stride-1 one on s*s times the channels.

Cut the padded input into sh x sw blocks and stack each block's pixels as channels (what
``pixel_unshuffle`` does, in its channel order):

    x_s[n, (c*sh + a)*sw + b, I, J] = x_pad[n, c, I*sh + a, J*sw + b]

Tap (p, q) of output (i, j) reads x_pad[n, c, i*sh + p, j*sw + q]; writing p = P*sh + a and
q = Q*sw + b, that is x_s[n, (c*sh + a)*sw + b, i + P, j + Q], a stride-1 tap. So

    conv2d(x, w, stride=s, padding=p) = conv2d(x_s, w_s, stride=1, padding=0)
    w_s[o, (c*sh + a)*sw + b, P, Q] = w[o, c, P*sh + a, Q*sw + b]    (0 where past KH, KW)

with w_s of shape (C_out, C_in/groups*sh*sw, ceil(KH/sh), ceil(KW/sw)); a group's channels
stay one contiguous block, so ``groups`` carries over. Both rearrangements are linear maps
(permutations plus zeros), so the backward passes follow by adjointness: dL/dx is the
stride-1 dL/dx_s put back with ``depth_to_space``, dL/dw is dL/dw_s put back with
``weight_from_depth``. The stride-1 passes then run on the stride-1 paths (kn2row, or an
im2col that copies unit-stride rows) instead of a strided gather. x_s is never stored whole
on those paths: ``DepthImages`` writes it, a few images at a time, into the zero-bordered
scratch copy of the input that each of them makes anyway (``_conv_gemm._copy_images``).
``_conv_paths.choose_path`` decides when. Read next: ``_conv_paths.py``.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, uint64

from minisr.kernels._conv_blocks import split
from minisr.kernels._threads import for_items

__all__ = ["depth_size", "DepthImages", "depth_to_space", "weight_to_depth",
           "weight_from_depth"]


def depth_size(out: int, k: int, s: int) -> int:
    """Rows (or columns) of x_s that a stride-1 conv with ceil(k/s) taps needs for ``out``
    outputs: out + ceil(k/s) - 1 blocks."""
    return out - (-k // s) - 1


@njit(cache=True, nogil=True)
def _ranges(b, pad, s, size, blocks):
    """Blocks J whose pixel J*s + b - pad lies inside 0 .. size-1: [j0, j1) (clipped)."""
    j0 = min(blocks, max(0, -((b - pad) // s)))
    j1 = max(j0, min(blocks, (size - 1 + pad - b) // s + 1))
    return j0, j1


@njit(cache=True, nogil=True)
def _to_depth(x, xs, c0, c1, sh, sw, ph, pw):
    """xs[(c*sh + a)*sw + b, I, J] = x[c, I*sh + a - ph, J*sw + b - pw], 0 outside x, for
    channels c0 <= c < c1 of one image (x: (C, H, W); xs: (C*sh*sw, Hs, Ws), any strides)."""
    H, W = x.shape[1:]
    Hs, Ws = xs.shape[1:]
    zero = x.dtype.type(0)
    for c in range(c0, c1):
        for a in range(sh):
            for b in range(sw):
                out = xs[(c * sh + a) * sw + b]
                j0, j1 = _ranges(b, pw, sw, W, Ws)
                first = uint64(max(0, j0 * sw + b - pw))   # the first column read
                for i in range(Hs):
                    h = i * sh + a - ph
                    row = out[i]
                    if h < 0 or h >= H:
                        row[:] = zero
                        continue
                    src = x[c, h]
                    row[:j0] = zero
                    row[j1:] = zero
                    for j in range(uint64(j1 - j0)):   # unsigned: no wraparound checks
                        row[uint64(j0) + j] = src[first + j * uint64(sw)]


@njit(cache=True, nogil=True)
def _from_depth(dxs, dx, c0, c1, sh, sw, ph, pw):
    """dx[c, h, w] = dxs[(c*sh + a)*sw + b, I, J] with h + ph = I*sh + a and w + pw = J*sw + b,
    for channels c0 <= c < c1 of one image; 0 for the pixels past the last block, which no
    output read. A gather: every dx pixel is written once."""
    H, W = dx.shape[1:]
    Hs, Ws = dxs.shape[1:]
    zero = dx.dtype.type(0)
    tail = min(W, max(0, Ws * sw - pw))            # first column past the last block
    for c in range(c0, c1):
        for h in range(H):
            i, a = (h + ph) // sh, (h + ph) % sh
            row = dx[c, h]
            if i >= Hs:
                row[:] = zero
                continue
            for b in range(sw):
                src = dxs[(c * sh + a) * sw + b, i]
                j0, j1 = _ranges(b, pw, sw, W, Ws)
                first = uint64(max(0, j0 * sw + b - pw))
                for j in range(uint64(j1 - j0)):
                    row[first + j * uint64(sw)] = src[uint64(j0) + j]
            row[tail:] = zero


def _items(N, C):
    """(image, first channel, last channel) items: whole images, or channel ranges of each
    image when there are fewer images than threads."""
    T = numba.get_num_threads()
    k = 1 if N >= T else min(T, C)
    return [(n, c0, c1) for n in range(N) for c0, c1 in split(C, k)]


class DepthImages:
    """x_s of a stride-s conv (module docstring), made on demand: the stride-1 paths read
    ``shape``, ``dtype`` and ``itemsize`` like an array's and get their images through
    ``copy_images``, written straight into their own scratch; ``array`` makes all of it
    (for the paths that read x itself: Winograd, pointwise, the direct dL/dw).

    Shape:
        x: (N, C, H, W)    x_s: (N, C*sh*sw, Hs, Ws); block rows past H + 2*ph are 0, and
        input rows past Hs*sh (which no output reads) are dropped
    """

    def __init__(self, x: np.ndarray, s: tuple, p: tuple, Hs: int, Ws: int):
        self.x, self.s, self.p = x, s, p
        N, C = x.shape[:2]
        self.shape = (N, C * s[0] * s[1], Hs, Ws)
        self.dtype, self.itemsize = x.dtype, x.itemsize

    def copy_images(self, out: np.ndarray, n0: int, nb: int) -> None:
        """out[k] = x_s[n0 + k] for k < nb, on this thread (out: (nb, C*sh*sw, Hs, Ws))."""
        C = self.x.shape[1]
        for k in range(nb):
            _to_depth(self.x[n0 + k], out[k], 0, C, *self.s, *self.p)

    def array(self) -> np.ndarray:
        """All of x_s, its images (or channel ranges) on minisr's threads."""
        xs = np.empty(self.shape, dtype=self.dtype)
        for_items(_items(*self.x.shape[:2]),
                  lambda t, _: _to_depth(self.x[t[0]], xs[t[0]], t[1], t[2], *self.s, *self.p))
        return xs


def depth_to_space(dxs: np.ndarray, s: tuple, p: tuple, x_shape: tuple) -> np.ndarray:
    """The adjoint of space-to-depth: the gradient of x from the gradient of x_s.

    Shape:
        dxs: (N, C*sh*sw, Hs, Ws)    dx: x_shape = (N, C, H, W)
    """
    dxs = np.ascontiguousarray(dxs)
    dx = np.empty(x_shape, dtype=dxs.dtype)
    for_items(_items(*x_shape[:2]),
              lambda t, _: _from_depth(dxs[t[0]], dx[t[0]], t[1], t[2], *s, *p))
    return dx


def weight_to_depth(w: np.ndarray, s: tuple) -> np.ndarray:
    """w_s[o, (c*sh + a)*sw + b, P, Q] = w[o, c, P*sh + a, Q*sw + b], 0 past KH, KW.

    Shape:
        w: (C_out, Cg, KH, KW)    w_s: (C_out, Cg*sh*sw, ceil(KH/sh), ceil(KW/sw))
    """
    C_out, Cg, KH, KW = w.shape
    sh, sw = s
    Kh, Kw = -(-KH // sh), -(-KW // sw)
    wp = np.zeros((C_out, Cg, Kh * sh, Kw * sw), dtype=w.dtype)
    wp[:, :, :KH, :KW] = w
    return np.ascontiguousarray(wp.reshape(C_out, Cg, Kh, sh, Kw, sw).transpose(0, 1, 3, 5, 2, 4)
                                ).reshape(C_out, Cg * sh * sw, Kh, Kw)


def weight_from_depth(dws: np.ndarray, s: tuple, w_shape: tuple) -> np.ndarray:
    """The adjoint of ``weight_to_depth``: dw from dw_s (the zero taps' gradients dropped).

    Shape:
        dws: (C_out, Cg*sh*sw, ceil(KH/sh), ceil(KW/sw))    dw: w_shape = (C_out, Cg, KH, KW)
    """
    C_out, Cg, KH, KW = w_shape
    sh, sw = s
    Kh, Kw = dws.shape[2:]
    dwp = dws.reshape(C_out, Cg, sh, sw, Kh, Kw).transpose(0, 1, 4, 2, 5, 3)
    return np.ascontiguousarray(dwp.reshape(C_out, Cg, Kh * sh, Kw * sw)[:, :, :KH, :KW])
