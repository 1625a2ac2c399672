"""
Title: Convolution: local receptive fields and shared weights
Claim: A CNN needs far fewer weights than an MLP and classifies images better.
Anchor: LeCun et al. 1998: LeNet-5 reached state-of-the-art digit recognition with about 60k
    parameters.
Measures: a small ConvNet against an MLP with as many weights and a two-layer MLP of 512
    units (20 or more times the ConvNet's weights), each at its own learning rate tuned on
    validation, over the same seeds, with every image placed at a random position on a canvas
    1, 2 and 3 times its side (`--quick`: 1x and 2x): parameters and test accuracy side by
    side; and the feature maps of successive layers for one test image, as a picture.
Regime: the canvas, in multiples of the image's side, the object at a random place on it.
    Weight sharing detects a stroke wherever it is, while a dense layer must learn it at each
    position, so the ConvNet's advantage should grow with the canvas (LeCun et al. 1998;
    translated MNIST, 28x28 digits on 60x60 canvases, widened the gap to fully connected
    nets in Jaderberg et al. 2015, Table 1): the headline verdict is read at 2x, theirs.
Time on CPU: about 5.2 minutes in the default tour (two recipes at a time on 2 cores); `--quick`
    about 9 seconds.
"""

"""
## Introduction

A dense layer connects every pixel to every unit: its weights grow with the image and it has
to learn the same stroke detector again at each position. A convolution looks at a small
window (its receptive field) and slides the same few weights over the whole image. This recipe
puts numbers on that: how many weights each network needs and how well it classifies, and
pictures what the convolution layers respond to.

The advantage is about positions, so the recipe moves the objects: every image (training,
validation and test) sits at a random place on a zero canvas of 1, 2 or 3 times its side
(`cookbook.data.on_canvas`; an example keeps its place in every run). Each network trains
at its own learning rate (`TUNING`, chosen on the validation split): an MLP and a ConvNet do
not share a best rate.
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
from cookbook.analysis import across
from cookbook.analysis import listing
from cookbook.harness.tuning import Tuning
from cookbook.models import small_convnet
from cookbook.plots import plot_feature_maps
from cookbook.statistics import AFFORDABLE_SEEDS
from cookbook.statistics import Effect
from cookbook.statistics import lower
from cookbook.statistics import no_higher

TOUR_POSITION = 1
# The smallest effect that matters for "more accurate than an MLP with as many weights", declared from the
# anchor before the tour ran, and the spread of its per-seed effect on digits (a 5-seed pilot
# tour) set the default seed count (`cookbook.statistics.Effect`); result.json records the power.
EFFECT = Effect(
    size=0.01,
    spread=0.0065,
    reason=(
        "LeCun et al. 1998 (Fig. 9): LeNet's test error was 1.5 to 4 points below the fully "
        "connected nets'; one point of test error is the least a user would act on"
    ),
)
DEFAULTS = {
    "epochs": 10,
    "batch_size": 32,
    "seeds": EFFECT.affordable_seeds(AFFORDABLE_SEEDS),
    "canvas_factors": (1, 2, 3),
}
QUICK = {"epochs": 2, "seeds": 1, "canvas_factors": (1, 2)}  # the plain images and the anchor
VARIANTS = ("cnn", "mlp_same_weights", "mlp_large")
ANCHOR = "2x"  # translated MNIST: 28x28 digits on a 60x60 canvas

# "As accurate" allows half a point of test accuracy: about two of digits' 360 test images,
# and well below the gap between a ConvNet and an MLP that LeCun et al. report on MNIST.
TEST_ERROR_MARGIN = 0.005

LARGE_MLP_UNITS = 512  # two hidden layers: 20x the ConvNet's weights or more
# Declared before any tuned run: a half-decade grid around Adam's default 0.001, the
# objective the claim's own measure read on validation (accuracy after the last epoch).
TUNING = Tuning(
    {"learning_rate": (0.0003, 0.001, 0.003, 0.01)},
    lambda record: record["final_val_accuracy"],
    "validation accuracy after training",
    quick_space={"learning_rate": (0.001,)},
    rungs=3,
)


def conditions(settings):
    """The regime axis: `{"1x": 1, "2x": 2, ...}`, the canvas factors of the settings."""
    return {f"{factor}x": factor for factor in settings["canvas_factors"]}


"""
## The networks
"""


def build_cnn(facts):
    return small_convnet(facts.input_shape, facts.num_classes, name="cnn")


def build_mlp(facts, hidden_layers):
    inputs = keras.Input(facts.input_shape, name="image")
    x = keras.layers.Flatten(name="flatten")(inputs)
    for index, units in enumerate(hidden_layers, start=1):
        x = keras.layers.Dense(units, activation="relu", name=f"dense_{index}")(x)
    outputs = keras.layers.Dense(facts.num_classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name="mlp")


def mlp_units_matching(facts, parameters):
    """The one-hidden-layer width whose MLP has about `parameters` weights."""
    inputs = int(np.prod(facts.input_shape))
    return max(1, round((parameters - facts.num_classes) / (inputs + 1 + facts.num_classes)))


def build(variant, facts, learning_rate):
    if variant == "cnn":
        model = build_cnn(facts)
    elif variant == "mlp_same_weights":
        model = build_mlp(facts, [mlp_units_matching(facts, build_cnn(facts).count_params())])
    else:
        model = build_mlp(facts, [LARGE_MLP_UNITS, LARGE_MLP_UNITS])
    model.compile(keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


"""
## Train one network with one seed
"""


def train(run):
    data = run.dataset(canvas=run.condition_spec)  # every image at its place on the canvas
    model = build(run.variant, data.facts, run.nuisance["learning_rate"])
    history = run.fit(model, data)["history"]
    if run.is_trial:  # a tuning trial reads validation only: test numbers exist for the chosen rate alone
        return {"final_val_accuracy": history["val_accuracy"][-1]}
    if run.variant == "cnn" and run.is_first_seed and run.condition == ANCHOR:
        draw_feature_maps(model, data, run.plot_path("feature_maps"))
    return {
        "input_shape": list(data.facts.input_shape),
        "parameters": model.count_params(),
        "final_val_accuracy": history["val_accuracy"][-1],
        "test_accuracy": run.evaluate(model, data.test)[1],
    }


"""
## What the convolution layers see

