"""What the terminal shows during a run: no TensorFlow start-up noise, one progress display
for the whole command (a terminal), or one line per finished run (a pipe, a log, CI); and
Ctrl-C noticed for what it is."""

import contextlib
import os
import signal
import sys
import threading

from cookbook.errors import CookbookError
from cookbook.harness.progress import Lines


def import_tensorflow(verbose=False):
    """Imports TensorFlow, Keras and TFDS; unless `verbose`, without their start-up lines.

    Some of those lines come from C++ before any log level applies (and twice, as two
    libraries load), so the process's standard error is pointed at /dev/null while the
    libraries load, then restored; Python-side warnings are limited to errors.
    """
    if verbose:
        with _keras_config_errors():
            import keras  # noqa: F401
            import tensorflow  # noqa: F401
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _stderr_silenced(), _keras_config_errors():
        import keras  # noqa: F401
        import tensorflow as tf
        import tensorflow_datasets  # noqa: F401

        tf.config.list_physical_devices()  # device discovery logs too ("Could not find cuda drivers")
    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)
    tf.get_logger().setLevel("ERROR")


@contextlib.contextmanager
def _keras_config_errors():
    """A keras.json value Keras rejects as it loads (`"floatx": "float99"`) as one line."""
    from cookbook.harness.environment import keras_config_path

    try:
        yield
    except ValueError as error:
        raise CookbookError(f"Keras does not load with {keras_config_path()}: {error}") from None


_interrupted = threading.Event()
_stopped_by = []  # the signal that stopped the command, once one has
# Ctrl-C, and what a scheduler (SLURM, Kubernetes, a spot machine) or a closed terminal sends.
STOPPING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextlib.contextmanager
def interrupts_noticed():
    """Ctrl-C, SIGTERM and SIGHUP raise `KeyboardInterrupt`, as Python's own handler does for
    Ctrl-C, so that a stopped run saves what it trained and releases its folder, and are noted,
    for `was_interrupted()` and `stopped_by()`: raised inside TensorFlow's C++ code, a
    `KeyboardInterrupt` can come out as another error (a `SystemError`, a `ValueError` from
    `tf.nest`), which would otherwise pass for the recipe failing. Only in the main thread, and
    not for a signal that is ignored (`nohup` ignores SIGHUP)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def noticed(signum, frame):
        _interrupted.set()
        _stopped_by[:] = [signum]
        raise KeyboardInterrupt

    _interrupted.clear()
    _stopped_by.clear()
    previous = {}
    for signum in STOPPING_SIGNALS:
        if signal.getsignal(signum) not in (signal.SIG_IGN, None):
            previous[signum] = signal.signal(signum, noticed)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def was_interrupted():
    """Whether a stopping signal came during `interrupts_noticed()`."""
    return _interrupted.is_set()


def stopped_by():
    """The signal that stopped the command (a `signal.Signals`), or SIGINT when none was seen
    (a `KeyboardInterrupt` raised otherwise)."""
    return signal.Signals(_stopped_by[0]) if _stopped_by else signal.SIGINT


@contextlib.contextmanager
def _stderr_silenced():
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 (an embedded interpreter): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class Bars(Lines):
    """Progress on a terminal: the tour (recipe, run, time left) and each running recipe's
    current run's epochs."""

    def __enter__(self):
        from rich.progress import BarColumn
        from rich.progress import MofNCompleteColumn
        from rich.progress import Progress
        from rich.progress import TextColumn
        from rich.progress import TimeElapsedColumn
        from rich.progress import TimeRemainingColumn

        self._display = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            transient=False,
        )
        self._display.__enter__()
        self._tour = self._display.add_task("tour", total=self.total_runs)
        self._running = {}  # recipe -> (its tour position, its run's task)
        return self

    def __exit__(self, *exception):
        return self._display.__exit__(*exception)

    def start_recipe(self, name, index, count):
        self.recipe = name
        self._count = count
        self._running[name] = (index, self._display.add_task("run", total=1, visible=False))
        self._describe_tour()

    def finish_recipe(self):
        _, task = self._running.pop(self.recipe, (None, None))
        if task is not None:
            self._display.remove_task(task)
            self._describe_tour()

    def _describe_tour(self):
        running = sorted((position, name) for name, (position, _) in self._running.items())
        if running:
            positions = ", ".join(str(position) for position, _ in running)
            names = ", ".join(name for _, name in running)
            label = "recipe" if len(running) == 1 else "recipes"
            self._display.update(self._tour, description=f"{label} {positions} of {self._count}: {names}")

    def start_run(self, description, epochs):
        super().start_run(description, epochs)
        self._display.reset(
            self._run_task(), total=epochs, description=f"  {self.recipe}: {description}, epochs", visible=True
        )

    def start_epochs(self, epochs):
        self._display.reset(self._run_task(), total=epochs)

    def epoch_done(self, epoch):
        self._display.update(self._run_task(), completed=epoch)

    def finish_run(self, description, reused=False):
        self.done += 1
        self._display.advance(self._tour)

    def _run_task(self):
        return self._running[self.recipe][1]


def progress_for(total_runs, stream=None):
    """Bars on a terminal, lines elsewhere."""
    stream = stream or sys.stdout
    return Bars(total_runs) if stream.isatty() else Lines(total_runs)
