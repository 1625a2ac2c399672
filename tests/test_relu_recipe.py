"""The relu recipe end to end, through the CLI, in quick mode."""

import json
import types

import pytest
from click.testing import CliRunner

from cookbook.cli import main
from cookbook.statistics import VERDICTS
from tests.timings import without_timings


def load_recipe_module():
    from cookbook.cli.registry import load_recipe

    return load_recipe("relu")


def differences(a, b, path=""):
    """Where two JSON values differ, as readable paths."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for key in sorted(set(a) | set(b)) for d in differences(a.get(key), b.get(key), f"{path}/{key}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


@pytest.fixture(scope="module")
def two_runs(data_dir, tmp_path_factory):
    outs = [tmp_path_factory.mktemp(f"run{i}") for i in range(2)]
    for out in outs:
        result = CliRunner().invoke(
            main,
            ["run", "relu", "--quick", "--seeds", "2", "--epochs", "2", "--data-dir", data_dir, "--out", str(out)],
        )
        assert result.exit_code == 0, result.output
    return outs, result.output


def test_run_writes_result_plots_and_history(two_runs):
    (out, _), output = two_runs
    result = json.loads((out / "relu" / "result.json").read_text())
    assert result["recipe"] == "relu"
    assert result["verdict"] in VERDICTS
    assert "training accuracy" in result["evidence"]
    networks = ("4-small", "16-he")  # --quick: the anchor and the far corner of the regime
    assert set(result["variants"]) == {
        f"{name} @ {network}" for name in ("relu", "tanh", "sigmoid") for network in networks
    }
    assert result["config"]["resolved"] == {"epochs": 2, "batch_size": 32, "seeds": 2, "networks": list(networks)}
    assert result["environment"]["tensorflow"]
    assert list(result["measurements"]["regime"]["points"]) == list(networks)
    for key, variant in result["variants"].items():
        assert [run["seed"] for run in variant["runs"]] == [0, 1]
        assert len(variant["runs"][0]["history"]["accuracy"]) == 2
        depth = int(key.split(" @ ")[1].split("-")[0])
        assert len(variant["runs"][0]["initial_grad_norms"]) == depth  # one per weight layer
        assert variant["nuisance"] == {"learning_rate": 0.01}  # --quick's one-point space
    for plot in result["plots"]:
        assert (out / "relu" / plot).stat().st_size > 1000
    assert len(list((out / "relu" / "history").glob("*.csv"))) == 12
    assert "relu" in output and result["verdict"] in output  # the verdict table


def test_the_network_names_the_axis_points_and_a_bad_one_is_refused():
    relu = load_recipe_module()
    assert relu.conditions({"networks": ("16-he", "4-small")}) == {"16-he": (16, "he"), "4-small": (4, "small")}
    for bad in ("16", "one-he", "1-he", "8-xavier"):
        with pytest.raises(ValueError, match="DEPTH-INIT"):
            relu.parse_network(bad)


def test_each_initialization_draws_its_scale():
    import keras
    import numpy as np

    relu = load_recipe_module()
    facts = types.SimpleNamespace(input_shape=(8, 8, 1), num_classes=10)
    scales = {}
    for initializer in relu.INITIALIZERS:
        model = relu.build_model(facts, "relu", (16, initializer), 0.01)
        kernel = keras.ops.convert_to_numpy(model.get_layer("conv_8").kernel)  # 3x3x16 fan-in
        scales[initializer] = float(np.std(kernel))
    assert abs(scales["small"] - 0.01) < 0.002
    assert abs(scales["glorot"] - np.sqrt(2 / (144 + 144))) < 0.01  # uniform: variance 2 / (in + out)
    assert abs(scales["he"] - np.sqrt(2 / 144)) < 0.02  # truncated normal, std sqrt(2 / fan-in)


def test_verdict_parts_follow_from_the_measurements(two_runs):
    (out, _), _ = two_runs
    result = json.loads((out / "relu" / "result.json").read_text())
    parts = result["measurements"]["parts"]
    verdicts = set(parts.values())
    expected = "does not hold" if "does not hold" in verdicts else "holds" if verdicts == {"holds"} else "inconclusive"
    assert result["verdict"] == expected


def test_sigmoid_gradient_vanishes_toward_the_input(two_runs):
    """The textbook effect the recipe exists to show, on the real embedded data."""
    (out, _), _ = two_runs
    result = json.loads((out / "relu" / "result.json").read_text())
    attenuation = result["measurements"]["by_network"]["16-he"]["log10_first_to_last_grad"]
    assert attenuation["sigmoid"]["mean"] < -2  # over 100x smaller at the first layer
    assert attenuation["relu"]["mean"] > attenuation["sigmoid"]["mean"] + 2


def test_same_seed_gives_the_same_numbers(two_runs):
    (first, second), _ = two_runs
    results = [json.loads((out / "relu" / "result.json").read_text()) for out in (first, second)]
    assert differences(without_timings(results[0]["variants"]), without_timings(results[1]["variants"])) == []
    assert results[0]["verdict"] == results[1]["verdict"]
