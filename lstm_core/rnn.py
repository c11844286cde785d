"""The vanilla tanh RNN: the echo notebook's model and the LSTM's foil.

    h_t = tanh(W [h_{t-1}, x_t] + b)

Same layout and the same interface as `cell.py`: W is (H + D, H) with rows [h_{t-1}; x_t], one
step fills a named record (`RNNStep`) and the backward step reads that record. There is no belt:
the only path from h_{t-1} to h_t goes through W_h and tanh, which is why gradients over long
distances shrink (or blow up) as a product of those Jacobians.

As a kind of cell (`RNN` at the end, registered in cells.py): state h alone, no gates;
PyTorch's tanh `torch.nn.RNN`, weights `rnn.weight_ih_l{k}` (H, D), `rnn.weight_hh_l{k}` (H, H);
its two biases act alike, so one b = b_ih + b_hh is kept. Initialisation as PyTorch's: weights
and both biases uniform in ±1/√H.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

GATE_NAMES: dict[str, str] = {}
# The equation in TeX, for the page "Inside one step": no gates, one state (symbol, formula, the
# same with the step's numbers, <name> a field of `RNNUnitStep`, and its field)
TEX_STATE = (("h_t", r"\tanh(W[h_{t-1}, x_t] + b)", r"\tanh(<pre>)", "h"),)


class RNNStep(NamedTuple):
    """Everything one RNN step computed for a batch of B rows."""

    x: np.ndarray  # x_t: (B, D) dense input, or (B,) vocabulary ids for a one-hot input
    h_prev: np.ndarray  # h_{t-1} (B, H)
    pre: np.ndarray  # pre-activation W[h_{t-1}, x_t] + b (B, H)
    h: np.ndarray  # h_t = tanh(a) (B, H)

    def __repr__(self) -> str:
        return f"RNNStep(B={self.h.shape[0]}, H={self.h.shape[-1]}: x, h_prev, pre, h)"

    def unit(self, row: int, unit: int) -> RNNUnitStep:
        """Every scalar of one unit (row: which sequence of the batch)."""
        return RNNUnitStep(*(float(a[row, unit]) for a in (self.h_prev, self.pre, self.h)))


class RNNUnitStep(NamedTuple):
    """One unit of one RNN step."""

    h_prev: float
    pre: float  # W[h_{t-1}, x_t] + b
    h: float


def new_rnn_step(x: np.ndarray, h_prev: np.ndarray) -> RNNStep:
    """An empty record for one step with its own freshly allocated arrays."""
    return RNNStep(x=x, h_prev=h_prev, pre=np.empty_like(h_prev), h=np.empty_like(h_prev))


def rnn_step_into(step: RNNStep, W_h: np.ndarray, scratch: np.ndarray | None = None) -> RNNStep:
    """h_t = tanh(W_h h_{t-1} + W[·, x_t] + b) in place; step.pre holds the input half on entry."""
    np.add(step.pre, np.dot(step.h_prev, W_h, scratch), step.pre)
    np.tanh(step.pre, step.h)
    return step


def rnn_step(x: np.ndarray, h_prev: np.ndarray, W: np.ndarray, b: np.ndarray) -> RNNStep:
    """One step from scratch: x (B, D), h_prev (B, H), W (H + D, H), b (H,)."""
    H = h_prev.shape[-1]
    step = new_rnn_step(x, h_prev)
    np.add(np.dot(x, W[H:]), b, step.pre)
    return rnn_step_into(step, W[:H])


def rnn_step_backward(
    step: RNNStep, dh: np.ndarray, W_hT: np.ndarray, da: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """dh = dL/dh_t (B, H) -> (da, dh_prev): da = dL/da_t, dh_prev = dL/dh_{t-1} via this step.

    W_hT: (H, H) the recurrent half of W, transposed.
    """
    if da is None:
        da = np.empty_like(step.pre)
    np.multiply(step.h, step.h, da)  # tanh' = 1 - h²
    np.subtract(1.0, da, da)
    np.multiply(da, dh, da)
    return da, np.dot(da, W_hT)


class RNNCell:
    """The tanh RNN as a kind of cell (the shape `cells.CellKind` names)."""

    name, title = "rnn", "RNN"
    gates, gate_names = (), GATE_NAMES  # no gates
    width, bias_blocks = 1, 1
    whole_limit = 0  # a tanh has no local derivatives worth precomputing: `whole` is unused
    state = ("h",)
    torch_class, torch_gates = "RNN", ()
    keeps = None  # no gate: every step rewrites h
    # what the page "Inside one step" reads (lstm_core/explain.py): nothing to take apart
    squash = scaled_by = tex = GATE_NAMES  # all empty: no gates
    tex_state = TEX_STATE
    vectors = ("h",)
    memory = "h"  # rewritten at every step: nothing keeps it
    belt_rows = ("h",)

    def __repr__(self) -> str:
        return "RNNCell()"

    def init(self, W, b, rng, forget_bias=0.0) -> None:
        bound = 1.0 / np.sqrt(W.shape[1])
        W[...] = rng.uniform(-bound, bound, W.shape)
        b[...] = rng.uniform(-bound, bound, b.shape)  # b_ih
        b += rng.uniform(-bound, bound, b.shape).astype(b.dtype)  # + b_hh: a second draw

    def input_bias(self, b: np.ndarray) -> np.ndarray:
        return b

    def allocate(self, tr) -> None:
        tr.steps = [RNNStep(tr.x[t], tr.h[t], tr.pre[t], tr.h[t + 1]) for t in range(tr.T)]

    def training_floats(self, T: int, B: int, H: int) -> int:
        return 3 * T * B * H + B * H  # pre, dL/da, h

    def forward(self, trace, W_h, b, c0, clamps, scratch) -> None:
        for step in trace.steps:  # no gates: nothing to clamp
            rnn_step_into(step, W_h, scratch)

    def backward(self, trace, dh_out, W_hT, dh_next, dc_next, dh_all, dc_all, whole) -> tuple:
        steps, das, dh_outs = (
            trace.steps,
            trace.derived("da/steps", lambda: list(trace.grad_buffer())),
            list(dh_out),
        )
        for t in range(len(steps) - 1, -1, -1):
            dh = dh_outs[t] + dh_next  # dL/dh_t: from above at t, and from step t + 1
            _, dh_next = rnn_step_backward(steps[t], dh, W_hT, das[t])
            if dh_all is not None:
                dh_all[t + 1] = dh
        return dh_next, None

    def step_backward(self, step: RNNStep, dh, dc, W_hT) -> tuple:
        return rnn_step_backward(step, dh, W_hT, np.empty_like(dh))[1], None, None

    def recurrent_da(self, trace, da: np.ndarray) -> np.ndarray:
        return da

    def step(self, x, a_in, h_prev, c_prev, W_h, b, scratch) -> RNNStep:
        rec = new_rnn_step(x, h_prev)
        np.copyto(rec.pre, a_in)
        return rnn_step_into(rec, W_h, scratch)

    def state_of(self, record: RNNStep) -> tuple[np.ndarray, None]:
        return record.h, None

    def belt(self, trace) -> tuple[np.ndarray, ...]:
        raise ValueError("a plain RNN has no gate that keeps its state: it has no belt")


RNN = RNNCell()
