"""LSTM Lab's engine: an LSTM (with a GRU and a plain RNN beside it) in pure NumPy, step by step.

Start reading at cell.py (the paper's equations 1-6, one step), then sequence.py (a layer over
time and backpropagation through time), model.py (layers + softmax head), training.py. The other
cells, gru.py and rnn.py, have the same shape as cell.py; cells.py names them.

    import lstm_core
    model = lstm_core.load_checkpoint("samples/....npz")
    trace = model.run(inputs)                      # every gate, c, h and p, per step and layer
    loss, grads = model.loss_and_gradients(inputs, targets)
    lstm_core.save_checkpoint(model, "copy.npz")
"""

__version__ = "0.1.0"  # the one place the version is written (pyproject.toml reads it)

from .cell import GATE_NAMES, GATES, Clamp, Gates, LSTMStep, lstm_step, lstm_step_backward
from .cells import CELLS, cell_kind
from .checkpoint import CheckpointError, checkpoint_bytes, load_checkpoint, save_checkpoint
from .echo import EchoConfig, echo_accuracy, echo_data, new_echo_model
from .errors import LabError
from .gru import GRUStep, gru_step, gru_step_backward
from .model import Model, ModelConfig, Trace
from .optim import SGD, Adagrad, Adam, clip_by_global_norm, clip_by_value, make_optimizer
from .rnn import RNNStep, rnn_step, rnn_step_backward
from .sampling import SampledChar, generate, generate_text, reshape_distribution
from .sequence import LayerTrace, Workspace, layer_backward, layer_forward
from .text import TextError, Vocabulary, bits_per_character, decode_text, prepare_corpus, read_text
from .torch_io import from_torch, to_torch
from .training import EchoTrainer, Snapshot, TextSettings, TextTrainer, Trainer

__all__ = [
    "CELLS",
    "GATES",
    "GATE_NAMES",
    "SGD",
    "Adagrad",
    "Adam",
    "CheckpointError",
    "Clamp",
    "EchoConfig",
    "EchoTrainer",
    "GRUStep",
    "Gates",
    "LSTMStep",
    "LabError",
    "LayerTrace",
    "Model",
    "ModelConfig",
    "RNNStep",
    "SampledChar",
    "Snapshot",
    "TextError",
    "TextSettings",
    "TextTrainer",
    "Trace",
    "Trainer",
    "Vocabulary",
    "Workspace",
    "bits_per_character",
    "cell_kind",
    "checkpoint_bytes",
    "clip_by_global_norm",
    "clip_by_value",
    "decode_text",
    "echo_accuracy",
    "echo_data",
    "from_torch",
    "generate",
    "generate_text",
    "gru_step",
    "gru_step_backward",
    "layer_backward",
    "layer_forward",
    "load_checkpoint",
    "lstm_step",
    "lstm_step_backward",
    "make_optimizer",
    "new_echo_model",
    "prepare_corpus",
    "read_text",
    "reshape_distribution",
    "rnn_step",
    "rnn_step_backward",
    "save_checkpoint",
    "to_torch",
]
