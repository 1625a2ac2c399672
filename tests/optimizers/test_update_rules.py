"""Each update rule against an independent NumPy implementation of its formula.

The NumPy rules are written from the papers (and from Keras's documented forms),
not from our code, and pin both the Keras form and the textbook option.
"""

import keras
import numpy as np
import pytest

from cookbook import optimizers
from tests.backend import RULE_TOLERANCE

STEPS = 100


def gradients(steps=STEPS, shape=(3, 2)):
    return np.random.default_rng(1).normal(size=(steps, *shape)).astype("float64")


def run_optimizer(optimizer, grads, start=None):
    """Applies a fixed sequence of gradients to one float64 variable."""
    start = np.linspace(-1, 1, grads[0].size).reshape(grads[0].shape) if start is None else start
    variable = keras.Variable(start, dtype="float64")
    for g in grads:
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(g, "float64"), variable)])
    return variable.numpy(), start


def as_stored(learning_rate):
    """Keras keeps the learning rate in a float32 variable, whatever the weights' dtype."""
    return float(np.float32(learning_rate))


def numpy_gradient_descent(w, grads, lr):
    lr = as_stored(lr)
    for g in grads:
        w = w - lr * g
    return w


def numpy_momentum(w, grads, lr, mu, nesterov):
    lr = as_stored(lr)
    v = np.zeros_like(w)
    for g in grads:
        v = mu * v - lr * g
        w = w + (mu * v - lr * g if nesterov else v)
    return w


def numpy_adagrad(w, grads, lr, eps, textbook):
    lr = as_stored(lr)
    a = np.zeros_like(w) if textbook else np.full_like(w, as_stored(0.1))  # initialised in float32 too
    for g in grads:
        a = a + g**2
        w = w - lr * g / ((np.sqrt(a) + eps) if textbook else np.sqrt(a + eps))
    return w


def numpy_rmsprop(w, grads, lr, rho, eps, momentum, centered):
    lr = as_stored(lr)
    s, mean, m = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        s = rho * s + (1 - rho) * g**2
        mean = rho * mean + (1 - rho) * g
        step = lr * g / np.sqrt((s - mean**2 if centered else s) + eps)
        m = momentum * m + step
        w = w - (m if momentum else step)
    return w


def numpy_adam(w, grads, lr, b1, b2, eps, amsgrad, textbook):
    lr = as_stored(lr)
    m, v, v_max = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        v_max = np.maximum(v_max, v)
        second = v_max if amsgrad else v
        if textbook:  # Kingma & Ba, Algorithm 1
            w = w - lr * (m / (1 - b1**t)) / (np.sqrt(second / (1 - b2**t)) + eps)
        else:  # Section 2's "epsilon hat" form, as Keras computes it
            alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
            w = w - alpha * m / (np.sqrt(second) + eps)
    return w


