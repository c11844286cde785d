"""Text in: reading files safely, the character vocabulary, training windows, bits per character,
and the sign of a model memorising its text (`overfitting`, read from the training curves).

The paper's case study reads a novel, lowercases it, and turns every character into a one-hot
vector over the sorted set of characters in the text; the network reads windows of 60 characters.
Here a window predicts the next character at every position (60 targets per window, not only
the last), which gives the same model sixty times the training signal per window.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .budget import MAX_VOCAB
from .errors import LabError
from .files import read_file

MAX_TEXT_BYTES = 64 * 2**20  # refuse to load more than this


class TextError(LabError):
    """A text that cannot be used; str(error) is one line for the user."""


@dataclass(frozen=True)
class LoadedText:
    text: str
    encoding: str  # "utf-8", "utf-8-sig", "utf-16", "windows-1252"
    notice: str = ""  # a one-line remark for the user (e.g. the Windows-1252 fallback)
    notice_code: str = ""  # the same, for a translation: "utf16" or "cp1252"


def _looks_binary(data: bytes) -> bool:
    """NUL bytes, or many control characters, in the first 8 KB: an image, a zip, a program."""
    head = data[:8192]
    if b"\x00" in head:
        return True
    controls = sum(b < 32 and b not in (9, 10, 12, 13, 27) for b in head)
    return controls > len(head) * 0.05


def decode_text(data: bytes) -> LoadedText:
    """Bytes -> text: UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252.

    Line endings become LF (CRLF and lone CR alike).
    """
    if len(data) > MAX_TEXT_BYTES:
        mb, limit = round(len(data) / 2**20, 1), MAX_TEXT_BYTES // 2**20
        raise TextError(
            f"the text is {mb} MB; the limit is {limit} MB", "text_too_big", mb=mb, limit=limit
        )
    notice = code = ""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text, encoding = data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise TextError(
                "the file starts like UTF-16 text but is not valid UTF-16", "bad_utf16"
            ) from None
        notice, code = "read as UTF-16", "utf16"
    elif _looks_binary(data):
        raise TextError(
            "this looks like a binary file (an image, an archive...), not plain text", "binary"
        )
    elif data.startswith(codecs.BOM_UTF8):
        text, encoding = data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    else:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = data.decode("cp1252", errors="replace"), "windows-1252"
            notice, code = "not valid UTF-8: read as Windows-1252", "cp1252"
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return LoadedText(text, encoding, notice, code)


def read_text(path) -> LoadedText:
    """Read a text file (see `decode_text`); TextError with one line if it cannot be used."""
    return decode_text(read_file(path, TextError, "text file", MAX_TEXT_BYTES))


class Vocabulary:
    """The sorted set of characters of a text; index <-> character."""

    def __init__(self, chars) -> None:
        self.chars = tuple(chars)
        self.index = {ch: k for k, ch in enumerate(self.chars)}
        if len(self.index) != len(self.chars):
            raise ValueError("vocabulary characters must be distinct")

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        return cls(sorted(set(text)))

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, ch: str) -> bool:
        return ch in self.index

    def unknown(self, text: str) -> list[str]:
        """Characters of `text` outside the vocabulary, each once, in order of appearance."""
        return list(dict.fromkeys(ch for ch in text if ch not in self.index))

    def encode(self, text: str, skip_unknown: bool = False) -> np.ndarray:
        """Text -> int32 ids. Unknown characters raise TextError, or are dropped if asked."""
        if skip_unknown:
            text = "".join(ch for ch in text if ch in self.index)
        else:
            missing = self.unknown(text)
            if missing:
                shown = " ".join(repr(ch) for ch in missing[:10])
                more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
                raise TextError(
                    f"characters not in the model's vocabulary: {shown}{more}",
                    "unknown_chars",
                    chars=" ".join(repr(ch) for ch in missing[:10]),
                    count=len(missing),
                )
        lut = self.index
        return np.fromiter((lut[ch] for ch in text), dtype=np.int32, count=len(text))

    def decode(self, ids) -> str:
        return "".join(self.chars[int(k)] for k in ids)


def prepare_corpus(
    text: str, lowercase: bool = False, min_length: int = 2
) -> tuple[str, Vocabulary]:
    """Normalise a training text and build its vocabulary; TextError if it cannot train a model."""
    if lowercase:
        text = text.lower()
    if not text.strip():
        raise TextError("the text is empty", "text_empty")
    if len(text) < min_length:
        raise TextError(
            f"the text has {len(text)} characters; training needs at least {min_length}",
            "text_short",
            n=len(text),
            need=min_length,
        )
    distinct = len(set(text))
    if distinct > MAX_VOCAB:
        raise TextError(
            f"the text uses {distinct} different characters; a model here reads at most "
            f"{MAX_VOCAB} (a text in one alphabet uses a few hundred)",
            "vocab_large",
            n=distinct,
            limit=MAX_VOCAB,
        )
    vocab = Vocabulary.from_text(text)
    if len(vocab) < 2:
        raise TextError("the text uses a single character: there is nothing to predict", "one_char")
    return text, vocab


HELD_OUT_PART = 10  # the held-out tail: the last tenth of a text ...
HELD_OUT_CAP = 20_000  # ... up to this many characters ...
HELD_OUT_MIN = 200  # ... and none if that would be shorter than this (too few to score)


def split_held_out(text: str) -> tuple[str, str]:
    """(what to train on, the held-out tail): the last tenth of the text, up to 20,000 characters,
    kept out of training so that bits per character can be measured on text never trained on.

    The app's text page and `train-text --hold-out` split the same way, so a sample checkpoint
    scored on the page is scored on text it never saw. A text too short for a useful tail keeps
    everything for training and returns an empty tail.
    """
    tail = min(HELD_OUT_CAP, len(text) // HELD_OUT_PART)
    return (text[:-tail], text[-tail:]) if tail >= HELD_OUT_MIN else (text, "")


class TrainingText(NamedTuple):
    """A text made ready to train a character model on, as the text page trains."""

    text: str  # after lowercasing, if asked
    train_ids: np.ndarray  # the text minus its held-out tail, as the model's ids
    held_out: str  # the tail (not trained on)
    vocab: Vocabulary  # of the whole text
    skipped: list[str]  # characters of the text outside the model's vocabulary (if any)


def training_text(
    text: str, lowercase: bool, seq_length: int, vocab: Vocabulary | None = None
) -> TrainingText:
    """Normalise a text (prepare_corpus), hold out its tail (split_held_out) and encode the rest;
    TextError with one line if it cannot train a model with windows of `seq_length`.

    vocab: a model's vocabulary to encode with (characters outside it are skipped and listed);
    None: the text's own, built from the whole text (the tail included).
    """
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
    return TrainingText(text, ids.astype(np.intp), held_out, own, skipped)


def sample_windows(
    ids: np.ndarray, seq_length: int, batch_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Random training windows, time-major: x (T, B) and y (T, B), y the next character of x."""
    starts = rng.integers(0, len(ids) - seq_length, size=batch_size)
    idx = starts[None, :] + np.arange(seq_length)[:, None]  # (T, B)
    return ids[idx], ids[idx + 1]


