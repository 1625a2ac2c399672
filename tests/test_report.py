"""The tour's report: Markdown and self-contained HTML, rebuilt identically, checked in a real browser."""

import os
import shutil
import stat
import subprocess
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from cookbook.cli import main
from cookbook.cli.report import CHECK_IMAGES
from cookbook.cli.report import VERDICT_CLASSES
from cookbook.cli.report import measure_table
from cookbook.cli.report import total_time
from cookbook.cli.report import wall_seconds
from cookbook.cli.report import write_report
from cookbook.harness.experiment import run_recipe
from cookbook.harness.options import RunOptions
from tests.recipe_files import write_recipe

RECIPES = {"relu": "ReLU trains faster.", "pooling": "Pooling & <friends> cut compute."}

MADE_UP = """
DEFAULTS = {"epochs": 2, "batch_size": 8, "seeds": 5}
VARIANTS = {"slow": 0.5, "fast": 0.9}


def train(run):
    return {"test_accuracy": run.spec + run.seed / 100, "history": {"loss": [1.0, 0.5]}}


def conclude(results):
    results.plot_metric("loss", "loss", ylabel="loss")
    error = results.column(lambda record: 1 - record["test_accuracy"])
    return Conclusion({"faster": lower(error["fast"], error["slow"])}, "{name} evidence.")
"""


def fake_run(out, recipe, claim):
    """A result written by the real harness, from made-up records (no training needed)."""
    module = write_recipe(out.parent / f"{out.name}_recipes", recipe, MADE_UP.replace("{name}", recipe), claim=claim)
    return run_recipe(module, RunOptions(out=str(out), verbose=0))


@pytest.fixture()
def out(tmp_path):
    for recipe, claim in RECIPES.items():
        fake_run(tmp_path, recipe, claim)
    return tmp_path


def test_one_seed_says_so_instead_of_a_zero_spread():
    one = {"variants": {"a": {"summary": {"loss": {"mean": 0.5, "std": 0.0, "n": 1, "measured": 1, "values": [0.5]}}}}}
    two = {
        "variants": {"a": {"summary": {"loss": {"mean": 0.5, "std": 0.1, "n": 2, "measured": 2, "values": [0.4, 0.6]}}}}
    }
    assert measure_table(one)[1][0][1][0][0] == "0.5 (1 seed)"
    assert measure_table(two)[1][0][1][0][0] == "0.5 ± 0.1"


def ran(seconds, finished_at):
    return {"seconds": seconds, "finished_at": finished_at}


def test_total_time_is_the_wall_clock_while_recipes_ran():
    two_at_once = [ran(600, 1000), ran(300, 800), ran(400, 1400)]  # 400-1000 and 500-800 overlap
    assert wall_seconds(two_at_once) == 1000
    assert total_time(two_at_once) == (
        "Total time: 16.7 minutes (wall clock) for 3 recipes; "
        "their own times add up to 21.7 minutes, as some ran at once."
    )
    resumed_next_day = [ran(60, 100), ran(60, 86_500)]  # the pause between them is not time spent
    assert wall_seconds(resumed_next_day) == 120
    assert total_time([ran(90, 200)]) == "Total time: 1.5 minutes (wall clock) for 1 recipe."
    skipped = {"recipe": "relu", "verdict": "skipped", "seconds": 0.0}  # never started: no span
    assert wall_seconds([ran(90, 200), skipped]) == 90


@pytest.mark.parametrize("finished_at", [None, "soon", float("nan"), True])
def test_total_time_without_a_usable_finish_adds_the_recipes_own_times(finished_at):
    results = [ran(60, 1000), {"seconds": 30, **({} if finished_at is None else {"finished_at": finished_at})}]
    assert wall_seconds(results) is None
    assert total_time(results) == "Total time: the recipes' own times add up to 1.5 minutes for 2 recipes."


def test_a_tuned_variant_names_the_point_its_seeds_trained_at():
    stats = {"mean": 1.0, "std": 0.0, "values": [1.0, 1.0]}
    variants = {"adam": {"summary": {"loss": stats}, "nuisance": {"learning_rate": 0.003}}, "sgd": {"summary": {}}}
    assert [name for name, _ in measure_table({"variants": variants})[1]] == ["adam (learning_rate 0.003)", "sgd"]


def test_the_measure_table_leaves_out_bookkeeping():
    stats = {"mean": 1.0, "std": 0.0, "values": [1.0, 1.0]}
    summary = {"test_accuracy": stats, "fit_seconds": stats, "steps_per_execution": stats, "seconds": stats}
    measures, _ = measure_table({"variants": {"a": {"summary": summary}}})
    assert measures == ["test_accuracy", "seconds"]


