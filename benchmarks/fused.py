"""Seed-examples per second of the recipes' small ConvNet: seeds one at a time against seeds
fused into one model (`cookbook.harness.fused`), side by side in one process.

    python -m benchmarks.fused [--blocks 12] [--seeds 3]

A "seed-example" is one training example seen by one seed's model: three seeds trained on
an epoch of 1,000 examples are 3,000. Every setup trains `--seeds` seeds on digits
(batch 32); each block runs one epoch of every setup, the order turning each block, and
a setup's epoch time is the lower quartile of its blocks (see `timing.py`). The ratios
come with 90% bootstrap intervals over the blocks. Setups:

- one at a time, 1 batch per call: how the recipes trained before batched steps;
- one at a time, `STEPS_PER_EXECUTION` per call: how the Trainer trains a seed now;
- fused, with and without XLA (`jit_compile`), and one at a time with XLA, for fairness.

XLA's compile time is paid once per architecture before timing starts and is reported
apart, since in a short run it can exceed what it saves.
"""

import click
import keras

from benchmarks.timing import interleaved_epochs
from benchmarks.timing import matmul_peak
from benchmarks.timing import speedup_interval
from benchmarks.timing import step_time
from cookbook.data.loading import open_dataset
from cookbook.harness.fused import fuse
from cookbook.harness.fused import zip_seeds
from cookbook.harness.trainer import STEPS_PER_EXECUTION
from cookbook.models import count_flops
from cookbook.models import small_convnet

BATCH_SIZE = 32
BASELINE = "one at a time, 1 per call"
CURRENT = f"one at a time, {STEPS_PER_EXECUTION} per call"


def seed_network(facts, seed, steps_per_execution, jit, build=small_convnet):
    """`build(input_shape, num_classes)`'s network for `seed`, compiled with Adam."""
    keras.utils.set_random_seed(seed)
    model = build(facts.input_shape, facts.num_classes)
    model.compile(
        "adam",
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
        jit_compile=jit,
    )
    return model


class OneAtATime:
    """Each seed's model trains its epoch in turn."""

    def __init__(self, datasets, steps_per_execution, jit, build=small_convnet):
        self.pairs = [
            (seed_network(data.facts, seed, steps_per_execution, jit, build), data.train)
            for seed, data in enumerate(datasets)
        ]

    def epoch(self):
        for model, train in self.pairs:
            model.fit(train, epochs=1, verbose=0, shuffle=False)


class Fused:
    """The seeds' models train their epoch as one fused model."""

    def __init__(self, datasets, steps_per_execution, jit, build=small_convnet):
        members = [
            seed_network(data.facts, seed, steps_per_execution, jit, build) for seed, data in enumerate(datasets)
        ]
        self.model = fuse(members)
        self.train = zip_seeds([data.train for data in datasets])

    def epoch(self):
        self.model.fit(self.train, epochs=1, verbose=0, shuffle=False)


def setups():
    return {
        BASELINE: (OneAtATime, 1, False),
        CURRENT: (OneAtATime, STEPS_PER_EXECUTION, False),
        f"one at a time, {STEPS_PER_EXECUTION} per call, XLA": (OneAtATime, STEPS_PER_EXECUTION, True),
        f"fused, {STEPS_PER_EXECUTION} per call": (Fused, STEPS_PER_EXECUTION, False),
        f"fused, {STEPS_PER_EXECUTION} per call, XLA": (Fused, STEPS_PER_EXECUTION, True),
    }


def measure(blocks, seeds, data_dir=None):
    """`{setup: {seed_examples_per_second, first_epoch_seconds, ...}}`, ratios against the
    baseline and against today's Trainer, and the forward FLOPs per example."""
    source = open_dataset("digits", data_dir=data_dir)
    datasets = [source.batched(BATCH_SIZE, seed) for seed in range(seeds)]
    seed_examples = seeds * datasets[0].facts.split_sizes["train"]
    trainers = {name: kind(datasets, steps, jit) for name, (kind, steps, jit) in setups().items()}
    first, seconds = interleaved_epochs(trainers, blocks)
    results = {}
    for name, times in seconds.items():
        results[name] = {
            "seed_examples_per_second": seed_examples / step_time(times),
            "epoch_seconds_all_seeds": step_time(times),
            "first_epoch_seconds": first[name],
            "over_baseline": step_time(seconds[BASELINE]) / step_time(times),
            "over_baseline_interval": speedup_interval(times, seconds[BASELINE]),
            "over_current": step_time(seconds[CURRENT]) / step_time(times),
            "over_current_interval": speedup_interval(times, seconds[CURRENT]),
        }
    flops = count_flops(trainers[CURRENT].pairs[0][0])
    return {"seeds": seeds, "blocks": blocks, "forward_flops_per_example": flops, "setups": results}


def print_fused(measured, peak=None):
    flops = measured["forward_flops_per_example"]
    print(
        f"Seeds one at a time vs fused ({measured['seeds']} seeds, small ConvNet on digits, batch {BATCH_SIZE}, "
        f"{measured['blocks']} interleaved blocks):"
    )
    for name, row in measured["setups"].items():
        low, high = row["over_baseline_interval"]
        usage = f", {3 * flops * row['seed_examples_per_second'] / peak:.1%} of matmul peak" if peak else ""
        print(
            f"  {name:<36} {row['seed_examples_per_second']:>9,.0f} seed-examples/s  "
            f"x{row['over_baseline']:.2f} [{low:.2f}, {high:.2f}] vs {BASELINE}, "
            f"x{row['over_current']:.2f} vs {CURRENT}; first epoch {row['first_epoch_seconds']:.1f} s{usage}"
        )


@click.command()
@click.option("--blocks", type=click.IntRange(min=5), default=12, show_default=True, help="Timed epochs per setup.")
@click.option("--seeds", type=click.IntRange(min=2), default=3, show_default=True, help="Seeds trained per setup.")
@click.option("--data-dir", type=click.Path(file_okay=False), help="TFDS data folder.")
def main(blocks, seeds, data_dir):
    """Print seed-examples per second, seeds one at a time against fused."""
    print_fused(measure(blocks, seeds, data_dir), matmul_peak(repeats=5))


if __name__ == "__main__":
    main()
