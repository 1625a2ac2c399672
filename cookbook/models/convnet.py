"""The lecture notes' "ConvNet": convolution + pooling blocks, then fully connected layers."""

import keras


def small_convnet(
    input_shape,
    num_classes,
    *,
    filters=(16, 32),
    dense_units=64,
    activation="relu",
    dropout=0.0,
    name="small_convnet",
):
    """One block per entry of `filters` (a 3x3 convolution, then 2x2 max pooling), a
    hidden dense layer, optional dropout, and a softmax.

    Blocks stop pooling once the feature map is 1x1, so 8x8 inputs work with
    any number of blocks.
    """
    inputs = keras.Input(input_shape, name="image")
    x = inputs
    for index, width in enumerate(filters, start=1):
        x = keras.layers.Conv2D(width, 3, padding="same", activation=activation, name=f"conv_{index}")(x)
        if min(x.shape[1:3]) >= 2:
            x = keras.layers.MaxPooling2D(2, name=f"pool_{index}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(dense_units, activation=activation, name="dense_1")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name=name)
