"""The echo task of the notebook: repeat a random bit `echo_step` steps later.

    x = random bits, p(1) = 0.5, length total_series_length
    y = x rolled right by echo_step, its first echo_step values set to 0
    both reshaped to batch_size rows (each row a contiguous stretch of the series),
    then cut into windows of truncated_backprop_length columns.

The network reads one window at a time, the state carried from window to window (reset at each
epoch, when new data is drawn) and the gradient stopped at the window edge: truncated BPTT.
To answer at step t it must hold x_{t - echo_step} in its state; if echo_step is longer than the
window, the gradient never links the answer to the bit it needs, which is the failure the
notebook warns about.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np

from .cells import DEFAULT_CELL, NAMES
from .errors import LabError
from .model import Model, ModelConfig


@dataclass(frozen=True)
class EchoConfig:
    """The notebook's hyperparameters (its names, its defaults)."""

    total_series_length: int = 50000
    truncated_backprop_length: int = 15
    state_size: int = 4
    num_classes: int = 2
    echo_step: int = 3
    batch_size: int = 5
    num_epochs: int = 100
    optimizer: str = "adagrad"
    learning_rate: float = 0.3
    cell: str = DEFAULT_CELL
    seed: int = 0
    forget_bias: float = 1.0  # the notebook's TensorFlow BasicLSTMCell starts its forget gates at 1
    lr_decay: float = (
        1.0  # each epoch multiplies the learning rate by this (1: constant, the notebook)
    )

    def __post_init__(self) -> None:
        checks = [
            ("total_series_length", 2, 10_000_000),
            ("truncated_backprop_length", 1, 10_000),
            ("state_size", 1, 1024),
            ("echo_step", 0, 10_000),
            ("batch_size", 1, 10_000),
            ("num_epochs", 1, 1_000_000),
            ("seed", 0, 2**63 - 1),
        ]
        for name, lo, hi in checks:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
                raise LabError(
                    f"{name} must be an integer from {lo} to {hi}, not {v!r}",
                    "echo_range",
                    name=name,
                    low=lo,
                    high=hi,
                )
        if not (isinstance(self.lr_decay, (int, float)) and 0.0 < self.lr_decay <= 1.0):
            raise LabError(
                f"lr_decay must be a number above 0 and at most 1, not {self.lr_decay!r}",
                "echo_decay",
            )
        if self.num_classes != 2:
            raise ValueError("the echo task has num_classes = 2 (a bit)")
        if self.cell not in NAMES:
            raise ValueError(f"cell must be one of {', '.join(NAMES)}, not {self.cell!r}")
        if self.windows_per_epoch < 1:
            raise LabError(
                "total_series_length must hold at least batch_size × truncated_backprop_length bits",
                "echo_too_short",
                need=self.batch_size * self.truncated_backprop_length,
            )

    @property
    def columns(self) -> int:
        """Bits per row: total_series_length // batch_size."""
        return self.total_series_length // self.batch_size

    @property
    def windows_per_epoch(self) -> int:
        return self.columns // self.truncated_backprop_length

    def learning_rate_at(self, epoch: int) -> float:
        """The learning rate of an epoch (0-based): learning_rate × lr_decay^epoch."""
        return self.learning_rate * self.lr_decay**epoch

    def model_config(self) -> ModelConfig:
        return ModelConfig("echo", self.cell, 1, self.state_size, 1, self.num_classes)

    def as_dict(self) -> dict:
        return asdict(self)


