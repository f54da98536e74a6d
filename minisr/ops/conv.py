"""Autograd for conv2d and conv_transpose2d, and their argument checks.

The two ops are each other's adjoints: conv2d's input gradient is a transposed conv of dy,
and the transposed conv's input gradient is a conv2d of dy. The kernels own that math
(``kernels/conv2d.py``, ``kernels/conv_transpose2d.py``); this file only routes arrays.
``conv2d_act`` is conv2d followed by ReLU, tanh or PReLU: one fused primitive when no graph
is recorded (inference), the two ops of today's graph otherwise.
Read next: ``nn/layers.py`` (``Conv2d``).
"""
from __future__ import annotations

from minisr.autograd import Function, Tensor, is_grad_enabled
from minisr.ops.activation import prelu, relu, tanh

__all__ = ["Conv2d", "ConvTranspose2d", "Conv2dAct", "conv2d", "conv2d_act",
           "conv_transpose2d"]
_ACTIVATIONS = {"relu": relu, "tanh": tanh, "prelu": prelu}


def _pair(v, name: str, op: str, minimum: int) -> tuple[int, int]:
    pair = (v, v) if isinstance(v, int) else tuple(v)
    if len(pair) != 2 or any(not isinstance(p, int) or p < minimum for p in pair):
        raise ValueError(f"{op}: {name} must be an int >= {minimum} or a pair, got {v!r}")
    return pair


class Conv2d(Function):
    """y = conv2d(x, w, b). Backward: dx = conv_transpose2d(dy, w), dw from x and dy."""

    def forward(ctx, x, w, b, stride, padding, dilation, groups):
        ctx.save_for_backward(x, w)
        ctx.args = (stride, padding, dilation, groups)
        return ctx.backend.conv2d_forward(x, w, b, *ctx.args)

    def backward(ctx, dy):
        x, w = ctx.saved_tensors
        be = ctx.backend
        dx = be.conv2d_backward_input(dy, w, x.shape, *ctx.args) \
            if ctx.needs_input_grad[0] else None
        dw = db = None
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            dw, db = be.conv2d_backward_weight(x, dy, w.shape, *ctx.args)
        return dx, dw, db, None, None, None, None


class Conv2dAct(Function):
    """y = act(conv2d(x, w, b)) in one pass, for inference only: ``conv2d_act`` records
    the graph of conv2d and the activation instead whenever a gradient is needed, so this
    Function is never part of a graph and has no backward."""

    def forward(ctx, x, w, b, stride, padding, dilation, groups, act, slope):
        return ctx.backend.conv2d_act_forward(x, w, b, stride, padding, dilation, groups, act,
                                              slope)


class ConvTranspose2d(Function):
    """y = conv_transpose2d(x, w, b). Backward: dx = conv2d(dy, w), dw from x and dy."""

    def forward(ctx, x, w, b, stride, padding, output_padding, dilation, groups):
        ctx.save_for_backward(x, w)
        ctx.args = (stride, padding, dilation, groups)
        return ctx.backend.conv_transpose2d_forward(x, w, b, stride, padding, output_padding,
                                                    dilation, groups)

    def backward(ctx, dy):
        x, w = ctx.saved_tensors
        be = ctx.backend
        dx = be.conv_transpose2d_backward_input(dy, w, *ctx.args) \
            if ctx.needs_input_grad[0] else None
        dw = db = None
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            dw, db = be.conv_transpose2d_backward_weight(x, dy, w.shape, *ctx.args)
        return dx, dw, db, None, None, None, None, None


def _check(op: str, x: Tensor, w: Tensor, b, groups: int, c_in_of_w: int, c_out: int):
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(f"{op}: need x (N, C, H, W) and a 4-D weight, got {x.shape}, "
                         f"{w.shape}")
    if not isinstance(groups, int) or groups < 1 or c_out % groups or x.shape[1] % groups:
        raise ValueError(f"{op}: groups={groups!r} must divide C_in={x.shape[1]} and "
                         f"C_out={c_out}")
    if x.shape[1] != c_in_of_w:
        raise ValueError(f"{op}: x has {x.shape[1]} channels but weight {w.shape} with "
                         f"groups={groups} expects {c_in_of_w}")
    if b is not None and b.shape != (c_out,):
        raise ValueError(f"{op}: bias shape {b.shape} should be ({c_out},)")
    if x.dtype != w.dtype or (b is not None and b.dtype != x.dtype):
        raise ValueError(f"{op}: dtypes differ (x {x.dtype}, w {w.dtype}); make the input "
                         f"Tensor(x, dtype=np.float32) or call model.to(np.float64)")


