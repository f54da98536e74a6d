"""The papers' own numbers for the shipped models, to print beside minisr's.

PSNR (dB) / SSIM on Y, Set5 and Set14, as each paper reports it for training on the 91
images of Yang et al. (T91), except where noted; None where the paper gives no figure.
Sources: SRCNN (Dong et al., ECCV 2014; x3 as quoted by ESPCN), FSRCNN (Dong et al.,
ECCV 2016, 91-image models), ESPCN (Shi et al., CVPR 2016, 91 images, tanh), and
EDSR-baseline (Lim et al., CVPRW 2017; trained on DIV2K with 16 x 64 blocks, far larger
than edsr-small, shown only for scale). Beside edsr-small-gan: SRGAN (Ledig et al., CVPR
2017, Table 2, SRGAN-VGG54: 16 residual blocks x 64, trained on 350k ImageNet images), the
paper whose trade it makes; a GAN model's PSNR is its distortion, not its goal. LapSRN
(Lai et al., CVPR 2017): d = 10, 64 features, trained on the 291 images (T91 + BSDS200), as
quoted in minisr's issue 21 (no SSIM, no Set14 x8 there).
"""

# (model, scale) -> {"Set5": (psnr, ssim), "Set14": (psnr, ssim)}
PAPERS = {
    ("bicubic", 2): {"Set5": (33.66, 0.9299), "Set14": (30.24, 0.8688)},
    ("bicubic", 3): {"Set5": (30.39, 0.8682), "Set14": (27.55, 0.7742)},
    ("bicubic", 4): {"Set5": (28.42, 0.8104), "Set14": (26.00, 0.7027)},
    ("srcnn", 3): {"Set5": (32.39, None), "Set14": (29.00, None)},
    ("fsrcnn", 2): {"Set5": (36.94, None), "Set14": (None, None)},
    ("fsrcnn", 3): {"Set5": (33.06, None), "Set14": (None, None)},
    ("fsrcnn", 4): {"Set5": (30.55, None), "Set14": (None, None)},
    ("espcn", 3): {"Set5": (32.55, None), "Set14": (29.08, None)},
    ("edsr-small", 2): {"Set5": (37.99, 0.9604), "Set14": (33.57, 0.9175)},
    ("edsr-small", 3): {"Set5": (34.37, 0.9270), "Set14": (30.28, 0.8414)},
    ("edsr-small", 4): {"Set5": (32.09, 0.8938), "Set14": (28.58, 0.7813)},
    ("edsr-small-gan", 4): {"Set5": (29.40, 0.8472), "Set14": (26.02, 0.7397)},
    ("lapsrn", 2): {"Set5": (37.52, None), "Set14": (33.08, None)},
    ("lapsrn", 4): {"Set5": (31.54, None), "Set14": (28.19, None)},
    ("lapsrn", 8): {"Set5": (26.14, None), "Set14": (None, None)},
}
PAPER_NOTES = {"edsr-small": "EDSR-baseline, DIV2K, 16 x 64",
               "edsr-small-gan": "SRGAN, ImageNet, 16 x 64",
               "lapsrn": "291 images, d 10 x 64"}


__all__ = ["PAPERS", "PAPER_NOTES"]
