"""What a run tells the progress display, and the display a recipe gets by default: one
line per finished run. (`cookbook.cli.console` draws bars on a terminal.)

A display has `start_recipe(name, index, count)`, `finish_recipe()`,
`start_run(description, epochs)`, `start_epochs(epochs)`, `epoch_done(epoch)` and
`finish_run(description, reused=False)`.
"""

import time


class Lines:
    """Progress as one line per finished run, for output that is not a terminal.

    `recipe` is the recipe the next call is about: `start_recipe` sets it, and a tour
    running several recipes at once (`cookbook.cli.workers`) sets it before each call.
    """

    def __init__(self, total_runs, recipe=None):
        self.total_runs = total_runs
        self.done = 0
        self.recipe = recipe
        self._started = {}  # recipe -> when its current run started

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        return False

    def start_recipe(self, name, index, count):
        self.recipe = name
        print(f"== Recipe {index} of {count}: {name} ==", flush=True)

    def finish_recipe(self):
        pass

    def start_run(self, description, epochs):
        self._started[self.recipe] = time.perf_counter()

    def start_epochs(self, epochs):
        pass

    def epoch_done(self, epoch):
        pass

    def finish_run(self, description, reused=False):
        self.done += 1
        seconds = time.perf_counter() - self._started.get(self.recipe, time.perf_counter())
        how = "finished earlier, reused" if reused else f"{seconds:.1f} s"
        print(f"[{self.recipe}] run {self.done} of {self.total_runs}: {description} ({how})", flush=True)


def epoch_callback(display, epochs):
    """A Keras callback that tells `display` about each finished epoch of a `fit` of `epochs`."""
    import keras

    class EpochProgress(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            display.start_epochs(epochs)
            display.epoch_done(getattr(self.model, "_initial_epoch", 0) or 0)  # resumed: epochs done

        def on_epoch_end(self, epoch, logs=None):
            display.epoch_done(epoch + 1)

    return EpochProgress()
