"""Adam: momentum on the gradient plus RMSProp's per-weight scale, both bias-corrected."""

import keras
from keras import ops

from cookbook.optimizers.hyperparameters import check_decay
from cookbook.optimizers.hyperparameters import check_learning_rate
from cookbook.optimizers.hyperparameters import check_positive


@keras.saving.register_keras_serializable(package="cookbook")
class Adam(keras.optimizers.Optimizer):
    """Adaptive moment estimation (Kingma & Ba 2015).

        m <- beta_1 * m + (1 - beta_1) * g          (first moment: momentum)
        v <- beta_2 * v + (1 - beta_2) * g^2        (second moment: RMSProp)
        t = number of this step, from 1

    Keras (the default) folds both bias corrections into the step size, the
    "epsilon hat" form of the paper's Section 2:

        alpha = learning_rate * sqrt(1 - beta_2^t) / (1 - beta_1^t)
        w <- w - alpha * m / (sqrt(v) + epsilon)

    The paper's Algorithm 1 (`textbook=True`) corrects the moments themselves:

        m_hat = m / (1 - beta_1^t),  v_hat = v / (1 - beta_2^t)
        w <- w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    The two differ only in where epsilon acts: the Keras form's epsilon is
    effectively `epsilon * sqrt(1 - beta_2^t)` in the paper's, larger early on.
    With `amsgrad=True` (Reddi et al. 2018) `v` is replaced by its running maximum.
    The step counter `t` comes from `self.iterations`, so it advances every step.

    Args:
        learning_rate: a float >= 0, a schedule or a callable. Defaults to 0.001.
        beta_1, beta_2: in [0, 1), decay of the moment estimates. Default 0.9, 0.999.
        epsilon: > 0. Defaults to 1e-7 (the paper uses 1e-8).
        amsgrad: use the maximum of past second moments. Defaults to False.
        textbook: use Algorithm 1's form. Defaults to False.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        textbook=False,
        name="adam",
        **kwargs,
    ):
        super().__init__(learning_rate=check_learning_rate(learning_rate), name=name, **kwargs)
        self.beta_1 = check_decay("beta_1", beta_1)
        self.beta_2 = check_decay("beta_2", beta_2)
        self.epsilon = check_positive("epsilon", epsilon)
        self.amsgrad = bool(amsgrad)
        self.textbook = bool(textbook)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self.first_moments = self.add_optimizer_variables(var_list, "first_moment")
        self.second_moments = self.add_optimizer_variables(var_list, "second_moment")
        self.max_second_moments = self.add_optimizer_variables(var_list, "max_second_moment") if self.amsgrad else []

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        learning_rate = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        index = self._get_variable_index(variable)
        step = ops.cast(self.iterations + 1, dtype)
        # Python-float betas take the weights' dtype, with no detour through float32.
        first_correction = 1 - ops.power(self.beta_1, step)
        second_correction = 1 - ops.power(self.beta_2, step)

        m = self.first_moments[index]
        v = self.second_moments[index]
        # m <- m + (1 - beta) * (g - m) is beta * m + (1 - beta) * g with one rounding less.
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - self.beta_2))
        if self.amsgrad:
            v_max = self.max_second_moments[index]
            self.assign(v_max, ops.maximum(v_max, v))
            v = v_max

        if self.textbook:
            m_hat = ops.divide(m, first_correction)
            v_hat = ops.divide(v, second_correction)
            update = ops.multiply(learning_rate, ops.divide(m_hat, ops.add(ops.sqrt(v_hat), self.epsilon)))
        else:
            alpha = learning_rate * ops.sqrt(second_correction) / first_correction
            update = ops.divide(ops.multiply(m, alpha), ops.add(ops.sqrt(v), self.epsilon))
        self.assign_sub(variable, update)

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
            "textbook": self.textbook,
        }
