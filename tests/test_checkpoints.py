"""Resuming an interrupted fit: from the epoch it had reached, with the history an
uninterrupted run has, whatever instant it was interrupted at."""

import signal
import time

import keras
import numpy as np
import pytest

from cookbook.harness import checkpoints
from cookbook.harness.options import RunOptions
from cookbook.harness.trainer import Trainer
from cookbook.harness.trainer import read_history
from tests.processes import environment
from tests.processes import start
from tests.test_trainer import EpochsSeen
from tests.test_trainer import tiny_data
from tests.test_trainer import tiny_model

EPOCHS = 6


class InterruptAt(keras.callbacks.Callback):
    """Stops the run as epoch `epoch` begins: every earlier epoch is finished and saved."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def fit(tmp_path, name, callbacks=(), model=None, backup_seconds=0, tensorboard=None):
    keras.utils.set_random_seed(0)
    model = model or tiny_model()
    trainer = Trainer(
        RunOptions(),
        history_dir=tmp_path / name / "history",
        backup_seconds=backup_seconds,  # 0: a backup after every epoch
    )
    outcome = trainer.fit(
        model,
        tiny_data(),
        history_name="run",
        backup_dir=tmp_path / name / "backup",
        epochs=EPOCHS,
        callbacks=callbacks,
        tensorboard=tensorboard,
    )
    return model, outcome


def assert_same_history(history, expected):
    """Every metric of every epoch, within float32 rounding (pytest.approx takes no dict of lists)."""
    assert history.keys() == expected.keys()
    for metric, values in expected.items():
        np.testing.assert_allclose(history[metric], values, rtol=1e-6, err_msg=metric)


def without_times(history):
    return {key: values for key, values in history.items() if "seconds" not in key}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    model, outcome = fit(tmp_path_factory.mktemp("whole"), "whole")
    return model.get_weights(), without_times(outcome["history"])


def interrupted(tmp_path, at, backup_seconds=0):
    with pytest.raises(KeyboardInterrupt):
        fit(tmp_path, "run", callbacks=[InterruptAt(at)], backup_seconds=backup_seconds)
    return tmp_path / "run" / "backup"


def test_a_resumed_fit_continues_where_it_stopped_with_the_same_history(tmp_path, uninterrupted):
    backup = interrupted(tmp_path, at=3)
    assert sorted(path.name for path in backup.iterdir()) == ["epoch-2.weights.h5", "epoch-3.weights.h5"]
    model, outcome = fit(tmp_path, "run", callbacks=[started := EpochsSeen()])
    assert started.epochs == [3, 4, 5]  # restarted at epoch 4 of 6 (0-based 3)
    assert int(model.optimizer.iterations.numpy()) == EPOCHS * 4
    weights, history = uninterrupted
    assert without_times(outcome["history"]) == history
    for resumed, whole in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(resumed, whole)


def test_backups_wait_for_their_interval_but_an_interrupt_saves_the_finished_epochs(tmp_path, uninterrupted):
    saved = []

    class Backups(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            saved.append(sorted(path.name for path in (tmp_path / "run" / "backup").glob("epoch-*")))

    backup = interrupted(tmp_path, at=3, backup_seconds=3600)  # no backup came in its epochs...
    assert saved == [] or all(names == [] for names in saved)
    assert sorted(path.name for path in backup.glob("epoch-*")) == ["epoch-3.weights.h5"]  # ...but at the stop
    model, outcome = fit(tmp_path, "run", callbacks=[started := EpochsSeen(), Backups()], backup_seconds=3600)
    assert started.epochs == [3, 4, 5]
    assert saved == [["epoch-3.weights.h5"]] * 3  # the interval holds after the resume too
    assert_same_history(without_times(outcome["history"]), uninterrupted[1])
    for resumed, whole in zip(model.get_weights(), uninterrupted[0]):
        np.testing.assert_allclose(resumed, whole, atol=1e-6)


def test_the_trainer_backs_up_every_backup_seconds_by_default():
    trainer = Trainer(RunOptions(), history_dir=None)
    assert trainer.backup_seconds == checkpoints.BACKUP_SECONDS > 0


@pytest.mark.parametrize("damage", ["truncate", "remove", "empty"])
def test_a_damaged_newest_backup_falls_back_to_the_one_before(tmp_path, uninterrupted, damage, capsys):
    backup = interrupted(tmp_path, at=3)
    newest = backup / "epoch-3.weights.h5"
    if damage == "truncate":
        newest.write_bytes(newest.read_bytes()[:500])
    elif damage == "remove":
        newest.unlink()
    else:
        newest.write_bytes(b"")
    model, outcome = fit(tmp_path, "run", callbacks=[started := EpochsSeen()])
    assert started.epochs == [2, 3, 4, 5]
    assert without_times(outcome["history"]) == uninterrupted[1]
    if damage != "remove":
        assert "cannot resume from" in capsys.readouterr().err


def test_no_readable_backup_means_training_from_the_start(tmp_path, uninterrupted, capsys):
    backup = interrupted(tmp_path, at=3)
    for path in backup.glob("*.h5"):
        path.write_bytes(b"not a checkpoint")
    model, outcome = fit(tmp_path, "run", callbacks=[started := EpochsSeen()])
    assert started.epochs == list(range(EPOCHS))
    assert "trains from the start" in capsys.readouterr().err
    for resumed, whole in zip(model.get_weights(), uninterrupted[0]):
        np.testing.assert_array_equal(resumed, whole)


def test_a_model_reused_after_a_resumed_fit_starts_its_next_fit_at_epoch_one(tmp_path):
    interrupted(tmp_path, at=3)
    model, _ = fit(tmp_path, "run")  # resumes, leaving Keras's _initial_epoch on the model
    started = EpochsSeen()
    fit(tmp_path, "other", callbacks=[started], model=model)
    assert started.epochs == list(range(EPOCHS))


KILLED_CHILD = """
import sys, time, keras
from tests.test_checkpoints import fit
from tests.test_trainer import tiny_model

