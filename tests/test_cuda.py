"""The cuda table against the cpu table (STYLE.md section 6, check 3), in the simulator by
default (``conftest.py`` sets NUMBA_ENABLE_CUDASIM=1; export =0 on a GPU).

Every case of ``cases.py`` runs forward and backward through autograd on 'cuda' and on
'cpu' in float32, so each CUDA primitive meets its CPU twin in both passes. New device
arrays are NaN-filled (-1 if integer: ``_launch.POISON``), so an output element a kernel
forgets to write shows up. The tiled conv2d forward is checked against the simple one; max
pooling's ties and overlapping windows and the bilinear resize's adjoint tables are checked
directly; a tiny ESPCN-like net trains to the CPU's loss sequence. Skips when numba-cuda is
missing or finds no device.
"""
import numpy as np
import pytest

cuda = pytest.importorskip("numba.cuda", reason="numba-cuda is not installed "
                           "(pip install 'minisr[cuda]')")

from minisr import backend  # noqa: E402
from minisr.autograd import Tensor  # noqa: E402
from tests.cases import CASES  # noqa: E402

pytestmark = pytest.mark.skipif(not backend.cuda_available(),
                                reason="numba.cuda finds no GPU and the simulator is off")


@pytest.fixture
def poisoned():
    from minisr.kernels.cuda import _launch
    _launch.POISON = True
    yield
    _launch.POISON = False


def _run(case, arrays, dy, device):
    ts = [Tensor(a.copy(), requires_grad=True).to(device) for a in arrays]
    y = case.fn(*ts)
    y.backward(Tensor(dy.astype(y.dtype)).to(device))
    return y.numpy(), [backend.to_device(t.grad, "cpu") for t in ts]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_cuda_matches_cpu_float32(case, poisoned):
    arrays = [a.astype(np.float32) for a in case.arrays(seed=1)]
    y_cpu = case.fn(*[Tensor(a) for a in arrays]).data
    dy = np.random.default_rng(2).standard_normal(y_cpu.shape)
    y_cpu, g_cpu = _run(case, arrays, dy, "cpu")
    y_gpu, g_gpu = _run(case, arrays, dy, "cuda")
    atol = 1e-5 * max(a.size for a in arrays) ** 0.5
    assert y_gpu.dtype == np.float32 and y_gpu.shape == y_cpu.shape
    np.testing.assert_allclose(y_gpu, y_cpu, rtol=1e-5, atol=atol)
    for k, (gg, gc) in enumerate(zip(g_gpu, g_cpu)):
        assert gg.dtype == np.float32
        np.testing.assert_allclose(gg, gc, rtol=1e-5, atol=atol, err_msg=f"input {k}")


