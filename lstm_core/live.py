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

from .echo import EchoConfig, echo_accuracy
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

    def smoothed(self, fraction: float = 0.05) -> np.ndarray:
        """An exponential moving average of `arrays()`' y over about `fraction` of the points."""
        y = self.arrays()[1]
        if len(y) == 0:
            return y
        alpha = min(1.0, 1.0 / max(1.0, fraction * len(y)))
        out = np.empty_like(y)
        acc = y[0]
        for k, v in enumerate(y):
            acc = alpha * v + (1 - alpha) * acc
            out[k] = acc
        return out

    def __len__(self) -> int:
        return self.n + (1 if self._pending else 0)


class LiveRun:
    """Several named trainers advanced together in time slices, with bounded histories.

    evaluate(trainer) -> float is called every `eval_every` steps of each trainer (and when it
    finishes) and recorded in `accuracy[name]`.
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
        self.running = False

    @property
    def finished(self) -> bool:
        return all(tr.finished for tr in self.trainers.values())

    def _record(self, name: str, trainer: Trainer, snap) -> None:
        if snap.status == "diverged":
            return
        self.losses[name].add(snap.step, snap.loss)
        if self.evaluate and (snap.step % self.eval_every == 0 or trainer.finished):
            self.accuracy[name].add(snap.step, self.evaluate(trainer))

    def step(self) -> None:
        """One step of every trainer still training."""
        for name, tr in self.trainers.items():
            if not tr.finished:
                self._record(name, tr, tr.step())

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

    def problems(self) -> list:
        """Why trainers stopped, for those that diverged (`LabError`s: str() is the message)."""
        return [tr.problem for tr in self.trainers.values() if tr.status == "diverged"]


def echo_run(config: EchoConfig, cells: Iterable[str]) -> LiveRun:
    """Echo trainers for the given cells, on the same data and seed, scored on fresh data."""
    trainers = {cell: EchoTrainer(replace(config, cell=cell)) for cell in cells}
    return LiveRun(trainers, evaluate=lambda tr: echo_accuracy(tr.model, tr.config, length=5000),
                   eval_every=max(25, config.windows_per_epoch // 4))  # fmt: skip


class EchoSweep:
    """Accuracy against echo_step, for each cell, each trained `epochs` epochs at `base` sizes."""

    def __init__(self, base: EchoConfig, echo_steps: Iterable[int] = range(1, 21),
                 cells: Iterable[str] = ("rnn", "lstm"), epochs: int = 2) -> None:  # fmt: skip
        self.base, self.epochs = base, epochs
        self.cells = tuple(cells)
        self.jobs = [(cell, k) for k in echo_steps for cell in self.cells]
        self.results: dict[str, dict[int, float]] = {cell: {} for cell in self.cells}
        self.index = 0
        self.trainer: EchoTrainer | None = None
        self.running = False

    @property
    def done(self) -> bool:
        return self.index >= len(self.jobs)

    @property
    def progress(self) -> float:
        """Fraction of the sweep done, counting the current job's windows."""
        if self.done:
            return 1.0
        partial = 0.0
        if self.trainer is not None:
            total = self.epochs * self.trainer.config.windows_per_epoch
            partial = self.trainer.steps_done / total
        return (self.index + partial) / len(self.jobs)

    def current(self) -> tuple[str, int] | None:
        return None if self.done else self.jobs[self.index]

    def advance(self, seconds: float) -> None:
        deadline = time.perf_counter() + seconds
        while not self.done and time.perf_counter() < deadline:
            cell, k = self.jobs[self.index]
            if self.trainer is None:
                self.trainer = EchoTrainer(
                    replace(self.base, cell=cell, echo_step=k, num_epochs=self.epochs)
                )
            for _ in self.trainer.run(64):
                pass
            if self.trainer.finished:
                ok = self.trainer.status == "done"
                self.results[cell][k] = (
                    echo_accuracy(self.trainer.model, self.trainer.config) if ok else float("nan")
                )
                self.trainer = None
                self.index += 1
        if self.done:
            self.running = False