def bits_per_character(
    model, text: str, chunk: int = 256, batch_rows: int = 16
) -> tuple[float, int, int]:
    """Mean -log2 p(next character) over `text`, the state carried from start to end.

    Characters outside the vocabulary are skipped (and counted). The text is cut into
    `batch_rows` contiguous rows run side by side (each row starts from a zero state), then each
    row is fed in chunks with its state carried. Returns (bits per character, scored, skipped).
    """
    vocab = Vocabulary(model.config.vocab)
    if model.config.lowercase:
        text = text.lower()
    kept = [ch for ch in text if ch in vocab]
    skipped = len(text) - len(kept)
    ids = vocab.encode("".join(kept))
    if len(ids) < 2:
        return float("nan"), 0, skipped
    rows = max(1, min(batch_rows, (len(ids) - 1) // 32 or 1))
    per_row = (len(ids) - 1) // rows
    x = ids[: rows * per_row].reshape(rows, per_row).T  # (T, B), time-major
    y = ids[1 : rows * per_row + 1].reshape(rows, per_row).T
    state, total = None, 0.0
    for t0 in range(0, per_row, chunk):
        trace = model.forward(np.ascontiguousarray(x[t0 : t0 + chunk]), state)
        p = trace.probs[np.arange(trace.T)[:, None], np.arange(rows)[None, :], y[t0 : t0 + chunk]]
        total += float(-np.log2(np.maximum(p, 1e-30)).sum())
        state = trace.final_state()
    scored = rows * per_row
    return total / scored, scored, skipped


BITS_PER_NAT = 1.0 / np.log(2.0)  # a loss in nats (natural log) times this is in bits


class Overfitting(NamedTuple):
    """Held-out bits per character rising from their lowest point while training goes on falling."""

    best_step: int  # where the held-out curve was lowest
    best_bpc: float
    last_step: int  # its latest point
    last_bpc: float
    train_then: float  # training loss around best_step, bits per character
    train_now: float  # and around last_step


def overfitting(
    held_steps: np.ndarray,
    held_bpc: np.ndarray,
    train_steps: np.ndarray,
    train_loss: np.ndarray,
    margin: float = 0.15,
) -> Overfitting | None:
    """Whether the curves show a model memorising its training text, and by how much.

    held_steps, held_bpc: the held-out curve (bits per character, scored every few steps);
    train_steps, train_loss: the training batches' loss (nats, as the trainer reports it).
    Overfitting here means all of: the held-out curve's last two points lie above its lowest
    point (by `margin` bits for the last, half of it for the one before, so one unlucky score is
    not enough), and the training loss just before the latest point (its mean over the last
    quarter of a scoring interval) is lower, by twice the margin, than just before the lowest
    point. None otherwise.
    """
    hx, hy = np.asarray(held_steps, float), np.asarray(held_bpc, float)
    tx, ty = np.asarray(train_steps, float), np.asarray(train_loss, float) * BITS_PER_NAT
    if len(hy) < 3 or len(ty) == 0:
        return None
    k = int(np.argmin(hy))
    best = float(hy[k])
    if k >= len(hy) - 2 or hy[-1] < best + margin or hy[-2] < best + margin / 2:
        return None
    span = float(np.median(np.diff(hx))) / 4  # a quarter of the scoring interval, in steps

    def before(step: float) -> float:
        near = ty[(tx > step - span) & (tx <= step)]
        return float(near.mean()) if len(near) else float("nan")

    then, now = before(hx[k]), before(hx[-1])
    if not now <= then - 2 * margin:  # also False when either is unknown (nan)
        return None
    return Overfitting(int(hx[k]), best, int(hx[-1]), float(hy[-1]), then, now)
