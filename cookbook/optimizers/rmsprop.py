"""RMSProp: AdaGrad with a decaying average, so the learning rate does not vanish."""

import keras
from keras import ops

from cookbook.optimizers.hyperparameters import check_decay
from cookbook.optimizers.hyperparameters import check_learning_rate
from cookbook.optimizers.hyperparameters import check_positive


@keras.saving.register_keras_serializable(package="cookbook")
class RMSProp(keras.optimizers.Optimizer):
    """Divides each weight's step by the root of a moving average of its squared gradients.

        s <- rho * s + (1 - rho) * g^2
        step = learning_rate * g / sqrt(s + epsilon)
        w <- w - step

    `centered=True` also tracks the mean gradient `a <- rho * a + (1 - rho) * g`
    and divides by `sqrt(s - a^2 + epsilon)`, an estimate of the variance
    (Graves 2013). With `momentum > 0` the steps accumulate as in `Momentum`:
    `m <- momentum * m + step; w <- w - m`.

    Hinton's lecture (2012) gives no epsilon; Goodfellow et al. (2016, Algorithm
    8.5) puts it inside the square root, as Keras does, so there is no separate
    textbook form. Matches `keras.optimizers.RMSprop` in every option.

    Args:
        learning_rate: a float >= 0, a schedule or a callable. Defaults to 0.001.
        rho: in [0, 1), the decay of the average. Defaults to 0.9.
        momentum: in [0, 1). Defaults to 0.0 (none).
        epsilon: > 0. Defaults to 1e-7.
        centered: divide by the gradient's variance instead of its second moment.
    """

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.9,
        momentum=0.0,
        epsilon=1e-7,
        centered=False,
        name="rmsprop",
        **kwargs,
    ):
        super().__init__(learning_rate=check_learning_rate(learning_rate), name=name, **kwargs)
        self.rho = check_decay("rho", rho)
        self.momentum = check_decay("momentum", momentum)
        self.epsilon = check_positive("epsilon", epsilon)
        self.centered = bool(centered)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self.second_moments = self.add_optimizer_variables(var_list, "second_moment")
        self.mean_gradients = self.add_optimizer_variables(var_list, "mean_gradient") if self.centered else []
        self.velocities = self.add_optimizer_variables(var_list, "velocity") if self.momentum > 0 else []

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        index = self._get_variable_index(variable)
        rho = self.rho
        second_moment = self.second_moments[index]
        self.assign(
            second_moment,
            ops.add(ops.multiply(rho, second_moment), ops.multiply(1 - rho, ops.square(gradient))),
        )
        variance = second_moment
        if self.centered:
            mean_gradient = self.mean_gradients[index]
            self.assign(
                mean_gradient,
                ops.add(ops.multiply(rho, mean_gradient), ops.multiply(1 - rho, gradient)),
            )
            variance = ops.subtract(second_moment, ops.square(mean_gradient))
        denominator = ops.add(variance, self.epsilon)
        step = ops.divide(ops.multiply(learning_rate, gradient), ops.sqrt(denominator))
        if self.momentum > 0:
            velocity = self.velocities[index]
            self.assign(velocity, ops.add(ops.multiply(self.momentum, velocity), step))
            step = velocity
        self.assign_sub(variable, step)

    def get_config(self):
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }
