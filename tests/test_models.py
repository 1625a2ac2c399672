import keras
import numpy as np
import pytest

from cookbook import layers
from cookbook.models import count_flops
from cookbook.models import plain_convnet
from cookbook.models import small_convnet


@pytest.mark.parametrize("downsampling", ["max", "average", "strided", None])
@pytest.mark.parametrize("input_shape", [(8, 8, 1), (28, 28, 1), (32, 32, 3)])
def test_small_convnet_builds_and_predicts(downsampling, input_shape):
    model = small_convnet(input_shape, 10, downsampling=downsampling)
    out = model(np.zeros((2, *input_shape), "float32"))
    assert out.shape == (2, 10)
    np.testing.assert_allclose(np.sum(keras.ops.convert_to_numpy(out), axis=1), 1, rtol=1e-5)


def test_downsampling_variants_share_their_weights_but_not_their_cost():
    models = {d: small_convnet((8, 8, 1), 10, downsampling=d) for d in ("max", "average", "strided", None)}
    assert models["max"].count_params() == models["average"].count_params() == models["strided"].count_params()
    assert count_flops(models["strided"]) < count_flops(models["max"]) < count_flops(models[None])
    assert any(isinstance(layer, layers.MaxPooling2D) for layer in models["max"].layers)


def test_batch_norm_normalizes_every_hidden_layer():
    model = small_convnet((8, 8, 1), 10, filters=(8, 8), batch_norm=True, batch_norm_momentum=0.9)
    norms = [layer for layer in model.layers if isinstance(layer, layers.BatchNormalization)]
    assert len(norms) == 3 and all(norm.momentum == 0.9 for norm in norms)


def test_bad_downsampling_is_refused():
    with pytest.raises(ValueError, match="downsampling"):
        small_convnet((8, 8, 1), 10, downsampling="median")


def test_count_flops_by_hand():
    model = keras.Sequential(
        [keras.Input((5, 5, 2)), keras.layers.Conv2D(3, 3), keras.layers.Flatten(), keras.layers.Dense(4)]
    )
    conv = 2 * (3 * 3 * 3) * (3 * 3 * 2)  # outputs 3x3x3, each 3x3x2 multiply-adds
    dense = 2 * 27 * 4
    assert count_flops(model) == conv + dense


def test_plain_convnet_counts_depth_in_weight_layers():
    model = plain_convnet((8, 8, 1), 10, conv_layers=6)
    kernels = [layer for layer in model.layers if getattr(layer, "kernel", None) is not None]
    assert len(kernels) == 8 and model.name == "plain_convnet_8"
