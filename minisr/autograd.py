"""Autograd-lite: a Tensor that records the Functions applied to it, and reverse mode.

A ``Function`` subclass holds a primitive's ``forward`` and ``backward`` side by side; the
instance itself is the context (``ctx``) that carries what backward needs. Both call only
``ctx.backend.<primitive>``, so one Function serves every backend (ref, cpu, cuda).
``Tensor.backward`` sorts the graph topologically without recursion (deep networks would
overflow Python's stack) and accumulates gradients with the backend's ``add``, so nothing
here touches the data with NumPy: it may live on a GPU (``Tensor.to('cuda')``). Operators such as ``+`` and ``*`` are
attached to ``Tensor`` by ``minisr.ops``. Read next: ``ops/arithmetic.py``.
"""
from __future__ import annotations

import contextlib
import threading

import numpy as np

from minisr.backend import backend_for, device_of, is_device_array, to_device

__all__ = ["is_grad_enabled", "no_grad", "Tensor", "Function"]

_grad_state = threading.local()


def is_grad_enabled() -> bool:
    """False inside a ``no_grad()`` block."""
    return getattr(_grad_state, "enabled", True)


@contextlib.contextmanager
def no_grad():
    """Run a block without recording graphs (inference, optimizer steps)."""
    previous = is_grad_enabled()
    _grad_state.enabled = False
    try:
        yield
    finally:
        _grad_state.enabled = previous


class Tensor:
    """An array plus what reverse mode needs: ``grad``, ``requires_grad`` and ``_ctx``.

    ``data`` is a NumPy array (float32 unless given otherwise) or a numba CUDA device array
    (kept as it is); ``_ctx`` is the Function that produced the tensor (None for leaves).
    Only leaves keep their ``grad``.
    """

    def __init__(self, data, requires_grad: bool = False, dtype=None, _ctx=None):
        if isinstance(data, Tensor):
            data = data.data
        if is_device_array(data):
            if dtype is not None and np.dtype(dtype) != data.dtype:
                raise ValueError(f"Tensor: device data is {data.dtype}, not {np.dtype(dtype)}; "
                                 f"cast on the host before .to('cuda')")
            self.data, self.grad, self._ctx = data, None, _ctx
            self.requires_grad = bool(requires_grad)
            return
        # NumPy arrays and scalars keep a float dtype (ops on 0-d arrays return
        # np.float64 scalars); Python numbers, lists and integer data become float32.
        if dtype is None and not (isinstance(data, (np.ndarray, np.generic))
                                  and data.dtype.kind == "f"):
            dtype = np.float32
        self.data = np.asarray(data, dtype=dtype)
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self._ctx = _ctx

    # --- array-like views -------------------------------------------------------------
    shape = property(lambda self: tuple(self.data.shape))
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    device = property(lambda self: device_of(self.data), doc="'cpu' or 'cuda'.")

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        flag = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor(shape={self.shape}, dtype={self.dtype}{flag})"

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (shared, not copied, on the CPU; copied from a GPU)."""
        return to_device(self.data, "cpu")

    def to(self, device: str) -> "Tensor":
        """This tensor on ``device`` ('cpu' or 'cuda'): itself if already there, else a new
        leaf holding a copy (with the same ``requires_grad``, cut from the graph)."""
        if device_of(self.data) == device:
            return self
        return Tensor(to_device(self.data, device), requires_grad=self.requires_grad)

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        return float(self.numpy().reshape(-1)[0]) if self.data.size == 1 \
            else self._not_scalar()

    def _not_scalar(self):
        raise ValueError(f"item: tensor of shape {self.shape} is not a single value")

    def detach(self) -> "Tensor":
        """A leaf sharing this tensor's data, cut from the graph."""
        return Tensor(self.data)

    # --- reverse mode -----------------------------------------------------------------
    def _topological_order(self) -> list["Tensor"]:
        """Tensors that need gradients, each after every tensor it depends on."""
        order, visited = [], set()
        stack = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            if node._ctx is not None:
                for parent in node._ctx.inputs:
                    if isinstance(parent, Tensor) and parent.requires_grad \
                            and id(parent) not in visited:
                        stack.append((parent, False))
        return order

    def backward(self, grad=None) -> None:
        """Accumulate dL/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        ``grad`` is dL/d(self); it defaults to 1 for a one-element tensor (a loss).
        """
        if not self.requires_grad:
            raise RuntimeError("backward: tensor does not require grad (built under "
                               "no_grad, or from leaves without requires_grad=True)")
        be = backend_for(self.data)
        if grad is None:
            if self.size != 1:
                raise RuntimeError(f"backward: grad must be given for shape {self.shape}")
            grad = be.full(self.shape, 1, self.dtype)
        elif isinstance(grad, Tensor):
            grad = grad.data
        if device_of(grad) != self.device:
            raise ValueError(f"backward: grad is on {device_of(grad)}, the tensor on "
                             f"{self.device}")
        if not is_device_array(grad):
            grad = np.asarray(grad, dtype=self.dtype)
        grads = {id(self): grad}
        for node in reversed(self._topological_order()):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            ctx = node._ctx
            if ctx is None:
                node.grad = g if node.grad is None else be.add(node.grad, g)
                continue
            in_grads = ctx.backward(g)
            if not isinstance(in_grads, tuple):
                in_grads = (in_grads,)
            for parent, pg in zip(ctx.inputs, in_grads):
                if pg is None or not (isinstance(parent, Tensor) and parent.requires_grad):
                    continue
                if pg.shape != parent.shape:
                    raise RuntimeError(f"{type(ctx).__name__}.backward returned a gradient "
                                       f"of shape {pg.shape} for an input of {parent.shape}")
                key = id(parent)
                grads[key] = pg if key not in grads else be.add(grads[key], pg)


class Function:
    """One differentiable primitive; the instance is the context (``ctx``).

    Subclasses define ``forward(ctx, *arrays_and_args)`` returning an array and
    ``backward(ctx, dy)`` returning one gradient (or None) per positional input.
    ``apply`` unwraps Tensors, runs forward on the backend of the first tensor's data and
    records the graph when any input requires grad (and grad mode is on).
    """

    def __init__(self, backend, inputs: tuple):
        self.backend = backend
        self.inputs = inputs
        self.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad
                                      for a in inputs)
        self.saved_tensors: tuple = ()

    def save_for_backward(self, *arrays) -> None:
        """Keep the arrays backward needs (and nothing else)."""
        self.saved_tensors = arrays

    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, dy):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs) -> Tensor:
        tensors = [a for a in args if isinstance(a, Tensor)]
        first = tensors[0]
        if any(t.device != first.device for t in tensors):
            raise ValueError(f"{cls.__name__}: inputs on different devices "
                             f"{[t.device for t in tensors]}; move them with .to()")
        ctx = cls(backend_for(first.data), args)
        raw = [a.data if isinstance(a, Tensor) else a for a in args]
        y = ctx.forward(*raw, **kwargs)
        record = is_grad_enabled() and any(ctx.needs_input_grad)
        if not record:
            ctx.inputs = ()  # drop references so the inputs can be freed
        return Tensor(y, requires_grad=record, _ctx=ctx if record else None)
