"""`--fused-seeds`: a variant's seeds trained together as one model, each seed's `train(run)`
running as it would alone.

Each seed's run starts in a greenlet of its own: a coroutine in this thread, so Keras and
TensorFlow see the same per-thread state as ever. Its first `run.fit` hands the harness its
model, data, epochs and callbacks and waits there. Once every seed waits, the harness trains
them as one `cookbook.harness.fused.FusedSeeds` model, unless `why_not_fused` names a reason,
and resumes each seed in turn: its `fit` returns with the model trained, Python's and NumPy's
random state as that seed left them, and the rest of its `train` runs as it would alone.
Where the seeds cannot train as one, each resumes and trains its own `fit`.
"""

import random
import time
from typing import NamedTuple

import greenlet
import numpy as np

from cookbook.harness.fused import why_not_fused
from cookbook.harness.progress import epoch_callback


class FitRequest(NamedTuple):
    """What a seed's first `run.fit` hands over: what it would have trained."""

    model: object
    data: object
    epochs: int
    callbacks: list


class FusedSeeds:
    """Runs one variant's pending seeds under one condition through `experiment.record(run)`,
    their first fits trained as one model where they can be."""

    def __init__(self, experiment, runs):
        self.experiment = experiment
        self.runs = list(runs)
        self._waiting = set()  # names of the runs whose first fit has not come yet

    def waits_for(self, run):
        """Whether `run`'s next `fit` is its first, to be trained with the other seeds'."""
        return run.name in self._waiting

    def hand_over(self, run, request):
        """Called from `run`'s `fit`: waits while the seeds train; returns its outcome, or None
        when it is to train alone. The time it waited, less its share of the fused fit, is
        left out of the run's seconds."""
        self._waiting.discard(run.name)
        state = random.getstate(), np.random.get_state()
        paused = time.perf_counter()
        outcome = greenlet.getcurrent().parent.switch(request)
        random.setstate(state[0])
        np.random.set_state(state[1])
        share = outcome["fit_seconds"] if outcome is not None else 0.0
        self.experiment.paused_seconds[run.name] = time.perf_counter() - paused - share
        return outcome

    def records(self):
        """`({seed: record}, "fused" or why the seeds trained one at a time)`."""
        done, waiting = {}, []  # waiting: (run, its greenlet, its FitRequest)
        self._waiting = {run.name for run in self.runs}
        for run in self.runs:
            seed_run = greenlet.greenlet(self.experiment.record)
            handed = seed_run.switch(run)  # runs until its first fit, or to its end
            if seed_run.dead:
                done[run.seed] = handed
            else:
                waiting.append((run, seed_run, handed))
        why = self._why_not([request for _, _, request in waiting], everyone_waits=not done)
        outcomes = None if why else self._fit([run for run, _, _ in waiting], [r for _, _, r in waiting])
        if not why and outcomes is None:
            why = "a seed's loss became NaN, where its own run stops while the others go on"
        for (run, seed_run, _), outcome in zip(waiting, outcomes or [None] * len(waiting)):
            done[run.seed] = seed_run.switch(outcome)  # the rest of its train, to its record
        return done, why or "fused"

    @staticmethod
    def _why_not(requests, everyone_waits):
        if not everyone_waits or not requests:
            return "its training does not go through run.fit, so there is no model to fuse"
        why = why_not_fused([request.model for request in requests], [request.data for request in requests])
        if why is None and len({request.epochs for request in requests}) > 1:
            why = "the seeds train for different numbers of epochs"
        return why

    def _fit(self, runs, requests):
        experiment, epochs = self.experiment, requests[0].epochs
        return experiment.trainer.fit_fused(
            [request.model for request in requests],
            [request.data for request in requests],
            history_names=[run.name for run in runs],
            backup_dir=experiment.store.backup_dir(f"{runs[0].name}-fused{len(runs)}"),
            epochs=epochs,
            callbacks=[request.callbacks for request in requests],
            tensorboards=[(experiment.tensorboard_dir(run), run.hyperparameters()) for run in runs],
            progress=[epoch_callback(experiment.progress, epochs)],
        )
