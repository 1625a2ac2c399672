"""Gradients for the reference tests on whichever backend Keras runs (`KERAS_BACKEND`).

Keras 3 has no backend-neutral gradient call, so this is the one place the block tests name a
backend: a `tf.GradientTape`, `jax.vjp` or `torch.autograd`, around `Layer.stateless_call`
(which every backend supports, and which lets JAX differentiate a layer that keeps state).
"""

import keras
import numpy as np
import pytest

BACKEND = keras.backend.backend()


def _to_numpy(values):
    return [keras.ops.convert_to_numpy(value) for value in values]


def forward_and_gradients(layer, x, upstream, **call_options):
    """`(y, [dL/dx, dL/dw for each trainable weight])` as NumPy, with `L = sum(y * upstream(shape))`.

    `upstream` gives a non-uniform upstream gradient, so that a misrouted gradient shows.
    The layer's state (moving statistics, a dropout seed) moves on as one call would move it.
    """
    if not layer.built:
        layer.build(np.shape(x))
    state = [variable.value for variable in layer.non_trainable_variables]

    def forward(inputs, *weights):
        return layer.stateless_call(list(weights), state, inputs, **call_options)

    weights = [variable.value for variable in layer.trainable_variables]
    y, new_state, gradients = _VJP[BACKEND](forward, keras.ops.convert_to_tensor(x), weights, upstream)
    for variable, value in zip(layer.non_trainable_variables, new_state, strict=True):
        variable.assign(value)
    return keras.ops.convert_to_numpy(y), _to_numpy(gradients)


def _upstream_like(y, upstream):
    return keras.ops.convert_to_tensor(upstream(tuple(y.shape)).astype(keras.backend.standardize_dtype(y.dtype)))


def _tensorflow_vjp(forward, x, weights, upstream):
    import tensorflow as tf

    weights = [tf.convert_to_tensor(w) for w in weights]
    with tf.GradientTape() as tape:
        tape.watch([x, *weights])
        y, new_state = forward(x, *weights)
        loss = tf.reduce_sum(y * _upstream_like(y, upstream))
    return y, new_state, tape.gradient(loss, [x, *weights])


def _jax_vjp(forward, x, weights, upstream):
    import jax

    y, pullback, new_state = jax.vjp(forward, x, *weights, has_aux=True)
    return y, new_state, list(pullback(_upstream_like(y, upstream)))


def _torch_vjp(forward, x, weights, upstream):
    leaves = [value.detach().clone().requires_grad_(True) for value in (x, *weights)]
    y, new_state = forward(*leaves)
    (y * _upstream_like(y, upstream)).sum().backward()
    return y.detach(), [value.detach() for value in new_state], [leaf.grad for leaf in leaves]


_VJP = {"tensorflow": _tensorflow_vjp, "jax": _jax_vjp, "torch": _torch_vjp}


def sine(shape):
    """An upstream gradient that differs at every position."""
    return np.sin(np.arange(int(np.prod(shape))) * 0.37 + 1.0).reshape(shape)


def cosine(shape):
    return np.cos(np.arange(int(np.prod(shape))) * 0.3).reshape(shape)


def ones(shape):
    return np.ones(shape)


def differs_from_keras_by(tensorflow, jax=None, torch=None):
    """The relative difference allowed between ours and Keras's built-in on this backend.

    On torch, Keras's optimizers apply their rules through fused `torch._foreach_*` kernels,
    in another order of operations than `keras.ops` (which ours, and the built-ins on the
    other backends, use): the same float32 arithmetic, rounded in another order, drifts
    apart by a few float32 units over a test's steps.
    """
    allowed = {"tensorflow": tensorflow, "jax": jax or tensorflow, "torch": torch or tensorflow}
    return allowed[BACKEND]


# The NumPy rules run in float64. TensorFlow keeps a float64 variable's update in float64
# throughout; JAX without `jax_enable_x64` (its default) stores float64 as float32, and on
# torch Keras makes a Python float hyperparameter a float32 tensor before it meets the
# float64 weights: there the rule holds to float32's resolution.
# `(rtol, atol)`.
RULE_TOLERANCE = {"tensorflow": (1e-10, 1e-12), "jax": (1e-5, 1e-5), "torch": (1e-5, 1e-5)}[BACKEND]

tensorflow_only = pytest.mark.skipif(
    BACKEND != "tensorflow", reason="tf.function, tf.GradientTape or tf.distribute: TensorFlow's backend only"
)
