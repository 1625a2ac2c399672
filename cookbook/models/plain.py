"""A plain stack of convolutions: depth without pooling, shortcuts or normalization."""

import keras


def plain_convnet(
    input_shape,
    num_classes,
    *,
    conv_layers=6,
    filters=16,
    dense_units=64,
    activation="relu",
    kernel_initializer="glorot_uniform",
    name=None,
):
    """`conv_layers` 3x3 convolutions ("same" padding), one hidden dense layer, a softmax.

    It has `conv_layers + 2` weight layers, the way papers count depth. Nothing
    in it rescues a poor activation (no normalization, no shortcuts), which is
    what makes it the test bed for activations and initializations.
    """
    if conv_layers < 0:
        raise ValueError(f"conv_layers must be >= 0, got {conv_layers}")
    inputs = keras.Input(input_shape, name="image")
    x = inputs
    for index in range(1, conv_layers + 1):
        x = keras.layers.Conv2D(
            filters,
            3,
            padding="same",
            activation=activation,
            kernel_initializer=kernel_initializer,
            name=f"conv_{index}",
        )(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(dense_units, activation=activation, kernel_initializer=kernel_initializer, name="dense_1")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name=name or f"plain_convnet_{conv_layers + 2}")
