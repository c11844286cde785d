"""One LSTM step, in the notation of the paper (the cell of Colah's essay).

    f_t  = σ(W_f [h_{t-1}, x_t] + b_f)        (1)  forget gate: how much of c_{t-1} survives
    i_t  = σ(W_i [h_{t-1}, x_t] + b_i)        (2)  input gate: how much of the candidate enters
    c~_t = tanh(W_c [h_{t-1}, x_t] + b_c)     (3)  candidate values (called g in the code)
    o_t  = σ(W_o [h_{t-1}, x_t] + b_o)        (4)  output gate: how much of the belt is shown
    c_t  = f_t ⊙ c_{t-1} + i_t ⊙ c~_t         (5)  the cell state: the conveyor belt
    h_t  = o_t ⊙ tanh(c_t)                    (6)  the hidden state, the cell's output

Layout. The four gate matrices are fused into one W of shape (H + D, 4H). Its rows follow the
paper's concatenation [h_{t-1}, x_t] (the first H rows act on h, the last D on x) and its columns
are the blocks f | i | c~ | o, so one matmul computes all four pre-activations. Rows of x and h
are the batch: x (B, D), h and c (B, H). A fused (B, 4H) array travels with views of its four
blocks (`Gates`), so nothing re-slices it in the inner loop.

A step fills an `LSTMStep`: a named, immutable record of every intermediate, pre-activations
included. The pages draw from it and `lstm_step_backward` reads exactly the same record.
Left out on purpose: peepholes, projections, layer norm. `sequence.py` runs steps over time.

As a kind of cell (`LSTM` at the end, registered in cells.py): state h and c; PyTorch's
`torch.nn.LSTM`, whose weights `lstm.weight_ih_l{k}` (4H, D) and `lstm.weight_hh_l{k}` (4H, H)
order the blocks i | f | g | o; its two biases act alike, so one b = b_ih + b_hh is kept.
Initialisation as PyTorch's: every weight and both biases uniform in ±1/√H (so b, their sum,
lies in ±2/√H); forget_bias, if given, is added to b_f (a positive value opens the belt).

In the two step functions every NumPy call writes into an existing array, passed as the third
(positional) argument, `np.multiply(x, y, out)`: no allocation, and at the echo task's tiny sizes
the call overhead is most of the cost.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from . import buffers

GATES = ("f", "i", "g", "o")  # column blocks of the fused matrix, in this order
GATE_NAMES = {"f": "forget", "i": "input", "g": "candidate", "o": "output"}
# Equations (1)-(6) in TeX, as the page "Inside one step" writes them (the paper's names: W_c
# and b_c for the candidate c~, g in the code). A gate: its symbol and its formula. A state:
# symbol, formula, the same with the step's numbers (<name>: a field of `UnitStep`), its field.
SQUASH = {"f": "sigmoid", "i": "sigmoid", "g": "tanh", "o": "sigmoid"}  # how each gate squashes
SCALED_BY: dict[str, str] = {}  # no gate scales another's recurrent part
TEX = {
    "f": ("f_t", r"\sigma(W_{f}[h_{t-1}, x_t] + b_{f})"),
    "i": ("i_t", r"\sigma(W_{i}[h_{t-1}, x_t] + b_{i})"),
    "g": (r"\tilde{c}_t", r"\tanh(W_{c}[h_{t-1}, x_t] + b_{c})"),
    "o": ("o_t", r"\sigma(W_{o}[h_{t-1}, x_t] + b_{o})"),
}
TEX_STATE = (
    (
        "c_t",
        r"f_t \odot c_{t-1} + i_t \odot \tilde{c}_t",
        r"<f> \cdot (<c_prev>) + <i> \cdot (<g>)",
        "c",
    ),
    ("h_t", r"o_t \odot \tanh(c_t)", r"<o> \cdot \tanh(<c>)", "h"),
)


class Gates(NamedTuple):
    """A fused (B, 4H) array and views of its blocks."""

    all: np.ndarray  # (B, 4H)
    f: np.ndarray  # (B, H) each
    i: np.ndarray
    g: np.ndarray
    o: np.ndarray
    fig: np.ndarray  # the f, i, g blocks together as (B, 3, H)

    def __repr__(self) -> str:
        return f"Gates(f, i, c~, o: each {self.f.shape}, fused {self.all.shape})"


def split_gates(fused: np.ndarray) -> Gates:
    """Views of the blocks f | i | c~ | o along the last axis (works for (..., 4H) too)."""
    H = fused.shape[-1] // 4
    fig = fused[..., : 3 * H].reshape(*fused.shape[:-1], 3, H)
    return Gates(fused, fig[..., 0, :], fig[..., 1, :], fig[..., 2, :], fused[..., 3 * H :], fig)


class LSTMStep(NamedTuple):
    """Everything one LSTM step computed for a batch of B rows (an immutable, named record)."""

    x: np.ndarray  # x_t: (B, D) dense input, or (B,) vocabulary ids of a one-hot input
    h_prev: np.ndarray  # h_{t-1} (B, H)
    c_prev: np.ndarray  # c_{t-1} (B, H)
    pre: Gates  # pre-activations W[h_{t-1}, x_t] + b: .all (B, 4H), .f .i .g .o (B, H)
    gates: Gates  # activations: .f = f_t, .i = i_t, .g = c~_t, .o = o_t (B, H)
    c: np.ndarray  # c_t (B, H)
    tanh_c: np.ndarray  # tanh(c_t) (B, H)
    h: np.ndarray  # h_t (B, H)

    f = property(lambda s: s.gates.f)
    i = property(lambda s: s.gates.i)
    g = property(lambda s: s.gates.g)
    o = property(lambda s: s.gates.o)

    def __repr__(self) -> str:
        return f"LSTMStep(B={self.h.shape[0]}, H={self.h.shape[-1]}: x, h_prev, c_prev, pre, gates, c, tanh_c, h)"

    def unit(self, row: int, unit: int) -> UnitStep:
        """Every scalar of one unit (row: which sequence of the batch), as the page draws it."""
        f, i, g, o = (float(getattr(self, k)[row, unit]) for k in GATES)
        c_prev = float(self.c_prev[row, unit])
        c, tanh_c, h = (float(a[row, unit]) for a in (self.c, self.tanh_c, self.h))
        return UnitStep(
            float(self.h_prev[row, unit]), c_prev, f, i, g, o, f * c_prev, i * g, c, tanh_c, h
        )


class UnitStep(NamedTuple):
    """One unit of one LSTM step, every scalar the cell diagram and the equations show."""

    h_prev: float
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


class LSTMStepGradients(NamedTuple):
    """What one backward step hands on (all (B, ·))."""

    da: Gates  # dL/d(pre-activations), blocks f|i|g|o
    dh_prev: np.ndarray  # dL/dh_{t-1} through this step
    dc_prev: np.ndarray  # dL/dc_{t-1} through this step (the belt: dc_t ⊙ f_t)
    dc: np.ndarray  # dL/dc_t in full


class Clamp(NamedTuple):
    """An intervention: hold one gate of one unit at a value from step `start` on (forward only)."""

    gate: str  # 'f', 'i', 'g' or 'o'
    unit: int
    value: float
    start: int = 0
    layer: int = 0


def new_lstm_step(x: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray) -> LSTMStep:
    """An empty record for one step, its arrays carved out of one fresh allocation."""
    B, H = h_prev.shape
    buf = np.empty(11 * B * H, h_prev.dtype)  # a | gates | c | tanh c | h, each contiguous
    a, s = buf[: 4 * B * H].reshape(B, 4 * H), buf[4 * B * H : 8 * B * H].reshape(B, 4 * H)
    c, tc, h = buf[8 * B * H :].reshape(3, B, H)
    return LSTMStep(x, h_prev, c_prev, split_gates(a), split_gates(s), c, tc, h)


@lru_cache(maxsize=64)
def activation_constants(B: int, H: int, dtype: np.dtype) -> tuple[np.ndarray, ...]:
    """Per-column constants, full (B, 4H) so every operation runs on contiguous arrays.

    Forward:  gates = k ⊙ tanh(k ⊙ a) + shift, because σ(a) = ½·tanh(a/2) + ½ on the f, i, o
              blocks and the c~ block is a plain tanh (k 1, shift 0): one tanh for all four.
    Backward: gates' = (lin - gates) ⊙ gates + const, because σ' = s(1 - s) (lin 1, const 0)
              and tanh' = 1 - c~² (lin 0, const 1).
    """
    sigmoid = np.ones(4 * H, bool)
    sigmoid[2 * H : 3 * H] = False  # the candidate block

    def full(on_sigmoid: float, on_candidate: float) -> np.ndarray:
        row = np.where(sigmoid, on_sigmoid, on_candidate).astype(dtype)
        arr = np.ascontiguousarray(np.broadcast_to(row, (B, 4 * H)))
        arr.setflags(write=False)
        return arr

    return full(0.5, 1.0), full(0.5, 0.0), full(1.0, 0.0), full(0.0, 1.0)


def lstm_step_into(
    step: LSTMStep, W_h: np.ndarray, scratch: np.ndarray | None = None, consts=None, clamps=()
) -> LSTMStep:
    """Run equations (1)-(6) in place: reads step.h_prev and step.c_prev, fills the rest.

    On entry step.pre.all holds the input half of the pre-activations, W[·, x_t] + b: the caller
    computes it before the recurrence (one matmul for every step of a dense input, a row of W for
    a one-hot one). The step adds the recurrent half W[h_{t-1}, ·] = h_{t-1} W_h, W_h (H, 4H).
    scratch: a (B, 4H) array for that product.  consts: `activation_constants(B, H, dtype)`.
    clamps: (column, value) pairs, gates held at a value (an intervention).
    """
    a, s = step.pre.all, step.gates.all
    k, shift, _, _ = consts or activation_constants(*step.h.shape, a.dtype)
    np.add(a, np.dot(step.h_prev, W_h, scratch), a)  # all four gates in one matmul  (1)-(4)
    np.multiply(a, k, s)  # σ(a) = ½tanh(a/2) + ½: one tanh serves all four blocks
    np.tanh(s, s)
    np.multiply(s, k, s)
    np.add(s, shift, s)
    for column, value in clamps:  # a valve held open or shut
        s[:, column] = value
    f, i, g, o = step.gates[1:5]
    np.multiply(f, step.c_prev, step.c)  # what survives of the old belt           (5)
    np.multiply(i, g, step.h)  # what the input gate lets on (h used as scratch)
    np.add(step.c, step.h, step.c)
    np.tanh(step.c, step.tanh_c)
    np.multiply(o, step.tanh_c, step.h)  # what the output gate shows of the belt   (6)
    return step


def lstm_step(
    x: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray, W: np.ndarray, b: np.ndarray
) -> LSTMStep:
    """One step from scratch: x (B, D), h_prev and c_prev (B, H), W (H + D, 4H), b (4H,)."""
    H = h_prev.shape[-1]
    step = new_lstm_step(x, h_prev, c_prev)
    np.add(np.dot(x, W[H:]), b, step.pre.all)  # the input half W[·, x_t] + b
    return lstm_step_into(step, W[:H])


def lstm_local_derivatives(
    gates: Gates,
    c_prev: np.ndarray,
    tanh_c: np.ndarray,
    out: tuple[Gates, np.ndarray] | None = None,
) -> tuple[Gates, np.ndarray]:
    """What a backward step multiplies the incoming gradient by: everything that does not
    depend on that gradient, so it can be computed for many steps at once.

    local (…, 4H), per block, how far a change in the pre-activation moves c_t or h_t:
        f:  ∂c_t/∂a_f = c_{t-1} ⊙ f(1 - f)      (5), through σ
        i:  ∂c_t/∂a_i = c~ ⊙ i(1 - i)
        c~: ∂c_t/∂a_c = i ⊙ (1 - c~²)           (5), through tanh
        o:  ∂h_t/∂a_o = tanh(c_t) ⊙ o(1 - o)    (6), through σ
    belt (…, H): ∂h_t/∂c_t = o ⊙ (1 - tanh²(c_t))   (6)
    gates: the activations as `Gates` of one step (B, ·) or of a whole trace (T, B, ·).
    out: (local, belt) arrays to fill, else they are allocated.
    """
    s = gates.all
    B, G = s.shape[-2:]
    _, _, lin, const = activation_constants(B, G // 4, s.dtype)
    if out is None:
        out = split_gates(np.empty_like(s)), np.empty_like(tanh_c)
    local, belt = out
    np.subtract(lin, s, local.all)  # σ' = s(1 - s) and tanh' = 1 - c~²: (lin - s)·s + const
    np.multiply(local.all, s, local.all)
    np.add(local.all, const, local.all)
    np.multiply(local.f, c_prev, local.f)
    np.multiply(local.i, gates.g, local.i)
    np.multiply(local.g, gates.i, local.g)
    np.multiply(local.o, tanh_c, local.o)
    np.multiply(tanh_c, tanh_c, belt)
    np.subtract(1.0, belt, belt)
    np.multiply(belt, gates.o, belt)
    return local, belt


def lstm_step_backward(
    step: LSTMStep,
    dh: np.ndarray,
    dc: np.ndarray,
    W_hT: np.ndarray,
    da: Gates | None = None,
    local: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    work: Gates | None = None,
) -> LSTMStepGradients:
    """Backpropagate one step through the record its forward pass filled.

    dh: dL/dh_t (B, H), everything reaching h_t (from the output above and from step t+1).
    dc: dL/dc_t (B, H) arriving along the belt from step t+1.
    W_hT: (4H, H), the recurrent half of W transposed (a contiguous copy multiplies faster).
    da: where to write dL/d(pre-activations) (a `Gates`), else it is allocated.
    local: (local.fig, local.o, belt) of `lstm_local_derivatives` for this step, when the caller
    computed them for many steps at once (fewer NumPy calls for small problems). Without them
    the step applies the chain rule itself, which is faster when each array is large.
    work: a (B, 4H) `Gates` the chain rule may use for its factors, else one is allocated.
    The caller turns da into weight gradients: dL/dW = [h_{t-1}, x_t]^T da, dL/db = Σ_rows da.
    """
    if da is None:
        da = split_gates(np.empty_like(step.gates.all))
    if local is None:  # on its own: chain rule through (6) and (5), then through σ and tanh
        _, _, i, g, o, _ = step.gates
        _, _, lin, const = activation_constants(*dh.shape, dh.dtype)
        # σ' = s(1 - s), tanh' = 1 - c~² (1)-(4) first, into da: the step's gates and its da
        # are first touched whole rows at a time, not one block of each row. In a trace too
        # large for the cache a block is a quarter of each row, short runs the hardware's
        # prefetcher barely follows: written first, a block took 10-11 µs at H=256 against 1.3
        # in cache. Whole steps at H=256: 4% faster on two threads, 2-3% on one
        np.subtract(lin, step.gates.all, da.all)
        np.multiply(da.all, step.gates.all, da.all)
        np.add(da.all, const, da.all)
        work = split_gates(np.empty_like(da.all)) if work is None else work
        np.multiply(dh, step.tanh_c, work.o)  # ∂h/∂o = tanh(c)                          (6)
        dc_t = np.multiply(step.tanh_c, step.tanh_c)  # ∂h/∂c = o ⊙ (1 - tanh²(c))      (6)
        np.subtract(1.0, dc_t, dc_t)
        np.multiply(dc_t, o, dc_t)
        np.multiply(dc_t, dh, dc_t)
        np.add(dc_t, dc, dc_t)  # dL/dc_t in full: through h_t, plus along the belt
        np.multiply(dc_t, step.c_prev, work.f)  # ∂c/∂f = c_{t-1}                        (5)
        np.multiply(dc_t, g, work.i)  # ∂c/∂i = c~
        np.multiply(dc_t, i, work.g)  # ∂c/∂c~ = i
        np.multiply(da.all, work.all, da.all)
    else:  # the same chain with everything not involving dh and dc precomputed
        local_fig, local_o, belt = local
        np.multiply(dh, local_o, da.o)  # ∂L/∂a_o                                     (6), (4)
        dc_t = np.multiply(dh, belt)  # through h_t into the belt
        np.add(dc_t, dc, dc_t)  # dL/dc_t in full: through h_t, plus along the belt
        np.multiply(local_fig, dc_t[:, None, :], da.fig)  # ∂L/∂a_f, a_i, a_c~  (5), (1)-(3)
    dh_prev = np.dot(da.all, W_hT)  # (B, H): every gate's path back into h_{t-1}
    return LSTMStepGradients(da, dh_prev, dc_t * step.gates.f, dc_t)  # the belt: scaled by f


class LSTMCell:
    """The LSTM as a kind of cell (the shape `cells.CellKind` names)."""

    name, title = "lstm", "LSTM"
    gates, gate_names = GATES, GATE_NAMES
    width, bias_blocks = 4, 1
    # whole-sequence local derivatives: training steps at T=60, B=32 (two threads), measured
    # in turns with the per-step path: 3-4% faster at H=32, 3% at H=64, 4% slower at H=128
    whole_limit = 1 << 19
    state = ("h", "c")
    torch_class, torch_gates = "LSTM", ("i", "f", "g", "o")
    keeps = "f"  # the forget gate: open, the belt keeps c_{t-1}
    # what the page "Inside one step" reads (lstm_core/explain.py)
    squash, scaled_by = SQUASH, SCALED_BY
    tex = TEX
    tex_state = TEX_STATE
    vectors = ("f", "i", "g", "o", "c", "h")  # a step's vectors, drawn side by side
    memory = "c"  # the belt: a state of its own beside h
    belt_rows = ("c", "f", "i", "g", "o", "h")  # the belt, its valves and c~, what o lets out

    def __repr__(self) -> str:
        return "LSTMCell()"

    def init(self, W, b, rng, forget_bias=0.0) -> None:
        bound = 1.0 / np.sqrt(W.shape[1] // 4)
        W[...] = rng.uniform(-bound, bound, W.shape)
        b[...] = rng.uniform(-bound, bound, b.shape)  # b_ih
        b += rng.uniform(-bound, bound, b.shape).astype(b.dtype)  # + b_hh: a second draw
        if forget_bias:
            b[: W.shape[1] // 4] += forget_bias  # blocks f|i|g|o: the forget block

    def input_bias(self, b: np.ndarray) -> np.ndarray:
        return b

    def allocate(self, tr) -> None:
        T, B, G = tr.pre.shape
        # in training the gates take the pre-activations' place (lstm_step_into works in place):
        # 7.9 MB less to write and read back at H=256, T=60, B=32
        tr.gates = buffers.empty((T, B, G), tr.pre.dtype) if tr.keep_pre else tr.pre
        tr.c = buffers.empty((T + 1, B, G // 4), tr.pre.dtype)
        tr.tanh_c = buffers.empty((T, B, G // 4), tr.pre.dtype)
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

    def training_floats(self, T: int, B: int, H: int) -> int:
        n, G = T * B, 4 * H
        floats = 2 * n * G + 3 * n * H + 2 * B * H  # pre (= gates), dL/da; h, c, tanh c
        if n * G <= self.whole_limit:
            return floats + n * (G + H)  # every step's local derivatives and belt derivative
        return floats + B * G  # one step's factors of the chain rule

    def forward(self, trace, W_h, b, c0, clamps, scratch) -> None:
        trace.c[0] = 0.0 if c0 is None else c0
        consts = activation_constants(*trace.h.shape[1:], W_h.dtype)
        for step, active in zip(trace.steps, clamps, strict=True):
            lstm_step_into(step, W_h, scratch, consts, active)

    def backward(self, trace, dh_out, W_hT, dh_next, dc_next, dh_all, dc_all, whole) -> tuple:
        steps, dh_outs = trace.steps, list(dh_out)
        das = trace.derived("da/gates", lambda: [split_gates(d) for d in trace.grad_buffer()])
        # a small problem: every step's local derivatives in a few NumPy calls instead of T times
        # as many; a large one does them step by step, while each step's data is in cache
        local = _whole_local_derivatives(trace) if whole else [None] * len(steps)
        work = None if whole else split_gates(trace.buffer("work", trace.pre.shape[1:]))
        for t in range(len(steps) - 1, -1, -1):
            dh = dh_outs[t] + dh_next  # dL/dh_t: from above at t, and from step t + 1
            _, dh_next, dc_next, dc = lstm_step_backward(
                steps[t], dh, dc_next, W_hT, das[t], local[t], work
            )
            if dh_all is not None:
                dh_all[t + 1], dc_all[t + 1] = dh, dc
        return dh_next, dc_next

    def step_backward(self, step: LSTMStep, dh, dc, W_hT) -> tuple:
        local, belt = lstm_local_derivatives(step.gates, step.c_prev, step.tanh_c)
        da = split_gates(np.empty((dh.shape[0], step.gates.all.shape[-1]), dh.dtype))
        g = lstm_step_backward(step, dh, dc, W_hT, da, (local.fig, local.o, belt))
        return g.dh_prev, g.dc_prev, g.dc

    def recurrent_da(self, trace, da: np.ndarray) -> np.ndarray:
        return da

    def step(self, x, a_in, h_prev, c_prev, W_h, b, scratch) -> LSTMStep:
        rec = new_lstm_step(x, h_prev, c_prev)
        np.copyto(rec.pre.all, a_in)
        return lstm_step_into(rec, W_h, scratch)

    def state_of(self, record: LSTMStep) -> tuple[np.ndarray, np.ndarray]:
        return record.h, record.c

    def belt(self, trace) -> tuple[np.ndarray, ...]:
        f, i, g = (trace.gate(k) for k in ("f", "i", "g"))
        return trace.c[:-1], f, i * g, trace.c[1:]

    def output(self, trace, t: int, c: np.ndarray) -> np.ndarray:
        """h_t for a belt c_t given from outside, with step t's output gate (6)."""
        return trace.gate("o")[t] * np.tanh(c)


def _whole_local_derivatives(trace) -> list:
    """Per step (local.fig, local.o, belt) of `lstm_local_derivatives`, computed for every step
    at once into buffers the trace keeps (with their per-step views)."""
    local = split_gates(trace.buffer("local", trace.gates.shape))
    belt = trace.buffer("belt", trace.tanh_c.shape)
    gates = trace.derived("local/gates", lambda: split_gates(trace.gates))
    lstm_local_derivatives(gates, trace.c[:-1], trace.tanh_c, (local, belt))
    return trace.derived("local/steps", lambda: list(zip(local.fig, local.o, belt, strict=True)))


LSTM = LSTMCell()
