"""Explicit Keras 3 layers, written with `keras.ops` and checked against the built-ins."""

from cookbook.layers.average_pooling2d import AveragePooling2D
from cookbook.layers.batch_normalization import BatchNormalization
from cookbook.layers.dropout import Dropout
from cookbook.layers.max_pooling2d import MaxPooling2D

__all__ = ["AveragePooling2D", "BatchNormalization", "Dropout", "MaxPooling2D"]
