"""
Title: a fixed training under a strategy
Claim: The same training gives the same weights on one device, two replicas or two workers.

A recipe the scaling tests start as separate processes (a process's devices are fixed once
TensorFlow starts): a fixed model on fixed data, trained through the harness.
"""

import argparse
import sys

import numpy as np

from cookbook.analysis import Conclusion
from cookbook.harness.experiment import run_recipe
from cookbook.harness.options import RunOptions
from cookbook.harness.options import ScaleOptions
from cookbook.harness.options import virtual_cpus
from cookbook.statistics import INCONCLUSIVE

GLOBAL_BATCH = 16
DEFAULTS = {"epochs": 3, "batch_size": GLOBAL_BATCH, "seeds": 1}
VARIANTS = ("fixed",)
WEIGHTS_PATH = None  # where `train` saves the trained weights, from --weights


def fixed_data():
    import tensorflow as tf

    from cookbook.data import Dataset
    from cookbook.data import DatasetFacts

    rng = np.random.default_rng(0)
    images = rng.random((128, 4, 4, 1), dtype=np.float32)
    labels = (images.mean(axis=(1, 2, 3)) > 0.5).astype(np.int32)
    split = tf.data.Dataset.from_tensor_slices((images, labels)).batch(GLOBAL_BATCH)
    return Dataset(split, split, split, DatasetFacts("fixed", (4, 4, 1), 2, ("a", "b"), {"train": 128}))


def train(run):
    import keras

    model = keras.Sequential(
        [
            keras.Input((4, 4, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(keras.optimizers.SGD(0.1, momentum=0.9), "sparse_categorical_crossentropy", metrics=["accuracy"])
    data = fixed_data()
    run.fit(model, data)
    np.savez(WEIGHTS_PATH, *model.get_weights())
    return {"test_accuracy": run.evaluate(model, data.test)[1], "replicas": scaling_replicas()}


def scaling_replicas():
    import tensorflow as tf

    return tf.distribute.get_strategy().num_replicas_in_sync


def conclude(results):
    return Conclusion({"trained": INCONCLUSIVE}, f"replicas: {results.runs['fixed'][0]['replicas']}")


def main():
    global WEIGHTS_PATH
    parser = argparse.ArgumentParser()
    parser.add_argument("--strategy", default="none")
    parser.add_argument("--workers")
    parser.add_argument("--worker-index", type=int)
    parser.add_argument("--out", required=True)
    parser.add_argument("--weights", required=True)
    args = parser.parse_args()
    WEIGHTS_PATH = args.weights
    # On the CPU wherever it runs, so replicas and results are the same on a machine with GPUs.
    scale = ScaleOptions(
        device="cpu",
        strategy=args.strategy,
        workers=args.workers,
        worker_index=args.worker_index,
        virtual_cpus=virtual_cpus(),  # COOKBOOK_VIRTUAL_CPUS, as the command line reads it
    )
    run_recipe(sys.modules[__name__], RunOptions(out=args.out, scale=scale))


if __name__ == "__main__":
    main()
