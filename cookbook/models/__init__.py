"""Model builders: each takes the input shape and number of classes and returns a Keras model."""

from cookbook.models.alexnet import alexnet_style
from cookbook.models.convnet import small_convnet
from cookbook.models.counting import weight_layer_depth
from cookbook.models.flops import count_flops
from cookbook.models.inception import googlenet_style
from cookbook.models.inception import inception_module
from cookbook.models.plain import plain_convnet
from cookbook.models.resnet import residual_block
from cookbook.models.resnet import resnet_style

__all__ = [
    "alexnet_style",
    "count_flops",
    "googlenet_style",
    "inception_module",
    "plain_convnet",
    "residual_block",
    "resnet_style",
    "small_convnet",
    "weight_layer_depth",
]
