"""
Title: Convolution: local receptive fields and shared weights
Claim: A CNN needs far fewer weights than an MLP and classifies images better.
Anchor: LeCun et al. 1998: LeNet-5 reached state-of-the-art digit recognition with about 60k
    parameters.
Measures: a small ConvNet against an MLP with as many weights and an MLP with about 20 times as
    many, over the same seeds: parameters and test accuracy side by side; and the feature maps
    of successive layers for one test digit, as a picture.
Time on CPU: about 30 seconds on 2 cores at default settings; `--quick` about 10 seconds.
"""

"""
## Introduction

A dense layer connects every pixel to every unit: its weights grow with the image and it has
to learn the same stroke detector again at each position. A convolution looks at a small
window (its receptive field) and slides the same few weights over the whole image. This recipe
puts numbers on that: how many weights each network needs and how well it classifies, and
pictures what the convolution layers respond to.
"""

"""
## Setup
"""

import sys

import keras
import numpy as np

from cookbook.analysis import Conclusion
from cookbook.analysis import listing
from cookbook.models import small_convnet
from cookbook.plots import plot_feature_maps
from cookbook.statistics import at_most
from cookbook.statistics import compare

TOUR_POSITION = 1
DEFAULTS = {"epochs": 10, "batch_size": 32, "seeds": 3}
QUICK = {"epochs": 2, "seeds": 1}
VARIANTS = ("cnn", "mlp_same_weights", "mlp_large")

LARGE_MLP_UNITS = 512  # two hidden layers: about 20x the ConvNet's weights on digits

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


def build(variant, facts):
    if variant == "cnn":
        model = build_cnn(facts)
    elif variant == "mlp_same_weights":
        model = build_mlp(facts, [mlp_units_matching(facts, build_cnn(facts).count_params())])
    else:
        model = build_mlp(facts, [LARGE_MLP_UNITS, LARGE_MLP_UNITS])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


"""
## Train one network with one seed
"""


def train(run):
    model = build(run.variant, run.data.facts)
    run.fit(model)
    if run.variant == "cnn" and run.is_first_seed:
        draw_feature_maps(model, run.data, run.plot_path("feature_maps"))
    return {"parameters": model.count_params(), "test_accuracy": run.evaluate(model, run.data.test)[1]}


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

Two parts, against the seed-to-seed spread: the ConvNet's test error is lower than that of
the MLP with as many weights ("classifies better"), and no higher than that of the MLP with
about 20 times its weights ("far fewer weights" for the same result).
"""


def conclude(results):
    error = results.column(lambda record: 1 - record["test_accuracy"])
    parameters = results.first("parameters")
    accuracy = results.summaries("test_accuracy")
    return Conclusion(
        parts={
            "more accurate than an MLP with as many weights": compare(error["cnn"], error["mlp_same_weights"]),
            "as accurate as an MLP with far more weights": at_most(error["cnn"], error["mlp_large"]),
        },
        evidence=(
            "Test accuracy: "
            + listing(accuracy)
            + ". Weights: "
            + ", ".join(f"{name} {count:,}" for name, count in parameters.items())
            + f" (the large MLP has {parameters['mlp_large'] / parameters['cnn']:.0f}x the ConvNet's)."
        ),
        measurements={"parameters": parameters, "test_accuracy": accuracy},
        shows={"test error": error},
    )


"""
## Conclusion

LeNet-5 needed about 60k weights for 32x32 digits; on 8x8 digits a ConvNet of a few thousand
does the job. The images are tiny, so an MLP's disadvantage is smaller here than on larger
images, where a dense layer's weights grow with the number of pixels and a convolution's do
not.
"""

if __name__ == "__main__":
    from cookbook.cli import run_this_recipe

    run_this_recipe(sys.modules[__name__])
