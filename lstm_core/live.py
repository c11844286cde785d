"""Training in short time slices, for a UI that redraws between slices.

A `LiveRun` advances one or more trainers together (an RNN and an LSTM on the same data, say)
for a few milliseconds at a time and keeps what a page draws: the loss of every step and, now
and then, the accuracy on fresh data, each in a `History` whose memory stays bounded however
long training goes on (old points are averaged in pairs when it fills up).

`EchoSweep` runs the memory-span experiment the same way: train an RNN and an LSTM for every
echo_step in a range, slice by slice, and record the accuracy each reaches.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import replace

import numpy as np

from .budget import ECHO_HISTORY
from .echo import EchoConfig, echo_accuracy
from .history import shared_budgets
from .training import EchoTrainer, Trainer


class History:
    """(x, y) points, at most `capacity` of them: when full, neighbouring pairs are averaged.

    Every stored point is the mean of exactly `per_point` raw values (x: the last of them); after
    a compaction `per_point` doubles. `arrays()` adds the values still waiting to fill a point
    as one last partial point, so a live chart always reaches the latest step.
    """

    def __init__(self, capacity: int = 1000) -> None:
        if capacity < 4 or capacity % 2:
            raise ValueError("capacity must be an even number >= 4")
        self.capacity = capacity
        self.x = np.empty(capacity, np.float64)
        self.y = np.empty(capacity, np.float64)
        self.n = 0
        self.per_point = 1  # raw values averaged into each stored point
        self._pending: list[tuple[float, float]] = []  # raw values waiting to fill one point

    def add(self, x: float, y: float) -> None:
        self._pending.append((x, y))
        if len(self._pending) < self.per_point:
            return
        if self.n == self.capacity:  # halve the resolution; what is pending is now half a point
            half = self.capacity // 2
            self.x[:half] = self.x[1 : self.n : 2]  # each pair ends where its second point ends
            self.y[:half] = self.y[: self.n].reshape(half, 2).mean(axis=1)
            self.n = half
            self.per_point *= 2
            return
        xs, ys = zip(*self._pending, strict=True)
        self._pending.clear()
        self.x[self.n], self.y[self.n] = xs[-1], float(np.mean(ys))
        self.n += 1

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The stored points, plus one partial point for values not yet folded into one."""
        x, y = self.x[: self.n], self.y[: self.n]
        if self._pending:
            xs, ys = zip(*self._pending, strict=True)
            x, y = np.append(x, xs[-1]), np.append(y, np.mean(ys))
        return x.copy(), y.copy()

    def smoothed(self, fraction: float = 0.05, log: bool = False) -> np.ndarray:
        """An exponential moving average of `arrays()`' y over about `fraction` of the points.

        log=True averages log(y) (and returns exp of it): the line for a log axis. A plain average
        of a loss that spans decades follows its rare spikes (the echo task pays one at every
        epoch's zero state) and floats far above the typical value; on a log axis the eye reads
        distances as ratios, and the average of the logs sits where the eye expects it.
        """
        y = self.arrays()[1]
        if len(y) == 0:
            return y
        if log:
            return np.exp(History._ema(np.log(np.maximum(y, 1e-12)), fraction))
        return History._ema(y, fraction)

    @staticmethod
    def _ema(y: np.ndarray, fraction: float) -> np.ndarray:
        alpha = min(1.0, 1.0 / max(1.0, fraction * len(y)))
        out = np.empty_like(y)
        acc = y[0]
        for k, v in enumerate(y):
            acc = alpha * v + (1 - alpha) * acc
            out[k] = acc
        return out

    def __len__(self) -> int:
        return self.n + (1 if self._pending else 0)


class _Clock:
    """A `running` flag that also keeps the time on the clock while it is set."""

    _wall = 0.0  # seconds on the clock while running, before the current run
    _since: float | None = None  # when the current run started

    @property
    def running(self) -> bool:
        return self._since is not None

    @running.setter
    def running(self, on: bool) -> None:
        now = time.perf_counter()
        if on and self._since is None:
            self._since = now
        elif not on and self._since is not None:
            self._wall += now - self._since
            self._since = None

    @property
    def wall_seconds(self) -> float:
        """Seconds on the clock while running."""
        return self._wall + (0.0 if self._since is None else time.perf_counter() - self._since)


