"""conv2d kernels: fast path == reference, finite-difference gradients, a hand-derived value."""
import numba
import numpy as np
import pytest

from minisr.kernels import _conv_paths
from minisr.kernels.conv_transpose2d import (conv_transpose2d_forward_cpu,
                                             conv_transpose2d_forward_ref)
from minisr.kernels.conv2d import (conv2d_backward_input_cpu, conv2d_backward_input_ref,
                                   conv2d_backward_weight_cpu, conv2d_backward_weight_ref,
                                   conv2d_forward_cpu, conv2d_forward_ref)
from minisr.testing import numerical_gradient

# (N, C_in, C_out, H, W, KH, KW, stride, padding, dilation, groups, bias)
CASES = [
    (2, 3, 4, 7, 6, 3, 3, 2, 1, 1, 1, True),          # stride 2, padding, odd non-square
    (1, 4, 6, 5, 8, 3, 2, 1, 0, 1, 2, False),         # groups 2, KH != KW, no bias
    (2, 2, 3, 9, 7, 3, 3, 1, 2, 2, 1, True),          # dilation 2
    (2, 5, 3, 4, 5, 1, 1, 1, 0, 1, 1, True),          # 1x1: the pure-GEMM path
    (1, 4, 2, 6, 5, 1, 1, 2, 1, 1, 2, False),         # 1x1 with stride and padding (not pure)
    (1, 1, 3, 11, 10, 9, 9, 1, 4, 1, 1, True),        # 9x9 "same", C_in = 1 (SRCNN's first)
    (2, 2, 4, 8, 9, 3, 3, (2, 1), (1, 0), (1, 2), 2, True),  # per-axis pairs
    (2, 6, 3, 7, 8, 3, 3, 1, 1, (2, 1), 1, True),      # C_out < C_in: the kn2row path
    (2, 3, 1, 9, 8, 3, 3, 2, 1, 1, 1, True),          # C_out = 1: the direct loops, stride 2
    (1, 4, 2, 6, 7, 3, 3, 1, 2, 2, 2, False),         # direct loops with groups and dilation
    (3, 4, 1, 7, 9, 5, 5, 1, 2, 1, 1, True),          # C_out = 1, stride 1: direct forward
    (1, 3, 1, 8, 7, 3, 3, 1, (2, 1), (2, 1), 1, False),  # direct forward, 1 image: row bands
]
IDS = [f"case{i}" for i in range(len(CASES))]


