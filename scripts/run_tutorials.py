"""Execute tutorial notebooks top to bottom and save them with their outputs.

    python scripts/run_tutorials.py [tutorials/NN_name.ipynb ...]   (default: all)

Each saved notebook records in ``metadata.minisr`` the SHA-256 of its code cells'
sources and the seconds it took, so ``tests/test_tutorials.py`` can tell when a
committed notebook's code no longer matches the outputs shown under it.
"""
from __future__ import annotations

import hashlib
import pathlib
import sys
import time

import nbclient
import nbformat

TUTORIALS = pathlib.Path(__file__).resolve().parents[1] / "tutorials"


def source_hash(nb) -> str:
    """SHA-256 over the code cells' sources, in order."""
    h = hashlib.sha256()
    for cell in nb.cells:
        if cell.cell_type == "code":
            h.update(cell.source.encode() + b"\0")
    return h.hexdigest()


def run(path: pathlib.Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=300,
                            resources={"metadata": {"path": str(TUTORIALS)}}).execute()
    seconds = time.perf_counter() - start
    nb.metadata["minisr"] = {"source_sha256": source_hash(nb), "seconds": round(seconds, 1)}
    nbformat.write(nb, path)
    return seconds


def main(argv: list[str]) -> None:
    paths = [pathlib.Path(a) for a in argv] or sorted(TUTORIALS.glob("*.ipynb"))
    for path in paths:
        print(f"{path.name}: {run(path):.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
