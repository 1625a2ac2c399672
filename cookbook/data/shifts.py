"""Images moved by whole pixels: the shifts Zhang 2019 measures a network's consistency under."""

import numpy as np


def random_offsets(count, pixels, seed):
    """`count` offsets `(down, right)`, each component drawn uniformly from `-pixels..pixels`
    (Zhang 2019 draws two such shifts of an image and asks whether the prediction changes)."""
    if not isinstance(pixels, int) or pixels < 0:
        raise ValueError(f"pixels must be a whole number >= 0, got {pixels!r}")
    return np.random.default_rng(seed).integers(-pixels, pixels + 1, size=(count, 2))


def shift_images(images, offsets):
    """Each image of `images` (N, H, W, C) moved down and right by its offset (negative: up,
    left), the uncovered border filled with zeros; the image keeps its size."""
    images, offsets = np.asarray(images), np.asarray(offsets, dtype=int).reshape(-1, 2)
    if len(offsets) != len(images):
        raise ValueError(f"{len(images)} images need as many offsets, got {len(offsets)}")
    height, width = images.shape[1:3]
    margin = int(np.max(np.abs(offsets), initial=0))
    padded = np.pad(images, [(0, 0), (margin, margin), (margin, margin)] + [(0, 0)] * (images.ndim - 3))
    moved = np.empty_like(images)
    for down, right in np.unique(offsets, axis=0):
        chosen = np.all(offsets == (down, right), axis=1)
        top, left = margin - down, margin - right
        moved[chosen] = padded[chosen, top : top + height, left : left + width]
    return moved
