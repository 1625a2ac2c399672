"""One call gives a recipe its train / validation / test pipelines and the dataset's facts."""

import concurrent.futures
import contextlib
import dataclasses
import functools
import math
import os
import random
import socket
import sys
from pathlib import Path

import numpy as np
import PIL.Image
import tensorflow as tf
import tensorflow_datasets as tfds
from sklearn.model_selection import train_test_split

try:
    import fcntl
except ImportError:  # Windows: no advisory locks
    fcntl = None

from cookbook.data.digits import Digits
from cookbook.errors import CookbookError
from cookbook.results import check_writable

DEFAULT_DATASET = "digits"  # embedded, offline

# Where TFDS fetches prepared data and many source files from. Probed before a download so an
# offline machine fails in seconds; tfds itself retries for minutes before giving up.
DOWNLOAD_PROBE = ("storage.googleapis.com", 443)
PROBE_TIMEOUT_SECONDS = 5
FOLDER_IMAGE_SIZE = (32, 32)
FOLDER_SPLIT_FRACTIONS = {"validation": 0.15, "test": 0.15}
FOLDER_SPLIT_SEED = 0


@dataclasses.dataclass(frozen=True)
class DatasetFacts:
    """What a model builder needs to know about a dataset."""

    name: str
    input_shape: tuple
    num_classes: int
    class_names: tuple
    split_sizes: dict
    skipped_files: int = 0  # unreadable files left out of a folder dataset
    nested_files: int = 0  # images in sub-folders of a class folder, taken as that class


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Batched, cached and prefetched splits; images are float32 in [0, 1], labels int32."""

    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset
    facts: DatasetFacts

    def arrays(self, split):
        """A split as NumPy `(images, labels)`, in its stored order, for scikit-learn."""
        # Batch by batch: element by element (`unbatch`) took a third of the ensemble recipe.
        images, labels = zip(*getattr(self, split).as_numpy_iterator())
        return np.concatenate(images), np.concatenate(labels)


def load_dataset(name=DEFAULT_DATASET, *, batch_size=32, seed=0, data_dir=None, image_size=None):
    """Loads a dataset by name and returns a `Dataset`.

    Args:
        name: `"digits"` (the default, offline), any tensorflow-datasets
            image-classification name (`"mnist"`, `"cifar10"`, ...), or the path
            of a folder with one subfolder of images per class.
        batch_size: examples per batch in every split; `None` puts each whole
            split in one batch (full-batch gradient descent).
        seed: shuffles the training split (a new order each epoch, the same
            sequence of orders for the same seed). Splits themselves never move.
        data_dir: where TFDS keeps prepared datasets (TFDS's default if None).
        image_size: `(height, width)` to resize to. Defaults to the dataset's own
            size, or 32x32 for folders and datasets whose images vary in size.
    """
    return open_dataset(name, data_dir=data_dir, image_size=image_size).batched(batch_size, seed)


@dataclasses.dataclass(frozen=True)
class DataSource:
    """A dataset checked and decoded once, from which each run takes its own batched order."""

    splits: dict  # split -> (cached tf.data.Dataset, number of examples)
    description: dict

    def batched(self, batch_size=32, seed=0, replicas=1, train_fraction=1.0):
        """The splits batched by `batch_size` (`None`: one batch), training order shuffled by `seed`.

        `train_fraction` < 1 keeps that fraction of the training split (at least one
        example), chosen by `seed`, and cycles it so that an epoch still has the whole
        split's number of examples: every size gets as many updates per epoch. The facts
        give the number of distinct examples kept. Validation and test splits stay whole.

        `replicas` > 1 (a distribution strategy splits every batch among them): each needs
        an example, so a batch is at least `replicas` examples, and a whole-split batch is
        the largest multiple of `replicas`, since Keras's distributed step fails on a first
        batch that does not split evenly. Training leaves the few examples over out (other
        ones each epoch, with the shuffle); evaluation takes them as a second batch.
        """
        if batch_size is not None and batch_size < 1:
            raise CookbookError(f"batch_size must be a positive integer, got {batch_size}.")
        if not 0 < train_fraction <= 1:
            raise CookbookError(f"train_fraction must be in (0, 1], got {train_fraction!r}.")
        splits = dict(self.splits)
        distinct = splits["train"][1]
        if train_fraction < 1:
            ds, size = splits["train"]
            kept = max(1, round(size * train_fraction))
            subset = ds.shuffle(size, seed=seed, reshuffle_each_iteration=False).take(kept)
            splits["train"] = (subset.repeat(math.ceil(size / kept)).take(size).cache(), size)
            distinct = kept
        pipelines = {}
        for split, (ds, size) in splits.items():
            batch, drop_remainder = batch_size, False
            if replicas > 1 and batch is None:  # evaluation keeps the leftovers, as a second batch
                batch, drop_remainder = max(size - size % replicas, replicas), split == "train"
            elif replicas > 1:
                batch = max(batch, replicas)
            pipelines[split] = _pipeline(ds, size, batch, seed if split == "train" else None, drop_remainder)
        sizes = {**self.facts.split_sizes, "train": distinct}
        return Dataset(**pipelines, facts=dataclasses.replace(self.facts, split_sizes=sizes))

    @property
    def facts(self):
        sizes = {split: size for split, (_, size) in self.splits.items()}
        return DatasetFacts(**self.description, split_sizes=sizes)


def training_fractions(percents):
    """`{"10%": 0.1, ...}`: a regime axis of training-set sizes, as fractions of the split."""
    return {f"{percent:g}%": percent / 100 for percent in percents}


def open_dataset(name=DEFAULT_DATASET, *, data_dir=None, image_size=None):
    """Checks and decodes a dataset once (see `load_dataset`) and returns its `DataSource`."""
    check_dataset(name)
    if os.path.isdir(name):
        splits, description = _load_folder(name, image_size or FOLDER_IMAGE_SIZE)
        return DataSource({split: _cache(ds) for split, ds in splits.items()}, description)
    return DataSource(*_load_tfds_cached(name, data_dir, image_size and tuple(image_size)))


@functools.lru_cache(maxsize=4)
def _load_tfds_cached(name, data_dir, image_size):
    """Decodes a prepared TFDS dataset into memory once per process.

    Recipes load the same data for every variant and seed; reading the builder and
    filling the cache took about a second each time. Prepared TFDS data never
    changes, and each `load_dataset` still shuffles and batches anew.
    """
    splits, description = _load_tfds(name, data_dir, image_size)
    return {split: _cache(ds) for split, ds in splits.items()}, description


def _cache(ds):
    """The split cached in memory and its size, counted in the pass that fills the cache."""
    # Fill the cache now, in one complete pass: an iterator that stops early (a user's
    # `next(iter(...))`) would otherwise race a later full pass into a partial cache.
    ds = ds.cache()
    return ds, int(ds.reduce(0, lambda count, _: count + 1))


def _pipeline(ds, size, batch_size, shuffle_seed, drop_remainder=False):
    """Shuffled (the training split) and batched; `batch_size=None` is one batch."""
    if shuffle_seed is not None:
        buffer = size if 0 < size <= 100_000 else 10_000
        ds = ds.shuffle(buffer, seed=shuffle_seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size or size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


def _scale(image, label, image_size=None):
    image = tf.cast(image, tf.float32) / 255.0
    if image_size is not None:
        image = tf.image.resize(image, image_size)
    return image, tf.cast(label, tf.int32)


@functools.cache
def _tfds_names():
    return frozenset(tfds.list_builders())


def check_dataset(name, data_dir=None):
    """Raises `CookbookError` unless `name` is a folder, or a known TFDS dataset name that is
    prepared in `data_dir` or can be prepared there (the folder must then be writable)."""
    if os.path.isdir(name):
        return
    if name in _tfds_names():
        _check_data_dir(name, data_dir)
        return
    if os.sep in name or os.path.exists(name):
        raise CookbookError(f"Dataset folder {name!r} does not exist or is not a folder.")
    raise CookbookError(
        f"Unknown dataset {name!r}: use 'digits' (offline), a folder of images with "
        "one subfolder per class, or a tensorflow-datasets image-classification name "
        "such as mnist, fashion_mnist or cifar10."
    )


def _check_data_dir(name, data_dir):
    root = Path(data_dir or tfds.core.constants.DATA_DIR).expanduser()
    if any(root.glob(f"{name}/*/dataset_info.json")):  # prepared: reading is enough
        return
    try:
        check_writable(root)
    except OSError as error:
        chosen_by = "--data-dir" if data_dir or not os.environ.get("TFDS_DATA_DIR") else "--data-dir (or TFDS_DATA_DIR)"
        raise CookbookError(
            f"{name!r} is not prepared in {str(root)!r}, and it cannot be prepared there ({error.strerror}); "
            f"choose another {chosen_by}."
        ) from None


def prepared_tfds_datasets(data_dir=None):
    """Names of the TFDS datasets already prepared in `data_dir` (usable offline)."""
    root = Path(data_dir or tfds.core.constants.DATA_DIR).expanduser()
    names = {info.relative_to(root).parts[0] for info in root.glob("*/**/dataset_info.json")}
    return sorted(names - {"downloads"})


def _load_tfds(name, data_dir, image_size):
    builder = tfds.builder(name, data_dir=data_dir)
    image_key, label_key = _image_classification_keys(builder)
    if not builder.is_prepared():
        with _preparing(Path(builder.data_dir).parent):
            builder = tfds.builder(name, data_dir=data_dir)  # another process may have prepared it
            if not builder.is_prepared():
                if not isinstance(builder, Digits):
                    _require_download_host(name, builder.data_dir)
                print(f"Preparing {name} in {builder.data_dir} (once).")
                builder.download_and_prepare()

    image_feature = builder.info.features[image_key]
    label_feature = builder.info.features[label_key]
    height, width, channels = image_feature.shape
    if image_size is None and (height is None or width is None):
        image_size = FOLDER_IMAGE_SIZE
    resize = tuple(image_size) if image_size is not None else None

    splits = {
        split: builder.as_dataset(split=spec, as_supervised=True).map(
            lambda image, label: _scale(image, label, resize),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        for split, spec in _split_specs(builder.info.splits).items()
    }
    description = {
        "name": name,
        "input_shape": (*(resize or (height, width)), channels),
        "num_classes": label_feature.num_classes,
        "class_names": tuple(label_feature.names),
    }
    return splits, description


@contextlib.contextmanager
def _preparing(folder):
    """Holds `folder/.preparing.lock` while a dataset is prepared: two recipes started at once
    on a fresh machine would otherwise both write it, and one fail on the other's files. Keeps
    Python's random state as it was: TFDS draws its temporary names from it, which would move
    the numbers of a seeded run that prepares its data first."""
    folder.mkdir(parents=True, exist_ok=True)
    state = random.getstate()
    with open(folder / ".preparing.lock", "a") as lock:
        if fcntl is not None:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            random.setstate(state)


def _image_classification_keys(builder):
    keys = builder.info.supervised_keys
    features = builder.info.features
    if (
        not keys
        or len(keys) != 2
        or not isinstance(features[keys[0]], tfds.features.Image)
        or not isinstance(features[keys[1]], tfds.features.ClassLabel)
    ):
        raise CookbookError(
            f"Dataset {builder.name!r} is not an image-classification dataset "
            "(its supervised keys must be an image and a class label)."
        )
    return keys


def _split_specs(available):
    """Uses the dataset's own validation and test splits, else carves them from train."""
    if "validation" in available and "test" in available:
        return {"train": "train", "validation": "validation", "test": "test"}
    if "test" in available:
        return {"train": "train[:90%]", "validation": "train[90%:]", "test": "test"}
    if "validation" in available:
        return {"train": "train[:90%]", "validation": "validation", "test": "train[90%:]"}
    return {"train": "train[:80%]", "validation": "train[80%:90%]", "test": "train[90%:]"}


def _require_download_host(name, data_dir):
    """Raises `CookbookError` within seconds when the download host is out of reach."""
    host, port = DOWNLOAD_PROBE

    def connect():
        socket.create_connection((host, port), timeout=PROBE_TIMEOUT_SECONDS).close()

    # Name resolution ignores socket timeouts, so bound the whole probe with a thread.
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        executor.submit(connect).result(timeout=PROBE_TIMEOUT_SECONDS + 1)
    except (OSError, concurrent.futures.TimeoutError):
        raise CookbookError(
            f"Dataset {name!r} is not prepared in {data_dir} and {host} cannot be reached "
            f"to download it. On a machine with network run "
            f"`tfds build {name} --data_dir DIR`, copy DIR here and pass --data-dir DIR; "
            "or use --dataset digits (offline) or a folder of images."
        ) from None
    finally:
        executor.shutdown(wait=False)


# What image_dataset_from_directory reads, and what Pillow reads besides; other files are not images.
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")
SKIPPED_SHOWN = 3  # files named in a warning about them


def _load_folder(root, image_size):
    folders = [entry.name for entry in os.scandir(root) if entry.is_dir()]
    class_names = tuple(sorted(name for name in folders if not name.startswith(".")))
    if len(class_names) < 2:
        raise CookbookError(f"{root} needs at least two subfolders of images, one per class; found {len(class_names)}.")
    hidden = sorted(set(folders) - set(class_names))
    if hidden:  # .ipynb_checkpoints, .git, ...: not classes
        print(f"Warning: left out hidden folder(s) {', '.join(hidden)} in {root}: not classes.", file=sys.stderr)
    images, labels, skipped, nested = [], [], [], []
    for label, name in enumerate(class_names):
        class_folder = os.path.join(root, name)
        paths = sorted(
            os.path.join(folder, file)
            for folder, _, files in os.walk(class_folder)
            for file in files
            if file.lower().endswith(IMAGE_EXTENSIONS)
        )
        for path in paths:
            image = _read_image(path, image_size)
            if image is None:
                skipped.append(path)
                continue
            images.append(image)
            labels.append(label)
            if os.path.dirname(path) != class_folder:
                nested.append(path)
    if skipped:
        print(f"Warning: skipped {len(skipped)} unreadable image file(s) in {root}: {_first(skipped)}", file=sys.stderr)
    if nested:  # as Keras's image_dataset_from_directory reads them, but said
        print(
            f"Warning: took {len(nested)} image(s) in sub-folders of class folders as their class folder's "
            f"class, in {root}: {_first(nested)}",
            file=sys.stderr,
        )
    empty = [name for label, name in enumerate(class_names) if label not in labels]
    if empty:
        raise CookbookError(f"{root}: no readable image in the class folder(s) {', '.join(empty)}.")
    images, labels = np.stack(images), np.array(labels, dtype=np.int32)

    indices = np.arange(len(labels))
    held_out = sum(FOLDER_SPLIT_FRACTIONS.values())
    try:
        train, rest = train_test_split(indices, test_size=held_out, stratify=labels, random_state=FOLDER_SPLIT_SEED)
        validation, test = train_test_split(
            rest,
            test_size=FOLDER_SPLIT_FRACTIONS["test"] / held_out,
            stratify=labels[rest],
            random_state=FOLDER_SPLIT_SEED,
        )
    except ValueError:
        raise CookbookError(
            f"{root} has too few images to split into train, validation and test with "
            "every class in each: use at least 7 images per class."
        ) from None

    # image_dataset_from_directory gives float 0-255; scale like the uint8 sources.
    splits = {
        split: tf.data.Dataset.from_tensor_slices((images[index], labels[index])).map(_scale)
        for split, index in (("train", train), ("validation", validation), ("test", test))
    }
    description = {
        "name": os.path.basename(os.path.normpath(root)),
        "input_shape": tuple(images.shape[1:]),
        "num_classes": len(class_names),
        "class_names": class_names,
        "skipped_files": len(skipped),
        "nested_files": len(nested),
    }
    return splits, description


def _first(paths):
    """The first `SKIPPED_SHOWN` of `paths`, and "..." for the rest."""
    return ", ".join(paths[:SKIPPED_SHOWN]) + (", ..." if len(paths) > SKIPPED_SHOWN else "")


def _read_image(path, image_size):
    """The image at `path` as float32 RGB of `image_size`, in 0-255 as Keras's folder loader
    gives it; None if neither TensorFlow nor Pillow can decode it."""
    try:
        with open(path, "rb") as file:
            encoded = file.read()
        image = tf.io.decode_image(encoded, channels=3, dtype=tf.uint8, expand_animations=False)
    except (OSError, tf.errors.OpError):
        try:  # formats TensorFlow cannot decode (TIFF, WebP), any mode or bit depth Pillow reads
            with PIL.Image.open(path) as opened:
                image = np.asarray(opened.convert("RGB"))
        except (OSError, ValueError, PIL.Image.DecompressionBombError):
            return None
    return tf.image.resize(image, image_size).numpy()
