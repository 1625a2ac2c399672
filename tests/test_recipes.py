"""Every recipe, end to end through the CLI, at the smallest size that still trains."""

import json

import pytest
from click.testing import CliRunner

from cookbook import registry
from cookbook.cli import main
from cookbook.statistics import VERDICTS


@pytest.mark.parametrize("name", list(registry.available_recipes()))
def test_recipe_runs_and_writes_a_computed_verdict(name, data_dir, tmp_path):
    result = CliRunner().invoke(
        main,
        ["run", name, "--quick", "--epochs", "1", "--data-dir", data_dir, "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / name / "result.json").read_text())
    assert written["recipe"] == name
    assert written["claim"] == registry.recipe_claim(name)
    assert written["verdict"] in VERDICTS
    # One seed has no spread: no part of any claim can be decided.
    assert written["verdict"] == "inconclusive"
    assert set(written["measurements"]["parts"].values()) == {"inconclusive"}
    assert written["evidence"]
    assert written["plots"]
    for plot in written["plots"]:
        assert (tmp_path / name / plot).stat().st_size > 1000
    for variant in written["variants"].values():
        assert len(variant["runs"]) == 1
        assert len(variant["runs"][0]["history"]["loss"]) == 1
