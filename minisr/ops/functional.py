"""Every differentiable op in one namespace, as ``torch.nn.functional`` (``import F``)."""
from minisr.ops.activation import leaky_relu, prelu, relu, sigmoid, softplus, tanh
from minisr.ops.arithmetic import abs, add, div, mul, neg, pow, sqrt, sub
from minisr.ops.conv import conv2d, conv2d_act, conv_transpose2d
from minisr.ops.linalg import linear, matmul
from minisr.ops.norm import batch_norm
from minisr.ops.pixel_shuffle import pixel_shuffle, pixel_unshuffle
from minisr.ops.pool import max_pool2d
from minisr.ops.reduce import adaptive_avg_pool2d, mean, sum
from minisr.ops.resize import upsample_bicubic
from minisr.ops.shape import concat, getitem, pad, reshape, transpose_last
from minisr.ops.upsample import interpolate

__all__ = ["abs", "adaptive_avg_pool2d", "add", "batch_norm", "concat", "conv2d", "conv2d_act",
           "conv_transpose2d", "div", "getitem", "interpolate", "leaky_relu", "linear", "matmul",
           "max_pool2d", "mean", "mul", "neg", "pad", "pixel_shuffle", "pixel_unshuffle", "pow",
           "prelu", "relu", "reshape", "sigmoid", "softplus", "sqrt", "sub", "sum", "tanh",
           "transpose_last", "upsample_bicubic"]
