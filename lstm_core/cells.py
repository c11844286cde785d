"""The kinds of recurrent cell, by name: the one place the rest of the engine asks about a cell.

Each kind is one module that says everything about it in one place, its equations first:
    cell.py  "lstm"  the paper's LSTM: gates f, i, c~, o; state h and c (the belt)
    gru.py   "gru"   torch.nn.GRU's gated recurrent unit: gates r, z, n; state h
    rnn.py   "rnn"   the plain tanh RNN: no gates; state h
and exposes an object of the `CellKind` shape below. `cell_kind(name)` hands it out; layers,
models, checkpoints, sampling and the command line hold it and call it, never its name.

Layout shared by every kind: one fused matrix W (H + D, G) per layer, rows [h_{t-1}; x_t],
columns the gate blocks side by side (G = width · H), and one bias vector b. A kind whose two
PyTorch biases act alike keeps their sum (b has G entries); one that needs them apart keeps
both (b = [b_ih | b_hh], 2G entries; the GRU, whose b_hn sits inside the reset product).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from . import cell, gru, rnn


class CellKind(Protocol):
    """What a cell module provides (see cell.py, gru.py, rnn.py for three of them)."""

    name: str  # "lstm": its key in checkpoints (and their weight names), on the command line
    title: str  # "LSTM": how a sentence names it
    gates: tuple[str, ...]  # the column blocks of W, in order: ("f", "i", "g", "o"); () for none
    gate_names: dict[str, str]  # "f" -> "forget", ...
    width: int  # W has width · H columns
    bias_blocks: int  # 1: b = b_ih + b_hh (G,); 2: b = [b_ih | b_hh] (2G,)
    whole_limit: int  # backward takes `whole` up to this many elements of (T, B, G) (measured)
    state: tuple[str, ...]  # what a step carries to the next: ("h", "c") or ("h",)
    torch_class: str  # "LSTM": the torch.nn module with the same maths
    torch_gates: tuple[str, ...]  # PyTorch's order of the same blocks: ("i", "f", "g", "o")
    # what the page "Inside one step" explains (explain.py reads it; a step record's .unit(row,
    # unit) gives one unit's scalars as a named record):
    squash: dict[str, str]  # gate -> "sigmoid" or "tanh"
    scaled_by: dict[str, str]  # gate -> the gate that scales its recurrent part (GRU: n <- r)
    tex: dict[str, tuple[str, str]]  # gate -> (symbol, formula) in TeX
    tex_state: tuple[tuple[str, str, str, str], ...]  # (symbol, formula, numbers, field)
    vectors: tuple[str, ...]  # the step's (B, H) arrays the page draws side by side
    keeps: str | None  # the gate whose opening keeps the old memory (LSTM f, GRU z; None)
    # what the page "The conveyor belt" reads (analysis.belt_series, belt_flow):
    memory: str  # the state that carries the memory from step to step: "c" (the belt), or "h"
    belt_rows: tuple[str, ...]  # what it draws over time, the memory first: states, gates, and
    # "write", what the valve lets onto the memory (`belt(trace)[2]`, when it is not a gate)

    def init(self, W: np.ndarray, b: np.ndarray, rng: np.random.Generator, forget_bias: float):
        """Draw a layer's W and b in place, as PyTorch draws its module."""

    def input_bias(self, b: np.ndarray) -> np.ndarray:
        """(G,): the part of b added to W[·, x_t] before the recurrence starts."""

    def allocate(self, trace) -> None:
        """Give a `LayerTrace` its arrays (gates, c, ...) and its step records."""

    def training_floats(self, T: int, B: int, H: int) -> int:
        """The floats a training workspace's trace of this cell holds at its peak: what
        `allocate` gives it (pre-activations and h included) and its backward's buffers (dL/da
        and any local derivatives), for T steps of B rows (lstm_core.budget adds them up)."""

    def forward(self, trace, W_h, b, c0, clamps, scratch) -> None:
        """Run the recurrence over trace.steps (trace.pre holds the input halves on entry).
        clamps: per step, the (column, value) pairs of gates held at a value; scratch (B, G)."""

    def backward(self, trace, dh_out, W_hT, dh_next, dc_next, dh_all, dc_all, whole) -> tuple:
        """BPTT over the trace's steps into its dL/da buffers; returns (dL/dh_0, dL/dc_0 or None).
        whole: compute every step's local derivatives at once (a small problem: trace.pre.size
        at most `whole_limit`), else each step's own, while its data is in cache."""

    def step_backward(self, step, dh, dc, W_hT) -> tuple:
        """One step back through a record, for any number of rows of gradient (the record's
        one row broadcast over them: every loss term's gradient side by side, as bptt.py does).
        dh (n, H), dc (n, H) or None -> (dL/dh_{t-1}, dL/dc_{t-1}, dL/dc_t in full); the last
        two None without a belt."""

    def recurrent_da(self, trace, da: np.ndarray) -> np.ndarray:
        """dL/d(h_{t-1} W_h + b_hh) (T, B, G): the same array as da, unless b_hh acts apart."""

    def step(self, x, a_in, h_prev, c_prev, W_h, b, scratch):
        """One step of input x from its input half a_in = W[·, x] + input_bias (B, G), into a
        fresh record (the sampler's step)."""

    def state_of(self, record) -> tuple[np.ndarray, np.ndarray | None]:
        """(h, c) after a step (c None without a cell state)."""

    def belt(self, trace) -> tuple[np.ndarray, ...]:
        """(before, kept fraction, added, after), each (T, B, H): what carries the memory.
        LSTM: c_{t-1}, f, i ⊙ c~, c_t; GRU: h_{t-1}, z, (1 - z) ⊙ n, h_t. ValueError if none."""


CELLS: dict[str, CellKind] = {kind.name: kind for kind in (cell.LSTM, gru.GRU, rnn.RNN)}
NAMES = tuple(CELLS)  # the names, as the command line offers them
DEFAULT_CELL = "lstm"  # what a model is made of when nobody says (the lab's namesake)
# the order a comparison shows them in: fewest gate blocks first (RNN, GRU, LSTM)
SIDE_BY_SIDE = tuple(sorted(NAMES, key=lambda name: CELLS[name].width))


def cell_kind(name: str) -> CellKind:
    """The kind called `name`; ValueError naming the known ones otherwise."""
    kind = CELLS.get(name) if isinstance(name, str) else None
    if kind is None:
        raise ValueError(f"unknown cell {name!r}: expected one of {NAMES}")
    return kind


def gate_width(cell: str, H: int) -> int:
    """Columns of the fused weight matrix: 4H for the LSTM (f|i|c~|o), 3H for the GRU, H for
    the RNN."""
    return cell_kind(cell).width * H


def bias_width(cell: str, H: int) -> int:
    """Entries of a layer's bias vector b: G, or 2G where b_ih and b_hh are kept apart."""
    kind = cell_kind(cell)
    return kind.bias_blocks * kind.width * H


def torch_blocks(kind: CellKind) -> list[int]:
    """For each block of PyTorch's order, the index of the same block in the kind's own order."""
    return [kind.gates.index(g) for g in kind.torch_gates] if kind.gates else [0]


def by_class(torch_class: str) -> CellKind | None:
    """The kind whose maths a torch.nn module of this class name has (None: no counterpart)."""
    return next((k for k in CELLS.values() if k.torch_class == torch_class), None)
