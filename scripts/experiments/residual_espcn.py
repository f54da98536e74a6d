"""Experiment (not shipped): ESPCN x3 trained as a residual over bicubic, the shipped
espcn_x3 recipe otherwise; compare validation PSNR at equal steps with that run's train.csv.

    python scripts/experiments/residual_espcn.py OUT_DIR [T91_DIR] [--resume]

The network adds the bicubic upscale of its input to its output; no parameter changes, so
the state_dict is ESPCN's. A stop-gap until recipes carry a residual option (issue 7).
"""
import sys
import numpy as np
from minisr import models
from minisr.autograd import Tensor
from minisr.image.resize import resize
from minisr.models.espcn import ESPCN
import minisr.train as T

class ResidualESPCN(ESPCN):
    def forward(self, x):
        d = x.data
        base = np.stack([np.stack([resize(d[n, c], self.scale) for c in range(d.shape[1])])
                         for n in range(d.shape[0])]).astype(d.dtype)
        return super().forward(x) + Tensor(base)

orig_get = models.get
models.get = lambda name, scale: ResidualESPCN(scale) if name == "espcn" else orig_get(name, scale)
T.models.get = models.get
recipe = T.load_recipe("espcn_x3")
args = [a for a in sys.argv[1:] if a != "--resume"]
T.train(recipe, args[1] if len(args) > 1 else "../shared/datasets/T91", args[0],
        resume="--resume" in sys.argv, progress=False)
