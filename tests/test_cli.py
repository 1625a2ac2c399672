import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cookbook.cli import main
from cookbook.cli import registry

ROOT = Path(__file__).resolve().parent.parent


def invoke(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args])


def test_help_explains_every_command():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("list", "run", "show", "copy", "info", "report"):
        assert command in result.output
    run_help = invoke("run", "--help").output
    for option in ("--dataset", "--data-dir", "--epochs", "--batch-size", "--seeds", "--seed", "--quick", "--out"):
        assert option in run_help


def test_list_shows_every_recipe_with_its_claim():
    result = invoke("list")
    assert result.exit_code == 0
    for name in registry.available_recipes():
        assert name in result.output
        assert registry.recipe_claim(name) in result.output


def test_show_prints_the_recipe_source():
    result = invoke("show", "relu")
    assert result.exit_code == 0
    assert result.output == (ROOT / "recipes" / "relu.py").read_text()


def test_copy_writes_the_script_and_refuses_to_overwrite(tmp_path):
    target = tmp_path / "mine.py"
    assert invoke("copy", "relu", target).exit_code == 0
    assert target.read_text() == (ROOT / "recipes" / "relu.py").read_text()
    refused = invoke("copy", "relu", target)
    assert refused.exit_code == 2 and "--force" in refused.output
    assert invoke("copy", "relu", target, "--force").exit_code == 0
    folder = tmp_path / "scripts"
    folder.mkdir()
    assert invoke("copy", "relu", folder).exit_code == 0
    assert (folder / "relu.py").exists()


def test_copied_recipe_runs_as_a_script_outside_the_repository(tmp_path):
    invoke("copy", "relu", tmp_path / "relu.py")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "relu.py", "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "--quick" in result.stdout and "ReLU" in result.stdout


