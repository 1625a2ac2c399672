"""`seed_everything`: a run's numbers follow its seed, whatever ran before in the process."""

import keras
import numpy as np
import tensorflow as tf

from cookbook.data import load_dataset
from cookbook.seeding import TF_GLOBAL_SEED
from cookbook.seeding import seed_everything
from cookbook.seeding import tensorflow_global_seed


def first_epoch_labels(data_dir):
    seed_everything(3)
    train = load_dataset("digits", batch_size=64, seed=3, data_dir=data_dir).train
    return np.concatenate([labels.numpy() for _, labels in train])


def test_a_seed_gives_the_same_order_after_someone_else_seeded_tensorflow(data_dir):
    # The shuffles' op seeds pair with TensorFlow's global seed: a user's own
    # `keras.utils.set_random_seed` (a notebook, another test) must not reach the next run.
    before = first_epoch_labels(data_dir)
    keras.utils.set_random_seed(1)
    after = first_epoch_labels(data_dir)
    assert tensorflow_global_seed() == TF_GLOBAL_SEED
    np.testing.assert_array_equal(before, after)


def test_reading_the_global_seed_draws_nothing():
    # Unseeded TensorFlow ops take their seeds from a sequence the reading must leave alone.
    keras.utils.set_random_seed(TF_GLOBAL_SEED)
    first = tf.random.uniform((4,)).numpy()
    keras.utils.set_random_seed(TF_GLOBAL_SEED)
    assert tensorflow_global_seed() == TF_GLOBAL_SEED
    np.testing.assert_array_equal(tf.random.uniform((4,)).numpy(), first)
