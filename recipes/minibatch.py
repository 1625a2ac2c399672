"""
Title: Mini-batch gradient descent against full-batch gradient descent
Claim: Mini-batch gradient descent costs far less per update than full-batch gradient descent
    and reaches about the same result, sometimes better.
Anchor: Keskar et al. 2017: small batches generalize at least as well as large ones.
Measures: the same small ConvNet trained with fixed-rate gradient descent, each batch size at
    its own learning rate tuned on validation, at batch sizes 1, 8, 32, 128 and the whole
    training split (full batch), for the same number of epochs (equal compute: every variant
    sees every example equally often), and at a large batch of a tenth of the training split
    for as many updates as batch 32 makes: training loss against epochs, updates and wall
    time; seconds per update; test accuracy.
Regime: the mini-batch size, each against the full batch (cost per update) and the large batch
    (test error no worse by more than half a point). Keskar et al. 2017 (Table 1, Fig. 2)
    compared small batches of 256 against large ones of 10% of the data, so the headline
    verdict is read at batch size 32, the recipes' default and the small-batch side of that
    comparison.
Time on CPU: about 3.0 minutes in the default tour (two recipes at a time on 2 cores); `--quick`
    about 5 seconds.
"""

"""
## Introduction

Batch gradient descent computes the gradient on all the training data before each update:
exact, but one update costs a full pass. Stochastic (batch size 1) and mini-batch gradient
descent estimate the gradient from a part of the data: each update is cheap and noisy, and
one pass over the data makes many updates. This recipe asks what an equal amount of
computation (the same epochs) buys at each batch size. The learning rate is a *nuisance*
hyperparameter here: a larger batch's gradient is less noisy and takes a larger step, so each
batch size trains at its own rate, chosen on the validation split (`TUNING`) with a seed none
of the decisive runs uses.
"""

"""
## Setup
"""

from cookbook.cli import start_script

start_script(__name__)  # as a script: options checked, TensorFlow loaded quietly, before Keras

import dataclasses
import math
import sys

import numpy as np

from cookbook import optimizers
from cookbook.analysis import Conclusion
from cookbook.analysis import Regime
from cookbook.analysis import listing
from cookbook.harness.tuning import Tuning
from cookbook.models import small_convnet
from cookbook.statistics import AFFORDABLE_SEEDS
from cookbook.statistics import Effect
from cookbook.statistics import lower
from cookbook.statistics import no_higher
from cookbook.statistics import summarize

TOUR_POSITION = 4
# Its verdict times each update; fused seeds (--fused-seeds) would share one another's step time.
ONE_SEED_AT_A_TIME = "it times each update, and fused seeds would share one another's step time"
QUICK = {"epochs": 1, "seeds": 1}
LARGE = "large"  # a batch of LARGE_FRACTION of the training split, Keskar et al.'s large batch
LARGE_FRACTION = 0.10
VARIANTS = {"batch_1": 1, "batch_8": 8, "batch_32": 32, "batch_128": 128, "large_batch": LARGE, "full_batch": None}
MINI_BATCH = "batch_32"  # the variant the headline verdict weighs against the full and large batches
# "About the same result" allows half a point of test accuracy, below the generalization gaps
# Keskar et al. report between small and large batches (Table 2: 0.3 to 5 points).
TEST_ERROR_MARGIN = 0.005
# The smallest effect that matters for "test error no worse than a large batch's", declared from the
# anchor before the tour ran, and the spread of its per-seed effect on digits (a 5-seed pilot
# tour) set the default seed count (`cookbook.statistics.Effect`); result.json records the power.
EFFECT = Effect(
    size=0.01,
    spread=0.095,
    threshold=-TEST_ERROR_MARGIN,
    reason=(
        "Keskar et al. 2017 (Table 2): small batches' test error 0.3 to 5 points below large "
        "batches'; one point, against the half-point margin"
    ),
)
DEFAULTS = {"epochs": 8, "batch_size": 32, "seeds": EFFECT.affordable_seeds(AFFORDABLE_SEEDS)}
# Declared before any tuned run: the best rate grows with the batch size (Shallue et al. 2019;
# Goyal et al. 2017's linear rule), so each batch size trains at its own, from a half-decade
# grid around 0.05 (the rate every size shared before), chosen on validation accuracy.
TUNING = Tuning(
    {"learning_rate": (0.01, 0.03, 0.1, 0.3)},
    lambda record: record["final_val_accuracy"],
    "validation accuracy after training",
    quick_space={"learning_rate": (0.05,)},
)

"""
## Train at one batch size with one seed

`--batch-size` does not apply here: the batch size is what the recipe varies. (Under a
distribution strategy with several replicas, each needs an example per step: the harness
makes batch size 1 one example per replica, and the full batch a multiple of the replicas.)
"""


