"""Step time of each from-scratch optimizer against its Keras built-in, side by side.

    python -m benchmarks.optimizers [--blocks 40] [--json benchmarks/optimizers.json]

Trains the same small ConvNet on `digits` with `cookbook.optimizers.X` and with the
matching `keras.optimizers` built-in, four epochs each in turn for `--blocks` rounds in
one process, and prints each one's step time (lower quartile over the epochs), their
ratio with a 90% bootstrap interval, and whether it meets the target of at most 1.05
on CPU (`timing.py` says why this statistic).
"""

import click
import keras

from benchmarks.timing import blocks_option
from benchmarks.timing import compare_step_times
from benchmarks.timing import print_ratios
from cookbook import optimizers
from cookbook.data import load_dataset
from cookbook.models import small_convnet
from cookbook.results import environment
from cookbook.results import write_json_atomic

PAIRS = {
    "GradientDescent / SGD": (lambda: optimizers.GradientDescent(0.01), lambda: keras.optimizers.SGD(0.01)),
    "Momentum / SGD(momentum)": (
        lambda: optimizers.Momentum(0.01, momentum=0.9),
        lambda: keras.optimizers.SGD(0.01, momentum=0.9),
    ),
    "AdaGrad / Adagrad": (lambda: optimizers.AdaGrad(0.01), lambda: keras.optimizers.Adagrad(0.01)),
    "RMSProp / RMSprop": (lambda: optimizers.RMSProp(0.001), lambda: keras.optimizers.RMSprop(0.001)),
    "Adam / Adam": (lambda: optimizers.Adam(0.001), lambda: keras.optimizers.Adam(0.001)),
}
TARGETS = dict.fromkeys(PAIRS, 1.05)
EPOCHS_PER_BLOCK = 4  # an epoch of this small network is ~0.15 s: too short to time alone


def compiled_model(optimizer, facts, dataset):
    keras.utils.set_random_seed(0)
    model = small_convnet(facts.input_shape, facts.num_classes)
    model.compile(optimizer, "sparse_categorical_crossentropy")
    model.fit(dataset, epochs=1, verbose=0)  # warm up: trace and compile once
    return model


def measure(data, blocks):
    """Step times and ratios of every pair, on `data`'s training split."""
    pairs = {
        name: (compiled_model(ours(), data.facts, data.train), compiled_model(theirs(), data.facts, data.train))
        for name, (ours, theirs) in PAIRS.items()
    }
    return compare_step_times(pairs, data.train, blocks, TARGETS, EPOCHS_PER_BLOCK)


@click.command()
@blocks_option()
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False), help="TFDS data folder.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write the numbers here.")
def main(blocks, batch_size, data_dir, json_path):
    """Step time, from-scratch optimizer / Keras built-in, side by side."""
    data = load_dataset("digits", batch_size=batch_size, seed=0, data_dir=data_dir)
    results = measure(data, blocks)
    print(f"small_convnet on digits, batch {batch_size}, {blocks} interleaved epochs per model")
    print_ratios(results, "ours", "built-in")
    if json_path:
        write_json_atomic(json_path, {"optimizers": results, "environment": environment()})


if __name__ == "__main__":
    main()
