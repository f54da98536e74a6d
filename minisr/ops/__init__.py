"""Differentiable ops: one file per op family, each with its Functions and public functions.

Importing this package also gives ``Tensor`` its operators (``+ - * / ** @``, indexing,
``.sum()``, ...), so ``autograd.py`` stays the engine alone and imports point downward.
"""
from minisr.autograd import Tensor
from minisr.ops import functional as F

_OPERATORS = {
    "__add__": F.add, "__radd__": lambda x, o: F.add(o, x),
    "__sub__": F.sub, "__rsub__": lambda x, o: F.sub(o, x),
    "__mul__": F.mul, "__rmul__": lambda x, o: F.mul(o, x),
    "__truediv__": F.div, "__rtruediv__": lambda x, o: F.div(o, x),
    "__neg__": F.neg, "__pow__": F.pow, "__matmul__": F.matmul,
    "__getitem__": F.getitem, "__abs__": F.abs,
    "sum": F.sum, "mean": F.mean, "reshape": F.reshape, "abs": F.abs, "sqrt": F.sqrt,
    "relu": F.relu, "tanh": F.tanh, "sigmoid": F.sigmoid,
}
for _name, _fn in _OPERATORS.items():
    setattr(Tensor, _name, _fn)

__all__ = ["F"]