class Slow(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        time.sleep(0.2)  # 0.8 s an epoch: time to be killed in the middle of one

fit(__import__("pathlib").Path(sys.argv[1]), "run", callbacks=[Slow()])
"""


@pytest.mark.parametrize("after_seconds", [0.3, 2.1])
def test_a_run_killed_at_any_instant_resumes(tmp_path, uninterrupted, after_seconds):
    child = start(["-c", KILLED_CHILD, tmp_path], environment())
    deadline = time.monotonic() + 60
    while not list((tmp_path / "run" / "backup").glob("epoch-*.h5")) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(after_seconds)  # inside a later epoch, or its save
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL, child.stdout.read()[-2000:]
    model, outcome = fit(tmp_path, "run")
    assert outcome["epochs_trained"] == EPOCHS
    # The epochs before the kill were computed in another process, whose thread pools may sum
    # a validation loss in another order: equal to float32 rounding, not bit for bit.
    for metric, values in uninterrupted[1].items():
        assert without_times(outcome["history"])[metric] == pytest.approx(values, rel=1e-5), metric


def scalar_steps(log_dir):
    """`{tag: [step, ...]}` of every scalar in the TensorBoard events under `log_dir`."""
    import tensorflow as tf

    steps = {}
    for path in sorted(log_dir.glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                steps.setdefault(value.tag, []).append(event.step)
    return steps


def test_a_resume_from_an_older_backup_keeps_each_epoch_once_in_every_history(tmp_path, uninterrupted, capsys):
    """Backups come every few seconds, not every epoch: the interrupted run had written epochs
    after the one it resumes from, and they stood twice in the CSV and in TensorBoard."""
    board = (tmp_path / "board", {"variant": "tiny"})
    with pytest.raises(KeyboardInterrupt):
        fit(tmp_path, "run", callbacks=[InterruptAt(4)], tensorboard=board)
    backup = tmp_path / "run" / "backup"
    (backup / "epoch-4.weights.h5").unlink()  # as if the last backup came after epoch 3
    capsys.readouterr()
    _, outcome = fit(tmp_path, "run", tensorboard=board)
    assert "Resuming run after epoch 3 of 6." in capsys.readouterr().out
    history_file = tmp_path / "run" / "history" / "run.csv"
    epochs = [line.split(",")[0] for line in history_file.read_text().splitlines()[1:]]
    assert epochs == [str(epoch) for epoch in range(EPOCHS)]  # each once
    assert_same_history(without_times(read_history(history_file)), uninterrupted[1])
    assert_same_history(without_times(outcome["history"]), uninterrupted[1])
    steps = scalar_steps(tmp_path / "board")
    assert steps["loss"] == list(range(1, EPOCHS + 1))  # each epoch once, in order
