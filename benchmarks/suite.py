"""Every benchmark in one process run, side by side, written to benchmarks/results.json.

    python -m benchmarks.suite [--blocks 40] [--repeats 5] [--out benchmarks/results.json]

1. Step-time ratios: each explicit layer / its Keras built-in (a 32x32x3 CNN) and each
   from-scratch optimizer / its built-in (the small ConvNet on digits), over `--blocks`
   interleaved epochs per model, with 90% intervals and the targets (see timing.py).
2. Batched steps: the recipes' small ConvNet on digits with `STEPS_PER_EXECUTION` batches
   per traced call (what the Trainer uses) against one batch per call, interleaved epochs.
3. Fused seeds: seed-examples per second of that network, 3 seeds one at a time against
   fused into one model, with and without XLA, with utilisation (see `benchmarks/fused.py`).
4. Input pipeline: examples per second that the `digits` tf.data pipeline delivers alone,
   against examples per second the recipe network consumes in training; above 1 the input
   is not the bottleneck.
5. Utilisation: the FLOP/s achieved by that network's training step (3x the forward FLOPs
   per example, the usual estimate for forward + backward) against the machine's float32
   matrix-multiply peak, measured in this run.
6. Time to 98% test accuracy on digits with the recipes' default network (the small
   ConvNet, Adam, batch 32), epoch by epoch, in seconds of training.
Only ratios measured in the same run are compared; absolute times depend on the machine.
"""

import statistics
import time

import click
import keras

from benchmarks import fused as fused_benchmark
from benchmarks import layers as layer_benchmark
from benchmarks import optimizers as optimizer_benchmark
from benchmarks.timing import blocks_option
from benchmarks.timing import compare_step_times
from benchmarks.timing import matmul_peak
from benchmarks.timing import print_ratios
from benchmarks.timing import time_epochs
from cookbook.data import load_dataset
from cookbook.harness.trainer import STEPS_PER_EXECUTION
from cookbook.models import count_flops
from cookbook.models import small_convnet
from cookbook.results import environment
from cookbook.results import write_json_atomic

TARGET_TEST_ACCURACY = 0.98
MAX_EPOCHS = 60
EPOCHS_PER_BLOCK = 4  # an epoch of the small ConvNet is ~0.1 s: too short to time alone


def recipe_network(data, steps_per_execution=1):
    keras.utils.set_random_seed(0)
    model = small_convnet(data.facts.input_shape, data.facts.num_classes)
    model.compile(
        "adam", "sparse_categorical_crossentropy", metrics=["accuracy"], steps_per_execution=steps_per_execution
    )
    return model


def batched_steps(data, blocks):
    """Step time with the Trainer's batches per call against one per call (both warmed up)."""
    pair = []
    for steps in (STEPS_PER_EXECUTION, 1):
        model = recipe_network(data, steps)
        model.fit(data.train, epochs=1, verbose=0)  # trace once
        pair.append(model)
    name = f"{STEPS_PER_EXECUTION} / 1 batches per call"
    return compare_step_times({name: tuple(pair)}, data.train, blocks, epochs_per_block=EPOCHS_PER_BLOCK)


def pipeline_throughput(data, repeats):
    """Examples per second: the input pipeline alone, and the training step consuming it."""
    examples = data.facts.split_sizes["train"]
    reading = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in data.train:
            pass
        reading.append(examples / (time.perf_counter() - started))
    model = recipe_network(data)
    model.fit(data.train, epochs=1, verbose=0)  # trace once
    steps = int(data.train.cardinality())
    training = [examples / (time_epochs(model, data.train, epochs=1) * steps) for _ in range(repeats)]
    delivered, consumed = statistics.median(reading), statistics.median(training)
    return {
        "pipeline_examples_per_second": delivered,
        "training_examples_per_second": consumed,
        "pipeline_over_training": delivered / consumed,
    }, model


def utilisation(model, throughput, peak):
    forward = count_flops(model)
    achieved = 3 * forward * throughput["training_examples_per_second"]
    return {
        "forward_flops_per_example": forward,
        "achieved_flops_per_second": achieved,
        "matmul_peak_flops_per_second": peak,
        "utilisation": achieved / peak,
    }


