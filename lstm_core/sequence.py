"""A recurrent layer over a whole sequence: forward, backpropagation through time, weight gradients.

Arrays are time-major, (T, B, ·), so every step reads and writes contiguous (B, ·) slices.
A `LayerTrace` stacks one layer's step records over time: the records in `trace.steps` are the
very `LSTMStep` / `GRUStep` / `RNNStep` tuples each step filled, their arrays views into the
stacked arrays. What happens inside a step, forward and backward, is the cell's (cells.py); this
module does what every cell shares: the input half of every step in one product, the weight
gradients, the walk over layers' shapes.
It keeps T + 1 states, h[0] = h_0 and c[0] = c_0, so step t reads h[t] and writes h[t + 1]:
the record of step t+1 sees the output of step t without a copy.

BPTT follows the paper's equation (7): dL/dW = Σ_t dL_t/dW. The backward loop walks the records
from the last step to the first and produces only dL/da_t (the cell's backward step); the sum
over time is then one matmul per block of W, [h_{t-1}, x_t]^T · da_t over all (t, row) pairs at
once.
Truncated BPTT needs nothing special: run windows one after another, pass one window's final state
in as the next window's initial state, and start each backward pass with zero gradient, which is
exactly where the gradient stops at the window edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from . import buffers
from .cells import CellKind, cell_kind, gate_width


@dataclass(eq=False)
class LayerTrace:
    """One layer's step records stacked over time (T steps, B rows, H units).

    Which arrays besides x, pre and h a layer has, and what its records are, its kind of cell
    decides (`cells.cell_kind(trace.cell).allocate`).
    """

    cell: str
    x: np.ndarray  # the layer's input: (T, B) ids of a one-hot input, else (T, B, D)
    pre: np.ndarray  # pre-activations (T, B, G), G = width · H: the cell's gate blocks
    h: np.ndarray  # (T + 1, B, H): h[0] the initial state, h[t + 1] the output of step t
    gates: np.ndarray | None = None  # LSTM, GRU: the gates' activations (T, B, G)
    c: np.ndarray | None = None  # LSTM: the belt (T + 1, B, H), c[0] the initial cell state
    tanh_c: np.ndarray | None = None  # LSTM: (T, B, H)
    hn: np.ndarray | None = None  # GRU: W_hn h_{t-1} + b_hn, what the reset gate scales (T, B, H)
    steps: list = field(default_factory=list)  # the records, step t at steps[t]
    # False in a training workspace: a cell may then compute its gates in the place of their
    # pre-activations, which no backward pass reads (the LSTM does; pre is then gates)
    keep_pre: bool = True
    _scratch: dict = field(default_factory=dict, repr=False)  # buffers reused between passes

    @classmethod
    def allocate(
        cls, cell: str, T: int, B: int, H: int, x: np.ndarray, dtype, keep_pre: bool = True
    ) -> LayerTrace:
        """Empty arrays for T steps and the T records viewing them; x gives the input's shape."""
        G = gate_width(cell, H)  # (refuses an unknown cell)
        tr = cls(
            cell,
            buffers.empty(x.shape, x.dtype),
            buffers.empty((T, B, G), dtype),
            buffers.empty((T + 1, B, H), dtype),
            keep_pre=keep_pre,
        )
        tr.kind.allocate(tr)
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
    def kind(self) -> CellKind:
        return cell_kind(self.cell)

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

    @property
    def memory(self) -> np.ndarray:
        """What carries the memory from step to step (T + 1, B, H): the belt c of a cell that
        has one, else h itself (a GRU keeps its memory in h; z is the valve that keeps it)."""
        return getattr(self, self.kind.memory)

    def step(self, t: int):
        """The record of step t (views into this trace): an LSTMStep, GRUStep or RNNStep."""
        return self.steps[t]

    def gate(self, name: str) -> np.ndarray:
        """One gate over time (T, B, H): f, i, g (the candidate c~) or o of an LSTM, r, z or n
        of a GRU."""
        kind = self.kind
        if name not in kind.gates:
            raise ValueError(f"a {kind.title} layer has no gate {name!r} (it has {kind.gates})")
        H, k = self.hidden_size, kind.gates.index(name)
        return self.gates[:, :, k * H : (k + 1) * H]

    def final_state(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(h_T, c_T) as fresh copies, ready to be the next window's initial state."""
        return self.h[-1].copy(), None if self.c is None else self.c[-1].copy()

    def buffer(self, name: str, shape: tuple[int, ...], dtype=None) -> np.ndarray:
        """A scratch array owned by this trace, allocated once."""
        arr, dtype = self._scratch.get(name), dtype or self.h.dtype
        if arr is None or arr.shape != shape or arr.dtype != dtype:
            arr = self._scratch[name] = buffers.empty(shape, dtype)
            for key in [k for k in self._scratch if k.startswith(name + "/")]:
                del self._scratch[key]  # views of the old array
        return arr

    def derived(self, key: str, make):
        """Something made once from this trace's buffers (per-step views, say) and kept under
        `key`; a key "name/..." is dropped when the buffer `name` is allocated anew."""
        value = self._scratch.get(key)
        if value is None:
            value = self._scratch[key] = make()
        return value

    def grad_buffer(self) -> np.ndarray:
        """The dL/da buffer (T, B, G) that backward fills."""
        return self.buffer("da", self.pre.shape)


class Workspace:
    """Traces and buffers reused from one training step to the next (no allocation, no faults).

    A trace taken from a workspace is overwritten by the next pass that uses the same workspace,
    and keeps no pre-activations where its cell can do without them (`LayerTrace.keep_pre`).
    """

    def __init__(self) -> None:
        self._traces: dict[str, LayerTrace] = {}
        self._arrays: dict[str, np.ndarray] = {}
        self._derived: dict = {}

    def trace(self, name: str, cell: str, T: int, B: int, H: int, x: np.ndarray, dtype):
        tr = self._traces.get(name)
        if tr is None or not tr.fits(cell, T, B, H, x, dtype):
            tr = self._traces[name] = LayerTrace.allocate(cell, T, B, H, x, dtype, False)
        return tr

    def get(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        arr = self._arrays.get(name)
        if arr is None or arr.shape != shape or arr.dtype != dtype:
            arr = self._arrays[name] = buffers.empty(shape, dtype)
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

    x: (T, B) integer ids of a one-hot input, or (T, B, D) dense. W (H + D, G) rows [h; x], b the
    layer's bias (see cells.py). h0, c0 (B, H): the initial state (c0 for a cell with a belt).
    clamps: this layer's `Clamp`s (a gate held at a value). trace: a trace of the right shape
    to fill (from a `Workspace`), else one is allocated.
    """
    kind = cell_kind(cell)
    T, B = x.shape[:2]
    G = W.shape[1]
    H = G // kind.width
    W_h, W_x = W[:H], W[H:]
    if trace is None:
        trace = LayerTrace.allocate(cell, T, B, H, x, W.dtype)
    if not buffers.aligned(
        W_h
    ):  # the recurrence multiplies it T times: a copy that is (buffers.py)
        W_h = _copy_into(trace.buffer("W_h", W_h.shape, W_h.dtype), W_h)
    np.copyto(trace.x, x)
    trace.h[0] = h0
    scratch = trace.buffer("scratch", (B, G))
    bias = kind.input_bias(b)  # (G,): what joins W[·, x_t] before the recurrence
    if x.ndim == 2:  # one-hot input: W[·, x_t] + b is a row of this table, gathered for every step
        # ids are checked on entry, so "clip" never clips (and skips a copy)
        np.take(W_x + bias, trace.x, axis=0, out=trace.pre, mode="clip")  # (T, B, G) at once
    else:  # dense input: one matmul gives the input half of every step at once
        np.matmul(trace.x.reshape(T * B, -1), W_x, out=trace.pre.reshape(T * B, G))
        trace.pre += bias
    kind.forward(trace, W_h, b, c0, _clamp_columns(kind, clamps, H, T), scratch)
    return trace


def _clamp_columns(kind: CellKind, clamps: tuple, H: int, T: int) -> list[tuple]:
    """For each step, the clamps acting on it as (column of the fused gates, value) pairs."""
    columns = []
    for k in clamps:
        if k.gate not in kind.gates:
            raise ValueError(
                f"a {kind.title} has no gate {k.gate!r} to clamp (it has {kind.gates})"
            )
        columns.append((k.start, kind.gates.index(k.gate) * H + k.unit, k.value))
    if not columns:
        return [()] * T
    return [tuple((col, v) for start, col, v in columns if t >= start) for t in range(T)]


@dataclass
class LayerGradients:
    """What BPTT through one layer returns."""

    da: np.ndarray  # dL/da_t for every step (T, B, G): the input of every weight gradient
    dh0: np.ndarray  # dL/dh_0 (B, H)
    dc0: np.ndarray | None  # dL/dc_0 (B, H), for a cell with a belt (the LSTM) only
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
    kind = trace.kind
    belt = "c" in kind.state
    W_hT = transposed(trace, W_h)  # a contiguous transpose multiplies faster than a view
    dh_next = np.zeros((B, H), dt) if dh_last is None else dh_last
    dc_next = (np.zeros((B, H), dt) if dc_last is None else dc_last) if belt else None
    dh_all = np.empty((T + 1, B, H), dt) if keep_state_grads else None
    dc_all = np.empty((T + 1, B, H), dt) if keep_state_grads and belt else None
    whole = trace.pre.size <= kind.whole_limit
    dh0, dc0 = kind.backward(trace, dh_out, W_hT, dh_next, dc_next, dh_all, dc_all, whole)
    if dh_all is not None:
        dh_all[0] = dh0
        if dc_all is not None:
            dc_all[0] = dc0
    return LayerGradients(trace.grad_buffer(), dh0, dc0, dh_all, dc_all)


def weight_gradients(trace: LayerTrace, da: np.ndarray, dW: np.ndarray, db: np.ndarray) -> None:
    """Equation (7): dL/dW = Σ_t [h_{t-1}, x_t]^T da_t, written into dW (H + D, G) and db.

    The sum over every step and row is one matmul: the rows [h_{t-1}, x_t] of every (t, row)
    pair, stacked (N = T·B of them), times da. A one-hot input is written as its one-hot rows,
    so row v of the input block collects the da of every step whose input is v.
    A cell whose b_hh acts apart from b_ih (the GRU) has a recurrent side of its own, da_h
    (`recurrent_da`, from the trace's last backward pass): then the h rows take h^T da_h, the x
    rows x^T da, and db = [Σ da | Σ da_h] (2G,).
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
    da_h = trace.kind.recurrent_da(trace, da)
    if da_h is da:  # one product for both blocks of rows
        np.matmul(hx.T, da2, out=dW)
        column_sums(da2, db)
        return
    dah2 = da_h.reshape(N, G)
    np.matmul(hx[:, :H].T, dah2, out=dW[:H])
    np.matmul(hx[:, H:].T, da2, out=dW[H:])
    column_sums(da2, db[:G])  # b_ih
    column_sums(dah2, db[G:])  # b_hh


# Transposing in blocks of 32 columns: from arrays of this many elements on (measured with two
# threads: H=64's (64, 256) in 9.4 µs against 16.1, H=32's (32, 128) in 3.7 against 1.8)
_TRANSPOSE_BLOCK, _TRANSPOSE_FROM = 32, 1 << 14


def transposed(trace: LayerTrace, a: np.ndarray) -> np.ndarray:
    """a.T (a 2-D C-contiguous array) as a contiguous array, a buffer of the trace.

    NumPy copies a transposed view element by element, reading down the columns: at H=256 the
    (256, 1024) W_h took 745 µs, 0.74 ms of every training step. In two passes with short
    strides, first every block of 32 columns into a contiguous (R, 32) slab, then each slab
    transposed while it is in cache, it takes 142 µs (H=128: 34 against 148; H=512 0.9 ms
    against 3.0), the same numbers in the same places.
    """
    R, C = a.shape
    out = trace.buffer("W_hT", (C, R), a.dtype)
    k = _TRANSPOSE_BLOCK
    if a.size < _TRANSPOSE_FROM or C % k or not a.flags.c_contiguous:
        np.copyto(out, a.T)
        return out
    slabs = trace.buffer("W_hT slabs", (C // k, R, k), a.dtype)
    np.copyto(slabs, a.reshape(R, C // k, k).transpose(1, 0, 2))  # slab j: columns jk..jk+k-1
    np.copyto(out.reshape(C // k, k, R), slabs.transpose(0, 2, 1))  # each slab transposed
    return out


def _copy_into(out: np.ndarray, a: np.ndarray) -> np.ndarray:
    np.copyto(out, a)
    return out


@lru_cache(maxsize=32)
def ones(n: int, dtype: np.dtype) -> np.ndarray:
    """A read-only vector of n ones (what `column_sums` and the softmax multiply by)."""
    arr = np.ones(n, dtype)
    arr.setflags(write=False)
    return arr


def column_sums(a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Σ over the rows of a contiguous 2-D array a (N, G), into out (G,): a product with a vector
    of ones, one BLAS call (a quarter of np.add.reduce's time on the (T·B, G) gradients here)."""
    return np.dot(ones(a.shape[0], a.dtype), a, out)


def input_gradients(da: np.ndarray, W_x: np.ndarray) -> np.ndarray:
    """dL/dx_t for a dense layer input, every step in one matmul (T, B, D)."""
    T, B, G = da.shape
    return (da.reshape(T * B, G) @ W_x.T).reshape(T, B, -1)
