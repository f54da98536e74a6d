"""Imports only point downward (STYLE.md section 1), and no minisr modules import each other
in a circle.

Engine: kernels <- backend <- autograd <- ops <- nn/optim/testing <- models. Image science
beside it: kernels <- image <- metrics <- data; image/, metrics/ and data/ never import the
engine, so the numbers that judge a model do not depend on the training stack. On top:
inference/evaluate, then train/demo, then cli. ``minisr/__init__.py`` runs before every
submodule, so it imports none (its lazy ``__getattr__`` goes through ``importlib``).

Every import counts: ``import minisr.x``, ``from minisr import x``, relative ones
(``from . import x``, ``from ..autograd import Tensor``) and those inside functions, which are
still dependencies, only later ones. The checkers take (module name, source text), so the
tests at the end feed them bad code and watch them fail.
"""
from __future__ import annotations

import ast
import pathlib

import pytest

import minisr

ROOT = pathlib.Path(__file__).resolve().parents[1] / "minisr"

_ENGINE = {"kernels", "backend", "autograd", "ops", "nn", "optim", "testing", "models"}
_SCIENCE = {"kernels", "image", "metrics", "data"}
# room -> the other rooms it may import. A room is the first name after ``minisr.``
# (``minisr.nn.layers`` is in nn); "__init__" is minisr/__init__.py itself. data/fetch.py
# imports nothing of minisr, so it lives in data/ under data's (strict) rule.
MAY_IMPORT: dict[str, set[str]] = {
    "__init__": set(),
    "kernels": set(),
    "backend": {"kernels"},
    "autograd": {"kernels", "backend"},
    "ops": {"kernels", "backend", "autograd"},
    "nn": {"kernels", "backend", "autograd", "ops"},
    "optim": {"kernels", "backend", "autograd", "ops"},
    "testing": {"kernels", "backend", "autograd", "ops"},
    "models": {"kernels", "backend", "autograd", "ops", "nn", "optim"},
    "image": {"kernels"},
    "metrics": {"kernels", "image"},
    "data": {"kernels", "image", "metrics"},
    "inference": _ENGINE | _SCIENCE,
    "upscale": _ENGINE | _SCIENCE,
    "evaluate": _ENGINE | _SCIENCE,
    "train": _ENGINE | _SCIENCE | {"inference", "upscale", "evaluate"},
    "demo": _ENGINE | _SCIENCE | {"inference", "upscale", "evaluate"},
}
MAY_IMPORT["train_gan"] = MAY_IMPORT["train"] | {"train"}   # the GAN loop reuses train's
MAY_IMPORT["cli"] = set(MAY_IMPORT) - {"cli", "__init__"}
MAY_IMPORT["__main__"] = {"cli"}   # ``python -m minisr``: only the command line
# ``from minisr import upscale`` loads minisr.inference through minisr.__getattr__.
LAZY_NAMES = {name: mod.split(".")[1] for name, mod in minisr._API.items()}


def room_of(module: str) -> str | None:
    """'minisr.nn.layers' -> 'nn'; 'minisr' -> '__init__'; not minisr -> None."""
    parts = module.split(".")
    if parts[0] != "minisr":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def imported_modules(module: str, source: str, is_package: bool = False) -> list[str]:
    """Absolute names of what ``source`` (the text of ``module``) imports, anywhere in it.

    ``from P import a`` gives 'P.a' (a submodule or a name in P: the caller decides), so
    ``from minisr import nn`` gives 'minisr.nn'. Relative imports are resolved against the
    module's package (the module itself when ``is_package``, i.e. an ``__init__.py``).
    """
    package = module.split(".") if is_package else module.split(".")[:-1]
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                if node.level - 1 > len(package) - 1:
                    raise ValueError(f"{module}: relative import beyond the top package")
                base = ".".join(base + (node.module.split(".") if node.module else []))
            else:
                base = node.module
            out.extend(f"{base}.{a.name}" for a in node.names)
    return out


def upward_imports(module: str, source: str, is_package: bool = False) -> list[str]:
    """The imports of ``module`` (given its source text) that break MAY_IMPORT, one message each."""
    room = room_of(module)
    if room not in MAY_IMPORT:
        return [f"{module}: room {room!r} is not in the layer table"]
    bad = []
    for target in imported_modules(module, source, is_package):
        parts = target.split(".")
        t_room = room_of(target)
        if t_room is None or t_room == "__init__":
            continue                               # not minisr, or the root package itself
        if len(parts) == 2 and parts[1] in LAZY_NAMES:
            t_room = LAZY_NAMES[parts[1]]
        if t_room not in MAY_IMPORT or t_room == room:
            continue          # a plain name such as minisr.__version__; or the same room
        if t_room not in MAY_IMPORT[room]:
            bad.append(f"{module} ({room}) imports {target} ({t_room})")
    return bad


