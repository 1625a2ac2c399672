"""A tour's recipes several at a time, each in a worker process of its own (`--jobs`).

A short run spends most of its time in one thread: tracing its networks' steps, and the
Python around each step; `cookbook run all --quick` kept one of two cores busy. The recipes
of a tour are independent (their own seeds, their own folder under OUT), so workers run
several at once. Workers are started fresh (`spawn`: TensorFlow does not survive a fork),
and every run sets its own seeds, so a recipe's numbers do not depend on the process that
runs it or on what runs beside it; what it times (seconds per epoch, per update) shares the
machine with the other workers.

The longest recipes, by the time their docstrings state, start first. A worker that dies
(killed, out of memory) fails its recipe, not the tour; an interrupt stops every worker, and
the same command resumes where they were.
"""

import gc
import io
import multiprocessing
import os
import queue
import signal
import sys
import threading

from cookbook.cli import registry
from cookbook.harness.recipe import stated_seconds

# What `--jobs auto` starts: two workers fill the core a single tour leaves idle (measured,
# README "Performance"). More would not shorten a tour much: each worker's TensorFlow
# already spreads a step's arithmetic over every core.
AUTO_JOBS = 2
POLL_SECONDS = 0.5


class WorkerDied(Exception):
    """A worker process ended while it ran a recipe."""


def jobs_for(options, recipes):
    """How many recipes run at once: `options.jobs` ("auto" or a count), never more than
    `recipes`; one under a `tf.distribute` strategy, which spreads each recipe over the
    devices itself (`RunOptions` refuses another count there)."""
    if options.scale.strategy != "none":
        return 1
    jobs = min(AUTO_JOBS, usable_cores()) if options.jobs == "auto" else options.jobs
    return max(1, min(jobs, recipes))


def usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Workers:
    """Runs a tour's recipes `count` at a time: this process and `count - 1` worker processes,
    each taking the longest recipe still waiting when it is free. A context manager that stops
    the workers on leaving; started before this process imports TensorFlow, so that their
    start-up overlaps its own.

    A thread of this process listens to the workers (their progress, what they print, their
    results, their requests for work) while its main thread runs recipes too.
    """

    def __init__(self, count, verbose=False):
        # Recipes sharing a GPU take its memory as they need it, not all of it each.
        os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
        context = multiprocessing.get_context("spawn")
        self._events = context.Queue()
        self._workers = {}  # pid -> (process, its task queue)
        for _ in range(count - 1):
            tasks = context.Queue()
            process = context.Process(target=_serve, args=(tasks, self._events, verbose), name="cookbook-worker")
            process.start()
            self._workers[process.pid] = (process, tasks)
        self._lock = threading.Lock()  # one caller of the display, the lists, at a time
        self._finished = threading.Event()
        self._stop = threading.Event()

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self._stop.set()
        for process, _ in self._workers.values():
            if process.is_alive():
                process.terminate()  # an interrupt, or an error: what it trained resumes
        for process, _ in self._workers.values():
            while process.is_alive():
                # A process ends only once what it put on a queue is read: read on while it stops.
                self._print_waiting_output()
                process.join(POLL_SECONDS)
        self._print_waiting_output()
        return False

    def _print_waiting_output(self):
        while True:
            try:
                event = self._events.get_nowait()
            except (queue.Empty, OSError, ValueError):
                return
            if event[0] == "output":
                self._handle(*event)

    def run(self, items, modules, plans, options, progress):
        """Runs each recipe (`items[k]` its name or path, `modules[k]` the module loaded from
        it, `plans[k]` its plan in this process) under `options`, telling `progress` as they go;
        returns their results in the order given, a failed result for a recipe whose worker died.
        A worker makes its own recipe's plan (plans hold the recipe's own objects)."""
        from cookbook.cli.policy import run_in_tour

        self._items, self._modules, self._options, self._progress = items, modules, options, progress
        self._results, self._assigned = {}, {}  # tour position -> result; worker pid -> tour position
        self._waiting = sorted(
            range(1, len(items) + 1), key=lambda k: -_expected_seconds(modules[k - 1], options.quick)
        )
        self._listener_error = None
        listener = threading.Thread(target=self._listen, name="cookbook-workers-listener", daemon=True)
        listener.start()
        here = _Local(progress, self._lock)
        while True:
            with self._lock:
                position = self._waiting.pop(0) if self._waiting else None
            if position is None:
                break
            module, plan = modules[position - 1], plans[position - 1]
            result = run_in_tour(module, options, here, position, len(items), alone=False, plan=plan)
            with self._lock:
                self._results[position] = result
                self._check_finished()
        while not self._finished.wait(POLL_SECONDS):
            pass  # short waits: an interrupt (Ctrl-C) lands between them
        if self._listener_error is not None:
            raise self._listener_error
        return [self._results[position] for position in range(1, len(items) + 1)]

    def _listen(self):
        try:
            while not self._finished.is_set() and not self._stop.is_set():
                try:
                    event = self._events.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    event = None
                with self._lock:
                    if event is not None:
                        self._handle(*event)
                    self._fail_the_dead()
                    self._check_finished()
        except BaseException as error:  # the main thread raises it
            self._listener_error = error
            self._finished.set()

    def _check_finished(self):
        if len(self._results) == len(self._items):
            self._finished.set()

    def _handle(self, kind, *details):
        if kind == "output":
            stream, text = details
            print(text, end="", file=sys.stderr if stream == "stderr" else sys.stdout, flush=True)
        elif kind == "progress":
            self._progress.recipe, method, arguments = details
            getattr(self._progress, method)(*arguments)
        elif kind == "ready":  # a worker is free: the longest recipe still waiting, or stop
            (pid,) = details
            if not self._workers[pid][0].is_alive():
                return  # it died since: this process takes what it would have
            position = self._waiting.pop(0) if self._waiting else None
            if position is None:
                self._workers[pid][1].put(None)
                return
            self._assigned[pid] = position
            item = _task_item(self._items[position - 1], self._modules[position - 1])
            self._workers[pid][1].put((position, len(self._items), item, self._options))
        elif kind == "result":
            pid, position, result = details
            self._assigned.pop(pid, None)
            self._results[position] = result

    def _fail_the_dead(self):
        from cookbook.harness.result import write_failure

        for pid, (process, _) in self._workers.items():
            if process.is_alive() or pid not in self._assigned:
                continue
            while pid in self._assigned:  # what it sent before it ended comes first
                try:
                    self._handle(*self._events.get_nowait())
                except queue.Empty:
                    break
            position = self._assigned.pop(pid, None)
            if position is None:
                continue  # its result had arrived after all
            module = self._modules[position - 1]
            error = WorkerDied(f"the worker process running it ended with exit code {process.exitcode}")
            self._results[position] = write_failure(module, self._options, error)
            self._progress.recipe = registry.recipe_name(module)
            self._progress.finish_recipe()


