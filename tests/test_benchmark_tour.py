"""The tour profile (benchmarks/tour.py): each phase from what the runs recorded."""

import json

import pytest
from click.testing import CliRunner

from benchmarks import tour


def result(seconds, runs):
    return {"seconds": seconds, "variants": {"a": {"runs": runs[:1]}, "b": {"runs": runs[1:]}}}


def test_the_phases_add_up_to_the_recipe_time():
    runs = [
        {"seconds": 10.0, "fit_seconds": 8.0, "history": {"epoch_seconds": [3.0, 1.0, 1.0, 1.5]}},
        {"seconds": 4.0},  # trained outside the harness's fit (the ensemble's members)
    ]
    profile = tour.recipe_profile(result(15.0, runs))
    assert profile["runs"] == 2
    assert profile["first epochs"] == 3.0
    assert profile["tracing"] == 2.0  # first epoch minus the median later one
    assert profile["later epochs"] == 3.5
    assert profile["rest of fit"] == pytest.approx(1.5)
    assert profile["rest of runs"] == 6.0
    assert profile["recipe"] == 1.0
    phases = ("first epochs", "later epochs", "rest of fit", "rest of runs", "recipe")
    assert sum(profile[p] for p in phases) == pytest.approx(profile["total"])


def test_the_table_lists_every_recipe_and_the_total(tmp_path):
    for name, seconds in (("pooling", 20.0), ("relu", 30.0)):
        (tmp_path / name).mkdir()
        runs = [{"seconds": 5.0, "fit_seconds": 4.0, "history": {"epoch_seconds": [2.0, 1.0]}}]
        (tmp_path / name / "result.json").write_text(json.dumps(result(seconds, runs)))
    output = CliRunner().invoke(tour.main, [str(tmp_path)])
    assert output.exit_code == 0, output.output
    lines = output.output.splitlines()
    assert [line.split()[0] for line in lines[1:4]] == ["pooling", "relu", "all"]
    assert lines[3].split()[2] == "50.0"


@pytest.mark.parametrize("content", ["not json", "[]", '{"seconds": 1}'])
def test_a_folder_without_readable_results_is_a_clear_error(tmp_path, content):
    (tmp_path / "pooling").mkdir()
    (tmp_path / "pooling" / "result.json").write_text(content)
    output = CliRunner().invoke(tour.main, [str(tmp_path)])
    assert output.exit_code == 1
    assert "not a recipe result" in output.output
    assert "Traceback" not in output.output


def test_an_empty_folder_says_how_to_fill_it(tmp_path):
    output = CliRunner().invoke(tour.main, [str(tmp_path)])
    assert output.exit_code == 1
    assert "cookbook run all --out" in output.output
