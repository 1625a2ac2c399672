import numpy as np
import pytest

from cookbook import optimizers
from cookbook.surfaces import SURFACES
from cookbook.surfaces import descend
from cookbook.surfaces import evaluate_grid


def test_descend_records_every_step_and_follows_the_gradient():
    def bowl(point):
        return point[0] ** 2 + 4 * point[1] ** 2

    path = descend(optimizers.GradientDescent(0.1), bowl, (1.0, 1.0), steps=3)
    assert path.shape == (4, 2)
    # w <- w - 0.1 * (2x, 8y): x shrinks by 0.8 and y by 0.2 each step.
    np.testing.assert_allclose(path[:, 0], 0.8 ** np.arange(4), rtol=1e-6)
    np.testing.assert_allclose(path[:, 1], 0.2 ** np.arange(4), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", sorted(SURFACES))
def test_surfaces_have_the_documented_minima(name):
    function = SURFACES[name]["function"]
    if name == "rosenbrock":
        assert float(function(np.array([1.0, 1.0]))) == 0.0
    else:
        assert float(function(np.array([0.0, 0.0]))) == 0.0  # the saddle itself
        assert float(function(np.array([0.0, np.sqrt(2)]))) == pytest.approx(-1.0)
    xs, ys, values = evaluate_grid(function, SURFACES[name]["extent"], resolution=50)
    assert values.shape == (50, 50) and np.isfinite(values).all()


def test_momentum_gets_further_along_the_ravine_than_plain_descent():
    spec = SURFACES["rosenbrock"]
    plain = descend(optimizers.GradientDescent(1e-3), spec["function"], spec["start"], 300)
    heavy = descend(optimizers.Momentum(1e-3, momentum=0.9), spec["function"], spec["start"], 300)
    assert float(spec["function"](heavy[-1])) < float(spec["function"](plain[-1]))
