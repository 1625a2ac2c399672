"""The model builders at 8x8, 28x28 and 224x224: weight-layer depth, parameters, one training step."""

import keras
import numpy as np
import pytest

from cookbook.models import alexnet_style
from cookbook.models import googlenet_style
from cookbook.models import resnet_style
from cookbook.models import small_convnet
from cookbook.models import weight_layer_depth
from cookbook.models.inception import GOOGLENET_MODULES

SHAPES = [(8, 8, 1), (28, 28, 1), (224, 224, 3)]
CLASSES = 10


def conv(k, cin, cout, batch_norm=True):
    """Weights of a k x k convolution, plus its batch norm's 4 per channel or its bias."""
    return k * k * cin * cout + (4 * cout if batch_norm else cout)


def dense(n, m):
    return n * m + m


def resnet_parameters(channels, depth, width, projection, large):
    n = (depth - 2) // 6
    total = conv(7 if large else 3, channels, width)
    previous = width
    for stage in range(3):
        filters = width * 2**stage
        for _ in range(n):
            total += conv(3, previous, filters) + conv(3, filters, filters)
            if projection and previous != filters:
                total += conv(1, previous, filters)
            previous = filters
    return total + dense(previous, CLASSES)


def googlenet_parameters(channels, modules, width, large):
    scaled = lambda count: max(1, round(count * width))  # noqa: E731
    if large:
        total = conv(7, channels, scaled(64)) + conv(1, scaled(64), scaled(64))
        total += conv(3, scaled(64), scaled(192))
    else:
        total = conv(3, channels, scaled(192))
    previous = scaled(192)
    for filters in list(GOOGLENET_MODULES.values())[:modules]:
        one, three_reduce, three, five_reduce, five, projection = map(scaled, filters)
        total += conv(1, previous, one) + conv(1, previous, three_reduce) + conv(3, three_reduce, three)
        total += conv(1, previous, five_reduce) + conv(5, five_reduce, five) + conv(1, previous, projection)
        previous = one + three + five + projection
    return total + dense(previous, CLASSES)


def train_one_step(model, shape):
    # Eagerly: tracing a 60-layer graph takes far longer than the one step it would run.
    model.compile("adam", "sparse_categorical_crossentropy", run_eagerly=True)
    x = np.random.default_rng(0).random((2, *shape), dtype="float32")
    before = [w.copy() for w in model.get_weights()]
    loss = model.train_on_batch(x, np.array([0, 1]))
    assert np.isfinite(loss)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert model.predict(x, verbose=0).shape == (2, CLASSES)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("depth", [8, 20])
def test_resnet_and_its_plain_twin(shape, depth):
    large = shape[0] >= 64
    residual = resnet_style(shape, CLASSES, depth=depth)
    plain = resnet_style(shape, CLASSES, depth=depth, shortcut=None)
    projection = resnet_style(shape, CLASSES, depth=depth, shortcut="projection")
    assert (residual.name, plain.name) == (f"resnet_{depth}", f"plain_{depth}")
    for model in (residual, plain, projection):
        assert weight_layer_depth(model) == depth  # projection shortcuts run in parallel
    expected = resnet_parameters(shape[-1], depth, 16, projection=False, large=large)
    assert residual.count_params() == plain.count_params() == expected
    assert projection.count_params() == resnet_parameters(shape[-1], depth, 16, True, large)
    assert sum("_add" in layer.name for layer in residual.layers) == (depth - 2) // 2
    assert not any("_add" in layer.name for layer in plain.layers)
    train_one_step(residual, shape)
    if depth == 8:
        train_one_step(plain, shape)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_googlenet_style(shape):
    large = shape[0] >= 64
    model = googlenet_style(shape, CLASSES)
    depth = (3 if large else 1) + 2 * 9 + 1
    assert model.name == f"googlenet_style_{depth}" and weight_layer_depth(model) == depth
    assert model.count_params() == googlenet_parameters(shape[-1], 9, 0.125, large)
    assert sum(layer.name.endswith("_concat") for layer in model.layers) == 9
    train_one_step(model, shape)


def test_googlenet_at_full_width_on_imagenet_inputs_is_the_papers_22_layers():
    model = googlenet_style((224, 224, 3), 1000, width=1.0, batch_norm=False)
    assert weight_layer_depth(model) == 22
    # The paper's Table 1 lists about 6.8M parameters including the 1000-way classifier.
    assert 5.5e6 < model.count_params() < 7.0e6


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_alexnet_style(shape):
    large = shape[0] >= 64
    model = alexnet_style(shape, CLASSES, width=0.25)
    assert weight_layer_depth(model) == 8
    filters = [24, 64, 96, 96, 64]
    kernels = [11 if large else 3, 5, 3, 3, 3]
    expected = sum(
        conv(k, cin, cout, batch_norm=False) for k, cin, cout in zip(kernels, [shape[-1], *filters[:-1]], filters)
    )
    flat = int(np.prod(model.get_layer("flatten").output.shape[1:]))
    expected += dense(flat, 1024) + dense(1024, 1024) + dense(1024, CLASSES)
    assert model.count_params() == expected
    train_one_step(model, shape)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_small_convnet_depth(shape):
    model = small_convnet(shape, CLASSES, filters=(8, 16, 32))
    assert weight_layer_depth(model) == 5
    train_one_step(model, shape)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="6n \\+ 2"):
        resnet_style((8, 8, 1), CLASSES, depth=21)
    with pytest.raises(ValueError, match="shortcut"):
        resnet_style((8, 8, 1), CLASSES, shortcut="dense")
    with pytest.raises(ValueError, match="modules"):
        googlenet_style((8, 8, 1), CLASSES, modules=10)


def test_residual_model_survives_a_keras_file(tmp_path):
    model = resnet_style((8, 8, 1), CLASSES, depth=8)
    x = np.random.default_rng(1).random((3, 8, 8, 1), dtype="float32")
    path = tmp_path / "resnet.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
