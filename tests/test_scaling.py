"""Devices, strategies, mixed precision and XLA: options, and distributed training matching one device."""

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cookbook.cli import main
from cookbook.errors import CookbookError
from cookbook.harness import scaling
from cookbook.harness.options import ScaleOptions
from cookbook.harness.options import tf_config
from tests.processes import environment
from tests.processes import finish
from tests.processes import start
from tests.processes import start_workers
from tests.timings import without_timings

HELPER = Path(__file__).with_name("distributed_run.py")


def run_cli(*args):
    return CliRunner().invoke(main, ["run", "relu", "--quick", "--epochs", "1", *args])


def test_gpu_without_one_fails_cleanly(tmp_path):
    result = run_cli("--device", "gpu", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "sees no GPU" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    "options, message",
    [
        ({"jit": True, "strategy": "mirrored"}, "--jit cannot be combined"),
        ({"workers": "a:1,b:2", "worker_index": 0}, "only apply to --strategy multiworker"),
        ({"strategy": "multiworker", "workers": "nohost", "worker_index": 0}, "host:port"),
        ({"strategy": "multiworker", "workers": "a:1,b:2", "worker_index": 2}, "between 0 and 1"),
        ({"strategy": "multiworker", "worker_index": 0}, "needs --workers"),
    ],
)
def test_impossible_combinations_are_refused(options, message):
    with pytest.raises(CookbookError, match=message):
        ScaleOptions(**options)


def test_cli_refuses_jit_with_a_strategy(tmp_path):
    result = run_cli("--jit", "--strategy", "mirrored", "--out", str(tmp_path))
    assert result.exit_code == 2 and "--jit cannot be combined" in result.output


def test_workers_become_tf_config():
    assert tf_config("10.0.0.1:2222,10.0.0.2:2222", 1) == {
        "cluster": {"worker": ["10.0.0.1:2222", "10.0.0.2:2222"]},
        "task": {"type": "worker", "index": 1},
    }


def weights(path):
    with np.load(path) as saved:
        return [saved[key] for key in sorted(saved.files, key=lambda k: int(k.split("_")[1]))]


def assert_same_weights(a, b):
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x, y, atol=1e-5)


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    """The reference: the same training in one process on one device."""
    folder = tmp_path_factory.mktemp("single")
    finish([start([HELPER, "--out", folder, "--weights", folder / "single.npz"], environment())])
    return weights(folder / "single.npz")


def test_mirrored_over_two_cpus_matches_one_device(tmp_path, single):
    env = environment(COOKBOOK_VIRTUAL_CPUS="2")
    args = [HELPER, "--strategy", "mirrored", "--out", tmp_path / "mirrored", "--weights", tmp_path / "m.npz"]
    finish([start(args, env)])
    assert_same_weights(weights(tmp_path / "m.npz"), single)
    result = json.loads((tmp_path / "mirrored" / "distributed_run" / "result.json").read_text())
    assert result["scale"]["replicas"] == 2 and result["scale"]["strategy"] == "mirrored"


def test_two_workers_match_one_process_and_only_the_chief_writes(tmp_path, single):
    processes = start_workers(
        2,
        lambda index: [HELPER, "--out", tmp_path / f"worker{index}", "--weights", tmp_path / f"w{index}.npz"],
        environment(),
    )
    finish(processes)
    chief, other = weights(tmp_path / "w0.npz"), weights(tmp_path / "w1.npz")
    for a, b in zip(chief, other, strict=True):
        np.testing.assert_array_equal(a, b)
    assert_same_weights(chief, single)
    assert (tmp_path / "worker0" / "distributed_run" / "result.json").exists()
    assert not (tmp_path / "worker1").exists()


def test_mixed_precision_and_xla_run_a_quick_recipe_on_cpu(tmp_path, data_dir):
    flags = ["--mixed-precision", "--jit", "--device", "cpu"]  # together: one run covers both paths
    # relu: the smallest recipe with explicit layers (max pooling) and gradient-norm probes,
    # each XLA-compiled in bfloat16 (every recipe runs so in the scale matrix).
    args = [
        "-m",
        "cookbook",
        "run",
        "relu",
        "--quick",
        "--epochs",
        "1",
        *flags,
        "--data-dir",
        data_dir,
        "--out",
        tmp_path,
    ]
    output = finish([start(args, environment())])[0]
    result = json.loads((tmp_path / "relu" / "result.json").read_text())
    assert result["scale"]["mixed_precision"] == "mixed_bfloat16", output[-2000:]
    assert result["scale"]["jit"] is True
    for variant in result["variants"].values():
        for run in variant["runs"]:  # what really ran, read from the trained models
            assert run["compute_dtype"] == "bfloat16" and run["jit_compile"] is True
            assert run["history"]["loss"][0] < 10


def test_mirrored_over_virtual_cpus_turns_onednn_off_before_tensorflow(monkeypatch):
    """With oneDNN's kernels, replicas on logical devices of one CPU read each other's tensors
    (the scale matrix's mirrored tour failed 5 of 9 recipes on this machine's Intel CPU)."""
    from cookbook.harness.options import ScaleOptions

    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    monkeypatch.setitem(sys.modules, "tensorflow", object())  # loaded already: too late to set
    assert scaling.before_tensorflow(ScaleOptions(strategy="mirrored", virtual_cpus=2)) is None
    assert "TF_ENABLE_ONEDNN_OPTS" not in os.environ
    monkeypatch.delitem(sys.modules, "tensorflow")  # as before the import
    assert scaling.before_tensorflow(ScaleOptions(strategy="mirrored")) is None  # one device: nothing to mix
    assert scaling.before_tensorflow(ScaleOptions(virtual_cpus=2)) is None  # no strategy
    told = scaling.before_tensorflow(ScaleOptions(strategy="mirrored", virtual_cpus=2))
    assert "TF_ENABLE_ONEDNN_OPTS=0" in told and os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0"
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")  # the user's own choice stays
    assert scaling.before_tensorflow(ScaleOptions(strategy="mirrored", virtual_cpus=2)) is None
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "1"


def test_a_keras_config_the_recipes_do_not_assume_is_overridden_and_recorded(tmp_path):
    """keras.json's channels_first changed every convolution's numbers with nothing saying so."""
    keras_home = tmp_path / "keras"
    keras_home.mkdir()
    (keras_home / "keras.json").write_text(json.dumps({"image_data_format": "channels_first", "backend": "tensorflow"}))
    tour = ["-m", "cookbook", "run", "pooling", "--quick", "--epochs", "1", "--seeds", "1"]
    written = {}
    for name, env in (("standard", environment()), ("channels_first", environment(KERAS_HOME=str(keras_home)))):
        (output,) = finish([start([*tour, "--out", tmp_path / name], env)])
        written[name] = json.loads((tmp_path / name / "pooling" / "result.json").read_text())
    assert "Your Keras config sets image_data_format channels_first" in output
    assert written["channels_first"]["scale"]["keras_config_overridden"] == {"image_data_format": "channels_first"}
    assert "keras_config_overridden" not in written["standard"]["scale"]
    assert without_timings(written["channels_first"]["variants"]) == without_timings(written["standard"]["variants"])
