"""Module, Parameter, Buffer and Sequential: the containers models are built from.

A Module finds its parameters, buffers and submodules by walking its attributes in
definition order, so ``self.conv_first = Conv2d(...)`` is all a model writes; the dotted
names that result (``body.0.conv1.weight``) are the keys of ``state_dict`` and of saved
``.npz`` files, as in PyTorch. A Buffer (``torch.nn.Buffer``, ``register_buffer``) is state
that is saved, loaded and moved with the module but not trained: batch norm's running
statistics. Read next: ``nn/layers.py``.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from minisr.autograd import Tensor
from minisr.backend import DEVICES, device_of, to_device

__all__ = ["Parameter", "Buffer", "Module", "Sequential"]


class Parameter(Tensor):
    """A leaf Tensor that a Module owns and an optimizer updates (requires grad)."""

    def __init__(self, data, dtype=None):
        super().__init__(data, requires_grad=True, dtype=dtype)

    def __repr__(self) -> str:
        return f"Parameter(shape={self.shape}, dtype={self.dtype})"


class Buffer(Tensor):
    """A leaf Tensor that a Module owns but no optimizer sees (never requires grad): part of
    ``state_dict``, moved by ``Module.to``, as ``torch.nn.Buffer``. An array keeps its dtype
    (``num_batches_tracked`` is int64); Python numbers become float32 as in ``Tensor``."""

    def __init__(self, data, dtype=None):
        if dtype is None and isinstance(data, (np.ndarray, np.generic)):
            dtype = data.dtype
        super().__init__(data, requires_grad=False, dtype=dtype)

    def __repr__(self) -> str:
        return f"Buffer(shape={self.shape}, dtype={self.dtype})"


class Module:
    """Base class: subclasses set Parameters/Modules as attributes and define ``forward``."""

    training: bool = True

    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # --- traversal --------------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """(name, submodule) for each direct submodule, in definition order."""
        for name, value in vars(self).items():
            if isinstance(value, Module) and not name.startswith("_"):
                yield name, value

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        """(dotted name, module) for this module and every descendant."""
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter), e.g. ``('body.0.conv1.weight', Parameter)``."""
        for name, value in vars(self).items():
            if name.startswith("_"):  # private attributes are not part of the state
                continue
            full = f"{prefix}.{name}" if prefix else name
            if isinstance(value, Parameter):
                yield full, value
            elif isinstance(value, Module):
                yield from value.named_parameters(full)

    def parameters(self) -> list[Parameter]:
        """All parameters, in ``named_parameters`` order (buffers are not among them)."""
        return [p for _, p in self.named_parameters()]

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Buffer]]:
        """(dotted name, buffer), e.g. ``('bn1.running_mean', Buffer)``; a buffer attribute
        set to None (batch norm without running statistics) is skipped, as in PyTorch."""
        for name, value in self._named_state(prefix):
            if isinstance(value, Buffer):
                yield name, value

    def buffers(self) -> list[Buffer]:
        """All buffers, in ``named_buffers`` order."""
        return [b for _, b in self.named_buffers()]

    def register_buffer(self, name: str, tensor) -> None:
        """``self.<name> = Buffer(tensor)`` (None: an absent buffer), as PyTorch's
        ``register_buffer``; a dtype-less array keeps its dtype."""
        if "." in name or not name or name.startswith("_"):
            raise ValueError(f"register_buffer: bad buffer name {name!r}")
        setattr(self, name, None if tensor is None else Buffer(tensor))

    def _named_state(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """Parameters and buffers in definition order: the entries of ``state_dict``.
        Batch norm defines weight, bias, running_mean, running_var, num_batches_tracked,
        the order of PyTorch's state_dict."""
        for name, value in vars(self).items():
            if name.startswith("_"):
                continue
            full = f"{prefix}.{name}" if prefix else name
            if isinstance(value, (Parameter, Buffer)):
                yield full, value
            elif isinstance(value, Module):
                yield from value._named_state(full)

    def num_parameters(self, include_bias: bool = True) -> int:
        """Number of learned values (SRCNN/FSRCNN papers count weights only)."""
        return sum(p.size for n, p in self.named_parameters()
                   if include_bias or not n.endswith("bias"))

    # --- modes and gradients ----------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Set training mode on this module and all submodules."""
        for _, m in self.named_modules():
            m.training = mode
        return self

    def eval(self) -> "Module":
        """Set evaluation mode (``train(False)``)."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget accumulated gradients (set them to None)."""
        for p in self.parameters():
            p.grad = None

    def to(self, dtype_or_device) -> "Module":
        """Move every parameter and buffer in place: to a device ('cpu' or 'cuda'), or cast
        it to a dtype (e.g. ``np.float64`` for gradchecks; the cast runs on the host, and
        skips integer buffers such as ``num_batches_tracked``, as PyTorch's does). Grads are
        dropped. Make optimizers after moving, so their state lives with the parameters."""
        is_device = isinstance(dtype_or_device, str) and dtype_or_device in DEVICES
        for _, t in self._named_state():
            if is_device:
                t.data = to_device(t.data, dtype_or_device)
            elif t.dtype.kind == "f":
                device = device_of(t.data)
                t.data = to_device(to_device(t.data, "cpu").astype(dtype_or_device), device)
            t.grad = None
        return self

    # --- state ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """{dotted name: array copy} of every parameter and buffer (host arrays)."""
        return {name: (p.data.copy() if p.device == "cpu" else p.numpy())
                for name, p in self._named_state()}

    def load_state_dict(self, state: dict[str, np.ndarray], strict: bool = True) -> None:
        """Copy arrays into the parameters and buffers of the same names (cast to their
        dtype, kept on their device).

        Raises a ValueError listing missing and unexpected names (when ``strict``) and
        every shape mismatch; nothing is changed when it raises.
        """
        params = dict(self._named_state())
        missing = sorted(set(params) - set(state))
        unexpected = sorted(set(state) - set(params))
        bad = [f"{k}: saved {tuple(np.shape(state[k]))} vs model {params[k].shape}"
               for k in params if k in state and tuple(np.shape(state[k])) != params[k].shape]
        problems = bad + ([f"missing {missing}"] if strict and missing else []) + \
            ([f"unexpected {unexpected}"] if strict and unexpected else [])
        if problems:
            raise ValueError(f"load_state_dict ({type(self).__name__}): " + "; ".join(problems))
        for k, p in params.items():
            if k in state:
                p.data = to_device(np.array(state[k], dtype=p.dtype), p.device)
                p.grad = None

    def __repr__(self) -> str:
        children = [f"  ({n}): " + repr(m).replace("\n", "\n  ") for n, m in
                    self.named_children()]
        extra = self.extra_repr()
        if not children:
            return f"{type(self).__name__}({extra})"
        return f"{type(self).__name__}(\n" + "\n".join(children) + "\n)"

    def extra_repr(self) -> str:
        """One line of settings shown by ``repr`` (override in layers)."""
        return ""


class Sequential(Module):
    """Modules applied in order; children are named '0', '1', ... as in PyTorch.

    A layer with ``forward_act`` (``Conv2d``) followed by one with ``epilogue`` (ReLU, Tanh,
    PReLU) runs as ``forward_act(x, *epilogue())``: at inference one fused pass over the
    output, in training the same graph as the two layers in turn."""

    def __init__(self, *modules: Module):
        for i, m in enumerate(modules):
            setattr(self, str(i), m)

    def __len__(self) -> int:
        return sum(1 for _ in self.named_children())

    def __getitem__(self, i: int) -> Module:
        return list(m for _, m in self.named_children())[i]

    def forward(self, x):
        layers = [m for _, m in self.named_children()]
        i = 0
        while i < len(layers):
            m = layers[i]
            act = layers[i + 1] if i + 1 < len(layers) else None
            if hasattr(m, "forward_act") and hasattr(act, "epilogue"):
                x, i = m.forward_act(x, *act.epilogue()), i + 2
            else:
                x, i = m(x), i + 1
        return x
