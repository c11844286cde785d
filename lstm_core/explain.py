"""Numbers for explaining a step: where each gate's value comes from, and what an intervention changes.

A gate's pre-activation is a sum of parts, and the page "Inside one step" shows them apart:
    a_f = W_f[h_{t-1}, ·] + W_f[·, x_t] + b_f   (what memory says, what the input says, the bias)
A gate whose recurrent part another gate scales (the GRU's candidate, scaled by its reset gate)
keeps that part's own bias beside it:
    a_n = W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn)
What a cell has to explain (its gates, how each squashes, which scales which, its equations) is
data of its own module (cell.py, gru.py, rnn.py); nothing here asks which cell it is.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .cell import Clamp, UnitStep  # noqa: F401  (UnitStep: the LSTM's unit record, for figures)
from .cells import cell_kind
from .model import Model, Trace


class GateParts(NamedTuple):
    """One gate of one unit at one step: a = input + bias + scale · (recurrent + recurrent_bias),
    value = σ(a) or tanh(a)."""

    recurrent: float  # W[h_{t-1}, ·] for this unit's column
    input: float  # W[·, x_t]
    bias: float  # b: all of it, but a recurrent bias kept apart (below)
    pre: float  # their sum, the pre-activation a
    value: float  # the gate's activation (the held value, if a clamp holds the gate)
    free: float  # σ(a) or tanh(a): the activation the gate would have without a clamp
    scale: float = 1.0  # the gate that scales the recurrent part (the GRU's r for n), else 1
    recurrent_bias: float = 0.0  # the bias scaled with it (the GRU's b_hn), else 0


def gate_parts(model: Model, layer: int, step, row: int, unit: int) -> dict[str, GateParts]:
    """The pieces of every gate's pre-activation for one unit (row: which sequence of the batch);
    {} for a cell without gates."""
    kind = cell_kind(model.config.cell)
    H = model.config.hidden_size
    W, b = model.p[f"W{layer}"], model.p[f"b{layer}"]
    G, input_bias = kind.width * H, kind.input_bias(b)
    out = {}
    for k, name in enumerate(kind.gates):
        col = k * H + unit
        recurrent = float(step.h_prev[row] @ W[:H, col])
        if step.x.ndim == 1:  # one-hot input: the row of W for this character
            inp = float(W[H + int(step.x[row]), col])
        else:
            inp = float(step.x[row] @ W[H:, col])
        scale, recurrent_bias = 1.0, 0.0
        if name in kind.scaled_by:  # its recurrent part, with its own bias b_hh, is scaled
            scale = float(step.gates.all[row, kind.gates.index(kind.scaled_by[name]) * H + unit])
            recurrent_bias = float(b[G + col])
        pre = float(step.pre.all[row, col])
        value = float(step.gates.all[row, col])
        free = float(squash(kind.squash[name], pre))
        out[name] = GateParts(
            recurrent, inp, float(input_bias[col]), pre, value, free, scale, recurrent_bias
        )
    return out


def squash(how: str, a):
    """σ(a) or tanh(a), as a gate's `squash` names it."""
    return np.tanh(a) if how == "tanh" else sigmoid(a)


def clamp_range(model: Model, gate: str) -> tuple[float, float]:
    """The values a gate can take, and so be held at: (0, 1) for σ, (-1, 1) for tanh."""
    return (-1.0, 1.0) if cell_kind(model.config.cell).squash[gate] == "tanh" else (0.0, 1.0)


def unit_step(step, row: int, unit: int):
    """Every scalar of one unit at one step (row of the batch), as the cell's drawing shows them:
    the record's own unit record (cell.UnitStep, gru.GRUUnitStep, rnn.RNNUnitStep)."""
    return step.unit(row, unit)


def sigmoid(a):
    """σ(a) = 1 / (1 + e^(-a)), written to stay finite for any a."""
    return 0.5 * np.tanh(0.5 * np.asarray(a, dtype=np.float64)) + 0.5


class Intervention(NamedTuple):
    """The same input run twice: as the model runs it, and with a gate clamped."""

    before: Trace
    after: Trace
    clamp: Clamp

    def cell_change(self, layer: int = 0) -> np.ndarray:
        """c_t after minus c_t before, (T, B, H) (a cell with a belt)."""
        return self.after.layers[layer].c[1:] - self.before.layers[layer].c[1:]

    def memory_change(self, layer: int = 0) -> np.ndarray:
        """What carries the memory (c with a belt, else h) after minus before, (T, B, H)."""
        return self.after.layers[layer].memory[1:] - self.before.layers[layer].memory[1:]

    def hidden_change(self, layer: int = 0) -> np.ndarray:
        return self.after.layers[layer].h[1:] - self.before.layers[layer].h[1:]


def intervene(model: Model, inputs: np.ndarray, clamp: Clamp) -> Intervention:
    """Run (B, T) inputs freely and with `clamp`; the difference is what the valve did."""
    cfg = model.config
    kind = cell_kind(cfg.cell)
    if not 0 <= clamp.layer < cfg.num_layers or not 0 <= clamp.unit < cfg.hidden_size:
        raise ValueError("the clamp names a layer or unit the model does not have")
    if clamp.gate not in kind.gates:
        raise ValueError(f"a {kind.title} has no gate {clamp.gate!r}: it has {kind.gates}")
    return Intervention(model.run(inputs), model.run(inputs, clamps=(clamp,)), clamp)


def top_predictions(
    probs: np.ndarray, labels: tuple[str, ...], k: int = 5
) -> list[tuple[str, float]]:
    """The k most likely outputs of one distribution (V,), most likely first."""
    order = np.argsort(probs)[::-1][:k]
    return [(labels[i], float(probs[i])) for i in order]


def output_change(before: Trace, after: Trace) -> np.ndarray:
    """Per step and row, how far the output distribution moved: ½ Σ |p_after − p_before| (T, B)."""
    return 0.5 * np.abs(after.probs - before.probs).sum(axis=-1)
