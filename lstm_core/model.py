"""A stack of 1-3 recurrent layers (LSTM, GRU or RNN) under a linear + softmax head.

One class serves both of the project's models:
  - "char-lm", the paper's case study: one-hot characters in, a distribution over the next
    character out (input_size = output_size = V, the vocabulary size);
  - "echo", the notebook's experiment: one bit in (input_size 1), two classes out.

    layer k:  h^k_t = cell(h^k_{t-1}, x^k_t)       x^0 = the input, x^k = dropout(h^{k-1})
    head:     p_t = softmax(dropout(h^top_t) · W_y + b_y)
    loss:     L = mean over all T·B positions of -log p_t[target_t]   (nats)

Parameters live in one flat vector (float32 for training, float64 for gradient checks) with named
views into it ("W0", "b0", ..., "Wy", "by"), so an optimizer update, a clip or a finiteness check
is a handful of operations on one array, and gradients are written straight into one flat buffer.
Files use PyTorch's names and layout instead (layout.py converts); checkpoint.py reads and
writes a Model (`save_checkpoint(model, path)`, `load_checkpoint`): the file format knows the
model, the model knows nothing of files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np

from . import buffers
from .cell import Clamp
from .cells import NAMES, CellKind, bias_width, cell_kind, gate_width
from .layout import to_state_dict, unflatten
from .sequence import (
    LayerTrace,
    Workspace,
    column_sums,
    input_gradients,
    layer_backward,
    layer_forward,
    ones,
    weight_gradients,
)

KINDS = ("char-lm", "echo")
MAX_LAYERS = 3
MAX_HIDDEN = 4096

_TINY = {"f": np.finfo(np.float32).tiny, "d": np.finfo(np.float64).tiny}
# e^-span above the smallest normal float (float32: 78.6, float64: 637.5), see `softmax`
_SHIFT_SPAN = {k: 0.9 * -float(np.log(tiny)) for k, tiny in _TINY.items()}
_ONE_SHIFT_FROM = 1 << 12  # logits, from which `softmax` may use one shift for the whole array
State = tuple[
    tuple[np.ndarray, "np.ndarray | None"], ...
]  # per layer (h, c), c None without a belt


@dataclass(frozen=True)
class ModelConfig:
    """The shape of a model; everything a checkpoint's meta must say to rebuild it."""

    kind: str  # "char-lm" or "echo"
    cell: str  # a name of cells.py: "lstm", "gru" or "rnn"
    input_size: int  # V for char-lm (one-hot), 1 for echo (the bit as a float)
    hidden_size: int
    num_layers: int = 1
    output_size: int = 2
    vocab: tuple[str, ...] = ()  # char-lm: the sorted characters of the training text
    lowercase: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {self.kind!r}")
        if self.cell not in NAMES:
            raise ValueError(f"cell must be one of {NAMES}, not {self.cell!r}")
        for name, lo, hi in (
            ("input_size", 1, 100_000),
            ("hidden_size", 1, MAX_HIDDEN),
            ("num_layers", 1, MAX_LAYERS),
            ("output_size", 1, 100_000),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise ValueError(f"{name} must be an integer from {lo} to {hi}, not {value!r}")
        if self.kind == "char-lm":
            if len(self.vocab) != self.input_size or self.input_size != self.output_size:
                raise ValueError("a char-lm needs input_size = output_size = len(vocab)")
            if any(not isinstance(ch, str) or len(ch) != 1 for ch in self.vocab):
                raise ValueError("vocab must be a list of single characters")
            if len(set(self.vocab)) != len(self.vocab):
                raise ValueError("vocab has repeated characters")
        elif self.input_size != 1 or self.output_size != 2:
            raise ValueError("an echo model has input_size 1 and output_size 2")

    @property
    def onehot(self) -> bool:
        return self.kind == "char-lm"

    @property
    def cell_kind(self) -> CellKind:
        return cell_kind(self.cell)

    def layer_input_size(self, k: int) -> int:
        return self.input_size if k == 0 else self.hidden_size

    def layout(self) -> list[tuple[str, tuple[int, ...]]]:
        """Internal parameter names and shapes, in the order of the flat vector."""
        H, G = self.hidden_size, gate_width(self.cell, self.hidden_size)
        shapes = []
        for k in range(self.num_layers):
            shapes.append((f"W{k}", (H + self.layer_input_size(k), G)))  # rows [h_{t-1}; x_t]
            shapes.append((f"b{k}", (bias_width(self.cell, H),)))  # G, or 2G: [b_ih | b_hh]
        shapes += [("Wy", (H, self.output_size)), ("by", (self.output_size,))]
        return shapes

    def num_parameters(self) -> int:
        return sum(math.prod(shape) for _, shape in self.layout())


@dataclass
class Trace:
    """Everything a forward pass computed, time-major: layers' records, head logits and probs."""

    layers: list[LayerTrace]
    top: np.ndarray  # (T, B, H) what the head sees: the top layer's h after dropout
    logits: np.ndarray  # (T, B, V)
    probs: np.ndarray  # (T, B, V) softmax(logits)
    masks: list[np.ndarray | None] = field(default_factory=list)  # dropout masks per layer

    @property
    def T(self) -> int:
        return self.logits.shape[0]

    def __repr__(self) -> str:
        T, B, V = self.logits.shape
        H = self.top.shape[-1]
        return f"Trace(T={T}, B={B}, {len(self.layers)} layer(s) of H={H}, V={V}; arrays (T, B, ·))"

    def final_state(self) -> State:
        return tuple(layer.final_state() for layer in self.layers)


class StepResult(NamedTuple):
    """One forward + backward pass."""

    loss: float  # mean cross-entropy, nats
    grads: np.ndarray  # flat, same layout as Model.flat (Model.grad_views names it)
    trace: Trace
    state_grads: State  # dL/d(initial state) per layer: (dh0, dc0)


class Model:
    """Parameters plus the forward and backward passes of a stacked recurrent network."""

    def __init__(self, config: ModelConfig, flat: np.ndarray, meta: dict | None = None) -> None:
        if flat.shape != (config.num_parameters(),):
            raise ValueError(f"expected {config.num_parameters()} parameters, got {flat.shape}")
        self.config = config
        self.meta = dict(meta or {})  # free-form facts saved with the checkpoint (training, task)
        self.flat = flat
        self.history = None  # a WeightHistory of its training, when one was kept (history.py)

    @classmethod
    def create(
        cls,
        config: ModelConfig,
        seed: int | np.random.Generator = 0,
        dtype=np.float32,
        forget_bias: float = 0.0,
    ) -> Model:
        """A fresh model, drawn as PyTorch draws one (`nn.LSTM`, `nn.GRU` or `nn.RNN` + an
        `nn.Linear` head).

        Each layer is drawn by its cell (cells.py): every weight and both of PyTorch's biases
        uniform in ±1/√H. The head's weight and bias are uniform in ±1/√H too (`nn.Linear` with
        fan-in H). A model made here and one made in PyTorch therefore start alike, which is
        what makes quality comparable.
        forget_bias: added to the LSTM's forget-gate bias b_f (0: PyTorch's start). A positive
        value opens the belt from the start, so early gradients travel further back. Other
        cells have no forget gate and ignore it.
        """
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        model = cls(config, buffers.zeros(config.num_parameters(), dtype))
        p, kind = model.p, config.cell_kind
        for k in range(config.num_layers):
            kind.init(p[f"W{k}"], p[f"b{k}"], rng, forget_bias)
        bound = 1.0 / np.sqrt(config.hidden_size)
        for name in ("Wy", "by"):
            p[name][...] = rng.uniform(-bound, bound, p[name].shape)
        return model

    # ------------------------------------------------------------------ parameters
    @property
    def flat(self) -> np.ndarray:
        return self._flat

    @flat.setter
    def flat(self, value: np.ndarray) -> None:
        self._flat = value
        self.p = unflatten(value, self.config)  # named views: p["W0"], p["b0"], ..., p["Wy"]

    @property
    def dtype(self) -> np.dtype:
        return self._flat.dtype

    def __repr__(self) -> str:
        c = self.config
        layers = f"{c.num_layers} layer" + ("s" if c.num_layers > 1 else "")
        return (
            f"Model({c.kind}, {c.cell_kind.title} {c.input_size} -> {c.hidden_size} × {layers} -> "
            f"{c.output_size}, {c.num_parameters():,} parameters, {self.dtype})"
        )

    def copy(self) -> Model:
        return Model(self.config, self._flat.copy(), self.meta)

    def astype(self, dtype) -> Model:
        return Model(self.config, self._flat.astype(dtype), self.meta)

    def with_config(self, **changes) -> Model:
        """Same weights, other non-shape settings (e.g. lowercase)."""
        return Model(replace(self.config, **changes), self._flat.copy(), self.meta)

    def grad_views(self, grads: np.ndarray) -> dict[str, np.ndarray]:
        return unflatten(grads, self.config)

    def zero_state(self, batch_size: int) -> State:
        H, dt = self.config.hidden_size, self.dtype
        c = "c" in self.config.cell_kind.state
        return tuple(
            (np.zeros((batch_size, H), dt), np.zeros((batch_size, H), dt) if c else None)
            for _ in range(self.config.num_layers)
        )

    # ------------------------------------------------------------------ inputs
    def time_major(self, inputs: np.ndarray) -> np.ndarray:
        """(B, T) ints -> what layer 0 reads: (T, B) ids (char-lm) or (T, B, 1) floats (echo)."""
        x = np.asarray(inputs)
        if x.ndim != 2:
            raise ValueError(f"inputs must be a (B, T) array, got shape {x.shape}")
        if x.dtype.kind not in "iub":
            raise ValueError("inputs must be integers (vocabulary ids or bits)")
        if x.size and (x.min() < 0 or x.max() >= self.config.output_size):
            raise ValueError(f"inputs must be in 0..{self.config.output_size - 1}")
        if self.config.onehot:
            return np.ascontiguousarray(x.T, dtype=np.intp)
        return np.ascontiguousarray(x.T[:, :, None], dtype=self.dtype)

    # ------------------------------------------------------------------ forward
    def forward(
        self,
        x: np.ndarray,
        state: State | None = None,
        dropout: float = 0.0,
        rng: np.random.Generator | None = None,
        clamps: tuple[Clamp, ...] = (),
        ws: Workspace | None = None,
    ) -> Trace:
        """Forward pass on time-major input x (see `time_major`); dropout only if rate > 0."""
        cfg, p = self.config, self.p
        T, B = x.shape[:2]
        H = cfg.hidden_size
        state = state or self.zero_state(B)
        layers, masks = [], []
        for k in range(cfg.num_layers):
            W, b = p[f"W{k}"], p[f"b{k}"]
            tr = None if ws is None else ws.trace(f"l{k}", cfg.cell, T, B, H, x, self.dtype)
            mine = tuple(c for c in clamps if c.layer == k)
            tr = layer_forward(cfg.cell, x, W, b, *state[k], mine, tr)
            layers.append(tr)
            x = tr.outputs
            mask = None
            if dropout > 0.0:
                rng = rng or np.random.default_rng()
                draw = _buffer(ws, f"draw{k}", x.shape, np.float32)
                rng.random(x.shape, dtype=np.float32, out=draw)
                mask = _buffer(ws, f"mask{k}", x.shape, self.dtype)
                np.greater_equal(draw, dropout, out=mask, casting="unsafe")  # 1 kept, 0 dropped
                mask *= self.dtype.type(1.0 / (1.0 - dropout))
                dropped = _buffer(ws, f"dropped{k}", x.shape, self.dtype)
                x = np.multiply(x, mask, out=dropped)  # inverted dropout: same expected value
            masks.append(mask)
        V = cfg.output_size
        logits = _buffer(ws, "logits", (T, B, V), self.dtype)
        np.matmul(x.reshape(T * B, H), p["Wy"], out=logits.reshape(T * B, V))
        logits += p["by"]
        probs = softmax(logits, out=_buffer(ws, "probs", (T, B, V), self.dtype))
        return Trace(layers, x, logits, probs, masks)

    def run(
        self, inputs: np.ndarray, state: State | None = None, clamps: tuple[Clamp, ...] = ()
    ) -> Trace:
        """The full trace (every gate, c, h and the output probabilities) for (B, T) inputs.

        Inputs are batch-first, (B, T), as one writes rows of text; the trace's arrays are
        time-major, (T, B, ·) (h and c have T + 1 rows: row 0 is the initial state), because
        every step reads and writes one contiguous (B, ·) slice. So row b of the inputs is
        column b of the trace: `trace.probs[:, b]`, `trace.layers[k].c[1:, b]`.
        """
        return self.forward(self.time_major(inputs), state, clamps=clamps)

    # ------------------------------------------------------------------ backward
    def backward(
        self, trace: Trace, y: np.ndarray, ws: Workspace | None = None
    ) -> tuple[float, np.ndarray, State]:
        """BPTT from the mean cross-entropy against time-major targets y (T, B).

        Returns (loss, flat gradient, dL/d(initial state) per layer).  The gradient stops at
        the first step: with a carried initial state this is truncated BPTT.
        """
        cfg, p = self.config, self.p
        T, B, V = trace.logits.shape
        H = cfg.hidden_size
        N = T * B
        rows = np.arange(N) if ws is None else ws.derived(("arange", N), lambda: np.arange(N))
        yf = y.reshape(N)
        probs = trace.probs.reshape(N, V)
        picked = np.maximum(probs[rows, yf], _TINY[self.dtype.char])  # log(0) guard
        loss = -float(np.add.reduce(np.log(picked))) / N
        if ws is None:
            grads = np.empty_like(self._flat)
            g = unflatten(grads, cfg)
        else:
            grads = ws.get("grads", self._flat.shape, self.dtype)
            g = ws.derived(("views", id(grads)), lambda: unflatten(grads, cfg))
        dlogits = _buffer(ws, "dlogits", probs.shape, self.dtype)
        np.copyto(dlogits, probs)  # d(mean CE)/dlogits = (p - onehot(y)) / N
        dlogits[rows, yf] -= 1.0
        dlogits *= self.dtype.type(1.0 / N)
        np.matmul(trace.top.reshape(N, H).T, dlogits, out=g["Wy"])
        column_sums(dlogits, g["by"])
        dy = _buffer(ws, "dy", (T, B, H), self.dtype)
        np.matmul(dlogits, p["Wy"].T, out=dy.reshape(N, H))
        state_grads = [None] * cfg.num_layers
        for k in range(cfg.num_layers - 1, -1, -1):
            tr, W = trace.layers[k], p[f"W{k}"]
            if trace.masks[k] is not None:
                dy *= trace.masks[k]
            lg = layer_backward(tr, dy, W[:H])
            weight_gradients(tr, lg.da, g[f"W{k}"], g[f"b{k}"])
            state_grads[k] = (lg.dh0, lg.dc0)
            if k > 0:
                dy = input_gradients(lg.da, W[H:])
        return loss, grads, tuple(state_grads)

    def gradients(
        self,
        x: np.ndarray,
        y: np.ndarray,
        state: State | None = None,
        dropout: float = 0.0,
        rng: np.random.Generator | None = None,
        ws: Workspace | None = None,
    ) -> StepResult:
        """Forward + BPTT on time-major x and y (T, B); the training loops' workhorse."""
        trace = self.forward(x, state, dropout, rng, ws=ws)
        loss, grads, sg = self.backward(trace, y, ws)
        return StepResult(loss, grads, trace, sg)

    def loss_and_gradients(self, inputs: np.ndarray, targets: np.ndarray) -> tuple[float, dict]:
        """Public API: (B, T) int inputs and targets, zero initial state, no dropout.

        Returns (mean cross-entropy in nats, gradients keyed and shaped like the checkpoint).
        """
        targets = np.asarray(targets)
        if targets.shape != np.shape(inputs):
            raise ValueError("targets must have the same (B, T) shape as inputs")
        if targets.dtype.kind not in "iub":
            raise ValueError("targets must be integers (vocabulary ids or bits)")
        if targets.size and (targets.min() < 0 or targets.max() >= self.config.output_size):
            raise ValueError(f"targets must be in 0..{self.config.output_size - 1}")
        res = self.gradients(self.time_major(inputs), np.ascontiguousarray(targets.T, np.intp))
        return res.loss, to_state_dict(self.config, res.grads, gradient=True)


def softmax(logits: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Softmax over the last axis, shifted for stability (into `out` if given)."""
    z = np.subtract(logits, _shift(logits), out=out)
    np.exp(z, out=z)
    if z.ndim > 1 and z.flags.c_contiguous:  # the row sums as one matrix-vector product
        rows = z.reshape(-1, z.shape[-1])
        rows /= np.dot(rows, ones(z.shape[-1], z.dtype))[:, None]
    else:
        z /= np.add.reduce(z, axis=-1, keepdims=True)
    return z


def _shift(logits: np.ndarray):
    """What `softmax` subtracts: each row's max, or one number for the whole array when every
    logit lies within `_SHIFT_SPAN` of every other. Then exp(z - the largest) stays a normal float
    for every entry, so the result is the same to rounding, and cheaper: a max per row of a
    (60, 32, 65) array took 87 µs, the whole array's max and min 14 (its softmax 220 in all).
    On a small array (the echo task's (15, 5, 2)) the two calls cost more than they save."""
    if logits.size >= _ONE_SHIFT_FROM:
        high = np.max(logits)
        if high - np.min(logits) < _SHIFT_SPAN.get(logits.dtype.char, 0.0):  # no NaN nor inf
            return high
    return np.maximum.reduce(logits, axis=-1, keepdims=True)


def _buffer(ws: Workspace | None, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """A workspace's reusable array (no allocation, no page faults), else a fresh one."""
    return np.empty(shape, dtype) if ws is None else ws.get(name, shape, dtype)
