"""Text being written, kept compactly: each character with the two distributions behind it and
the step's gates and states (float16), so any position can be inspected afterwards.

At 1,000 characters from a 128-unit model this is about 2 MB per session, however the page is
used; nothing here holds a figure or a whole trace.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from lstm_core import Model, SampledChar, generate
from lstm_core.cells import cell_kind
from lstm_core.sampling import least_confident


class Generation:
    """One run of generation: the stream it draws from and everything written so far."""

    def __init__(
        self,
        model: Model,
        seed_text: str,
        length: int,
        temperature: float,
        top_k: int | None,
        seed: int,
    ) -> None:
        cfg = model.config
        self.vocab = cfg.vocab
        self.seed_text, self.length = (
            seed_text,
            length,
        )  # what the model reads first, and then writes
        self.temperature, self.top_k = temperature, top_k
        self.stream: Iterator[SampledChar] = generate(
            model, seed_text, length, temperature, top_k, seed
        )
        L, H, V = cfg.num_layers, cfg.hidden_size, len(cfg.vocab)
        kind = cell_kind(cfg.cell)
        self.gate_names, self.vectors = kind.gates, kind.vectors  # () for a cell without gates
        self.squash = kind.squash  # gate -> "sigmoid" or "tanh", for the bars' ranges
        self.probs = np.empty((length, V), np.float32)
        self.raw = np.empty((length, V), np.float32)
        self.gates = np.empty((length, L, len(kind.gates) * H), np.float16)
        self.c = np.empty((length, L, H), np.float16) if "c" in kind.state else None  # a belt
        self.h = np.empty((length, L, H), np.float16)
        self.chars: list[str] = []
        self.running = True

    @property
    def n(self) -> int:
        return len(self.chars)

    @property
    def text(self) -> str:
        return "".join(self.chars)

    @property
    def done(self) -> bool:
        return self.n >= self.length

    def advance(self, count: int) -> None:
        """Write up to `count` more characters."""
        for _ in range(count):
            if self.done:
                break
            s = next(self.stream)
            k = self.n
            self.probs[k], self.raw[k] = s.probs, s.raw_probs
            for layer, rec in enumerate(s.steps):
                if self.gate_names:
                    self.gates[k, layer] = rec.gates.all[0]
                if self.c is not None:
                    self.c[k, layer] = rec.c[0]
                self.h[k, layer] = rec.h[0]
            self.chars.append(s.char)
        if self.done:
            self.running = False

    def most_uncertain(self) -> int:
        """The written position where the model was least sure of its top choice (its own
        distribution, at temperature 1): where temperature changes the most."""
        return least_confident(self.raw[: self.n]) if self.n else 0

    def step_values(self, k: int, layer: int = 0) -> dict[str, np.ndarray]:
        """The vectors (each (H,)) of the step that produced character k, in the order the cell
        names them: f, i, c~, o, c, h for an LSTM; r, z, n, h for a GRU; h for an RNN."""
        g = self.gates[k, layer].astype(np.float32)
        H = self.h.shape[-1]
        out = {name: g[j * H : (j + 1) * H] for j, name in enumerate(self.gate_names)}
        out["h"] = self.h[k, layer].astype(np.float32)
        if self.c is not None:
            out["c"] = self.c[k, layer].astype(np.float32)
        return {name: out[name] for name in self.vectors if name in out}

    def unit_series(self, unit: int, which: str = "h", layer: int = 0) -> np.ndarray:
        return (self.h if which == "h" else self.c)[: self.n, layer, unit].astype(np.float32)
