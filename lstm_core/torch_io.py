"""PyTorch modules <-> LSTM Lab models, for notebooks that use both.

    rnn, head = lstm_core.to_torch(model)               # torch.nn.LSTM (GRU, RNN) + nn.Linear
    model = lstm_core.from_torch(rnn, head, vocab=...)  # and back, exactly

PyTorch is never a dependency of LSTM Lab: it is imported only when these functions run. The
weights cross in the checkpoint's own layout (PyTorch's names, shapes and gate order, see
checkpoint.py), so what `from_torch` returns computes what the PyTorch modules compute, to
float32 rounding. Inputs on the PyTorch side are time-major one-hot vectors for a char-lm and the
bit as one float for an echo model: `softmax(head(rnn(x)[0]))`.
"""

from __future__ import annotations

import numpy as np

from .cells import CELLS, by_class
from .checkpoint import from_state_dict, to_state_dict
from .errors import LabError
from .model import Model, ModelConfig


def from_torch(
    rnn, head, vocab=None, lowercase: bool = False, meta: dict | None = None, dtype=np.float32
) -> Model:
    """A Model with the weights of a `torch.nn.LSTM` (`nn.GRU`, tanh `nn.RNN`) and an `nn.Linear`
    head.

    vocab: the characters of a char-lm, one per input (and output) row; without it the modules
    must have the echo model's shape (1 input, 2 outputs). Bidirectional layers, projections
    and ReLU RNNs have no counterpart here and are refused (LabError).
    """
    kind = by_class(type(rnn).__name__)
    if kind is None:
        known = ", ".join(f"torch.nn.{k.torch_class}" for k in CELLS.values())
        raise LabError(f"{type(rnn).__name__} is not one of {known}", "torch_cell")
    cell = kind.name
    if getattr(rnn, "bidirectional", False) or getattr(rnn, "proj_size", 0):
        raise LabError(
            "bidirectional layers and projections have no counterpart here", "torch_shape"
        )
    if getattr(rnn, "nonlinearity", "tanh") != "tanh":
        raise LabError("only the tanh RNN has a counterpart here", "torch_shape")
    if head.in_features != rnn.hidden_size:
        raise LabError("the head does not read the recurrent layer's output", "torch_shape")
    vocab = tuple(vocab or ())
    kind = "char-lm" if vocab else "echo"
    config = ModelConfig(
        kind,
        cell,
        rnn.input_size,
        rnn.hidden_size,
        rnn.num_layers,
        head.out_features,
        vocab=vocab,
        lowercase=lowercase,
    )
    weights = {}
    for name, module in ((cell, rnn), ("head", head)):
        for key, value in module.state_dict().items():
            weights[f"{name}.{key}"] = value.detach().cpu().double().numpy()
    for k in range(config.num_layers):  # a layer made with bias=False has no bias tensors
        for key in (f"{cell}.bias_ih_l{k}", f"{cell}.bias_hh_l{k}"):
            weights.setdefault(key, np.zeros(weights[f"{cell}.weight_ih_l{k}"].shape[0]))
    weights.setdefault("head.bias", np.zeros(head.out_features))
    return Model(config, from_state_dict(config, weights, dtype), meta)


def to_torch(model: Model):
    """(rnn, head): a `torch.nn.LSTM` (`nn.GRU`, `nn.RNN`) and an `nn.Linear` holding the model's
    weights, in the model's float precision (float32 or float64)."""
    import torch  # optional: only this conversion needs it, and it is never a dependency

    cfg = model.config
    module = getattr(torch.nn, cfg.cell_kind.torch_class)
    rnn = module(cfg.input_size, cfg.hidden_size, cfg.num_layers)
    head = torch.nn.Linear(cfg.hidden_size, cfg.output_size)
    weights = to_state_dict(cfg, model.flat)
    torch_dtype = torch.float64 if model.dtype == np.float64 else torch.float32
    for name, module in ((cfg.cell, rnn), ("head", head)):
        state = {
            key[len(name) + 1 :]: torch.from_numpy(np.ascontiguousarray(value))
            for key, value in weights.items()
            if key.startswith(name + ".")
        }
        module.to(torch_dtype).load_state_dict(state)
    return rnn, head
