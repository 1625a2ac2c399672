"""Dropout: in training, zero each unit with probability `rate` and scale up the rest."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="cookbook")
class Dropout(keras.layers.Layer):
    """Inverted dropout (Srivastava et al. 2014, as Keras implements it).

    Training:   keep ~ Bernoulli(1 - rate) per unit;  y = x * keep / (1 - rate)
    Inference:  y = x

    The paper keeps `y = x * keep` in training and multiplies the weights by
    `1 - rate` at test time instead; scaling during training ("inverted") gives
    the same expected activations and leaves inference untouched, which is what
    Keras does. A fresh mask is drawn at every call, from a
    `keras.random.SeedGenerator`, so a seed reproduces the whole sequence.

    Args:
        rate: in [0, 1), the probability of dropping a unit.
        noise_shape: the mask's shape, broadcast over the input; `None` entries
            take the input's size (for example `(None, 1, 1, C)` drops whole
            channels of a feature map).
        seed: an int for reproducible masks.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(f"rate must be a number in [0, 1), got {rate!r}.")
        if seed is not None and not isinstance(seed, int):
            raise ValueError(f"seed must be an integer or None, got {seed!r}.")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        keep = keras.random.uniform(self._mask_shape(inputs), seed=self.seed_generator, dtype=inputs.dtype) >= self.rate
        return ops.where(keep, inputs / (1.0 - self.rate), ops.zeros_like(inputs))

    def _mask_shape(self, inputs):
        shape = ops.shape(inputs)
        if self.noise_shape is None:
            return shape
        if len(self.noise_shape) != len(shape):
            raise ValueError(f"noise_shape {self.noise_shape} must have the inputs' rank {len(shape)}.")
        return tuple(size if wanted is None else wanted for wanted, size in zip(self.noise_shape, shape))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}
