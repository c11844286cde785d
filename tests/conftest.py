"""Shared fixtures: small models of every kind the engine builds."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lstm_core import Model, ModelConfig  # noqa: E402

VOCAB = tuple("abcde")


def small_config(
    kind: str = "char-lm", cell: str = "lstm", layers: int = 1, hidden: int = 4
) -> ModelConfig:
    if kind == "char-lm":
        return ModelConfig("char-lm", cell, len(VOCAB), hidden, layers, len(VOCAB), vocab=VOCAB)
    return ModelConfig("echo", cell, 1, hidden, layers, 2)


def small_model(kind="char-lm", cell="lstm", layers=1, hidden=4, seed=0, dtype=np.float64) -> Model:
    return Model.create(small_config(kind, cell, layers, hidden), seed=seed, dtype=dtype)


def random_batch(
    model: Model, B: int = 3, T: int = 6, seed: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """(B, T) int inputs and targets valid for the model."""
    rng = np.random.default_rng(seed)
    V = model.config.output_size
    return rng.integers(0, V, (B, T)), rng.integers(0, V, (B, T))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def wait_for(predicate, timeout: float = 60.0, every: float = 0.05) -> bool:
    """Poll `predicate` until it holds (True) or `timeout` seconds pass (False)."""
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(every)
    return bool(predicate())
