"""Going back in training time on the echo task: a window, and the state's memory, at a kept step.

    view_of(x, y, trace)                what a page draws of a window's trace (the live view's too)
    window_view(model, x, y, state)     the notebook's bars (input, target, prediction) and the
        state over one window, read by `model` from the state carried into the window
    view_at(model, history, index, window)   the same for the model at kept moment `index`
    carry_over_training(model, history, config, max_lag)   the figure only rewinding can draw:
        at each kept step, how well the state holds the bit read d steps ago (echo.memory_curve,
        d = 0..max_lag): the column d = echo_step turns from a coin's 50% to 100% when the model
        learns to carry the bit its answer needs

The window is the one the live view shows (EchoTrainer.last_input: its bits and the state carried
into it), so every kept step reads the same input; at the last kept step the model is the live
model itself (history.py keeps the latest weights), and the view is the live model's.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .echo import EchoConfig, memory_curve
from .history import WeightHistory, model_at
from .model import Model
from .rewind import rows

CARRY_SEED = 777  # the fresh bits of the carry figure (memory_curve's own default)
CARRY_LENGTH = 4000  # fresh bits each readout reads (memory_curve's 8000 halved: 2 x faster)
CARRY_ROWS = 24  # kept steps the carry figure draws, at most


class WindowView(NamedTuple):
    """What a model does with one window: the notebook's bars and its state."""

    x: np.ndarray  # (T, B) int8 input bits
    y: np.ndarray  # (T, B) targets
    prediction: np.ndarray  # (T, B) the model's answer (the likelier bit)
    state: np.ndarray  # (T + 1, B, H) c for an LSTM, h otherwise: carried in, then each step
    which: str  # "c" or "h"


def view_of(x: np.ndarray, y: np.ndarray, trace) -> WindowView:
    """The view of a window's trace: x (T, B) or (T, B, 1) bits, y (T, B) targets."""
    layer = trace.layers[0]
    lstm = layer.c is not None
    bits = x[:, :, 0] if x.ndim == 3 else x
    return WindowView(
        bits.astype(np.int8),
        np.asarray(y),
        trace.probs.argmax(-1),
        np.asarray(layer.c if lstm else layer.h),
        "c" if lstm else "h",
    )


def window_view(model: Model, x: np.ndarray, y: np.ndarray, state) -> WindowView:
    """The window x (T, B, 1) read by `model` from `state` (the one carried into it)."""
    return view_of(x, y, model.forward(np.ascontiguousarray(x, dtype=model.dtype), state))


def view_at(model: Model, history: WeightHistory, index: int, window: tuple) -> WindowView:
    """window_view of the model at kept moment `index` (the live model at the last one)."""
    then = model if index == len(history) - 1 and _is_live(model, history) else None
    return window_view(then or model_at(model, history, index), *window)


def _is_live(model: Model, history: WeightHistory) -> bool:
    return np.array_equal(np.asarray(model.flat, np.float32), history.weights[-1])


def carry_lags(echo_step: int) -> int:
    """The distances the carry figure reads: 0 up to a few past the echo's."""
    return echo_step + max(3, echo_step // 4)


def carry_rows(history: WeightHistory) -> list[int]:
    """The kept moments the carry figure draws: all, or CARRY_ROWS spread evenly over them."""
    return rows(len(history), CARRY_ROWS)


def carry_at(model: Model, config: EchoConfig, max_lag: int) -> np.ndarray:
    """(max_lag + 1,) how well the state holds the bit read d steps ago, on fresh bits."""
    return memory_curve(model, config, max_lag, seed=CARRY_SEED, length=CARRY_LENGTH)


def carry_over_training(
    model: Model, history: WeightHistory, config: EchoConfig, max_lag: int, moments=None
) -> tuple[list[int], np.ndarray]:
    """(the moments drawn (R,), their carry curves (R, max_lag + 1)): those of `carry_rows` (the
    first and the last among them), or `moments`."""
    drawn = carry_rows(history) if moments is None else list(moments)
    grid = np.empty((len(drawn), max_lag + 1), np.float64)
    for row, j in enumerate(drawn):
        grid[row] = carry_at(model_at(model, history, j), config, max_lag)
    return drawn, grid
