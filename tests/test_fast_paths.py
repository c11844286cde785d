"""What the engine does for speed: buffers on a 64-byte boundary (lstm_core/buffers.py), a
softmax with one shift where one is enough, W_h transposed in slabs, a training trace whose LSTM
gates take the place of their pre-activations; each giving what the plain way gives."""

import numpy as np
import pytest

from lstm_core import buffers, sequence
from lstm_core.cells import cell_kind
from lstm_core.model import Model, ModelConfig, softmax
from lstm_core.optim import make_optimizer
from lstm_core.training import TextSettings, TextTrainer


def offset(a: np.ndarray) -> int:
    return a.ctypes.data % buffers.ALIGNMENT


@pytest.mark.parametrize("shape", [0, 1, 7, (3, 5), (2, 3, 65), (60, 32, 1024)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.intp, np.uint8])
def test_empty_and_zeros_have_the_shape_and_dtype_asked_for_on_the_boundary(shape, dtype):
    for a in (buffers.empty(shape, dtype), buffers.zeros(shape, dtype)):
        assert a.shape == ((shape,) if isinstance(shape, int) else shape)
        assert a.dtype == dtype and a.flags.c_contiguous and a.flags.writeable
        assert buffers.aligned(a) == (offset(a) == 0)
        if a.size:  # (an empty array has no first element to place)
            assert offset(a) == 0
    assert not buffers.zeros(shape, dtype).any()
    like = buffers.empty_like(np.ones((4, 3), dtype))
    assert like.shape == (4, 3) and like.dtype == dtype and offset(like) == 0


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("optimizer", ["adam", "adagrad", "sgd"])
def test_what_a_training_step_multiplies_starts_on_the_boundary(cell, optimizer, monkeypatch):
    """Two layers: in the flat vector W1 may start past a boundary (the GRU's does here), and
    then its recurrent block must be multiplied from an aligned copy."""
    kind = cell_kind(cell)
    seen = []
    forward = type(kind).forward

    def spy(self, trace, W_h, *rest):
        seen.append(offset(W_h))
        return forward(self, trace, W_h, *rest)

    monkeypatch.setattr(type(kind), "forward", spy)
    V, H = 11, 24
    config = ModelConfig("char-lm", cell, V, H, 2, V, vocab=tuple("abcdefghijk"))
    model = Model.create(config, seed=0)
    assert offset(model.flat) == 0
    ids = np.random.default_rng(0).integers(0, V, 2_000)
    trainer = TextTrainer(model, ids, TextSettings(12, 4, 1e-2, optimizer, clip_norm=5.0))
    for _ in range(3):
        trainer.step()
        assert offset(trainer.model.flat) == 0  # the optimizer's new weights
        assert offset(trainer.model.p["W0"]) == 0
        for name in ("l0", "l1"):
            tr = trainer.ws._traces[name]
            arrays = {"pre": tr.pre, "h": tr.h} | {
                k: v for k, v in tr._scratch.items() if isinstance(v, np.ndarray)
            }
            assert "W_hT" in arrays and "da" in arrays and "hx" in arrays
            assert {k: offset(v) for k, v in arrays.items()} == dict.fromkeys(arrays, 0)
    assert seen == [0] * 6  # both layers, three steps
    unaligned = {name: offset(w) for name, w in trainer.model.p.items() if offset(w)}
    if cell == "gru":  # its biases are 2G wide: W1 starts 32 bytes past a boundary
        assert "W1" in unaligned  # so the case the copy is for does happen


def test_the_optimizers_leave_their_inputs_alone_and_keep_the_dtype():
    p = {"params": np.linspace(-1, 1, 1000)}  # float64
    g = {"params": np.cos(np.arange(1000.0))}
    for name in ("adam", "adagrad", "sgd"):
        opt = make_optimizer(name, 0.1)
        before = p["params"].copy()
        new, _ = opt.update(p, g, opt.init(p))
        assert new["params"].dtype == np.float64 and offset(new["params"]) == 0
        assert np.array_equal(p["params"], before) and not np.array_equal(new["params"], before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 5, 13), (60, 8, 13)])  # below and above _ONE_SHIFT_FROM
