"""From-scratch optimizers, each checked step by step against its Keras built-in.

`GradientDescent` -> `Momentum` -> `AdaGrad` -> `RMSProp` -> `Adam`: each fixes the
previous one's weakness. Each docstring gives the update rule and where Keras's
form differs from the textbook's (then a `textbook=True` option gives the latter).
"""

from cookbook.optimizers.adagrad import AdaGrad
from cookbook.optimizers.adam import Adam
from cookbook.optimizers.gradient_descent import GradientDescent
from cookbook.optimizers.momentum import Momentum
from cookbook.optimizers.rmsprop import RMSProp

__all__ = ["AdaGrad", "Adam", "GradientDescent", "Momentum", "RMSProp"]
