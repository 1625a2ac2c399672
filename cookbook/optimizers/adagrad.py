"""AdaGrad: a learning rate per weight, shrinking with that weight's gradient history."""

import keras
from keras import initializers
from keras import ops

from cookbook.optimizers.hyperparameters import check_learning_rate
from cookbook.optimizers.hyperparameters import check_non_negative
from cookbook.optimizers.hyperparameters import check_positive


@keras.saving.register_keras_serializable(package="cookbook")
class AdaGrad(keras.optimizers.Optimizer):
    """Divides each weight's step by the root of its summed squared gradients.

        a <- a + g^2
        w <- w - learning_rate * g / sqrt(a + epsilon)      (Keras, the default)
        w <- w - learning_rate * g / (sqrt(a) + epsilon)    (textbook=True)

    Often-updated weights get ever smaller steps, rarely-updated ones keep large
    steps; since `a` only grows, the rate eventually vanishes (RMSProp's fix).

    Keras differs from the textbook (Duchi et al. 2011; Goodfellow et al. 2016,
    Algorithm 8.4) twice: `a` starts at 0.1 instead of 0, and epsilon sits
    inside the square root. The default matches `keras.optimizers.Adagrad`;
    `textbook=True` gives the paper's form, with `a` starting at 0.

    Args:
        learning_rate: a float >= 0, a schedule or a callable. Defaults to 0.001.
        initial_accumulator_value: the starting `a`, >= 0. Defaults to 0.1, or to 0
            with `textbook=True`.
        epsilon: > 0, keeps the division finite. Defaults to 1e-7.
        textbook: use the paper's form. Defaults to False.
    """

    def __init__(
        self,
        learning_rate=0.001,
        initial_accumulator_value=None,
        epsilon=1e-7,
        textbook=False,
        name="adagrad",
        **kwargs,
    ):
        super().__init__(learning_rate=check_learning_rate(learning_rate), name=name, **kwargs)
        self.textbook = bool(textbook)
        if initial_accumulator_value is None:
            initial_accumulator_value = 0.0 if self.textbook else 0.1
        self.initial_accumulator_value = check_non_negative("initial_accumulator_value", initial_accumulator_value)
        self.epsilon = check_positive("epsilon", epsilon)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self.accumulators = self.add_optimizer_variables(
            var_list,
            "accumulator",
            initializer=initializers.Constant(self.initial_accumulator_value),
        )

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        accumulator = self.accumulators[self._get_variable_index(variable)]
        self.assign_add(accumulator, ops.square(gradient))
        if self.textbook:
            denominator = ops.add(ops.sqrt(accumulator), self.epsilon)
        else:
            denominator = ops.sqrt(ops.add(accumulator, self.epsilon))
        self.assign_sub(variable, ops.divide(ops.multiply(learning_rate, gradient), denominator))

    def get_config(self):
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
            "textbook": self.textbook,
        }
