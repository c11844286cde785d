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
from .gradcheck import check_gradients, numerical_state_slopes, relative_error
from .model import Model
from .optim import clip_by_global_norm, clip_by_value
from .rnn import rnn_step_backward


class GradientFlow(NamedTuple):
    """Gradient norms for one sequence (steps counted 1..T; row t-1, column k-1)."""

    dh: np.ndarray  # (T, T): ||dL_t/dh_k|| for k <= t, NaN above the diagonal
    dc: np.ndarray | None  # (T, T): ||dL_t/dc_k||, LSTM only
    losses: np.ndarray  # (T,): L_t, the cross-entropy at each step (nats)
    kept: dict  # ("h" or "c", t, k) -> the vector dL_t/dh_k (or dc_k), (H,), for `keep`


def gradient_flow(
    model: Model,
    inputs: np.ndarray,
    targets: np.ndarray,
    window: int | None = None,
    keep: tuple[tuple[int, int], ...] = (),
) -> GradientFlow:
    """Every ||dL_t/dh_k|| (and ||dL_t/dc_k||) of one sequence, for a one-layer model.

    inputs, targets: (T,) ids (a char model) or bits (an echo model). Zero initial state, no
    dropout. L_t is the cross-entropy at step t alone (not divided by T). dc is the derivative
    in full: through c_k's own output h_k = o_k ⊙ tanh(c_k) as well as along the belt.
    window: do what truncated BPTT does with windows of this many steps (the first starting at
    step 1): the gradient stops at every window's first step, so earlier steps get exactly 0.
    keep: pairs (t, k), counted from 0, whose vectors to keep as well (for `check_flow`).
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
    kept, keep_at = {}, {}
    for t, k in keep:
        keep_at.setdefault(k, []).append(t)
    for k in range(T - 1, -1, -1):  # step k + 1 in the docstring's counting
        dh = dh_next.copy()
        dh[k] += top[k]  # the loss at this very step joins here
        live = slice(k, T)  # rows of losses at or after this step; the others are still zero
        norms_h[live, k] = np.linalg.norm(dh[live], axis=1)
        kept.update({("h", t, k): dh[t].copy() for t in keep_at.get(k, ())})
        step = layer.step(k)
        if lstm:  # the step's own derivatives, (1, ·), broadcast over the T rows
            local, belt = lstm_local_derivatives(step.gates, step.c_prev, step.tanh_c)
            g = lstm_step_backward(step, dh, dc_next, W_hT, da, (local.fig, local.o, belt))
            norms_c[live, k] = np.linalg.norm(g.dc[live], axis=1)  # dL/dc_k in full
            kept.update({("c", t, k): g.dc[t].copy() for t in keep_at.get(k, ())})
            dh_next, dc_next = g.dh_prev, g.dc_prev
        else:
            _, dh_next = rnn_step_backward(step, dh, W_hT, da)
        if window and k % window == 0:  # the first step of a window: the gradient goes no further
            dh_next = np.zeros_like(dh_next)
            if lstm:
                dc_next = np.zeros_like(dc_next)
    return GradientFlow(norms_h, norms_c, losses, kept)


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
    norm_by_norm: float  # the length after clipping by norm: min(raw_norm, limit)
    cut_by_value: int  # how many components clipping by value cut to ±limit
    angle_by_value: float  # degrees between raw and by_value: 0 = same direction


def clip_effect(
    model: Model, inputs: np.ndarray, targets: np.ndarray, max_norm: float, max_value: float
) -> ClipEffect:
    """The gradient of the mean cross-entropy over one sequence (T,), clipped both ways."""
    model = model.astype(np.float64)  # an exploding gradient is the point here: give it room
    x = model.time_major(np.asarray(inputs)[None, :])
    y = np.asarray(targets, dtype=np.intp)[:, None]
    with np.errstate(over="ignore", invalid="ignore"):
        raw = model.gradients(x, y).grads
    by_norm, norm = clip_by_global_norm({"g": raw}, max_norm)
    by_value = clip_by_value({"g": raw}, max_value)["g"]
    denom = float(np.linalg.norm(raw) * np.linalg.norm(by_value))
    cos = float(raw @ by_value) / denom if denom > 0 and np.isfinite(denom) else float("nan")
    cut = int(np.count_nonzero(np.abs(raw) > max_value))
    angle = float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))) if cut else 0.0
    return ClipEffect(
        raw,
        by_norm["g"],
        by_value,
        float(norm),
        cos if cut else 1.0,
        float(np.linalg.norm(by_norm["g"])),
        cut,
        angle,
    )


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


# ------------------------------------------------------------------ making a gradient explode
SCALE_LIMIT = 5.0  # the largest recurrent scale the page offers (its slider stops here)
EXPLOSION_SCALES = tuple(round(1.25 + 0.25 * j, 2) for j in range(16))  # 1.25 ... 5.0
EXPLOSION_HIDDEN = (32, 64, 128)  # sizes to grow to: a smaller RNN saturates before it explodes
EXPLOSION_LENGTHS = (60, 100, 200)  # lengths to grow to: the product (9) needs many factors


class Explosion(NamedTuple):
    """Settings at which the RNN's gradient is more than ten times the clipping limit."""

    hidden: int
    length: int
    scale: float
    norm: float


