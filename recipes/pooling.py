"""
Title: Max pooling, average pooling, or a strided convolution
Claim: Pooling halves the resolution and cuts computation while keeping the salient signal; max
    pooling beats average pooling, and a strided convolution can replace pooling with no loss in
    accuracy.
Anchor: Scherer et al. 2010: max pooling beat average subsampling. Springenberg et al. 2015
    ("all convolutional net"): strided convolutions replaced max pooling with no loss in accuracy.
Measures: the same small ConvNet with max pooling, average pooling, strided convolutions, and no
    downsampling at all (each built from `cookbook.layers`), over the same seeds: test accuracy,
    parameters and FLOPs; plus a real 224x224 photo pooled to 112x112 both ways.
Time on CPU: about 1.1 minutes on 2 cores at default settings; `--quick` about 10 seconds.
"""

"""
## Introduction

Pooling replaces each 2x2 neighbourhood of a feature map by one number, its maximum or its
mean, halving height and width (224x224 becomes 112x112) and quartering the work of every
layer after it. Max pooling keeps the strongest response, average pooling smooths. The "all
convolutional net" drops pooling and lets a convolution with stride 2 learn its own
downsampling. This recipe trains the four versions of one network and counts what each costs.
"""

"""
## Setup
"""

import sys

from cookbook.analysis import Conclusion
from cookbook.analysis import listing
from cookbook.images import sample_photo
from cookbook.layers import AveragePooling2D
from cookbook.layers import MaxPooling2D
from cookbook.models import count_flops
from cookbook.models import small_convnet
from cookbook.plots import plot_images
from cookbook.statistics import DOES_NOT_HOLD
from cookbook.statistics import HOLDS
from cookbook.statistics import at_most
from cookbook.statistics import compare

TOUR_POSITION = 2
DEFAULTS = {"epochs": 15, "batch_size": 32, "seeds": 3}
QUICK = {"epochs": 2, "seeds": 1}
VARIANTS = {
    "max_pooling": "max",
    "average_pooling": "average",
    "strided_convolution": "strided",
    "no_downsampling": None,
}

"""
## Train one variant with one seed
"""


def train(run):
    facts = run.data.facts
    model = small_convnet(facts.input_shape, facts.num_classes, downsampling=run.spec)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    run.fit(model)
    test_loss, test_accuracy = run.evaluate(model, run.data.test)
    return {
        "parameters": model.count_params(),
        "flops": count_flops(model),
        "test_accuracy": test_accuracy,
        "test_loss": test_loss,
    }


"""
## A photo pooled from 224x224 to 112x112

The same layers the networks use, applied to a real photograph.
"""


def pool_photo(path):
    photo = sample_photo(224)
    pooled = {"max": MaxPooling2D(2)(photo).numpy(), "average": AveragePooling2D(2)(photo).numpy()}
    plot_images(
        {
            "original, 224x224": photo[0],
            "max pooled, 112x112": pooled["max"][0],
            "average pooled, 112x112": pooled["average"][0],
            "max - average (x4)": 0.5 + 4 * (pooled["max"][0] - pooled["average"][0]),
        },
        path,
        title="2x2 pooling keeps the picture at a quarter of the pixels",
    )
    return {"input_shape": photo.shape[1:], "pooled_shape": pooled["max"].shape[1:]}


"""
## Verdict

Three parts. Computation: max pooling needs fewer FLOPs than the same network without
downsampling (a count, with no seed-to-seed spread). Max against average: max pooling's test
error is lower by more than the spread (Scherer et al.). Strided convolution: its test error
is no worse than max pooling's beyond the spread (Springenberg et al.).
"""


def conclude(results):
    photo = pool_photo(results.plot_path("photo_pooled"))
    results.plot_metric(
        "val_accuracy", "validation_accuracy", ylabel="validation accuracy", title="Validation accuracy"
    )
    error = results.column(lambda record: 1 - record["test_accuracy"])
    flops = results.first("flops")
    accuracy = results.summaries("test_accuracy")
    return Conclusion(
        parts={
            "pooling cuts computation": HOLDS if flops["max_pooling"] < flops["no_downsampling"] else DOES_NOT_HOLD,
            "max beats average pooling": compare(error["max_pooling"], error["average_pooling"]),
            "strided convolution no worse than max pooling": at_most(
                error["strided_convolution"], error["max_pooling"]
            ),
        },
        evidence=(
            f"Test accuracy: {listing(accuracy)}. FLOPs per image: "
            + ", ".join(f"{name} {count / 1e3:.0f}k" for name, count in flops.items())
            + f" (max pooling needs {flops['no_downsampling'] / flops['max_pooling']:.1f}x fewer "
            "than no downsampling)."
        ),
        measurements={
            "test_accuracy": accuracy,
            "flops": flops,
            "parameters": results.first("parameters"),
            "photo": photo,
        },
        shows={"test error": error},
    )


"""
## Conclusion

Pooling's saving is arithmetic and certain; its effect on accuracy is an empirical question,
and on 8x8 digits the maps are so small that the variants may differ by less than the noise
between seeds, in which case the verdict says so. The photo shows what "keeps the salient
signal" means: at a quarter of the pixels the scene is intact, max pooling keeps bright edges
a little brighter, average pooling a little softer.
"""

if __name__ == "__main__":
    from cookbook.cli import run_this_recipe

    run_this_recipe(sys.modules[__name__])
