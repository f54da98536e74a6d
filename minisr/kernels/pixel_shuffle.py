"""Pixel shuffle (sub-pixel convolution) and its inverse, pixel unshuffle.

ESPCN (Shi et al., 2016) upsamples at the very end of the network: a convolution makes
C*r*r channels at low resolution, and pixel shuffle rearranges each group of r*r channels
into an r x r block of output pixels. The channel order is PyTorch's (ONNX DepthToSpace
"CRD"); TensorFlow's depth_to_space ("DCR") puts the block index first and differs when
C > 1. Both functions are permutations, so each is the other's inverse AND its adjoint:
the backward of one is the forward of the other. Read next: ``ops/pixel_shuffle.py``.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["pixel_shuffle_ref", "pixel_unshuffle_ref", "pixel_shuffle_cpu", "pixel_unshuffle_cpu"]


# --- reference --------------------------------------------------------------------------

def pixel_shuffle_ref(x: np.ndarray, r: int) -> np.ndarray:
    """Rearrange channels into r x r spatial blocks (depth to space, CRD order).

    y[n, c, h*r + i, w*r + j] = x[n, c*r*r + i*r + j, h, w]

    The backward is :func:`pixel_unshuffle_ref`: dx = pixel_unshuffle(dy, r).

    Shape:
        x: (N, C*r*r, H, W)    y: (N, C, H*r, W*r), same dtype as x

    Parameters
    ----------
    x : ndarray
        Input; any dtype, any strides.
    r : int
        Upscale factor.

    Returns
    -------
    y : ndarray
        A new C-contiguous array.

    References
    ----------
    Shi et al., "Real-Time Single Image and Video Super-Resolution Using an Efficient
    Sub-Pixel Convolutional Neural Network", CVPR 2016.
    """
    N, Crr, H, W = x.shape
    C = Crr // (r * r)
    y = np.empty((N, C, H * r, W * r), dtype=x.dtype)
    for c in range(C):
        for i in range(r):
            for j in range(r):
                # Rows i, i+r, i+2r, ... and columns j, j+r, ... of output channel c all
                # come from one input channel, c*r*r + i*r + j.
                y[:, c, i::r, j::r] = x[:, c * r * r + i * r + j, :, :]
    return y


def pixel_unshuffle_ref(x: np.ndarray, r: int) -> np.ndarray:
    """Rearrange r x r spatial blocks into channels (space to depth, CRD order).

    y[n, c*r*r + i*r + j, h, w] = x[n, c, h*r + i, w*r + j]

    The inverse of :func:`pixel_shuffle_ref`, and also its backward (a permutation's
    adjoint is its inverse): dx = pixel_shuffle(dy, r).

    Shape:
        x: (N, C, H*r, W*r)    y: (N, C*r*r, H, W), same dtype as x
    """
    N, C, Hr, Wr = x.shape
    H, W = Hr // r, Wr // r
    y = np.empty((N, C * r * r, H, W), dtype=x.dtype)
    for c in range(C):
        for i in range(r):
            for j in range(r):
                y[:, c * r * r + i * r + j, :, :] = x[:, c, i::r, j::r]
    return y


# --- fast -------------------------------------------------------------------------------

@njit(parallel=True, cache=True)
def _pixel_shuffle_loop(x, r, y):
    N, C, Hr, Wr = y.shape
    H, W = Hr // r, Wr // r
    # One (n, c) output plane per iteration: writes are disjoint, and the inner loops walk
    # each output row left to right (contiguous stores).
    for nc in prange(N * C):
        n, c = nc // C, nc % C
        for h in range(H):
            for i in range(r):
                for w in range(W):
                    for j in range(r):
                        y[n, c, h * r + i, w * r + j] = x[n, c * r * r + i * r + j, h, w]


@njit(parallel=True, cache=True)
def _pixel_unshuffle_loop(x, r, y):
    N, C, Hr, Wr = x.shape
    H, W = Hr // r, Wr // r
    # One (n, c) input plane per iteration; it owns output channels c*r*r .. c*r*r + r*r - 1.
    for nc in prange(N * C):
        n, c = nc // C, nc % C
        for h in range(H):
            for i in range(r):
                for w in range(W):
                    for j in range(r):
                        y[n, c * r * r + i * r + j, h, w] = x[n, c, h * r + i, w * r + j]


def pixel_shuffle_cpu(x: np.ndarray, r: int) -> np.ndarray:
    """Same as :func:`pixel_shuffle_ref` (bit for bit), multi-threaded over (n, c).

    The backward is :func:`pixel_unshuffle_cpu`.

    Shape:
        x: (N, C*r*r, H, W)    y: (N, C, H*r, W*r), same dtype as x
    """
    x = np.ascontiguousarray(x)
    N, Crr, H, W = x.shape
    y = np.empty((N, Crr // (r * r), H * r, W * r), dtype=x.dtype)
    _pixel_shuffle_loop(x, r, y)
    return y


def pixel_unshuffle_cpu(x: np.ndarray, r: int) -> np.ndarray:
    """Same as :func:`pixel_unshuffle_ref` (bit for bit), multi-threaded over (n, c).

    The backward is :func:`pixel_shuffle_cpu`.

    Shape:
        x: (N, C, H*r, W*r)    y: (N, C*r*r, H, W), same dtype as x
    """
    x = np.ascontiguousarray(x)
    N, C, Hr, Wr = x.shape
    y = np.empty((N, C * r * r, Hr // r, Wr // r), dtype=x.dtype)
    _pixel_unshuffle_loop(x, r, y)
    return y