class LiveRun(_Clock):
    """Several named trainers advanced together in time slices, with bounded histories.

    evaluate(trainer) -> float is called every `eval_every` steps of each trainer (and when it
    finishes or stops) and recorded in `accuracy[name]`. A trainer that diverges is scored with
    the weights it kept, and `stops[name]` holds the step it stopped at.

    `wall_seconds` is the time on the clock while running (single steps add their own time): a
    page that trains in slices between redraws spends only part of it training
    (`trainer.elapsed`).
    """

    def __init__(
        self,
        trainers: dict[str, Trainer],
        evaluate: Callable[[Trainer], float] | None = None,
        eval_every: int = 200,
        capacity: int = 1000,
    ) -> None:
        self.trainers = trainers
        self.evaluate, self.eval_every = evaluate, eval_every
        self.losses = {name: History(capacity) for name in trainers}
        self.accuracy = {name: History(capacity // 4) for name in trainers}
        self.stops: dict[str, int] = {}  # name -> the step at which training diverged
        self.running = False

    @property
    def finished(self) -> bool:
        return all(tr.finished for tr in self.trainers.values())

    def _record(self, name: str, trainer: Trainer, snap) -> None:
        if snap.status == "diverged":  # no loss to add: score the weights it kept
            if name not in self.stops:
                self.stops[name] = snap.step + 1
                if self.evaluate:
                    self.accuracy[name].add(snap.step, self.evaluate(trainer))
            return
        self.losses[name].add(snap.step, snap.loss)
        if self.evaluate and (snap.step % self.eval_every == 0 or trainer.finished):
            self.accuracy[name].add(snap.step, self.evaluate(trainer))

    def step(self) -> None:
        """One step of every trainer still training."""
        t0 = time.perf_counter()
        for name, tr in self.trainers.items():
            if not tr.finished:
                self._record(name, tr, tr.step())
        if not self.running:
            self._wall += time.perf_counter() - t0

    def advance(self, seconds: float, chunk: int = 16) -> int:
        """Train for about `seconds`, `chunk` steps of each trainer at a time; returns steps done."""
        deadline = time.perf_counter() + seconds
        done = 0
        while not self.finished and time.perf_counter() < deadline:
            for name, tr in self.trainers.items():
                for _ in range(chunk):
                    if tr.finished:
                        break
                    self._record(name, tr, tr.step())
                    done += 1
        if self.finished:
            self.running = False
        return done

    def loss_curve(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(step, loss, smoothed loss) for a log axis (see `History.smoothed`)."""
        history = self.losses[name]
        return (*history.arrays(), history.smoothed(log=True))

    def problems(self) -> list:
        """Why trainers stopped, for those that diverged (`LabError`s: str() is the message)."""
        return [tr.problem for tr in self.trainers.values() if tr.status == "diverged"]


def echo_run(config: EchoConfig, cells: Iterable[str]) -> LiveRun:
    """Echo trainers for the given cells, on the same data and seed, scored on fresh data, each
    keeping its history (history.py) at the same steps, together within budget.ECHO_HISTORY."""
    trainers = {cell: EchoTrainer(replace(config, cell=cell)) for cell in cells}
    budgets = shared_budgets([tr.model for tr in trainers.values()], ECHO_HISTORY)
    for trainer, budget in zip(trainers.values(), budgets, strict=True):
        trainer.keep_history(budget)
    return LiveRun(
        trainers,
        evaluate=lambda tr: echo_accuracy(tr.model, tr.config, length=5000),
        eval_every=max(50, config.windows_per_epoch // 4),  # each check costs a few windows' time
    )


class EchoSweep(_Clock):
    """Accuracy against echo_step, for each cell, at `base` sizes: how far back each can remember.

    Every point is trained until it stops getting better, so the curve shows what the cell can
    learn rather than how far a fixed number of epochs got: the accuracy on fresh data is checked
    every `check_every` windows, and training stops when it reaches `target`, when `patience`
    checks in a row have not beaten the best by `min_gain`, or after `max_epochs` epochs. The
    best weights are then scored once more on other fresh data (picking the best of noisy checks
    and reporting that same check would flatter it).

    What bounds the answer: echo_step >= truncated_backprop_length cannot be learned by
    construction (the answer's bit always lies in an earlier window, where no gradient reaches);
    below that, state_size (how many bits the state can hold) and the optimizer's patience.
    """

    def __init__(
        self,
        base: EchoConfig,
        echo_steps: Iterable[int] = range(1, 21),
        cells: Iterable[str] = ("rnn", "lstm"),
        max_epochs: int = 10,
        target: float = 0.99,
        patience: int = 5,
        min_gain: float = 0.01,
        check_every: int = 300,
    ) -> None:
        if max_epochs < 1 or patience < 1 or check_every < 1:
            raise ValueError("max_epochs, patience and check_every must be at least 1")
        self.base, self.max_epochs = base, max_epochs
        self.target, self.patience, self.min_gain = target, patience, min_gain
        self.budget = max_epochs * base.windows_per_epoch  # windows at most, per point
        self.check_every = min(check_every, self.budget)
        self.cells = tuple(cells)
        self.jobs = [(cell, k) for k in echo_steps for cell in self.cells]
        self.results: dict[str, dict[int, float]] = {cell: {} for cell in self.cells}
        # how each point ended: (windows trained, "target" | "plateau" | "budget" | "diverged")
        self.details: dict[str, dict[int, tuple[int, str]]] = {cell: {} for cell in self.cells}
        self.index = 0
        self.trainer: EchoTrainer | None = None
        self._best: tuple[float, np.ndarray] | None = None  # (accuracy, weights) of the best check
        self._stale = 0  # checks since the best improved by min_gain
        self.running = False  # wall_seconds: the sweep's time on the clock

    @property
    def done(self) -> bool:
        return self.index >= len(self.jobs)

    @property
    def progress(self) -> float:
        """Fraction of the points done, counting the current one's windows against its budget."""
        if self.done:
            return 1.0
        partial = 0.0 if self.trainer is None else self.trainer.steps_done / self.budget
        return (self.index + min(partial, 1.0)) / len(self.jobs)

    def current(self) -> tuple[str, int] | None:
        return None if self.done else self.jobs[self.index]

    def _start(self) -> None:
        cell, k = self.jobs[self.index]
        config = replace(self.base, cell=cell, echo_step=k, num_epochs=self.max_epochs)
        self.trainer, self._best, self._stale = EchoTrainer(config), None, 0

    def _check(self) -> str | None:
        """Score the current weights; why this point should stop, or None to go on."""
        tr = self.trainer
        if tr.status == "diverged":
            return "diverged"
        accuracy = echo_accuracy(tr.model, tr.config, length=5000)
        if self._best is None or accuracy >= self._best[0] + self.min_gain:
            self._best, self._stale = (accuracy, tr.model.flat), 0
        else:
            self._stale += 1
            if accuracy > self._best[0]:  # a small gain: keep the better weights, patience runs on
                self._best = (accuracy, tr.model.flat)
        if accuracy >= self.target:
            return "target"
        if self._stale >= self.patience:
            return "plateau"
        return "budget" if tr.finished else None

    def _finish(self, reason: str) -> None:
        cell, k = self.jobs[self.index]
        tr = self.trainer
        accuracy = float("nan")
        if reason != "diverged":
            tr.model.flat = self._best[1]
            accuracy = echo_accuracy(tr.model, tr.config, seed=54321)  # data no check has seen
        self.results[cell][k] = accuracy
        self.details[cell][k] = (tr.steps_done, reason)
        self.trainer = None
        self.index += 1

    def advance(self, seconds: float) -> None:
        """Train for about `seconds`, at most 64 windows at a time, checking as it goes."""
        deadline = time.perf_counter() + seconds
        while not self.done and time.perf_counter() < deadline:
            if self.trainer is None:
                self._start()
            tr = self.trainer
            todo = self.check_every - tr.steps_done % self.check_every
            for _ in tr.run(min(todo, 64)):
                pass
            if tr.finished or tr.steps_done % self.check_every == 0:
                reason = self._check()
                if reason is not None:
                    self._finish(reason)
        if self.done:
            self.running = False