The activations after each convolution and pooling layer for the first test image: the first
layer's maps still look like the digit (edges and strokes at each position), the deeper ones
are smaller and respond to combinations of them.
"""


def draw_feature_maps(model, data, path):
    image = next(iter(data.test))[0][:1]
    names = [
        layer.name
        for layer in model.layers
        if layer.name.startswith(("relu_", "max_pool_")) and len(layer.output.shape) == 4
    ]
    probe = keras.Model(model.input, [model.get_layer(name).output for name in names])
    rows = {"input": image[0].numpy()}
    rows.update({name: np.asarray(output[0]) for name, output in zip(names, probe(image))})
    plot_feature_maps(rows, path, title="One test digit through the ConvNet (first 8 channels per layer)")


"""
## Verdict

At each canvas, two parts with 90% intervals over the seeds: the ConvNet's test
error is lower than that of the MLP with as many weights ("classifies better"), and no
higher (within `TEST_ERROR_MARGIN`) than that of the MLP with about 20 times its weights
("far fewer weights" for the same result). The headline is the verdict at 2x.
"""


def judge_at(results):
    error = results.column(lambda record: 1 - record["test_accuracy"])
    return {
        "more accurate than an MLP with as many weights": lower(error["cnn"], error["mlp_same_weights"]),
        "as accurate as an MLP with far more weights": no_higher(
            error["cnn"], error["mlp_large"], margin=TEST_ERROR_MARGIN
        ),
    }


def judge(results):
    """The claim's parts on every canvas: the verdict logic alone, from the records."""
    return Conclusion(
        regime=Regime(
            "canvas (x the image's side)",
            across(results, judge_at),
            anchor=ANCHOR,
            paper="LeCun et al. 1998; Jaderberg et al. 2015, Table 1",
        )
    )


def conclude(results):
    parameters = {canvas: results.at(canvas).first("parameters") for canvas in results.conditions}
    accuracy = {canvas: results.at(canvas).summaries("test_accuracy") for canvas in results.conditions}
    return dataclasses.replace(
        judge(results),
        evidence=(
            "Test accuracy by canvas: "
            + "; ".join(f"{canvas}: {listing(by_variant)}" for canvas, by_variant in accuracy.items())
            + ". Weights: "
            + "; ".join(
                f"{canvas}: " + ", ".join(f"{name} {count:,}" for name, count in counts.items())
                for canvas, counts in parameters.items()
            )
            + "."
        ),
        measurements={"parameters": parameters, "test_accuracy": accuracy},
    )


"""
## Conclusion

What this run measured on `digits` (defaults: 8 seeds, every network at the learning rate its
own search chose on each canvas, TensorFlow 2.21, 2 CPU cores), against LeCun et al. 1998 and
translated MNIST (Jaderberg et al. 2015, Table 1: the gap to fully connected nets widens when
digits move): it agrees, in direction and in place. On the plain 8x8 images (1x) the three
networks were level (0.967, 0.970 and 0.969 test accuracy; both parts inconclusive, intervals
within a point of zero): 64 pixels leave little position to share weights across. Once the
digit sat at a random place on a canvas twice its side, the ConvNet was 28 points more
accurate than the MLP with as many weights (0.833 against 0.556; 90% interval 25 to 30 points)
and 30 points more than the MLP with 10x its weights; at three times the side, 39 and 37 points
(0.668 against 0.290 and 0.294). So the claim holds at the anchor's 2x and beyond, and is
undecided on the plain images (where the last tour, every network at Adam's default rate, had
the large MLP 2.1 points ahead: tuned, they tie). An MLP must learn a stroke at each position
it can appear in, and the canvas multiplies those positions.
"""

if __name__ == "__main__":
    from cookbook.cli import run_this_recipe

    run_this_recipe(sys.modules[__name__])
