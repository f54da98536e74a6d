"""A classifier's head: AdaptiveAvgPool2d, Flatten and Linear, as in torch.nn.

SRGAN's discriminator ends in dense layers on the last feature map; pooling it first (as
here) makes the head independent of the patch size. Each layer is one op: ``F.mean`` over
windows, ``F.reshape``, ``F.linear`` (a matmul with the transposed weight plus a broadcast
bias). Read next: ``models/discriminator.py``.
"""
from __future__ import annotations

from minisr.autograd import Tensor
from minisr.nn import init
from minisr.nn.module import Module, Parameter
from minisr.ops import functional as F

__all__ = ["Linear", "Flatten", "AdaptiveAvgPool2d"]


class Linear(Module):
    """y = x W^T + b, as ``torch.nn.Linear``; W and b start uniform in +-1/sqrt(in_features)
    (PyTorch's default, ``init.kaiming_uniform``).

    Shape:
        x: (*, in_features)    y: (*, out_features)
        weight: (out_features, in_features)    bias: (out_features,)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(init.kaiming_uniform((out_features, in_features)))
        self.bias = Parameter(init.kaiming_uniform((out_features,), in_features)) \
            if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    """Merge axes ``start_dim`` .. ``end_dim`` into one, as ``torch.nn.Flatten``.

    Shape:
        x: (N, C, H, W)    y: (N, C * H * W) with the defaults
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        s, e = self.start_dim % x.ndim, self.end_dim % x.ndim
        return F.reshape(x, x.shape[:s] + (-1,) + x.shape[e + 1:])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed ``output_size`` (an int or (OH, OW)) that divides the
    input's size, as ``torch.nn.AdaptiveAvgPool2d``; 1 is the global average pool.

    Shape:
        x: (N, C, H, W)    y: (N, C, OH, OW)
    """

    def __init__(self, output_size):
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
