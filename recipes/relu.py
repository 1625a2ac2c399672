"""
Title: ReLU trains faster than sigmoid and tanh
Claim: ReLU trains faster than sigmoid and tanh and avoids the vanishing gradient.
Anchor: Krizhevsky et al. 2012 (AlexNet), Fig. 1: a 4-layer CNN with ReLU reached 25% training
    error on CIFAR-10 six times faster than with tanh. Glorot & Bengio 2010: with sigmoid,
    gradients shrink toward the lower layers.
Measures: the same 8-weight-layer plain CNN trained with each activation (same initialization,
    optimizer and seeds): epochs and seconds to reach 75% training accuracy (AlexNet's 25%
    training error) as ratios against ReLU, training curves, and every layer's gradient norm
    at initialization and after each epoch.
Regime: the training accuracy to reach (50%, 75%, 90%). Krizhevsky et al. 2012 (Fig. 1)
    timed 25% training error, so the headline verdict is read at 75%; a lower target shows
    whether the advantage is there from the start, a higher one whether it lasts.
Time on CPU: about 3.9 minutes in the default tour (two recipes at a time on 2 cores); `--quick`
    about 11 seconds.
"""

"""
## Introduction

An activation function decides how well the error signal travels back through a deep
network. Sigmoid squashes its input into (0, 1); its derivative is at most 0.25 and nearly 0
when the unit saturates, so each layer the gradient crosses shrinks it further, and the
lowest layers barely learn. tanh is centred on 0 and its derivative reaches 1, but it also
saturates. ReLU, `max(0, x)`, passes the gradient unchanged wherever the unit is active.

This recipe trains the same deep plain network three times, changing only the activation,
and measures both halves of the claim: how fast training accuracy rises, and how large the
gradient is at each layer. Nothing else in the network (no batch normalization, no
shortcuts) helps a weak activation along. Initialization is Keras's default (Glorot uniform)
for all three, as AlexNet used one initialization for both of its networks.
"""

"""
## Setup
"""

from cookbook.cli import start_script

start_script(__name__)  # as a script: options checked, TensorFlow loaded quietly, before Keras

import dataclasses
import sys

import keras
import numpy as np

from cookbook.analysis import Conclusion
from cookbook.analysis import Regime
from cookbook.callbacks import GradientNorms
from cookbook.callbacks import WithinEpoch
from cookbook.callbacks import kernel_gradient_norms
from cookbook.callbacks import weight_layers
from cookbook.models import plain_convnet
from cookbook.plots import plot_layer_profiles
from cookbook.statistics import AFFORDABLE_SEEDS
from cookbook.statistics import Effect
from cookbook.statistics import first_reaching
from cookbook.statistics import lower
from cookbook.statistics import summarize

TOUR_POSITION = 3
# The smallest effect that matters for "faster than tanh", declared from the
# anchor before the tour ran, and the spread of its per-seed effect on digits (a 5-seed pilot
# tour) set the default seed count (`cookbook.statistics.Effect`); result.json records the power.
EFFECT = Effect(
    size=1.5,
    spread=0.42,
    resolution=0.5,
    reason=(
        "Krizhevsky et al. 2012 (Fig. 1): ReLU reached 25% training error six times sooner than "
        "tanh; a third of that (half the epochs, about 1.5 of them here) still matters. The "
        "bounds are about half an epoch wide a side"
    ),
)
DEFAULTS = {"epochs": 15, "batch_size": 32, "seeds": EFFECT.affordable_seeds(AFFORDABLE_SEEDS)}
QUICK = {"epochs": 2, "seeds": 1}
VARIANTS = ("relu", "tanh", "sigmoid")
TARGETS = (0.5, 0.75, 0.9)  # training accuracy; AlexNet's Fig. 1 timed 75% (25% error)

TARGET_ACCURACY = 0.75  # AlexNet's Fig. 1 threshold: 25% training error.
CONV_LAYERS = 6  # + one hidden dense layer + the output layer = 8 weight layers.
LEARNING_RATE = 0.01  # AlexNet's learning rate and momentum.
MOMENTUM = 0.9
PROBE_EXAMPLES = 256  # The fixed batch the gradient norms are measured on.

"""
## The network

A plain stack of 3x3 convolutions, a dense layer and a softmax, trained with SGD and momentum.
"""


