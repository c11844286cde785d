"""How far a gradient reaches back in time: every ||dL_t/dh_k|| of a sequence, exactly.

Backpropagation through time sums, for each weight, what every step's loss says about it
(the paper's equations 7-10):

    (7)   dL/dW = Σ_t dL_t/dW                                   the loss is a sum over time
    (8)   dL_t/dW = Σ_{k≤t} dL_t/dh_t · dh_t/dh_k · ∂h_k/∂W      each earlier step k has its say
    (9)   dh_t/dh_k = Π_{j=k+1..t} ∂h_j/∂h_{j-1}                a product of t - k Jacobians
    (10)  W ← W - η dL/dW                                       one step downhill

Whether step k can learn from the loss at step t depends on the size of the product (9): a
tanh RNN multiplies by diag(1 - h_j²) W_h^T every step, which shrinks (or blows up) the
gradient geometrically; an LSTM's cell state is multiplied by the forget gate f_j, which can
stay close to 1 for as long as the memory is needed.

`gradient_flow` measures it on a real model and a real sequence. It backpropagates every loss
term L_t separately, all at once: the T gradients travel side by side as the rows of one
(T, H) array, each step of the backward pass is one matmul for all of them, and row t starts
at step t. That is exact (no sampling, no approximation of the Jacobians); it is the vector-
Jacobian product dL_t/dh_t · Π ∂h_j/∂h_{j-1}, which is what training uses.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .cell import lstm_local_derivatives, lstm_step_backward, split_gates
from .model import Model
from .rnn import rnn_step_backward


class GradientFlow(NamedTuple):
    """Gradient norms for one sequence (steps counted 1..T; row t-1, column k-1)."""

    dh: np.ndarray  # (T, T): ||dL_t/dh_k|| for k <= t, NaN above the diagonal
    dc: np.ndarray | None  # (T, T): ||dL_t/dc_k||, LSTM only
    losses: np.ndarray  # (T,): L_t, the cross-entropy at each step (nats)


def gradient_flow(
    model: Model, inputs: np.ndarray, targets: np.ndarray, window: int | None = None
) -> GradientFlow:
    """Every ||dL_t/dh_k|| (and ||dL_t/dc_k||) of one sequence, for a one-layer model.

    inputs, targets: (T,) ids (a char model) or bits (an echo model). Zero initial state, no
    dropout. L_t is the cross-entropy at step t alone (not divided by T). dc is the derivative
    in full: through c_k's own output h_k = o_k ⊙ tanh(c_k) as well as along the belt.
    window: do what truncated BPTT does with windows of this many steps (the first starting at
    step 1): the gradient stops at every window's first step, so earlier steps get exactly 0.
    """
    cfg = model.config
    if cfg.num_layers != 1:
        raise ValueError("gradient_flow looks at one-layer models")
    model = model.astype(
        np.float64
    )  # an exploding gradient can pass float32's 3e38 in a few dozen steps
    inputs, targets = np.asarray(inputs), np.asarray(targets, dtype=np.intp)
    if inputs.ndim != 1 or inputs.shape != targets.shape or len(inputs) < 1:
        raise ValueError("inputs and targets must be two sequences of the same length")
    T, H = len(inputs), cfg.hidden_size
    trace = model.run(inputs[None, :])  # (T, 1, ·) records
    layer = trace.layers[0]
    probs = trace.probs[:, 0, :].astype(np.float64)  # (T, V)
    picked = probs[np.arange(T), targets]
    losses = -np.log(np.maximum(picked, 1e-300))
    dlogits = probs.copy()  # dL_t/dlogits_t = p_t - onehot(y_t), for each t on its own
    dlogits[np.arange(T), targets] -= 1.0
    W = model.p["W0"].astype(np.float64)
    top = (dlogits @ model.p["Wy"].T.astype(np.float64)).astype(model.dtype)  # (T, H): dL_t/dh_t
    W_hT = np.ascontiguousarray(W[:H].T).astype(model.dtype)
    lstm = cfg.cell == "lstm"
    # row s of dh (dc): the gradient of L_{s+1}, on its way back; zero until its own step
    dh_next = np.zeros((T, H), model.dtype)
    dc_next = np.zeros((T, H), model.dtype) if lstm else None
    norms_h = np.full((T, T), np.nan)
    norms_c = np.full((T, T), np.nan) if lstm else None
    da = split_gates(np.empty((T, 4 * H), model.dtype)) if lstm else np.empty((T, H), model.dtype)
    for k in range(T - 1, -1, -1):  # step k + 1 in the docstring's counting
        dh = dh_next.copy()
        dh[k] += top[k]  # the loss at this very step joins here
        live = slice(k, T)  # rows of losses at or after this step; the others are still zero
        norms_h[live, k] = np.linalg.norm(dh[live], axis=1)
        step = layer.step(k)
        if lstm:  # the step's own derivatives, (1, ·), broadcast over the T rows
            local, belt = lstm_local_derivatives(step.gates, step.c_prev, step.tanh_c)
            g = lstm_step_backward(step, dh, dc_next, W_hT, da, (local.fig, local.o, belt))
            norms_c[live, k] = np.linalg.norm(g.dc[live], axis=1)  # dL/dc_k in full
            dh_next, dc_next = g.dh_prev, g.dc_prev
        else:
            _, dh_next = rnn_step_backward(step, dh, W_hT, da)
        if window and k % window == 0:  # the first step of a window: the gradient goes no further
            dh_next = np.zeros_like(dh_next)
            if lstm:
                dc_next = np.zeros_like(dc_next)
    return GradientFlow(norms_h, norms_c, losses)


def decay_by_distance(norms: np.ndarray) -> np.ndarray:
    """How the gradient fades with distance d = t - k (d = 0, 1, ...): the geometric mean over t
    of ||dL_t/d·_{t-d}|| / ||dL_t/d·_t||, each loss's gradient measured against its own start.
    NaN where there is nothing to average (or every ratio is 0)."""
    T = norms.shape[0]
    start = np.diag(norms)
    out = np.full(T, np.nan)
    for d in range(T):
        t = np.arange(d, T)
        ratio = norms[t, t - d] / np.where(start[t] > 0, start[t], np.nan)
        ratio = ratio[np.isfinite(ratio) & (ratio > 0)]
        if len(ratio):
            out[d] = float(np.exp(np.mean(np.log(ratio))))
    return out


def truncation_mask(T: int, window: int) -> np.ndarray:
    """(T, T) True where truncated BPTT with windows of `window` steps (aligned at step 1, as the
    notebook cuts its series) lets the gradient of L_t reach step k: same window, k <= t."""
    t, k = np.meshgrid(np.arange(T), np.arange(T), indexing="ij")
    return (k <= t) & (k // window == t // window)


def adjusted(model: Model, recurrent_scale: float = 1.0, forget_shift: float = 0.0) -> Model:
    """A copy with the recurrent weights W_h multiplied by `recurrent_scale` and, for an LSTM,
    `forget_shift` added to the forget gate's bias b_f (the belt opens as it grows)."""
    out = model.copy()
    H = out.config.hidden_size
    for k in range(out.config.num_layers):
        out.p[f"W{k}"][:H] *= recurrent_scale  # the rows that multiply h_{t-1}
        if out.config.cell == "lstm":
            out.p[f"b{k}"][:H] += forget_shift  # blocks f|i|g|o: the forget block
    return out