def import_cycles(sources: dict[str, tuple[str, bool]]) -> list[list[str]]:
    """Groups of modules that import each other in a circle (Tarjan's strongly connected
    components of size > 1, or a module importing itself), each sorted.

    ``sources`` maps a module name to (source text, is_package). ``from P import a`` is an
    edge to P.a when that is one of the modules, else to P. The implicit import of a
    module's own parent package is not an edge (every package would loop with its
    ``__init__``), which is how cycle checkers (pydeps, import-linter) count them too.
    """
    graph = {}
    for mod, (source, is_package) in sources.items():
        edges = set()
        for target in imported_modules(mod, source, is_package):
            parent = target.rpartition(".")[0]
            if target in sources:
                edges.add(target)
            elif parent in sources:
                edges.add(parent)
        graph[mod] = edges
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):                                  # recursion depth <= number of modules
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for u in graph[v]:
            if u not in index:
                visit(u)
                low[v] = min(low[v], low[u])
            elif u in on_stack:
                low[v] = min(low[v], index[u])
        if low[v] == index[v]:
            group = []
            while True:
                u = stack.pop()
                on_stack.discard(u)
                group.append(u)
                if u == v:
                    break
            if len(group) > 1 or v in graph[v]:
                cycles.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def _package_sources() -> dict[str, tuple[str, bool]]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = ("minisr",) + path.relative_to(ROOT).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        out[name] = (path.read_text(), is_package)
    return out


# --- the package ------------------------------------------------------------------------

def test_imports_point_downward():
    sources = _package_sources()
    assert "minisr" in sources and "minisr.nn.layers" in sources
    bad = [msg for mod, (src, pkg) in sources.items() for msg in upward_imports(mod, src, pkg)]
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_every_room_is_known():
    rooms = {room_of(mod) for mod in _package_sources()}
    assert rooms <= set(MAY_IMPORT), f"rooms missing from MAY_IMPORT: {rooms - set(MAY_IMPORT)}"


def test_no_import_cycles():
    cycles = import_cycles(_package_sources())
    assert not cycles, "modules importing each other:\n" + "\n".join(map(str, cycles))


# --- the checkers catch what they should --------------------------------------------------

@pytest.mark.parametrize("module, source, is_package", [
    ("minisr.nn.layers", "from minisr import models", False),
    ("minisr.autograd", "from . import nn", False),                 # relative, same package
    ("minisr.image.resize", "from ..autograd import Tensor", False),
    ("minisr.metrics.ssim", "from .. import ops", False),
    ("minisr.metrics.psnr", "import minisr.nn.layers as L", False),
    ("minisr.data.dataset", "from minisr.models import SRCNN", False),
    ("minisr.image.io", "from minisr import upscale", False),        # lazily minisr.inference
    ("minisr.kernels.conv2d", "def f():\n    from minisr.backend import get_backend", False),
    ("minisr.ops", "from ..nn import Module", True),                  # an __init__.py
    ("minisr", "from minisr import nn", True),
    ("minisr", "from . import kernels", True),
    ("minisr", "import minisr.models", True),
    ("minisr.models.srcnn", "from minisr.train import train", False),
    ("minisr.image.io", "from minisr.metrics import psnr", False),    # metrics sits above image
    ("minisr.newroom", "import numpy", False),
])
def test_upward_imports_are_caught(module, source, is_package):
    assert len(upward_imports(module, source, is_package)) == 1


@pytest.mark.parametrize("module, source, is_package", [
    ("minisr.nn.layers", "from ..autograd import Tensor\nfrom . import init\n"
                         "from minisr.ops import functional as F", False),
    ("minisr.models.srcnn", "from minisr import nn\nfrom ..nn import Conv2d", False),
    ("minisr.train", "from minisr import models, upscale\nfrom .data import dataset", False),
    ("minisr.data.dataset", "from ..image import io\nfrom minisr.metrics import psnr", False),
    ("minisr.metrics", "from .psnr import psnr\nfrom minisr.kernels import filter", True),
    ("minisr.cli", "import minisr\nfrom minisr import __version__\nimport minisr.demo", False),
    ("minisr", "import importlib\nimport numba as _numba", True),
])
def test_downward_imports_pass(module, source, is_package):
    assert upward_imports(module, source, is_package) == []


def test_relative_imports_resolve():
    assert imported_modules("minisr.nn.layers", "from ..autograd import Tensor") == \
        ["minisr.autograd.Tensor"]
    assert imported_modules("minisr.nn", "from . import init", is_package=True) == \
        ["minisr.nn.init"]
    assert imported_modules("minisr.nn.layers", "from . import init") == ["minisr.nn.init"]


def test_cycles_are_caught():
    # The circle conv2d.py and conv_transpose2d.py had: one imports the other at the top,
    # the other imports back inside a function.
    sources = {
        "minisr.kernels.conv2d": ("def f():\n    from minisr.kernels.conv_transpose2d import g",
                                  False),
        "minisr.kernels.conv_transpose2d": ("from minisr.kernels.conv2d import f", False),
        "minisr.kernels._conv_blocks": ("import numpy", False),
        "minisr.kernels": ("", True),
        "minisr.nn": ("from . import layers", True),            # a package and its child:
        "minisr.nn.layers": ("from minisr.nn import init", False),  # not a cycle
        "minisr.nn.init": ("from . import init", False),         # importing itself is
    }
    assert import_cycles(sources) == [["minisr.kernels.conv2d", "minisr.kernels.conv_transpose2d"],
                                      ["minisr.nn.init"]]
    sources["minisr.nn.init"] = ("import numpy", False)
    sources["minisr.kernels.conv2d"] = ("from ._conv_blocks import pair", False)
    assert import_cycles(sources) == []
