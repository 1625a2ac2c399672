"""Faults and bad input a user can cause: every one ends in exit 0, 1 or 2 with one line, no
traceback, and nothing already finished lost."""

import json
import os
import shutil
import signal

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from cookbook.cli import main
from cookbook.harness import checkpoints
from cookbook.harness import locking
from cookbook.results import write_json_atomic
from tests.processes import ROOT
from tests.processes import environment
from tests.processes import start
from tests.recipe_files import SCORES
from tests.recipe_files import write_recipe

TINY = ["--quick", "--epochs", "1"]


def cluster(workers, **other_tasks):
    """A TF_CONFIG for worker 0 of `workers` (and `other_tasks`: type -> addresses)."""
    return json.dumps({"cluster": {"worker": workers, **other_tasks}, "task": {"type": "worker", "index": 0}})


def invoke(*args, env=None):
    return CliRunner().invoke(main, [str(arg) for arg in args], env=env)


def assert_clean(result, code, message):
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and message in errors[0], result.output


# Arguments and environment, checked before anything trains


@pytest.mark.parametrize(
    "args, env, message",
    [
        (["--seed", str(2**32)], {}, "--seed"),
        (["--seed", str(2**32 - 1), "--seeds", "2"], {}, "past the last seed"),
        (["--batch-size", str(2**40)], {}, "--batch-size"),
        (["--epochs", str(10**9)], {}, "--epochs"),
        ([], {"COOKBOOK_VIRTUAL_CPUS": "two"}, "COOKBOOK_VIRTUAL_CPUS must be a whole number"),
        ([], {"COOKBOOK_VIRTUAL_CPUS": "-1"}, "COOKBOOK_VIRTUAL_CPUS"),
        (["--strategy", "multiworker"], {"TF_CONFIG": "{not json"}, "TF_CONFIG is not a usable"),
        (["--strategy", "multiworker"], {"TF_CONFIG": '{"cluster": {"worker": ["a:1"]}, "task": {}}'}, "TF_CONFIG"),
        (["--strategy", "multiworker"], {"TF_CONFIG": "[1, 2]"}, "TF_CONFIG"),
        # Clusters that parse but are wrong: TensorFlow fails, or waits for a peer forever.
        (["--strategy", "multiworker"], {"TF_CONFIG": cluster(["localhost:1", "localhost:1"])}, "listed twice"),
        (["--strategy", "multiworker"], {"TF_CONFIG": cluster(["localhost:1", "localhost:70000"])}, "port from 1"),
        (["--strategy", "multiworker"], {"TF_CONFIG": cluster(["localhost", "localhost:2"])}, "not host:port"),
        (["--strategy", "multiworker"], {"TF_CONFIG": cluster([2222, "localhost:2"])}, "not host:port"),
        (["--strategy", "multiworker"], {"TF_CONFIG": cluster(["localhost:1"], ps=["localhost:2"])}, "not ['ps']"),
        (["--strategy", "multiworker"], {"TF_CONFIG": cluster(["localhost:1"], chief="localhost:2")}, "addresses"),
        (["--strategy", "multiworker", "--workers", "a:1,a:1", "--worker-index", "0"], {}, "listed twice"),
        (["--strategy", "multiworker", "--workers", "a:0,b:1", "--worker-index", "0"], {}, "port from 1"),
    ],
)
def test_bad_settings_and_environment_are_refused_up_front(tmp_path, args, env, message):
    result = invoke("run", "relu", *TINY, *args, "--out", tmp_path, env=env)
    assert_clean(result, 2, message)
    assert not (tmp_path / "relu").exists()  # nothing trained


def test_a_file_where_the_recipe_folder_goes_is_refused(tmp_path):
    (tmp_path / "relu").write_text("not a folder")
    assert_clean(invoke("run", "relu", *TINY, "--out", tmp_path), 2, "is a file")


def test_an_unusable_data_dir_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert_clean(invoke("run", "relu", *TINY, "--data-dir", blocker / "sub", "--out", tmp_path), 2, "--data-dir")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_data_dir_without_the_data_is_refused(tmp_path):
    readonly = tmp_path / "readonly"
    readonly.mkdir(mode=0o500)
    assert_clean(invoke("run", "relu", *TINY, "--data-dir", readonly, "--out", tmp_path), 2, "cannot be prepared")


