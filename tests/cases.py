"""Small inputs for every differentiable primitive, shared by the generic op tests.

Sizes are odd and non-square, with stride 2, padding, dilation, groups, batch 2 and
C_in != C_out where the op has them. Values stay >= 1e-2 away from kinks (ReLU at 0,
|x| at 0) so central differences are valid. Each case builds float64 inputs from a seed.

``cpu_is_ref`` says why a case's cpu run executes the same code as its ref run (the cpu
table reuses the reference, or a fast kernel hands these inputs to the same NumPy call):
such a case is gradchecked but not presented as a fast-vs-ref check, and
``test_ops_generic.py`` checks each label against what the cpu run really calls.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from minisr.autograd import Tensor
from minisr.ops import functional as F


@dataclass
class Case:
    name: str
    fn: Callable            # fn(*tensors) -> Tensor
    shapes: list            # input shapes
    positive: tuple = ()    # indices of inputs that must be > 0 (sqrt, div, pow)
    cpu_is_ref: str = ""    # why cpu runs ref's code here; "" = a real fast twin

    @property
    def fast(self) -> bool:
        """Whether the cpu table runs its own (fast) code on this case."""
        return not self.cpu_is_ref

    def arrays(self, seed: int = 0) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        out = []
        for k, s in enumerate(self.shapes):
            a = rng.uniform(-1, 1, size=s)
            a = np.where(a >= 0, 1.0, -1.0) * np.maximum(np.abs(a), 0.05)  # away from kinks
            out.append(np.abs(a) + 0.5 if k in self.positive else a)
        return out


def _running(x):
    """Fixed running statistics (mean, var > 0) in x's dtype and on x's device, for the
    eval-mode batch norm case (constants, not inputs: they get no gradient)."""
    mean = np.linspace(-0.5, 0.5, x.shape[1]).astype(x.dtype)
    var = np.linspace(0.5, 2.0, x.shape[1]).astype(x.dtype)
    return Tensor(mean).to(x.device), Tensor(var).to(x.device)


_BROADCAST = "NumPy's ufunc: the Numba elementwise loop needs equal shapes"
_SMALL = "NumPy's ufunc: 120 elements, under elementwise.PARALLEL_MIN_SIZE"
_UFUNC = "unary maps are NumPy's ufuncs in both tables"
_REDUCE = "NumPy's pairwise sum in both tables"
_COPY = "data movement: the same NumPy copies in both tables"
_BLAS = "np.matmul (BLAS) in both tables"

CASES = [
    Case("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=1, padding=1),
         [(2, 3, 7, 6), (4, 3, 3, 3), (4,)]),
    Case("conv2d_stride2_pad1", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
         [(2, 3, 7, 6), (2, 3, 3, 3), (2,)]),
    Case("conv2d_dilation2_groups2",
         lambda x, w, b: F.conv2d(x, w, b, padding=(2, 1), dilation=2, groups=2),
         [(1, 4, 7, 8), (6, 2, 3, 2), (6,)]),
    Case("conv2d_1x1_nobias", lambda x, w: F.conv2d(x, w), [(2, 5, 3, 4), (3, 5, 1, 1)]),
    Case("conv_transpose2d", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                                 output_padding=1),
         [(2, 3, 4, 3), (3, 2, 3, 3), (2,)]),
    Case("conv_transpose2d_groups_dil",
         lambda x, w: F.conv_transpose2d(x, w, stride=(1, 2), dilation=2, groups=2),
         [(1, 4, 3, 5), (4, 1, 2, 3)]),
    Case("pixel_shuffle", lambda x: F.pixel_shuffle(x, 2), [(2, 8, 3, 2)]),
    Case("pixel_unshuffle", lambda x: F.pixel_unshuffle(x, 3), [(2, 2, 6, 3)]),
    Case("upsample_bicubic_x3", lambda x: F.upsample_bicubic(x, 3), [(2, 3, 4, 5)]),
    Case("upsample_bicubic_x2_thin", lambda x: F.upsample_bicubic(x, 2), [(1, 2, 1, 3)]),
    Case("max_pool2d_k3_s2_p1", lambda x: F.max_pool2d(x, 3, 2, 1), [(2, 3, 7, 6)]),
    Case("max_pool2d_k7_s3_overlap", lambda x: F.max_pool2d(x, 7, stride=3), [(1, 2, 13, 11)]),
    Case("max_pool2d_2x3_s12_p1", lambda x: F.max_pool2d(x, (2, 3), (1, 2), 1), [(2, 2, 5, 6)]),
    Case("interpolate_size_up", lambda x: F.interpolate(x, size=(7, 9)), [(2, 3, 4, 5)]),
    Case("interpolate_size_down", lambda x: F.interpolate(x, size=(3, 5)), [(1, 2, 7, 9)]),
    Case("interpolate_scale_mixed", lambda x: F.interpolate(x, scale_factor=(0.5, 1.5)),
         [(2, 2, 7, 6)]),
    Case("relu", F.relu, [(2, 3, 4, 5)]),
    Case("leaky_relu", lambda x: F.leaky_relu(x, 0.2), [(2, 3, 4, 5)]),
    Case("prelu_channel", F.prelu, [(2, 3, 4, 5), (3,)]),
    Case("prelu_shared", F.prelu, [(2, 3, 4, 5), (1,)]),
    Case("tanh", F.tanh, [(2, 3, 4, 5)]),
    Case("sigmoid", F.sigmoid, [(2, 3, 4, 5)]),
    Case("softplus", F.softplus, [(2, 3, 4, 5)]),
    Case("add_broadcast", F.add, [(2, 3, 4, 5), (3, 1, 1)], cpu_is_ref=_BROADCAST),
    Case("sub_broadcast", F.sub, [(2, 1, 4, 5), (3, 4, 1)], cpu_is_ref=_BROADCAST),
    Case("mul_broadcast", F.mul, [(2, 3, 4, 5), (1, 3, 1, 5)], cpu_is_ref=_BROADCAST),
    Case("div", F.div, [(2, 3, 4, 5), (2, 3, 4, 5)], positive=(1,), cpu_is_ref=_SMALL),
    Case("neg", F.neg, [(3, 4)], cpu_is_ref=_UFUNC),
    Case("abs", F.abs, [(3, 4, 5)], cpu_is_ref=_UFUNC),
    Case("sqrt", F.sqrt, [(3, 4)], positive=(0,), cpu_is_ref=_UFUNC),
    Case("pow", lambda x: F.pow(x, 2.5), [(3, 4)], positive=(0,), cpu_is_ref=_UFUNC),
    Case("sum_axes", lambda x: F.sum(x, axis=(0, 2)), [(2, 3, 4, 5)], cpu_is_ref=_REDUCE),
    Case("mean_keepdims", lambda x: F.mean(x, axis=1, keepdims=True), [(2, 3, 4, 5)],
         cpu_is_ref=_REDUCE),
    Case("reshape", lambda x: F.reshape(x, (6, -1)), [(2, 3, 4, 5)],
         cpu_is_ref="a view: no kernel at all"),
    Case("concat", lambda a, b: F.concat([a, b], axis=1), [(2, 3, 4, 5), (2, 1, 4, 5)],
         cpu_is_ref=_COPY),
    Case("pad_zeros", lambda x: F.pad(x, (1, 2, 0, 3)), [(2, 3, 4, 5)], cpu_is_ref=_COPY),
    Case("pad_reflect", lambda x: F.pad(x, (2, 1, 3, 1), mode="reflect"), [(2, 3, 4, 5)],
         cpu_is_ref=_COPY),
    Case("getitem_crop", lambda x: x[:, 1:, 1:-1, ::2], [(2, 3, 4, 5)], cpu_is_ref=_COPY),
    Case("matmul_batched", F.matmul, [(2, 3, 4), (4, 5)], cpu_is_ref=_BLAS),
    Case("linear", F.linear, [(2, 3, 4), (5, 4), (5,)],
         cpu_is_ref="np.matmul (BLAS) and NumPy's broadcasting add in both tables"),
    Case("adaptive_avg_pool2d_1", lambda x: F.adaptive_avg_pool2d(x, 1), [(2, 3, 4, 5)],
         cpu_is_ref=_REDUCE),
    Case("adaptive_avg_pool2d_2x3", lambda x: F.adaptive_avg_pool2d(x, (2, 3)),
         [(2, 3, 4, 6)], cpu_is_ref=_REDUCE),
    Case("batch_norm_train", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
         [(2, 3, 4, 5), (3,), (3,)]),
    Case("batch_norm_train_2d", lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
         [(5, 4), (4,), (4,)]),
    Case("batch_norm_eval", lambda x, w, b: F.batch_norm(x, *_running(x), w, b, training=False),
         [(2, 3, 4, 5), (3,), (3,)]),
    Case("transpose_last", F.transpose_last, [(2, 3, 4)], cpu_is_ref=_COPY),
]
