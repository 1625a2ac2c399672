"""Gradient descent with momentum (heavy ball), optionally Nesterov's."""

import keras
from keras import ops

from cookbook.optimizers.hyperparameters import check_decay
from cookbook.optimizers.hyperparameters import check_learning_rate


@keras.saving.register_keras_serializable(package="cookbook")
class Momentum(keras.optimizers.Optimizer):
    """Gradient descent that keeps a velocity: a decaying sum of past steps.

        v <- momentum * v - learning_rate * g
        w <- w + v                                    (classical, Polyak 1964)
        w <- w + momentum * v - learning_rate * g     (nesterov=True)

    The velocity carries the weights through flat stretches and small local
    dips, and damps the zig-zag across a ravine. This is the textbook form
    (Sutskever et al. 2013) and also exactly `keras.optimizers.SGD(momentum=...)`.
    The Nesterov line is the usual reformulation that evaluates the gradient at
    the current weights instead of at the look-ahead point.

    Args:
        learning_rate: a float >= 0, a schedule or a callable. Defaults to 0.01.
        momentum: in [0, 1); how much of the velocity survives a step. Defaults to 0.9.
        nesterov: use Nesterov's accelerated gradient. Defaults to False.
    """

    def __init__(self, learning_rate=0.01, momentum=0.9, nesterov=False, name="momentum", **kwargs):
        super().__init__(learning_rate=check_learning_rate(learning_rate), name=name, **kwargs)
        self.momentum = check_decay("momentum", momentum)
        self.nesterov = bool(nesterov)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self.velocities = self.add_optimizer_variables(var_list, "velocity")

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        momentum = self.momentum  # A Python float: exact in float64 weights, no float32 detour.
        velocity = self.velocities[self._get_variable_index(variable)]
        step = ops.multiply(gradient, learning_rate)
        self.assign(velocity, ops.subtract(ops.multiply(velocity, momentum), step))
        if self.nesterov:
            self.assign_add(variable, ops.subtract(ops.multiply(velocity, momentum), step))
        else:
            self.assign_add(variable, velocity)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