def echo_data(config: EchoConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One epoch of data as the notebook makes it: x, y of shape (batch_size, columns), int8."""
    n = config.columns * config.batch_size  # the notebook's length, trimmed to fill the rows
    x = (rng.random(n) < 0.5).astype(np.int8)
    y = np.roll(x, config.echo_step)
    y[: config.echo_step] = 0
    return x.reshape(config.batch_size, -1), y.reshape(config.batch_size, -1)


def echo_accuracy(
    model: Model, config: EchoConfig, seed: int = 12345, length: int = 10_000
) -> float:
    """Accuracy on fresh data, the state carried over the whole series, ignoring the first
    echo_step positions of each row (their answer lies before the row starts)."""
    # at least one window per row, whatever the batch and window sizes (the check needs none)
    least = config.batch_size * max(config.truncated_backprop_length, config.echo_step + 2)
    cfg = EchoConfig(**{**config.as_dict(), "total_series_length": max(length, least)})
    x, y = echo_data(cfg, np.random.default_rng(seed))
    trace = model.forward(np.ascontiguousarray(x.T[:, :, None], dtype=model.dtype))
    pred = np.argmax(trace.logits, axis=-1).T  # (B, columns)
    e = config.echo_step
    return float(np.mean(pred[:, e:] == y[:, e:])) if x.shape[1] > e else float("nan")


def new_echo_model(config: EchoConfig) -> Model:
    model = Model.create(
        config.model_config(), np.random.default_rng(config.seed), forget_bias=config.forget_bias
    )
    model.meta["echo"] = config.as_dict()
    return model


def memory_curve(
    model: Model, config: EchoConfig, max_lag: int, seed: int = 777, length: int = 8000
) -> np.ndarray:
    """How much of each earlier bit the state still holds: for d = 0..max_lag, the accuracy of
    the best straight-line readout of x_{t-d} from the state at step t (h, and c for an LSTM),
    on fresh data. (max_lag + 1,) accuracies.

    The readout is least squares on half of the series' rows and is scored on the other half, so
    a readout that only memorised its half scores no better than a coin (50%): near 100% at d
    means the state carries the bit read d steps ago. The echo needs it at d = echo_step.
    """
    rows = max(2, config.batch_size + config.batch_size % 2)  # in pairs: one for each half
    least = rows * 8 * (max_lag + 1)
    cfg = EchoConfig(
        **{**config.as_dict(), "batch_size": rows, "total_series_length": max(length, least)}
    )
    x, _ = echo_data(cfg, np.random.default_rng(seed))  # (rows, columns)
    layer = model.forward(np.ascontiguousarray(x.T[:, :, None], dtype=model.dtype)).layers[0]
    parts = [layer.h[1:]] + ([layer.c[1:]] if layer.c is not None else [])
    t = np.arange(max_lag, x.shape[1])  # steps whose every lag lies inside the row
    lags = np.arange(max_lag + 1)
    state = np.concatenate([np.asarray(p, np.float64)[t] for p in parts], axis=-1)  # (steps, B, S)
    features = np.concatenate([state, np.ones((*state.shape[:2], 1))], axis=-1).transpose(1, 0, 2)
    targets = x[:, t[:, None] - lags].astype(np.float64)  # (B, steps, lags): x_{t-d}
    fit = features[0::2].reshape(-1, features.shape[-1])
    ridge = 1e-3 * np.eye(fit.shape[1])  # keeps the solve well posed when units are idle
    w = np.linalg.solve(fit.T @ fit + ridge, fit.T @ targets[0::2].reshape(-1, len(lags)))
    read = (features[1::2] @ w) > 0.5  # (B/2, steps, lags)
    return np.mean(read == (targets[1::2] > 0.5), axis=(0, 1))


def bits_held(curve: np.ndarray, threshold: float = 0.9) -> int:
    """How many of the latest bits (d = 0, 1, ...) the state holds: lags read back at
    `threshold` or better, counted from d = 0 up to the first that is not."""
    below = np.flatnonzero(np.asarray(curve) < threshold)
    return int(below[0]) if len(below) else len(curve)


class BitTrace(NamedTuple):
    """What one input bit does as it travels: the same bits twice, one of them flipped."""

    bits: np.ndarray  # (T,) the input bits, unflipped
    flipped: int  # the step whose bit is flipped
    state: np.ndarray  # (T, H) the state after each step (c for an LSTM, h for an RNN), unflipped
    change: np.ndarray  # (T, H) how that state changes when the bit is flipped
    p_one: np.ndarray  # (T,) the model's p(answer = 1) at each step, unflipped
    answer_change: np.ndarray  # (T,) how p(answer = 1) changes when the bit is flipped
    which: str  # "c" or "h"


def bit_trace(
    model: Model, echo_step: int, seed: int = 0, before: int | None = None, after: int = 12
) -> BitTrace:
    """Flip one input bit and follow the difference it makes, step by step.

    Random bits are read from a zero state for `before` steps (default: max(20, echo_step), so
    the state is what it is in the middle of a series), then one bit, then echo_step + `after`
    more. Both versions run side by side as a batch of two. Before the flipped step nothing
    differs; after it, the difference is that bit, carried in the state, until the model
    answers with it at flipped + echo_step (its p(1) moves there) and lets it go.
    """
    before = max(20, echo_step) if before is None else before
    T = before + 1 + echo_step + after
    bits = (np.random.default_rng(seed).random(T) < 0.5).astype(np.int8)
    pair = np.stack([bits, bits])
    pair[1, before] ^= 1  # row 1: the same bits, one flipped
    trace = model.forward(np.ascontiguousarray(pair.T[:, :, None], dtype=model.dtype))
    layer = trace.layers[0]
    lstm = layer.c is not None
    state = np.asarray((layer.c if lstm else layer.h)[1:], np.float32)  # (T, 2, H)
    p_one = np.asarray(trace.probs[:, :, 1], np.float32)  # (T, 2)
    return BitTrace(
        bits,
        before,
        state[:, 0],
        state[:, 1] - state[:, 0],
        p_one[:, 0],
        p_one[:, 1] - p_one[:, 0],
        "c" if lstm else "h",
    )
