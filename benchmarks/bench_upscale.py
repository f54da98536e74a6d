"""Peak memory and time of ``minisr.upscale`` on large images, tiled and untiled.

    python benchmarks/bench_upscale.py [--sizes 512 4096] [--model edsr-small] [--scale 4]

Each case runs in its own subprocess and reports its wall time and the process's peak RSS
(Python, NumPy, Numba and the compiled kernels included). The input is random uint8 RGB
of the given side; the output is requested as uint8 (what ``minisr upscale`` writes), so
no float copy of the whole result is ever held. Weights are freshly initialised when the
model ships none yet: the cost does not depend on the weights' values.
Target (issue 8): 4096x4096 x4 with EDSR-small under 2 GB with the default tile.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def _case(side: int, model: str, scale: int, tile: int | None) -> dict:
    import numpy as np

    from minisr import models
    from minisr.inference import DEFAULT_TILE, upscale
    net = (models.load_pretrained(model, scale) if (model, scale) in models.pretrained()
           else models.get(model, scale).eval())
    img = np.random.default_rng(0).integers(0, 256, (side, side, 3), dtype=np.uint8)
    upscale(img[:64, :64], scale, net, tile=tile, dtype=np.uint8)  # compile the kernels
    t = time.perf_counter()
    out = upscale(img, scale, net, tile=tile, dtype=np.uint8)
    seconds = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB
    return {"side": side, "tile": DEFAULT_TILE if tile is None else tile,
            "out": f"{out.shape[0]}x{out.shape[1]}", "seconds": round(seconds, 2),
            "peak_rss_mib": round(rss)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[512, 4096])
    p.add_argument("--model", default="edsr-small")
    p.add_argument("--scale", type=int, default=4)
    p.add_argument("--untiled", action="store_true", help="also run tile=0 (whole image)")
    p.add_argument("--_case", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args._case:
        print(json.dumps(_case(**json.loads(args._case))))
        return
    import platform
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    print(f"# {args.model} x{args.scale}, uint8 RGB in and out; CPU: {cpu}")
    print(f"{'input':>10} {'output':>12} {'tile':>5} {'seconds':>9} {'peak RSS MiB':>13}")
    tiles = [None] + ([0] if args.untiled else [])
    for side in args.sizes:
        for tile in tiles:
            spec = json.dumps({"side": side, "model": args.model, "scale": args.scale,
                               "tile": tile})
            res = subprocess.run([sys.executable, __file__, "--_case", spec],
                                 capture_output=True, text=True)
            if res.returncode:
                print(f"{side:>10} failed: {res.stderr.strip().splitlines()[-1]}")
                continue
            r = json.loads(res.stdout.strip().splitlines()[-1])
            print(f"{f'{side}x{side}':>10} {r['out']:>12} {r['tile']:>5} {r['seconds']:>9} "
                  f"{r['peak_rss_mib']:>13}")


if __name__ == "__main__":
    main()
