"""Training speed of the recipes' own networks at a real image size (32x32 RGB), today's
Trainer against the faster paths, side by side in one process, and why each is where it is.

    python -m benchmarks.real_sizes [--blocks 8] [--seeds 3] [--examples 1400] [--network NAME ...]

On `digits` (8x8) a tour is bound by tracing and Python; on the images users bring it is
bound by arithmetic. For each network (the small ConvNet of most recipes, depth's plain and
residual 20-layer nets, dropout's MLP), every setup trains `--seeds` seeds on `--examples`
random 32x32x3 images (speed does not depend on the pixels' values) at batch 32, one epoch
of every setup per block, the order turning each block; a setup's epoch time is the lower
quartile of its blocks and each ratio to today's Trainer comes with a 90% bootstrap interval
(`timing.py`). Setups:

- today's Trainer: one seed at a time, batched steps by its rule for a 10-epoch fit;
- the same with XLA (`jit_compile`);
- the seeds fused into one model (`cookbook.harness.fused`), without and with XLA;
- one seed at a time under Keras's `mixed_bfloat16` policy, where the CPU has native bfloat16
  (AVX512-BF16 or AMX): it changes the numbers, so it is a candidate only for recipes that
  allow that.

Utilisation is 3x the forward FLOPs per example (forward and backward) times seed-examples
per second, over the float32 matrix-multiply peak measured in this run. The roofline of each
network (`--roofline`) times every layer alone (forward and backward on a batch of its input
shape, one traced call each), and sets the FLOPs it does against the bytes it must move
(float32 inputs, outputs and weights, read and written forward and backward): a layer with
few FLOPs per byte is bound by memory bandwidth (measured here too), not by the peak; the
sum of the layers' times against the whole step says what the framework adds around them.
First epochs (tracing, XLA's compile) are reported apart: in a short fit they can exceed
what a path saves.
"""

import time
import types

import click
import keras
import numpy as np
import tensorflow as tf

from benchmarks.fused import Fused
from benchmarks.fused import OneAtATime
from benchmarks.timing import interleaved_epochs
from benchmarks.timing import matmul_peak
from benchmarks.timing import speedup_interval
from benchmarks.timing import step_time
from cookbook.cli.registry import load_recipe
from cookbook.harness.trainer import batched_steps
from cookbook.models import count_flops
from cookbook.models import small_convnet
from cookbook.models.flops import layer_flops
from cookbook.models.flops import leaf_layers

IMAGE_SHAPE = (32, 32, 3)
NUM_CLASSES = 10
BATCH_SIZE = 32
PLANNED_EPOCHS = 10  # the recipes' usual fit, for the Trainer's batched-steps rule
TODAY = "today's Trainer"
FLOAT32_BYTES = 4


def _depth_net(kind):
    def build(input_shape, num_classes):
        depth = load_recipe("depth")
        return depth.build(_facts(input_shape, num_classes), kind, 20)

    return build


def _dropout_mlp(input_shape, num_classes):
    return load_recipe("dropout").build_mlp(_facts(input_shape, num_classes), 0.5)


NETWORKS = {
    "small ConvNet": small_convnet,
    "plain 20": _depth_net("plain"),
    "residual 20": _depth_net("resnet"),
    "dropout MLP": _dropout_mlp,
}


def _facts(input_shape, num_classes, examples=0):
    return types.SimpleNamespace(
        input_shape=tuple(input_shape), num_classes=num_classes, split_sizes={"train": examples}
    )


def native_bfloat16(cpuinfo="/proc/cpuinfo"):
    """Whether this CPU does bfloat16 arithmetic in hardware (Linux's CPU flags)."""
    try:
        with open(cpuinfo) as info:
            flags = info.read()
    except OSError:
        return False
    return any(flag in flags.split() for flag in ("avx512_bf16", "amx_bf16"))


class TrainerToday(OneAtATime):
    """One seed at a time, batched steps as the Trainer decides them for a recipe's fit."""

    def __init__(self, datasets, build, jit=False):
        super().__init__(datasets, 1, jit, build)
        planned = PLANNED_EPOCHS * int(datasets[0].train.cardinality())
        for model, _ in self.pairs:
            batched_steps(model, planned)


class MixedBfloat16(TrainerToday):
    """Today's Trainer with every network built under `mixed_bfloat16`."""

    def __init__(self, datasets, build):
        previous = keras.mixed_precision.global_policy()
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        try:
            super().__init__(datasets, build)
        finally:
            keras.mixed_precision.set_global_policy(previous)


