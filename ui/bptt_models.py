"""The BPTT page's three models (lstm_core.bptt_pair), trained once per setting and shared by
every session (st.cache_resource): moving up from 300 to 1000 steps trains only the 700 in
between, and whoever asks next gets the same models. Pages only read them."""

from __future__ import annotations

import numpy as np
import streamlit as st

from lstm_core import bptt_pair
from lstm_core.bptt_pair import PairTraining, TrainedPair
from lstm_core.model import Model
from lstm_core.text import TrainingText
from ui import corpora, samples


@st.cache_resource(show_spinner=False)
def logbook_corpus() -> TrainingText:
    """The generated logbook, lowercased, as the text page prepares it (read-only, shared)."""
    return corpora.prepare(samples.text("logbook"), True, 2)


def _held_out(task: str) -> str:
    return logbook_corpus().held_out if task == "text" else ""


@st.cache_resource(max_entries=12, show_spinner=False)
def _pair_training(task: str, hidden: int, echo_step: int, seed: int) -> PairTraining:
    corpus = logbook_corpus() if task == "text" else None
    return PairTraining(task, hidden, echo_step, seed, corpus)


def _training(task: str, hidden: int, echo_step: int, seed: int) -> PairTraining:
    return _pair_training(task, hidden, echo_step if task == "echo" else 0, seed)


def pair(
    task: str, hidden: int, steps: int, echo_step: int, seed: int, progress=None
) -> TrainedPair:
    """An RNN, a GRU and an LSTM of the same size, each trained `steps` updates (one of
    bptt_pair.STEPS) on the task, with truncated BPTT windows of `bptt_pair.train_window`.
    progress(done, total) while training."""
    return _training(task, hidden, echo_step, seed).advance(steps, progress)


def rewindable(task: str, hidden: int, steps: int, echo_step: int, seed: int) -> dict[str, Model]:
    """The models of `pair` (trained already), each with its history up to `steps`."""
    return _training(task, hidden, echo_step, seed).rewindable(steps)


def score(task: str, model: Model, echo_step: int) -> float:
    """A model's score as the page shows it (bptt_pair.score; text: on the logbook's tail)."""
    return bptt_pair.score(task, model, echo_step, _held_out(task))


def sequence(
    task: str, model: Model, T: int, echo_step: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The sequence the page follows the gradient through (bptt_pair.sequence): (inputs,
    targets), each (T,)."""
    return bptt_pair.sequence(task, model, T, echo_step, seed, _held_out(task))
