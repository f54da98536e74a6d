"""BatchNorm2d (Ioffe and Szegedy, 2015), the normalisation of SRGAN's and ESRGAN's
discriminators (EDSR removed it from the generator; ``nn/layers.py``'s ResidualBlock).

The layer owns the affine Parameters (weight, bias) and three Buffers, the running
statistics and the batch counter, so its ``state_dict`` has torch.nn.BatchNorm2d's names,
shapes and dtypes (``num_batches_tracked`` is int64) and loads across. The arithmetic is
``F.batch_norm`` (``ops/norm.py``, ``kernels/norm.py``). Read next: ``models/discriminator.py``.
"""
from __future__ import annotations

import numpy as np

from minisr.autograd import Tensor
from minisr.backend import backend_for
from minisr.nn.module import Buffer, Module, Parameter
from minisr.ops import functional as F

__all__ = ["BatchNorm2d"]


class BatchNorm2d(Module):
    """Batch normalisation over (N, H, W) for each channel, as ``torch.nn.BatchNorm2d``.

    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias

    Training mode normalises with the batch's mean and biased variance and updates
    ``running_mean`` and ``running_var`` (with the unbiased variance), also inside
    ``no_grad``; ``momentum=None`` makes them cumulative averages (1 / num_batches_tracked).
    Eval mode normalises with the running statistics. ``track_running_stats=False`` keeps
    none and always uses the batch's.

    Shape:
        x: (N, num_features, H, W)    y: same
        weight, bias, running_mean, running_var: (num_features,)    num_batches_tracked: ()
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True):
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(np.ones(num_features, np.float32)) if affine else None
        self.bias = Parameter(np.zeros(num_features, np.float32)) if affine else None
        if track_running_stats:
            self.running_mean = Buffer(np.zeros(num_features, np.float32))
            self.running_var = Buffer(np.ones(num_features, np.float32))
            self.num_batches_tracked = Buffer(np.array(0, dtype=np.int64))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def _count_batch(self) -> float:
        """num_batches_tracked += 1 where it lives; the momentum for this step."""
        n = self.num_batches_tracked
        be = backend_for(n.data)
        # through Tensor: NumPy returns a 0-d sum as a scalar; the buffer stays an array
        n.data = Tensor(be.add(n.data, be.full((), 1, n.dtype)), dtype=n.dtype).data
        if self.momentum is None:  # a cumulative average needs the count on the host
            return 1.0 / float(Tensor(n.data, dtype=n.dtype).item())
        return self.momentum

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm2d: expected (N, {self.num_features}, H, W), got "
                             f"{x.shape}")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            momentum = self._count_batch()
        # torch's rule: batch statistics in training, or when there are no running ones
        use_batch = self.training or self.running_mean is None
        keep = not self.training or self.track_running_stats
        return F.batch_norm(x, self.running_mean if keep else None,
                            self.running_var if keep else None, self.weight, self.bias,
                            use_batch, momentum, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")