def test_report_lists_every_verdict_and_section(out):
    markdown, page = write_report(out)
    text = markdown.read_text()
    assert "| [pooling](#pooling) | **holds** |" in text and "| [relu](#relu) | **holds** |" in text
    assert text.index("## pooling") < text.index("## relu")  # the order of the guidelines
    # Variants as rows, measures as columns, mean ± spread in each cell.
    header = next(line for line in text.splitlines() if line.startswith("| variant |"))
    column = header.strip("|").split("|").index(" test_accuracy ")
    fast = next(line for line in text.splitlines() if line.startswith("| fast |")).strip("|").split("|")
    assert fast[column].strip() == "0.92 ± 0.01581"  # 0.90 to 0.94 over five seeds
    # First what the verdict rests on, then the table, then the other plots.
    section = text[text.index("## relu") :]
    assert section.index("![evidence.png]") < section.index("| variant |") < section.index("![loss.png](relu/loss.png)")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(page.stat().st_mode) == 0o666 & ~mask  # readable like any file, not private
    html = page.read_text()
    assert "Pooling &amp; &lt;friends&gt;" in html  # escaped
    assert "data:image/png;base64," in html and 'src="relu/' not in html  # self-contained


def test_cookbook_report_rebuilds_the_same_files(out):
    first = [path.read_bytes() for path in write_report(out)]
    result = CliRunner().invoke(main, ["report", str(out)])
    assert result.exit_code == 0, result.output
    assert [(out / name).read_bytes() for name in ("report.md", "report.html")] == first


def test_report_of_a_folder_without_results_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert result.exit_code == 2 and "No results in" in result.output


BROWSER = next(
    (shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)), None
)