def test_copy_to_an_impossible_name_is_one_line(tmp_path):
    assert_clean(invoke("copy", "relu", tmp_path / ("x" * 300 + ".py")), 2, "Cannot write")


# The results folder


def finished_run(out, name="scores"):
    module = write_recipe(out.parent / f"{out.name}-{name}-recipes", name, SCORES)
    from cookbook.harness.experiment import run_recipe
    from cookbook.harness.options import RunOptions

    return run_recipe(module, RunOptions(out=str(out), verbose=0, seeds=2))


@pytest.mark.parametrize("damage", ["truncated", "empty object", "a folder", "a list", "missing plot"])
def test_one_unreadable_result_does_not_cost_the_others_their_report(tmp_path, damage):
    out = tmp_path / "out"
    finished_run(out, "good")
    finished_run(out, "bad")
    bad = out / "bad" / "result.json"
    if damage == "truncated":
        bad.write_text(bad.read_text()[:100])
    elif damage == "empty object":
        bad.write_text("{}")
    elif damage == "a folder":
        bad.unlink()
        bad.mkdir()
    elif damage == "a list":
        bad.write_text("[1, 2]")
    else:
        result = json.loads(bad.read_text())
        write_json_atomic(bad, {**result, "plots": ["gone.png", 7]})
    result = invoke("report", out)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    report = (out / "report.md").read_text()
    assert "## good" in report
    if damage != "missing plot":
        assert f"Warning: skipping {bad}" in result.output and "## bad" not in report
    else:
        assert "## bad" in report and "gone.png" not in report


def test_a_folder_where_the_report_goes_is_one_line(tmp_path):
    finished_run(tmp_path / "out")
    (tmp_path / "out" / "report.md").mkdir()
    assert_clean(invoke("report", tmp_path / "out"), 2, "Cannot write the report")


# One writer per recipe folder


def test_a_second_run_into_the_same_folder_is_refused_while_the_first_holds_it(tmp_path):
    with locking.exclusive(tmp_path / "relu"):
        result = invoke("run", "relu", *TINY, "--out", tmp_path)
    assert_clean(result, 2, "is being written by process")


HOLD_THE_LOCK = """
import pathlib, sys, time
from cookbook.harness.locking import exclusive
with exclusive(pathlib.Path(sys.argv[1])):
    print("holding", flush=True)
    time.sleep(60)
"""


def test_a_lock_left_by_a_killed_run_is_taken_over(tmp_path):
    holder = start(["-c", HOLD_THE_LOCK, tmp_path / "scores"], environment())
    assert holder.stdout.readline().strip() == "holding"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    result = finished_run(tmp_path)
    assert result["verdict"] in ("holds", "does not hold", "inconclusive")


# A recipe that fails, and a disk that fills


FAILING = SCORES.replace("def train(run):\n", "def train(run):\n    raise RuntimeError('boom in train')\n")


