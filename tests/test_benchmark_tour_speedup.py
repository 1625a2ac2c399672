"""The side-by-side tour benchmark (benchmarks/tour_speedup.py): order, ratios, bad revisions."""

import click
import pytest
from click.testing import CliRunner

from benchmarks import tour_speedup


def test_the_trees_alternate_abba_and_each_pair_gives_a_ratio(tmp_path):
    ran = []
    seconds = {"old": iter([100.0, 120.0, 90.0]), "new": iter([50.0, 66.0, 54.0])}

    def run(tree, out, quick):
        ran.append((tree, out.name, quick))
        return next(seconds[tree])

    times = tour_speedup.alternate({"old": "old", "new": "new"}, 3, True, tmp_path, run=run)
    assert [name for _, name, _ in ran] == ["old-1", "new-1", "new-2", "old-2", "old-3", "new-3"]
    assert all(quick for _, _, quick in ran)
    each, median = tour_speedup.ratios(times["old"], times["new"])
    assert each == pytest.approx([0.5, 0.55, 0.6])
    assert median == pytest.approx(0.55)


def test_a_failing_tour_is_an_error_that_names_its_log(tmp_path):
    (tmp_path / "cookbook").mkdir()
    (tmp_path / "cookbook" / "__init__.py").write_text("")  # a regular package: found before an installed one
    (tmp_path / "cookbook" / "__main__.py").write_text("raise SystemExit(3)\n")
    with pytest.raises(click.ClickException, match="exit 3"):
        tour_speedup.run_tour(tmp_path, tmp_path / "out", quick=True)


def test_an_unknown_revision_is_a_clear_error():
    result = CliRunner().invoke(tour_speedup.main, ["--against", "no-such-revision-anywhere", "--pairs", "1"])
    assert result.exit_code == 1
    assert "Cannot check out 'no-such-revision-anywhere'" in result.output


def test_without_git_it_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on it
    result = CliRunner().invoke(tour_speedup.main, ["--pairs", "1"])
    assert result.exit_code == 1
    assert "git, which is not installed" in result.output


def test_a_revision_with_slashes_and_dots_gets_one_folder_and_log_per_tour(tmp_path):
    outs = []
    tour_speedup.alternate(
        {"origin/v1.2": "old"}, 2, True, tmp_path, run=lambda tree, out, quick: outs.append(out) or 1.0
    )
    assert [out.parent for out in outs] == [tmp_path, tmp_path]
    assert len({out.name for out in outs}) == 2


def test_each_tour_keeps_its_own_log_even_when_its_name_has_a_dot(tmp_path):
    (tmp_path / "cookbook").mkdir()
    (tmp_path / "cookbook" / "__init__.py").write_text("")
    (tmp_path / "cookbook" / "__main__.py").write_text("print('tour output'); raise SystemExit(3)\n")
    with pytest.raises(click.ClickException, match=r"v1\.2-1\.log"):
        tour_speedup.run_tour(tmp_path, tmp_path / "v1.2-1", quick=True)
    assert "tour output" in (tmp_path / "v1.2-1.log").read_text()