def _conv2d_args(op, x, w, b, stride, padding, dilation, groups):
    """conv2d's checks; returns stride, padding and dilation as pairs."""
    s, p = _pair(stride, "stride", op, 1), _pair(padding, "padding", op, 0)
    d = _pair(dilation, "dilation", op, 1)
    _check(op, x, w, b, groups, w.shape[1] * groups if w.ndim == 4 else -1,
           w.shape[0] if w.ndim == 4 else -1)
    for k in range(2):
        extent = d[k] * (w.shape[2 + k] - 1) + 1
        if x.shape[2 + k] + 2 * p[k] < extent:
            raise ValueError(f"{op}: input {x.shape} padded by {p} is smaller than the "
                             f"kernel {w.shape[2:]} (dilation {d})")
    return s, p, d


def conv2d(x: Tensor, w: Tensor, b: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """2-D cross-correlation, as ``torch.nn.functional.conv2d``.

    Shape:
        x: (N, C_in, H, W)    w: (C_out, C_in / groups, KH, KW)    b: (C_out,)
        y: (N, C_out, H_out, W_out),  H_out = (H + 2p - d(KH - 1) - 1) // s + 1
    """
    s, p, d = _conv2d_args("conv2d", x, w, b, stride, padding, dilation, groups)
    return Conv2d.apply(x, w, b, s, p, d, groups)


def conv2d_act(x: Tensor, w: Tensor, b: Tensor | None = None, stride=1, padding=0,
               dilation=1, groups: int = 1, act: str = "relu",
               slope: Tensor | None = None) -> Tensor:
    """act(conv2d(x, w, b)) for act = 'relu', 'tanh' or 'prelu' (with PReLU's ``slope``).

    Without a graph to record (``no_grad``, or no input requiring grad) this is ONE
    primitive, ``conv2d_act_forward``, which applies bias and activation to each tile of
    the output while it is in cache; otherwise it is ``act(conv2d(...))``, the same graph
    and gradients as the two ops written out.

    Shape:
        x: (N, C_in, H, W)    w: (C_out, C_in / groups, KH, KW)    b: (C_out,)
        slope: (C_out,) or (1,)    y: (N, C_out, H_out, W_out)
    """
    if act not in _ACTIVATIONS or (act == "prelu") != (slope is not None):
        raise ValueError(f"conv2d_act: act {act!r} must be one of {sorted(_ACTIVATIONS)}, "
                         f"with a slope for 'prelu' only")
    inputs = [t for t in (x, w, b, slope) if t is not None]
    if is_grad_enabled() and any(t.requires_grad for t in inputs):
        y = conv2d(x, w, b, stride, padding, dilation, groups)
        return _ACTIVATIONS[act](y, slope) if act == "prelu" else _ACTIVATIONS[act](y)
    s, p, d = _conv2d_args("conv2d_act", x, w, b, stride, padding, dilation, groups)
    if slope is not None and (slope.ndim != 1 or slope.shape[0] not in (1, w.shape[0])):
        raise ValueError(f"conv2d_act: slope {slope.shape} must be (1,) or ({w.shape[0]},)")
    return Conv2dAct.apply(x, w, b, s, p, d, groups, act, slope)


def conv_transpose2d(x: Tensor, w: Tensor, b: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, dilation=1, groups: int = 1) -> Tensor:
    """2-D transposed convolution (the adjoint of conv2d), as PyTorch's.

    Shape:
        x: (N, C_in, H, W)    w: (C_in, C_out / groups, KH, KW)    b: (C_out,)
        y: (N, C_out, H_out, W_out),
        H_out = (H - 1) s - 2p + d(KH - 1) + output_padding + 1
    """
    op = "conv_transpose2d"
    s, p = _pair(stride, "stride", op, 1), _pair(padding, "padding", op, 0)
    d = _pair(dilation, "dilation", op, 1)
    op_ = _pair(output_padding, "output_padding", op, 0)
    if any(op_[k] >= max(s[k], d[k]) for k in range(2)):
        raise ValueError(f"{op}: output_padding {op_} must be smaller than stride {s} "
                         f"or dilation {d}")
    c_out = w.shape[1] * groups if w.ndim == 4 else -1
    _check(op, x, w, b, groups, w.shape[0] if w.ndim == 4 else -1, c_out)
    for k in range(2):
        size = (x.shape[2 + k] - 1) * s[k] - 2 * p[k] + d[k] * (w.shape[2 + k] - 1) \
            + op_[k] + 1
        if size < 1:
            raise ValueError(f"{op}: output size {size} < 1 for input {x.shape}")
    return ConvTranspose2d.apply(x, w, b, s, p, op_, d, groups)
