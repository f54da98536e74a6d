"""Backend tables: same names everywhere, selection by context."""
import numpy as np

from minisr.backend import IMPLS, current_backend_name, primitive_names, use_backend


def test_all_backends_expose_the_same_primitives():
    names = [primitive_names(b) for b in IMPLS if b != "cuda" or backend.cuda_available()]
    assert all(n == names[0] for n in names)
    for must in ("conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight",
                 "conv_transpose2d_forward", "pixel_shuffle", "pixel_unshuffle",
                 "relu_forward", "prelu_backward", "sgd_step", "adam_step", "sum_to_shape",
                 "resize_axis", "max_pool2d_forward", "max_pool2d_backward",
                 "upsample_bilinear2d_forward", "upsample_bilinear2d_backward"):
        assert must in names[0]


def test_use_backend_nests_and_restores():
    assert current_backend_name() == "cpu"
    with use_backend("ref"):
        assert current_backend_name() == "ref"
        with use_backend("cpu"):
            assert current_backend_name() == "cpu"
        assert current_backend_name() == "ref"
    assert current_backend_name() == "cpu"


def test_sum_to_shape_is_adjoint_of_broadcast():
    from minisr.kernels.reduce import broadcast_to_ref, sum_to_shape_ref
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal((3, 1, 5)), rng.standard_normal((2, 3, 4, 5))
    lhs = np.sum(broadcast_to_ref(x, g.shape) * g)
    rhs = np.sum(x * sum_to_shape_ref(g, x.shape))
    assert abs(lhs - rhs) < 1e-12 * abs(lhs) + 1e-12


# --- the seam: tables chosen from where the data lives (issue 9, item 1) -----------------
import pytest  # noqa: E402

from minisr import backend  # noqa: E402
import minisr.ops  # noqa: E402,F401  (gives Tensor its operators)
from minisr.autograd import Tensor  # noqa: E402

needs_cuda = pytest.mark.skipif(
    not backend.cuda_available(),
    reason="numba-cuda not installed, or no GPU and NUMBA_ENABLE_CUDASIM is off")


@needs_cuda
def test_cuda_table_has_the_cpu_names():
    assert primitive_names("cuda") == primitive_names("cpu")


def test_backend_for_numpy_follows_use_backend():
    x = np.zeros(3, dtype=np.float32)
    assert backend.backend_for(x).name == "cpu"
    with use_backend("ref"):
        assert backend.backend_for(x).name == "ref"
    assert backend.device_of(x) == "cpu"


@needs_cuda
def test_backend_for_device_array_is_cuda_even_under_use_backend_ref():
    d = backend.to_device(np.zeros(3, dtype=np.float32), "cuda")
    assert backend.device_of(d) == "cuda"
    assert backend.backend_for(d).name == "cuda"
    with use_backend("ref"):
        assert backend.backend_for(d).name == "cuda"


def test_leaf_gradients_accumulate_through_the_backend_add(monkeypatch):
    table = backend.get_backend("cpu")
    calls = []
    real_add = table.add
    monkeypatch.setattr(table, "add", lambda a, b: calls.append(1) or real_add(a, b))
    x = Tensor(np.ones(4, dtype=np.float32), requires_grad=True)
    (x * 2.0).sum().backward()
    (x * 2.0).sum().backward()
    assert calls, "grad accumulation bypassed the backend table"
    np.testing.assert_array_equal(x.grad, np.full(4, 4.0, dtype=np.float32))


def test_cuda_request_without_cuda_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(backend, "cuda_available", lambda: False)
    with pytest.raises(RuntimeError, match="cuda"):
        Tensor(np.zeros(2)).to("cuda")
    with pytest.raises(ValueError, match="device"):
        Tensor(np.zeros(2)).to("tpu")


@needs_cuda
def test_tensor_to_cuda_and_back_and_graph_on_device():
    x = Tensor(np.arange(1, 5, dtype=np.float32), requires_grad=True).to("cuda")
    assert x.device == "cuda" and x.requires_grad and x.shape == (4,)
    y = (x * x + x * 3.0).sum()             # x feeds two branches: grads add on the device
    assert y.device == "cuda"
    y.backward()
    assert backend.device_of(x.grad) == "cuda"
    np.testing.assert_allclose(Tensor(x.grad).numpy(), 2 * np.arange(1, 5) + 3)
    assert abs(y.item() - (30 + 30)) < 1e-5
    assert x.to("cpu").device == "cpu"


@needs_cuda
def test_module_to_device_dtype_and_optimizer_state_on_device():
    from minisr.nn.layers import Conv2d
    from minisr.optim import Adam
    m = Conv2d(1, 2, 3, padding=1)
    m.to(np.float64)
    assert m.weight.dtype == np.float64 and m.weight.device == "cpu"
    m.to(np.float32).to("cuda")
    assert m.weight.device == "cuda" and m.weight.dtype == np.float32
    m.to(np.float64)                         # a dtype cast keeps the device
    assert m.weight.device == "cuda" and m.weight.dtype == np.float64
    m.to(np.float32)
    opt = Adam(m.parameters(), lr=1e-2)
    x = Tensor(np.ones((1, 1, 4, 4), dtype=np.float32)).to("cuda")
    m(x).mean().backward()
    opt.step()
    st = opt.state[0]
    assert backend.device_of(st["exp_avg"]) == "cuda"
    sd = opt.state_dict()
    assert isinstance(sd["state"]["0"]["exp_avg"], np.ndarray)
    assert all(isinstance(v, np.ndarray) for v in m.state_dict().values())
