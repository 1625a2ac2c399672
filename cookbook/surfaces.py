"""Two-dimensional test functions, and the path an optimizer takes across one.

A ravine (Rosenbrock's banana valley) and a saddle point make the optimizers'
differences visible: momentum carries through the valley, per-parameter rates
rescale its steep and flat directions, and a saddle tests who escapes.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops


def rosenbrock(point):
    """Rosenbrock (1960): a curved, narrow valley with its minimum 0 at (1, 1)."""
    x, y = point[0], point[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def saddle(point):
    """x^2 - y^2 plus a quartic wall, so there is a minimum to find: a saddle at (0, 0)."""
    x, y = point[0], point[1]
    return x**2 - y**2 + 0.25 * y**4


SURFACES = {
    "rosenbrock": {
        "function": rosenbrock,
        "start": (-1.5, 2.0),
        "extent": (-2, 2, -1, 3),
        "minima": [(1.0, 1.0)],
    },
    "saddle": {
        "function": saddle,
        "start": (-1.0, 1e-3),
        "extent": (-1.2, 1.2, -2.5, 2.5),
        "minima": [(0.0, 2**0.5), (0.0, -(2**0.5))],
    },
}


def descend(optimizer, function, start, steps):
    """Runs `optimizer` on `function` from `start`; returns the visited points, shape (steps + 1, 2).

    The whole descent is one traced loop: a call per step cost more than the step itself."""
    point = keras.Variable(np.asarray(start, dtype="float32"), name="point")
    optimizer.build([point])

    @tf.function
    def walk():
        visited = tf.TensorArray(tf.float32, size=steps)
        for index in tf.range(steps):
            with tf.GradientTape() as tape:
                value = function(point)
            optimizer.apply_gradients([(tape.gradient(value, point), point)])
            visited = visited.write(index, ops.convert_to_tensor(point))
        return visited.stack()

    return np.concatenate([np.asarray(start, "float32")[None], walk().numpy().reshape(steps, 2)])


def evaluate_grid(function, extent, resolution=200):
    """`function` over a grid, for contour plots: returns xs, ys, values."""
    xs = np.linspace(extent[0], extent[1], resolution)
    ys = np.linspace(extent[2], extent[3], resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    values = ops.convert_to_numpy(function(np.stack([grid_x, grid_y])))
    return xs, ys, values
