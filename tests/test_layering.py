"""Imports only point downward (STYLE.md section 1): kernels <- backend <- autograd <- ops
<- nn/optim <- models <- train/cli; image/ and metrics/ never import autograd or nn."""
import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1] / "minisr"
LEVEL = {"kernels": 0, "image": 0, "metrics": 0, "backend": 1, "autograd": 2, "ops": 3,
         "nn": 4, "optim": 4, "testing": 4, "models": 5, "data": 5,
         "train": 6, "evaluate": 6, "upscale": 6, "cli": 7}
# image/ and metrics/ may use kernels and each other, nothing from the training stack.
ISOLATED = {"image", "metrics"}


def _room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "minisr" else None


def _imports(path: pathlib.Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_imports_point_downward():
    bad = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        room = rel.parts[0].removesuffix(".py")
        if room not in LEVEL:
            continue
        for mod in _imports(path):
            target = _room(mod)
            if target is None or target == room or target not in LEVEL:
                continue
            if LEVEL[target] > LEVEL[room] or (room in ISOLATED and LEVEL[target] > 1):
                bad.append(f"{rel} imports {mod}")
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_every_room_is_known():
    rooms = {p.relative_to(ROOT).parts[0].removesuffix(".py") for p in ROOT.rglob("*.py")}
    assert rooms - {"__init__", "__pycache__"} <= set(LEVEL)
