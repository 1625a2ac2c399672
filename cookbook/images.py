"""A real photograph for the pictures: it ships with scikit-learn, so it works offline."""

import numpy as np
import tensorflow as tf
from sklearn.datasets import load_sample_image


def sample_photo(size=224):
    """scikit-learn's 427x640 photo of a Chinese temple, centre-cropped and resized to
    `size` x `size`, as float32 in [0, 1] with a batch axis: shape (1, size, size, 3)."""
    photo = load_sample_image("china.jpg")
    height, width = photo.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = photo[top : top + side, left : left + side].astype("float32") / 255.0
    return tf.image.resize(square[np.newaxis], (size, size), antialias=True).numpy()
