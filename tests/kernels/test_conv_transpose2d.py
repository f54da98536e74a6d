"""conv_transpose2d kernels: fast == ref, gradients, output sizes and values, a stamp, the
adjoint identity."""
import numpy as np
import pytest

from minisr.kernels.conv2d import conv2d_forward_cpu, conv2d_forward_ref
from minisr.kernels.conv_transpose2d import (
    conv_transpose2d_backward_input_cpu, conv_transpose2d_backward_input_ref,
    conv_transpose2d_backward_weight_cpu, conv_transpose2d_backward_weight_ref,
    conv_transpose2d_forward_cpu, conv_transpose2d_forward_ref)
from minisr.testing import numerical_gradient

REF = (conv_transpose2d_forward_ref, conv_transpose2d_backward_input_ref,
       conv_transpose2d_backward_weight_ref)
CPU = (conv_transpose2d_forward_cpu, conv_transpose2d_backward_input_cpu,
       conv_transpose2d_backward_weight_cpu)

# (N, C_in, C_out, H, W, KH, KW, stride, padding, output_padding, dilation, groups, bias)
CASES = [
    (2, 3, 4, 4, 5, 3, 3, 2, 1, 1, 1, 1, True),        # stride 2 + output_padding
    (1, 4, 6, 5, 3, 3, 2, 1, 0, 0, 1, 2, False),       # groups 2, KH != KW, no bias
    (2, 2, 3, 4, 4, 3, 3, 2, 2, 1, 2, 1, True),        # dilation 2 (output_padding < d)
    (2, 5, 3, 3, 4, 1, 1, 1, 0, 0, 1, 1, True),        # 1x1: the pure-GEMM path
    (1, 4, 1, 3, 4, 9, 9, 3, 4, 2, 1, 1, True),        # FSRCNN-style 9x9 stride 3, C_out 1
    (2, 2, 4, 3, 5, 3, 3, (2, 1), (1, 0), (1, 0), 1, 2, False),  # per-axis pairs
    (1, 2, 6, 5, 4, 3, 3, 1, 1, 0, 1, 1, True),        # stride 1; its backward_input is kn2row
]
IDS = [f"case{i}" for i in range(len(CASES))]


