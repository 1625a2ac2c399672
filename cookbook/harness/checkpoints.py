"""Backups an interrupted `fit` resumes from, whatever instant it was interrupted at.

Keras's `BackupAndRestore` rewrites its files in place: a kill (or a full disk) while it
writes leaves a truncated file, and every later run fails on it. Here each epoch's state
is a new generation, `epoch-N.weights.h5`, written to a temporary file, flushed to disk
and renamed, so a generation is either complete or absent; the previous generation is
kept until the next one is complete. A generation that still cannot be read (a damaged
disk, a file cut short by hand) is reported in one line and the one before it is used,
or training starts over.

A backup is written at the end of an epoch once `every_seconds` have passed since the fit
began or since the last backup: saving and flushing a small network's state after each of
its 0.1-second epochs took a tenth of the default tour. An interruption loses at most that
long of training (plus the epoch under way); a run shorter than it is simply run again.
"""

import errno
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

GENERATION = re.compile(r"epoch-(\d+)\.weights\.h5")
KEPT_GENERATIONS = 2
MARGIN_BYTES = 1 << 20  # the file's own structure, beyond the variables' bytes
BACKUP_SECONDS = 10.0  # at most this much training is lost to an interruption (plus an epoch)


class ResumableBackup(keras.callbacks.Callback):
    """Saves the model (and its optimizer) into `folder` after an epoch, once `every_seconds`
    have passed since the last save (0: after every epoch). Its `restorer()`, listed first of a
    `fit`'s callbacks (this one last), restores the newest readable generation when `fit`
    starts and continues after its epoch."""

    def __init__(self, folder, every_seconds=BACKUP_SECONDS, on_restored=None):
        super().__init__()
        self.folder = Path(folder)
        self.every_seconds = every_seconds
        # Called with the epoch training goes on after (0: from the start) when there were
        # backups to resume from, before any other callback starts: the histories follow it.
        self.on_restored = on_restored
        self._saved_at = time.monotonic()
        self._unsaved = None  # (epoch, values) of the last finished epoch no backup holds

    def restorer(self):
        """A callback to list first, so that every other one starts after the state is back
        (the progress display, the history files); the backup itself goes last."""
        return _Restore(self)

    def generations(self):
        """`[(epoch, path)]`, newest first."""
        if not self.folder.is_dir():
            return []
        found = [(int(m.group(1)), path) for path in self.folder.iterdir() if (m := GENERATION.fullmatch(path.name))]
        return sorted(found, reverse=True)

    def on_train_begin(self, logs=None):
        self._saved_at = time.monotonic()
        self._unsaved = None

    def restore(self, model):
        """Loads the newest readable generation into `model` and sets where its `fit` goes on."""
        self.set_model(model)
        # Set either way: the model may be reused for another run (a traced twin), and Keras
        # keeps `_initial_epoch` on the model from one `fit` to the next.
        self.model._initial_epoch = 0
        for unfinished in self.folder.glob(".saving-*"):  # left by a run killed while saving
            unfinished.unlink(missing_ok=True)
        if self.generations() and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        for epoch, path in self.generations():
            try:
                self.model.load_weights(path)
            except Exception as error:  # h5py and Keras raise many kinds for a damaged file
                print(
                    f"Warning: cannot resume from {path} ({type(error).__name__}); trying an older backup.",
                    file=sys.stderr,
                )
                continue
            self.model._initial_epoch = epoch
            self._tell(epoch)
            return
        if self.generations():
            print(
                f"Warning: no backup in {self.folder} could be read; this run trains from the start.", file=sys.stderr
            )
            self._tell(0)

    def _tell(self, epoch):
        if self.on_restored is not None:
            self.on_restored(epoch)

    def on_epoch_end(self, epoch, logs=None):
        if time.monotonic() - self._saved_at < self.every_seconds:
            # Kept in memory instead, for `save_unsaved` to write if the run is stopped.
            self._unsaved = (epoch, [variable.numpy() for variable in self._state()])
            return
        self._save(epoch)

    def save_unsaved(self):
        """Writes the state after the last finished epoch, if no backup has it yet: called when
        the fit is stopped (Ctrl-C, SIGTERM), so that only the epoch under way is lost."""
        if self._unsaved is None:
            return
        epoch, values = self._unsaved
        for variable, value in zip(self._state(), values):
            variable.assign(value)  # back from mid-epoch to the end of `epoch`
        self._save(epoch)

    def _state(self):
        return [*self.model.variables, *self.model.optimizer.variables]

    def _save(self, epoch):
        self._unsaved = None
        self.folder.mkdir(parents=True, exist_ok=True)
        # h5py can crash the process outright when the disk fills while it writes: look first
        # (weights and up to two optimizer slots each, and the old generation beside them).
        needed = sum(np.prod(v.shape) * np.dtype(v.dtype).itemsize for v in self.model.variables) * 4 + MARGIN_BYTES
        if shutil.disk_usage(self.folder).free < needed:
            raise OSError(errno.ENOSPC, "No space left on device to save the training state", str(self.folder))
        descriptor, temporary = tempfile.mkstemp(dir=self.folder, prefix=".saving-", suffix=".weights.h5")
        os.close(descriptor)
        try:
            self.model.save_weights(temporary, overwrite=True)
            with open(temporary, "rb+") as file:
                os.fsync(file.fileno())
            os.replace(temporary, self.folder / f"epoch-{epoch + 1}.weights.h5")
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        for _, old in self.generations()[KEPT_GENERATIONS:]:
            old.unlink(missing_ok=True)
        self._saved_at = time.monotonic()


class _Restore(keras.callbacks.Callback):
    """`ResumableBackup.restorer()`: restores at the start of `fit`, before the callbacks after it."""

    def __init__(self, backup):
        super().__init__()
        self.backup = backup

    def on_train_begin(self, logs=None):
        self.backup.restore(self.model)
