"""How a model's parameters are laid out: named views of one flat vector inside, PyTorch's names,
shapes and gate order outside (the checkpoint's, and what `to_torch` hands over).

Inside, per layer k: W{k} (H + D_k, G) with rows [h_{t-1}; x_t] and columns the cell's gate
blocks in its own order, and b{k}; then the head's Wy (H, V) and by (V,) (`ModelConfig.layout`).
Outside, PyTorch's state-dict names: {cell}.weight_ih_l{k} (G, D_k), {cell}.weight_hh_l{k}
(G, H), {cell}.bias_ih_l{k} and {cell}.bias_hh_l{k} (G,), head.weight (V, H), head.bias (V,).

Each cell (cells.py) names its PyTorch gate order: an LSTM's blocks are i, f, g, o in PyTorch
and the paper's f, i, g (c~), o inside, so the conversion transposes and swaps the first two
blocks (a GRU's r, z, n and the RNN's one block are the same on both sides). Where the maths
needs one bias per layer (LSTM, RNN) PyTorch has two: a saved file carries the bias in bias_ih
and zeros in bias_hh; a loaded file's two biases are added. A GRU keeps both, as they are.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from .cells import torch_blocks

if TYPE_CHECKING:  # a type only: the model imports this module, not the reverse
    from .model import ModelConfig


def unflatten(flat: np.ndarray, config: ModelConfig) -> dict[str, np.ndarray]:
    """Named views into a flat parameter (or gradient) vector."""
    return {name: flat[a:b].reshape(shape) for name, a, b, shape in _offsets(config)}


@lru_cache(maxsize=256)
def _offsets(config: ModelConfig) -> tuple[tuple[str, int, int, tuple[int, ...]], ...]:
    out, start = [], 0
    for name, shape in config.layout():
        size = math.prod(shape)
        out.append((name, start, start + size, shape))
        start += size
    return tuple(out)


def _reorder(a: np.ndarray, order: list[int], axis: int) -> np.ndarray:
    """The gate blocks of `a` along `axis`, block k of the result being block order[k]."""
    if order == sorted(order):
        return a
    blocks = np.split(a, len(order), axis=axis)
    return np.concatenate([blocks[k] for k in order], axis=axis)


def state_dict_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Every weight key a checkpoint of this config holds, with its shape."""
    H, prefix = config.hidden_size, config.cell
    G = config.cell_kind.width * H
    shapes = {}
    for k in range(config.num_layers):
        shapes[f"{prefix}.weight_ih_l{k}"] = (G, config.layer_input_size(k))
        shapes[f"{prefix}.weight_hh_l{k}"] = (G, H)
        shapes[f"{prefix}.bias_ih_l{k}"] = (G,)
        shapes[f"{prefix}.bias_hh_l{k}"] = (G,)
    shapes["head.weight"] = (config.output_size, H)
    shapes["head.bias"] = (config.output_size,)
    return shapes


def to_state_dict(
    config: ModelConfig, flat: np.ndarray, gradient: bool = False
) -> dict[str, np.ndarray]:
    """Internal flat parameters (or gradients) -> PyTorch-named arrays.

    For gradients of a summed bias, both biases get dL/db, since each of them enters the sum.
    """
    p = unflatten(flat, config)
    H, prefix, kind = config.hidden_size, config.cell, config.cell_kind
    order, G = torch_blocks(kind), kind.width * H
    out = {}
    for k in range(config.num_layers):
        W, b = p[f"W{k}"], p[f"b{k}"]
        W_h, W_x = _reorder(W[:H], order, 1), _reorder(W[H:], order, 1)
        out[f"{prefix}.weight_ih_l{k}"] = np.ascontiguousarray(W_x.T)
        out[f"{prefix}.weight_hh_l{k}"] = np.ascontiguousarray(W_h.T)
        if kind.bias_blocks == 2:  # kept apart: [b_ih | b_hh]
            b_ih, b_hh = _reorder(b[:G], order, 0), _reorder(b[G:], order, 0)
        else:  # one sum: in bias_ih, with zeros beside it (a gradient: in both)
            b_ih = _reorder(b, order, 0)
            b_hh = b_ih if gradient else np.zeros_like(b_ih)
        out[f"{prefix}.bias_ih_l{k}"] = b_ih.copy()
        out[f"{prefix}.bias_hh_l{k}"] = b_hh.copy()
    out["head.weight"] = np.ascontiguousarray(p["Wy"].T)
    out["head.bias"] = p["by"].copy()
    return out


def from_state_dict(
    config: ModelConfig, weights: dict[str, np.ndarray], dtype=np.float32
) -> np.ndarray:
    """PyTorch-named arrays -> the internal flat parameter vector."""
    flat = np.zeros(config.num_parameters(), dtype)
    p = unflatten(flat, config)
    H, prefix, kind = config.hidden_size, config.cell, config.cell_kind
    order = [int(j) for j in np.argsort(torch_blocks(kind))]  # our block j is file block order[j]
    for k in range(config.num_layers):
        b_ih = weights[f"{prefix}.bias_ih_l{k}"]
        b_hh = weights[f"{prefix}.bias_hh_l{k}"]
        p[f"W{k}"][:H] = _reorder(weights[f"{prefix}.weight_hh_l{k}"].T, order, 1)
        p[f"W{k}"][H:] = _reorder(weights[f"{prefix}.weight_ih_l{k}"].T, order, 1)
        if kind.bias_blocks == 2:
            p[f"b{k}"][...] = np.concatenate([_reorder(b_ih, order, 0), _reorder(b_hh, order, 0)])
        else:
            p[f"b{k}"][...] = _reorder(b_ih + b_hh, order, 0)
    p["Wy"][...] = weights["head.weight"].T
    p["by"][...] = weights["head.bias"]
    return flat
