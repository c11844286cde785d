"""Going back in training time with a character model that kept its history (history.py).

    written_at(model, history, j, seed_text, ...)   what the model wrote at kept moment j, from
        the seed text and random seed the live view uses, with its own odds before each
        character, and its held-out bits per character then
    unit_over_time(model, history, ids, unit)       one unit's h over a fixed sentence at the kept
        moments (at most MAX_ROWS of them, spread evenly over the kept ones)

At the last kept moment these are the live model's own numbers: the same generator, the same seed,
the same held-out slice (worker.HELD_OUT_SCORED characters) as the text page's live view, so the
slider's end is the present. What is written at each moment is at most LENGTH characters: a
prefix of what the live view writes with the same seed (sampling draws one number a character),
and short enough for a move of the slider to answer at once.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .history import WeightHistory, model_at, unit_over_training
from .model import Model
from .sampling import generate
from .text import bits_per_character
from .worker import HELD_OUT_SCORED

LENGTH = 300  # characters written at each moment, at most
MAX_ROWS = 64  # moments drawn in the unit-over-training figure, at most


class Written(NamedTuple):
    """What a model wrote from a seed text, and its odds before each character."""

    text: str  # what it wrote (the seed text left out)
    raw: np.ndarray  # (n, V) float32: the model's own distribution before each written character


def write(model: Model, seed_text: str, length: int, temperature: float, top_k, seed: int):
    """`length` characters from `seed_text`, as ui/generation.Generation writes them."""
    raw = np.empty((length, model.config.output_size), np.float32)
    chars = []
    for k, s in enumerate(generate(model, seed_text, length, temperature, top_k, seed)):
        chars.append(s.char)
        raw[k] = s.raw_probs
    return Written("".join(chars), raw)


def held_out_bits(model: Model, held_out: str) -> float:
    """Bits per character on the held-out text, as the worker scores it."""
    return bits_per_character(model, held_out[:HELD_OUT_SCORED])[0]


class Moment(NamedTuple):
    """The model at one kept moment, seen through the text page's eyes."""

    step: int
    written: Written
    bits: float  # held-out bits per character (nan without a held-out text)


def written_at(
    model: Model,
    history: WeightHistory,
    index: int,
    seed_text: str,
    length: int,
    temperature: float,
    top_k: int | None,
    seed: int,
    held_out: str,
) -> Moment:
    """Moment `index` of the history: what it writes (at most LENGTH characters) and scores."""
    then = model_at(model, history, index)
    words = write(then, seed_text, min(length, LENGTH), temperature, top_k, seed)
    bits = held_out_bits(then, held_out) if held_out else float("nan")
    return Moment(history.steps[index], words, bits)


def rows(count: int, most: int = MAX_ROWS) -> list[int]:
    """Which of `count` kept moments a figure draws: all of them, or `most` spread evenly over
    them (the kept moments are themselves spread evenly in log(step)), the first and the last
    always among them."""
    if count <= most:
        return list(range(count))
    return sorted({round(x) for x in np.linspace(0, count - 1, most)})


def unit_over_time(
    model: Model, history: WeightHistory, ids: np.ndarray, unit: int, layer: int = 0
) -> tuple[list[int], np.ndarray]:
    """(the moments drawn, their steps' h of `unit` over `ids` (T,)): (R,) and (R, T)."""
    drawn = rows(len(history))
    return drawn, unit_over_training(model, history, ids, layer, unit, "h", drawn)


def liveliest_unit(model: Model, ids: np.ndarray, layer: int = 0) -> int:
    """The unit whose h varies most over `ids`: a good first unit to watch take shape."""
    h = model.run(np.asarray(ids)[None, :]).layers[layer].h[1:, 0]  # (T, H)
    return int(np.argmax(h.std(axis=0)))
