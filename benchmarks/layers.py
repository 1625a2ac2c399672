"""Step time of each explicit layer against its Keras built-in, side by side.

    python -m benchmarks.layers [--blocks 40] [--json benchmarks/layers.json]

Trains the same small CNN on CIFAR-sized random images (32x32x3) twice per layer,
once with that layer from `cookbook.layers` and once with the Keras built-in
(everything else identical), one epoch each in turn for `--blocks` rounds in one
process, and prints each one's step time (lower quartile over the epochs), their
ratio with a 90% bootstrap interval, and whether the ratio meets its target on CPU:
at most 1.25 for pooling and 1.10 for batch normalization and dropout
(`timing.py` says why this statistic).
"""

import click
import keras
import numpy as np
import tensorflow as tf

from benchmarks.timing import blocks_option
from benchmarks.timing import compare_step_times
from benchmarks.timing import print_ratios
from cookbook import layers
from cookbook.results import environment
from cookbook.results import write_json_atomic

KERAS = {
    "max_pool": lambda: keras.layers.MaxPooling2D(2),
    "average_pool": lambda: keras.layers.AveragePooling2D(2),
    "batch_norm": lambda: keras.layers.BatchNormalization(),
    "dropout": lambda: keras.layers.Dropout(0.3),
}
OURS = {
    "max_pool": lambda: layers.MaxPooling2D(2),
    "average_pool": lambda: layers.AveragePooling2D(2),
    "batch_norm": lambda: layers.BatchNormalization(),
    "dropout": lambda: layers.Dropout(0.3),
}
PAIRS = {
    "MaxPooling2D": "max_pool",
    "AveragePooling2D": "average_pool",
    "BatchNormalization": "batch_norm",
    "Dropout": "dropout",
}
TARGETS = {"MaxPooling2D": 1.25, "AveragePooling2D": 1.25, "BatchNormalization": 1.10, "Dropout": 1.10}


def pool_kind(explicit):
    return "average_pool" if explicit == "average_pool" else "max_pool"


def cnn(explicit, pooling=None):
    """Conv-BN-ReLU-pool twice, then dropout and a classifier; `explicit` names the layer
    kind taken from `cookbook.layers` (None: all built-in)."""
    pooling = pooling or pool_kind(explicit)

    def make(kind):
        return (OURS if kind == explicit else KERAS)[kind]()

    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Conv2D(32, 3, padding="same", use_bias=False),
            make("batch_norm"),
            keras.layers.ReLU(),
            make(pooling),
            keras.layers.Conv2D(64, 3, padding="same", use_bias=False),
            make("batch_norm"),
            keras.layers.ReLU(),
            make(pooling),
            keras.layers.Flatten(),
            make("dropout"),
            keras.layers.Dense(10),
        ]
    )


def compiled(model, dataset):
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(dataset, epochs=1, verbose=0)  # warm up: trace and compile once
    return model


def measure(blocks, batch_size=64, examples=1024, only=()):
    """Step times and ratios of every pair (or those named in `only`) on random images."""
    rng = np.random.default_rng(0)
    images = rng.random((examples, 32, 32, 3), dtype=np.float32)
    labels = rng.integers(0, 10, examples)
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch_size).cache()
    pairs = {
        name: (compiled(cnn(kind), dataset), compiled(cnn(None, pool_kind(kind)), dataset))
        for name, kind in PAIRS.items()
        if not only or name in only
    }
    return compare_step_times(pairs, dataset, blocks, TARGETS)


@click.command()
@blocks_option()
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--examples", type=click.IntRange(min=1), default=1024, show_default=True)
@click.option("--only", multiple=True, type=click.Choice(list(PAIRS)), help="Just these layers.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write the numbers here.")
def main(blocks, batch_size, examples, only, json_path):
    """Step time, explicit layer / Keras built-in, side by side."""
    results = measure(blocks, batch_size, examples, only)
    print(f"32x32x3 CNN, batch {batch_size}, {blocks} interleaved epochs per model")
    print_ratios(results, "explicit", "built-in")
    if json_path:
        write_json_atomic(json_path, {"layers": results, "environment": environment()})


if __name__ == "__main__":
    main()
