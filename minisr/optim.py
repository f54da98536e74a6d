"""Optimizers (SGD, Adam, AdamW), gradient clipping, and learning-rate schedulers.

Parameter groups carry their own settings, so SRCNN's "last layer at lr/10" is
``SGD([{'params': body}, {'params': last, 'lr': 1e-5}], lr=1e-4, momentum=0.9)``. The
arithmetic of one step lives in ``kernels/optim.py``; this file owns the state. Both
optimizers and schedulers have ``state_dict``/``load_state_dict`` so a training run can
stop and resume exactly. Semantics follow ``torch.optim`` (see its docs).
"""
from __future__ import annotations

import math

import numpy as np

from minisr.backend import backend_for, is_device_array, to_device

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "clip_grad_norm", "LRScheduler", "StepLR",
           "MultiStepLR", "CosineAnnealingLR"]


class Optimizer:
    """Base class: ``param_groups`` is a list of dicts with 'params' and settings."""

    def __init__(self, params, defaults: dict):
        params = list(params)
        groups = params if params and isinstance(params[0], dict) else [{"params": params}]
        self.defaults = defaults
        self.param_groups = []
        for g in groups:
            group = {**defaults, **g, "params": list(g["params"])}
            if not group["params"]:
                raise ValueError(f"{type(self).__name__}: a parameter group is empty")
            self.param_groups.append(group)
        self.state: dict[int, dict] = {}  # keyed by the parameter's position over groups

    def _indexed(self):
        k = 0
        for group in self.param_groups:
            for p in group["params"]:
                yield k, group, p
                k += 1

    def zero_grad(self) -> None:
        """Set every parameter's grad to None."""
        for _, _, p in self._indexed():
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        for k, group, p in self._indexed():
            if p.grad is not None:
                state = self.state.setdefault(k, {})
                g = p.grad if is_device_array(p.grad) else \
                    np.ascontiguousarray(p.grad, dtype=p.dtype)
                self._update(p.data, g, state, group)

    def _update(self, p, g, state, group):  # pragma: no cover - abstract
        raise NotImplementedError

    def state_dict(self) -> dict:
        """Per-parameter state and per-group settings (not the parameters themselves)."""
        groups = {str(i): {k: v for k, v in g.items() if k != "params"}
                  for i, g in enumerate(self.param_groups)}
        state = {str(k): {n: (to_device(a, "cpu") if is_device_array(a) else a)
                          for n, a in v.items()} for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, sd: dict) -> None:
        """Restore what :meth:`state_dict` returned (after a save/load round trip too)."""
        groups = sd["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{type(self).__name__}.load_state_dict: {len(groups)} saved "
                             f"groups vs {len(self.param_groups)}")
        for i, g in enumerate(self.param_groups):
            g.update({k: _plain(v) for k, v in groups[str(i)].items()})
        params = {k: p for k, _, p in self._indexed()}
        self.state = {}
        for k, st in sd["state"].items():
            p = params[int(k)]
            self.state[int(k)] = {n: (to_device(np.array(v, dtype=p.dtype), p.device)
                                      if np.ndim(v) else _plain(v)) for n, v in st.items()}


