"""What a model reads: a typed input kept to the characters (or bits) it knows, as its ids.

The cell and belt pages let a student type anything; a model reads only its vocabulary (an echo
model: the bits 0 and 1). `prepare_input` keeps what it can read and says what it left out, so a
page can warn about it; `readable_example` picks, for a model of unknown origin (an upload), the
example text it reads most of.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .model import Model

MAX_INPUT = 120  # characters (or bits) the cell page follows step by step


class PreparedInput(NamedTuple):
    ids: np.ndarray  # (1, T) what the model reads
    tokens: list[str]  # T strings, for axes and labels
    dropped: list[str]  # characters that were left out (each once)
    lowercased: bool  # whether the text was lowercased for the model
    truncated: bool  # whether it was cut to `limit`


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
    """What each of the model's outputs stands for: a bit, or a character of its vocabulary."""
    return ("0", "1") if model.config.kind == "echo" else model.config.vocab


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
