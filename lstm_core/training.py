"""Training loops that a UI can drive: explicit state, one update at a time, small snapshots.

A trainer holds everything training needs (model, optimizer state, data position, carried state,
random generator) as plain attributes, so it can stop after any step and go on later with
nothing lost. `trainer.step()` does one update and returns a `Snapshot`; `trainer.run()` is a
generator of snapshots for as long as the caller keeps asking.

A learning rate too large shows up in one of two ways, and both stop training with status
"diverged" and a one-line message: something stops being finite (loss, gradient or a weight), or
the loss stays far above where it started (saturated units make confident wrong guesses, which
stays finite: the loss climbs towards -log of the smallest float). "Stays" is judged on a moving
average of the loss, so one hard batch does not stop training: a confident model legitimately
pays a spike when, say, the echo task starts a new epoch from a zero state. When training stops,
the trainer goes back to the last good weights: the latest whose own loss was within the limit.
Updates are pure, so remembering them costs only a reference.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from .echo import EchoConfig, echo_accuracy, echo_data, new_echo_model
from .errors import LabError
from .history import WeightHistory
from .model import Model, StepResult
from .optim import clip_by_global_norm, clip_by_value, make_optimizer
from .sequence import Workspace
from .text import sample_windows


class Snapshot(NamedTuple):
    """What one training step reports."""

    step: int  # updates applied so far
    loss: float  # mean cross-entropy of this step's batch, nats
    grad_norm: float  # global gradient norm before clipping
    elapsed: float  # seconds spent in training steps (pauses do not count)
    epoch: int = 0  # echo: the current epoch (0-based)
    window: int = 0  # echo: windows done in this epoch
    status: str = "running"  # "running", "done" or "diverged"
    message: str = ""


class Trainer:
    """The shared loop: batch -> forward + BPTT -> clip -> optimizer -> finiteness check."""

    def __init__(
        self,
        model: Model,
        optimizer: str = "adam",
        learning_rate: float = 2e-3,
        clip_norm: float = 0.0,
        clip_value: float = 0.0,
        dropout: float = 0.0,
        seed: int = 0,
    ) -> None:
        if not 0.0 <= dropout < 1.0:
            raise ValueError("dropout must be in [0, 1)")
        self.model = model
        self.optimizer = make_optimizer(optimizer, learning_rate)
        self.opt_state = self.optimizer.init({"params": model.flat})
        self.clip_norm, self.clip_value, self.dropout = clip_norm, clip_value, dropout
        self.rng = np.random.default_rng(seed)
        self.steps_done = 0
        self.elapsed = 0.0
        self.status = "running"
        self.message = ""
        self.problem: LabError | None = None  # why training stopped, for a translation
        self.last: Snapshot | None = None
        self.ws = Workspace()
        self.history: WeightHistory | None = None  # set one to keep the weights as they change
        self.loss_limit: float | None = None  # set from the first loss: 4 × max(ln V, that loss)
        self.loss_average: float | None = None  # moving average of the loss (about 10 steps)
        self._good: tuple | None = (
            None  # (weights, optimizer state) whose loss was within the limit
        )

    def keep_history(self, budget: int | None = None) -> WeightHistory:
        """Keep the weights from now on (history.py), starting with the current ones."""
        self.history = WeightHistory() if budget is None else WeightHistory(budget=budget)
        self.history.offer(self.steps_done, self.model.flat)
        return self.history

    # subclasses supply the data
    def next_batch(self) -> tuple[np.ndarray, np.ndarray, tuple | None]:
        raise NotImplementedError

    def after_step(self, result: StepResult) -> None:
        """Called after an accepted update (e.g. to carry the state to the next window)."""

    def snapshot_extra(self) -> dict:
        return {}

    @property
    def finished(self) -> bool:
        return self.status != "running"

    def _refuse(self, why: str, code: str, **params) -> Snapshot:
        """Stop training and go back to the last good weights."""
        if self._good is not None:
            self.model.flat, self.opt_state = self._good
        self.status = "diverged"
        lr, step = self.optimizer.learning_rate, self.steps_done + 1
        self.message = (
            f"training stopped at step {step}: {why}; the learning rate {lr:g} is "
            "probably too high. The last good weights are kept."
        )
        self.problem = LabError(
            self.message, "diverged", step=step, learning_rate=lr, why=code, **params
        )
        return self._snap(float("nan"), float("nan"))

    def _snap(self, loss: float, norm: float) -> Snapshot:
        self.last = Snapshot(
            self.steps_done,
            loss,
            norm,
            self.elapsed,
            status=self.status,
            message=self.message,
            **self.snapshot_extra(),
        )
        return self.last

    def step(self) -> Snapshot:
        """One update. After "done" or "diverged" it changes nothing and repeats the last report."""
        if self.finished:
            return self.last or self._snap(float("nan"), float("nan"))
        t0 = time.perf_counter()
        with np.errstate(all="ignore"):  # overflow is detected below, by looking at the numbers
            return self._step(t0)

    def _step(self, t0: float) -> Snapshot:
        x, y, state = self.next_batch()
        res = self.model.gradients(x, y, state, self.dropout, self.rng, self.ws)
        grads = {"params": res.grads}
        if not math.isfinite(res.loss):
            return self._refuse("the loss is no longer a finite number", "loss_nan")
        if self.loss_limit is None:
            self.loss_limit = 4.0 * max(math.log(self.model.config.output_size), res.loss)
            self.loss_average = res.loss
        self.loss_average = 0.9 * self.loss_average + 0.1 * res.loss
        if res.loss <= self.loss_limit:
            self._good = (self.model.flat, self.opt_state)  # these weights scored within the limit
        if self.loss_average > self.loss_limit:
            chance = math.log(self.model.config.output_size)
            why = f"the loss climbed to {self.loss_average:.3g} nats on average (a uniform guess scores {chance:.3g})"
            return self._refuse(
                why, "loss_climbed", loss=round(self.loss_average, 3), chance=round(chance, 3)
            )
        if self.clip_value:
            grads = clip_by_value(grads, self.clip_value)
        grads, norm = clip_by_global_norm(grads, self.clip_norm)
        if not math.isfinite(norm):
            return self._refuse("the gradient is no longer finite", "grad_nan")
        new, state = self.optimizer.update({"params": self.model.flat}, grads, self.opt_state)
        if not np.isfinite(new["params"]).all():
            return self._refuse("a weight became NaN or infinite", "weight_nan")
        self.model.flat, self.opt_state = new["params"], state
        self.steps_done += 1
        if self.history is not None:
            self.history.offer(self.steps_done, self.model.flat)
        self.after_step(res)
        self.elapsed += time.perf_counter() - t0
        return self._snap(res.loss, norm)

    def run(self, max_steps: int | None = None) -> Iterator[Snapshot]:
        """Yield a snapshot per step until finished (or after max_steps more steps)."""
        n = 0
        while not self.finished and (max_steps is None or n < max_steps):
            yield self.step()
            n += 1


class EchoTrainer(Trainer):
    """The notebook's loop: epochs of fresh data, windows in order, state carried across them."""

    def __init__(self, config: EchoConfig, model: Model | None = None) -> None:
        model = model or new_echo_model(config)
        if model.config.kind != "echo" or model.config.hidden_size != config.state_size:
            raise ValueError("the model does not match the echo settings (kind, state_size)")
        super().__init__(model, config.optimizer, config.learning_rate, seed=config.seed)
        self.config = config
        self.epoch, self.window = 0, 0
        self.state = None
        self._window: tuple | None = None  # (x, y, initial state, weights) of the current window
        self._shown: tuple | None = None  # the same for the last window whose update was accepted
        self._new_epoch()

    def _new_epoch(self) -> None:
        rate = self.config.learning_rate_at(self.epoch)  # the optimizer's state carries on
        if rate != self.optimizer.learning_rate:
            self.optimizer = replace(self.optimizer, learning_rate=rate)
        x, y = echo_data(self.config, self.rng)
        self.X = np.ascontiguousarray(x.T[:, :, None], dtype=self.model.dtype)  # (columns, B, 1)
        self.Y = np.ascontiguousarray(y.T, dtype=np.intp)  # (columns, B)
        self.state = None  # the notebook starts every epoch from a zero state

    def window_slice(self) -> slice:
        T = self.config.truncated_backprop_length
        return slice(self.window * T, (self.window + 1) * T)

    def next_batch(self):
        s = self.window_slice()
        # remembered by reference (updates are pure, a new epoch draws new arrays): enough to
        # replay this window exactly as it was trained, whatever happens after it
        self._window = (self.X[s], self.Y[s], self.state, self.model.flat)
        return self.X[s], self.Y[s], self.state

    def after_step(self, result: StepResult) -> None:
        self._shown = self._window  # accepted: this is the window the page shows
        self.state = result.trace.final_state()  # carried forward; the gradient stops here
        self.window += 1
        if self.window == self.config.windows_per_epoch:
            self.epoch, self.window = self.epoch + 1, 0
            if self.epoch == self.config.num_epochs:
                self.status, self.message = "done", f"finished {self.epoch} epochs"
            else:
                self._new_epoch()

    def snapshot_extra(self) -> dict:
        return {"epoch": self.epoch, "window": self.window}

    def train_until(self, accuracy: float | None = None, on_epoch=None, stop=None) -> float:
        """Train whole epochs until fresh-data accuracy reaches `accuracy` (None: all epochs), the
        epochs run out, training diverges, or `stop()` (asked after every window) says so.
        on_epoch(trainer, accuracy) is called after each epoch. Returns the last accuracy
        measured (measured again at once when `stop` ends training inside an epoch)."""
        measured = float("nan")
        while not self.finished:
            for _ in self.run(self.config.windows_per_epoch - self.window):
                if stop is not None and stop():
                    return echo_accuracy(self.model, self.config)
            measured = echo_accuracy(self.model, self.config)
            if on_epoch is not None:
                on_epoch(self, measured)
            if accuracy is not None and measured >= accuracy:
                break
        return measured

    def last_input(self):
        """(x (T, B, 1), y (T, B), the state carried into it) of the last window trained on:
        what the window view of any weights reads (rewind_echo.py). None before the first step."""
        if self._shown is None:
            return None
        x, y, state, _ = self._shown
        return x, y, state

    def last_window(self):
        """(x (T, B), y (T, B), trace) of the last window trained on, exactly as training saw it:
        its data, the state carried into it from the window before (trace.layers[0].h[0], .c[0]),
        and the weights before its update. None before the first step.

        Recomputing the window from a zero state instead would show a model that never existed:
        training carries the state, so the bits stored before the window's edge would be missing.
        """
        if self._shown is None:
            return None
        x, y, state, weights = self._shown
        model = Model(self.model.config, weights, self.model.meta)
        return x[:, :, 0].astype(np.int8), y, model.forward(x, state)


