"""Where pages get their models, and how a typed input becomes the model's input.

Cached models are shared by every session (st.cache_resource): pages only read them. Anything
that trains copies first.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import streamlit as st

import lstm_core
from lstm_core import EchoConfig, EchoTrainer, Model, ModelConfig

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
SAMPLE_CHECKPOINTS = {
    "text_en": "lighthouse_en_h64.npz",
    "text_es": "faro_es_h64.npz",
    "logbook": "logbook_h128.npz",
}
SOURCES = ("echo_trained", "echo_random", "text_en", "text_es", "logbook", "text_random")
EXAMPLES = {
    "echo": "0110100111010011",
    "text_en": "the keeper climbed the steps",
    "text_es": "el farero subía los escalones",
    "logbook": '"where is the oil?" asked marta.',
}
MAX_INPUT = 120
BELT_EXAMPLES = {  # longer, with quotes and parentheses for the belt page's property search
    "echo": "0110100111010011101100101110001011010011100101101001110100110110",
    "text_en": '"why do you count the steps?" asked marta (who had followed him up one windy '
    'afternoon).\n"because the steps do not change," said the keeper, "and the sea does."',
    "text_es": "—¿por qué cuentas los escalones? —preguntó marta (que lo había seguido una tarde "
    "de mucho viento).\n«porque los escalones no cambian», dijo el farero, «y el mar sí».",
    "logbook": "12 march. fog.\noil: 7 barrels left. ships: the ferry.\nsteps climbed: 104 (again, "
    'cold lens (twice, old bell)).\n\n"who lit the lamp?" asked the cook.\n"marta did, at six," '
    'said the keeper, "and the sea knows it."',
}


@st.cache_resource(max_entries=16, show_spinner=False)
def trained_echo(seed: int) -> tuple[Model, float]:
    """The notebook's echo LSTM, trained until 99% (two or three epochs, about a second)."""
    trainer = EchoTrainer(EchoConfig(num_epochs=3, seed=seed))
    accuracy = trainer.train_until(0.99)
    return trainer.model, accuracy


@st.cache_resource(show_spinner=False)
def sample_model(name: str) -> Model:
    return lstm_core.load_checkpoint(SAMPLES / SAMPLE_CHECKPOINTS[name])


def random_model(kind: str, units: int, seed: int) -> Model:
    """A fresh, untrained LSTM: an echo model, or a char model over the English sample's vocabulary."""
    if kind == "echo":
        config = ModelConfig("echo", "lstm", 1, units, 1, 2)
    else:
        vocab = sample_model("text_en").config.vocab
        config = ModelConfig(
            "char-lm", "lstm", len(vocab), units, 1, len(vocab), vocab=vocab, lowercase=True
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


def belt_example(model: Model, source: str = "") -> str:
    """The source's own example, else the one the model can read best (an uploaded model may
    know Spanish, or neither)."""
    if model.config.kind == "echo":
        return BELT_EXAMPLES["echo"]
    if source in BELT_EXAMPLES:
        return BELT_EXAMPLES[source]
    vocab = set(model.config.vocab)
    texts = [BELT_EXAMPLES["text_en"], BELT_EXAMPLES["text_es"]]
    if model.config.lowercase is False and not any(ch.isupper() for ch in vocab):
        texts = [x.lower() for x in texts]
    return max(
        texts,
        key=lambda x: (
            sum(ch in vocab for ch in (x.lower() if model.config.lowercase else x)) / len(x)
        ),
    )


def example_input(source: str) -> str:
    if source.startswith("echo"):
        return EXAMPLES["echo"]
    return EXAMPLES.get(source, EXAMPLES["text_en"])


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
BPTT_STEPS = (0, 100, 300, 1000, 3000)


@st.cache_resource(show_spinner=False)
def logbook_corpus():
    """The generated logbook, lowercased, as the text page prepares it (read-only, shared)."""
    from ui import corpora

    return corpora.prepare(corpora.sample_text("logbook"), True, 2)


@st.cache_resource(max_entries=24, show_spinner=False)
def bptt_pair(
    task: str, hidden: int, window: int, steps: int, echo_step: int, seed: int
) -> dict[str, Model]:
    """An RNN and an LSTM of the same size, each trained `steps` updates on the task with
    truncated BPTT windows of `window` steps (shared by every session: read-only)."""
    pair = {}
    for cell in ("rnn", "lstm"):
        if task == "echo":
            config = EchoConfig(cell=cell, state_size=hidden, echo_step=echo_step, truncated_backprop_length=window,
                                num_epochs=1_000_000, seed=seed)  # fmt: skip
            trainer = EchoTrainer(config)
        else:
            corpus = logbook_corpus()
            V = len(corpus.vocab)
            config = ModelConfig(
                "char-lm", cell, V, hidden, 1, V, vocab=corpus.vocab.chars, lowercase=True
            )
            model = Model.create(config, seed=seed)
            trainer = lstm_core.TextTrainer(
                model, corpus.train_ids, window, 16, "adam", 5e-3, 0.0, seed=seed
            )
        for _ in range(steps):
            if trainer.step().status == "diverged":
                break
        pair[cell] = trainer.model
    return pair


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
