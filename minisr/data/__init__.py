"""Data: training patches from a folder of images (``dataset.py``) and downloading the
standard sets with verified hashes (``fetch.py``)."""
from minisr.data.dataset import (FSRCNN_DOWNSCALES, PatchDataset, list_images, lr_hr_pair,
                                 split, to_network)

__all__ = ["FSRCNN_DOWNSCALES", "PatchDataset", "list_images", "lr_hr_pair", "split",
           "to_network"]
