"""A fresh model starts as PyTorch starts one: uniform ±1/√H weights, two summed uniform biases."""

import numpy as np
import pytest

from lstm_core import Model, ModelConfig


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
def test_weights_and_biases_are_drawn_as_pytorch_draws_them(cell):
    H, V = 64, 30
    vocab = tuple(chr(65 + k) for k in range(V))
    model = Model.create(ModelConfig("char-lm", cell, V, H, 2, V, vocab=vocab), seed=3)
    bound = 1 / np.sqrt(H)
    for name, view in model.p.items():
        limit = 2 * bound if name.startswith("b") and name != "by" else bound
        assert np.abs(view).max() <= limit, name
        assert np.abs(view).max() > 0.8 * limit, name  # the whole range is used, not a corner
        assert np.count_nonzero(view) == view.size, name  # no bias left at zero
    flat = np.concatenate([model.p[f"W{k}"].ravel() for k in range(2)])
    assert flat.var() == pytest.approx(bound**2 / 3, rel=0.05)  # the variance of U(±1/√H)
    b = np.concatenate([model.p[f"b{k}"] for k in range(2)])
    assert b.var() == pytest.approx(2 * bound**2 / 3, rel=0.15)  # b_ih + b_hh: twice that


def test_a_gru_draws_each_of_its_two_biases_as_pytorch_does():
    """nn.GRU: every weight and each bias (b_ih and b_hh, kept apart here) uniform in ±1/√H."""
    H, V = 64, 30
    vocab = tuple(chr(65 + k) for k in range(V))
    model = Model.create(ModelConfig("char-lm", "gru", V, H, 2, V, vocab=vocab), seed=3)
    bound = 1 / np.sqrt(H)
    for name, view in model.p.items():
        assert bound >= np.abs(view).max() > 0.8 * bound, name
        assert np.count_nonzero(view) == view.size, name
    b = np.concatenate([model.p[f"b{k}"] for k in range(2)])
    assert b.shape == (2 * 6 * H,) and b.var() == pytest.approx(bound**2 / 3, rel=0.15)
    forget = Model.create(ModelConfig("echo", "gru", 1, 8, 1, 2), seed=1, forget_bias=1.0)
    assert np.array_equal(forget.flat, Model.create(forget.config, seed=1).flat)  # no f gate


def test_a_forget_bias_is_added_to_the_forget_block_only():
    config = ModelConfig("echo", "lstm", 1, 16, 1, 2)
    plain, opened = Model.create(config, seed=1), Model.create(config, seed=1, forget_bias=1.0)
    diff = opened.p["b0"] - plain.p["b0"]
    np.testing.assert_allclose(diff[:16], 1.0, rtol=1e-6)  # blocks f|i|c~|o: f moved
    assert not diff[16:].any() and np.array_equal(opened.p["W0"], plain.p["W0"])


def test_the_seed_decides_the_start():
    config = ModelConfig("echo", "rnn", 1, 8, 1, 2)
    assert np.array_equal(Model.create(config, seed=5).flat, Model.create(config, seed=5).flat)
    assert not np.array_equal(Model.create(config, seed=5).flat, Model.create(config, seed=6).flat)


def test_reprs_are_one_short_line():
    model = Model.create(ModelConfig("echo", "lstm", 1, 32, 2, 2), seed=0)
    trace = model.run(np.zeros((3, 50), int))
    for thing in (
        model,
        trace,
        trace.layers[0],
        trace.layers[0].steps[0],
        trace.layers[0].steps[0].gates,
    ):
        text = repr(thing)
        assert "\n" not in text and len(text) < 120 and "array(" not in text, text
    assert "2 layers" in repr(model) and "T=50, B=3" in repr(trace)
