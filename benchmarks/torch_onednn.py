"""Which kernel PyTorch's CPU backend runs for a 3x3 conv, and how fast (oneDNN's own log).

    python benchmarks/torch_onednn.py

Sets ``ONEDNN_VERBOSE=1`` before importing torch, runs the 3x3 32->32 and 64->64 forwards
at batch 16 x 48x48 on 2 threads a few times, and prints oneDNN's convolution lines (the
implementation, e.g. ``jit:avx512_core``, the algorithm, the layouts, and the time in ms)
with the GFLOP/s that time means. Skipped with a message when torch is absent.
"""
from __future__ import annotations

import os
import subprocess
import sys

_CHILD = r"""
import torch
torch.set_num_threads(2)
for C in (32, 64):
    x, w = torch.randn(16, C, 48, 48), torch.randn(C, C, 3, 3)
    for _ in range(4):
        torch.nn.functional.conv2d(x, w, padding=1)
"""


def main() -> int:
    try:
        import torch  # noqa: F401
    except ImportError:
        print("torch_onednn: torch is not installed; skipped")
        return 0
    out = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                         env=os.environ | {"ONEDNN_VERBOSE": "1"}, check=True)
    out = out.stdout + out.stderr
    for line in out.splitlines():
        f = line.split(",")
        if len(f) > 12 and f[3] == "exec" and f[5] == "convolution":
            C = 32 if "ic32" in f[11] else 64
            ms = float(f[12])
            gf = 2 * 16 * 48 * 48 * C * C * 9 / (ms * 1e-3) / 1e9
            print(f"{C}->{C} 16x48x48: {f[6]}, {f[10]}, {f[8].split()[0]}: "
                  f"{ms:.2f} ms = {gf:.0f} GFLOP/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
