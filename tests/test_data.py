import time

import numpy as np
import pytest
import tensorflow_datasets as tfds
from PIL import Image

from cookbook.data import load_dataset
from cookbook.data import loading
from cookbook.data.digits import split_indices
from cookbook.errors import CookbookError


def labels_of(ds):
    return np.concatenate([labels.numpy() for _, labels in ds])


# The embedded digits dataset


def test_digits_facts_and_split_sizes(data_dir):
    data = load_dataset("digits", data_dir=data_dir, batch_size=50)
    assert data.facts.input_shape == (8, 8, 1)
    assert data.facts.num_classes == 10
    assert data.facts.class_names == tuple("0123456789")
    assert data.facts.split_sizes == {"train": 1077, "validation": 360, "test": 360}
    images, labels = next(iter(data.train))
    assert images.shape == (50, 8, 8, 1) and images.dtype == "float32"
    assert labels.dtype == "int32"
    assert 0.0 <= float(images.numpy().min()) and float(images.numpy().max()) <= 1.0


def test_digits_splits_are_stratified_and_disjoint():
    from sklearn.datasets import load_digits

    labels = load_digits().target
    splits = split_indices(labels)
    all_indices = np.concatenate(list(splits.values()))
    assert len(all_indices) == len(set(all_indices)) == 1797
    for index in splits.values():
        share = np.bincount(labels[index], minlength=10) / len(index)
        np.testing.assert_allclose(share, np.bincount(labels) / 1797, atol=0.01)


def test_digits_pixels_match_scikit_learn(data_dir):
    from sklearn.datasets import load_digits

    digits = load_digits()
    test = tfds.load("digits", split="test", data_dir=data_dir, as_supervised=True)
    test_index = split_indices(digits.target)["test"]
    # Every stored test image is a scikit-learn image scaled from 0-16 to 0-255.
    expected = {np.round(digits.images[i] * 255 / 16).astype(np.uint8).tobytes(): digits.target[i] for i in test_index}
    for image, label in test:
        assert expected[image.numpy()[..., 0].tobytes()] == label.numpy()


@pytest.mark.parametrize("batch_size", [32, 50, None])
def test_arrays_give_a_split_example_by_example_in_its_order(data_dir, batch_size):
    data, twin = (load_dataset("digits", data_dir=data_dir, batch_size=batch_size, seed=4) for _ in range(2))
    for split in ("train", "test"):  # each the first pass over its split: the same shuffle
        images, labels = data.arrays(split)
        examples = list(getattr(twin, split).unbatch().as_numpy_iterator())
        assert images.shape == (len(examples), *data.facts.input_shape) and labels.shape == (len(examples),)
        np.testing.assert_array_equal(images, np.stack([image for image, _ in examples]))
        np.testing.assert_array_equal(labels, [label for _, label in examples])


def test_training_order_follows_the_seed(data_dir):
    def order(seed):
        return labels_of(load_dataset("digits", data_dir=data_dir, seed=seed).train)

    assert np.array_equal(order(1), order(1))
    assert not np.array_equal(order(1), order(2))
    # Evaluation splits never shuffle.
    test_1 = labels_of(load_dataset("digits", data_dir=data_dir, seed=1).test)
    test_2 = labels_of(load_dataset("digits", data_dir=data_dir, seed=2).test)
    assert np.array_equal(test_1, test_2)


def test_training_order_changes_between_epochs(data_dir):
    train = load_dataset("digits", data_dir=data_dir, seed=3).train
    assert not np.array_equal(labels_of(train), labels_of(train))


def test_bad_batch_size_is_refused(data_dir):
    with pytest.raises(CookbookError, match="batch_size"):
        load_dataset("digits", data_dir=data_dir, batch_size=0)


# Any tensorflow-datasets name, without network


def test_tfds_dataset_through_mock_data(tmp_path, monkeypatch):
    monkeypatch.setattr(loading, "_require_download_host", lambda name, data_dir: None)
    with tfds.testing.mock_data(num_examples=40):
        data = load_dataset("mnist", data_dir=str(tmp_path), batch_size=8)
        images, labels = next(iter(data.train))
    assert data.facts.input_shape == (28, 28, 1)
    assert data.facts.num_classes == 10
    assert images.shape == (8, 28, 28, 1)
    assert 0.0 <= float(images.numpy().min()) and float(images.numpy().max()) <= 1.0
    assert set(data.facts.split_sizes) == {"train", "validation", "test"}


def test_variable_size_tfds_images_are_resized(tmp_path, monkeypatch):
    monkeypatch.setattr(loading, "_require_download_host", lambda name, data_dir: None)
    with tfds.testing.mock_data(num_examples=6):
        data = load_dataset("cats_vs_dogs", data_dir=str(tmp_path), batch_size=3)
        images, _ = next(iter(data.train))
    assert data.facts.input_shape == (32, 32, 3)
    assert images.shape == (3, 32, 32, 3)


def test_unprepared_dataset_fails_fast_when_offline(tmp_path, monkeypatch):
    def unreachable(address, timeout=None):  # what an offline machine answers, without asking the network
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(loading.socket, "create_connection", unreachable)
    started = time.perf_counter()
    with pytest.raises(CookbookError, match="--data-dir") as error:
        load_dataset("mnist", data_dir=str(tmp_path))
    assert time.perf_counter() - started < 15
    assert "tfds build mnist" in str(error.value)


def test_non_image_classification_dataset_is_refused(tmp_path):
    with pytest.raises(CookbookError, match="not an image-classification dataset"):
        load_dataset("imdb_reviews", data_dir=str(tmp_path))


