"""The GRU: torch.nn.GRU's equations, its records, its belt, and learning the echo task."""

from dataclasses import replace

import numpy as np
import pytest
from conftest import random_batch, small_model

from lstm_core import (
    Clamp,
    EchoConfig,
    EchoTrainer,
    Model,
    echo_accuracy,
    generate,
    load_checkpoint,
)
from lstm_core.analysis import belt_flow
from lstm_core.gradcheck import numerical_gradient, relative_error
from lstm_core.gru import (
    GRUStep,
    gru_local_derivatives,
    gru_step,
    gru_step_backward,
    split_gru,
)
from lstm_core.sequence import layer_forward


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def reference_gru_step(x, h, W, b):
    """torch.nn.GRU's documented equations, one matrix per gate, the slow obvious way.
    W (H + D, 3H) rows [h; x], blocks r | z | n; b = [b_ih | b_hh] (6H,)."""
    H = h.shape[1]
    W_h, W_x = W[:H], W[H:]
    W_ir, W_iz, W_in = (W_x[:, k * H : (k + 1) * H] for k in range(3))
    W_hr, W_hz, W_hn = (W_h[:, k * H : (k + 1) * H] for k in range(3))
    b_ir, b_iz, b_in, b_hr, b_hz, b_hn = (b[k * H : (k + 1) * H] for k in range(6))
    r = sigmoid(x @ W_ir + b_ir + h @ W_hr + b_hr)
    z = sigmoid(x @ W_iz + b_iz + h @ W_hz + b_hz)
    n = np.tanh(x @ W_in + b_in + r * (h @ W_hn + b_hn))
    return r, z, n, (1 - z) * n + z * h


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_step_matches_torchs_equations(rng, dtype):
    B, D, H = 3, 5, 4
    x, h = (rng.standard_normal(s).astype(dtype) for s in ((B, D), (B, H)))
    W = rng.standard_normal((H + D, 3 * H)).astype(dtype)
    b = rng.standard_normal(6 * H).astype(dtype)
    step = gru_step(x, h, W, b)
    r, z, n, h_new = reference_gru_step(x, h, W, b)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for got, want in ((step.r, r), (step.z, z), (step.n, n), (step.h, h_new)):
        np.testing.assert_allclose(got, want, atol=tol, rtol=tol)
    np.testing.assert_allclose(step.hn, h @ W[:H, 2 * H :] + b[5 * H :], atol=tol * 10)
    np.testing.assert_allclose(np.tanh(step.pre.n), n, atol=tol)  # pre.n is what enters tanh
    np.testing.assert_allclose(sigmoid(step.pre.rz), step.gates.rz, atol=tol)
    assert step.h_prev is h and isinstance(step, GRUStep)
    with pytest.raises(AttributeError):
        step.h = h  # an immutable record


def test_update_gate_one_keeps_the_state(rng):
    """z = 1 (the valve clamped shut): h_t = h_{t-1} at every step, whatever the input (to
    rounding: h = n + z ⊙ (h_{t-1} - n), as PyTorch computes it)."""
    model = small_model("char-lm", "gru", hidden=5)
    x, _ = random_batch(model, B=2, T=8)
    h0 = rng.standard_normal((2, 5))
    trace = model.run(x, state=((h0, None),), clamps=tuple(Clamp("z", u, 1.0) for u in range(5)))
    for t in range(9):
        np.testing.assert_allclose(trace.layers[0].h[t], h0, rtol=0, atol=1e-15)


def test_a_clamp_holds_a_gate_from_its_start_step():
    model = small_model("char-lm", "gru", hidden=4)
    x, _ = random_batch(model, B=1, T=6)
    free, held = model.run(x), model.run(x, clamps=(Clamp("n", 1, 0.25, start=2),))
    n_free, n_held = free.layers[0].gate("n"), held.layers[0].gate("n")
    np.testing.assert_array_equal(n_held[:2], n_free[:2])
    np.testing.assert_array_equal(n_held[2:, :, 1], 0.25)
    with pytest.raises(ValueError, match="no gate 'f'"):
        model.run(x, clamps=(Clamp("f", 0, 1.0),))


def test_the_layer_is_the_step_repeated(rng):
    model = small_model("echo", "gru", hidden=4)
    W, b = model.p["W0"], model.p["b0"]
    x = rng.integers(0, 2, (7, 3, 1)).astype(np.float64)
    h0 = rng.standard_normal((3, 4))
    trace = layer_forward("gru", x, W, b, h0)
    h = h0
    for t in range(7):
        ref, rec = gru_step(x[t], h, W, b), trace.step(t)
        for name in ("h", "hn"):
            np.testing.assert_allclose(getattr(rec, name), getattr(ref, name), atol=1e-12)
        np.testing.assert_allclose(rec.gates.all, ref.gates.all, atol=1e-12)
        np.testing.assert_allclose(rec.pre.all, ref.pre.all, atol=1e-12)
        h = ref.h
    np.testing.assert_array_equal(trace.step(3).h_prev, trace.step(2).h)  # views, no copies
    assert trace.c is None and trace.memory is trace.h


