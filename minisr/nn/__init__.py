"""Neural-network building blocks: Module, layers, losses, initialisers, weight files."""
import minisr.ops  # noqa: F401  (gives Tensor its operators)
from minisr.nn import init
from minisr.nn.layers import (Conv2d, ConvTranspose2d, Identity, LeakyReLU, MaxPool2d,
                              PixelShuffle, PixelUnshuffle, PReLU, ReLU, ResidualBlock, Sigmoid,
                              Tanh, Upsample)
from minisr.nn.adversarial import (ADVERSARIAL_LOSSES, gan_discriminator_loss,
                                    gan_generator_loss, relativistic_discriminator_loss,
                                    relativistic_generator_loss)
from minisr.nn.linear import AdaptiveAvgPool2d, Flatten, Linear
from minisr.nn.losses import (CharbonnierLoss, ContentLoss, GramLoss, L1Loss, MSELoss, TVLoss,
                              charbonnier_loss, content_loss, gram_loss, gram_matrix, l1_loss,
                              luma_l1_loss, mse_loss, tv_loss)
from minisr.nn.module import Buffer, Module, Parameter, Sequential
from minisr.nn.norm import BatchNorm2d
from minisr.nn.serialization import (load_checkpoint, load_weights, save_checkpoint,
                                     save_weights)

__all__ = ["ADVERSARIAL_LOSSES", "AdaptiveAvgPool2d", "BatchNorm2d", "Buffer", "CharbonnierLoss",
           "ContentLoss", "Conv2d", "ConvTranspose2d", "Flatten", "GramLoss", "Identity", "L1Loss",
           "LeakyReLU", "Linear", "MSELoss", "MaxPool2d", "Module", "PReLU", "Parameter",
           "PixelShuffle", "PixelUnshuffle", "ReLU", "ResidualBlock", "Sequential", "Sigmoid",
           "TVLoss", "Tanh", "Upsample", "charbonnier_loss", "content_loss",
           "gan_discriminator_loss", "gan_generator_loss", "gram_loss", "gram_matrix", "init",
           "l1_loss", "load_checkpoint", "load_weights", "luma_l1_loss", "mse_loss",
           "relativistic_discriminator_loss", "relativistic_generator_loss", "save_checkpoint",
           "save_weights", "tv_loss"]
