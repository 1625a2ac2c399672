"""Whole-pixel shifts of test images (`cookbook.data.shifts`)."""

import numpy as np
import pytest

from cookbook.data import random_offsets
from cookbook.data import shift_images


def one_bright_pixel(count=1, size=6, at=(2, 3), channels=1):
    images = np.zeros((count, size, size, channels), "float32")
    images[:, at[0], at[1], :] = 1.0
    return images


@pytest.mark.parametrize("offset", [(0, 0), (1, 0), (0, -2), (-1, 2), (3, 2)])
def test_an_image_moves_by_its_offset_down_and_right(offset):
    moved = shift_images(one_bright_pixel(channels=3), [offset])
    assert moved.shape == (1, 6, 6, 3)
    assert np.argwhere(moved[0, ..., 0]).tolist() == [[2 + offset[0], 3 + offset[1]]]
    assert moved.sum() == 3.0


def test_each_image_moves_by_its_own_offset_and_what_leaves_the_frame_is_gone():
    images = one_bright_pixel(count=3)
    moved = shift_images(images, [(0, 0), (-2, 0), (0, 3)])
    assert np.array_equal(moved[0], images[0])
    assert np.argwhere(moved[1, ..., 0]).tolist() == [[0, 3]]
    assert moved[2].sum() == 0.0  # column 3 + 3 is outside a 6-pixel image
    assert moved.dtype == images.dtype


def test_offsets_cover_the_range_reproducibly_and_bad_input_is_refused():
    offsets = random_offsets(2000, 2, seed=7)
    assert offsets.shape == (2000, 2) and set(np.unique(offsets)) == {-2, -1, 0, 1, 2}
    assert np.array_equal(offsets, random_offsets(2000, 2, seed=7))
    assert not np.array_equal(offsets, random_offsets(2000, 2, seed=8))
    assert not random_offsets(5, 0, seed=1).any()
    with pytest.raises(ValueError, match="pixels"):
        random_offsets(5, 1.5, seed=1)
    with pytest.raises(ValueError, match="offsets"):
        shift_images(one_bright_pixel(count=2), [(0, 1)])
