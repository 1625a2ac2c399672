"""The building blocks on Keras's JAX and PyTorch backends.

A backend is fixed when Keras is first imported, so each backend gets processes of its own:
one that runs the blocks (checking that they import no TensorFlow), trains and saves them,
and one that runs the blocks' whole reference suite under that backend (a CI step of its own,
`pytest -m other_backends -n 0`; each session runs on both cores).
"""

import subprocess
import sys
import textwrap

import pytest

from tests.processes import ROOT
from tests.processes import environment

BACKENDS = ["jax", "torch"]
BLOCK_TESTS = ["tests/layers", "tests/optimizers", "tests/test_models.py"]

TRAIN_AND_SAVE = textwrap.dedent(
    """
    import sys
    import numpy as np
    import keras
    from cookbook import layers, optimizers
    from cookbook.models import small_convnet

    assert keras.backend.backend() == sys.argv[1], keras.backend.backend()
    model = small_convnet((8, 8, 1), 10, downsampling="max")
    model = keras.Sequential([model, layers.Dropout(0.1), layers.BatchNormalization()])
    x = np.random.default_rng(0).normal(size=(32, 8, 8, 1)).astype("float32")
    y = np.random.default_rng(1).normal(size=(32, 10)).astype("float32")
    model(x, training=True)
    optimizer = optimizers.Adam(0.01)
    optimizer.apply(model.trainable_variables, model.trainable_variables)  # any gradients: one step
    # The blocks themselves need no TensorFlow; Keras's fit and saving may import it if installed.
    print("tensorflow imported:", "tensorflow" in sys.modules)
    model.compile(optimizers.Adam(0.01), "mse")
    losses = model.fit(x, y, epochs=3, batch_size=8, verbose=0).history["loss"]
    assert losses[-1] < losses[0], losses
    model.save(sys.argv[2])
    restored = keras.saving.load_model(sys.argv[2])
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(restored(x)), keras.ops.convert_to_numpy(model(x)), rtol=1e-5, atol=1e-6
    )
    """
)


def run(args, backend, timeout):
    env = environment(KERAS_BACKEND=backend, JAX_PLATFORMS="cpu")
    return subprocess.run([sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("backend", BACKENDS)
def test_blocks_train_and_save_without_tensorflow(backend, tmp_path):
    pytest.importorskip(backend)
    done = run(["-c", TRAIN_AND_SAVE, backend, str(tmp_path / "model.keras")], backend, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tensorflow imported: False" in done.stdout, done.stdout + done.stderr


@pytest.mark.other_backends
@pytest.mark.parametrize("backend", BACKENDS)
def test_block_reference_tests_pass_under(backend):
    pytest.importorskip(backend)
    args = ["-m", "pytest", *BLOCK_TESTS, "-q", "-n", "2", "-p", "no:cacheprovider"]
    done = run(args, backend, timeout=1500)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert " passed" in done.stdout.splitlines()[-1], done.stdout[-2000:]
