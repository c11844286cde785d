"""Numbers for explaining a step: where each gate's value comes from, and what an intervention changes.

A gate's pre-activation is a sum of three parts, and the page "Inside one step" shows them apart:
    a_f = W_f[h_{t-1}, ·] + W_f[·, x_t] + b_f   (what memory says, what the input says, the bias)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .cell import GATES, Clamp, LSTMStep
from .model import Model, Trace


class GateParts(NamedTuple):
    """One gate of one unit at one step: a = recurrent + input + bias, value = σ(a) or tanh(a)."""

    recurrent: float  # W[h_{t-1}, ·] for this unit's column
    input: float  # W[·, x_t]
    bias: float  # b
    pre: float  # their sum, the pre-activation a
    value: float  # the gate's activation (the held value, if a clamp holds the gate)
    free: float  # σ(a) or tanh(a): the activation the gate would have without a clamp


def gate_parts(
    model: Model, layer: int, step: LSTMStep, row: int, unit: int
) -> dict[str, GateParts]:
    """The pieces of every gate's pre-activation for one unit (row: which sequence of the batch)."""
    cfg = model.config
    if cfg.cell != "lstm":
        raise ValueError("gate parts are for LSTM layers")
    H = cfg.hidden_size
    W, b = model.p[f"W{layer}"], model.p[f"b{layer}"]
    out = {}
    for k, name in enumerate(GATES):
        col = k * H + unit
        recurrent = float(step.h_prev[row] @ W[:H, col])
        if step.x.ndim == 1:  # one-hot input: the row of W for this character
            inp = float(W[H + int(step.x[row]), col])
        else:
            inp = float(step.x[row] @ W[H:, col])
        pre = float(step.pre.all[row, col])
        value = float(step.gates.all[row, col])
        free = float(np.tanh(pre)) if name == "g" else float(sigmoid(pre))
        out[name] = GateParts(recurrent, inp, float(b[col]), pre, value, free)
    return out


def sigmoid(a):
    """σ(a) = 1 / (1 + e^(-a)), written to stay finite for any a."""
    return 0.5 * np.tanh(0.5 * np.asarray(a, dtype=np.float64)) + 0.5


class Intervention(NamedTuple):
    """The same input run twice: as the model runs it, and with a gate clamped."""

    before: Trace
    after: Trace
    clamp: Clamp

    def cell_change(self, layer: int = 0) -> np.ndarray:
        """c_t after minus c_t before, (T, B, H)."""
        return self.after.layers[layer].c[1:] - self.before.layers[layer].c[1:]

    def hidden_change(self, layer: int = 0) -> np.ndarray:
        return self.after.layers[layer].h[1:] - self.before.layers[layer].h[1:]


def intervene(model: Model, inputs: np.ndarray, clamp: Clamp) -> Intervention:
    """Run (B, T) inputs freely and with `clamp`; the difference is what the valve did."""
    if model.config.cell != "lstm":
        raise ValueError("only LSTM gates can be clamped")
    cfg = model.config
    if not 0 <= clamp.layer < cfg.num_layers or not 0 <= clamp.unit < cfg.hidden_size:
        raise ValueError("the clamp names a layer or unit the model does not have")
    if clamp.gate not in GATES:
        raise ValueError(f"gate must be one of {GATES}")
    return Intervention(model.run(inputs), model.run(inputs, clamps=(clamp,)), clamp)


def top_predictions(
    probs: np.ndarray, labels: tuple[str, ...], k: int = 5
) -> list[tuple[str, float]]:
    """The k most likely outputs of one distribution (V,), most likely first."""
    order = np.argsort(probs)[::-1][:k]
    return [(labels[i], float(probs[i])) for i in order]


class UnitStep(NamedTuple):
    """Every scalar of one unit at one step (row of the batch), as the cell diagram shows them."""

    c_prev: float
    f: float
    i: float
    g: float  # c~
    o: float
    kept: float  # f · c_{t-1}: what survives on the belt
    added: float  # i · c~: what the input gate puts on it
    c: float
    tanh_c: float
    h: float


def unit_step(step: LSTMStep, row: int, unit: int) -> UnitStep:
    f, i, g, o = (float(getattr(step, k)[row, unit]) for k in GATES)
    c_prev = float(step.c_prev[row, unit])
    return UnitStep(
        c_prev,
        f,
        i,
        g,
        o,
        f * c_prev,
        i * g,
        float(step.c[row, unit]),
        float(step.tanh_c[row, unit]),
        float(step.h[row, unit]),
    )


def output_change(before: Trace, after: Trace) -> np.ndarray:
    """Per step and row, how far the output distribution moved: ½ Σ |p_after − p_before| (T, B)."""
    return 0.5 * np.abs(after.probs - before.probs).sum(axis=-1)