def train(run):
    examples = run.data.facts.split_sizes["train"]
    batch_size, epochs = run.spec, run.epochs
    if run.spec == LARGE:
        # As many updates as the mini-batch gets in its epochs: a large batch trained as long
        # in epochs makes a few times fewer updates and would lose for want of them.
        batch_size = max(1, round(LARGE_FRACTION * examples))
        epochs = max(
            1, round(run.epochs * math.ceil(examples / VARIANTS[MINI_BATCH]) / math.ceil(examples / batch_size))
        )
    data = run.dataset(batch_size=batch_size)
    model = small_convnet(data.facts.input_shape, data.facts.num_classes)
    model.compile(
        optimizers.GradientDescent(run.nuisance["learning_rate"]),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = run.fit(model, data, epochs=epochs)["history"]
    if run.is_trial:  # a tuning trial reads validation only: test numbers exist for the chosen rate alone
        return {"final_val_accuracy": history["val_accuracy"][-1]}
    test_loss, test_accuracy = run.evaluate(model, data.test)
    updates_per_epoch = int(data.train.cardinality())
    # The first epoch includes tracing and compiling: leave it out of the cost per update.
    seconds_per_epoch = float(np.mean(history["train_seconds"][1:] or history["train_seconds"]))
    return {
        "batch_size": batch_size or examples,
        "epochs": epochs,
        "updates_per_epoch": updates_per_epoch,
        "seconds_per_update": seconds_per_epoch / updates_per_epoch,
        "seconds_per_epoch": seconds_per_epoch,
        "final_train_loss": history["loss"][-1],
        "test_accuracy": test_accuracy,
        "test_loss": test_loss,
    }


"""
## Verdict

Two parts for each mini-batch size, with 90% intervals over the paired seeds: an update costs
less time than a full-batch update, and the test error is no worse, within
`TEST_ERROR_MARGIN` ("about the same result, sometimes better"), than that of a large batch
(a tenth of the training split, as Keskar et al.'s large batches were) trained for as many
updates as batch size 32 makes. The full batch itself makes one update an epoch and would lose
for want of updates, not of generalization: a comparison it cannot win shows nothing. The
headline is batch size 32. The plots show the training loss against epochs, updates and wall
time.
"""


def conclude(results):
    draw_plots(results)
    cost = results.column("seconds_per_update")
    cost_ratio = np.mean(cost["full_batch"]) / np.mean(cost[MINI_BATCH])
    accuracy = results.summaries("test_accuracy")
    large = results.first("batch_size")["large_batch"], results.first("epochs")["large_batch"]
    return dataclasses.replace(
        judge(results),
        evidence=(
            f"A full-batch update took {cost_ratio:.0f}x as long as a batch-32 update "
            f"({np.mean(cost['full_batch']) * 1e3:.1f} ms against {np.mean(cost[MINI_BATCH]) * 1e3:.2f} ms). "
            f"Test accuracy after {results.epochs} epochs (the large batch of {large[0]}: {large[1]} epochs): "
            f"{listing(accuracy)}."
        ),
        measurements={
            "full_batch_to_minibatch_cost_ratio": cost_ratio,
            "seconds_per_update": {name: summarize(values) for name, values in cost.items()},
            "test_accuracy": accuracy,
        },
    )


def judge(results):
    """The claim's parts at every mini-batch size: the verdict logic alone, from the records."""
    cost = results.column("seconds_per_update")
    error = results.column(lambda record: 1 - record["test_accuracy"])
    points = {
        name: {
            "cheaper per update": lower(cost[name], cost["full_batch"], unit="s"),
            "test error no worse than a large batch's": no_higher(
                error[name], error["large_batch"], margin=TEST_ERROR_MARGIN
            ),
        }
        for name in results.variants
        if name not in ("full_batch", "large_batch")
    }
    return Conclusion(
        regime=Regime(
            "mini-batch size, against the full batch (cost) and a large batch (test error)",
            points,
            anchor=MINI_BATCH,
            paper="Keskar et al. 2017",
        )
    )


def draw_plots(results):
    options = {"ylabel": "training loss", "log_y": True}
    results.plot_metric("loss", "loss_by_epoch", title="Training loss against epochs (equal compute)", **options)
    updates = results.first("updates_per_epoch")
    results.plot_metric(
        "loss",
        "loss_by_update",
        xlabel="updates",
        log_x=True,
        title="Training loss against the number of updates",
        x_values={
            name: updates[name] * np.arange(1, len(curves[0]) + 1) for name, curves in results.histories("loss").items()
        },
        **options,
    )
    results.plot_metric(
        "loss",
        "loss_by_time",
        xlabel="seconds of training (mean over seeds)",
        title="Training loss against wall time",
        x_values={
            name: np.cumsum(np.mean(curves, axis=0)) for name, curves in results.histories("train_seconds").items()
        },
        **options,
    )


"""
## Conclusion

What this run measured on `digits` (defaults: 5 seeds, each batch size at the learning rate its
own search chose, TensorFlow 2.21, 2 CPU cores): the cost part holds at every mini-batch size
(a full-batch update cost 16x a batch-32 one), and the "about the same result" part does not
hold at the headline's batch 32. Tuned, the rates grew with the batch as Shallue et al. 2019
and Goyal et al. 2017 describe (0.03 at batch 1, 0.1 at 8, 0.3, the top of the grid, from 32
up), and the old failures at one shared rate went: batch 32 reached 0.951 ± 0.014 test accuracy
(at 0.05 the last tour had it at 0.854 ± 0.087). But the large batch of a tenth of the split
(108 images, trained 27 epochs so as to make as many updates as batch 32 makes in 8) reached
0.965 ± 0.006, 0.8 points ahead of batch 32 (interval 0.6 to 4.2, beyond the half-point
margin), and 11.7 points ahead of batch 128 (which makes a quarter of batch 32's updates in the
same epochs). Batch 8 tied with it (0.966) and batch 1 was inconclusive. So on this data the
small batches' advantage Keskar et al. 2017 report does not appear: with 1,077 training images
a "large" batch of 108 is small in absolute terms, far from the sharp-minima regime of their
10%-of-CIFAR batches of thousands, and given as many updates it generalizes as well or better.
The several rates chosen at the top of the grid mean the larger batches may do better still
above 0.3.
"""

if __name__ == "__main__":
    from cookbook.cli import run_this_recipe

    run_this_recipe(sys.modules[__name__])