def _expected_seconds(module, quick):
    stated = stated_seconds(module.__doc__, quick)
    return float("inf") if stated is None else stated  # unknown: start it early


def _task_item(item, module):
    return item if isinstance(item, str) else module.__file__


def _serve(tasks, events, verbose):
    """A worker: says it is ready, runs the recipe it is given, and again until told to stop
    (None); sends its progress, what it prints, and each result to `events`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the tour's process decides when to stop
    signal.signal(signal.SIGTERM, _stop)  # and stops it so: what it trained is saved first
    sys.stdout, sys.stderr = _Forward(events, "stdout"), _Forward(events, "stderr")
    try:
        from cookbook.cli import console

        # Noted, as in the tour's process: an interrupt that comes out of TensorFlow as another
        # error is still the tour stopping this worker, not its recipe failing.
        with console.interrupts_noticed():
            _work(tasks, events, verbose)
    except KeyboardInterrupt:
        return  # stopped by the tour's process, perhaps before its first task (the tour ended)


def _work(tasks, events, verbose):
    from cookbook.cli import console

    console.import_tensorflow(verbose)
    from cookbook.cli.policy import run_in_tour

    parent = os.getppid()
    while True:
        if console.was_interrupted():
            return  # stopped while it started, the interrupt lost inside an import
        events.put(("ready", os.getpid()))
        while True:
            try:
                task = tasks.get(timeout=POLL_SECONDS)
                break
            except queue.Empty:
                if os.getppid() != parent or console.was_interrupted():
                    return  # the tour's process is gone, or stopped this one
        if task is None:
            gc.freeze()  # exit without the last garbage collection: see cookbook.cli.commands.exit_quickly
            return
        position, count, item, options = task
        result = run_in_tour(item, options, _Relay(events), position, count, alone=False)
        sys.stdout.flush()
        sys.stderr.flush()
        events.put(("result", os.getpid(), position, result))


def _stop(signum, frame):
    raise KeyboardInterrupt


class _Display:
    """The progress display a recipe sees (`cookbook.harness.progress`'s methods), passing each call on
    with the recipe's name."""

    recipe = None

    def start_recipe(self, name, index, count):
        self.recipe = name
        self._send("start_recipe", name, index, count)

    def finish_recipe(self):
        self._send("finish_recipe")

    def start_run(self, description, epochs):
        self._send("start_run", description, epochs)

    def start_epochs(self, epochs):
        self._send("start_epochs", epochs)

    def epoch_done(self, epoch):
        self._send("epoch_done", epoch)

    def finish_run(self, description, reused=False):
        self._send("finish_run", description, reused)


class _Relay(_Display):
    """A worker's display: sends each call to the tour's process."""

    def __init__(self, events):
        self._events = events

    def _send(self, method, *arguments):
        self._events.put(("progress", self.recipe, method, arguments))


class _Local(_Display):
    """The display of a recipe run in the tour's own process, beside the listener thread."""

    def __init__(self, progress, lock):
        self._progress = progress
        self._lock = lock

    def _send(self, method, *arguments):
        with self._lock:
            self._progress.recipe = self.recipe
            getattr(self._progress, method)(*arguments)


class _Forward(io.TextIOBase):
    """A worker's standard output or error: whole lines, sent to the tour's process to print."""

    def __init__(self, events, stream):
        super().__init__()
        self._events = events
        self._stream = stream
        self._pending = ""

    def writable(self):
        return True

    def write(self, text):
        self._pending += text
        if "\n" in self._pending:
            lines, _, self._pending = self._pending.rpartition("\n")
            self._events.put(("output", self._stream, lines + "\n"))
        return len(text)

    def flush(self):
        if self._pending:
            self._events.put(("output", self._stream, self._pending))
            self._pending = ""
