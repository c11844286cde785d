"""Where pages get their models, and how a typed input becomes the model's input.

Cached models are shared by every session (st.cache_resource): pages only read them. Anything
that trains copies first.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import streamlit as st

import lstm_core
from lstm_core import EchoConfig, EchoTrainer, Model, ModelConfig, demos
from lstm_core.cells import DEFAULT_CELL, SIDE_BY_SIDE
from ui import samples

SOURCES = ("echo_trained", "echo_random", "text_en", "text_es", "logbook", "text_random")
SAMPLE_BY_SOURCE = {s.source: s for s in samples.SAMPLES.values()}
EXAMPLES = {"echo": "0110100111010011", **{k: s.example for k, s in SAMPLE_BY_SOURCE.items()}}
MAX_INPUT = 120
BELT_EXAMPLES = {  # longer, with quotes and parentheses for the belt page's property search
    "echo": "0110100111010011101100101110001011010011100101101001110100110110",
    **{k: s.belt_example for k, s in SAMPLE_BY_SOURCE.items()},
}


@st.cache_resource(max_entries=16, show_spinner=False)
def trained_echo(seed: int) -> tuple[Model, float]:
    """The notebook's echo LSTM, trained until 99% (two or three epochs, about a second)."""
    trainer = EchoTrainer(EchoConfig(num_epochs=3, seed=seed))
    trainer.keep_history()  # so the cell and belt pages can go back through its training
    accuracy = trainer.train_until(0.99)
    trainer.model.history = trainer.history
    return trainer.model, accuracy


def sample_model(source: str) -> Model:
    """A shipped model by its id here ("text_en", "echo_gru"): read-only, shared by every session."""
    return samples.model(samples.BY_SOURCE.get(source, source))


def random_model(kind: str, units: int, seed: int) -> Model:
    """A fresh, untrained LSTM: an echo model, or a char model over the English sample's vocabulary."""
    if kind == "echo":
        config = ModelConfig("echo", DEFAULT_CELL, 1, units, 1, 2)
    else:
        vocab = sample_model("text_en").config.vocab
        config = ModelConfig(
            "char-lm", DEFAULT_CELL, len(vocab), units, 1, len(vocab), vocab=vocab, lowercase=True
        )
    return Model.create(config, seed=seed)


def get(source: str, units: int, seed: int) -> Model:
    if source == "echo_trained":
        return trained_echo(seed)[0]
    if source == "echo_random":
        return random_model("echo", units, seed)
    if source == "text_random":
        return random_model("text", units, seed)
    return sample_model(source)


# The belt model's examples (samples/belt.txt's kind of text, in the page's language): a long
# quotation with brackets nested inside it, then a line of narration, so the unit that holds the
# quotation and the one that counts the brackets both show as stripes (tests/test_belt_model.py).
BELT_MODEL_EXAMPLES = {
    "en": 'The cook mended the bell by the sea.\n"Marta carries the lamp, counts the rope '
    "(at six [as always {twice}]) and mends the clock on the stairs. The keeper cleans the bell "
    '[or seven] in the tower," said Tomás.\nThe keeper counted the rope in the tower (twice).\n',
    "es": "La cocinera arregló la campana junto al mar.\n—Marta lleva la lámpara, cuenta la cuerda "
    "(a las seis [como siempre {dos veces}]) y arregla el reloj en la escalera —dijo Tomás—. "
    "El farero limpia la campana [o a las siete] en la torre.\nEl farero contó la cuerda en la "
    "torre (dos veces).\n",
}


def belt_example(model: Model, source: str = "", lang: str = "en") -> str:
    """The source's own example (the belt model's in `lang`), else (an uploaded model) the one
    the model can read best, kept to what it reads."""
    if model.config.kind == "echo":
        return BELT_EXAMPLES["echo"]
    if source in samples.BELT_MODELS:  # the LSTM's and the GRU's of belt.txt
        return BELT_MODEL_EXAMPLES[lang]
    if source in BELT_EXAMPLES:
        return BELT_EXAMPLES[source]
    return readable_example(model, [BELT_EXAMPLES["text_en"], BELT_EXAMPLES["text_es"]])


def example_input(source: str, model: Model | None = None) -> str:
    """The short example of the page "Inside one step": the source's own, else (an uploaded
    model) the one the model can read best, kept to what it reads."""
    if source.startswith("echo") or (model is not None and model.config.kind == "echo"):
        return EXAMPLES["echo"]
    if source in EXAMPLES or model is None:
        return EXAMPLES.get(source, EXAMPLES["text_en"])
    return readable_example(model, [EXAMPLES["text_en"], EXAMPLES["text_es"]])