def _plain(v):
    """Arrays of shape () (as loaded from .npz) back to Python numbers/bools."""
    return v.item() if isinstance(v, np.ndarray) and v.ndim == 0 else v


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

    def __init__(self, params, lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        if lr <= 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(f"SGD: need lr > 0, momentum >= 0, weight_decay >= 0; got "
                             f"{lr}, {momentum}, {weight_decay}")
        if nesterov and (momentum == 0 or dampening != 0):
            raise ValueError("SGD: nesterov needs momentum > 0 and dampening 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _update(self, p, g, state, group):
        first = "momentum_buffer" not in state
        be = backend_for(p)  # state lives with its parameter (CPU or GPU)
        if first:
            state["momentum_buffer"] = be.full(p.shape, 0, p.dtype)
        be.sgd_step(p, g, state["momentum_buffer"], group["lr"],
                                group["momentum"], group["dampening"],
                                group["weight_decay"], group["nesterov"], first)


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba 2015); weight decay is L2, added to the
    gradient as in torch.optim.Adam. :class:`AdamW` sets the class attribute ``decoupled``
    to True to decay the weights directly instead."""

    decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        if lr <= 0 or not all(0 <= b < 1 for b in betas) or eps <= 0 or weight_decay < 0:
            raise ValueError(f"{type(self).__name__}: invalid lr={lr}, betas={betas}, "
                             f"eps={eps} or weight_decay={weight_decay}")
        super().__init__(params, dict(lr=lr, beta1=betas[0], beta2=betas[1], eps=eps,
                                      weight_decay=weight_decay))

    def _update(self, p, g, state, group):
        be = backend_for(p)  # state lives with its parameter (CPU or GPU)
        if "step" not in state:
            state.update(step=0, exp_avg=be.full(p.shape, 0, p.dtype),
                         exp_avg_sq=be.full(p.shape, 0, p.dtype))
        state["step"] += 1
        be.adam_step(p, g, state["exp_avg"], state["exp_avg_sq"], group["lr"],
                                 group["beta1"], group["beta2"], group["eps"],
                                 group["weight_decay"], state["step"], self.decoupled)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019)."""

    decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)


def clip_grad_norm(params, max_norm: float) -> float:
    """Scale all gradients together so their global L2 norm is at most ``max_norm``.

    Returns the norm before clipping (as torch.nn.utils.clip_grad_norm_). Gradients are
    replaced by scaled copies, never modified in place (they may be shared arrays).
    """
    params = [p for p in params if p.grad is not None]
    total = math.sqrt(sum(backend_for(p.grad).sum_of_squares(p.grad) for p in params))
    if total > max_norm:
        scale = max_norm / (total + 1e-6)
        for p in params:
            be = backend_for(p.grad)
            p.grad = be.mul(p.grad, be.full((), scale, p.grad.dtype))
    return total


class LRScheduler:
    """Sets each group's lr to ``base_lr * factor(epoch)``; call ``step()`` once per epoch
    (or per iteration, if the schedule is in iterations)."""

    def __init__(self, optimizer: Optimizer):
        self.optimizer = optimizer
        self.base_lrs = [g["lr"] for g in optimizer.param_groups]
        self.last_epoch = 0

    def factor(self, epoch: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set the new learning rates."""
        self.last_epoch += 1
        self._apply()

    def _apply(self) -> None:
        f = self.factor(self.last_epoch)
        for g, base in zip(self.optimizer.param_groups, self.base_lrs):
            g["lr"] = base * f

    def get_last_lr(self) -> list[float]:
        """The current learning rate of each group."""
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, sd: dict) -> None:
        self.last_epoch = int(_plain(sd["last_epoch"]))
        self.base_lrs = [float(v) for v in np.ravel(sd["base_lrs"])]
        self._apply()


class StepLR(LRScheduler):
    """lr = base * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer)

    def factor(self, epoch: int) -> float:
        return self.gamma ** (epoch // self.step_size)


class MultiStepLR(LRScheduler):
    """lr = base * gamma ** (number of milestones <= epoch) (EDSR halves at milestones)."""

    def __init__(self, optimizer, milestones, gamma: float = 0.1):
        self.milestones, self.gamma = sorted(milestones), gamma
        super().__init__(optimizer)

    def factor(self, epoch: int) -> float:
        return self.gamma ** sum(1 for m in self.milestones if m <= epoch)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base - eta_min) (1 + cos(pi epoch / T_max)) / 2, held after T_max."""

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0):
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer)

    def _apply(self) -> None:
        t = min(self.last_epoch, self.T_max)
        cos = (1 + math.cos(math.pi * t / self.T_max)) / 2
        for g, base in zip(self.optimizer.param_groups, self.base_lrs):
            g["lr"] = self.eta_min + (base - self.eta_min) * cos
