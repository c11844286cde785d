"""The BPTT page's models: an RNN, a GRU and an LSTM of one size (lstm_core.cells.SIDE_BY_SIDE),
trained side by side on the echo task or on text, kept at a few milestones of their training.

`PairTraining` only ever moves its trainers forward: asking for 1000 steps after 300 trains the
700 in between. A lock lets one caller train at a time (a server shares one among its sessions),
and what it hands out are copies nobody changes. (A "pair" from the days it was an RNN and an
LSTM.)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from .bptt import echo_sequence
from .budget import BPTT_HISTORY
from .cells import DEFAULT_CELL, SIDE_BY_SIDE
from .demos import bptt_echo_config, bptt_echo_score, bptt_echo_trainer
from .history import WeightHistory, shared_budgets
from .model import Model, ModelConfig
from .text import TrainingText, Vocabulary
from .training import TextSettings, TextTrainer

STEPS = (0, 100, 300, 1000, 3000)  # the milestones a page may ask for
TEXT_CLIP = 5.0  # the text task's clipping by norm
TEXT_WINDOW = 15  # characters: the text task's truncation window


def train_window(task: str, echo_step: int) -> int:
    """The truncation window every model of the pair trains with (demos.bptt_echo_config for the
    echo; TEXT_WINDOW characters for text). The page's own window slider does not change it (it
    only changes how the page computes the gradients)."""
    if task == "echo":
        return bptt_echo_config(DEFAULT_CELL, 1, echo_step, 0).truncated_backprop_length
    return TEXT_WINDOW


def score(task: str, model: Model, echo_step: int, held_out: str = "") -> float:
    """The score of a model of the pair as it is: echo accuracy on fresh bits, or bits per
    character on (the first 2,000 characters of) a held-out text."""
    if task == "echo":
        return bptt_echo_score(model, echo_step)
    ids = Vocabulary(model.config.vocab).encode(held_out[:2001], skip_unknown=True)
    probs = model.forward(model.time_major(ids[None, :-1])).probs[:, 0]  # (T, V): no backward
    picked = probs[np.arange(len(ids) - 1), ids[1:]].astype(np.float64)
    return float(-np.mean(np.log(np.maximum(picked, 1e-300))) / np.log(2))  # bits per character


def sequence(
    task: str, model: Model, T: int, echo_step: int, seed: int, held_out: str = ""
) -> tuple[np.ndarray, np.ndarray]:
    """The sequence a page follows the gradient through: (inputs, targets), each (T,): fresh echo
    bits, or T + 1 characters from a place of the held-out text the seed picks."""
    if task == "echo":
        return echo_sequence(T, echo_step, seed)
    start = int(np.random.default_rng(seed).integers(0, len(held_out) - T - 1))
    ids = Vocabulary(model.config.vocab).encode(held_out[start : start + T + 1], skip_unknown=True)
    return ids[:-1], ids[1:]


@dataclass(frozen=True)
class TrainedPair:
    """One model of each kind of cell after (up to) some number of updates, and how their
    training went."""

    models: dict[str, Model]  # cell name -> model: read-only, shared by every session
    steps: dict[str, int]  # the updates each model actually took
    problems: dict[str, Any]  # why a model stopped early (a LabError), else None
    scores: dict[str, float]  # echo: accuracy on fresh bits; text: held-out bits per character
    chance: float  # the score of a blind guess: 50% of bits, log2(V) bits per character
    window: int  # the truncation window they trained with


class PairTraining:
    """The trainers (one per kind of cell) of one (task, hidden, echo_step, seed), and the
    models as they were at each of STEPS reached so far. corpus: the text task's text (None for
    the echo)."""

    def __init__(
        self, task: str, hidden: int, echo_step: int, seed: int, corpus: TrainingText | None = None
    ) -> None:
        self.task, self.lock, self.echo_step, self.corpus = (
            task,
            threading.Lock(),
            echo_step,
            corpus,
        )
        self.window = train_window(task, echo_step)
        self.trainers = {
            cell: self._trainer(cell, hidden, echo_step, seed) for cell in SIDE_BY_SIDE
        }
        budgets = shared_budgets([tr.model for tr in self.trainers.values()], BPTT_HISTORY)
        for trainer, budget in zip(self.trainers.values(), budgets, strict=True):
            trainer.keep_history(budget)  # the same steps for all: one slider shows them all
        self.pairs: dict[int, TrainedPair] = {}

    def _trainer(self, cell: str, hidden: int, echo_step: int, seed: int):
        if self.task == "echo":  # the echo page's "RNN vs LSTM" recipe (lstm_core/demos.py)
            return bptt_echo_trainer(cell, hidden, echo_step, seed)
        V = len(self.corpus.vocab)
        config = ModelConfig(
            "char-lm", cell, V, hidden, 1, V, vocab=self.corpus.vocab.chars, lowercase=True
        )
        settings = TextSettings(self.window, 16, 5e-3, "adam", 0.0, TEXT_CLIP, seed)
        return TextTrainer(Model.create(config, seed=seed), self.corpus.train_ids, settings)

    def _score(self, cell: str) -> float:
        held_out = self.corpus.held_out if self.corpus is not None else ""
        return score(self.task, self.trainers[cell].model, self.echo_step, held_out)

    def _chance(self) -> float:
        return 0.5 if self.task == "echo" else float(np.log2(len(self.corpus.vocab)))

    def advance(self, steps: int, progress=None) -> TrainedPair:
        """The pair after `steps` updates (one of STEPS), training on from the last one reached.
        progress(done, total) is called every few updates while it trains."""
        if steps not in STEPS:
            raise ValueError(f"steps must be one of {STEPS}")
        with self.lock:
            todo = [s for s in STEPS if s <= steps and s not in self.pairs]
            total = sum(max(0, steps - min(tr.steps_done, steps)) for tr in self.trainers.values())
            done = 0
            for milestone in todo:
                for trainer in self.trainers.values():
                    while trainer.steps_done < milestone and not trainer.finished:
                        trainer.step()
                        done += 1
                        if progress is not None and done % 25 == 0:
                            progress(done, total)  # a rerun may stop us here: nothing is lost
                    if trainer.finished:  # stopped early: what is left counts as done
                        done += max(0, steps - trainer.steps_done)
                self.pairs[milestone] = TrainedPair(
                    {cell: tr.model.copy() for cell, tr in self.trainers.items()},
                    {cell: tr.steps_done for cell, tr in self.trainers.items()},
                    {cell: tr.problem for cell, tr in self.trainers.items()},
                    {cell: self._score(cell) for cell in self.trainers},
                    self._chance(),
                    self.window,
                )
            return self.pairs[steps]

    def rewindable(self, steps: int) -> dict[str, Model]:
        """The pair after `steps` updates (reached already), each model carrying its history up
        to then: the kept steps before it and the pair's own weights at it. The history goes on
        growing (and thinning) as training goes further, so the moments before `steps` are
        those still kept; copied under the lock (another caller may be training)."""
        with self.lock:
            pair = self.pairs[steps]
            out = {}
            for cell, trainer in self.trainers.items():
                kept, done = trainer.history, pair.steps[cell]
                before = [j for j, s in enumerate(kept.steps) if s < done]
                model = pair.models[cell]
                then = Model(model.config, model.flat, model.meta)  # shares the read-only weights
                then.history = WeightHistory(
                    budget=kept.budget + model.flat.size * 4,
                    steps=[kept.steps[j] for j in before] + [done],
                    weights=[kept.weights[j] for j in before] + [model.flat.astype(np.float32)],
                )
                out[cell] = then
            return out
