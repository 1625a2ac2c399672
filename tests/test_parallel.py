"""`cookbook run --jobs`: a tour's recipes several at a time, each in a process of its own."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cookbook.cli import main
from cookbook.cli import registry
from cookbook.cli import workers
from cookbook.errors import CookbookError
from cookbook.harness.options import RunOptions
from cookbook.harness.options import ScaleOptions
from cookbook.harness.recipe import stated_seconds
from tests.processes import ROOT
from tests.processes import environment
from tests.recipe_files import SCORES
from tests.recipe_files import write_recipe
from tests.timings import without_timings

TINY = ["--quick", "--epochs", "1", "--seeds", "1"]


def invoke(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args])


def measured(out, recipe):
    """A result's records, without what was timed."""
    return without_timings(json.loads((out / recipe / "result.json").read_text())["variants"])


def test_recipes_run_at_once_give_the_numbers_they_give_one_at_a_time(tmp_path, data_dir):
    recipes = ["relu", "batchnorm"]
    for jobs in (1, 2):
        result = invoke("run", *recipes, *TINY, "--jobs", jobs, "--data-dir", data_dir, "--out", tmp_path / f"j{jobs}")
        assert result.exit_code == 0, result.output
    for recipe in recipes:
        alone, together = measured(tmp_path / "j1", recipe), measured(tmp_path / "j2", recipe)
        assert alone == together
        assert all(record["history"]["loss"] for entry in together.values() for record in entry["runs"])
    # Both ran, each with its own progress lines, and the verdict table lists them in tour order.
    table = result.output[result.output.index("recipe  ") :]
    assert table.index("relu") < table.index("batchnorm")
    assert "[relu] run" in result.output and "[batchnorm] run" in result.output


DIES_IN_A_WORKER = SCORES.replace(
    "def train(run):\n",
    """def train(run):
    import multiprocessing, os, pathlib, signal, time

    marker = pathlib.Path(os.environ["COOKBOOK_TEST_MARKER"])
    if multiprocessing.parent_process() is not None:  # a worker: say so, then die as if killed
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    deadline = time.monotonic() + 120
    while not marker.exists() and time.monotonic() < deadline:  # the tour's process: wait for it
        time.sleep(0.1)
""",
)


