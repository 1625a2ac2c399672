"""Model builders: each takes the input shape and number of classes and returns a Keras model."""

from cookbook.models.convnet import small_convnet
from cookbook.models.flops import count_flops
from cookbook.models.plain import plain_convnet

__all__ = ["count_flops", "plain_convnet", "small_convnet"]
