"""Trains a fixed model on fixed data through the harness under a strategy; a helper the
scaling tests start as separate processes (a process's devices are fixed once TensorFlow starts)."""

import argparse

import numpy as np

from cookbook import scaling
from cookbook.experiment import Experiment
from cookbook.experiment import RunConfig
from cookbook.statistics import INCONCLUSIVE

GLOBAL_BATCH = 16


def fixed_data():
    import tensorflow as tf

    from cookbook.data import Dataset
    from cookbook.data import DatasetFacts

    rng = np.random.default_rng(0)
    images = rng.random((128, 4, 4, 1), dtype=np.float32)
    labels = (images.mean(axis=(1, 2, 3)) > 0.5).astype(np.int32)
    split = tf.data.Dataset.from_tensor_slices((images, labels)).batch(GLOBAL_BATCH)
    return Dataset(split, split, split, DatasetFacts("fixed", (4, 4, 1), 2, ("a", "b"), {"train": 128}))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--strategy", default="none")
    parser.add_argument("--workers")
    parser.add_argument("--worker-index", type=int)
    parser.add_argument("--out", required=True)
    parser.add_argument("--weights", required=True)
    args = parser.parse_args()
    options = scaling.ScaleOptions(strategy=args.strategy, workers=args.workers, worker_index=args.worker_index)
    scale = scaling.setup(options)
    import keras

    with scale.scope():
        config = RunConfig(out=args.out, verbose=0, scale=options)
        experiment = Experiment("distributed", "a claim", config, {"epochs": 3, "batch_size": 16, "seeds": 1}, scale=scale)

        def train(seed):
            model = keras.Sequential(
                [
                    keras.Input((4, 4, 1)),
                    keras.layers.Flatten(),
                    keras.layers.Dense(8, activation="relu"),
                    keras.layers.Dense(2, activation="softmax"),
                ]
            )
            model.compile(keras.optimizers.SGD(0.1, momentum=0.9), "sparse_categorical_crossentropy", metrics=["accuracy"])
            run = experiment.fit(model, fixed_data(), variant="fixed", seed=seed)
            np.savez(args.weights, *model.get_weights())
            return {**run, "test_accuracy": experiment.evaluate(model, fixed_data().test)[1]}

        experiment.run_seeds("fixed", train)
        experiment.conclude(INCONCLUSIVE, f"replicas: {scale.describe()['replicas']}")


if __name__ == "__main__":
    main()
