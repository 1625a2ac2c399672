"""
Title: Mini-batch gradient descent against full-batch gradient descent
Claim: Mini-batch gradient descent costs far less per update than full-batch gradient descent and reaches about the same result, sometimes better.
Anchor: Keskar et al. 2017: small batches generalize at least as well as large ones.
Measures: the same small ConvNet trained with fixed-rate gradient descent at batch sizes 1, 8,
    32, 128 and the whole training split (full batch), for the same number of epochs (equal
    compute: every variant sees every example equally often): training loss against epochs,
    updates and wall time; seconds per update; test accuracy after equal compute.
Time on CPU: about 2 minutes on 2 cores at default settings (batch size 1 takes most of it);
    `--quick` about 13 seconds.
"""

"""
## Introduction

Batch gradient descent computes the gradient on all the training data before each update:
exact, but one update costs a full pass. Stochastic (batch size 1) and mini-batch gradient
descent estimate the gradient from a part of the data: each update is cheap and noisy, and
one pass over the data makes many updates. With the learning rate fixed, this recipe asks
what an equal amount of computation (the same epochs) buys at each batch size.
"""

"""
## Setup
"""

import sys

import numpy as np

from cookbook import optimizers
from cookbook.experiment import histories
from cookbook.models import small_convnet
from cookbook.plots import plot_curves
from cookbook.statistics import at_most
from cookbook.statistics import compare
from cookbook.statistics import summarize

CLAIM = (
    "Mini-batch gradient descent costs far less per update than full-batch gradient descent "
    "and reaches about the same result, sometimes better."
)
DEFAULTS = {"epochs": 8, "batch_size": 32, "seeds": 3}
QUICK = {"epochs": 1, "seeds": 1}

BATCH_SIZES = {"batch_1": 1, "batch_8": 8, "batch_32": 32, "batch_128": 128, "full_batch": None}
MINI_BATCH = "batch_32"  # the variant the verdict weighs against the full batch
LEARNING_RATE = 0.05  # the same fixed rate for every batch size

"""
## Train at one batch size with one seed

`--batch-size` does not apply here: the batch size is what the recipe varies.
"""


def train_at(experiment, variant, seed):
    data = experiment.load_data(seed, batch_size=BATCH_SIZES[variant])
    updates_per_epoch = int(data.train.cardinality())
    model = small_convnet(data.facts.input_shape, data.facts.num_classes)
    model.compile(
        optimizers.GradientDescent(LEARNING_RATE),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model = experiment.reuse_traced(model, variant)
    run = experiment.fit(model, data, variant=variant, seed=seed)
    test_loss, test_accuracy = experiment.evaluate(model, data.test)
    # The first epoch includes tracing and compiling: leave it out of the cost per update.
    steady = run["history"]["train_seconds"][1:] or run["history"]["train_seconds"]
    return {
        **run,
        "batch_size": BATCH_SIZES[variant] or data.facts.split_sizes["train"],
        "updates_per_epoch": updates_per_epoch,
        "seconds_per_update": float(np.mean(steady)) / updates_per_epoch,
        "seconds_per_epoch": float(np.mean(steady)),
        "final_train_loss": run["history"]["loss"][-1],
        "test_accuracy": test_accuracy,
        "test_loss": test_loss,
    }


"""
## Run the experiment
"""


def run(experiment):
    runs = experiment.run_variants(list(BATCH_SIZES), lambda variant, seed: train_at(experiment, variant, seed))
    draw_plots(experiment, runs)
    return conclude(experiment, runs)


def draw_plots(experiment, runs):
    losses = histories(runs, "loss")
    plot_curves(
        losses, experiment.plot_path("loss_by_epoch"), ylabel="training loss", log_y=True,
        title="Training loss against epochs (equal compute)",
    )
    plot_curves(
        losses,
        experiment.plot_path("loss_by_update"),
        ylabel="training loss",
        xlabel="updates",
        log_x=True,
        log_y=True,
        title="Training loss against the number of updates",
        x_values={
            name: records[0]["updates_per_epoch"] * np.arange(1, len(losses[name][0]) + 1)
            for name, records in runs.items()
        },
    )
    plot_curves(
        losses,
        experiment.plot_path("loss_by_time"),
        ylabel="training loss",
        xlabel="seconds of training (mean over seeds)",
        log_y=True,
        title="Training loss against wall time",
        x_values={
            name: np.cumsum(np.mean([r["history"]["train_seconds"] for r in records], axis=0))
            for name, records in runs.items()
        },
    )


"""
## Verdict

Two parts, each weighed against the seed-to-seed spread: an update at batch size 32 costs
less time than a full-batch update, and after equal compute the batch-32 test error is no
worse than the full batch's ("about the same result, sometimes better").
"""


def conclude(experiment, runs):
    cost = {name: [r["seconds_per_update"] for r in records] for name, records in runs.items()}
    error = {name: [1 - r["test_accuracy"] for r in records] for name, records in runs.items()}
    parts = {
        "cheaper per update": compare(cost[MINI_BATCH], cost["full_batch"]),
        "test error no worse after equal compute": at_most(error[MINI_BATCH], error["full_batch"]),
    }
    cost_ratio = np.mean(cost["full_batch"]) / np.mean(cost[MINI_BATCH])
    accuracy = {name: summarize([1 - e for e in values]) for name, values in error.items()}
    evidence = (
        f"A full-batch update took {cost_ratio:.0f}x as long as a batch-32 update "
        f"({np.mean(cost['full_batch']) * 1e3:.1f} ms against {np.mean(cost[MINI_BATCH]) * 1e3:.2f} ms). "
        f"Test accuracy after {experiment.epochs} epochs: "
        + ", ".join(
            f"{name} {stats['mean']:.3f} ± {stats['std']:.3f}" for name, stats in accuracy.items()
        )
        + "."
    )
    return experiment.conclude_from_parts(
        parts,
        evidence,
        measurements={
            "full_batch_to_minibatch_cost_ratio": cost_ratio,
            "seconds_per_update": {name: summarize(v) for name, v in cost.items()},
            "test_accuracy": accuracy,
        },
    )


"""
## Conclusion

Per update, the full batch is the most expensive and the most exact; per epoch it makes a
single step, so at equal compute it falls far behind. Batch size 1 makes the most updates per
epoch but pays Keras's per-step overhead and its noise. The wall-time plot shows which batch
size reaches a given loss soonest on your machine.
"""

if __name__ == "__main__":
    from cookbook.cli import run_this_recipe

    run_this_recipe(sys.modules[__name__])