def setups(bfloat16=None):
    bfloat16 = native_bfloat16() if bfloat16 is None else bfloat16
    chosen = {
        TODAY: lambda datasets, build: TrainerToday(datasets, build),
        "today's, XLA": lambda datasets, build: TrainerToday(datasets, build, jit=True),
        "fused seeds": lambda datasets, build: _fused(datasets, build, jit=False),
        "fused seeds, XLA": lambda datasets, build: _fused(datasets, build, jit=True),
    }
    if bfloat16:
        chosen["mixed bfloat16"] = MixedBfloat16
    return chosen


def _fused(datasets, build, jit):
    """The seeds fused into one model, with the Trainer's batched-steps rule."""
    fused = Fused(datasets, 1, jit, build)
    batched_steps(fused.model, PLANNED_EPOCHS * int(datasets[0].train.cardinality()))
    return fused


def random_datasets(seeds, examples, image_shape=IMAGE_SHAPE, batch_size=BATCH_SIZE):
    """`seeds` batched training sets of random images, each seed its own order."""
    datasets = []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        images = rng.random((examples, *image_shape), dtype=np.float32)
        labels = rng.integers(0, NUM_CLASSES, examples)
        train = tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch_size).prefetch(tf.data.AUTOTUNE)
        datasets.append(types.SimpleNamespace(facts=_facts(image_shape, NUM_CLASSES, examples), train=train))
    return datasets


def measure(network, build, datasets, blocks, bfloat16=None):
    """`{setup: {seed_examples_per_second, first_epoch_seconds, over_today, over_today_interval}}`
    for one network, and its forward FLOPs per example."""
    seed_examples = len(datasets) * datasets[0].facts.split_sizes["train"]
    trainers = {name: make(datasets, build) for name, make in setups(bfloat16).items()}
    first, seconds = interleaved_epochs(trainers, blocks)
    rows = {}
    for name, times in seconds.items():
        rows[name] = {
            "seed_examples_per_second": seed_examples / step_time(times),
            "first_epoch_seconds": first[name],
            "over_today": step_time(seconds[TODAY]) / step_time(times),
            "over_today_interval": speedup_interval(times, seconds[TODAY]),
        }
    model = trainers[TODAY].pairs[0][0]
    return {"network": network, "forward_flops_per_example": count_flops(model), "setups": rows, "model": model}


