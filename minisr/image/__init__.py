"""Image science: I/O, colour conversion, resizing, degradations.

Images are ``(H, W, C)`` float32 arrays in [0, 1], C = 1 (gray) or 3 (RGB), never BGR.
Nothing here imports the autograd or nn stack, so the numbers that judge a model do not
depend on the code that trains it.
"""
from minisr.image.color import rgb_to_y, rgb_to_ycbcr, ycbcr_to_rgb
from minisr.image.degrade import degrade
from minisr.image.io import imread, imwrite, quantize, to_uint8
from minisr.image.resize import imresize_to_lr, modcrop, resize

__all__ = ["degrade", "imread", "imresize_to_lr", "imwrite", "modcrop", "quantize", "resize",
           "rgb_to_y", "rgb_to_ycbcr", "to_uint8", "ycbcr_to_rgb"]
