"""How close each explicit block comes to its Keras built-in on this backend: the largest difference.

    KERAS_BACKEND=jax python -m benchmarks.parity [--json benchmarks/parity_jax.json]

Runs the configurations the reference tests check (imported from `tests/`, so the numbers
describe exactly what the tests hold to a tolerance) and prints, per block, the largest
absolute difference between ours and the built-in over all of them: outputs and input or
weight gradients for the layers (batch normalization over four steps, training and
inference), and the relative weight difference after training for the optimizers. Dropout's
masks come from separate random streams, so only its inference output is compared.
`python -m benchmarks.backends` runs this on every backend side by side.
"""

import click
import keras
import numpy as np

from cookbook.layers import Dropout
from cookbook.results import environment
from cookbook.results import write_json_atomic
from tests.backend import BACKEND
from tests.layers import test_batch_normalization as batch_normalization
from tests.layers import test_pooling as pooling
from tests.optimizers import test_against_keras as optimizers


def largest(differences):
    return max(float(np.max(np.abs(d))) for d in differences)


def pooling_parity(kind):
    ours, theirs = pooling.PAIRS[kind]
    outputs, gradients, documented = [], [], []
    for size, (pool_size, strides), padding in pooling.GRID:
        x = np.random.default_rng(sum(size)).normal(size=(2, *size, 3)).astype("float32")
        layer = ours(pool_size, strides, padding)
        y, grad = pooling.forward_and_gradient(layer, x)
        y_ref, grad_ref = pooling.forward_and_gradient(theirs(pool_size, strides, padding), x)
        if (
            BACKEND == "torch"
            and kind == "average"
            and padding == "same"
            and pooling.uneven_same_padding(size, layer.pool_size, strides and layer.strides)
        ):
            documented.append(y - y_ref)  # keras-team/keras#18452: the built-in averages other cells
            continue
        outputs.append(y - y_ref)
        gradients.append(grad - grad_ref)
    return {
        "configurations": len(outputs),
        "output": largest(outputs),
        "gradient": largest(gradients),
        # Configurations where the built-in is known to differ, and by how much.
        "documented": {"configurations": len(documented), "output": largest(documented)} if documented else None,
    }


def batch_normalization_parity():
    outputs, gradients = [], []
    for shape, kwargs in batch_normalization.CONFIGS:
        for training in (True, False):
            ours, theirs = batch_normalization.twin_layers(shape, kwargs)
            rng = np.random.default_rng(0)
            for _ in range(4):
                x = rng.normal(2.0, 3.0, size=shape).astype("float32")
                y, grads = batch_normalization.step(ours, x, training)
                y_ref, grads_ref = batch_normalization.step(theirs, x, training)
                outputs.append(y - y_ref)
                gradients.extend(g - g_ref for g, g_ref in zip(grads, grads_ref, strict=True))
            outputs.append(keras.ops.convert_to_numpy(ours.moving_variance - theirs.moving_variance))
    return {
        "configurations": 2 * len(batch_normalization.CONFIGS),
        "output": largest(outputs),
        "gradient": largest(gradients),
    }


def dropout_parity():
    x = np.random.default_rng(0).normal(size=(64, 32)).astype("float32")
    differences = [
        keras.ops.convert_to_numpy(Dropout(rate)(x, training=False))
        - keras.ops.convert_to_numpy(keras.layers.Dropout(rate)(x, training=False))
        for rate in (0.1, 0.5, 0.7)
    ]
    return {"configurations": len(differences), "output": largest(differences), "gradient": None}


def optimizer_parity():
    errors = {}
    for case, (ours, theirs) in optimizers.CASES.items():
        pairs = zip(optimizers.train(ours()), optimizers.train(theirs()), strict=True)
        errors[case] = max(optimizers.relative_error(actual, expected) for actual, expected in pairs)
    return {"steps": optimizers.STEPS, "relative_weight_difference": errors, "largest": max(errors.values())}


def measure():
    return {
        "backend": BACKEND,
        "layers": {
            "MaxPooling2D": pooling_parity("max"),
            "AveragePooling2D": pooling_parity("average"),
            "BatchNormalization": batch_normalization_parity(),
            "Dropout": dropout_parity(),
        },
        "optimizers": optimizer_parity(),
    }


def print_parity(results):
    print(f"Largest difference to Keras's built-in, backend {results['backend']}")
    for name, r in results["layers"].items():
        gradient = "" if r["gradient"] is None else f", gradient {r['gradient']:.2e}"
        print(f"  {name:<20} {r['configurations']:>3} configurations: output {r['output']:.2e}{gradient}")
        if r.get("documented"):
            known = r["documented"]
            print(f"  {'':<20} {known['configurations']:>3} more differ by {known['output']:.2e} (keras#18452)")
    optimizer = results["optimizers"]
    print(f"  optimizers, relative weight difference after {optimizer['steps']} steps:")
    for case, error in optimizer["relative_weight_difference"].items():
        print(f"    {case:<26} {error:.2e}")


@click.command()
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write the numbers here.")
def main(json_path):
    """Largest difference between each explicit block and its Keras built-in, on this backend."""
    results = measure()
    print_parity(results)
    if json_path:
        write_json_atomic(json_path, {"parity": results, "environment": environment()})


if __name__ == "__main__":
    main()