def test_unknown_dataset_names_the_choices():
    with pytest.raises(CookbookError, match="digits.*mnist"):
        load_dataset("no_such_dataset")


def test_missing_folder_is_named():
    with pytest.raises(CookbookError, match="does not exist"):
        load_dataset("./no/such/folder")


# A folder of images, one subfolder per class


def write_images(root, counts, size=(12, 10)):
    rng = np.random.default_rng(0)
    for index, (name, count) in enumerate(counts.items()):
        folder = root / name
        folder.mkdir(parents=True)
        for number in range(count):
            pixels = np.full((*size, 3), 60 * index, np.uint8) + rng.integers(0, 20, (*size, 3), np.uint8)
            Image.fromarray(pixels).save(folder / f"{number}.png")


def test_image_folder_is_split_resized_and_labelled(tmp_path):
    write_images(tmp_path, {"cat": 20, "dog": 20, "owl": 20})
    data = load_dataset(str(tmp_path), batch_size=4, image_size=(16, 16))
    assert data.facts.class_names == ("cat", "dog", "owl")
    assert data.facts.input_shape == (16, 16, 3)
    assert data.facts.split_sizes == {"train": 42, "validation": 9, "test": 9}
    for split in (data.train, data.validation, data.test):
        assert set(labels_of(split)) == {0, 1, 2}  # stratified: every class everywhere
    # Class "owl" was drawn brightest: labels follow the folders.
    images = np.concatenate([x.numpy() for x, _ in data.test])
    labels = labels_of(data.test)
    brightness = [images[labels == label].mean() for label in range(3)]
    assert brightness == sorted(brightness)


def test_image_folder_with_too_few_images_says_so(tmp_path):
    write_images(tmp_path, {"a": 2, "b": 2})
    with pytest.raises(CookbookError, match="too few images"):
        load_dataset(str(tmp_path))


def test_image_folder_needs_two_classes(tmp_path):
    write_images(tmp_path, {"only": 10})
    with pytest.raises(CookbookError, match="two subfolders"):
        load_dataset(str(tmp_path))


def test_full_batch_puts_each_split_in_one_batch(data_dir):
    data = load_dataset("digits", data_dir=data_dir, batch_size=None, seed=0)
    assert int(data.train.cardinality()) == 1
    images, _ = next(iter(data.train))
    assert images.shape[0] == 1077


def test_a_partial_read_does_not_truncate_later_passes(data_dir):
    data = load_dataset("digits", data_dir=data_dir, batch_size=16)
    next(iter(data.validation.unbatch().batch(100)))  # stops early, as a probe batch does
    assert len(labels_of(data.validation)) == 360
    assert len(labels_of(data.train)) == 1077


def test_loading_again_reuses_the_decoded_splits(data_dir, monkeypatch):
    first = load_dataset("digits", data_dir=data_dir, seed=5)
    opened = []
    builder = tfds.builder
    monkeypatch.setattr(tfds, "builder", lambda *args, **kwargs: opened.append(args) or builder(*args, **kwargs))
    again = load_dataset("digits", data_dir=data_dir, seed=5, batch_size=7)
    assert opened == []  # every variant and seed of a recipe loads; the data is decoded once
    assert again.facts == first.facts
    assert np.array_equal(labels_of(again.train), labels_of(first.train))  # first epoch of each
    assert next(iter(again.train))[0].shape[0] == 7


def test_batches_split_evenly_over_replicas(data_dir):
    from cookbook.data.loading import open_dataset

    source = open_dataset("digits", data_dir=data_dir)
    sizes = source.facts.split_sizes  # 1,077 training images: odd
    one = source.batched(1, seed=0, replicas=2)
    assert {int(next(iter(split))[0].shape[0]) for split in (one.train, one.validation, one.test)} == {2}
    whole = source.batched(None, seed=0, replicas=2)
    assert [int(batch[0].shape[0]) for batch in whole.train] == [sizes["train"] - 1]  # one update, even
    assert sum(int(batch[0].shape[0]) for batch in whole.test) == sizes["test"]  # every example evaluated
    alone = source.batched(None, seed=0)
    assert [int(batch[0].shape[0]) for batch in alone.train] == [sizes["train"]]


def test_training_set_sizes_are_the_regime_axis_of_the_settings():
    from cookbook.data import training_fractions
    from recipes import convolution
    from recipes import dropout
    from recipes import ensemble

    assert training_fractions((10, 25, 100)) == {"10%": 0.1, "25%": 0.25, "100%": 1.0}
    for recipe in (dropout, ensemble):
        assert recipe.conditions({"training_percents": (25, 100)}) == {"25%": 0.25, "100%": 1.0}
    assert convolution.conditions({"canvas_factors": (1, 3)}) == {"1x": 1, "3x": 3}  # its axis is the canvas
    quick = {**dropout.DEFAULTS, **dropout.QUICK}
    assert list(dropout.conditions(quick)) == ["10%", "100%"]
    assert list(dropout.conditions(dropout.DEFAULTS)) == ["10%", "25%", "50%", "100%"]


def test_preparing_a_dataset_leaves_the_seeded_random_stream_alone(tmp_path):
    """TFDS names its temporary folders from Python's `random`: a seeded run that prepared its
    data on a fresh machine drew other initial weights than every later run."""
    import random

    random.seed(5)
    expected = random.random()
    random.seed(5)
    load_dataset("digits", data_dir=str(tmp_path / "fresh"))
    assert (tmp_path / "fresh" / "digits").is_dir()  # it was prepared here
    assert random.random() == expected
