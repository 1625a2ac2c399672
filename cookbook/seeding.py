"""Seeding a run without paying TensorFlow's cache flush for every seed."""

import random

import keras
import numpy as np
import tensorflow as tf

TF_GLOBAL_SEED = 0
_tensorflow_seeded = False


def seed_everything(seed, deterministic_ops=True):
    """Seeds Python and NumPy with `seed`, and TensorFlow's global seed to a constant.

    Keras draws every default seed (initial weights, dropout masks) from Python's
    `random`, and the data pipelines give their shuffles explicit seeds, which
    TensorFlow combines with its global seed. That one is set to `TF_GLOBAL_SEED`
    the first time, with deterministic ops, and again only when something else in
    the process changed it (a user's `keras.utils.set_random_seed`): setting it
    flushes TensorFlow's caches of instantiated functions, seconds per deep model.

    `deterministic_ops=False` leaves TensorFlow's op determinism off, which XLA needs:
    Keras quietly compiles nothing with XLA while op determinism is on.
    """
    global _tensorflow_seeded
    if not _tensorflow_seeded or tensorflow_global_seed() != TF_GLOBAL_SEED:
        keras.utils.set_random_seed(TF_GLOBAL_SEED)
    if not _tensorflow_seeded:
        if deterministic_ops:
            tf.config.experimental.enable_op_determinism()
        _tensorflow_seeded = True
    random.seed(seed)
    np.random.seed(seed)


def tensorflow_global_seed():
    """TensorFlow's global seed now (its stand-in when none is set), read without drawing
    from the sequence unseeded ops take their seeds from: given an op seed, `get_seed`
    only pairs it with the global one."""
    return tf.compat.v1.random.get_seed(1)[0]
