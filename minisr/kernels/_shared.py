"""Scalar ``@njit`` helpers called by the CPU loops and by the CUDA kernels.

One definition of each piece of scalar math (the cubic interpolation weight, the SSIM
term, a binary arithmetic op, one element's SGD or Adam update) keeps the CPU and GPU
paths from drifting apart. numba-cuda compiles an ``@njit`` function called from a
``@cuda.jit`` kernel as a device function, so the same source runs in both places.

Rules for the helpers (they run inside float32 loops, on CPU and GPU):
- no Python float literal meets an argument (``x * 2.0`` would promote float32 to float64):
  the callers pass every constant, already in the data's dtype, or a bool flag;
- ``math`` functions, not NumPy's (``math.sqrt`` of a float32 stays float32 in both targets);
- ``error_model="numpy"`` where they divide: x / 0 gives inf or nan as in NumPy, without the
  zero check that Python semantics would add, which stops the CPU loop from vectorising.
"""
from __future__ import annotations

import math

from numba import njit

__all__ = ["ADD", "SUB", "MUL", "DIV", "binary_op", "ACT_NONE", "ACT_RELU", "ACT_TANH",
           "ACT_PRELU", "ACT_CODES", "activate", "sgd_update", "adam_update", "ssim_term",
           "cubic_weight"]

ADD, SUB, MUL, DIV = 0, 1, 2, 3   # the binary ops, as the ``op`` argument of binary_op
# The activations a conv epilogue applies (``conv2d_act_forward``), as the ``act`` argument
# of ``activate``; ACT_CODES maps the primitives' names to them.
ACT_NONE, ACT_RELU, ACT_TANH, ACT_PRELU = 0, 1, 2, 3
ACT_CODES = {None: ACT_NONE, "relu": ACT_RELU, "tanh": ACT_TANH, "prelu": ACT_PRELU}


@njit(cache=True, error_model="numpy")
def binary_op(op: int, u, v):
    """u + v, u - v, u * v or u / v for op = ADD, SUB, MUL, DIV."""
    if op == ADD:
        return u + v
    if op == SUB:
        return u - v
    if op == MUL:
        return u * v
    return u / v


@njit(cache=True)
def activate(act: int, v, slope, zero):
    """v after the epilogue activation ``act``: ReLU (NaN passes, as ``relu_forward_ref``),
    tanh, or PReLU with this channel's ``slope``; v itself for ACT_NONE. The caller passes
    ``zero`` in v's dtype, so a float32 conv stays float32 on both targets."""
    if act == ACT_RELU:
        return zero if v <= zero else v
    if act == ACT_TANH:
        return math.tanh(v)
    if act == ACT_PRELU:
        return v if v > zero else slope * v
    return v


@njit(cache=True, error_model="numpy")
def sgd_update(p, g, buf, lr, momentum, damp_keep, weight_decay, use_momentum, use_decay,
               nesterov, first_step):
    """One element of an SGD step (formulas: ``kernels/optim.sgd_step_ref``).

    Returns the new (p, buf); buf is returned unchanged when ``use_momentum`` is False.
    ``damp_keep`` is 1 - dampening; ``use_momentum`` / ``use_decay`` say whether momentum /
    weight_decay are non-zero (flags, so the helper never compares with a float literal).
    """
    d = g
    if use_decay:
        d = d + weight_decay * p
    if use_momentum:
        buf = d if first_step else momentum * buf + damp_keep * d
        d = d + momentum * buf if nesterov else buf
    return p - lr * d, buf


@njit(cache=True, error_model="numpy")
def adam_update(p, g, m, v, lr, beta1, beta2, eps, weight_decay, decay_keep, one_m_b1,
                one_m_b2, bc1, bc2, use_decay, decoupled):
    """One element of an Adam / AdamW step (formulas: ``kernels/optim.adam_step_ref``).

    Returns the new (p, m, v). The caller passes the combined constants: decay_keep =
    1 - lr * weight_decay, one_m_b1 = 1 - beta1, one_m_b2 = 1 - beta2, and the bias
    corrections bc1 = 1 - beta1^step, bc2 = 1 - beta2^step.
    """
    if decoupled:
        p = p * decay_keep
    elif use_decay:
        g = g + weight_decay * p
    m = beta1 * m + one_m_b1 * g
    v = beta2 * v + one_m_b2 * g * g
    return p - lr * (m / bc1) / (math.sqrt(v / bc2) + eps), m, v


@njit(cache=True)
def ssim_term(mu_x: float, mu_y: float, var_x: float, var_y: float, cov_xy: float,
              c1: float, c2: float) -> float:
    """SSIM at one pixel from its five local moments (Wang et al. 2004, eq. 13).

    ssim = (2 mu_x mu_y + C1)(2 cov_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(var_x + var_y + C2))

    With x == y the numerator and denominator are bit-identical (doubling is exact), so
    SSIM(x, x) is exactly 1; swapping x and y gives bit-identical results too.
    """
    num = (2.0 * mu_x * mu_y + c1) * (2.0 * cov_xy + c2)
    den = (mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2)
    return num / den


@njit(cache=True)
def cubic_weight(x: float, a: float = -0.5) -> float:
    """Keys' cubic convolution kernel at offset x; a = -0.5 is MATLAB's ``imresize`` cubic.

    w(x) = (a+2)|x|^3 - (a+3)|x|^2 + 1          for |x| <= 1
           a|x|^3 - 5a|x|^2 + 8a|x| - 4a          for 1 < |x| <= 2
           0                                      otherwise

    With a = -0.5 this is MATLAB's 1.5|x|^3 - 2.5|x|^2 + 1 and -0.5|x|^3 + 2.5|x|^2 - 4|x| + 2.
    OpenCV and PyTorch use a = -0.75.

    References:
        R. Keys, "Cubic Convolution Interpolation for Digital Image Processing",
        IEEE Trans. ASSP 29(6), 1981.
    """
    ax = abs(x)
    ax2 = ax * ax
    ax3 = ax2 * ax
    if ax <= 1.0:
        return (a + 2.0) * ax3 - (a + 3.0) * ax2 + 1.0
    if ax <= 2.0:
        return a * ax3 - 5.0 * a * ax2 + 8.0 * a * ax - 4.0 * a
    return 0.0
