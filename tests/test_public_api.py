"""Public modules say what their API is, and their docstrings name real parameters.

Every public module (no ``_`` in its path) lists in ``__all__`` each public name it defines
(functions, classes, constants), so ``from M import *``, ``help(M)`` and the docs show the
API and not ``np``, ``njit`` or helpers; names listed exist. The names a docstring gives
under ``Parameters`` or as a lone ``name=value`` literal are parameters of that callable.
"""
import ast
import importlib
import inspect
import pathlib
import re
import types

import pytest

import minisr

PACKAGE = pathlib.Path(minisr.__file__).parent
# Modules exempt from the check while they are being written (none now).
NOT_YET: tuple[str, ...] = ()
# Public names a module defines but leaves out of __all__, each with the reason.
JUSTIFIED: dict[str, str] = {}


def _module_names() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ("minisr",) + path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(parts)
        if len(parts) > 1 and not any(p.startswith("_") for p in parts[1:]) \
                and not name.startswith(NOT_YET):
            names.append(name)
    return names


MODULES = _module_names()


def _assigned(module: types.ModuleType) -> set[str]:
    """Names bound by top-level assignments in the module's source (constants, aliases)."""
    tree = ast.parse(pathlib.Path(module.__file__).read_text())
    out = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AnnAssign) else []
        for t in targets:
            out.update(e.id for e in (t.elts if isinstance(t, ast.Tuple) else [t])
                       if isinstance(e, ast.Name))
    return {n for n in out if not n.startswith("_")}


def test_modules_found():
    assert {"minisr.image.io", "minisr.metrics.psnr", "minisr.optim", "minisr.nn.layers",
            "minisr.evaluate", "minisr.testing", "minisr.kernels.conv2d"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_public_names_are_in_all(name):
    module = importlib.import_module(name)
    defined = {n for n, obj in vars(module).items()
               if not n.startswith("_") and not isinstance(obj, types.ModuleType)
               and getattr(obj, "__module__", None) == name}
    public = defined | _assigned(module)
    exported = getattr(module, "__all__", None)
    if exported is None:
        assert not public, f"{name} defines {sorted(public)} but has no __all__"
        return
    assert len(set(exported)) == len(exported), f"{name}.__all__ repeats a name"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ lists names it lacks: {missing}"
    unlisted = sorted(n for n in public - set(exported) if f"{name}.{n}" not in JUSTIFIED)
    assert not unlisted, (f"{name} defines public {unlisted} outside __all__: add them, or "
                          f"rename helpers with a leading underscore")


_PARAM_LINE = re.compile(r"^(\s*)(\*{0,2}\w+(?:\s*,\s*\*{0,2}\w+)*)\s*:")
_LONE_KEYWORD = re.compile(r"``(\w+)=[^`(),\s]*``")


def _documented_parameters(doc: str) -> set[str]:
    """Names in a numpy-style Parameters section, and lone ``name=value`` literals."""
    names = set(_LONE_KEYWORD.findall(doc))
    lines = inspect.cleandoc(doc).splitlines()
    for i, line in enumerate(lines[:-1]):
        if line.strip() == "Parameters" and set(lines[i + 1].strip()) == {"-"}:
            for entry in lines[i + 2:]:
                if set(entry.strip()) == {"-"}:  # the next section's underline
                    break
                match = _PARAM_LINE.match(entry)
                if match and not match.group(1):  # entries sit at the section's indent
                    names.update(n.strip().lstrip("*") for n in match.group(2).split(","))
    return names


def _callables(module: types.ModuleType):
    for n in getattr(module, "__all__", []):
        obj = getattr(module, n)
        obj = getattr(obj, "py_func", obj)  # a Numba dispatcher documents its Python function
        if getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(obj):
            yield n, obj, obj.__init__
            for m, meth in vars(obj).items():
                if not m.startswith("_") and inspect.isfunction(meth):
                    yield f"{n}.{m}", meth, meth
        elif callable(obj):
            yield n, obj, obj


@pytest.mark.parametrize("name", MODULES)
def test_docstring_parameters_exist(name):
    module = importlib.import_module(name)
    bad = []
    for qual, documented, fn in _callables(module):
        doc = inspect.getdoc(documented) or ""
        try:
            params = inspect.signature(fn).parameters
        except (TypeError, ValueError):
            continue
        if any(p.kind is p.VAR_KEYWORD for p in params.values()):
            continue
        extra = _documented_parameters(doc) - set(params) - {"self"}
        if extra:
            bad.append(f"{qual}: {sorted(extra)}")
    assert not bad, f"{name}: docstrings name parameters the signatures lack: {bad}"


def test_the_checker_catches_a_stale_name():
    # Adam's docstring once said ``decoupled=False``, a class attribute, not a parameter.
    doc = """Adam (``decoupled=False``).

    Parameters
    ----------
    lr : float, step size.
    a, b : the pair.
        continued, not an entry: x : y

    Returns
    -------
    out : the result.
    """
    assert _documented_parameters(doc) == {"decoupled", "lr", "a", "b"}


def test_package_docstring_names_only_existing_files():
    # help(minisr) is a reading order; every ``folder/`` and ``file.py`` in it must exist.
    named = re.findall(r"``(\w+/|\w+\.py)``", minisr.__doc__)
    assert len(named) >= 10
    missing = [n for n in named if not (PACKAGE / n).exists()]
    assert not missing, f"minisr's docstring names {missing}, which do not exist"
