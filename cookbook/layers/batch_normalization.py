"""Batch normalization: standardize each feature over the batch, then scale and shift."""

import keras
from keras import constraints
from keras import initializers
from keras import ops
from keras import regularizers


@keras.saving.register_keras_serializable(package="cookbook")
class BatchNormalization(keras.layers.Layer):
    """Normalizes each feature (the `axis` dimension) with batch statistics in training
    and with moving averages of them at inference (Ioffe & Szegedy 2015).

    Training (and only if the layer is trainable), over all axes but `axis`:

        mean = E[x],  var = E[(x - mean)^2]          (biased: divided by m)
        y = gamma * (x - mean) / sqrt(var + epsilon) + beta
        moving_mean <- momentum * moving_mean + (1 - momentum) * mean
        moving_var  <- momentum * moving_var  + (1 - momentum) * var

    Inference, or a frozen layer (`trainable = False`, the Keras rule for fine-tuning):
    the same `y` with `moving_mean` and `moving_var`.

    With a `mask` (Keras's masking, e.g. padded time steps of a sequence), the batch
    statistics count only the positions the mask keeps, as Keras's layer does.

    Where the paper differs: its inference variance is the unbiased estimate
    `m / (m - 1) * E[var_B]` over training batches of size m; Keras averages the
    biased batch variance, exponentially. `textbook=True` applies the paper's
    m / (m - 1) correction to each batch variance before it enters the moving
    average (the normalization in training is the same either way). Statistics
    are computed in float32 even under mixed precision, as in Keras.

    Args:
        axis: the feature axis, -1 for channels-last convolutions and dense layers.
        momentum: in [0, 1), the moving averages' decay. Defaults to 0.99.
        epsilon: > 0, added to the variance. Defaults to 1e-3.
        center, scale: learn `beta`, `gamma`. Default True.
        textbook: the paper's unbiased variance in the moving average. Default False.
        *_initializer, *_regularizer, *_constraint: as in `keras.layers.BatchNormalization`.
    """

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        textbook=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(axis, int):
            raise ValueError(f"axis must be an integer, got {axis!r}.")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}.")
        if not epsilon > 0.0:
            raise ValueError(f"epsilon must be > 0, got {epsilon!r}.")
        self.axis = axis
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.textbook = bool(textbook)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank:
            raise ValueError(f"axis {self.axis} is out of range for inputs of rank {rank}.")
        self._feature_axis = self.axis % rank
        features = input_shape[self._feature_axis]
        if features is None:
            raise ValueError(f"The feature axis {self.axis} must have a known size.")
        self.input_spec = keras.layers.InputSpec(ndim=rank, axes={self._feature_axis: features})
        self.gamma = (
            self.add_weight(
                shape=(features,),
                name="gamma",
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
                trainable=True,
                autocast=False,
            )
            if self.scale
            else None
        )
        self.beta = (
            self.add_weight(
                shape=(features,),
                name="beta",
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
                trainable=True,
                autocast=False,
            )
            if self.center
            else None
        )
        self.moving_mean = self.add_weight(
            shape=(features,),
            name="moving_mean",
            initializer=self.moving_mean_initializer,
            trainable=False,
            autocast=False,
        )
        self.moving_variance = self.add_weight(
            shape=(features,),
            name="moving_variance",
            initializer=self.moving_variance_initializer,
            trainable=False,
            autocast=False,
        )

    def call(self, inputs, training=None, mask=None):
        compute_dtype = inputs.dtype
        x = ops.cast(inputs, "float32")  # statistics in float32, whatever the policy
        rank = len(x.shape)
        reduction_axes = [axis for axis in range(rank) if axis != self._feature_axis]
        broadcast = [1] * rank
        broadcast[self._feature_axis] = x.shape[self._feature_axis]

        if training and self.trainable:
            if mask is None:
                mean = ops.mean(x, axis=reduction_axes)
                # The variance's gradient through its mean is exactly zero (the deviations sum
                # to zero), so the mean is held constant there: the same values, less work.
                deviations = x - ops.reshape(ops.stop_gradient(mean), broadcast)
                variance = ops.mean(ops.square(deviations), axis=reduction_axes)
                count = _count(x, reduction_axes)
            else:
                mean, variance, count = _masked_moments(x, mask, reduction_axes, broadcast)
            self._update_moving_statistics(mean, variance, count)
        else:
            mean = ops.cast(self.moving_mean, "float32")
            variance = ops.cast(self.moving_variance, "float32")

        # gamma * (x - mean) / sqrt(variance + epsilon) + beta, as one multiply and one
        # add per element: x * multiplier + shift, both per feature.
        multiplier = ops.rsqrt(variance + self.epsilon)
        if self.gamma is not None:
            multiplier = multiplier * ops.cast(self.gamma, "float32")
        shift = -mean * multiplier
        if self.beta is not None:
            shift = shift + ops.cast(self.beta, "float32")
        outputs = x * ops.reshape(multiplier, broadcast) + ops.reshape(shift, broadcast)
        return ops.cast(outputs, compute_dtype)

    def _update_moving_statistics(self, mean, variance, count):
        if self.textbook:
            variance = variance * count / ops.maximum(count - 1.0, 1.0)
        momentum = self.momentum
        self.moving_mean.assign(self.moving_mean * momentum + ops.stop_gradient(mean) * (1.0 - momentum))
        self.moving_variance.assign(self.moving_variance * momentum + ops.stop_gradient(variance) * (1.0 - momentum))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "textbook": self.textbook,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }


def _count(x, reduction_axes):
    count = 1
    for axis in reduction_axes:
        count *= ops.shape(x)[axis]
    return ops.cast(count, "float32")


def _masked_moments(x, mask, reduction_axes, broadcast):
    """Mean, variance and count over the positions `mask` keeps, as Keras computes them.

    `mask` covers every axis of `x` but the last (a sequence's padding mask, for one).
    """
    weights = ops.broadcast_to(ops.expand_dims(ops.cast(mask, "float32"), -1), ops.shape(x))
    count = ops.sum(weights, axis=reduction_axes)
    mean = ops.divide_no_nan(ops.sum(x * weights, axis=reduction_axes), count)
    deviations = x - ops.reshape(ops.stop_gradient(mean), broadcast)
    variance = ops.divide_no_nan(ops.sum(ops.square(deviations) * weights, axis=reduction_axes), count)
    return mean, variance, count
