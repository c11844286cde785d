"""A recurrent layer over a whole sequence: forward, backpropagation through time, weight gradients.

Arrays are time-major, (T, B, ·), so every step reads and writes contiguous (B, ·) slices.
A `LayerTrace` stacks one layer's step records over time: the records in `trace.steps` are the
very `LSTMStep` / `RNNStep` tuples each step filled, their arrays views into the stacked arrays.
It keeps T + 1 states, h[0] = h_0 and c[0] = c_0, so step t reads h[t] and writes h[t + 1]:
the record of step t+1 sees the output of step t without a copy.

BPTT follows the paper's equation (7): dL/dW = Σ_t dL_t/dW. The backward loop walks the records
from the last step to the first and produces only dL/da_t; the sum over time is then one matmul
per block of W, [h_{t-1}, x_t]^T · da_t over all (t, row) pairs at once.
Truncated BPTT needs nothing special: run windows one after another, pass one window's final state
in as the next window's initial state, and start each backward pass with zero gradient, which is
exactly where the gradient stops at the window edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .cell import (
    GATES,
    LSTMStep,
    activation_constants,
    lstm_local_derivatives,
    lstm_step_backward,
    lstm_step_into,
    split_gates,
)
from .rnn import RNNStep, rnn_step_backward, rnn_step_into

CELLS = ("lstm", "rnn")
_WHOLE_SEQUENCE_LIMIT = 1 << 16  # elements of (T, B, 4H) below which backward precomputes all steps


def gate_width(cell: str, H: int) -> int:
    """Columns of the fused weight matrix: 4H for the LSTM (f|i|c~|o), H for the RNN."""
    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}: expected one of {CELLS}")
    return 4 * H if cell == "lstm" else H


@dataclass(eq=False)
class LayerTrace:
    """One layer's step records stacked over time (T steps, B rows, H units)."""

    cell: str
    x: np.ndarray  # the layer's input: (T, B) ids of a one-hot input, else (T, B, D)
    pre: np.ndarray  # pre-activations (T, B, G); G = 4H (LSTM, blocks f|i|c~|o) or H (RNN)
    h: np.ndarray  # (T + 1, B, H): h[0] the initial state, h[t + 1] the output of step t
    gates: np.ndarray | None = None  # LSTM: activations f|i|c~|o (T, B, 4H)
    c: np.ndarray | None = None  # LSTM: the belt (T + 1, B, H), c[0] the initial cell state
    tanh_c: np.ndarray | None = None  # LSTM: (T, B, H)
    steps: list = field(default_factory=list)  # the records, step t at steps[t]
    _scratch: dict = field(default_factory=dict, repr=False)  # buffers reused between passes

    @classmethod
    def allocate(cls, cell: str, T: int, B: int, H: int, x: np.ndarray, dtype) -> LayerTrace:
        """Empty arrays for T steps and the T records viewing them; x gives the input's shape."""
        G = gate_width(cell, H)
        tr = cls(
            cell,
            np.empty(x.shape, x.dtype),
            np.empty((T, B, G), dtype),
            np.empty((T + 1, B, H), dtype),
        )
        if cell == "lstm":
            tr.gates = np.empty((T, B, G), dtype)
            tr.c = np.empty((T + 1, B, H), dtype)
            tr.tanh_c = np.empty((T, B, H), dtype)
            tr.steps = [
                LSTMStep(
                    tr.x[t],
                    tr.h[t],
                    tr.c[t],
                    split_gates(tr.pre[t]),
                    split_gates(tr.gates[t]),
                    tr.c[t + 1],
                    tr.tanh_c[t],
                    tr.h[t + 1],
                )
                for t in range(T)
            ]
        else:
            tr.steps = [RNNStep(tr.x[t], tr.h[t], tr.pre[t], tr.h[t + 1]) for t in range(T)]
        return tr

    def fits(self, cell: str, T: int, B: int, H: int, x: np.ndarray, dtype) -> bool:
        return (
            self.cell == cell
            and self.h.shape == (T + 1, B, H)
            and self.x.shape == x.shape
            and self.x.dtype == x.dtype
            and self.h.dtype == dtype
        )

    @property
    def T(self) -> int:
        return self.pre.shape[0]

    def __repr__(self) -> str:
        T, B, _ = self.pre.shape
        return f"LayerTrace({self.cell}, T={T}, B={B}, H={self.hidden_size}; arrays (T, B, ·))"

    @property
    def hidden_size(self) -> int:
        return self.h.shape[-1]

    @property
    def outputs(self) -> np.ndarray:
        """h_1..h_T (T, B, H)."""
        return self.h[1:]

    def step(self, t: int) -> LSTMStep | RNNStep:
        """The record of step t (views into this trace)."""
        return self.steps[t]

    def gate(self, name: str) -> np.ndarray:
        """f, i, g (the candidate c~) or o over time (T, B, H); LSTM only."""
        if self.gates is None:
            raise ValueError("an RNN layer has no gates")
        H, k = self.hidden_size, GATES.index(name)
        return self.gates[:, :, k * H : (k + 1) * H]

    def final_state(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(h_T, c_T) as fresh copies, ready to be the next window's initial state."""
        return self.h[-1].copy(), None if self.c is None else self.c[-1].copy()

    def buffer(self, name: str, shape: tuple[int, ...], dtype=None) -> np.ndarray:
        """A scratch array owned by this trace, allocated once."""
        arr = self._scratch.get(name)
        if arr is None or arr.shape != shape:
            arr = self._scratch[name] = np.empty(shape, dtype or self.h.dtype)
            for key in [k for k in self._scratch if k.startswith(name + "/")]:
                del self._scratch[key]  # views of the old array
        return arr

    def views(self, name: str) -> list:
        """Per-step views [buf[0], buf[1], ...] of the scratch buffer `name`, made once."""
        key = name + "/steps"
        if key not in self._scratch:
            self._scratch[key] = list(self._scratch[name])
        return self._scratch[key]

    def local_derivatives(self) -> list:
        """Per step (local.fig, local.o, belt) of `lstm_local_derivatives`, computed for every
        step at once into buffers this trace keeps (with their per-step views)."""
        if "local/steps" not in self._scratch:
            local = split_gates(self.buffer("local", self.gates.shape))
            belt = self.buffer("belt", self.tanh_c.shape)
            self._scratch["local/out"] = (local, belt)
            self._scratch["local/steps"] = list(zip(local.fig, local.o, belt, strict=True))
            self._scratch["local/gates"] = split_gates(self.gates)
        gates = self._scratch["local/gates"]
        lstm_local_derivatives(gates, self.c[:-1], self.tanh_c, self._scratch["local/out"])
        return self._scratch["local/steps"]

    def grad_steps(self) -> list:
        """Per-step views of the dL/da buffer (T, B, G): `Gates` for the LSTM, arrays for the RNN."""
        if "da/gates" not in self._scratch:
            da = self.buffer("da", self.pre.shape)
            steps = [split_gates(d) for d in da] if self.cell == "lstm" else list(da)
            self._scratch["da/gates"] = steps
        return self._scratch["da/gates"]


class Workspace:
    """Traces and buffers reused from one training step to the next (no allocation, no faults).

    A trace taken from a workspace is overwritten by the next pass that uses the same workspace.
    """

    def __init__(self) -> None:
        self._traces: dict[str, LayerTrace] = {}
        self._arrays: dict[str, np.ndarray] = {}
        self._derived: dict = {}

    def trace(self, name: str, cell: str, T: int, B: int, H: int, x: np.ndarray, dtype):
        tr = self._traces.get(name)
        if tr is None or not tr.fits(cell, T, B, H, x, dtype):
            tr = self._traces[name] = LayerTrace.allocate(cell, T, B, H, x, dtype)
        return tr

    def get(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        arr = self._arrays.get(name)
        if arr is None or arr.shape != shape or arr.dtype != dtype:
            arr = self._arrays[name] = np.empty(shape, dtype)
        return arr

    def derived(self, key, make):
        """Something computed once by `make()` and kept under `key` (an index range, views)."""
        value = self._derived.get(key)
        if value is None:
            value = self._derived[key] = make()
        return value


def layer_forward(
    cell: str,
    x: np.ndarray,
    W: np.ndarray,
    b: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray | None = None,
    clamps: tuple = (),
    trace: LayerTrace | None = None,
) -> LayerTrace:
    """Run one layer over T steps.

    x: (T, B) integer ids of a one-hot input, or (T, B, D) dense. W (H + D, G) rows [h; x], b (G,).
    h0, c0 (B, H): the initial state. clamps: this layer's `Clamp`s (LSTM only).
    trace: a trace of the right shape to fill (from a `Workspace`), else one is allocated.
    """
    T, B = x.shape[:2]
    H = W.shape[1] // 4 if cell == "lstm" else W.shape[1]
    W_h, W_x = W[:H], W[H:]
    if trace is None:
        trace = LayerTrace.allocate(cell, T, B, H, x, W.dtype)
    np.copyto(trace.x, x)
    trace.h[0] = h0
    G = W.shape[1]
    scratch = trace.buffer("scratch", (B, G))
    onehot = x.ndim == 2
    if onehot:  # one-hot input: W[·, x_t] + b is a row of this table, gathered for every step
        table = W_x + b  # (V, G)
        ids = trace.x
    else:  # dense input: one matmul gives the input half of every step at once
        np.matmul(trace.x.reshape(T * B, -1), W_x, out=trace.pre.reshape(T * B, G))
        trace.pre += b
    if onehot:  # ids are checked on entry, so "clip" never clips (and skips a copy)
        np.take(table, ids, axis=0, out=trace.pre, mode="clip")  # every step at once (T, B, G)
    if cell == "lstm":
        trace.c[0] = 0.0 if c0 is None else c0
        consts = activation_constants(B, H, W.dtype)
        for t, step in enumerate(trace.steps):
            active = _active_clamps(clamps, t, H) if clamps else ()
            lstm_step_into(step, W_h, scratch, consts, active)
    else:
        for step in trace.steps:
            rnn_step_into(step, W_h, scratch)
    return trace


def _active_clamps(clamps: tuple, t: int, H: int) -> tuple[tuple[int, float], ...]:
    return tuple((GATES.index(k.gate) * H + k.unit, k.value) for k in clamps if t >= k.start)


@dataclass
class LayerGradients:
    """What BPTT through one layer returns."""

    da: np.ndarray  # dL/da_t for every step (T, B, G): the input of every weight gradient
    dh0: np.ndarray  # dL/dh_0 (B, H)
    dc0: np.ndarray | None  # dL/dc_0 (B, H), LSTM only
    dh: np.ndarray | None = None  # if asked: dL/dh_t for t = 0..T (T + 1, B, H)
    dc: np.ndarray | None = None  # if asked: dL/dc_t for t = 0..T (T + 1, B, H), LSTM only


def layer_backward(
    trace: LayerTrace,
    dh_out: np.ndarray,
    W_h: np.ndarray,
    dh_last: np.ndarray | None = None,
    dc_last: np.ndarray | None = None,
    keep_state_grads: bool = False,
) -> LayerGradients:
    """Backpropagation through time over one layer.

    dh_out (T, B, H): dL/dh_t arriving from above (the head or the next layer) at each step.
    dh_last, dc_last: gradient arriving from beyond the last step; None means the window ends
    here, which is exactly how truncated BPTT stops the gradient at a window edge.
    keep_state_grads: also return dL/dh_t and dL/dc_t for every t (the BPTT page draws them).
    The returned `da` is a buffer of the trace, overwritten by its next backward pass.
    """
    T, B, H = dh_out.shape
    dt = dh_out.dtype
    W_hT = np.ascontiguousarray(W_h.T)  # a contiguous transpose multiplies faster than a view
    steps, das, dh_outs = trace.steps, trace.grad_steps(), list(dh_out)
    dh_next = np.zeros((B, H), dt) if dh_last is None else dh_last
    dc_next = np.zeros((B, H), dt) if dc_last is None else dc_last
    lstm = trace.cell == "lstm"
    dh_all = np.empty((T + 1, B, H), dt) if keep_state_grads else None
    dc_all = np.empty((T + 1, B, H), dt) if keep_state_grads and lstm else None
    local = [None] * T  # None: each step applies the chain rule on its own
    if lstm and trace.pre.size <= _WHOLE_SEQUENCE_LIMIT:
        # a small problem: every step's local derivatives in a few NumPy calls instead of T times
        # as many; a large one does them step by step, while each step's data is in cache
        local = trace.local_derivatives()
    for t in range(T - 1, -1, -1):
        dh = dh_outs[t] + dh_next  # dL/dh_t: from above at t, and from step t + 1
        if lstm:
            _, dh_next, dc_next, dc = lstm_step_backward(
                steps[t], dh, dc_next, W_hT, das[t], local[t]
            )
            if dc_all is not None:
                dc_all[t + 1] = dc
        else:
            _, dh_next = rnn_step_backward(steps[t], dh, W_hT, das[t])
        if dh_all is not None:
            dh_all[t + 1] = dh
    if dh_all is not None:
        dh_all[0] = dh_next
        if dc_all is not None:
            dc_all[0] = dc_next
    da = trace.buffer("da", trace.pre.shape)
    return LayerGradients(da, dh_next, dc_next if lstm else None, dh_all, dc_all)


def weight_gradients(trace: LayerTrace, da: np.ndarray, dW: np.ndarray, db: np.ndarray) -> None:
    """Equation (7): dL/dW = Σ_t [h_{t-1}, x_t]^T da_t, written into dW (H + D, G) and db (G,).

    The sum over every step and row is one matmul: the rows [h_{t-1}, x_t] of every (t, row)
    pair, stacked (N = T·B of them), times da. A one-hot input is written as its one-hot rows,
    so row v of the input block collects the da of every step whose input is v.
    """
    T, B, G = da.shape
    H, N = trace.hidden_size, T * B
    D = dW.shape[0] - H
    da2 = da.reshape(N, G)
    hx = trace.buffer("hx", (N, H + D))  # [h_{t-1}, x_t] for every step and row
    hx[:, :H] = trace.h[:-1].reshape(N, H)
    if trace.x.ndim == 2:  # one-hot
        hx[:, H:] = 0.0
        hx[np.arange(N), H + trace.x.reshape(N)] = 1.0
    else:
        hx[:, H:] = trace.x.reshape(N, D)
    np.matmul(hx.T, da2, out=dW)
    np.add.reduce(da2, axis=0, out=db)


def input_gradients(da: np.ndarray, W_x: np.ndarray) -> np.ndarray:
    """dL/dx_t for a dense layer input, every step in one matmul (T, B, D)."""
    T, B, G = da.shape
    return (da.reshape(T * B, G) @ W_x.T).reshape(T, B, -1)
