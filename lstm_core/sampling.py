"""Writing text with a character model: prime the state, then sample one character at a time.

As in the paper, generation starts from a seed text and feeds every predicted character back in.
Unlike the paper's code, the seed is read once and the state is carried from there: each new
character costs one step of the network, not a re-read of a 60-character window.

Temperature T reshapes the distribution: p_T(c) ∝ p(c)^(1/T) = softmax(logits / T). T < 1 sharpens
it (safer, more repetitive), T > 1 flattens it (more surprising, more typos), T = 0 is greedy
argmax. top-k keeps only the k most likely characters before sampling.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from .model import Model, State, softmax
from .text import TextError, Vocabulary

DEFAULT_TEMPERATURE = 0.7  # the text page's slider and the command line's `generate` start here
OPENING_KEY = "opening"  # meta["training"][OPENING_KEY]: the training text's first characters
OPENING_LENGTH = 40


def default_seed_text(model: Model) -> str:
    """What to read before writing when nobody gave a seed text: the start of the model's training
    text (as train-text records it), else a newline, kept to the characters the model knows."""
    training = model.meta.get("training")
    opening = training.get(OPENING_KEY) if isinstance(training, dict) else None
    text = opening if isinstance(opening, str) and opening else "\n"
    text = text.lower() if model.config.lowercase else text
    known = set(model.config.vocab)
    return "".join(ch for ch in text if ch in known) or model.config.vocab[0]


class SampledChar(NamedTuple):
    """One generated character and what produced it."""

    char: str
    index: int
    probs: np.ndarray  # (V,) the distribution it was drawn from (after temperature and top-k)
    raw_probs: np.ndarray  # (V,) the model's own distribution (temperature 1, no top-k)
    steps: tuple  # per layer, the step record (LSTMStep, GRUStep, ...) that computed `raw_probs`


def reshape_distribution(
    logits: np.ndarray, temperature: float, top_k: int | None = None
) -> np.ndarray:
    """softmax(logits / T), restricted to the top k; T = 0 puts all mass on the argmax."""
    logits = np.asarray(logits, dtype=np.float64)
    if temperature < 0 or not np.isfinite(temperature):
        raise ValueError("temperature must be a number >= 0")
    if top_k is not None and top_k < 1:
        raise ValueError("top_k must be at least 1")
    if temperature == 0:
        p = np.zeros_like(logits)
        p[int(np.argmax(logits))] = 1.0
        return p
    z = logits / temperature
    if top_k is not None and top_k < len(z):
        cutoff = np.partition(z, -top_k)[-top_k]
        z = np.where(z >= cutoff, z, -np.inf)
    return softmax(z)


def retemper(probs: np.ndarray, temperature: float, top_k: int | None = None) -> np.ndarray:
    """A distribution as temperature T and top-k would reshape it: p ∝ p^(1/T) (log p are logits,
    up to a constant the softmax ignores)."""
    return reshape_distribution(
        np.log(np.maximum(np.asarray(probs, np.float64), 1e-30)), temperature, top_k
    )


class _Stepper:
    """Feeds one character at a time through the layers, carrying the state.

    Weights are sliced once: W_h per layer, and for the first layer the table W_x + b whose row v
    is the input half of the pre-activations when the character is v. The step itself is the
    cell's (cells.py).
    """

    def __init__(self, model: Model, state: State) -> None:
        cfg, p = model.config, model.p
        H = cfg.hidden_size
        self.kind = cfg.cell_kind
        self.W_h = [p[f"W{k}"][:H] for k in range(cfg.num_layers)]
        self.W_x = [p[f"W{k}"][H:] for k in range(cfg.num_layers)]
        self.b = [p[f"b{k}"] for k in range(cfg.num_layers)]
        self.bias = [self.kind.input_bias(b) for b in self.b]  # what joins W[·, x_t]
        self.table = self.W_x[0] + self.bias[0]  # (V, G)
        self.Wy, self.by = p["Wy"], p["by"]
        self.state = list(state)
        self.a_in = np.empty((1, self.table.shape[1]), self.table.dtype)
        self.scratch = np.empty_like(self.a_in)

    def __call__(self, index: int) -> tuple[tuple, np.ndarray]:
        """Feed character `index`; return (the step's record per layer, logits (V,))."""
        records = []
        x = np.array([index])
        for k, (h, c) in enumerate(self.state):
            if k == 0:  # the input half W[·, x_t] + b: a row of the table
                np.copyto(self.a_in[0], self.table[index])
            else:
                np.add(np.dot(x, self.W_x[k]), self.bias[k], self.a_in)
            rec = self.kind.step(x, self.a_in, h, c, self.W_h[k], self.b[k], self.scratch)
            self.state[k] = self.kind.state_of(rec)
            records.append(rec)
            x = rec.h
        return tuple(records), np.dot(x[0], self.Wy) + self.by


def prime(model: Model, text: str) -> tuple[State, np.ndarray, tuple]:
    """Read the seed text; return (state, logits for the next character, last step's records)."""
    if model.config.kind != "char-lm":
        raise ValueError("text generation needs a character model")
    vocab = Vocabulary(model.config.vocab)
    if model.config.lowercase:
        text = text.lower()
    if not text:
        raise TextError("the seed text is empty: give at least one character", "prime_empty")
    ids = vocab.encode(text)  # TextError naming the characters outside the vocabulary
    trace = model.forward(ids[:, None])  # the whole seed in one pass: (T, 1)
    last = tuple(layer.steps[-1] for layer in trace.layers)
    return trace.final_state(), trace.logits[-1, 0].copy(), last


def generate(
    model: Model,
    prime_text: str,
    length: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int | None = None,
) -> Iterator[SampledChar]:
    """Yield `length` characters one by one, each with its distributions and step records."""
    if length < 0:
        raise ValueError("length must be >= 0")
    reshape_distribution(np.zeros(2), temperature, top_k)  # validate before the first yield
    rng = np.random.default_rng(seed)
    vocab = model.config.vocab
    state, logits, records = prime(model, prime_text)
    step = _Stepper(model, state)
    plain = temperature == 1 and top_k is None  # sample from the model's own distribution
    for _ in range(length):
        weights = np.exp(logits - logits.max())  # the softmax before its normalisation
        cumulative = np.cumsum(weights)
        raw = weights / cumulative[-1]
        if not plain:
            probs = reshape_distribution(logits, temperature, top_k)
            cumulative = np.cumsum(probs)
        else:
            probs = raw
        index = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
        index = min(index, len(vocab) - 1)  # guards against rounding at the very top
        yield SampledChar(vocab[index], index, probs, raw, records)
        records, logits = step(index)


def generate_text(model: Model, prime_text: str, length: int, **kwargs) -> str:
    """The continuation as one string."""
    return "".join(s.char for s in generate(model, prime_text, length, **kwargs))


def least_confident(probs: np.ndarray) -> int:
    """The row of probs (N, V) whose most likely outcome is the least likely of all rows: where
    the model was least sure of what comes next (the first such row if several tie)."""
    return int(np.argmin(np.asarray(probs).max(axis=-1)))