def test_a_worker_that_dies_fails_its_recipe_and_not_the_tour(tmp_path):
    for name in ("first", "second"):
        write_recipe(tmp_path / "recipes", name, DIES_IN_A_WORKER)
    paths = [tmp_path / "recipes" / f"{name}.py" for name in ("first", "second")]
    tour = subprocess.run(  # a process of its own, with a time limit: a tour waiting on a dead worker would hang
        [sys.executable, "-m", "cookbook", "run", *paths, "--jobs", "2", "--out", tmp_path / "out"],
        cwd=ROOT,
        env=environment(COOKBOOK_TEST_MARKER=str(tmp_path / "worker-died")),
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = tour.stdout + tour.stderr
    assert tour.returncode == 1, output
    verdicts = {name: json.loads((tmp_path / "out" / name / "result.json").read_text()) for name in ("first", "second")}
    failed = [name for name, verdict in verdicts.items() if verdict["verdict"] == "failed"]
    assert len(failed) == 1, output
    assert "ended with exit code -9" in verdicts[failed[0]]["evidence"]
    assert "1 of 2 recipes failed" in output
    assert (tmp_path / "out" / "report.md").exists()


def child_pids(pid):
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the workers through /proc")
def test_an_interrupt_stops_every_worker_and_says_how_to_resume(tmp_path, data_dir):
    command = [sys.executable, "-m", "cookbook", "run", "dropout", "batchnorm", *TINY, "--jobs", "2"]
    tour = subprocess.Popen(
        [*command, "--data-dir", data_dir, "--out", tmp_path],
        cwd=ROOT,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # As from a shell: pytest-xdist's workers ignore SIGINT, which their children would inherit.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    started, lines = 0, []
    for line in tour.stdout:  # both recipes under way: one here, one in the worker
        lines.append(line)
        started += line.startswith("== Recipe")
        if started == 2:
            break
    workers = child_pids(tour.pid)
    assert workers, "".join(lines)
    tour.send_signal(signal.SIGINT)
    output = tour.communicate(timeout=60)[0]
    assert tour.returncode == 130, "".join(lines) + output
    assert "Run the same command again to resume" in output
    assert not list(tmp_path.glob("*/error.log")), output  # an interrupt is not a recipe failing
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() and "Z" not in _state(pid) for pid in workers):
        assert time.monotonic() < deadline, f"workers {workers} outlived the interrupted tour"
        time.sleep(0.1)


INTERRUPTED_INSIDE_TENSORFLOW = SCORES.replace(
    "def train(run):\n",
    """def train(run):
    import os, signal, time

    try:
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C
        time.sleep(5)
    except KeyboardInterrupt:
        raise SystemError("returned a result with an exception set") from None  # as TensorFlow's C++ can
""",
)


def test_ctrl_c_that_comes_out_of_tensorflow_as_another_error_is_still_an_interrupt(tmp_path):
    write_recipe(tmp_path / "recipes", "stopped", INTERRUPTED_INSIDE_TENSORFLOW)
    write_recipe(tmp_path / "recipes", "other", SCORES)
    tour = subprocess.run(
        [
            sys.executable,
            "-m",
            "cookbook",
            "run",
            tmp_path / "recipes" / "stopped.py",
            tmp_path / "recipes" / "other.py",
        ]
        + ["--jobs", "1", "--out", tmp_path / "out"],
        cwd=ROOT,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=240,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert tour.returncode == 130, tour.stdout + tour.stderr
    assert "Run the same command again to resume" in tour.stderr
    assert not (tmp_path / "out" / "stopped" / "error.log").exists()
    assert not (tmp_path / "out" / "other").exists()  # the tour stopped there


STOPPED_INSIDE_TENSORFLOW_IN_A_WORKER = SCORES.replace(
    "def train(run):\n",
    """def train(run):
    import multiprocessing, os, pathlib, time

    if multiprocessing.parent_process() is not None:  # a worker, until the tour stops it
        try:
            pathlib.Path(os.environ["COOKBOOK_TEST_MARKER"]).touch()
            time.sleep(120)
        except KeyboardInterrupt:
            raise SystemError("returned a result with an exception set") from None  # as TensorFlow's C++ can
    time.sleep(120)  # the tour's process, until Ctrl-C
""",
)


def test_a_worker_stopped_inside_tensorflow_stops_and_fails_nothing(tmp_path):
    """The tour stops its workers with SIGTERM; a worker's interrupt that comes out of TensorFlow
    as another error must still stop it, not fail its recipe and wait for the next one."""
    for name in ("first", "second"):
        write_recipe(tmp_path / "recipes", name, STOPPED_INSIDE_TENSORFLOW_IN_A_WORKER)
    marker = tmp_path / "worker-started"
    tour = subprocess.Popen(
        [sys.executable, "-m", "cookbook", "run", *(tmp_path / "recipes" / f"{n}.py" for n in ("first", "second"))]
        + ["--jobs", "2", "--out", tmp_path / "out"],
        cwd=ROOT,
        env=environment(COOKBOOK_TEST_MARKER=str(marker)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while not marker.exists() and tour.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1)  # the tour's own recipe under way too
    tour.send_signal(signal.SIGINT)
    try:
        output = tour.communicate(timeout=60)[0]
    except subprocess.TimeoutExpired:
        for pid in child_pids(tour.pid):
            os.kill(pid, signal.SIGKILL)
        tour.kill()
        raise AssertionError(f"the interrupted tour did not end: {tour.communicate()[0]}") from None
    assert tour.returncode == 130, output
    assert not list((tmp_path / "out").glob("*/error.log")), output


def _state(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def test_a_worker_stopped_before_its_first_task_leaves_quietly():
    """A short tour can end while a worker still imports TensorFlow; the tour then stops it
    (SIGTERM), which must not end in multiprocessing's "Process cookbook-worker:" traceback."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    tasks, events = context.Queue(), context.Queue()
    process = context.Process(target=workers._serve, args=(tasks, events, False), name="cookbook-worker")
    process.start()
    time.sleep(2.5)  # past the handler's installation, inside the TensorFlow import (several seconds)
    process.terminate()
    process.join(60)
    told = []
    while not events.empty():
        told.append(events.get(timeout=5))
    assert process.exitcode == 0, told
    assert not any("Traceback" in str(event) for event in told), told


SWALLOWING_WORKER = """
import time

from cookbook.cli import console
from cookbook.cli import workers


def import_swallowing_interrupts(verbose, events):
    events.put(("importing",))
    end = time.monotonic() + 3
    while time.monotonic() < end:
        try:
            time.sleep(0.05)
        except KeyboardInterrupt:
            pass  # as an import inside TensorFlow's C++ code can


def serve(tasks, events):
    console.import_tensorflow = lambda verbose: import_swallowing_interrupts(verbose, events)
    workers._serve(tasks, events, False)
"""


def test_a_worker_whose_interrupt_was_swallowed_still_stops(tmp_path, monkeypatch):
    """Stopped while it starts (CI's hung `--jobs 2` tour): an interrupt lost inside an import
    must still end the worker, not leave it waiting for a task the tour will never send."""
    import importlib
    import multiprocessing

    (tmp_path / "swallowing_worker.py").write_text(SWALLOWING_WORKER)
    monkeypatch.syspath_prepend(str(tmp_path))  # a spawned process imports its target by name
    helper = importlib.import_module("swallowing_worker")
    context = multiprocessing.get_context("spawn")
    tasks, events = context.Queue(), context.Queue()
    process = context.Process(target=helper.serve, args=(tasks, events), name="cookbook-worker")
    process.start()
    assert events.get(timeout=120) == ("importing",)
    process.terminate()
    process.join(60)
    if process.is_alive():
        process.kill()
        raise AssertionError("the worker went on waiting for work after the tour stopped it")
    assert process.exitcode == 0


def test_jobs_auto_is_two_at_most_and_one_under_a_strategy(monkeypatch):
    def options(jobs, strategy="none"):
        return RunOptions(jobs=jobs, scale=ScaleOptions(strategy=strategy))

    monkeypatch.setattr(workers, "usable_cores", lambda: 8)
    assert workers.jobs_for(options("auto"), 9) == workers.AUTO_JOBS == 2
    assert workers.jobs_for(options("auto"), 1) == 1  # never more than the recipes
    assert workers.jobs_for(options(5), 3) == 3
    assert workers.jobs_for(options("auto", "mirrored"), 9) == 1
    monkeypatch.setattr(workers, "usable_cores", lambda: 1)
    assert workers.jobs_for(options("auto"), 9) == 1
    with pytest.raises(CookbookError, match="--jobs 1"):
        options(2, "mirrored")


@pytest.mark.parametrize("jobs", ["0", "-2", "two", "1.5", ""])
def test_bad_jobs_are_one_line_with_exit_code_2(jobs, tmp_path):
    result = invoke("run", "relu", "dropout", "--jobs", jobs, "--out", tmp_path)
    assert result.exit_code == 2
    assert result.output.startswith("Error:") and "--jobs" in result.output and "Traceback" not in result.output


def test_jobs_under_a_strategy_is_refused_up_front(tmp_path):
    result = invoke("run", "relu", "dropout", "--jobs", "2", "--strategy", "mirrored", "--out", tmp_path)
    assert result.exit_code == 2 and "--jobs 1" in result.output and not (tmp_path / "relu").exists()


def test_every_recipe_states_its_time_so_the_longest_start_first():
    for name in registry.available_recipes():
        docstring = registry.load_recipe(name).__doc__
        default, quick = stated_seconds(docstring), stated_seconds(docstring, quick=True)
        assert default and quick and quick < default, name


def test_stated_seconds_reads_minutes_and_seconds():
    docstring = (
        "\nTitle: t\nClaim: c.\nTime on CPU: about 2.5 minutes on 2 cores at default settings;\n"
        "    `--quick` about 12 seconds.\n"
    )
    assert stated_seconds(docstring) == 150 and stated_seconds(docstring, quick=True) == 12
    assert stated_seconds("\nTitle: t\nClaim: c.\n") is None
