"""Side-by-side timing shared by the benchmarks: interleaved epochs, a robust step time,
and a ratio with its uncertainty.

The two models of a pair train one epoch at a time, alternating, and which goes first
flips every block, so drift in the machine's speed falls on both alike. This 2-core VM
also has a slow mode: now and then an epoch runs at about half speed (twice the step
time, whichever model it is), hitting a sixth to a third of the epochs at random. A
median over a handful of repeats can land in it for one model and not the other, which
is how earlier runs read ratios from 0.8 to 1.7 for one layer. So each model's step time
is the lower quartile of many epochs (like `timeit`, which keeps the fastest runs
because slower ones measure interference, not the code), and the ratio comes with a
90% bootstrap interval that resamples the blocks in pairs.
"""

import statistics
import time

import numpy as np
import tensorflow as tf

STEP_TIME_QUANTILE = 0.25
INTERVAL = (0.05, 0.95)
BOOTSTRAP_SAMPLES = 2000
MATMUL_SIZE = 1024


def blocks_option(help="Epochs each model trains, alternating with its twin (at least 10)."):
    """The `--blocks` option of the side-by-side step-time benchmarks."""
    import click

    return click.option("--blocks", type=click.IntRange(min=10), default=40, show_default=True, help=help)


def time_epochs(model, dataset, epochs=1):
    """Seconds per training step over `epochs` epochs of `model.fit` (no validation)."""
    steps = int(dataset.cardinality()) * epochs
    started = time.perf_counter()
    model.fit(dataset, epochs=epochs, verbose=0, shuffle=False)
    return (time.perf_counter() - started) / steps


def step_time(seconds):
    return float(np.quantile(seconds, STEP_TIME_QUANTILE))


def ratio_interval(ours, reference, seed=0):
    """A 90% bootstrap interval of step_time(ours) / step_time(reference), resampling
    blocks (each an epoch of both models, back to back) with replacement."""
    ours, reference = np.asarray(ours), np.asarray(reference)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(ours), size=(BOOTSTRAP_SAMPLES, len(ours)))
    ratios = np.quantile(ours[picks], STEP_TIME_QUANTILE, axis=1) / np.quantile(
        reference[picks], STEP_TIME_QUANTILE, axis=1
    )
    low, high = np.quantile(ratios, INTERVAL)
    return float(low), float(high)


def speedup_interval(times, reference):
    """90% interval of reference time / this time (a speed-up: above 1 is faster)."""
    low, high = ratio_interval(times, reference)
    return 1 / high, 1 / low


def interleaved_epochs(trainers, blocks):
    """Times an epoch of every trainer (`{name: object with epoch()}`) `blocks` times, the
    order turning each block; the first epoch of each (tracing, XLA's compile) before the
    blocks and apart. Returns `(first epoch seconds, [seconds per block])`, each by name."""
    first = {}
    for name, trainer in trainers.items():
        started = time.perf_counter()
        trainer.epoch()
        first[name] = time.perf_counter() - started
    seconds = {name: [] for name in trainers}
    names = list(trainers)
    for block in range(blocks):
        for name in names[block % len(names) :] + names[: block % len(names)]:
            started = time.perf_counter()
            trainers[name].epoch()
            seconds[name].append(time.perf_counter() - started)
    return first, seconds


def against_target(interval, target):
    """`meets` when the whole interval is at or under the target, `misses` when it is
    all above, `undecided` when the noise straddles it."""
    low, high = interval
    if high <= target:
        return "meets"
    if low > target:
        return "misses"
    return "undecided"


def compare_step_times(pairs, dataset, blocks, targets=None, epochs_per_block=1):
    """`pairs`: `{name: (ours, reference)}` of compiled, warmed-up models; `targets`:
    `{name: highest acceptable ratio}`. A block is `epochs_per_block` epochs of each model:
    more than one where an epoch is so short that `fit`'s own overhead would blur it.

    Returns `{name: {"ours", "reference" (s/step), "ratio", "interval", "target",
    "verdict", "ours_per_block", "reference_per_block"}}`.
    """
    targets = targets or {}
    times = {name: {"ours": [], "reference": []} for name in pairs}
    for block in range(blocks):
        for name, (ours, reference) in pairs.items():
            order = [("ours", ours), ("reference", reference)]
            for label, model in order if block % 2 == 0 else reversed(order):
                times[name][label].append(time_epochs(model, dataset, epochs_per_block))
    results = {}
    for name, t in times.items():
        ours, reference = step_time(t["ours"]), step_time(t["reference"])
        interval = ratio_interval(t["ours"], t["reference"])
        target = targets.get(name)
        results[name] = {
            "ours": ours,
            "reference": reference,
            "ratio": ours / reference,
            "interval": list(interval),
            "target": target,
            "verdict": None if target is None else against_target(interval, target),
            "ours_per_block": t["ours"],
            "reference_per_block": t["reference"],
        }
    return results


def print_ratios(results, ours_label, reference_label):
    width = max(map(len, results))
    print(
        f"{'':<{width}}  {ours_label + ' ms/step':>16}  {reference_label + ' ms/step':>18}  ratio  90% interval  target"
    )
    for name, r in results.items():
        low, high = r["interval"]
        target = "" if r["target"] is None else f"<= {r['target']:.2f}: {r['verdict']}"
        print(
            f"{name:<{width}}  {r['ours'] * 1e3:>16.3f}  {r['reference'] * 1e3:>18.3f}  "
            f"{r['ratio']:.3f}  {low:.3f}-{high:.3f}   {target}"
        )


def matmul_peak(repeats):
    """float32 FLOP/s of a large matrix product, the best this machine does."""
    a = tf.random.stateless_uniform((MATMUL_SIZE, MATMUL_SIZE), seed=(0, 1))
    b = tf.random.stateless_uniform((MATMUL_SIZE, MATMUL_SIZE), seed=(0, 2))
    product = tf.function(lambda: tf.reduce_sum(tf.linalg.matmul(a, b)))
    product().numpy()
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(10):
            product().numpy()
        rates.append(10 * 2 * MATMUL_SIZE**3 / (time.perf_counter() - started))
    return statistics.median(rates)
