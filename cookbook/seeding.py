"""Seeding a run without paying TensorFlow's cache flush for every seed."""

import random

import keras
import numpy as np
import tensorflow as tf

TF_GLOBAL_SEED = 0
_tensorflow_seeded = False


def seed_everything(seed, deterministic_ops=True):
    """Seeds Python and NumPy with `seed`, and TensorFlow once per process.

    Keras draws every default seed (initial weights, dropout masks) from Python's
    `random`, and the data pipelines give their shuffles explicit seeds, so these
    fix a run. TensorFlow's global seed is set once, to a constant, with
    deterministic ops: setting it again would flush TensorFlow's caches of
    instantiated functions, seconds per deep model, and change no number here.

    `deterministic_ops=False` leaves TensorFlow's op determinism off, which XLA needs:
    Keras quietly compiles nothing with XLA while op determinism is on.
    """
    global _tensorflow_seeded
    if not _tensorflow_seeded:
        keras.utils.set_random_seed(TF_GLOBAL_SEED)
        if deterministic_ops:
            tf.config.experimental.enable_op_determinism()
        _tensorflow_seeded = True
    random.seed(seed)
    np.random.seed(seed)