def _make(case, dtype, rng):
    N, C_in, C_out, H, W, KH, KW, s, p, op, d, g, bias = case
    x = rng.standard_normal((N, C_in, H, W)).astype(dtype)
    w = rng.standard_normal((C_in, C_out // g, KH, KW)).astype(dtype)
    b = rng.standard_normal(C_out).astype(dtype) if bias else None
    return x, w, b, op, dict(stride=s, padding=p, dilation=d, groups=g)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_cpu_matches_ref(case, dtype, rng):
    x, w, b, op, kw = _make(case, dtype, rng)
    f64 = dtype == np.float64
    rtol = 1e-10 if f64 else 1e-5
    y = REF[0](x, w, b, output_padding=op, **kw)
    y_cpu = CPU[0](x, w, b, output_padding=op, **kw)
    assert y_cpu.dtype == dtype and y_cpu.shape == y.shape
    red = w.shape[0] // kw["groups"] * w.shape[2] * w.shape[3]
    np.testing.assert_allclose(y_cpu, y, rtol=rtol, atol=1e-14 if f64 else 1e-6 * red)

    dy = rng.standard_normal(y.shape).astype(dtype)
    dx, dx_cpu = REF[1](dy, w, **kw), CPU[1](dy, w, **kw)
    assert dx.shape == x.shape and dx_cpu.dtype == dtype
    np.testing.assert_allclose(dx_cpu, dx, rtol=rtol, atol=1e-14 if f64 else 1e-6 * w[0].size)

    (dw, db), (dw_cpu, db_cpu) = REF[2](x, dy, w.shape, **kw), CPU[2](x, dy, w.shape, **kw)
    assert dw.shape == w.shape and db.shape == y.shape[1:2] and dw_cpu.dtype == dtype
    red = x.shape[0] * x.shape[2] * x.shape[3]
    np.testing.assert_allclose(dw_cpu, dw, rtol=rtol, atol=1e-14 if f64 else 1e-6 * red)
    np.testing.assert_allclose(db_cpu, db, rtol=rtol, atol=1e-14 if f64 else 1e-6 * y[0, 0].size)


@pytest.mark.parametrize("impl", ["ref", "cpu"])
@pytest.mark.parametrize("case", [CASES[0], CASES[1], CASES[2], CASES[5], CASES[6]],
                         ids=["stride_op", "groups", "dilation", "pairs", "stride1"])
def test_gradcheck(case, impl, rng):
    fwd, bwd_in, bwd_w = REF if impl == "ref" else CPU
    x, w, b, op, kw = _make(case, np.float64, rng)
    b = rng.standard_normal(w.shape[1] * kw["groups"])   # always check db
    f = lambda: fwd(x, w, b, output_padding=op, **kw)    # noqa: E731
    dy = rng.standard_normal(f().shape)
    dw, db = bwd_w(x, dy, w.shape, **kw)
    np.testing.assert_allclose(bwd_in(dy, w, **kw), numerical_gradient(f, x, dy),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dw, numerical_gradient(f, w, dy), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(db, numerical_gradient(f, b, dy), rtol=1e-5, atol=1e-6)


def _stamp_counts(size, k, s, p, d):
    """How many (input pixel i, tap t) pairs land on each output position o along one axis:
    #{(i, t) : i*s + t*d - p = o}, 0 <= i < size, 0 <= t < k, for o in 0 .. size_out - 1
    (the caller slices to the output size). With all-ones x and w, y is C_in times the
    product of the row and column counts."""
    out = np.zeros((size - 1) * s + d * (k - 1) + 1 - p + s, dtype=int)
    for i in range(size):
        for t in range(k):
            o = i * s + t * d - p
            if 0 <= o < out.size:
                out[o] += 1
    return out


@pytest.mark.parametrize("fwd", [conv_transpose2d_forward_ref, conv_transpose2d_forward_cpu])
def test_output_size_and_values(fwd):
    # H_out = (H-1)*s - 2p + d*(KH-1) + output_padding + 1 = 4*2 - 2 + 2*2 + 1 + 1 = 12
    # W_out = (3-1)*2 - 2 + 2*2 + 0 + 1 = 7
    # All ones: y[n, o, a, b] = C_in * rows(a) * cols(b), rows(a) = #{(i, p): 2i + 2p - 1 = a}.
    # Stride 2 and dilation 2 put every stamp on an even canvas row, i.e. an odd a; for
    # a = 2k - 1, the pairs with i + p = k (i in 0..4, p in 0..2) number 2, 3, 3, 3, 2, 1 for
    # k = 1..6 (k = 0 is cropped by the padding). Row 11 exists only through
    # output_padding, and the k = 6 stamp reaches it. Columns likewise: 2, 3, 2 for k = 1..3.
    rows = np.array([0, 2, 0, 3, 0, 3, 0, 3, 0, 2, 0, 1])
    cols = np.array([0, 2, 0, 3, 0, 2, 0])
    y = fwd(np.ones((1, 2, 5, 3)), np.ones((2, 3, 3, 3)), None, stride=2, padding=1,
            output_padding=(1, 0), dilation=2)
    assert y.shape == (1, 3, 12, 7)
    np.testing.assert_array_equal(y[0], np.broadcast_to(2 * np.outer(rows, cols), (3, 12, 7)))
    np.testing.assert_array_equal(rows, _stamp_counts(5, 3, 2, 1, 2)[:12])
    np.testing.assert_array_equal(cols, _stamp_counts(3, 3, 2, 1, 2)[:7])


@pytest.mark.parametrize("n", [2, 3, 4])
@pytest.mark.parametrize("fwd", [conv_transpose2d_forward_ref, conv_transpose2d_forward_cpu])
def test_fsrcnn_upsamples_exactly(fwd, n):
    # 9x9, stride n, padding 4, output_padding n-1: (H-1)n - 8 + 8 + (n-1) + 1 = n*H
    # All ones: y = C_in * rows(a) * cols(b), rows(a) = #{i : 0 <= a + 4 - i*n <= 8}. For
    # n = 3 and H = 5: a = 0, 1 see i = 0, 1; a = 2..10 three inputs (9 taps span 3
    # strides); a = 11..13 see i = 3, 4; a = 14 only i = 4 (14 + 4 - 12 = 6).
    y = fwd(np.ones((1, 3, 5, 6)), np.ones((3, 1, 9, 9)), None, stride=n, padding=4,
            output_padding=n - 1)
    assert y.shape == (1, 1, 5 * n, 6 * n)
    rows, cols = _stamp_counts(5, 9, n, 4, 1)[:5 * n], _stamp_counts(6, 9, n, 4, 1)[:6 * n]
    if n == 3:
        np.testing.assert_array_equal(rows, [2, 2] + [3] * 9 + [2, 2, 2, 1])
    np.testing.assert_array_equal(y[0, 0], 3 * np.outer(rows, cols))


@pytest.mark.parametrize("fwd", [conv_transpose2d_forward_ref, conv_transpose2d_forward_cpu])
def test_stamps(fwd):
    w = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    # a single pixel of value 1 stamps the kernel itself (no flip): y = w
    np.testing.assert_array_equal(fwd(np.ones((1, 1, 1, 1)), w, None, stride=2)[0, 0], w[0, 0])
    # two pixels [[1], [2]] with stride 2 stamp w at rows 0..2 and 2*w at rows 2..4; row 2 gets
    # both: w[2] + 2*w[0] = [7, 8, 9] + [2, 4, 6] = [9, 12, 15]
    y = fwd(np.array([[[[1.0], [2.0]]]]), w, np.array([0.5]), stride=2)[0, 0]
    expected = np.array([[1, 2, 3], [4, 5, 6], [9, 12, 15], [8, 10, 12], [14, 16, 18]]) + 0.5
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("impl", ["ref", "cpu"])
@pytest.mark.parametrize("s, p, d, g", [(1, 0, 1, 1), (2, 1, 1, 1), (2, 2, 2, 2), (3, 4, 1, 1)])
def test_adjoint_identity(impl, s, p, d, g, rng):
    # <conv2d(x, w), y> == <x, conv_transpose2d(y, w)>, with output_padding giving back x's size
    conv, tconv = ((conv2d_forward_ref, conv_transpose2d_forward_ref) if impl == "ref" else
                   (conv2d_forward_cpu, conv_transpose2d_forward_cpu))
    k = 9 if s == 3 else 3
    x = rng.standard_normal((2, 4, 11, 10))
    w = rng.standard_normal((6, 4 // g, k, k))
    cx = conv(x, w, None, stride=s, padding=p, dilation=d, groups=g)
    y = rng.standard_normal(cx.shape)
    op = tuple(x.shape[a] - ((cx.shape[a] - 1) * s - 2 * p + d * (k - 1) + 1) for a in (2, 3))
    ty = tconv(y, w, None, stride=s, padding=p, output_padding=op, dilation=d, groups=g)
    assert ty.shape == x.shape
    lhs, rhs = np.vdot(cx, y), np.vdot(x, ty)
    assert abs(lhs - rhs) <= 1e-10 * abs(lhs)
