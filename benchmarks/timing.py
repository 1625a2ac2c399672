"""Side-by-side timing shared by the benchmarks: interleaved repeats, medians, ratios."""

import statistics
import time


def time_epochs(model, dataset, epochs=3):
    """Seconds per training step over `epochs` epochs of `model.fit` (no validation)."""
    steps = int(dataset.cardinality()) * epochs
    started = time.perf_counter()
    model.fit(dataset, epochs=epochs, verbose=0, shuffle=False)
    return (time.perf_counter() - started) / steps


def compare_step_times(pairs, dataset, repeats):
    """`pairs`: `{name: (ours, reference)}` of compiled, warmed-up models.

    Each repeat times a few epochs of every model, alternating which of a pair goes
    first so that drift in the machine's speed falls on both alike. Returns
    `{name: {"ours": median s/step, "reference": ..., "ratio": ours / reference}}`
    with the per-repeat values.
    """
    times = {name: {"ours": [], "reference": []} for name in pairs}
    for repeat in range(repeats):
        for name, (ours, reference) in pairs.items():
            order = [("ours", ours), ("reference", reference)]
            for label, model in order if repeat % 2 == 0 else reversed(order):
                times[name][label].append(time_epochs(model, dataset))
    return {
        name: {
            "ours": statistics.median(t["ours"]),
            "reference": statistics.median(t["reference"]),
            "ratio": statistics.median(t["ours"]) / statistics.median(t["reference"]),
            "ours_per_repeat": t["ours"],
            "reference_per_repeat": t["reference"],
        }
        for name, t in times.items()
    }


def print_ratios(results, ours_label, reference_label):
    width = max(map(len, results))
    print(f"{'':<{width}}  {ours_label + ' ms/step':>16}  {reference_label + ' ms/step':>18}  ratio")
    for name, r in results.items():
        print(f"{name:<{width}}  {r['ours'] * 1e3:>16.3f}  {r['reference'] * 1e3:>18.3f}  {r['ratio']:.3f}")