@pytest.mark.parametrize("k, pad, groups", [(3, 1, 1), (5, 2, 2)])
def test_tiled_conv2d_forward_matches_simple(k, pad, groups, poisoned):
    from minisr.kernels.cuda.conv2d import _conv2d_forward_simple, _conv2d_forward_tiled
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 19, 21)).astype(np.float32)   # 2 x 2 tiles, ragged edge
    w = rng.standard_normal((2, 2 // groups, k, k)).astype(np.float32)
    b = rng.standard_normal(2).astype(np.float32)
    xd, wd, bd = (backend.to_device(a, "cuda") for a in (x, w, b))
    simple = _conv2d_forward_simple(xd, wd, bd, 1, pad, 1, groups).copy_to_host()
    tiled = _conv2d_forward_tiled(xd, wd, bd, 1, pad, 1, groups).copy_to_host()
    np.testing.assert_allclose(tiled, simple, rtol=1e-5, atol=1e-5)
    cpu = backend.get_backend("cpu").conv2d_forward(x, w, b, 1, pad, 1, groups)
    np.testing.assert_allclose(tiled, cpu, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("act, shared, stride", [("tanh", False, 1), ("prelu", False, 1),
                                                  ("relu", False, 2), ("prelu", True, 2)])
def test_conv2d_act_forward_matches_cpu(act, shared, stride, poisoned):
    # stride 1 on a 16 x 16 output runs the tiled kernel (2 blocks), stride 2 the simple one
    from minisr.kernels.cuda.conv2d import _tiled_applies
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 1, 16, 16)).astype(np.float32)
    w = rng.standard_normal((2, 1, 3, 3)).astype(np.float32)
    b = rng.standard_normal(2).astype(np.float32)
    a = (np.array([0.3]) if shared else np.array([0.1, 0.4])).astype(np.float32) \
        if act == "prelu" else None
    assert _tiled_applies(x, w, stride, 1, 1) == (stride == 1)
    cuda_t, cpu_t = backend.get_backend("cuda"), backend.get_backend("cpu")
    dev = [None if t is None else backend.to_device(t, "cuda") for t in (x, w, b, a)]
    y = cuda_t.conv2d_act_forward(dev[0], dev[1], dev[2], stride, 1, 1, 1, act, dev[3])
    want = cpu_t.conv2d_act_forward(x, w, b, stride, 1, 1, 1, act, a)
    np.testing.assert_allclose(y.copy_to_host(), want, rtol=1e-5, atol=1e-5)


def _espcn_losses(device: str, steps: int = 3) -> list[float]:
    from minisr.nn import losses
    from minisr.nn.layers import Conv2d, PixelShuffle, Tanh
    from minisr.nn.module import Sequential
    from minisr.optim import Adam
    rng = np.random.default_rng(0)
    net = Sequential(Conv2d(1, 4, 5, padding=2), Tanh(), Conv2d(4, 4, 3, padding=1),
                     PixelShuffle(2))
    for p in net.parameters():   # same weights on both devices, whatever init does
        p.data = (0.3 * rng.standard_normal(p.shape)).astype(np.float32)
    net.to(device)
    opt = Adam(net.parameters(), lr=1e-2)
    x = Tensor(rng.standard_normal((2, 1, 5, 6)).astype(np.float32)).to(device)
    t = Tensor(rng.standard_normal((2, 1, 10, 12)).astype(np.float32)).to(device)
    return _train_losses(net, opt, losses.mse_loss, x, t, steps)


def _train_losses(net, opt, loss_fn, x, t, steps: int) -> list[float]:
    """The loss of each of ``steps`` optimizer steps on one batch."""
    out = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(net(x), t)
        loss.backward()
        opt.step()
        out.append(loss.item())
    return out


def test_espcn_like_training_matches_cpu():
    cpu, gpu = _espcn_losses("cpu"), _espcn_losses("cuda")
    assert cpu[-1] < cpu[0]
    np.testing.assert_allclose(gpu, cpu, rtol=1e-5, atol=1e-5)


def _finetune_shipped_espcn(device: str, steps: int = 2) -> list[float]:
    # The shipped ESPCN x3 with its reconstruction layer (conv3, 2,601 parameters) trained
    # and the rest frozen: a full step would take minutes in the simulator, which runs every
    # GPU thread as an OS thread.
    import minisr
    from minisr.nn import losses
    from minisr.optim import Adam
    net = minisr.load_pretrained("espcn", 3)
    for name, p in net.named_parameters():
        p.requires_grad = name.startswith("conv3.")
    net.to(device)
    opt = Adam([p for p in net.parameters() if p.requires_grad], lr=1e-3)
    rng = np.random.default_rng(0)
    x = Tensor(rng.random((1, 1, 4, 4), dtype=np.float32)).to(device)
    t = Tensor(rng.random((1, 1, 12, 12), dtype=np.float32)).to(device)
    out = _train_losses(net, opt, losses.l1_loss, x, t, steps)
    assert net.conv3.weight.device == device and net.conv1.weight.device == device
    return out


def test_shipped_espcn_finetunes_on_cuda_as_on_cpu(poisoned):
    cpu, gpu = _finetune_shipped_espcn("cpu"), _finetune_shipped_espcn("cuda")
    assert cpu[1] < cpu[0]
    np.testing.assert_allclose(gpu, cpu, rtol=1e-5, atol=1e-6)


def test_tiled_forward_only_where_the_output_fills_a_tile():
    from minisr.kernels.cuda.conv2d import TILE, _tiled_applies
    w3 = np.zeros((4, 2, 3, 3), np.float32)
    x = lambda h, w, dtype=np.float32: np.zeros((1, 2, h, w), dtype)  # noqa: E731
    assert _tiled_applies(x(TILE, TILE), w3, 1, 1, 1)
    assert not _tiled_applies(x(TILE - 1, 64), w3, 1, 1, 1)        # a 15-row output
    assert not _tiled_applies(x(TILE + 1, TILE + 1), w3, 1, 0, 1)  # valid conv: 15 x 15
    assert not _tiled_applies(x(64, 64), w3, 2, 1, 1)              # stride 2
    assert not _tiled_applies(x(64, 64, np.float64), w3, 1, 1, 1)  # float64
    assert not _tiled_applies(x(64, 64), np.zeros((4, 2, 11, 11), np.float32), 1, 5, 1)


@pytest.mark.parametrize("k, s, p", [((7, 7), (3, 3), (0, 0)), ((3, 2), (1, 2), (1, 1))])
def test_max_pool2d_ties_and_overlaps_match_cpu_bit_for_bit(k, s, p, poisoned):
    # values in {0, 1, 2}: many ties, decided alike (first in row-major order); the gather
    # adds overlapping windows in the CPU scatter's order, so dx is equal bit for bit.
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, (1, 2, 13, 11)).astype(np.float32)
    cuda_t, cpu_t = backend.get_backend("cuda"), backend.get_backend("cpu")
    y, idx = cpu_t.max_pool2d_forward(x, k, s, p)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx = cpu_t.max_pool2d_backward(dy, idx, x.shape, k, s, p)
    y_d, idx_d = cuda_t.max_pool2d_forward(backend.to_device(x, "cuda"), k, s, p)
    dx_d = cuda_t.max_pool2d_backward(backend.to_device(dy, "cuda"), idx_d, x.shape, k, s, p)
    np.testing.assert_array_equal(y_d.copy_to_host(), y)
    np.testing.assert_array_equal(idx_d.copy_to_host(), idx)
    np.testing.assert_array_equal(dx_d.copy_to_host(), dx)


@pytest.mark.parametrize("in_hw, size, scales", [((9, 10), (3, 4), (None, None)),
                                                 ((3, 4), (8, 4), (None, None)),
                                                 ((5, 4), (7, 10), (1.5, 2.5))])
def test_upsample_bilinear2d_matches_cpu(in_hw, size, scales, poisoned):
    # a downscale by 3 leaves input rows that no output reads (their adjoint rows are zero
    # padding); an unchanged axis is a copy; a given scale factor sets the ratio.
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 2) + in_hw).astype(np.float32)
    dy = rng.standard_normal((2, 2) + size).astype(np.float32)
    cuda_t, cpu_t = backend.get_backend("cuda"), backend.get_backend("cpu")
    y = cuda_t.upsample_bilinear2d_forward(backend.to_device(x, "cuda"), size, scales)
    dx = cuda_t.upsample_bilinear2d_backward(backend.to_device(dy, "cuda"), in_hw, scales)
    np.testing.assert_allclose(y.copy_to_host(), cpu_t.upsample_bilinear2d_forward(
        x, size, scales), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(dx.copy_to_host(), cpu_t.upsample_bilinear2d_backward(
        dy, in_hw, scales), rtol=1e-5, atol=1e-6)
