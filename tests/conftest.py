import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    """A TFDS data folder with `digits` prepared once for the whole session."""
    import tensorflow_datasets as tfds

    import cookbook.data  # noqa: F401  (registers the digits builder)

    folder = tmp_path_factory.mktemp("tensorflow_datasets")
    tfds.builder("digits", data_dir=str(folder)).download_and_prepare()
    return str(folder)
