import json

import numpy as np
import pytest

from cookbook import results


def test_write_json_atomic_turns_nan_into_null(tmp_path):
    path = tmp_path / "sub" / "result.json"
    results.write_json_atomic(path, {"a": float("nan"), "b": np.float32(1.5), "c": np.arange(2)})
    assert json.loads(path.read_text()) == {"a": None, "b": 1.5, "c": [0, 1]}


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "result.json"
    results.write_json_atomic(path, {"old": 1})
    with pytest.raises(TypeError):
        results.write_json_atomic(path, {"new": object()})
    assert json.loads(path.read_text()) == {"old": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


def test_environment_records_versions_and_devices():
    env = results.environment()
    for key in ("python", "tensorflow", "keras", "tensorflow_datasets", "devices"):
        assert env[key]
    assert any(device["type"] == "CPU" for device in env["devices"])