def memory_bandwidth(megabytes=256, repeats=5):
    """Bytes per second this machine reads and writes in a large elementwise op."""
    values = tf.random.stateless_uniform((megabytes * 2**20 // FLOAT32_BYTES,), seed=(0, 3))
    scaled = tf.function(lambda: tf.reduce_sum(values * 1.5))  # reads every value once
    scaled().numpy()
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        scaled().numpy()
        rates.append(megabytes * 2**20 / (time.perf_counter() - started))
    return float(np.median(rates))


def _median_call_seconds(function, repeats):
    function().numpy()  # traces
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function().numpy()
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def call_overhead(repeats=50):
    """Seconds of calling a traced function that does next to nothing: part of every layer's
    time alone, and none of it inside the whole model's traced step."""
    one = tf.constant(1.0)
    return _median_call_seconds(tf.function(lambda: one + 1.0), repeats)


def roofline(model, peak, bandwidth, batch_size=BATCH_SIZE, repeats=20):
    """Each layer of `model` timed alone, forward and backward on a random batch of its
    input shape: `[{layer, kind, seconds, flops, bytes, flops_per_byte, achieved (FLOP/s),
    bytes_per_second, bound, of_bound}]`,
    with `bound` the FLOP/s its intensity allows (`min(peak, intensity x bandwidth)`)."""
    rows = []
    for layer in leaf_layers(model):
        if isinstance(layer, keras.layers.InputLayer):
            continue
        inputs = keras.tree.map_structure(
            lambda tensor: tf.random.stateless_uniform((batch_size, *tensor.shape[1:]), seed=(1, 2)), layer.input
        )

        @tf.function
        def step(inputs=inputs, layer=layer):
            with tf.GradientTape() as tape:
                tape.watch(inputs)
                outputs = layer(inputs, training=True)
                total = tf.add_n([tf.reduce_sum(tf.cast(x, tf.float32)) for x in keras.tree.flatten(outputs)])
            gradients = keras.tree.flatten(tape.gradient(total, [inputs, layer.trainable_variables]))
            # One number back: copying the gradients out would time the copy, not the layer.
            return tf.add_n([tf.reduce_sum(g) for g in gradients if g is not None] + [total])

        seconds = _median_call_seconds(step, repeats)
        flops = 3 * batch_size * layer_flops(layer)
        activations = sum(int(np.prod(x.shape[1:])) for x in keras.tree.flatten([layer.input, layer.output]))
        weights = sum(int(np.prod(v.shape)) for v in layer.weights)
        moved = 3 * FLOAT32_BYTES * (batch_size * activations + weights)  # forward, and the two backward products
        intensity = flops / moved
        bound = min(peak, intensity * bandwidth)
        rows.append(
            {
                "layer": layer.name,
                "kind": type(layer).__name__,
                "seconds": seconds,
                "flops": flops,
                "bytes": moved,
                "flops_per_byte": intensity,
                "achieved": flops / seconds,
                "bytes_per_second": moved / seconds,
                "bound": bound,
                "of_bound": flops / seconds / bound if flops else None,
            }
        )
    return rows


def print_network(measured, peak):
    flops = measured["forward_flops_per_example"]
    print(f"{measured['network']} ({flops / 1e6:.2f} MFLOPs forward per example):")
    for name, row in measured["setups"].items():
        low, high = row["over_today_interval"]
        usage = 3 * flops * row["seed_examples_per_second"] / peak
        print(
            f"  {name:<18} {row['seed_examples_per_second']:>9,.0f} seed-examples/s  x{row['over_today']:.2f} "
            f"[{low:.2f}, {high:.2f}] vs {TODAY}; {usage:.1%} of matmul peak; first epoch "
            f"{row['first_epoch_seconds']:.1f} s"
        )


def print_roofline(rows, step_seconds, overhead):
    total = sum(row["seconds"] for row in rows)
    print(
        f"  roofline, each layer alone (batch {BATCH_SIZE}, forward + backward; a call's own overhead "
        f"{overhead * 1e3:.3f} ms is in each):"
    )
    for row in sorted(rows, key=lambda row: -row["seconds"]):
        of_bound = "" if row["of_bound"] is None else f", {row['of_bound']:.0%} of its bound"
        print(
            f"    {row['layer']:<22} {row['kind']:<20} {row['seconds'] * 1e3:>7.3f} ms "
            f"({row['seconds'] / total:>4.0%})  "
            f"{row['flops_per_byte']:>6.1f} FLOP/byte  {row['achieved'] / 1e9:>6.1f} GFLOP/s  "
            f"{row['bytes_per_second'] / 1e9:>5.1f} GB/s{of_bound}"
        )
    alone = total - overhead * len(rows)
    print(
        f"    layers alone add up to {total * 1e3:.2f} ms a batch ({alone * 1e3:.2f} ms less the calls' overhead); "
        f"a step of today's Trainer takes {step_seconds * 1e3:.2f} ms ({step_seconds / alone:.2f}x)"
    )


@click.command()
@click.option("--blocks", type=click.IntRange(min=5), default=8, show_default=True, help="Timed epochs per setup.")
@click.option("--seeds", type=click.IntRange(min=2), default=3, show_default=True, help="Seeds trained per setup.")
@click.option(
    "--examples", type=click.IntRange(min=BATCH_SIZE), default=1400, show_default=True, help="Training images."
)
@click.option(
    "--network",
    "networks",
    type=click.Choice(list(NETWORKS)),
    multiple=True,
    help="Networks to measure (repeat it; default: all).",
)
@click.option("--roofline/--no-roofline", "with_roofline", default=True, show_default=True, help="Time each layer.")
def main(blocks, seeds, examples, networks, with_roofline):
    """Print seed-examples per second at 32x32 RGB: today's Trainer against faster paths."""
    peak, bandwidth = matmul_peak(repeats=5), memory_bandwidth()
    print(
        f"Matmul peak {peak / 1e9:.1f} GFLOP/s (float32), memory bandwidth {bandwidth / 1e9:.1f} GB/s: "
        f"a layer below {peak / bandwidth:.1f} FLOP/byte is bound by memory. Native bfloat16: {native_bfloat16()}."
    )
    datasets, overhead = random_datasets(seeds, examples), call_overhead()
    for network in networks or NETWORKS:
        measured = measure(network, NETWORKS[network], datasets, blocks)
        print_network(measured, peak)
        if with_roofline:
            today = measured["setups"][TODAY]["seed_examples_per_second"]
            print_roofline(roofline(measured["model"], peak, bandwidth), BATCH_SIZE / today, overhead)


if __name__ == "__main__":
    main()
