"""A character model that trains in a worker process while the page keeps drawing.

The text page must train at nearly the engine's full speed and still redraw several times a
second. Neither slices inside a fragment (every redraw pauses training) nor a thread (the
interpreter lock slows it to a crawl beside the busy web server) can do both, so the training
runs in `lstm_core.worker`'s process and the page only reads what it reports
(`lstm_core.training_process`).

`BackgroundText` is what the page keeps in its session: the model as last saved, the training
settings, and, once training has started, the worker. The worker is started on the first Train
and kept while the session lives; it saves its weights back here on every Pause, and if it ever
dies (or stops by itself after a long idle) the next Train starts a new one from those weights.
The weights saved here carry the training history (`history()`: the moments the worker reported,
then the saved weights as the latest), so a download carries it and a new worker goes on with it.
"""

from __future__ import annotations

import contextlib
import uuid

import numpy as np

from lstm_core import Model, load_checkpoint
from lstm_core.budget import TEXT_HISTORY, check_text_training
from lstm_core.errors import LabError
from lstm_core.history import WeightHistory
from lstm_core.sampling import DEFAULT_TEMPERATURE
from lstm_core.training import TextSettings
from lstm_core.training_process import TrainingProcess, empty_snapshot


class BackgroundText:
    """A character model, the worker that trains it, and what the page draws of it."""

    def __init__(
        self,
        model: Model,
        ids: np.ndarray,
        held_out: str,
        settings: TextSettings,
        prime: str = "the ",
        temperature: float = DEFAULT_TEMPERATURE,
    ) -> None:
        self.model = model  # the weights as last saved from the worker (or as they came)
        self.uid = uuid.uuid4().hex  # names this run's moments in caches (a step is not enough)
        self.ids, self.held_out, self.prime = ids, held_out, prime
        self.settings, self.temperature = settings, temperature
        self.worker: TrainingProcess | None = None
        self._copy: tuple[int, Model] | None = None  # (steps, weights) last fetched while training
        self.refused: dict | None = None  # why the last Train started nothing (over the budget)

    # ------------------------------------------------------------------ control
    @property
    def saved_steps(self) -> int:
        """The training step of `model`: the last of its history (whose owner it is), 0 for a
        model that came without one."""
        kept = self.model.history
        return kept.steps[-1] if kept is not None and len(kept) else 0

    def take_weights(self, model: Model, steps: int) -> None:
        """Weights the worker saved at `steps` become the page's model, carrying the history as
        the page has it (ending at `steps`)."""
        model.history = self._history(model, steps)
        self.model = model

    @property
    def running(self) -> bool:
        return self.worker is not None and self.worker.status == "training"

    @property
    def status(self) -> str:
        return self.worker.status if self.worker is not None else "paused"

    @property
    def message(self):
        """Why training is not going on (a problem as `explain` reads it), or nothing."""
        if self.refused is not None:
            return self.refused
        return self.worker.message if self.worker is not None else ""

    def start(self, threads: int = 1) -> None:
        """Train (in a new worker if there is none); threads: BLAS threads it may use.
        Settings over the budget (lstm_core.budget) start nothing: `message` says which to lower."""
        if self.running or self.status == "diverged":
            return
        try:
            check_text_training(
                self.model.config, self.settings.seq_length, self.settings.batch_size
            )
        except LabError as exc:
            self.refused = exc.as_dict()
            return
        self.refused = None
        previous = None
        if self.worker is not None and not self.worker.alive:  # it exited (idle) or died
            self.worker.drain()
            self.sync()
            previous, self.worker = self.worker, None  # a new one goes on from the weights it saved
            if previous.steps > self.saved_steps:  # it never saved its last steps: they are lost
                previous.forget_after(self.saved_steps)
        if self.worker is None:
            self.worker = TrainingProcess(
                self.model,
                self.ids,
                self.held_out,
                self.settings,
                self.prime,
                self.temperature,
                resume=previous,
                threads=threads,
            )
        self.allow_threads(threads)
        self.worker.train()

    def allow_threads(self, n: int) -> None:
        """How many BLAS threads the worker may use (ui/load.py decides; a new worker is
        started with the count `start` is given)."""
        if self.worker is not None:
            self.worker.allow_threads(n)

    def pause(self) -> None:
        """Stop training and bring the weights back to the page."""
        if self.worker is None:
            return
        self.worker.pause()
        saved = self.worker.weights()
        if saved is not None:
            self.take_weights(saved, self.worker.steps)

    def sync(self) -> None:
        """Take the weights the worker saved by itself (when it paused, unwatched), if newer."""
        saved = self.worker.saved if self.worker is not None else None
        if saved is not None and saved[0] > self.saved_steps:
            self.take_weights(load_checkpoint(saved[1]), saved[0])

    def touch(self) -> None:
        """The page is still looking (called on every redraw while training)."""
        if self.worker is not None:
            self.worker.ping()

    def apply(self, settings: TextSettings, temperature: float) -> None:
        """New settings: training goes on from the current weights (the optimizer starts anew)."""
        if settings != self.settings:
            self.refused = None  # asked again at the next Train
        if settings != self.settings and self.worker is not None:
            self.worker.set_settings(settings)
        if temperature != self.temperature and self.worker is not None:
            self.worker.set_temperature(temperature)
        self.settings, self.temperature = settings, temperature

    def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    # ------------------------------------------------------------------ reading
    def snapshot(self) -> dict:
        """Copies of everything the page draws."""
        if self.worker is None:
            return empty_snapshot()
        return self.worker.snapshot()

    def history(self) -> WeightHistory | None:
        """The training history as the page has it: the moments the worker reported, and the
        saved weights as the latest if they are newer (after a Pause: the last moment is the
        model). None before anything was kept."""
        if self.worker is None:
            return self.model.history
        return self._history(self.model, self.saved_steps)

    def _history(self, model: Model, steps: int) -> WeightHistory | None:
        """The moments the worker reported, then `model` at `steps` if it is newer."""
        kept, weights = self.worker.moments() if self.worker is not None else ([], [])
        if steps > (kept[-1] if kept else -1):
            kept.append(steps)
            weights.append(model.flat.astype(np.float32))
        if not kept:
            return None
        history = WeightHistory(budget=max(TEXT_HISTORY, sum(w.nbytes for w in weights)))
        history.steps, history.weights = kept, weights
        return history

    def model_copy(self) -> Model:
        """The current weights, to generate with while training goes on (fetched at most once a
        step); while paused, with the history (what a download carries)."""
        if not self.running:
            self.sync()
            copy = self.model.copy()
            copy.history = self.model.history
            return copy
        steps = self.worker.steps
        if self._copy is None or self._copy[0] != steps:
            fetched = self.worker.weights()
            self._copy = (steps, fetched if fetched is not None else self.model)
        return self._copy[1].copy()

    def __del__(
        self,
    ) -> None:  # the session went away: the worker reads the end of its input and exits
        if self.worker is not None:
            with contextlib.suppress(Exception):  # interpreter shutdown: nothing left to do
                self.worker.stop(wait=False)
