"""Shape primitives: concatenation along channels, and padding (zeros or reflect).

Both are pure data movement, for which NumPy's copies are already at memory speed, so the
CPU table reuses the reference. Their backwards are the adjoints: concat's is a split,
zero-padding's is a crop, and reflect-padding's folds the mirrored borders back in.
Read next: ``ops/shape.py``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["concat_ref", "split_ref", "pad_forward_ref", "pad_backward_ref", "concat_cpu",
           "split_cpu", "pad_forward_cpu", "pad_backward_cpu", "getitem_ref",
           "getitem_backward_ref", "getitem_cpu", "getitem_backward_cpu"]


def concat_ref(xs, axis: int = 1):
    """y = the arrays of `xs` stacked along `axis` (channels by default).

    Shape:
        xs[k]: (N, C_k, H, W)    y: (N, sum_k C_k, H, W)
    """
    return np.concatenate(xs, axis=axis)


def split_ref(y, sizes, axis: int = 1):
    """The adjoint of :func:`concat_ref`: cut y along `axis` into pieces of `sizes`."""
    bounds = np.cumsum(sizes)[:-1]
    return [np.ascontiguousarray(part) for part in np.split(y, bounds, axis=axis)]


def pad_forward_ref(x, padding, mode: str = "zeros"):
    """Pad the last two axes by ``padding = (top, bottom, left, right)``.

    mode 'zeros' fills with 0; 'reflect' mirrors without repeating the edge (numpy's and
    PyTorch's 'reflect': [a b c] padded by 2 on the left is [c b | a b c]).

    Shape:
        x: (N, C, H, W)    y: (N, C, H + top + bottom, W + left + right)
    """
    t, b, l, r = padding
    width = [(0, 0)] * (x.ndim - 2) + [(t, b), (l, r)]
    return np.pad(x, width, mode="constant" if mode == "zeros" else "reflect")


def _fold_reflect(dy, before: int, after: int, axis: int):
    """Backward of reflect padding along one axis: crop, then add the mirrored borders."""
    n = dy.shape[axis] - before - after
    dy = np.moveaxis(dy, axis, -1)
    dx = dy[..., before:before + n].copy()
    # padded index j < before holds x[before - j]: the strip maps reversed onto x[1:before+1]
    dx[..., 1:before + 1] += dy[..., :before][..., ::-1]
    # padded index before+n+k holds x[n-2-k]: the strip maps reversed onto x[n-1-after:n-1]
    dx[..., n - 1 - after:n - 1] += dy[..., before + n:][..., ::-1]
    return np.moveaxis(dx, -1, axis)


def pad_backward_ref(dy, padding, mode: str = "zeros"):
    """The adjoint of :func:`pad_forward_ref`: dx = dL/dx for dy = dL/dy.

    Shape:
        dy: (N, C, H + top + bottom, W + left + right)    dx: (N, C, H, W)
    """
    t, b, l, r = padding
    if mode == "zeros":
        H, W = dy.shape[-2] - t - b, dy.shape[-1] - l - r
        return np.ascontiguousarray(dy[..., t:t + H, l:l + W])
    dx = _fold_reflect(dy, l, r, dy.ndim - 1)
    return np.ascontiguousarray(_fold_reflect(dx, t, b, dy.ndim - 2))


concat_cpu = concat_ref
split_cpu = split_ref
pad_forward_cpu = pad_forward_ref
pad_backward_cpu = pad_backward_ref


def getitem_ref(x, index):
    """y = x[index] (basic slicing), copied so later in-place updates cannot alias x."""
    return np.array(x[index])


def getitem_backward_ref(dy, x_shape, index):
    """The adjoint of :func:`getitem_ref`: dy scattered into zeros of ``x_shape``.

    Basic slices select each element at most once, so assignment suffices; advanced
    (array) indices may repeat, and ``np.add.at`` makes the repeats add up, as they must.
    """
    dx = np.zeros(x_shape, dtype=dy.dtype)
    parts = index if isinstance(index, tuple) else (index,)
    if all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts):
        dx[index] = dy
    else:
        np.add.at(dx, index, dy)
    return dx


getitem_cpu = getitem_ref
getitem_backward_cpu = getitem_backward_ref
