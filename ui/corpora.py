"""The text page's corpora: the samples shipped in samples/ (ui/samples.py), or a text the user
brings.

A corpus becomes (training ids, held-out tail, vocabulary). The held-out tail is the last tenth
of the text (up to 20,000 characters); bits per character are measured there, on text the
model never trains on.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import streamlit as st

from lstm_core import TextError, Vocabulary
from lstm_core.text import prepare_corpus, split_held_out
from ui.samples import SAMPLES

SOURCES = (*SAMPLES, "upload", "paste", "url")


def default_prime(corpus_id: str, text: str, config) -> str:
    """What the model reads before writing when the user gives no prime: the corpus's own opening
    (a sample's chosen words), kept to the characters the model knows."""
    prime = SAMPLES[corpus_id].prime if corpus_id in SAMPLES else text[:12]
    prime = prime.lower() if config.lowercase else prime
    known = set(config.vocab)
    return "".join(ch for ch in prime if ch in known) or config.vocab[0]


class Corpus(NamedTuple):
    text: str  # after lowercasing, if asked
    train_ids: np.ndarray  # the text minus its held-out tail, as the model's ids
    held_out: str  # the tail (not trained on)
    vocab: Vocabulary  # of the whole text
    skipped: list[str]  # characters of the text outside the model's vocabulary (if any)


def prepare(text: str, lowercase: bool, seq_length: int, vocab: Vocabulary | None = None) -> Corpus:
    """Split and encode a corpus; TextError with one line if it cannot train a model.

    vocab: a model's vocabulary to encode with (characters outside it are skipped and listed);
    None: the corpus's own. Prepared once per content and shared by every session (read-only):
    a 19 MB novel is about 150 MB of ids, and re-encoding it on every rerun held the server
    for seconds. Entries leave the cache after a quarter of an hour unused.
    """
    return _prepare(text, lowercase, seq_length, vocab.chars if vocab is not None else None)


@st.cache_resource(show_spinner=False, max_entries=6, ttl=15 * 60)
def _prepare(text: str, lowercase: bool, seq_length: int, chars: tuple | None) -> Corpus:
    vocab = Vocabulary(chars) if chars is not None else None
    text, own = prepare_corpus(text, lowercase, min_length=1)  # normalised, vocabulary limits
    body, held_out = split_held_out(text)
    if len(body) < seq_length + 1:
        raise TextError(
            f"the text has {len(body)} characters to train on; a window of {seq_length} needs "
            f"{seq_length + 1}",
            "text_short_window",
            n=len(body),
            seq=seq_length,
            need=seq_length + 1,
        )
    use = vocab or own
    skipped = use.unknown(body)
    ids = use.encode(body, skip_unknown=True)
    if len(ids) < seq_length + 1:
        raise TextError("almost none of the text is in the model's vocabulary", "vocab_none")
    ids = ids.astype(np.intp)
    ids.flags.writeable = False  # shared by every session that prepares this text
    return Corpus(text, ids, held_out, own, skipped)
