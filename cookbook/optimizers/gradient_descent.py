"""Gradient descent with a fixed learning rate."""

import keras
from keras import ops

from cookbook.optimizers.hyperparameters import check_learning_rate


@keras.saving.register_keras_serializable(package="cookbook")
class GradientDescent(keras.optimizers.Optimizer):
    """Plain gradient descent: every step moves against the gradient by a fixed fraction.

        w <- w - learning_rate * g

    Full-batch or stochastic depends only on what the gradient is computed on.
    Identical to `keras.optimizers.SGD(momentum=0.0)`.

    Args:
        learning_rate: a float >= 0, a `keras.optimizers.schedules` schedule or a
            callable. Defaults to 0.01.
        **kwargs: the base optimizer's options (`clipnorm`, `clipvalue`,
            `weight_decay`, ...).
    """

    def __init__(self, learning_rate=0.01, name="gradient_descent", **kwargs):
        super().__init__(learning_rate=check_learning_rate(learning_rate), name=name, **kwargs)

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        self.assign_sub(variable, ops.multiply(gradient, learning_rate))