def readable_example(model: Model, texts: list[str]) -> str:
    """Of `texts`, the one a model reads most of, with only the characters it reads: a page's
    own example never asks for a warning about characters left out (the user's text does). If
    too little is left (a model of a few letters), its letters over and over instead."""
    vocab = set(model.config.vocab)
    if model.config.lowercase or not any(ch.isupper() for ch in vocab):
        texts = [x.lower() for x in texts]
    best = max(texts, key=lambda x: sum(ch in vocab for ch in x) / len(x))
    readable = "".join(ch for ch in best if ch in vocab)
    if len(readable) >= 0.6 * len(best):
        return readable
    letters = "".join(sorted(ch for ch in vocab if ch.isprintable() and not ch.isspace()))
    if not letters:
        return readable
    gap = " " if " " in vocab else ""
    return gap.join([letters] * (len(best) // (len(letters) + len(gap)) + 1))[: len(best)]


class PreparedInput(NamedTuple):
    ids: np.ndarray  # (1, T) what the model reads
    tokens: list[str]  # T strings, for axes and labels
    dropped: list[str]  # characters that were left out (each once)
    lowercased: bool  # whether the text was lowercased for the model
    truncated: bool  # whether it was cut to MAX_INPUT


def prepare_input(model: Model, raw: str, limit: int = MAX_INPUT) -> PreparedInput:
    """Keep what the model can read (bits for an echo model, its vocabulary for a char model)."""
    cfg = model.config
    lowered = cfg.lowercase and raw != raw.lower()
    text = raw.lower() if cfg.lowercase else raw
    allowed = set("01") if cfg.kind == "echo" else set(cfg.vocab)
    kept = [ch for ch in text if ch in allowed]
    dropped = list(dict.fromkeys(ch for ch in text if ch not in allowed))
    truncated = len(kept) > limit
    kept = kept[:limit]
    if cfg.kind == "echo":
        ids = np.array([[int(ch) for ch in kept]], dtype=np.int64)
    else:
        index = {ch: k for k, ch in enumerate(cfg.vocab)}
        ids = np.array([[index[ch] for ch in kept]], dtype=np.int64)
    return PreparedInput(ids.reshape(1, len(kept)), kept, dropped, lowered, truncated)


def output_labels(model: Model) -> tuple[str, ...]:
    return ("0", "1") if model.config.kind == "echo" else model.config.vocab


# ------------------------------------------------------------------ the BPTT page's pair of models
import threading  # noqa: E402  (only the BPTT page's training below needs these)
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

from lstm_core.budget import BPTT_HISTORY  # noqa: E402
from lstm_core.history import WeightHistory, shared_budgets  # noqa: E402

BPTT_STEPS = (0, 100, 300, 1000, 3000)
BPTT_TEXT_CLIP = 5.0


def bptt_train_window(task: str, echo_step: int) -> int:
    """The truncation window every model of the pair trains with (lstm_core.demos.bptt_echo_config for the
    echo; 15 characters for text). The page's own window slider does not change it (it only
    changes how the page computes the gradients)."""
    if task == "echo":
        return demos.bptt_echo_config(DEFAULT_CELL, 1, echo_step, 0).truncated_backprop_length
    return 15


def bptt_score(task: str, model: Model, echo_step: int) -> float:
    """The score the page shows for a model of the pair, as it is (after the page's scale and
    forget shift too): echo accuracy on fresh bits, or bits per character on held-out text."""
    if task == "echo":
        return demos.bptt_echo_score(model, echo_step)
    held_out = logbook_corpus().held_out[:2001]
    ids = lstm_core.Vocabulary(model.config.vocab).encode(held_out, skip_unknown=True)
    probs = model.forward(model.time_major(ids[None, :-1])).probs[:, 0]  # (T, V): no backward
    picked = probs[np.arange(len(ids) - 1), ids[1:]].astype(np.float64)
    return float(-np.mean(np.log(np.maximum(picked, 1e-300))) / np.log(2))  # bits per character


@dataclass(frozen=True)
class TrainedPair:
    """One model of each kind of cell (an RNN, a GRU, an LSTM: lstm_core.cells.SIDE_BY_SIDE)
    after (up to) some number of updates, and how their training went. (A "pair" from the days
    it was an RNN and an LSTM.)"""

    models: dict[str, Model]  # cell name -> model: read-only, shared by every session
    steps: dict[str, int]  # the updates each model actually took
    problems: dict[str, Any]  # why a model stopped early (a LabError), else None
    scores: dict[str, float]  # echo: accuracy on fresh bits; text: held-out bits per character
    chance: float  # the score of a blind guess: 50% of bits, log2(V) bits per character
    window: int  # the truncation window they trained with


@st.cache_resource(show_spinner=False)
def logbook_corpus():
    """The generated logbook, lowercased, as the text page prepares it (read-only, shared)."""
    from ui import corpora

    return corpora.prepare(samples.text("logbook"), True, 2)


class _PairTraining:
    """The trainers (one per kind of cell) of one (task, hidden, echo_step, seed), only ever
    moved forward, and the models as they were at each of BPTT_STEPS reached so far. Shared by every session: the lock lets
    one session train at a time, and what it hands out are copies nobody changes."""

    def __init__(self, task: str, hidden: int, echo_step: int, seed: int) -> None:
        self.task, self.lock, self.echo_step = task, threading.Lock(), echo_step
        self.window = bptt_train_window(task, echo_step)
        self.trainers = {
            cell: self._trainer(cell, hidden, echo_step, seed) for cell in SIDE_BY_SIDE
        }
        budgets = shared_budgets([tr.model for tr in self.trainers.values()], BPTT_HISTORY)
        for trainer, budget in zip(self.trainers.values(), budgets, strict=True):
            trainer.keep_history(budget)  # the same steps for all: one slider shows them all
        self.pairs: dict[int, TrainedPair] = {}

    def _trainer(self, cell: str, hidden: int, echo_step: int, seed: int):
        if self.task == "echo":  # the echo page's "RNN vs LSTM" recipe (lstm_core/demos.py)
            return demos.bptt_echo_trainer(cell, hidden, echo_step, seed)
        corpus = logbook_corpus()
        V = len(corpus.vocab)
        config = ModelConfig(
            "char-lm", cell, V, hidden, 1, V, vocab=corpus.vocab.chars, lowercase=True
        )
        settings = lstm_core.TextSettings(self.window, 16, 5e-3, "adam", 0.0, BPTT_TEXT_CLIP, seed)
        return lstm_core.TextTrainer(Model.create(config, seed=seed), corpus.train_ids, settings)

    def _score(self, cell: str) -> float:
        return bptt_score(self.task, self.trainers[cell].model, self.echo_step)

    def _chance(self) -> float:
        return 0.5 if self.task == "echo" else float(np.log2(len(logbook_corpus().vocab)))

    def advance(self, steps: int, progress=None) -> TrainedPair:
        """The pair after `steps` updates (one of BPTT_STEPS), training on from the last one
        reached. progress(done, total) is called every few updates while it trains."""
        with self.lock:
            todo = [s for s in BPTT_STEPS if s <= steps and s not in self.pairs]
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
        those still kept; copied under the lock (another session may be training)."""
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


@st.cache_resource(max_entries=12, show_spinner=False)
def _pair_training(task: str, hidden: int, echo_step: int, seed: int) -> _PairTraining:
    return _PairTraining(task, hidden, echo_step, seed)


def bptt_pair(
    task: str, hidden: int, steps: int, echo_step: int, seed: int, progress=None
) -> TrainedPair:
    """An RNN, a GRU and an LSTM of the same size, each trained `steps` updates (one of BPTT_STEPS) on
    the task, with truncated BPTT windows of `bptt_train_window`. Cached and shared: moving up
    from 300 to 1000 steps trains only the 700 in between. progress(done, total) while training."""
    if steps not in BPTT_STEPS:
        raise ValueError(f"steps must be one of {BPTT_STEPS}")
    run = _pair_training(task, hidden, echo_step if task == "echo" else 0, seed)
    return run.advance(steps, progress)


def bptt_rewindable(task: str, hidden: int, steps: int, echo_step: int, seed: int):
    """The pair of `bptt_pair` (trained already), each model with its history up to `steps`."""
    run = _pair_training(task, hidden, echo_step if task == "echo" else 0, seed)
    return run.rewindable(steps)


def bptt_sequence(
    task: str, model: Model, T: int, echo_step: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The sequence the page follows the gradient through: (inputs, targets), each (T,)."""
    from lstm_core.bptt import echo_sequence

    if task == "echo":
        return echo_sequence(T, echo_step, seed)
    held_out = logbook_corpus().held_out
    start = int(np.random.default_rng(seed).integers(0, len(held_out) - T - 1))
    ids = lstm_core.Vocabulary(model.config.vocab).encode(
        held_out[start : start + T + 1], skip_unknown=True
    )
    return ids[:-1], ids[1:]