CASES = {
    "gradient_descent": (
        lambda: optimizers.GradientDescent(0.1),
        lambda w, g: numpy_gradient_descent(w, g, 0.1),
    ),
    "momentum": (
        lambda: optimizers.Momentum(0.05, momentum=0.9),
        lambda w, g: numpy_momentum(w, g, 0.05, 0.9, False),
    ),
    "nesterov": (
        lambda: optimizers.Momentum(0.05, momentum=0.9, nesterov=True),
        lambda w, g: numpy_momentum(w, g, 0.05, 0.9, True),
    ),
    "adagrad_keras": (
        lambda: optimizers.AdaGrad(0.1, epsilon=1e-3),
        lambda w, g: numpy_adagrad(w, g, 0.1, 1e-3, False),
    ),
    "adagrad_textbook": (
        lambda: optimizers.AdaGrad(0.1, epsilon=1e-3, textbook=True),
        lambda w, g: numpy_adagrad(w, g, 0.1, 1e-3, True),
    ),
    "rmsprop": (
        lambda: optimizers.RMSProp(0.01, rho=0.9, epsilon=1e-6),
        lambda w, g: numpy_rmsprop(w, g, 0.01, 0.9, 1e-6, 0.0, False),
    ),
    "rmsprop_centered_momentum": (
        lambda: optimizers.RMSProp(0.01, rho=0.8, epsilon=1e-6, momentum=0.5, centered=True),
        lambda w, g: numpy_rmsprop(w, g, 0.01, 0.8, 1e-6, 0.5, True),
    ),
    "adam_keras": (
        lambda: optimizers.Adam(0.01, epsilon=1e-3),
        lambda w, g: numpy_adam(w, g, 0.01, 0.9, 0.999, 1e-3, False, False),
    ),
    "adam_textbook": (
        lambda: optimizers.Adam(0.01, epsilon=1e-3, textbook=True),
        lambda w, g: numpy_adam(w, g, 0.01, 0.9, 0.999, 1e-3, False, True),
    ),
    "adam_amsgrad_textbook": (
        lambda: optimizers.Adam(0.01, beta_2=0.99, epsilon=1e-3, amsgrad=True, textbook=True),
        lambda w, g: numpy_adam(w, g, 0.01, 0.9, 0.99, 1e-3, True, True),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_numpy_rule(case):
    make, rule = CASES[case]
    grads = gradients()
    actual, start = run_optimizer(make(), grads)
    np.testing.assert_allclose(actual, rule(start, grads), rtol=RULE_TOLERANCE[0], atol=RULE_TOLERANCE[1])


@pytest.mark.parametrize(
    "keras_form, textbook_form",
    [
        (lambda: optimizers.AdaGrad(0.1, epsilon=1e-3), lambda: optimizers.AdaGrad(0.1, epsilon=1e-3, textbook=True)),
        (lambda: optimizers.Adam(0.01, epsilon=1e-3), lambda: optimizers.Adam(0.01, epsilon=1e-3, textbook=True)),
    ],
)
def test_textbook_and_keras_forms_really_differ(keras_form, textbook_form):
    grads = gradients()
    keras_result, _ = run_optimizer(keras_form(), grads)
    textbook_result, _ = run_optimizer(textbook_form(), grads)
    assert np.max(np.abs(keras_result - textbook_result)) > 1e-6


def test_adam_step_counter_advances():
    """The classic from-scratch bug: bias correction stuck at step 1."""
    optimizer = optimizers.Adam(0.01)
    run_optimizer(optimizer, gradients(steps=5))
    assert int(optimizer.iterations.numpy()) == 5


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: optimizers.GradientDescent(-0.1), "learning_rate must be >= 0"),
        (lambda: optimizers.GradientDescent("fast"), "learning_rate"),
        (lambda: optimizers.Momentum(0.1, momentum=1.0), r"momentum must be in \[0, 1\)"),
        (lambda: optimizers.Momentum(0.1, momentum=-0.1), "momentum"),
        (lambda: optimizers.AdaGrad(epsilon=0), "epsilon must be > 0"),
        (lambda: optimizers.AdaGrad(initial_accumulator_value=-1), "initial_accumulator_value"),
        (lambda: optimizers.RMSProp(rho=1.5), "rho"),
        (lambda: optimizers.RMSProp(momentum=float("nan")), "momentum must be a number"),
        (lambda: optimizers.Adam(beta_1=1.0), "beta_1"),
        (lambda: optimizers.Adam(beta_2=-0.5), "beta_2"),
        (lambda: optimizers.Adam(epsilon=-1e-7), "epsilon"),
    ],
)
def test_invalid_hyperparameters_fail_at_construction(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_schedules_are_accepted_as_learning_rates():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    optimizer = optimizers.GradientDescent(schedule)
    grads = np.ones((3, 1))
    actual, start = run_optimizer(optimizer, grads, start=np.zeros(1))
    expected = -sum(0.1 * 0.5 ** (step / 10) for step in range(3))
    np.testing.assert_allclose(actual, [expected], rtol=1e-6)
