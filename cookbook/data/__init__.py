"""Datasets as `tf.data` pipelines: the embedded `digits`, any TFDS name, or a folder.

Importing this package registers the offline `digits` TFDS builder.
"""

from cookbook.data.canvas import on_canvas
from cookbook.data.digits import Digits
from cookbook.data.loading import DEFAULT_DATASET
from cookbook.data.loading import Dataset
from cookbook.data.loading import DatasetFacts
from cookbook.data.loading import load_dataset
from cookbook.data.loading import training_fractions
from cookbook.data.shifts import random_offsets
from cookbook.data.shifts import shift_images

__all__ = [
    "DEFAULT_DATASET",
    "Dataset",
    "DatasetFacts",
    "Digits",
    "load_dataset",
    "on_canvas",
    "random_offsets",
    "shift_images",
    "training_fractions",
]