@dataclass(frozen=True)
class TextSettings:
    """How a character model trains: the one place these defaults are written (the text page,
    its worker and `train-text` all read them). Crosses the worker's pipe as `asdict`."""

    seq_length: int = 60  # characters per window, backpropagated through (the paper: 60)
    batch_size: int = 32  # windows per step
    learning_rate: float = 2e-3
    optimizer: str = "adam"
    dropout: float = 0.2  # on each layer's output while training
    clip_norm: float = 5.0  # the gradient's global norm is clipped to this (0: no clipping)
    seed: int = 0  # of the batches and the dropout masks

    @property
    def characters_per_step(self) -> int:
        return self.seq_length * self.batch_size


class TextTrainer(Trainer):
    """Random windows of `seq_length` characters, each predicting the next character everywhere.

    first_step: the count to go on from (a worker's new trainer after a change of settings)."""

    def __init__(
        self,
        model: Model,
        ids: np.ndarray,
        settings: TextSettings | None = None,
        first_step: int = 0,
    ) -> None:
        s = settings = settings or TextSettings()
        if model.config.kind != "char-lm":
            raise ValueError("a text trainer needs a character model")
        if s.seq_length < 1 or s.batch_size < 1:
            raise ValueError("seq_length and batch_size must be at least 1")
        if len(ids) < s.seq_length + 1:
            raise ValueError(
                f"the text has {len(ids)} characters; a window of {s.seq_length} needs "
                f"{s.seq_length + 1}"
            )
        super().__init__(model, s.optimizer, s.learning_rate, s.clip_norm, 0.0, s.dropout, s.seed)
        self.ids = np.asarray(ids, dtype=np.intp)
        self.settings = settings
        self.steps_done = first_step

    @property
    def seq_length(self) -> int:
        return self.settings.seq_length

    @property
    def batch_size(self) -> int:
        return self.settings.batch_size

    def next_batch(self):
        x, y = sample_windows(self.ids, self.seq_length, self.batch_size, self.rng)
        return x, y, None

    @property
    def characters_seen(self) -> int:
        return self.steps_done * self.settings.characters_per_step
