"""One GRU step, in PyTorch's convention (`torch.nn.GRU`), so that both compute the same numbers.

    r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)             (1)  reset gate: how much of the
                                                                     old state the candidate reads
    z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)             (2)  update gate: the valve that
                                                                     keeps the old state
    n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))  (3)  the candidate state
    h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}                      (4)  z keeps, 1 - z lets n in

Beside the LSTM (cell.py): there is no separate belt, h itself carries the memory; z does the
work of the LSTM's forget and input gates at once (what it keeps of h_{t-1} it takes from n);
and there is no output gate, all of h is shown.

Layout, as the LSTM's: one W (H + D, 3H), rows [h_{t-1}; x_t], columns r | z | n (PyTorch's own
order, so a checkpoint needs no block swap). Because W_hn h + b_hn sits inside the reset
product, b_hn cannot be folded into b_in as the LSTM folds its two biases: b keeps both,
[b_ih | b_hh] (6H,). Before the recurrence, the input half of every step is computed at once:
W[·, x_t] + b_ih + (b_hr, b_hz, 0), one matmul over all steps (or a row of a table for one-hot
input). A step adds h_{t-1} W_h, with b_hn joining the n block before r scales it.

A step fills a `GRUStep`, a named record of every intermediate: `pre` (the pre-activations of
r and z, and of n as it enters tanh, a_n = W_in x + b_in + r ⊙ hn), `gates` (r, z, n), `hn`
(W_hn h_{t-1} + b_hn) and h. The backward step reads the same record. What multiplies the
incoming dL/dh_t is known before it arrives (the local derivatives):
    ∂h_t/∂a_z  = (h_{t-1} - n) ⊙ z(1 - z)            (4), (2)
    ∂h_t/∂a_n  = (1 - z) ⊙ (1 - n²)                  (4), (3)
    ∂h_t/∂a_r  = ∂h_t/∂a_n ⊙ hn ⊙ r(1 - r)           (3), (1)
    ∂h_t/∂hn   = ∂h_t/∂a_n ⊙ r                       (3): the recurrent side of n (W_hn, b_hn)
    dL/dh_{t-1} = dL/dh_t ⊙ z + da_h W_h^T,  da_h = dL/d(h_{t-1} W_h + b_hh) = (da_r, da_z, dL/dhn)
so the input side's da = (da_r, da_z, da_n) and the recurrent side's da_h differ in their n
block, and the weight gradients are x^T da and h^T da_h (sequence.weight_gradients).

As a kind of cell (`GRU` at the end, registered in cells.py): state h alone; PyTorch's weights
`gru.weight_ih_l{k}` (3H, D), `gru.weight_hh_l{k}` (3H, H), `gru.bias_ih_l{k}` and
`gru.bias_hh_l{k}` (3H,), blocks r | z | n. Initialisation as PyTorch's: every weight and both
biases uniform in ±1/√H.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from . import buffers

GATES = ("r", "z", "n")  # column blocks of the fused matrix, in this order (PyTorch's too)
GATE_NAMES = {"r": "reset", "z": "update", "n": "candidate"}
# Equations (1)-(4) in TeX, as the page "Inside one step" writes them (PyTorch's names). A gate:
# its symbol and formula, the recurrent part first as the page adds up its numbers; the reset
# product of (3) as PyTorch writes it. The state: symbol, formula, the same with the step's
# numbers (<name>: a field of `GRUUnitStep`), its field.
SQUASH = {"r": "sigmoid", "z": "sigmoid", "n": "tanh"}  # how each gate squashes
SCALED_BY = {"n": "r"}  # (3): r scales the candidate's recurrent part, b_hn included
TEX = {
    "r": ("r_t", r"\sigma(W_{hr} h_{t-1} + W_{ir} x_t + b_{ir} + b_{hr})"),
    "z": ("z_t", r"\sigma(W_{hz} h_{t-1} + W_{iz} x_t + b_{iz} + b_{hz})"),
    "n": ("n_t", r"\tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn}))"),
}
TEX_STATE = (
    (
        "h_t",
        r"(1 - z_t) \odot n_t + z_t \odot h_{t-1}",
        r"(1 - <z>) \cdot (<n>) + <z> \cdot (<h_prev>)",
        "h",
    ),
)


class GRUGates(NamedTuple):
    """A fused (B, 3H) array and views of its blocks."""

    all: np.ndarray  # (B, 3H)
    r: np.ndarray  # (B, H) each
    z: np.ndarray
    n: np.ndarray
    rz: np.ndarray  # the r and z blocks together (B, 2H): both are sigmoids of a full sum
    blocks: np.ndarray  # all three as (B, 3, H)

    def __repr__(self) -> str:
        return f"GRUGates(r, z, n: each {self.r.shape}, fused {self.all.shape})"


def split_gru(fused: np.ndarray) -> GRUGates:
    """Views of the blocks r | z | n along the last axis (works for (..., 3H) too)."""
    H = fused.shape[-1] // 3
    blocks = fused.reshape(*fused.shape[:-1], 3, H)
    return GRUGates(
        fused, blocks[..., 0, :], blocks[..., 1, :], blocks[..., 2, :], fused[..., : 2 * H], blocks
    )


class GRUStep(NamedTuple):
    """Everything one GRU step computed for a batch of B rows (an immutable, named record)."""

    x: np.ndarray  # x_t: (B, D) dense input, or (B,) vocabulary ids of a one-hot input
    h_prev: np.ndarray  # h_{t-1} (B, H)
    pre: GRUGates  # .r, .z: full pre-activations; .n: a_n, what enters tanh in (3)
    gates: GRUGates  # activations: .r = r_t, .z = z_t, .n = n_t (B, H)
    hn: np.ndarray  # W_hn h_{t-1} + b_hn (B, H): what the reset gate scales
    h: np.ndarray  # h_t (B, H)

    r = property(lambda s: s.gates.r)
    z = property(lambda s: s.gates.z)
    n = property(lambda s: s.gates.n)

    def __repr__(self) -> str:
        return f"GRUStep(B={self.h.shape[0]}, H={self.h.shape[-1]}: x, h_prev, pre, gates, hn, h)"

    def unit(self, row: int, unit: int) -> GRUUnitStep:
        """Every scalar of one unit (row: which sequence of the batch), as the page draws it."""
        r, z, n = (float(getattr(self, k)[row, unit]) for k in GATES)
        h_prev, hn = float(self.h_prev[row, unit]), float(self.hn[row, unit])
        h = float(self.h[row, unit])
        return GRUUnitStep(h_prev, r, z, n, hn, r * hn, z * h_prev, (1.0 - z) * n, h)


class GRUUnitStep(NamedTuple):
    """One unit of one GRU step, every scalar the drawing and the equations show."""

    h_prev: float
    r: float
    z: float
    n: float
    hn: float  # W_hn h_{t-1} + b_hn: the recurrent part of the candidate
    reset: float  # r · hn: what of it the reset gate lets into the candidate
    kept: float  # z · h_{t-1}: what the update gate keeps of the old state
    added: float  # (1 - z) · n: what it lets in of the candidate
    h: float


def new_gru_step(x: np.ndarray, h_prev: np.ndarray) -> GRUStep:
    """An empty record for one step, its arrays carved out of one fresh allocation."""
    B, H = h_prev.shape
    buf = np.empty(8 * B * H, h_prev.dtype)  # a | gates | hn | h, each contiguous
    a, s = buf[: 3 * B * H].reshape(B, 3 * H), buf[3 * B * H : 6 * B * H].reshape(B, 3 * H)
    hn, h = buf[6 * B * H :].reshape(2, B, H)
    return GRUStep(x, h_prev, split_gru(a), split_gru(s), hn, h)


def input_bias(b: np.ndarray) -> np.ndarray:
    """(3H,) what joins W[·, x_t] before the recurrence: b_ih + (b_hr, b_hz, 0); b = [b_ih | b_hh]."""
    G = b.shape[0] // 2
    out = b[:G].copy()
    out[: 2 * G // 3] += b[G : G + 2 * G // 3]  # b_hr, b_hz add as the LSTM's biases do
    return out


@lru_cache(maxsize=64)
def halves(B: int, G: int, dtype: np.dtype) -> np.ndarray:
    """A read-only (B, G) array of 0.5: σ(a) = ½·tanh(a/2) + ½ on whole contiguous rows."""
    arr = np.full((B, G), 0.5, dtype)
    arr.setflags(write=False)
    return arr


def gru_step_into(
    step: GRUStep,
    W_h: np.ndarray,
    b_hn: np.ndarray,
    scratch: np.ndarray | None = None,
    clamps=(),
    half: np.ndarray | None = None,
) -> GRUStep:
    """Run equations (1)-(4) in place: reads step.h_prev, fills the rest.

    On entry step.pre.all holds the input half W[·, x_t] + b_ih + (b_hr, b_hz, 0). W_h (H, 3H),
    b_hn (H,). scratch: a (B, 3H) array for h_{t-1} W_h. clamps: (column, value) pairs, gates
    held at a value (an intervention). half: `halves(B, 3H, dtype)`. Every NumPy call writes into
    an existing array.
    """
    a, s, h = step.pre, step.gates, step.h
    H = h.shape[-1]
    if half is None:
        half = halves(*a.all.shape, a.all.dtype)
    rec = np.dot(step.h_prev, W_h, scratch)  # h_{t-1} W_h for r | z | n in one matmul
    np.add(a.rz, rec[:, : 2 * H], a.rz)  # the full sums of (1) and (2)
    # σ(a) = ½tanh(a/2) + ½ over whole rows, contiguous and so faster than the r, z blocks
    # alone at small sizes; what it puts in the n block is overwritten below
    np.multiply(a.all, half, s.all)
    np.tanh(s.all, s.all)
    np.multiply(s.all, half, s.all)
    np.add(s.all, half, s.all)
    for column, value in clamps:  # a valve held open or shut (r and z here, n below)
        if column < 2 * H:
            s.all[:, column] = value
    np.add(rec[:, 2 * H :], b_hn, step.hn)  # W_hn h_{t-1} + b_hn
    np.multiply(s.r, step.hn, h)  # r ⊙ (W_hn h + b_hn), h used as scratch          (3)
    np.add(a.n, h, a.n)
    np.tanh(a.n, s.n)
    for column, value in clamps:
        if column >= 2 * H:
            s.all[:, column] = value
    np.subtract(step.h_prev, s.n, h)  # h_t = n + z ⊙ (h_{t-1} - n)                   (4)
    np.multiply(s.z, h, h)
    np.add(h, s.n, h)
    return step


def gru_step(x: np.ndarray, h_prev: np.ndarray, W: np.ndarray, b: np.ndarray) -> GRUStep:
    """One step from scratch: x (B, D), h_prev (B, H), W (H + D, 3H), b = [b_ih | b_hh] (6H,)."""
    H = h_prev.shape[-1]
    step = new_gru_step(x, h_prev)
    np.add(np.dot(x, W[H:]), input_bias(b), step.pre.all)  # the input half
    return gru_step_into(step, W[:H], b[5 * H :])


def gru_local_derivatives(
    gates: GRUGates,
    h_prev: np.ndarray,
    hn: np.ndarray,
    out: tuple[GRUGates, GRUGates] | None = None,
) -> tuple[GRUGates, GRUGates]:
    """(local_in, local_h): how far a change in each block moves h_t (the docstring's table),
    for one step (B, ·) or a whole trace (T, B, ·) at once.

    local_in blocks r | z | n: ∂h_t/∂a_r, ∂h_t/∂a_z, ∂h_t/∂a_n (the input side's da = dh ⊙ them);
    local_h: the same but ∂h_t/∂hn in the n block (the recurrent side's). out: arrays to fill.
    """
    if out is None:
        out = split_gru(np.empty_like(gates.all)), split_gru(np.empty_like(gates.all))
    li, lh = out
    r, z, n = gates.r, gates.z, gates.n
    np.multiply(n, n, li.n)  # tanh' = 1 - n²
    np.subtract(1.0, li.n, li.n)
    np.subtract(1.0, z, lh.n)  # (1 - z), lh.n as scratch
    np.multiply(li.n, lh.n, li.n)  # ∂h/∂a_n = (1 - z)(1 - n²)
    np.multiply(li.n, r, lh.n)  # ∂h/∂hn = ∂h/∂a_n ⊙ r
    np.subtract(1.0, r, li.r)  # σ' = r(1 - r)
    np.multiply(li.r, r, li.r)
    np.multiply(li.r, hn, li.r)
    np.multiply(li.r, li.n, li.r)  # ∂h/∂a_r = ∂h/∂a_n ⊙ hn ⊙ r(1 - r)
    np.subtract(1.0, z, li.z)  # σ' = z(1 - z)
    np.multiply(li.z, z, li.z)
    np.subtract(h_prev, n, lh.z)  # (h_{t-1} - n), lh.z as scratch
    np.multiply(li.z, lh.z, li.z)  # ∂h/∂a_z = (h_{t-1} - n) ⊙ z(1 - z)
    np.copyto(lh.rz, li.rz)  # r and z act on both sides alike
    return li, lh


def gru_step_backward(
    step: GRUStep,
    dh: np.ndarray,
    W_hT: np.ndarray,
    da: GRUGates | None = None,
    da_h: GRUGates | None = None,
    local: tuple[GRUGates, GRUGates] | None = None,
) -> tuple[GRUGates, GRUGates, np.ndarray]:
    """Backpropagate one step through the record its forward pass filled.

    dh: dL/dh_t (B, H), everything reaching h_t (from the output above and from step t+1).
    W_hT: (3H, H), the recurrent half of W transposed (contiguous).
    da, da_h: where to write dL/da (input side) and dL/d(h_{t-1} W_h + b_hh) (recurrent side),
    else they are allocated. local: `gru_local_derivatives` of this step, if computed already.
    Returns (da, da_h, dL/dh_{t-1}).
    """
    if da is None:
        da = split_gru(np.empty_like(step.gates.all))
    if da_h is None:
        da_h = split_gru(np.empty_like(step.gates.all))
    li, lh = local or gru_local_derivatives(step.gates, step.h_prev, step.hn)
    d3 = dh[:, None, :]  # dL/dh_t, once for each block
    np.multiply(li.blocks, d3, da.blocks)
    np.multiply(lh.blocks, d3, da_h.blocks)
    dh_prev = np.dot(da_h.all, W_hT)  # (B, H): every gate's path back into h_{t-1}
    dh_prev += dh * step.gates.z  # and the direct one, through z ⊙ h_{t-1} in (4)
    return da, da_h, dh_prev


class GRUCell:
    """The GRU as a kind of cell (the shape `cells.CellKind` names)."""

    name, title = "gru", "GRU"
    gates, gate_names = GATES, GATE_NAMES
    width, bias_blocks = 3, 2
    # whole-sequence local derivatives: training steps at T=60, B=32 (two threads), measured
    # in turns with the per-step path: 11-14% faster at H=32 and 64, 2-4% at 128, equal at 256
    whole_limit = 1 << 20
    state = ("h",)
    torch_class, torch_gates = "GRU", GATES
    keeps = "z"  # the update gate: open, h_t keeps h_{t-1}
    # what the page "Inside one step" reads (lstm_core/explain.py)
    squash, scaled_by = SQUASH, SCALED_BY
    tex, tex_state = TEX, TEX_STATE
    vectors = ("r", "z", "n", "h")  # a step's vectors, drawn side by side
    memory = "h"  # no separate belt: h itself carries the memory, z is its valve
    belt_rows = ("h", "z", "write", "n", "r")  # h, the valve, what it lets in: (1 - z) ⊙ n

    def __repr__(self) -> str:
        return "GRUCell()"

    def init(self, W, b, rng, forget_bias=0.0) -> None:
        bound = 1.0 / np.sqrt(W.shape[1] // 3)
        W[...] = rng.uniform(-bound, bound, W.shape)
        b[...] = rng.uniform(-bound, bound, b.shape)  # b_ih and b_hh, each its own draw

    def input_bias(self, b: np.ndarray) -> np.ndarray:
        return input_bias(b)

    def allocate(self, tr) -> None:
        T, B, G = tr.pre.shape
        tr.gates = buffers.empty((T, B, G), tr.pre.dtype)
        tr.hn = buffers.empty((T, B, G // 3), tr.pre.dtype)
        tr.steps = [
            GRUStep(
                tr.x[t],
                tr.h[t],
                split_gru(tr.pre[t]),
                split_gru(tr.gates[t]),
                tr.hn[t],
                tr.h[t + 1],
            )
            for t in range(T)
        ]

    def training_floats(self, T: int, B: int, H: int) -> int:
        n, G = T * B, 3 * H
        floats = 4 * n * G + 2 * n * H + B * H  # pre, gates, dL/da, its recurrent half; hn, h
        # the local derivatives, on either side of b_hn: every step's, or one step's at a time
        return floats + 2 * G * (n if n * G <= self.whole_limit else B)

    def forward(self, trace, W_h, b, c0, clamps, scratch) -> None:
        b_hn, half = b[-trace.hidden_size :], halves(*scratch.shape, scratch.dtype)
        for step, active in zip(trace.steps, clamps, strict=True):
            gru_step_into(step, W_h, b_hn, scratch, active, half)

    def backward(self, trace, dh_out, W_hT, dh_next, dc_next, dh_all, dc_all, whole) -> tuple:
        steps, dh_outs = trace.steps, list(dh_out)
        das = trace.derived("da/gru", lambda: [split_gru(d) for d in trace.grad_buffer()])
        da_h = self.recurrent_da(trace, None)
        dahs = trace.derived("da_h/gru", lambda: [split_gru(d) for d in da_h])
        if whole:  # a small problem: every step's local derivatives in a few NumPy calls
            li, lh = (split_gru(trace.buffer(k, trace.pre.shape)) for k in ("local_in", "local_h"))
            gates = trace.derived("local_in/gates", lambda: split_gru(trace.gates))
            gru_local_derivatives(gates, trace.h[:-1], trace.hn, (li, lh))
            locals_ = trace.derived(
                "local_in/steps",
                lambda: [(split_gru(a), split_gru(b)) for a, b in zip(li.all, lh.all, strict=True)],
            )
        B, G = trace.pre.shape[1:]
        out = tuple(split_gru(trace.buffer(k, (B, G))) for k in ("step_local_in", "step_local_h"))
        for t in range(len(steps) - 1, -1, -1):
            dh = dh_outs[t] + dh_next  # dL/dh_t: from above at t, and from step t + 1
            step = steps[t]
            local = (
                locals_[t]
                if whole
                else gru_local_derivatives(step.gates, step.h_prev, step.hn, out)
            )
            _, _, dh_next = gru_step_backward(step, dh, W_hT, das[t], dahs[t], local)
            if dh_all is not None:
                dh_all[t + 1] = dh
        return dh_next, None

    def step_backward(self, step: GRUStep, dh, dc, W_hT) -> tuple:
        n, G = dh.shape[0], step.gates.all.shape[-1]
        da, da_h = (split_gru(np.empty((n, G), dh.dtype)) for _ in range(2))
        return gru_step_backward(step, dh, W_hT, da, da_h)[2], None, None

    def recurrent_da(self, trace, da) -> np.ndarray:
        return trace.buffer("da_h", trace.pre.shape)

    def step(self, x, a_in, h_prev, c_prev, W_h, b, scratch) -> GRUStep:
        rec = new_gru_step(x, h_prev)
        np.copyto(rec.pre.all, a_in)
        return gru_step_into(rec, W_h, b[-h_prev.shape[-1] :], scratch)

    def state_of(self, record: GRUStep) -> tuple[np.ndarray, None]:
        return record.h, None

    def belt(self, trace) -> tuple[np.ndarray, ...]:
        z, n = trace.gate("z"), trace.gate("n")
        return trace.h[:-1], z, (1.0 - z) * n, trace.h[1:]


GRU = GRUCell()
