"""Images placed at random positions on a larger canvas: where the object sits becomes
something a network must cope with (translated MNIST, as in Jaderberg et al. 2015)."""

import dataclasses

import tensorflow as tf

from cookbook.errors import CookbookError

CANVAS_SEED = 1998  # where each image sits: the same for every run, so comparisons pair


def on_canvas(source, factor, seed=CANVAS_SEED):
    """`source` (a `cookbook.data.loading.DataSource`) with every image placed on a zero canvas
    `factor` times its height and width, at a position drawn uniformly for each example.

    The position depends only on the seed, the split and the example's place in it, so every
    variant and seed of a recipe sees the same images, epoch after epoch. `factor` 1 is the
    source itself.
    """
    if not isinstance(factor, int) or isinstance(factor, bool) or factor < 1:
        raise CookbookError(f"A canvas factor must be a whole number >= 1, got {factor!r}.")
    if factor == 1:
        return source
    height, width, channels = source.description["input_shape"]
    size = (height * factor, width * factor)
    splits = {}
    for split_index, (split, (ds, count)) in enumerate(sorted(source.splits.items())):
        place = _placer((height, width), size, (seed, split_index))
        splits[split] = (ds.enumerate().map(place, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True), count)
    description = {**source.description, "input_shape": (*size, channels)}
    return dataclasses.replace(source, splits=splits, description=description)


def _placer(image_size, canvas_size, seed):
    room = [canvas_size[0] - image_size[0] + 1, canvas_size[1] - image_size[1] + 1]

    def place(index, example):
        image, label = example
        draw = tf.random.stateless_uniform([2], seed=tf.stack([tf.constant(seed[0], tf.int64) * 8 + seed[1], index]))
        top = tf.cast(draw[0] * room[0], tf.int32)
        left = tf.cast(draw[1] * room[1], tf.int32)
        return tf.image.pad_to_bounding_box(image, top, left, *canvas_size), label

    return place
