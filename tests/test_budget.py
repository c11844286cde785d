"""The budget: what one student may ask of the server, estimated before anything runs."""

import tracemalloc

import numpy as np
import pytest

from lstm_core import LabError, Model, ModelConfig, TextSettings, TextTrainer
from lstm_core.budget import WORKER_BUDGET, check_training, training_step_bytes
from lstm_core.cells import NAMES


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize(
    ("V", "H", "L", "T", "B"),
    [(65, 128, 1, 60, 32), (300, 64, 2, 40, 16), (40, 32, 1, 200, 64), (120, 256, 1, 30, 8)],
)
def test_the_estimate_is_close_to_what_numpy_allocates(V, H, L, T, B, cell):
    # measured: the estimate over the peak 1.01-1.06 (LSTM), 1.00-1.05 (GRU), 1.03-1.12 (RNN)
    vocab = tuple(chr(0x100 + k) for k in range(V))
    model = Model.create(ModelConfig("char-lm", cell, V, H, L, V, vocab=vocab), seed=0)
    ids = np.random.default_rng(0).integers(0, V, 5000)
    tracemalloc.start()
    try:
        trainer = TextTrainer(model, ids, TextSettings(T, B, dropout=0.2))
        for _ in range(2):
            trainer.step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    estimate = training_step_bytes(V, H, L, T, B, cell=cell).bytes
    assert 0.95 * peak <= estimate <= 1.2 * peak, (estimate / peak, peak)


def test_each_cell_is_estimated_by_what_its_step_keeps():
    """A training LSTM keeps 2 blocks of 4H per position (its gates computed in the place of
    their pre-activations, and dL/da) and its belt; a GRU 4 blocks of 3H (pre-activations,
    gates, dL/da and its recurrent half, b_hn acting apart) and hn; an RNN 2 blocks of H: at
    the same settings the GRU needs most and the RNN least, and the page's check follows the
    cell (an RNN fits where the same LSTM does not)."""
    need = {cell: training_step_bytes(40, 512, 2, 200, 64, cell=cell).bytes for cell in NAMES}
    assert need["rnn"] < need["lstm"] < need["gru"]
    big = next(  # the smallest batch at which the LSTM is refused
        B for B in range(1, 257) if training_step_bytes(40, 512, 3, 400, B).bytes > WORKER_BUDGET
    )
    with pytest.raises(LabError):
        check_training(40, 512, 3, 400, big)
    with pytest.raises(LabError):
        check_training(40, 512, 3, 400, big, cell="gru")
    check_training(40, 512, 3, 400, big, cell="rnn")  # a third of the arrays: it fits


def test_the_text_pages_largest_settings_are_refused_and_say_what_to_lower():
    with pytest.raises(LabError) as info:
        check_training(100, 512, 3, 400, 256)  # about 14 GB: three of them filled the machine
    assert info.value.code == "budget_training_window"
    assert "lower the batch size or the window" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(LabError) as info:
        check_training(1000, 4096, 3, 10, 1)  # the weights themselves are the cost
    assert info.value.code == "budget_training_hidden"


def test_the_defaults_fit_with_room_to_spare():
    check_training(100, 128, 1, 60, 32)
    assert training_step_bytes(100, 256, 1, 60, 32).bytes < WORKER_BUDGET / 10