def test_info_reports_versions_devices_and_offline_datasets(data_dir):
    result = invoke("info", "--data-dir", data_dir)
    assert result.exit_code == 0
    for field in (
        "tensorflow:",
        "keras:",
        "devices:",
        "gpu:",
        "offline datasets:",
        "--device auto:",
        "--strategy:",
        "--jit (XLA):",
        "--mixed-precision:",
    ):
        assert field in result.output
    datasets = next(line for line in result.output.splitlines() if line.startswith("offline datasets:"))
    assert [name.strip() for name in datasets.split(":", 1)[1].split(",")] == ["digits (embedded)"]  # once


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "nope"], "Unknown recipe 'nope'; choose from:"),
        (["run", "relu", "--dataset", "nope"], "Unknown dataset 'nope'"),
        (["run", "relu", "--dataset", "./missing/folder"], "does not exist"),
        (["run", "relu", "--epochs", "0"], "--epochs"),
        (["run", "relu", "--batch-size", "-3"], "--batch-size"),
        (["run", "relu", "--seeds", "0"], "--seeds"),
        (["run", "relu", "--epochs", "many"], "--epochs"),
        (["show", "nope"], "Unknown recipe 'nope'"),
        (["copy", "nope"], "Unknown recipe 'nope'"),
        (["run"], "Missing argument"),
        (["run", "all", "relu"], "'all' runs every recipe"),
        (["run", "./missing_recipe.py"], "Unknown recipe './missing_recipe.py'"),
    ],
)
def test_bad_input_is_one_line_with_exit_code_2(args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert message in lines[0]
    assert "Traceback" not in result.output


def test_unwritable_output_folder_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = invoke("run", "relu", "--out", blocker / "results")
    assert result.exit_code == 2
    assert "Cannot write results" in result.output


def test_the_installed_command_shape_fails_cleanly_in_a_real_process():
    """Through `python -m cookbook`: a real exit code and stderr, no traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "cookbook", "run", "relu", "--epochs", "-1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("Error:")
    assert "Traceback" not in result.stderr


def readme():
    return (ROOT / "README.md").read_text()


def test_the_readme_recipe_table_gives_every_claim_in_tour_order():
    rows = re.findall(r"^\| `(\w+)` \| (.+) \|$", readme().split("## Recipes", 1)[1].split("##", 1)[0], re.MULTILINE)
    assert rows == [(name, registry.recipe_claim(name)) for name in registry.available_recipes()]


def test_the_tour_follows_the_guidelines_order():
    assert list(registry.available_recipes()) == [
        "convolution",
        "pooling",
        "relu",
        "minibatch",
        "dropout",
        "optimizers",
        "batchnorm",
        "ensemble",
        "depth",
    ]


def test_the_recipe_written_as_the_readme_says_runs_and_concludes(tmp_path, data_dir):
    section = readme().split("## Write your own recipe", 1)[1]
    source = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    (tmp_path / "width.py").write_text(source)
    result = invoke("run", tmp_path / "width.py", "--quick", "--seeds", "2", "--data-dir", data_dir, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "width" / "result.json").read_text())
    assert written["claim"] == "A wider hidden layer classifies images better than a narrow one."
    assert set(written["variants"]) == {"narrow", "wide"}
    assert written["verdict"] == written["measurements"]["parts"]["wide beats narrow"]
    assert written["plots"] == ["evidence.png", "validation_accuracy.png"]  # the parts' intervals first
    assert "A wider hidden layer classifies images better" in (tmp_path / "report.md").read_text()


def test_copy_notebook_gives_a_notebook_that_runs_top_to_bottom(tmp_path, data_dir):
    import nbclient
    import nbformat

    target = tmp_path / "relu.ipynb"
    result = invoke("copy", "relu", target, "--notebook")
    assert result.exit_code == 0, result.output
    notebook = nbformat.read(str(target), as_version=4)
    nbformat.validate(notebook)
    kinds = [cell.cell_type for cell in notebook.cells]
    assert kinds[0] == "markdown" and kinds[1] == "code" and "markdown" in kinds[2:]
    assert notebook.cells[0].source.startswith("# ReLU trains faster")
    assert "RUN_SETTINGS" in notebook.cells[1].source
    assert not any("__main__" in cell.source or "start_script" in cell.source for cell in notebook.cells)
    # Tiny settings in the first code cell, as a user would edit them.
    notebook.cells[1].source += f"\nRUN_SETTINGS.update(data_dir={data_dir!r}, out={str(tmp_path / 'out')!r})"
    nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    printed = "".join(output.get("text", "") for output in notebook.cells[-1].outputs).strip().splitlines()
    assert printed[0].startswith("[relu] run 1 of 6: relu, 4-small, seed 0 (")
    assert printed[-1].startswith(("holds:", "does not hold:", "inconclusive:")), printed
    assert json.loads((tmp_path / "out" / "relu" / "result.json").read_text())["recipe"] == "relu"


def test_the_readme_options_table_names_every_option_of_run():
    section = readme().split("Options of `cookbook run`", 1)[1].split("\n\n", 2)[1]
    documented = set(re.findall(r"--[a-z][a-z-]*", "\n".join(line.split(" | ")[0] for line in section.splitlines())))
    run = main.commands["run"]
    options = {name for param in run.params for name in (*param.opts, *param.secondary_opts) if name.startswith("--")}
    assert documented == options - {"--help"}


def test_a_worker_of_a_cluster_whose_recipe_failed_exits_non_zero():
    """It printed "This worker's training is done" and exited 0 while its recipe had failed."""
    from cookbook.cli.commands import finish
    from cookbook.errors import CookbookError
    from cookbook.harness.options import RunOptions
    from cookbook.harness.options import ScaleOptions

    worker = ScaleOptions(strategy="multiworker", workers="127.0.0.1:1,127.0.0.1:2", worker_index=1)
    options = RunOptions(scale=worker)
    failed = {"recipe": "relu", "verdict": "failed", "seconds": 0.0, "evidence": "InvalidArgumentError"}
    with pytest.raises(CookbookError, match="1 of 2 recipes failed on this worker") as raised:
        finish([failed, {**failed, "verdict": "holds"}], options, report=False)
    assert raised.value.exit_code == 1
    finish([{**failed, "verdict": "holds"}], options, report=False)  # done: no error
