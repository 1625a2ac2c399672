"""The per-backend benchmark (benchmarks/backends.py) and its parity measure (benchmarks/parity.py)."""

import subprocess

import click
import keras
import pytest

from benchmarks import backends
from benchmarks import parity


def timed(ratio):
    return {"ratio": ratio, "interval": [ratio - 0.1, ratio + 0.1]}


def payloads(ratio, documented=None):
    average = {"configurations": 24, "output": 1e-7, "gradient": 0.0, "documented": documented}
    return {
        "layers": {"layers": {"MaxPooling2D": timed(ratio), "AveragePooling2D": timed(ratio)}},
        "optimizers": {"optimizers": {"Adam / Adam": timed(2 * ratio)}},
        "parity": {
            "parity": {
                "layers": {"AveragePooling2D": average, "Dropout": {"output": 0.0, "gradient": None}},
                "optimizers": {"largest": 3e-6},
            }
        },
    }


def test_the_table_puts_each_backend_in_a_column_and_footnotes_known_differences():
    documented = {"configurations": 12, "output": 0.53}
    text = backends.table({"jax": payloads(0.5), "torch": payloads(0.8, documented)})
    header, *rows = text.splitlines()
    assert header.split() == ["jax", "torch"]
    adam = next(row for row in rows if row.startswith("Adam / Adam"))
    assert adam.split()[-4:] == ["1.00", "(0.90-1.10)", "1.60", "(1.50-1.70)"]
    assert "3.0e-06" in next(row for row in rows if row.startswith("optimizers"))
    average = next(row for row in rows if row.startswith("AveragePooling2D (output"))
    assert average.rstrip().endswith("*") and average.count("*") == 1
    assert rows[-1].startswith("* AveragePooling2D on torch: 12 more") and "0.53" in rows[-1]


def test_a_failing_child_is_one_error_naming_the_backend(monkeypatch, tmp_path):
    failed = subprocess.CompletedProcess([], 1, stdout="", stderr="ModuleNotFoundError: No module named 'jax'")
    monkeypatch.setattr(backends.subprocess, "run", lambda *args, **kwargs: failed)
    with pytest.raises(click.ClickException, match="benchmarks.layers failed on jax:\nModuleNotFoundError"):
        backends.run_on("jax", 10, tmp_path)


def test_parity_sees_a_block_that_differs_from_its_built_in(monkeypatch):
    same = parity.pooling_parity("max")
    assert same["output"] == 0.0 and same["gradient"] < 1e-5
    # A mutant: "our" max pooling is the average.
    monkeypatch.setitem(parity.pooling.PAIRS, "max", (parity.pooling.AveragePooling2D, keras.layers.MaxPooling2D))
    assert parity.pooling_parity("max")["output"] > 0.1
