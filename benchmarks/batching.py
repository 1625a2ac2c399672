"""When batched steps pay: the extra cost of tracing a batched step against the time each step saves.

    python -m benchmarks.batching [--repeats 5]

Keras runs `steps_per_execution` batches per traced call inside a `tf.while_loop` around
the step; the step itself becomes a function nested in that loop. Each later step then
skips a Python round trip, but the first epoch traces the loop and the nested step besides:
in a fit of a few epochs that can cost more than it saves. For the recipes' small ConvNet
and a 14-layer ResNet on digits (batch 32, Adam, validation every epoch), fresh models at
`STEPS_PER_EXECUTION` and at 1 batch per call alternate; per model and setup it measures

- the tracing: the first epoch of a fresh model (its state built first, as the Trainer does)
  less a later epoch of the same model;
- the step time: a later epoch's seconds over its steps (training and validation), the lower
  quartile over the repeats (see `timing.py`);

and prints the break-even, the extra tracing over the time a step saves: the number of steps
(training and validation) a model's graphs must run before batching them pays. The Trainer's
`BATCHING_PAYS_AFTER_STEPS` is set from it. Both costs are Python's, so the ratio moves less
between machines than either time.
"""

import statistics
import time

import click
import keras

from benchmarks.timing import step_time
from cookbook.data.loading import open_dataset
from cookbook.harness.trainer import BATCHING_PAYS_AFTER_STEPS
from cookbook.harness.trainer import STEPS_PER_EXECUTION
from cookbook.harness.trainer import steps_per_epoch
from cookbook.models import resnet_style
from cookbook.models import small_convnet
from cookbook.tracing import build_training_state

BATCH_SIZE = 32
LATER_EPOCHS = 3
NETWORKS = {
    "small ConvNet": lambda facts: small_convnet(facts.input_shape, facts.num_classes),
    "ResNet-14": lambda facts: resnet_style(facts.input_shape, facts.num_classes, depth=14, width=8),
}


def first_and_later(network, data, steps_per_execution):
    """Seconds of a fresh model's first epoch (state built, traced, trained) and of each later epoch."""
    keras.utils.set_random_seed(0)
    model = network(data.facts)
    model.compile(
        "adam", "sparse_categorical_crossentropy", metrics=["accuracy"], steps_per_execution=steps_per_execution
    )
    seconds = []
    started = time.perf_counter()
    build_training_state(model, next(iter(data.validation)))
    for _ in range(1 + LATER_EPOCHS):
        model.fit(data.train, validation_data=data.validation, epochs=1, verbose=0, shuffle=False)
        seconds.append(time.perf_counter() - started)
        started = time.perf_counter()
    return seconds[0], seconds[1:]


def measure(network, data, repeats):
    """`{setup: {"tracing": s, "step": s}}` for batched and single steps, fresh models alternating:
    the median tracing and the lower-quartile step time."""
    steps = steps_per_epoch(data)
    setups = {"batched": STEPS_PER_EXECUTION, "single": 1}
    tracing = {name: [] for name in setups}
    later = {name: [] for name in setups}
    for repeat in range(repeats):
        for name in setups if repeat % 2 == 0 else reversed(list(setups)):
            first, epochs = first_and_later(network, data, setups[name])
            tracing[name].append(first - statistics.median(epochs))
            later[name].extend(epoch / steps for epoch in epochs)
    return {name: {"tracing": statistics.median(tracing[name]), "step": step_time(later[name])} for name in setups}


def break_even(measured):
    """Steps after which batching pays: its extra tracing over the time a step saves (inf if none)."""
    extra = measured["batched"]["tracing"] - measured["single"]["tracing"]
    saved = measured["single"]["step"] - measured["batched"]["step"]
    return max(0.0, extra) / saved if saved > 0 else float("inf")


@click.command()
@click.option("--repeats", default=5, show_default=True, type=click.IntRange(min=1), help="Fresh models per setup.")
def main(repeats):
    """Prints, per network, the extra tracing of batched steps, the time a step saves, and the break-even."""
    data = open_dataset("digits").batched(BATCH_SIZE, seed=0)
    print(
        f"Batched ({STEPS_PER_EXECUTION} per call) against single steps, digits, batch {BATCH_SIZE}, {repeats} repeats:"
    )
    for name, network in NETWORKS.items():
        measured = measure(network, data, repeats)
        batched, single = measured["batched"], measured["single"]
        print(
            f"  {name}: tracing {batched['tracing']:.2f} s batched, {single['tracing']:.2f} s single; "
            f"a step {batched['step'] * 1e3:.2f} ms batched, {single['step'] * 1e3:.2f} ms single; "
            f"batching pays after {break_even(measured):.0f} steps"
        )
    print(f"The Trainer batches a fit's steps when its graphs will run at least {BATCHING_PAYS_AFTER_STEPS}.")


if __name__ == "__main__":
    main()
