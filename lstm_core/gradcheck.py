"""Finite-difference checks of backpropagation through time, so nobody has to take it on trust.

For a float64 copy of the model, each checked weight w is nudged both ways and the loss re-run:
    dL/dw ≈ (L(w + ε) - L(w - ε)) / 2ε        (centred differences, error O(ε²))
and compared with BPTT's gradient. The relative error of each weight array is
    ||g_bptt - g_numeric|| / (||g_bptt|| + ||g_numeric||)
over the checked entries: about 1e-10 when the code is right, 1e-2 or worse when it is not.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .model import Model, State


class GradientCheck(NamedTuple):
    max_relative_error: float
    per_weight: dict  # internal weight name -> relative error
    entries_checked: int


def numerical_gradient(loss, array: np.ndarray, indices=None, eps: float = 1e-5) -> np.ndarray:
    """Centred differences of the scalar `loss()` with respect to entries of `array` (nudged in
    place and restored). indices: flat positions to check (default: all). Returns them in order."""
    flat = array.reshape(-1)  # a view: nudging it nudges the array
    indices = range(flat.size) if indices is None else indices
    out = np.empty(len(indices))
    for j, k in enumerate(indices):
        old = flat[k]
        flat[k] = old + eps
        up = loss()
        flat[k] = old - eps
        down = loss()
        flat[k] = old
        out[j] = (up - down) / (2 * eps)
    return out


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    denom = float(np.linalg.norm(a) + np.linalg.norm(b))
    return 0.0 if denom == 0.0 else float(np.linalg.norm(a - b)) / denom


def check_gradients(
    model: Model,
    x: np.ndarray,
    y: np.ndarray,
    state: State | None = None,
    max_entries: int | None = 40,
    eps: float = 1e-5,
    seed: int = 0,
) -> GradientCheck:
    """Compare BPTT with finite differences on time-major x and y (T, B) (see Model.time_major).

    With `state`, it is held fixed, as truncated BPTT treats the state carried into a window.
    max_entries: how many entries of each weight array to check (None: all of them).
    """
    m = model.astype(np.float64)
    if x.dtype.kind == "f":
        x = x.astype(np.float64)
    if state is not None:
        state = tuple(
            (h.astype(np.float64), None if c is None else c.astype(np.float64)) for h, c in state
        )
    res = m.gradients(x, y, state)
    analytic = m.grad_views(res.grads.copy())
    rng = np.random.default_rng(seed)
    per_weight, total = {}, 0

    def loss() -> float:
        return m.gradients(x, y, state).loss

    for name, w in m.p.items():
        n = w.size if max_entries is None else min(max_entries, w.size)
        idx = rng.choice(w.size, size=n, replace=False)
        numeric = numerical_gradient(loss, w, idx, eps)
        per_weight[name] = relative_error(analytic[name].reshape(-1)[idx], numeric)
        total += n
    return GradientCheck(max(per_weight.values()), per_weight, total)


def numerical_state_slopes(
    model: Model,
    inputs: np.ndarray,
    targets: np.ndarray,
    t: int,
    k: int,
    directions: np.ndarray,
    which: str = "h",
    window: int | None = None,
    eps: float = 1e-4,
    trace=None,
) -> np.ndarray:
    """Slopes of L_t along `directions` (n, H) of the state at step k, by centred differences:
    (L_t(s_k + εu) - L_t(s_k - εu)) / 2ε for each row u. With the identity, dL_t/dh_k itself.

    One-layer model; inputs, targets: (T,) ids or bits; zero initial state; steps counted from 0
    (k <= t). L_t is the cross-entropy at step t alone. which="c" nudges a cell state c_k (the
    LSTM's), and h_k = o_k ⊙ tanh(c_k) follows it (the derivative "in full", as `bptt.gradient_flow`
    means it). window: the loss of truncated BPTT with windows of this many steps: the state
    carried into t's window is held fixed, so a nudge before that window cannot reach L_t.
    All 2n nudged copies run the steps k+1..t side by side, as one batch. trace: `model.run` of
    the inputs in float64, if the caller has it. Returns (n,).
    """
    directions = np.atleast_2d(np.asarray(directions, dtype=np.float64))
    n = len(directions)
    if window and k < (t // window) * window:  # h_k lies before t's window, whose incoming
        return np.zeros(n)  # state is held fixed: L_t is the same for every nudge, exactly
    m = model.astype(np.float64)
    inputs, targets = np.asarray(inputs), np.asarray(targets, dtype=np.intp)
    layer = (trace or m.run(inputs[None, :])).layers[0]
    nudge = np.concatenate([directions, -directions]) * eps  # +εu rows, then -εu rows  (2n, H)
    h = np.repeat(layer.h[k + 1], 2 * n, axis=0)  # h_k, once per nudge  (2n, H)
    c = None if layer.c is None else np.repeat(layer.c[k + 1], 2 * n, axis=0)
    if which == "h":
        h = h + nudge
    elif c is None:
        raise ValueError(f"a {layer.kind.title} has no cell state c to nudge")
    else:
        c = c + nudge
        h = layer.kind.output(layer, k, c)  # h_k follows the nudged belt (LSTM: o_k ⊙ tanh(c_k))
    if t > k:  # the steps k+1..t, every copy reading the same input
        x = np.repeat(m.time_major(inputs[None, k + 1 : t + 1]), 2 * n, axis=1)
        h = m.forward(x, ((h, c),)).layers[0].h[-1]
    logits = h @ m.p["Wy"] + m.p["by"]  # (2n, V): the head at step t
    logits = logits - logits.max(axis=1, keepdims=True)
    loss = np.log(np.exp(logits).sum(axis=1)) - logits[:, targets[t]]  # L_t for every copy
    return (loss[:n] - loss[n:]) / (2 * eps)
