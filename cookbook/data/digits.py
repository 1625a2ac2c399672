"""The embedded default dataset: scikit-learn's 8x8 handwritten digits as a TFDS dataset.

Importing this module registers the builder, so once `cookbook.data` is imported
`tfds.load("digits")` works in any code, offline: the 1,797 images ship inside
scikit-learn and "downloading" only writes them as TFRecords into `data_dir`.
"""

import numpy as np
import tensorflow_datasets as tfds
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

# Fixed forever for a given VERSION: the splits must not move with a run's seed.
SPLIT_SEED = 0
VALIDATION_FRACTION = 0.2
TEST_FRACTION = 0.2


def split_indices(labels):
    """Stratified train / validation / test indices (60% / 20% / 20%)."""
    indices = np.arange(len(labels))
    rest, test = train_test_split(indices, test_size=TEST_FRACTION, stratify=labels, random_state=SPLIT_SEED)
    train, validation = train_test_split(
        rest,
        test_size=VALIDATION_FRACTION / (1 - TEST_FRACTION),
        stratify=labels[rest],
        random_state=SPLIT_SEED,
    )
    return {"train": train, "validation": validation, "test": test}


class Digits(tfds.core.GeneratorBasedBuilder):
    """1,797 real 8x8 grey-scale handwritten digits, 10 classes, from scikit-learn.

    The UCI "optdigits" images: each pixel counts the ink in a 4x4 block of a
    32x32 bitmap, 0 to 16. Stored as uint8 images scaled to 0-255
    (`round(count * 255 / 16)`) so they decode like every other TFDS image.
    """

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Stratified 60/20/20 train/validation/test split, seed 0."}

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            description=self.__doc__,
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(shape=(8, 8, 1)),
                    "label": tfds.features.ClassLabel(names=[str(d) for d in range(10)]),
                }
            ),
            supervised_keys=("image", "label"),
            homepage="https://archive.ics.uci.edu/dataset/80",
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # Nothing to download: the data ships inside scikit-learn.
        digits = load_digits()
        images = np.round(digits.images * (255 / 16)).astype(np.uint8)[..., np.newaxis]
        labels = digits.target.astype(np.int64)
        return {
            split: self._generate_examples(images[index], labels[index], index)
            for split, index in split_indices(labels).items()
        }

    def _generate_examples(self, images, labels, source_indices):
        for source_index, image, label in zip(source_indices, images, labels):
            yield int(source_index), {"image": image, "label": label}
