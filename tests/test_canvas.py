"""Images placed at random positions on a larger canvas (`cookbook.data.on_canvas`)."""

import numpy as np
import pytest

from cookbook.data import on_canvas
from cookbook.data.loading import open_dataset
from cookbook.errors import CookbookError


@pytest.fixture(scope="module")
def source(data_dir):
    return open_dataset("digits", data_dir=data_dir)


def arrays(source, split="test", seed=0):
    data = source.batched(64, seed)
    return data.arrays(split)


@pytest.mark.parametrize("factor", [2, 3])
def test_every_image_is_kept_whole_somewhere_on_a_zero_canvas(source, factor):
    images, labels = arrays(source)
    placed_images, placed_labels = arrays(on_canvas(source, factor))
    height, width = images.shape[1:3]
    assert placed_images.shape == (len(images), height * factor, width * factor, images.shape[3])
    assert on_canvas(source, factor).facts.input_shape == placed_images.shape[1:]
    assert np.array_equal(placed_labels, labels)
    positions = set()
    for image, placed in zip(images, placed_images):
        # the image's own pixels, unchanged, in one window; zeros everywhere else
        top, left = next(
            (row, column)
            for row in range(height * (factor - 1) + 1)
            for column in range(width * (factor - 1) + 1)
            if np.array_equal(placed[row : row + height, column : column + width], image)
        )
        rest = placed.copy()
        rest[top : top + height, left : left + width] = 0
        assert not rest.any()
        positions.add((top, left))
    assert len(positions) > (height * (factor - 1) + 1) ** 2 // 2  # positions spread over the room


def test_an_example_keeps_its_position_for_every_seed_and_epoch(source):
    placed = on_canvas(source, 2)
    first, _ = arrays(placed, "test", seed=0)
    assert np.array_equal(first, arrays(placed, "test", seed=5)[0])
    assert np.array_equal(first, arrays(on_canvas(source, 2), "test", seed=0)[0])

    def as_set(images):  # the training split is shuffled: compare its images as a set
        return sorted(image.tobytes() for image in images)

    train = placed.batched(64, 0).train
    epochs = [np.concatenate([images for images, _ in train.as_numpy_iterator()]) for _ in range(2)]
    assert not np.array_equal(epochs[0], epochs[1])  # another order each epoch
    assert as_set(epochs[0]) == as_set(epochs[1]) == as_set(placed.batched(64, 3).arrays("train")[0])


def test_a_factor_of_one_is_the_source_and_a_bad_factor_is_refused(source):
    assert on_canvas(source, 1) is source
    for bad in (0, 1.5, "2", True):
        with pytest.raises(CookbookError, match="canvas factor"):
            on_canvas(source, bad)