def test_trace_shapes_and_state():
    model = small_model("char-lm", "gru", 3, hidden=6)
    x, _ = random_batch(model, B=2, T=5)
    trace = model.run(x)
    for layer in trace.layers:
        assert layer.gates.shape == layer.pre.shape == (5, 2, 18)
        assert layer.hn.shape == (5, 2, 6) and layer.h.shape == (6, 2, 6)
        assert [layer.gate(g).shape for g in "rzn"] == [(5, 2, 6)] * 3
    assert all(c is None for _, c in trace.final_state())
    assert all(c is None for _, c in model.zero_state(2))
    assert model.p["b0"].shape == (36,)  # b_ih | b_hh, 3H each
    assert "GRU" in repr(model)


def test_local_derivatives_on_one_step_and_on_many_agree():
    model = small_model("char-lm", "gru", hidden=3)
    x, _ = random_batch(model, B=2, T=4)
    layer = model.run(x).layers[0]
    whole = gru_local_derivatives(split_gru(layer.gates), layer.h[:-1], layer.hn)
    for t in range(4):
        st = layer.step(t)
        one = gru_local_derivatives(st.gates, st.h_prev, st.hn)
        for a, b in zip(one, whole, strict=True):
            np.testing.assert_allclose(a.all, b.all[t], atol=1e-14)


def test_single_step_backward_matches_finite_differences(rng):
    """gru_step_backward on its own, loss = Σ w·h_t: dW = [h; x]-rows times da_h and da."""
    B, D, H = 2, 3, 4
    x, h = rng.standard_normal((B, D)), rng.standard_normal((B, H))
    W, b, w = (
        rng.standard_normal((H + D, 3 * H)),
        rng.standard_normal(6 * H),
        rng.standard_normal((B, H)),
    )

    def loss() -> float:
        return float((w * gru_step(x, h, W, b).h).sum())

    step = gru_step(x, h, W, b)
    da, da_h, dh_prev = gru_step_backward(step, w, np.ascontiguousarray(W[:H].T))
    dW = np.concatenate([h.T @ da_h.all, x.T @ da.all])
    db = np.concatenate([da.all.sum(0), da_h.all.sum(0)])
    assert relative_error(dW.reshape(-1), numerical_gradient(loss, W)) < 1e-6
    assert relative_error(db, numerical_gradient(loss, b)) < 1e-6
    assert relative_error(dh_prev.reshape(-1), numerical_gradient(loss, h)) < 1e-6


def test_the_update_gate_is_the_belts_valve():
    """A GRU's belt is h: kept = z h_{t-1}, added = (1 - z) n, and they sum to h_t."""
    model = small_model("char-lm", "gru", hidden=4, seed=2)
    x, _ = random_batch(model, B=2, T=7)
    layer = model.run(x).layers[0]
    flow = belt_flow(layer, 1, 2)
    z = layer.gate("z")[:, 1, 2]
    np.testing.assert_allclose(flow.kept, z * layer.h[:-1, 1, 2], atol=1e-14)
    np.testing.assert_allclose(flow.kept + flow.added, flow.c, atol=1e-12)
    np.testing.assert_allclose(flow.kept + flow.removed, flow.c_prev, atol=1e-14)
    with pytest.raises(ValueError, match="no belt"):
        belt_flow(small_model("char-lm", "rnn").run(x).layers[0], 0, 0)


def test_generation_carries_the_state():
    """Sampling step by step gives the distributions of one pass over prime + continuation."""
    model = small_model("char-lm", "gru", 2, hidden=8, seed=4)
    steps = list(generate(model, "abcab", 20, seed=0))
    assert all(isinstance(r, GRUStep) for r in steps[0].steps)
    full = "abcab" + "".join(s.char for s in steps)
    ids = np.array([model.config.vocab.index(ch) for ch in full])
    probs = model.run(ids[None, :]).probs[:, 0]
    for k, s in enumerate(steps):
        np.testing.assert_allclose(s.raw_probs, probs[4 + k], atol=1e-10)


@pytest.mark.slow
def test_a_gru_learns_the_echo_task():
    """The notebook's echo task (echo_step 3, window 15, 4 units, Adagrad 0.3) with a GRU in
    place of the LSTM: 99% on fresh data. Seeds 0-4 each got there after their first epoch
    (0.9999-1.0, under a second each here); up to 5 epochs allowed."""
    for seed in range(5):
        config = EchoConfig(num_epochs=5, seed=seed)
        gru = replace(config.model_config(), cell="gru")  # the echo settings, with a GRU
        trainer = EchoTrainer(config, Model.create(gru, np.random.default_rng(seed)))
        accuracy = trainer.train_until(0.99)
        assert accuracy >= 0.99, (seed, accuracy, trainer.epoch)
        assert echo_accuracy(trainer.model, config, seed=777) >= 0.98


def test_the_command_line_trains_and_inspects_a_gru(tmp_path, capsys):
    from lstm_core.cli import main

    text = tmp_path / "t.txt"
    text.write_text("the keeper climbed the stair and lit the lamp. " * 40, encoding="utf-8")
    out = tmp_path / "m.npz"
    args = ["train-text", "--text", str(text), "--out", str(out), "--cell", "gru"]
    assert main([*args, "--hidden-size", "8", "--steps", "3", "--seq-length", "10"]) == 0
    model = load_checkpoint(out)
    assert model.config.cell == "gru" and model.p["W0"].shape[1] == 24
    capsys.readouterr()
    assert main(["inspect", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "char-lm, GRU, 1 layer(s) of 8 units" in shown and "gru.bias_hh_l0" in shown
