"""Predictions by eager calls on large chunks of rows.

`model.predict` builds a tf.data pipeline and traces a graph for every model it sees, which
for the small networks here takes longer than the prediction itself; calling the model once
per batch of 32 pays a call's overhead every 32 rows. A few eager calls on large chunks do
neither, and eager calls work under every distribution strategy.
"""

import keras
import numpy as np

PREDICT_CHUNK = 1024  # rows per eager call


def predict_in_chunks(model, images, chunk=PREDICT_CHUNK):
    """`model`'s outputs (inference mode) for `images`, a NumPy array, `chunk` rows per call."""
    outputs = [model(images[start : start + chunk], training=False) for start in range(0, len(images), chunk)]
    return np.concatenate([keras.ops.convert_to_numpy(output) for output in outputs])
