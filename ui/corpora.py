"""The text page's corpora: the samples shipped in samples/ (ui/samples.py), or a text the user
brings, prepared once per content (lstm_core.text.training_text) and shared by every session.

A corpus becomes (training ids, held-out tail, vocabulary). The held-out tail is the last tenth
of the text (up to 20,000 characters); bits per character are measured there, on text the
model never trains on.
"""

from __future__ import annotations

import streamlit as st

from lstm_core import Vocabulary
from lstm_core.text import TrainingText, training_text
from ui.samples import SAMPLES

SOURCES = (*SAMPLES, "upload", "paste", "url")


def default_prime(corpus_id: str, text: str, config) -> str:
    """What the model reads before writing when the user gives no prime: the corpus's own opening
    (a sample's chosen words), kept to the characters the model knows."""
    prime = SAMPLES[corpus_id].prime if corpus_id in SAMPLES else text[:12]
    prime = prime.lower() if config.lowercase else prime
    known = set(config.vocab)
    return "".join(ch for ch in prime if ch in known) or config.vocab[0]


def prepare(
    text: str, lowercase: bool, seq_length: int, vocab: Vocabulary | None = None
) -> TrainingText:
    """lstm_core.text.training_text, prepared once per content and shared by every session
    (read-only): a 19 MB novel is about 150 MB of ids, and re-encoding it on every rerun held the
    server for seconds. Entries leave the cache after a quarter of an hour unused.
    """
    return _prepare(text, lowercase, seq_length, vocab.chars if vocab is not None else None)


@st.cache_resource(show_spinner=False, max_entries=6, ttl=15 * 60)
def _prepare(text: str, lowercase: bool, seq_length: int, chars: tuple | None) -> TrainingText:
    vocab = Vocabulary(chars) if chars is not None else None
    corpus = training_text(text, lowercase, seq_length, vocab)
    corpus.train_ids.flags.writeable = False  # shared by every session that prepares this text
    return corpus
