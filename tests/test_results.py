import errno
import json
import os
import stat

import numpy as np
import pytest

from cookbook import results


def test_write_json_atomic_turns_nan_into_null(tmp_path):
    path = tmp_path / "sub" / "deeper" / "result.json"  # folders made as needed
    results.write_json_atomic(path, {"a": float("nan"), "b": np.float32(1.5), "c": np.arange(2)})
    assert json.loads(path.read_text()) == {"a": None, "b": 1.5, "c": [0, 1]}


def test_a_second_write_replaces_the_file_readable_by_all_as_a_plain_file_would_be(tmp_path):
    path = tmp_path / "result.json"
    results.write_json_atomic(path, {"first": 1})
    results.write_json_atomic(path, {"second": 2})
    assert json.loads(path.read_text()) == {"second": 2}
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask  # not mkstemp's private 0o600


class FillsUp:
    """A file whose disk fills halfway through the text."""

    def __init__(self, file):
        self.file = file

    def write(self, text):
        self.file.write(text[: len(text) // 2])
        self.file.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.file.close()


@pytest.mark.parametrize("fault", ["write", "fsync", "replace"])
def test_a_write_interrupted_at_any_step_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch, fault):
    path = tmp_path / "result.json"
    results.write_json_atomic(path, {"old": 1})
    reached = []

    def no_space(*args):
        reached.append(fault)
        raise OSError(errno.ENOSPC, "No space left on device")

    if fault == "write":
        real_fdopen = os.fdopen
        monkeypatch.setattr(results.os, "fdopen", lambda *args: reached.append(fault) or FillsUp(real_fdopen(*args)))
    else:
        monkeypatch.setattr(results.os, fault, no_space)
    with pytest.raises(OSError):
        results.write_json_atomic(path, {"new": 2})
    assert reached, "the fault was never reached"
    assert json.loads(path.read_text()) == {"old": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


def test_environment_records_versions_and_devices():
    env = results.environment()
    for key in ("python", "tensorflow", "keras", "tensorflow_datasets", "devices"):
        assert env[key]
    assert any(device["type"] == "CPU" for device in env["devices"])