def time_to_accuracy(data):
    """Training seconds and epochs until the test accuracy first reaches the target."""
    model = recipe_network(data)
    trained = 0.0
    for epoch in range(1, MAX_EPOCHS + 1):
        started = time.perf_counter()
        model.fit(data.train, epochs=1, verbose=0)
        trained += time.perf_counter() - started
        accuracy = model.evaluate(data.test, verbose=0)[1]
        if accuracy >= TARGET_TEST_ACCURACY:
            return {
                "target": TARGET_TEST_ACCURACY,
                "reached": True,
                "epochs": epoch,
                "seconds": trained,
                "test_accuracy": accuracy,
            }
    return {
        "target": TARGET_TEST_ACCURACY,
        "reached": False,
        "epochs": MAX_EPOCHS,
        "seconds": trained,
        "test_accuracy": accuracy,
    }


@click.command()
@blocks_option("Epochs per model in the step-time ratios, alternating with its twin (at least 10).")
@click.option(
    "--repeats",
    type=click.IntRange(min=5),
    default=5,
    show_default=True,
    help="Medians of this many runs for throughput and peak (at least 5).",
)
@click.option("--data-dir", type=click.Path(file_okay=False), help="TFDS data folder.")
@click.option("--out", type=click.Path(dir_okay=False), default="benchmarks/results.json", show_default=True)
def main(blocks, repeats, data_dir, out):
    """Run every benchmark side by side and write the numbers to OUT."""
    data = load_dataset("digits", batch_size=32, seed=0, data_dir=data_dir)
    layers = layer_benchmark.measure(blocks)
    print(f"Explicit layer / built-in (32x32x3 CNN, batch 64, {blocks} interleaved epochs each):")
    print_ratios(layers, "explicit", "built-in")
    optimizers = optimizer_benchmark.measure(data, blocks)
    print(f"\nFrom-scratch optimizer / built-in (small ConvNet on digits, batch 32, {blocks} interleaved epochs each):")
    print_ratios(optimizers, "ours", "built-in")
    batching = batched_steps(data, blocks)
    print(f"\nBatched steps (small ConvNet on digits, batch 32, {blocks} interleaved blocks each):")
    print_ratios(batching, "batched", "one per call")
    throughput, model = pipeline_throughput(data, repeats)
    print(
        f"\nInput pipeline: {throughput['pipeline_examples_per_second']:,.0f} examples/s delivered, "
        f"{throughput['training_examples_per_second']:,.0f} consumed by training: "
        f"{throughput['pipeline_over_training']:.1f}x headroom"
    )
    peak = matmul_peak(repeats)
    usage = utilisation(model, throughput, peak)
    print(
        f"Training step: {usage['achieved_flops_per_second'] / 1e9:.2f} GFLOP/s achieved vs "
        f"{usage['matmul_peak_flops_per_second'] / 1e9:.1f} GFLOP/s matmul peak: "
        f"{usage['utilisation']:.1%} utilisation"
    )
    fused = fused_benchmark.measure(max(5, blocks // 3), seeds=3, data_dir=data_dir)
    print()
    fused_benchmark.print_fused(fused, peak)
    accuracy = time_to_accuracy(data)
    reached = "reached" if accuracy["reached"] else "not reached"
    print(
        f"Time to {accuracy['target']:.0%} test accuracy: {reached} after {accuracy['epochs']} epochs, "
        f"{accuracy['seconds']:.1f} s of training (test accuracy {accuracy['test_accuracy']:.3f})"
    )
    write_json_atomic(
        out,
        {
            "date": time.strftime("%Y-%m-%d"),
            "blocks": blocks,
            "repeats": repeats,
            "layers": layers,
            "optimizers": optimizers,
            "batched_steps": batching,
            "fused_seeds": fused,
            "input_pipeline": throughput,
            "utilisation": usage,
            "time_to_accuracy": accuracy,
            "environment": environment(),
        },
    )
    print(f"\nWrote {out}")


if __name__ == "__main__":
    main()