def build_model(facts, activation):
    model = plain_convnet(facts.input_shape, facts.num_classes, conv_layers=CONV_LAYERS, activation=activation)
    model.compile(
        optimizer=keras.optimizers.SGD(LEARNING_RATE, momentum=MOMENTUM),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


"""
## Train one activation with one seed

The gradient norms are measured on the same fixed batch of validation images for every
activation and seed, so that they are comparable; training accuracy is Keras's running mean
over each epoch, as in AlexNet's figure.
"""


def train(run):
    model = build_model(run.data.facts, run.spec)
    images, labels = next(iter(run.data.validation.unbatch().batch(PROBE_EXAMPLES)))
    initial_norms = kernel_gradient_norms(model, images, labels)
    # WithinEpoch: training accuracy read four times an epoch, so that epochs to the target are
    # known to within a quarter of one.
    history = run.fit(model, callbacks=[GradientNorms(images, labels), WithinEpoch()])["history"]
    test_loss, test_accuracy = run.evaluate(model, run.data.test)
    epochs_to_target = first_reaching(history["accuracy"], TARGET_ACCURACY)
    return {
        "layers": [layer.name for layer in weight_layers(model)],
        "initial_grad_norms": initial_norms,
        # How much of the output layer's gradient reaches the first layer, in decades.
        "log10_first_to_last_grad": float(np.log10(initial_norms[0] / initial_norms[-1])),
        "epochs_to_target": epochs_to_target,
        "seconds_to_target": (float(np.sum(history["epoch_seconds"][:epochs_to_target])) if epochs_to_target else None),
        "final_train_accuracy": history["accuracy"][-1],
        "test_accuracy": test_accuracy,
        "test_loss": test_loss,
    }


"""
## Verdict

The claim has three parts, each decided by a 90% interval over the paired seeds: ReLU reaches
the target in fewer epochs than tanh, and than sigmoid (the regime table repeats this for 50%,
75% and 90% training accuracy: early training against convergence); and less of the gradient
is lost between the output and the first layer with ReLU than with sigmoid. A run that never
reaches the target is known only to need more than the budget, and one that reaches it during
an epoch, to need between that epoch's start and its end (`cookbook.statistics`). The plots
show the training curves and the gradient norm of every layer at initialization and after
training.
"""


def judge(results):
    """ReLU against tanh and sigmoid at every target, and the gradient part: the verdict logic
    alone, from the records."""
    points = {}
    for target in TARGETS:
        to_target = results.crossings("accuracy", target)
        points[f"{target:.0%}"] = {
            f"faster than {name}": lower(to_target["relu"], to_target[name], unit="epochs")
            for name in ("tanh", "sigmoid")
        }
    regime = Regime(
        "training accuracy to reach", points, anchor=f"{TARGET_ACCURACY:.0%}", paper="Krizhevsky et al. 2012, Fig. 1"
    )
    attenuation = results.column("log10_first_to_last_grad")
    return Conclusion(
        parts={
            **regime.parts,
            "less gradient lost than with sigmoid": lower(attenuation["sigmoid"], attenuation["relu"]),
        },
        regime=regime,
    )


def conclude(results):
    draw_plots(results)
    epochs = results.crossings("accuracy", TARGET_ACCURACY)
    attenuation = results.column("log10_first_to_last_grad")
    reaching = results.reaching(epochs, unit=" epochs")
    gradient = {name: summary["mean"] for name, summary in results.summaries("log10_first_to_last_grad").items()}
    judged = judge(results)
    return dataclasses.replace(
        judged,
        evidence=(
            f"Reaching {TARGET_ACCURACY:.0%} training accuracy: "
            + ", ".join(f"{name} {text}" for name, text in reaching.items())
            + f". At initialization the first layer's gradient was 10^{gradient['sigmoid']:.1f} of the output "
            f"layer's with sigmoid, 10^{gradient['tanh']:.1f} with tanh and 10^{gradient['relu']:.1f} with ReLU."
        ),
        measurements={
            "epochs_saved_vs_tanh": judged.parts["faster than tanh"].estimate,
            "epochs_saved_vs_sigmoid": judged.parts["faster than sigmoid"].estimate,
            "target_accuracy": TARGET_ACCURACY,
            "epochs_to_target": {name: summarize(values) for name, values in epochs.items()},
            "log10_first_to_last_grad": {name: summarize(values) for name, values in attenuation.items()},
        },
    )


def draw_plots(results):
    results.plot_metric(
        "accuracy",
        "training_accuracy",
        ylabel="training accuracy",
        hline=TARGET_ACCURACY,
        title=f"Training accuracy (dashed: the {TARGET_ACCURACY:.0%} target)",
    )
    results.plot_metric("loss", "training_loss", ylabel="training loss", title="Training loss")
    layers = results.runs[VARIANTS[0]][0]["layers"]
    results.plot_metric(
        f"grad_norm/{layers[0]}",
        "first_layer_gradient",
        ylabel=f"gradient norm of {layers[0]}",
        title="Gradient reaching the first layer, after each epoch",
        log_y=True,
    )

    def final_norms(record):
        return [record["history"][f"grad_norm/{layer}"][-1] for layer in layers]

    plot_layer_profiles(
        {
            "at initialization": mean_over_seeds(results.column("initial_grad_norms")),
            "after training": mean_over_seeds(results.column(final_norms)),
        },
        layers,
        results.plot_path("gradient_norms_by_layer"),
        ylabel="kernel gradient norm (mean over seeds)",
    )


def mean_over_seeds(column):
    return {name: np.mean(values, axis=0) for name, values in column.items()}


"""
## Conclusion

What this run measured on `digits` (defaults: 5 seeds, TensorFlow 2.21, 2 CPU cores), against
Krizhevsky et al. 2012 (Fig. 1, ReLU six times faster than tanh to 25% training error): it
agrees on sigmoid and disagrees on tanh. Sigmoid never reached 75% training accuracy in 15
epochs, and its first layer got 10^-4.7 of the output layer's gradient at initialization, the
vanishing gradient of Glorot & Bengio 2010 in plain sight, while ReLU and tanh kept it within a
factor of about 3 across all eight layers. But tanh reached 75% within its first epoch (0.9,
read from the training accuracy within each epoch) and ReLU after 3.0: ReLU was slower by a
median 2.1 epochs (90% interval 1.1 to 3.5), and tanh was ahead at every target along the
regime (50%, 75%, 90%), so the claim as a whole does not hold here. AlexNet's gap was measured
with N(0, 0.01) initial weights, where tanh starts small and slow; with Glorot initialization
on 8x8 digits tanh works in its near-linear, zero-centred range. This recipe does not yet sweep
the initial scale or depth (He et al. 2015 found a 30-layer ReLU net untrainable with Glorot
initialization), the conditions under which the paper expects ReLU's advantage.
"""

if __name__ == "__main__":
    from cookbook.cli import run_this_recipe

    run_this_recipe(sys.modules[__name__])