def test_softmax_gives_every_row_its_own_distribution_however_far_apart_the_rows_sit(dtype, shape):
    """One shift for the whole array when the logits lie close together, a shift per row when
    they do not: both must give what a per-row softmax in float64 gives."""
    rng = np.random.default_rng(0)
    for spread in (0.1, 3.0, 20.0, 60.0, 400.0, 5000.0):
        logits = (rng.standard_normal(shape) * spread).astype(dtype)
        logits[0, 0] += 3 * spread  # one row far above the rest
        wide = logits.astype(np.float64)
        want = np.exp(wide - wide.max(-1, keepdims=True))
        want /= want.sum(-1, keepdims=True)
        got = softmax(logits, out=np.empty_like(logits))
        assert got.dtype == dtype and np.isfinite(got).all()
        tolerance = 2e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got, want, rtol=tolerance, atol=1e-30)
    far = np.full(shape, -50.0, dtype)
    far[..., :2] = [0.0, -1.0]
    far[0, 0, :2] = [1000.0, 999.0]  # a single shift by 1000 would zero every other row
    want = np.zeros(shape)
    want[..., :2] = [0.7310586, 0.2689414]
    np.testing.assert_allclose(softmax(far), want, rtol=1e-6, atol=1e-20)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape", [(32, 128), (64, 256), (48, 192), (256, 1024), (40, 600), (96, 288)]
)
def test_transposed_gives_the_transpose_on_either_side_of_its_size(shape, dtype):
    """Small arrays and widths that are no multiple of the slab go the plain way, the rest in
    slabs; both must be a.T exactly, contiguous, and kept by the trace for the next pass."""
    rng = np.random.default_rng(1)
    W = rng.standard_normal((shape[0] + 5, shape[1])).astype(dtype)
    a = W[: shape[0]]  # the recurrent rows of a layer's W, as layer_backward passes them
    trace = sequence.LayerTrace.allocate("lstm", 2, 1, 4, np.zeros((2, 1), np.intp), dtype)
    out = sequence.transposed(trace, a)
    assert out.dtype == dtype and out.flags.c_contiguous and np.array_equal(out, a.T)
    a[...] = rng.standard_normal(a.shape)  # the weights after an update: the same buffer, anew
    again = sequence.transposed(trace, a)
    assert again is out and np.array_equal(again, a.T)
    assert np.array_equal(sequence.transposed(trace, a.T.copy().T), a.T)  # a non-contiguous a


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_a_training_trace_gives_the_gradients_of_a_trace_that_keeps_everything(cell):
    """In a workspace (training) an LSTM's gates are computed in the place of the
    pre-activations; the gradients must not change, and a trace made for a page keeps both."""
    V, H, T, B = 11, 24, 12, 4
    config = ModelConfig("char-lm", cell, V, H, 2, V, vocab=tuple("abcdefghijk"))
    model = Model.create(config, seed=3)
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))
    ws = sequence.Workspace()
    for _ in range(2):  # the workspace's traces are reused by the second pass
        trained = model.gradients(x, y, None, 0.0, None, ws)
    page = model.gradients(x, y)
    assert trained.loss == page.loss
    np.testing.assert_array_equal(trained.grads, page.grads)
    for k in range(2):
        mine, kept = trained.trace.layers[k], page.trace.layers[k]
        assert kept.keep_pre and not mine.keep_pre
        if cell != "rnn":  # (an RNN has no gates)
            assert not np.shares_memory(kept.pre, kept.gates)
            assert np.shares_memory(mine.pre, mine.gates) == (cell == "lstm")
            np.testing.assert_array_equal(mine.gates, kept.gates)