def _make(case, dtype, rng):
    N, C_in, C_out, H, W, KH, KW, s, p, d, g, bias = case
    x = rng.standard_normal((N, C_in, H, W)).astype(dtype)
    w = rng.standard_normal((C_out, C_in // g, KH, KW)).astype(dtype)
    b = rng.standard_normal(C_out).astype(dtype) if bias else None
    return x, w, b, dict(stride=s, padding=p, dilation=d, groups=g)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_cpu_matches_ref(case, dtype, rng):
    _assert_cpu_matches_ref(case, dtype, rng)


def _assert_cpu_matches_ref(case, dtype, rng):
    x, w, b, kw = _make(case, dtype, rng)
    f64 = dtype == np.float64
    y = conv2d_forward_ref(x, w, b, **kw)
    y_cpu = conv2d_forward_cpu(x, w, b, **kw)
    assert y_cpu.dtype == dtype and y_cpu.shape == y.shape
    red = w[0].size                                    # reduction length of one output
    np.testing.assert_allclose(y_cpu, y, rtol=1e-10 if f64 else 1e-5,
                               atol=0 if f64 else 1e-6 * red)

    dy = rng.standard_normal(y.shape).astype(dtype)
    dx = conv2d_backward_input_ref(dy, w, x.shape, **kw)
    dx_cpu = conv2d_backward_input_cpu(dy, w, x.shape, **kw)
    assert dx_cpu.dtype == dtype and dx.shape == x.shape
    red = w.shape[0] // kw["groups"] * w.shape[2] * w.shape[3]
    np.testing.assert_allclose(dx_cpu, dx, rtol=1e-10 if f64 else 1e-5,
                               atol=1e-14 if f64 else 1e-6 * red)

    dw, db = conv2d_backward_weight_ref(x, dy, w.shape, **kw)
    dw_cpu, db_cpu = conv2d_backward_weight_cpu(x, dy, w.shape, **kw)
    assert dw_cpu.dtype == dtype and dw.shape == w.shape and db.shape == (w.shape[0],)
    red = y.shape[0] * y.shape[2] * y.shape[3]
    np.testing.assert_allclose(dw_cpu, dw, rtol=1e-10 if f64 else 1e-5,
                               atol=1e-14 if f64 else 1e-6 * red)
    np.testing.assert_allclose(db_cpu, db, rtol=1e-10 if f64 else 1e-5,
                               atol=1e-14 if f64 else 1e-6 * red)


@pytest.mark.parametrize("impl", ["ref", "cpu"])
@pytest.mark.parametrize("case", [CASES[i] for i in (0, 1, 2, 4, 6, 7, 8, 9)],
                         ids=["stride", "groups", "dilation", "1x1s2", "pairs", "kn2row", "direct",
                              "direct_groups"])
def test_gradcheck(case, impl, rng):
    fwd, bwd_in, bwd_w = {
        "ref": (conv2d_forward_ref, conv2d_backward_input_ref, conv2d_backward_weight_ref),
        "cpu": (conv2d_forward_cpu, conv2d_backward_input_cpu, conv2d_backward_weight_cpu),
    }[impl]
    x, w, b, kw = _make(case, np.float64, rng)
    b = rng.standard_normal(w.shape[0])                # always check db
    dy = rng.standard_normal(fwd(x, w, b, **kw).shape)
    f = lambda: fwd(x, w, b, **kw)                     # noqa: E731
    dw, db = bwd_w(x, dy, w.shape, **kw)
    np.testing.assert_allclose(bwd_in(dy, w, x.shape, **kw), numerical_gradient(f, x, dy),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dw, numerical_gradient(f, w, dy), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(db, numerical_gradient(f, b, dy), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fwd", [conv2d_forward_ref, conv2d_forward_cpu])
def test_known_value(fwd):
    # x = [[0,1,2],[3,4,5],[6,7,8]], w = [[0,1],[2,3]]; no flip, so each output is
    # 0*x[i,j] + 1*x[i,j+1] + 2*x[i+1,j] + 3*x[i+1,j+1]:
    #   y[0,0] = 1 + 2*3 + 3*4 = 19    y[0,1] = 2 + 2*4 + 3*5 = 25
    #   y[1,0] = 4 + 2*6 + 3*7 = 37    y[1,1] = 5 + 2*7 + 3*8 = 43
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.arange(4.0).reshape(1, 1, 2, 2)
    np.testing.assert_array_equal(fwd(x, w, None)[0, 0], [[19, 25], [37, 43]])


@pytest.mark.parametrize("fwd", [conv2d_forward_ref, conv2d_forward_cpu])
def test_output_size(fwd):
    # H_out = (H + 2p - d(KH-1) - 1)//s + 1 = (10 + 2 - 4 - 1)//2 + 1 = 4 ; W: (7+2-4-1)//2+1 = 3
    y = fwd(np.ones((1, 1, 10, 7)), np.ones((2, 1, 3, 3)), None, stride=2, padding=1,
            dilation=2)
    assert y.shape == (1, 2, 4, 3)
    # With ones everywhere each output counts its taps inside the image. Output row i reads
    # rows 2i - 1 + 2p (p = 0, 1, 2): row 0 reads -1, 1, 3 (2 inside), rows 1..3 read 3
    # inside rows 0..9. Columns: j = 0 reads -1, 1, 3 (2); j = 1 reads 1, 3, 5 (3); j = 2
    # reads 3, 5, 7 (2, as 7 is past the last column 6).
    np.testing.assert_array_equal(y[0, 0], np.outer([2, 3, 3, 3], [2, 3, 2]))
    np.testing.assert_array_equal(y[0, 1], y[0, 0])


@pytest.mark.parametrize("case", [CASES[2], CASES[7], CASES[6]], ids=["im2col", "kn2row", "pairs"])
def test_tiles_bounded(case, rng, monkeypatch):
    # a tiny tile budget forces one-row bands; results must not change
    from minisr.kernels import _conv_blocks
    x, w, b, kw = _make(case, np.float64, rng)
    y = conv2d_forward_cpu(x, w, b, **kw)
    dy = rng.standard_normal(y.shape)
    dx = conv2d_backward_input_cpu(dy, w, x.shape, **kw)
    dw, _ = conv2d_backward_weight_cpu(x, dy, w.shape, **kw)
    monkeypatch.setattr(_conv_blocks, "TILE_BYTES", 64)
    np.testing.assert_allclose(conv2d_forward_cpu(x, w, b, **kw), y, rtol=1e-12)
    np.testing.assert_allclose(conv2d_backward_input_cpu(dy, w, x.shape, **kw), dx, rtol=1e-12)
    np.testing.assert_allclose(conv2d_backward_weight_cpu(x, dy, w.shape, **kw)[0], dw,
                               rtol=1e-12)


def test_direct_forward_is_taken_for_one_output_at_stride_1():
    one = (1, 1)
    choose = _conv_paths.choose_path
    for case in CASES[10:12]:                          # the two "direct forward" cases
        N, C_in, C_out, H, W, KH, KW, s, p, d, g, _ = case
        p2 = p if isinstance(p, tuple) else (p, p)
        d2 = d if isinstance(d, tuple) else (d, d)
        assert choose("forward", (N, C_in, H, W), (C_out, C_in, KH, KW), one, p2, d2, g) \
            == "direct"
    # SRCNN's last layer; but not with stride 2, groups, or two outputs
    assert choose("forward", (16, 32, 48, 48), (1, 32, 5, 5), one, (2, 2), one, 1) == "direct"
    assert choose("forward", (2, 3, 9, 8), (1, 3, 3, 3), (2, 2), one, one, 1) != "direct"
    assert choose("forward", (1, 4, 6, 7), (2, 2, 3, 3), one, (2, 2), (2, 2), 2) != "direct"
    assert choose("forward", (16, 32, 48, 48), (2, 32, 3, 3), one, one, one, 1) != "direct"


def test_direct_loops_do_not_depend_on_the_thread_count(rng):
    # forward: images or row bands per thread; dL/dw: (output, input) pairs per thread
    x = rng.standard_normal((1, 6, 13, 11)).astype(np.float32)
    w = rng.standard_normal((1, 6, 5, 5)).astype(np.float32)
    dy = rng.standard_normal((1, 1, 13, 11)).astype(np.float32)
    before = numba.get_num_threads()
    try:
        out = []
        for T in (1, before):
            numba.set_num_threads(T)
            out.append((conv2d_forward_cpu(x, w, None, 1, 2),
                        conv2d_backward_weight_cpu(x, dy, w.shape, 1, 2)[0]))
    finally:
        numba.set_num_threads(before)
    assert all(np.array_equal(a, b) for a, b in zip(*out))


# ----------------------------------------------------------------------------- strided layers
# Strided layers whose kernel is a whole number of strides run as the stride-1 conv of their
# space-to-depth twin (``_conv_s2d.py``), but only with >= S2D_MIN_OUT outputs per side and
# C_out <= C_in; ``s2d`` below lowers that bound to 1 so these small cases take the twin
# wherever the kernel fits (kernel 4 at stride 2, kernel 3 at stride 3: a 1x1 twin), and the
# others (kernel 3 at stride 2, 4 at stride 3) check the strided im2col beside them.
# (N, C_in, C_out, H, W, K, s, p): odd sizes, batch 1 and 2, padding 0-2, stride 2 and 3
STRIDED = [(N, 4, 3, H, W, K, s, p) for N, H, W in ((1, 9, 8), (2, 7, 11))
           for K in (3, 4) for s in (2, 3) for p in (0, 1, 2)]
STRIDED_IDS = [f"n{c[0]}_k{c[5]}_s{c[6]}_p{c[7]}" for c in STRIDED]


def _strided(c, groups=1, bias=True):
    N, C_in, C_out, H, W, K, s, p = c
    return (N, C_in, C_out, H, W, K, K, s, p, 1, groups, bias)


@pytest.fixture
def s2d(monkeypatch):
    monkeypatch.setattr(_conv_paths, "S2D_MIN_OUT", 1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", STRIDED, ids=STRIDED_IDS)
def test_strided_cpu_matches_ref(case, dtype, rng, s2d):
    N, C_in, C_out, H, W, K, s, p = case
    path = _conv_paths.choose_path("forward", (N, C_in, H, W), (C_out, C_in, K, K), (s, s),
                                   (p, p), (1, 1), 1)
    assert path == ("space_to_depth" if K % s == 0 else "im2col")
    _assert_cpu_matches_ref(_strided(case), dtype, rng)


@pytest.mark.parametrize("case", [(2, 4, 3, 9, 8, 4, 2, 1), (1, 3, 2, 7, 11, 3, 3, 2),
                                  (2, 4, 4, 8, 9, 4, 2, 0)], ids=["k4s2p1", "k3s3p2", "k4s2p0"])
def test_strided_gradcheck_space_to_depth(case, rng, s2d):
    x, w, b, kw = _make(_strided(case), np.float64, rng)
    dy = rng.standard_normal(conv2d_forward_cpu(x, w, b, **kw).shape)
    f = lambda: conv2d_forward_cpu(x, w, b, **kw)      # noqa: E731
    dw, db = conv2d_backward_weight_cpu(x, dy, w.shape, **kw)
    np.testing.assert_allclose(conv2d_backward_input_cpu(dy, w, x.shape, **kw),
                               numerical_gradient(f, x, dy), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dw, numerical_gradient(f, w, dy), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(db, numerical_gradient(f, b, dy), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_strided_space_to_depth_groups_pairs_and_no_bias(dtype, rng, s2d):
    # groups 2 (each group's channels stay one block of the twin), per-axis stride/padding
    _assert_cpu_matches_ref((2, 4, 4, 9, 10, 4, 4, 2, 1, 1, 2, False), dtype, rng)
    _assert_cpu_matches_ref((1, 3, 3, 9, 10, 4, 6, (2, 3), (1, 2), 1, 1, True), dtype, rng)


def test_strided_space_to_depth_at_full_size(rng):
    # 16x17 outputs: the twin is taken with the package's own bound, no monkeypatch
    case = (1, 3, 2, 33, 35, 4, 4, 2, 1, 1, 1, True)
    x, w, _, kw = _make(case, np.float64, rng)
    assert _conv_paths.choose_path("forward", x.shape, w.shape, (2, 2), (1, 1), (1, 1), 1) \
        == "space_to_depth"
    _assert_cpu_matches_ref(case, np.float64, rng)


@pytest.mark.parametrize("output_padding", [0, 1])
def test_strided_transposed_conv_through_space_to_depth(output_padding, rng, s2d):
    # conv_transpose2d's forward is conv2d's backward_input: the same twin, with the extra
    # output_padding rows (which no conv2d output reads) coming out as bias only
    x = rng.standard_normal((2, 3, 5, 4))
    w = rng.standard_normal((3, 2, 4, 4))
    b = rng.standard_normal(2)
    np.testing.assert_allclose(conv_transpose2d_forward_cpu(x, w, b, 2, 1, output_padding),
                               conv_transpose2d_forward_ref(x, w, b, 2, 1, output_padding),
                               rtol=1e-10, atol=1e-12)


def test_space_to_depth_rule_on_the_discriminator_shapes():
    choose, one = _conv_paths.choose_path, (1, 1)

    def path(pas, N, C_in, C_out, H, K=4, s=2, p=1, d=1):
        return choose(pas, (N, C_in, H, H), (C_out, C_in, K, K), (s, s), (p, p), (d, d), 1)
    for pas in ("forward", "backward_input", "backward_weight"):
        assert path(pas, 8, 32, 32, 96) == "space_to_depth"      # conv0_1: 48x48 outputs
        assert path(pas, 8, 64, 64, 48) == "space_to_depth"      # conv1_1: 24x24
        assert path(pas, 8, 128, 128, 12) != "space_to_depth"    # conv3_1: 6x6, too small
        assert path(pas, 8, 32, 32, 96, K=3) != "space_to_depth"  # 3x3/2: zero taps
        assert path(pas, 8, 32, 32, 96, d=2) != "space_to_depth"  # dilated
        assert path(pas, 8, 8, 64, 96) != "space_to_depth"       # C_out > C_in
        # FSRCNN's 9x9 stride-3 deconvolution in conv2d's terms: 1 input, 56 outputs
        assert path(pas, 16, 1, 56, 48, K=9, s=3, p=4) != "space_to_depth"