class ClipEffect(NamedTuple):
    """One gradient of the sequence's mean loss, and what each kind of clipping makes of it."""

    raw: np.ndarray  # the flat gradient
    by_norm: np.ndarray  # scaled down to the norm limit: same direction
    by_value: np.ndarray  # every component cut to ±limit: the direction may turn
    raw_norm: float
    cos_by_value: float  # cosine between raw and by_value: 1 = same direction


def clip_effect(model: Model, inputs: np.ndarray, targets: np.ndarray, max_norm: float,
                max_value: float) -> ClipEffect:  # fmt: skip
    """The gradient of the mean cross-entropy over one sequence (T,), clipped both ways."""
    from .optim import clip_by_global_norm, clip_by_value

    model = model.astype(np.float64)  # an exploding gradient is the point here: give it room
    x = model.time_major(np.asarray(inputs)[None, :])
    y = np.asarray(targets, dtype=np.intp)[:, None]
    with np.errstate(over="ignore", invalid="ignore"):
        raw = model.gradients(x, y).grads
    by_norm, norm = clip_by_global_norm({"g": raw}, max_norm)
    by_value = clip_by_value({"g": raw}, max_value)["g"]
    denom = float(np.linalg.norm(raw) * np.linalg.norm(by_value))
    cos = float(raw @ by_value) / denom if denom > 0 and np.isfinite(denom) else float("nan")
    return ClipEffect(raw, by_norm["g"], by_value, float(norm), cos)


def echo_sequence(T: int, echo_step: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """T random bits and their echo (the notebook's y: x shifted right by echo_step, 0 before)."""
    x = (np.random.default_rng(seed).random(T) < 0.5).astype(np.int64)
    y = np.roll(x, echo_step)
    y[: min(echo_step, T)] = 0
    return x, y


def reach(decay: np.ndarray, threshold: float = 1e-3) -> int | None:
    """The first distance at which the gradient has faded below `threshold` of its start
    (None: it never does within the sequence)."""
    below = np.flatnonzero(np.nan_to_num(decay, nan=0.0) < threshold)
    return int(below[0]) if len(below) else None


def check_sequence(model: Model, inputs: np.ndarray, targets: np.ndarray, steps: int = 20,
                   max_entries: int = 12, seed: int = 0) -> float:  # fmt: skip
    """Finite differences against BPTT on the first `steps` steps of one sequence: the largest
    relative error over the model's weight arrays (about 1e-9 when BPTT is right).

    The nudge ε is the best of 1e-5 ... 1e-8: where the gradient explodes the loss curves so
    steeply that a centred difference needs a smaller step (a wrong gradient matches at none).
    """
    from .gradcheck import check_gradients

    n = min(len(inputs), steps)
    x = model.time_major(np.asarray(inputs)[None, :n])
    y = np.asarray(targets, dtype=np.intp)[:n, None]
    with np.errstate(over="ignore", invalid="ignore"):
        errors = [check_gradients(model, x, y, max_entries=max_entries, eps=eps, seed=seed).max_relative_error
                  for eps in (1e-5, 1e-6, 1e-7, 1e-8)]  # fmt: skip
    return min(errors)


def exploding_scale(model: Model, inputs: np.ndarray, targets: np.ndarray, limit: float,
                    scales=(1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)) -> float | None:  # fmt: skip
    """The smallest recurrent scale (of those tried) at which the gradient of this sequence's
    loss is more than ten times `limit`: where clipping has real work to do. None if none is."""
    for scale in scales:
        if clip_effect(adjusted(model, scale), inputs, targets, limit, limit).raw_norm > 10 * limit:
            return scale
    return None
