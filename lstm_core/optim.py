"""Optimizers and gradient clipping as small pure functions over parameter dicts.

An optimizer is a frozen record of its settings with two methods:
    state = opt.init(params)
    params, state = opt.update(params, grads, state)
`update` returns new arrays and leaves its inputs alone, so a caller can look at the result before
accepting it (training refuses an update that makes any weight NaN or infinite) and can pause,
save or resume with nothing hidden: the step counter is part of the state.

The models keep all their parameters in one flat vector, so in practice the dicts have a single
entry and an update is a few vectorised operations on one array.

    SGD      W ← W − η∇L                                        (the paper's equation 10)
    Adagrad  G ← G + ∇L²;           W ← W − η∇L / (√G + ε)     (the echo notebook's choice)
    Adam     m ← β₁m + (1−β₁)∇L;  v ← β₂v + (1−β₂)∇L²;
             W ← W − η m̂ / (√v̂ + ε),  m̂, v̂ bias-corrected       (the paper's case study)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import buffers

Params = dict[str, np.ndarray]
CHUNK = 1 << 15  # elements updated together: a chunk of each array in play fits in a core's cache


@dataclass(frozen=True)
class SGD:
    learning_rate: float = 0.1
    momentum: float = 0.0

    def init(self, params: Params) -> dict:
        return {"step": 0, "velocity": {k: np.zeros_like(v) for k, v in params.items()}}

    def update(self, params: Params, grads: Params, state: dict) -> tuple[Params, dict]:
        vel = {k: np.add(self.momentum * state["velocity"][k], grads[k]) for k in params}
        new = {
            k: np.subtract(p, self.learning_rate * vel[k], buffers.empty_like(p))
            for k, p in params.items()
        }
        return new, {"step": state["step"] + 1, "velocity": vel}


@dataclass(frozen=True)
class Adagrad:
    learning_rate: float = 0.3
    initial_accumulator: float = 0.1  # TensorFlow's default, as in the echo notebook
    eps: float = 1e-7

    def init(self, params: Params) -> dict:
        acc = {k: np.full_like(v, self.initial_accumulator) for k, v in params.items()}
        return {"step": 0, "accumulator": acc}

    def update(self, params: Params, grads: Params, state: dict) -> tuple[Params, dict]:
        new, acc = {}, {}
        for k, p in params.items():
            g = grads[k]
            acc[k] = np.add(state["accumulator"][k], g * g)  # G ← G + ∇L²
            step = np.sqrt(acc[k], buffers.empty_like(p))
            np.add(step, self.eps, step)
            np.divide(g, step, step)
            np.multiply(step, self.learning_rate, step)
            new[k] = np.subtract(p, step, step)  # W ← W − η∇L / (√G + ε)
        return new, {"step": state["step"] + 1, "accumulator": acc}


@dataclass(frozen=True)
class Adam:
    learning_rate: float = 2e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def init(self, params: Params) -> dict:
        zeros = {k: np.zeros_like(v) for k, v in params.items()}
        return {"step": 0, "m": zeros, "v": {k: z.copy() for k, z in zeros.items()}}

    def update(self, params: Params, grads: Params, state: dict) -> tuple[Params, dict]:
        b1, b2, t = self.beta1, self.beta2, state["step"] + 1
        lr_t = self.learning_rate * np.sqrt(1 - b2**t) / (1 - b1**t)  # bias correction, folded in
        eps_t = self.eps * np.sqrt(1 - b2**t)
        new, ms, vs = {}, {}, {}
        for k, p in params.items():  # new weights on the boundary the matrix products like
            new[k], ms[k], vs[k] = (buffers.empty_like(p) for _ in range(3))
            flat = [a.reshape(-1) for a in (grads[k], state["m"][k], state["v"][k], p)]
            out = [a.reshape(-1) for a in (new[k], ms[k], vs[k])]
            for a in range(0, p.size, CHUNK):  # a chunk at a time, so the chain runs in cache
                g, m, v, p_ = (x[a : a + CHUNK] for x in flat)
                p_new, m_new, v_new = (x[a : a + CHUNK] for x in out)
                np.subtract(g, m, m_new)  # m ← β₁m + (1−β₁)∇L, as m + (1−β₁)(∇L − m)
                np.multiply(m_new, 1 - b1, m_new)
                np.add(m_new, m, m_new)
                np.multiply(g, g, v_new)  # v ← β₂v + (1−β₂)∇L², the same way
                np.subtract(v_new, v, v_new)
                np.multiply(v_new, 1 - b2, v_new)
                np.add(v_new, v, v_new)
                np.sqrt(v_new, p_new)  # the step, built in the output's place
                np.add(p_new, eps_t, p_new)
                np.divide(m_new, p_new, p_new)
                np.multiply(p_new, lr_t, p_new)
                np.subtract(p_, p_new, p_new)  # W ← W − η m̂ / (√v̂ + ε)
        return new, {"step": t, "m": ms, "v": vs}


OPTIMIZERS = {"sgd": SGD, "adagrad": Adagrad, "adam": Adam}


def make_optimizer(name: str, learning_rate: float):
    """An optimizer by name ('sgd', 'adagrad', 'adam') with a learning rate."""
    try:
        cls = OPTIMIZERS[name]
    except KeyError:
        raise ValueError(
            f"unknown optimizer {name!r}: expected one of {sorted(OPTIMIZERS)}"
        ) from None
    if not (np.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"the learning rate must be a positive number, not {learning_rate!r}")
    return cls(learning_rate=float(learning_rate))


def global_norm(grads: Params) -> float:
    """√(Σ over every array of Σ g²); recomputed in float64 if float32 overflows."""
    total = sum(float(np.dot(g.ravel(), g.ravel())) for g in grads.values())
    if not np.isfinite(total):
        total = sum(float(np.dot(g.ravel().astype(np.float64), g.ravel())) for g in grads.values())
    return float(np.sqrt(total))


def clip_by_global_norm(grads: Params, max_norm: float) -> tuple[Params, float]:
    """Scale all gradients together so their global norm is at most max_norm (direction kept).

    Returns (clipped grads, the norm before clipping).
    """
    norm = global_norm(grads)
    if not max_norm or norm <= max_norm or not np.isfinite(norm):
        return grads, norm
    scale = max_norm / norm
    return {k: g * np.asarray(scale, g.dtype) for k, g in grads.items()}, norm


def clip_by_value(grads: Params, limit: float) -> Params:
    """Clip every component to [-limit, limit] (the direction may change)."""
    if not limit:
        return grads
    return {k: np.clip(g, -limit, limit) for k, g in grads.items()}