@pytest.mark.skipif(BROWSER is None, reason="no headless browser (install Debian's chromium; .ci/run does)")
def test_html_report_loads_in_a_headless_browser(out, tmp_path_factory):
    _, page = write_report(out)
    profile = tmp_path_factory.mktemp("browser-profile")
    dom = subprocess.run(
        [
            BROWSER,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert 'data-images="ok"' in dom  # every embedded plot decoded
    screenshot = tmp_path_factory.mktemp("screenshot") / "report.png"
    subprocess.run(
        [
            BROWSER,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={profile}",
            "--window-size=1200,2400",
            f"--screenshot={screenshot}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    assert screenshot.stat().st_size > 10_000
    print(f"Screenshot of the report: {screenshot}")
    for recipe in RECIPES:
        assert f'<section id="{recipe}">' in dom


HOSTILE = '</td></table>x"><script>alert(1)</script><img src=x onerror=alert(2)><b class="holds" onclick=alert(3)>'


class PageParts(HTMLParser):
    """What a browser would see on the page: its elements with their attributes, and its text."""

    def __init__(self):
        super().__init__()
        self.elements, self.text, self._in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.elements[-1][1]["content"] = data
        else:
            self.text.append(data)


# A string a stranger chose to make Markdown of: cells, headings, links, images, emphasis, code.
MARKDOWN_HOSTILE = "a | b |\n# Heading\n[click](javascript:alert(5)) ![x](http://evil/x.png) *em* _em_ `code` \\| ~~s~~"


def hostile_result(name, hostile=HOSTILE):
    """A result whose every string, key and list entry a stranger chose."""
    table = {"mean": hostile, "std": hostile, "values": [hostile, 1.0]}
    part = {"verdict": hostile, "estimate": hostile, "interval": [hostile, hostile]}
    return {
        "recipe": name,
        "claim": hostile,
        "verdict": hostile,
        "evidence": hostile,
        "seconds": 1.0,
        "measurements": {
            "regime": {
                "axis": hostile,
                "anchor": hostile,
                "points": {hostile: {"verdict": hostile, "parts": {hostile: part}}},
            }
        },
        "variants": {
            hostile: {"summary": {hostile: table, "test_accuracy": table}, "nuisance": {hostile: hostile}, "runs": []}
        },
        "plots": [hostile, "../../outside.png", "/etc/outside.png"],
        "config": {"resolved": {hostile: hostile}, "dataset": hostile, "quick": hostile},
        "scale": {"device": hostile, "strategy": hostile, "replicas": hostile},
        "environment": {"cookbook": hostile, "platform": hostile, "devices": [{"name": hostile}]},
    }


@pytest.mark.parametrize("name", ["hostile", "<img src=x onerror=alert(4)>"])
def test_every_string_of_a_result_reaches_the_page_as_text(tmp_path, name):
    import json

    (tmp_path / "outside.png").write_bytes(b"not yours")
    folder = tmp_path / "out" / name
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(json.dumps(hostile_result(name)))
    _, page = write_report(tmp_path / "out")
    parts = PageParts()
    parts.feed(page.read_text())
    scripts = [attrs for tag, attrs in parts.elements if tag == "script"]
    assert [script.get("content") for script in scripts] == [CHECK_IMAGES]  # the page's own, alone
    for tag, attrs in parts.elements:
        assert not [key for key in attrs if key.startswith("on")], (tag, attrs)
        assert attrs.get("class", "unknown") in {*VERDICT_CLASSES.values(), "unknown"}, (tag, attrs)
        assert tag != "img", (tag, attrs)  # no plot of this result exists, and none outside its folder
        assert attrs.get("href", "#").startswith("#"), (tag, attrs)
    assert sum(HOSTILE in text for text in parts.text) >= 10  # shown to the reader, as text


@pytest.mark.parametrize("hostile", [HOSTILE, MARKDOWN_HOSTILE])
@pytest.mark.parametrize("name", ["hostile", "<img src=x onerror=alert(4)>", "a|b [c](d)"])
def test_every_string_of_a_result_reaches_the_markdown_report_as_text(tmp_path, name, hostile):
    """Read as a Markdown viewer would (CommonMark with tables, raw HTML allowed): only the
    report's own markup, and the stranger's strings shown as they were written."""
    import json

    from markdown_it import MarkdownIt

    folder = tmp_path / "out" / name
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(json.dumps(hostile_result(name, hostile)))
    markdown, _ = write_report(tmp_path / "out")
    parts = PageParts()
    parts.feed(MarkdownIt("commonmark").enable("table").render(markdown.read_text()))
    tags = [tag for tag, _ in parts.elements]
    assert not {"script", "img", "code", "em", "s", "del"} & set(tags), tags
    assert tags.count("h1") == 1 and tags.count("h2") == 1, tags
    for tag, attrs in parts.elements:
        assert not [key for key in attrs if key.startswith("on")], (tag, attrs)
        assert attrs.get("href", "#").startswith("#"), (tag, attrs)
    assert tags.count("table") == 4  # the tour's, the regime map, the regime's and the variants'
    rows = markdown.read_text().split("## ", 1)[1]
    widths = {line.count("|") - line.count("\\|") for line in rows.splitlines() if line.startswith("|")}
    assert widths == {4}  # 3 cells in every row of both tables: no stray cell from a string
    shown = " ".join(" ".join(parts.text).split())
    assert shown.count(" ".join(hostile.split())) >= 8  # shown to the reader, as written


ALONG_AN_AXIS = """
from cookbook.analysis import Regime
from cookbook.analysis import across

DEFAULTS = {"epochs": 2, "batch_size": 8, "seeds": 5}
VARIANTS = {"slow": 0.5, "fast": 0.9}
CONDITIONS = {"small": 0.0, "middle": 0.1, "large": -0.6}  # fast's lead at each point


def train(run):
    lead = run.condition_spec if run.variant == "fast" else 0.0
    return {"score": run.spec + lead + run.seed / 100}


def judge_at(results):
    score = results.column("score")
    return {"fast wins": lower(score["slow"], score["fast"])}


def conclude(results):
    return Conclusion(regime=Regime("size", across(results, judge_at), anchor="middle"), evidence="Along.")
"""


def test_the_regime_map_shows_each_point_of_each_recipes_axis_from_its_results(tmp_path):
    module = write_recipe(tmp_path / "recipes", "sized", ALONG_AN_AXIS)
    run_recipe(module, RunOptions(out=str(tmp_path / "out"), verbose=0))
    fake_run(tmp_path / "out", "relu", "No regime here.")  # a recipe without a regime has no row
    markdown, page = write_report(tmp_path / "out")
    text = markdown.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| [sized](#sized) | size |"))
    # fast leads by 0.4 at small and by 0.5 at middle (holds), trails by 0.2 at large
    assert row == "| [sized](#sized) | size | small: holds; **middle: holds (anchor)**; large: does not hold |"
    regime_map = text[text.index("Where each guideline held") : text.index("\n## ")]
    assert [line for line in regime_map.splitlines() if line.startswith("| [")] == [row]  # relu has no regime
    html = page.read_text()
    assert '<td class="holds"><b>&#9733; middle<br>holds</b></td>' in html
    assert '<td class="does-not-hold">large<br>does not hold</td>' in html