def find_explosion(
    model_for,
    sequence_for,
    hidden: int,
    length: int,
    limit: float,
    scales=EXPLOSION_SCALES,
    hiddens=EXPLOSION_HIDDEN,
    lengths=EXPLOSION_LENGTHS,
) -> Explosion | None:
    """The gentlest settings at which the RNN's gradient explodes past ten times `limit`.

    model_for(H) -> the RNN of H units; sequence_for(T) -> (inputs, targets) of T steps.
    Tries the recurrent scales first (smallest first), then longer sequences, then larger
    models: a tanh RNN of a few units saturates (1 - h² ≈ 0 stops the product (9) from
    growing) before its gradient can explode, and a short sequence has too few factors.
    None if nothing tried explodes.
    """
    for H in [hidden] + [h for h in hiddens if h > hidden]:
        model = model_for(H)
        for T in [length] + [n for n in lengths if n > length]:
            x, y = sequence_for(T)
            for scale in scales:
                norm = clip_effect(adjusted(model, scale), x, y, limit, limit).raw_norm
                if norm > 10 * limit:
                    return Explosion(H, T, scale, norm)
    return None


# ------------------------------------------------------------------ checking what the page shows
RESOLVABLE = (1e-6, 1e4)  # sizes centred differences in float64 measure to about 1e-5


class NormCheck(NamedTuple):
    """One entry of a gradient map, measured again by finite differences."""

    panel: str  # "rnn_h", "lstm_h" or "lstm_c"
    t: int  # the loss's step (counted from 1, as on the page)
    k: int  # the earlier step (counted from 1)
    engine: float  # the map's value: ||dL_t/dh_k|| (or dc_k), from `gradient_flow`
    numeric: float  # the slope of L_t along that gradient's own direction: the same number
    error: float  # relative error over every direction tried (0 when all are exactly 0)
    cut: bool  # outside t's truncation window: the map says 0, and so must the differences


def check_pairs(T: int, window: int | None = None) -> tuple[tuple[int, int], ...]:
    """The entries `check_flow` may look at, (t, k) counted from 0 (ask `gradient_flow` to keep
    their vectors): one loss against earlier steps from d = 0 to far back. The loss is the last
    step's; with truncation, the last step of the last whole window, so that a whole window of
    entries lies inside it and the rest are cut off."""
    t = T - 1 if not window or window > T else (T // window) * window - 1
    spread = {0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, t}
    if window:
        spread |= {window - 1, window}  # the farthest entry inside the window, the nearest cut
    return tuple((t, t - d) for d in sorted(spread) if d <= t)


def check_flow(
    model: Model,
    inputs: np.ndarray,
    targets: np.ndarray,
    flow: GradientFlow,
    window: int | None = None,
    per_panel: int = 6,
    directions: int = 3,
    seed: int = 0,
    eps: float = 1e-5,
) -> list[NormCheck]:
    """Finite differences against entries of the maps `gradient_flow` drew (with the same
    `window`; None for full BPTT, and `keep=check_pairs(T)`).

    For each entry the state at step k is nudged along the engine's gradient g = dL_t/dh_k
    itself and along `directions` random directions u: along g/||g|| the slope of L_t must be
    ||g||, the number in the map; along u it must be g·u (so a wrong direction is caught too).
    Entries outside RESOLVABLE are skipped: float64 differences cannot measure them. Entries cut
    off by truncation are kept: with the window's incoming state held fixed, every slope is 0.
    """
    T = len(inputs)
    trace = model.astype(np.float64).run(np.asarray(inputs)[None, :])
    rng = np.random.default_rng(seed)
    maps = {"h": flow.dh} if flow.dc is None else {"h": flow.dh, "c": flow.dc}
    lo, hi = RESOLVABLE
    out = []
    for which, norms in maps.items():
        kept = [(t, k) for t, k in check_pairs(T, window) if (which, t, k) in flow.kept]
        cut = _spread([(t, k) for t, k in kept if window and k // window != t // window], 2)
        inside = [(t, k) for t, k in kept if (t, k) not in cut and lo <= norms[t, k] <= hi]
        for t, k in _spread(inside, per_panel - len(cut)) + cut:
            g = flow.kept[(which, t, k)].astype(np.float64)
            engine = float(norms[t, k])
            u = rng.standard_normal((directions, len(g)))
            u /= np.linalg.norm(u, axis=1, keepdims=True)
            along = [g / engine] if engine > 0 else []
            slopes = numerical_state_slopes(
                model,
                inputs,
                targets,
                t,
                k,
                np.array(along + list(u)),
                which,
                window,
                eps / max(1.0, engine),
                trace,
            )
            predicted = np.array([engine] * len(along) + list(u @ g))
            numeric = float(slopes[0]) if along else float(np.abs(slopes).max())
            out.append(
                NormCheck(
                    f"{model.config.cell}_{which}",
                    t + 1,
                    k + 1,
                    engine,
                    numeric,
                    relative_error(predicted, slopes),
                    (t, k) in cut,
                )
            )
    return out


def _spread(items: list, n: int) -> list:
    """At most n of the items: both ends and an even spread between."""
    if len(items) <= n:
        return items
    return [items[round(j * (len(items) - 1) / (n - 1))] for j in range(n)] if n > 1 else items[:n]


def check_clip_gradient(
    model: Model, inputs: np.ndarray, targets: np.ndarray, entries: int = 8, seed: int = 0
) -> float | None:
    """Finite differences against the gradient the clipping section clips (the mean loss of the
    whole sequence): the largest relative error over `entries` weights of each array. None if
    the gradient is too steep (norm above RESOLVABLE) for differences to measure."""
    m = model.astype(np.float64)
    x = m.time_major(np.asarray(inputs)[None, :])
    y = np.asarray(targets, dtype=np.intp)[:, None]
    with np.errstate(over="ignore", invalid="ignore"):
        norm = float(np.linalg.norm(m.gradients(x, y).grads))
    if not np.isfinite(norm) or norm > RESOLVABLE[1]:
        return None
    eps = 1e-5 / max(1.0, norm)
    return check_gradients(m, x, y, max_entries=entries, eps=eps, seed=seed).max_relative_error