def test_every_worker_of_a_cluster_whose_recipe_failed_exits_non_zero(tmp_path):
    """The other workers printed "This worker's training is done" and exited 0 though the
    recipe had failed on them: as child processes, a cluster of two on 127.0.0.1."""
    from tests.processes import start_workers

    recipe = write_recipe(tmp_path / "recipes", "fails", FAILING).__file__
    workers = start_workers(
        2, lambda index: ["-m", "cookbook", "run", recipe, "--out", tmp_path / f"w{index}"], environment()
    )
    try:
        outputs = [worker.communicate(timeout=240)[0] for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    for worker, output in zip(workers, outputs):
        assert worker.returncode == 1, output
        assert "boom in train" in output and "Traceback" not in output, output
        assert "training is done" not in output
    assert "recipes failed on this worker" in outputs[1]


def test_a_failing_recipe_does_not_end_the_tour(tmp_path):
    write_recipe(tmp_path / "recipes", "fails", FAILING)
    write_recipe(tmp_path / "recipes", "works", SCORES)
    result = invoke(
        "run", tmp_path / "recipes" / "fails.py", tmp_path / "recipes" / "works.py", "--out", tmp_path / "out"
    )
    assert_clean(result, 1, "1 of 2 recipes failed")
    assert "RuntimeError: boom in train" in result.output
    assert "boom in train" in (tmp_path / "out" / "fails" / "error.log").read_text()
    assert json.loads((tmp_path / "out" / "fails" / "result.json").read_text())["verdict"] == "failed"
    assert json.loads((tmp_path / "out" / "works" / "result.json").read_text())["verdict"] != "failed"
    report = (tmp_path / "out" / "report.md").read_text()
    assert "**failed**" in report and "## works" in report


def test_a_full_disk_while_training_ends_in_one_line_and_keeps_the_finished_seeds(tmp_path, data_dir, monkeypatch):
    real = shutil.disk_usage
    saved = []

    def filling(path):  # room for the first seed's two epochs, then none
        usage = real(path)
        saved.append(path)
        return usage if len(saved) <= 2 else usage._replace(free=0)

    monkeypatch.setattr(shutil, "disk_usage", filling)
    monkeypatch.setattr(checkpoints, "BACKUP_SECONDS", 0)  # a backup after every epoch
    result = invoke("run", "dropout", "--quick", "--seeds", "1", "--data-dir", data_dir, "--out", tmp_path)
    assert_clean(result, 1, "dropout")
    assert "No space left on device" in result.output
    finished = list((tmp_path / "dropout" / ".progress").glob("*/runs/*.json"))
    assert [path.name for path in finished] == ["rate_0-10%-seed0.json"]


def test_results_a_full_disk_kept_from_being_written_are_not_named_as_written(tmp_path, monkeypatch):
    """The machine's fault after training: no line may point at a result.json or error.log
    that is not there (an older one from an earlier run would be read as this run's)."""
    real_replace = os.replace

    def full_for_results(source, target, *args, **kwargs):
        if os.path.basename(target) in {"result.json", "error.log", "report.md", "report.html"}:
            raise OSError(28, "No space left on device", str(target))
        return real_replace(source, target, *args, **kwargs)

    write_recipe(tmp_path / "recipes", "fails", FAILING)
    write_recipe(tmp_path / "recipes", "works", SCORES)
    monkeypatch.setattr(os, "replace", full_for_results)
    out = tmp_path / "out"
    result = invoke("run", tmp_path / "recipes" / "fails.py", tmp_path / "recipes" / "works.py", "--out", out)
    assert_clean(result, 1, "2 of 2 recipes failed")
    for name in ("fails", "works"):
        assert not (out / name / "result.json").exists() and not (out / name / "error.log").exists()
        row = next(line for line in result.output.splitlines() if line.startswith(f"{name} "))
        assert row.endswith("not written (No space left on device)"), row
    assert "Report of every result" not in result.output and "No report written: " in result.output
    assert "error.log" not in result.output.splitlines()[-1]  # the exit line names no log it did not write
    assert "Traceback" not in result.output and "Process cookbook-worker" not in result.output


# Image folders


def write_images(folder, per_class=8, classes=("a", "b")):
    rng = np.random.default_rng(0)
    for name in classes:
        (folder / name).mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            pixels = rng.integers(0, 255, (12, 12, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / name / f"{index}.png")


def test_images_in_nested_folders_are_counted_and_hidden_folders_are_not_classes(tmp_path):
    images = tmp_path / "images"
    write_images(images)
    write_images(images / "a" / "more", classes=("deeper",), per_class=2)  # a/more/deeper/*.png: class a
    write_images(images / ".ipynb_checkpoints", classes=("c",), per_class=7)  # not a third class
    result = invoke("run", "convolution", *TINY, "--dataset", images, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert result.output.count("Warning: took 2 image(s) in sub-folders of class folders") == 1, result.output
    assert result.output.count("Warning: left out hidden folder(s) .ipynb_checkpoints") == 1, result.output
    written = json.loads((tmp_path / "out" / "convolution" / "result.json").read_text())
    assert written["dataset"]["nested_files"] == 2 and written["dataset"]["class_names"] == ["a", "b"]
    assert sum(written["dataset"]["split_sizes"].values()) == 18  # 8 + 8 + the 2 nested


def test_unreadable_images_are_skipped_with_one_warning_and_counted(tmp_path):
    images = tmp_path / "images"
    write_images(images)
    (images / "a" / "text.png").write_text("not an image")
    (images / "a" / "empty.jpg").write_bytes(b"")
    (images / "b" / "cut.png").write_bytes((images / "b" / "0.png").read_bytes()[:60])
    Image.fromarray(np.full((12, 12), 40000, dtype=np.uint16)).save(images / "b" / "deep.png")  # 16-bit
    Image.fromarray(np.zeros((12, 12, 4), dtype=np.uint8)).save(images / "b" / "alpha.tiff")  # RGBA TIFF
    (images / "b" / "notes.txt").write_text("not an image, not counted")
    result = invoke("run", "convolution", *TINY, "--dataset", images, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert result.output.count("Warning: skipped 3 unreadable image file(s)") == 1
    written = json.loads((tmp_path / "out" / "convolution" / "result.json").read_text())
    assert written["dataset"]["skipped_files"] == 3
    assert sum(written["dataset"]["split_sizes"].values()) == 18


def test_a_class_with_nothing_readable_is_an_error(tmp_path):
    images = tmp_path / "images"
    write_images(images)
    (images / "c").mkdir()
    (images / "c" / "broken.png").write_text("no")
    assert_clean(invoke("run", "relu", *TINY, "--dataset", images, "--out", tmp_path), 2, "no readable image")


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "cookbook", "list"],
        ["-m", "cookbook", "--help"],
        ["-m", "cookbook", "run", "relu", "--quick"],
        ["recipes/relu.py", "--help"],
    ],
)
@pytest.mark.parametrize(
    "variable, value",
    [
        ("COOKBOOK_VIRTUAL_CPUS", "abc"),
        ("COOKBOOK_VIRTUAL_CPUS", "65"),
        ("COOKBOOK_VERBOSE", "maybe"),
        # The libraries': TensorFlow would fall back to a default (oneDNN) or log an error on a
        # GPU (memory growth), Keras and matplotlib would raise as they load.
        ("TF_ENABLE_ONEDNN_OPTS", "maybe"),
        ("TF_ENABLE_ONEDNN_OPTS", " 0"),
        ("TF_FORCE_GPU_ALLOW_GROWTH", "yes"),
        ("KERAS_BACKEND", "nonsense"),
        ("MPLBACKEND", "nonsense"),
    ],
)
def test_a_bad_environment_variable_is_one_line_for_every_command(tmp_path, command, variable, value):
    """In child processes: an in-process runner would not see an error raised at import time."""
    process = start([*command, "--out", tmp_path] if "run" in command else command, environment(**{variable: value}))
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 2, output
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and variable in errors[0], output
    assert not (tmp_path / "relu").exists()


RECIPE_FILES = sorted(path.name for path in (ROOT / "recipes").glob("*.py") if path.name != "__init__.py")


@pytest.mark.parametrize("recipe", RECIPE_FILES)
@pytest.mark.parametrize(
    "args, message",
    [(["--bogus-flag"], "No such option"), (["--epochs", "0"], "--epochs"), (["--strategy", "ring"], "--strategy")],
)
def test_a_recipe_script_given_bad_options_says_one_line_before_tensorflow_loads(recipe, args, message):
    """The script path is as quiet as `cookbook run`: the options are read before Keras loads."""
    env = environment()
    env.pop("TF_CPP_MIN_LOG_LEVEL")  # as a user's shell has it: unset
    process = start([f"recipes/{recipe}", *args], env)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 2, output
    assert output.splitlines() == [output.strip()] and output.startswith("Error: ") and message in output, output


def test_a_recipe_script_turns_onednn_off_before_tensorflow_loads_for_mirrored_virtual_cpus(tmp_path, data_dir):
    """TensorFlow's own start-up line says whether oneDNN is on; it must not be, once the run said so."""
    args = [*TINY, "--seeds", "1", "--strategy", "mirrored", "--device", "cpu", "--verbose"]
    env = environment(COOKBOOK_VIRTUAL_CPUS="2")
    env.pop("TF_CPP_MIN_LOG_LEVEL")
    env.pop("TF_ENABLE_ONEDNN_OPTS", None)
    process = start(["recipes/pooling.py", *args, "--data-dir", data_dir, "--out", tmp_path], env)
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output[-3000:]
    assert "kernels are turned off for this run (TF_ENABLE_ONEDNN_OPTS=0)" in output
    assert "oneDNN custom operations are on" not in output, output[:3000]


def keras_home(tmp_path, config):
    folder = tmp_path / "keras_home"
    folder.mkdir()
    (folder / "keras.json").write_text(json.dumps(config))
    return str(folder)


RUN, SCRIPT, INFO = ["-m", "cookbook", "run", "relu", *TINY], ["recipes/relu.py", *TINY], ["-m", "cookbook", "info"]
# (Every command that loads TensorFlow for each keras.json case: each ends in a second. The
# XLA cases cost a TensorFlow start each, so each command gets one of them.)
LOAD_TIME_CASES = [
    *(
        pytest.param(command, {"KERAS_HOME": config}, message, id=f"{case}-{name}")
        for case, config, message in [
            ("floatx", {"floatx": "float99"}, "floatx"),  # Keras raises as it loads
            ("data-format", {"image_data_format": "sideways"}, "image_data_format"),
            ("epsilon", {"epsilon": "small"}, "keras.json"),
            ("backend", {"backend": "nonsense"}, "names the Keras backend 'nonsense'"),
        ]
        for name, command in (("run", RUN), ("script", SCRIPT), ("info", INFO))
    ),
    pytest.param(RUN, {"TF_XLA_FLAGS": "--bogus"}, "Unknown flag in TF_XLA_FLAGS", id="tf-xla-flags-run"),
    pytest.param(SCRIPT, {"XLA_FLAGS": "--bogus_flag"}, "Unknown flag in XLA_FLAGS", id="xla-flags-script"),
    pytest.param(INFO, {"TF_XLA_FLAGS": "--bogus"}, "Unknown flag in TF_XLA_FLAGS", id="tf-xla-flags-info"),
]


@pytest.mark.parametrize("command, variables, message", LOAD_TIME_CASES)
def test_what_tensorflow_or_keras_reject_as_they_load_is_one_line_before_work(tmp_path, command, variables, message):
    """In child processes: TensorFlow's fatal lines come from C++ and end the process, and the
    quiet start-up would hide them; so these are tried before TensorFlow loads."""
    extra = {name: keras_home(tmp_path, value) if name == "KERAS_HOME" else value for name, value in variables.items()}
    args = [*command, "--out", tmp_path / "out"] if "info" not in command else command
    process = start(args, environment(**extra))
    output, _ = process.communicate(timeout=180)
    assert process.returncode == 2, output
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and message in errors[0], output
    assert not (tmp_path / "out" / "relu").exists()


def test_an_unusable_tfds_data_dir_from_the_environment_is_named_as_such(tmp_path):
    """tensorflow-datasets reads TFDS_DATA_DIR as it loads: in a child process."""
    (tmp_path / "a_file").write_text("not a folder")
    process = start(
        ["-m", "cookbook", "run", "relu", *TINY, "--out", tmp_path], environment(TFDS_DATA_DIR=str(tmp_path / "a_file"))
    )
    output, _ = process.communicate(timeout=180)
    assert process.returncode == 2, output
    assert output.strip().splitlines()[-1].endswith("choose another --data-dir (or TFDS_DATA_DIR)."), output


@pytest.mark.parametrize("where", ["KERAS_BACKEND", "keras.json"])
def test_keras_set_to_another_backend_runs_the_tour_on_tensorflow_and_says_so_once(tmp_path, where):
    """Workers too: they start before this process loads TensorFlow, with its environment."""
    body = SCORES.replace(
        "def train(run):\n",
        "def train(run):\n    import keras\n\n    assert keras.config.backend() == 'tensorflow'\n",
    )
    paths = [write_recipe(tmp_path / "recipes", name, body).__file__ for name in ("first", "second")]
    extra = (
        {"KERAS_BACKEND": "jax"}
        if where == "KERAS_BACKEND"
        else {"KERAS_HOME": keras_home(tmp_path, {"backend": "torch"})}
    )
    process = start(["-m", "cookbook", "run", *paths, "--jobs", "2", "--out", tmp_path / "out"], environment(**extra))
    output, _ = process.communicate(timeout=240)
    assert process.returncode == 0, output
    told = [line for line in output.splitlines() if line.startswith("Keras is set to ")]
    assert len(told) == 1 and "tensorflow backend" in told[0] and where in told[0], output
    for name in ("first", "second"):
        assert json.loads((tmp_path / "out" / name / "result.json").read_text())["verdict"] != "failed"


@pytest.mark.parametrize("option", ["--out", "--data-dir"])
@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_folder_is_refused_not_taken_as_the_current_one(tmp_path, monkeypatch, option, value):
    monkeypatch.chdir(tmp_path)
    result = invoke("run", "relu", *TINY, option, value)
    assert_clean(result, 2, f"{option} must name a folder")
    assert list(tmp_path.iterdir()) == []  # nothing written here


STOPPED_BY_A_SIGNAL = """
import os
import signal

import keras

DEFAULTS = {"epochs": 6, "batch_size": 64, "seeds": 1}
VARIANTS = ["dense"]


class SignalAfter(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 2 and os.environ.get("STOP_WITH"):  # as a scheduler would, mid-run
            os.kill(os.getpid(), getattr(signal, os.environ["STOP_WITH"]))


def train(run):
    model = keras.Sequential(
        [keras.Input(run.data.facts.input_shape), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    return {"loss": run.fit(model, callbacks=[SignalAfter()])["history"]["loss"][-1]}


def conclude(results):
    return Conclusion({"trained": lower([0.0, 0.0], [1.0, 1.0])}, "Trained.", {})
"""


@pytest.mark.parametrize("stop_with", ["SIGTERM", "SIGHUP"])
def test_a_run_stopped_by_a_scheduler_saves_its_state_and_resumes(tmp_path, data_dir, stop_with):
    """SIGTERM (SLURM, Kubernetes, spot machines) and SIGHUP killed the process outright: no
    message, up to 10 s plus an epoch of training lost. Now they stop it as Ctrl-C does."""
    write_recipe(tmp_path / "recipes", "stopped", STOPPED_BY_A_SIGNAL)
    command = ["-m", "cookbook", "run", tmp_path / "recipes" / "stopped.py", "--data-dir", data_dir, "--out", tmp_path]
    stopped = start(command, environment(STOP_WITH=stop_with))
    output, _ = stopped.communicate(timeout=240)
    assert stopped.returncode == 128 + getattr(signal, stop_with), output
    assert f"Stopped by {stop_with}. Run the same command again to resume" in output
    assert "Traceback" not in output and not (tmp_path / "stopped" / "error.log").exists()
    assert (tmp_path / "stopped" / ".lock").read_text() == ""  # released
    # Saved at once (the epochs it had finished), though backups come every 10 s and an epoch
    # takes a fraction of one; the signal came during epoch 2's end, before it was recorded.
    assert [path.name for path in (tmp_path / "stopped").glob(".progress/*/backup/*/*.h5")] == ["epoch-2.weights.h5"]
    resumed = start(command, environment())
    output, _ = resumed.communicate(timeout=240)
    assert resumed.returncode == 0, output
    assert "Resuming dense-seed0 after epoch 2 of 6." in output
    history = (tmp_path / "stopped" / "history" / "dense-seed0.csv").read_text().splitlines()[1:]
    assert [row.split(",")[0] for row in history] == [str(epoch) for epoch in range(6)]


def test_sigterm_stops_a_multiworker_run_too(tmp_path, data_dir):
    """TensorFlow's coordination service took SIGTERM over as the multiworker strategy was
    made: the run trained on to the end and exited 0 (a cluster of one, so nothing waits)."""
    from tests.processes import free_ports

    write_recipe(tmp_path / "recipes", "stopped", STOPPED_BY_A_SIGNAL)
    (port,) = free_ports(1)
    cluster = ["--strategy", "multiworker", "--workers", f"127.0.0.1:{port}", "--worker-index", "0"]
    command = ["-m", "cookbook", "run", tmp_path / "recipes" / "stopped.py", *cluster, "--data-dir", data_dir]
    stopped = start([*command, "--out", tmp_path], environment(STOP_WITH="SIGTERM"))
    output, _ = stopped.communicate(timeout=240)
    assert stopped.returncode == 128 + signal.SIGTERM, output
    assert "Stopped by SIGTERM. Run the same command again to resume" in output
