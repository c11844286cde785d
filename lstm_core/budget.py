"""What one student may ask of a shared server, stated once.

Every piece of work a page can start is bounded here: the sizes a model may have to be drawn or
trained, the characters a vocabulary may hold, the memory a training worker may use. Pages and
the loaders read these numbers; nothing else writes them. A request over a bound is refused with
one line that says which setting to lower, never silently clamped.
"""

from __future__ import annotations

from typing import NamedTuple

from .cells import DEFAULT_CELL, cell_kind
from .errors import LabError

MAX_VOCAB = 1000  # distinct characters of a training text (one alphabet with accents: < 300)


class ModelLimits(NamedTuple):
    """The largest model a page takes from an uploaded checkpoint."""

    hidden: int  # units per layer
    layers: int
    vocab: int = MAX_VOCAB


# The belt page orders units by clustering (O(H³)) and draws every unit; the others draw a few
# units but run the whole model at every rerun. Beyond these, a page would hold the server for
# seconds per rerun.
UPLOAD_LIMITS = {
    "cell": ModelLimits(hidden=1024, layers=3),
    "belt": ModelLimits(hidden=512, layers=3),
    "text": ModelLimits(hidden=1024, layers=3),
}


# ------------------------------------------------------------------------------ memory
WORKER_BUDGET = 1536 * 2**20  # bytes one student's training worker may use for its arrays
WORKER_OVERHEAD = 160 * 2**20  # the worker's interpreter, NumPy and BLAS before any array
# The operating system's limit on a worker's address space (RLIMIT_AS), in case an estimate is
# wrong: its arrays' budget plus room for the interpreter, the libraries and their reservations
# (a worker with a small model maps about 250 MB). Past it, NumPy raises MemoryError and the
# worker stops training with a message; the machine never pays for it.
WORKER_ADDRESS_SPACE = WORKER_BUDGET + 512 * 2**20
# The text page's training history (history.py), kept twice: in the worker and, as it arrives,
# in the page's session. 16 MB is about 40 moments of a 128-unit model, and a checkpoint that
# carries them still fits under the 20 MB upload limit.
TEXT_HISTORY = 16 * 2**20
# The echo page's history (rewind_echo.py), in the page's session: shared by the models one run
# trains (an RNN and an LSTM side by side, or all three cells), each kept at the same steps. Echo models are tiny:
# 8 MB holds about 100 moments of the RNN vs LSTM preset's pair (64 units each), and the most a
# history keeps (history.MAX_MOMENTS) of the notebook's 4-unit LSTM in under 200 kB.
ECHO_HISTORY = 8 * 2**20
# The BPTT page's models (an RNN, a GRU and an LSTM of up to 128 units, lstm_core/bptt_pair.py), shared
# by every session that opens the same settings, so smaller: about 30 moments of the preset's
# 64-unit three, 8 at 128 units.
BPTT_HISTORY = 4 * 2**20


class MemoryEstimate(NamedTuple):
    """What a piece of work needs, and the setting that drives most of it."""

    bytes: int
    biggest: str  # "batch_size × seq_length", "vocabulary", "hidden_size", ...

    @property
    def megabytes(self) -> float:
        return self.bytes / 2**20


def training_step_bytes(
    vocab: int,
    hidden: int,
    layers: int,
    seq_length: int,
    batch_size: int,
    itemsize: int = 4,
    cell: str = DEFAULT_CELL,
) -> MemoryEstimate:
    """The arrays one char-LM training step holds at its peak, in bytes.

    Per layer: what its cell's trace keeps (`CellKind.training_floats`: pre-activations, gates,
    states, dL/da and local derivatives, which differ from cell to cell), the input a dense
    layer copies, the [h, x] rows of the weight gradient (H + D per position, D = V for the
    one-hot first layer), the dropout's draw, mask and output (H each) and the gradient sent
    down to the layer below; W_h transposed twice over (the backward's copy and its slabs). The
    head keeps logits, probabilities and their gradient (V each) and dL/dh of the top layer.
    The parameters are held eight times: the weights and their gradient, and Adam's m and v,
    old and new, while it updates. Within 15% of what NumPy allocates, for every cell (a test).
    """
    kind = cell_kind(cell)
    G = kind.width * hidden
    T, B, H, N = seq_length, batch_size, hidden, seq_length * batch_size
    per_position = 4 * vocab + H + 4  # logits, probs, dlogits, the softmax's row sums; dy; ids
    floats = params = copies = 0
    for k in range(layers):
        D = vocab if k == 0 else H
        floats += kind.training_floats(T, B, H) + B * G  # + a step's scratch
        per_position += (H + D) + 3 * H + (0 if k == 0 else 2 * H)  # hx; dropout; x and dL/dx
        params += (H + D) * G + kind.bias_blocks * G
        copies += 2 * H * G  # W_h^T and its slabs
    params += H * vocab + vocab
    parts = {
        "batch_size × seq_length": N * per_position + floats,
        "hidden_size": 8 * params + copies,
    }
    total = sum(parts.values()) * itemsize
    return MemoryEstimate(int(total), max(parts, key=parts.get))


def check_training(
    vocab: int, hidden: int, layers: int, seq_length: int, batch_size: int, cell: str = DEFAULT_CELL
) -> None:
    """Refuse (LabError, one line) a char-LM training run over WORKER_BUDGET."""
    need = training_step_bytes(vocab, hidden, layers, seq_length, batch_size, cell=cell)
    if need.bytes <= WORKER_BUDGET:
        return
    window = need.biggest != "hidden_size"
    setting = "the batch size or the window" if window else "the hidden size or the layers"
    raise LabError(
        f"these settings need about {need.megabytes:,.0f} MB to train, over the "
        f"{WORKER_BUDGET / 2**20:,.0f} MB one student may use: lower {setting}",
        "budget_training_" + ("window" if window else "hidden"),
        need=round(need.megabytes),
        budget=round(WORKER_BUDGET / 2**20),
    )


def check_text_training(config, seq_length: int, batch_size: int) -> None:
    """check_training for a character model's config (a ModelConfig) at these window settings."""
    check_training(
        config.input_size,
        config.hidden_size,
        config.num_layers,
        seq_length,
        batch_size,
        config.cell,
    )


def out_of_memory(exc: MemoryError) -> LabError:
    """What a worker says when the operating system's limit stopped an allocation."""
    limit = round(WORKER_ADDRESS_SPACE / 2**20)
    return LabError(
        f"training ran out of the {limit:,} MB one student's worker may use: lower the batch "
        "size, the window or the hidden size",
        "worker_memory",
        limit=limit,
        detail=str(exc)[:200],
    )
