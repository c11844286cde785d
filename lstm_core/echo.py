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

import numpy as np

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
    cell: str = "lstm"
    seed: int = 0
    forget_bias: float = 1.0  # the notebook's TensorFlow BasicLSTMCell starts its forget gates at 1

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
        if self.num_classes != 2:
            raise ValueError("the echo task has num_classes = 2 (a bit)")
        if self.cell not in ("lstm", "rnn"):
            raise ValueError(f"cell must be 'lstm' or 'rnn', not {self.cell!r}")
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
