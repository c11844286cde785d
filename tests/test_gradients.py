"""Backpropagation through time against finite differences, in float64 (relative error < 1e-6)."""

import numpy as np
import pytest
from conftest import random_batch, small_model

import lstm_core.sequence as sequence
from lstm_core.cell import lstm_step, lstm_step_backward
from lstm_core.cells import cell_kind
from lstm_core.gradcheck import check_gradients, numerical_gradient, relative_error
from lstm_core.sequence import layer_backward, layer_forward

TOL = 1e-6


def time_major(model, x, y):
    return model.time_major(x), np.ascontiguousarray(np.asarray(y).T)


CELLS = ["lstm", "gru", "rnn"]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("kind", ["char-lm", "echo"])
def test_full_bptt_matches_finite_differences(cell, layers, kind):
    model = small_model(kind, cell, layers, hidden=4, seed=layers)
    x, y = random_batch(model, B=3, T=7)
    result = check_gradients(model, *time_major(model, x, y), max_entries=None)
    assert result.max_relative_error < TOL, result.per_weight
    assert result.entries_checked == model.config.num_parameters()


@pytest.mark.parametrize("cell", CELLS)
def test_three_layers_match_finite_differences(cell):
    model = small_model("char-lm", cell, 3, hidden=3)
    x, y = random_batch(model, B=2, T=5)
    result = check_gradients(model, *time_major(model, x, y), max_entries=25)
    assert result.max_relative_error < TOL, result.per_weight


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("kind", ["char-lm", "echo"])
def test_truncated_window_gradient_matches_finite_differences(cell, kind):
    """Truncated BPTT: a window starts from a carried state that is held fixed."""
    model = small_model(kind, cell, 2, hidden=4, seed=3)
    x, y = random_batch(model, B=2, T=12)
    xt, yt = time_major(model, x, y)
    carried = model.forward(xt[:6]).final_state()  # the state the first window leaves behind
    result = check_gradients(model, xt[6:], yt[6:], state=carried, max_entries=None)
    assert result.max_relative_error < TOL, result.per_weight


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_per_step_path_matches_finite_differences(monkeypatch, cell):
    """Large problems apply the chain rule step by step; force that path on a small model."""
    monkeypatch.setattr(cell_kind(cell), "whole_limit", 0)
    for kind in ("char-lm", "echo"):
        model = small_model(kind, cell, 2, hidden=4, seed=5)
        x, y = random_batch(model, B=3, T=6)
        result = check_gradients(model, *time_major(model, x, y), max_entries=None)
        assert result.max_relative_error < TOL, result.per_weight


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_whole_sequence_and_per_step_paths_agree(monkeypatch, cell):
    model = small_model("char-lm", cell, 1, hidden=6, seed=2)
    x, y = random_batch(model, B=4, T=9)
    xt, yt = time_major(model, x, y)
    whole = model.gradients(xt, yt).grads.copy()
    monkeypatch.setattr(cell_kind(cell), "whole_limit", 0)
    per_step = model.gradients(xt, yt).grads
    np.testing.assert_allclose(whole, per_step, atol=1e-13)


@pytest.mark.parametrize(
    ("cell", "hidden", "whole"),
    [("lstm", 64, True), ("lstm", 128, False), ("gru", 128, True), ("gru", 256, False)],
)
def test_backward_takes_the_path_measured_faster_at_its_size(monkeypatch, cell, hidden, whole):
    """A training step at T=60, B=32: the whole-sequence local derivatives where they measured
    faster (see `whole_limit` in each cell's module), step by step where they did not."""
    kind, taken = cell_kind(cell), []
    backward = kind.backward

    def spy(*args):
        taken.append(args[-1])
        return backward(*args)

    monkeypatch.setattr(kind, "backward", spy)
    model = small_model("char-lm", cell, 1, hidden=hidden, seed=0, dtype=np.float32)
    xt, yt = time_major(model, *random_batch(model, B=32, T=60))
    model.gradients(xt, yt)
    assert taken == [whole]


@pytest.mark.parametrize("cell", CELLS)
def test_initial_state_gradient_matches_finite_differences(cell, rng):
    model = small_model("echo", cell, 2, hidden=3, seed=4)
    x, y = random_batch(model, B=2, T=5)
    xt, yt = time_major(model, x, y)
    state = tuple(
        (rng.standard_normal((2, 3)), rng.standard_normal((2, 3)) if cell == "lstm" else None)
        for _ in range(2)
    )
    analytic = model.gradients(xt, yt, state).state_grads
    for k in range(2):
        for which in (0, 1) if cell == "lstm" else (0,):
            numeric = numerical_gradient(
                lambda: model.gradients(xt, yt, state).loss, state[k][which]
            )
            assert relative_error(analytic[k][which].reshape(-1), numeric) < TOL


@pytest.mark.parametrize("cell", CELLS)
def test_truncation_stops_the_gradient_at_the_window_edge(cell):
    """Full BPTT over two windows = truncated BPTT on each + exactly the path across the edge.

    Truncated BPTT drops that cross-window path; adding it back (window 2's dL/dh0 and dL/dc0,
    backpropagated through window 1) recovers the full gradient to rounding.
    """
    model = small_model("echo", cell, 1, hidden=4, seed=6)
    B, T, H = 2, 10, 4
    x, y = random_batch(model, B=B, T=T)
    xt, yt = time_major(model, x, y)
    # work with summed losses: full sum = 20 · full mean = 10 · mean1 + 10 · mean2
    full = model.gradients(xt, yt).grads * (T * B)
    first = model.gradients(xt[:5], yt[:5])
    g1 = first.grads.copy()
    second = model.gradients(xt[5:], yt[5:], first.trace.final_state())
    truncated = (g1 + second.grads) * (5 * B)
    assert relative_error(full, truncated) > 1e-3  # truncation really loses something
    ((dh0, dc0),) = second.state_grads
    layer1 = model.forward(xt[:5]).layers[0]
    dc_last = None if dc0 is None else dc0 * (5 * B)
    lg = layer_backward(
        layer1, np.zeros((5, B, H)), model.p["W0"][:H], dh_last=dh0 * (5 * B), dc_last=dc_last
    )
    cross = model.grad_views(np.zeros_like(model.flat))
    sequence.weight_gradients(layer1, lg.da, cross["W0"], cross["b0"])
    recovered = truncated + np.concatenate([v.reshape(-1) for v in cross.values()])
    np.testing.assert_allclose(recovered, full, rtol=1e-9, atol=1e-12)


def test_keep_state_grads_reports_every_step():
    model = small_model("echo", "lstm", 1, hidden=3, seed=7)
    x, _ = random_batch(model, B=2, T=6)
    xt = model.time_major(x)
    W, b = model.p["W0"], model.p["b0"]
    tr = layer_forward("lstm", xt, W, b, np.zeros((2, 3)), np.zeros((2, 3)))
    dh_out = np.zeros((6, 2, 3))
    dh_out[5] = 1.0  # a loss on h_6 only: L = Σ h_6
    lg = layer_backward(tr, dh_out, W[:3], keep_state_grads=True)
    np.testing.assert_array_equal(lg.dh[6], 1.0)
    np.testing.assert_allclose(lg.dh[0], lg.dh0)
    np.testing.assert_allclose(lg.dc[0], lg.dc0)
    # finite differences of Σ h_6 with respect to h_2 (perturb the state at step 2, rerun)
    eps = 1e-6
    for unit in range(3):
        tail = xt[2:]
        h2, c2 = tr.h[2].copy(), tr.c[2].copy()
        up, down = h2.copy(), h2.copy()
        up[0, unit] += eps
        down[0, unit] -= eps
        f_up = layer_forward("lstm", tail, W, b, up, c2).h[-1].sum()
        f_down = layer_forward("lstm", tail, W, b, down, c2).h[-1].sum()
        assert abs((f_up - f_down) / (2 * eps) - lg.dh[2][0, unit]) < 1e-7


def test_single_step_backward_matches_finite_differences(rng):
    """lstm_step_backward on its own (no precomputed factors), loss = Σ w_h·h + Σ w_c·c."""
    B, D, H = 2, 3, 4
    x, h, c = rng.standard_normal((B, D)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    W, b = rng.standard_normal((H + D, 4 * H)), rng.standard_normal(4 * H)
    wh, wc = rng.standard_normal((B, H)), rng.standard_normal((B, H))

    def loss(W_):
        s = lstm_step(x, h, c, W_, b)
        return float((wh * s.h).sum() + (wc * s.c).sum())

    step = lstm_step(x, h, c, W, b)
    grads = lstm_step_backward(step, wh, wc, np.ascontiguousarray(W[:H].T))
    dW = np.concatenate([h, x], 1).T @ grads.da.all
    numeric = numerical_gradient(lambda: loss(W), W)
    assert relative_error(dW.reshape(-1), numeric) < TOL


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_dropout_gradient_matches_finite_differences_with_the_same_mask(cell):
    model = small_model("char-lm", cell, 2, hidden=4, seed=8)
    x, y = random_batch(model, B=2, T=5)
    xt, yt = time_major(model, x, y)

    def run():
        return model.gradients(xt, yt, dropout=0.3, rng=np.random.default_rng(99))

    analytic = model.grad_views(run().grads.copy())
    for name in ("W0", "W1", "Wy"):
        idx = np.arange(0, model.p[name].size, 7)
        numeric = numerical_gradient(lambda: run().loss, model.p[name], idx)
        assert relative_error(analytic[name].reshape(-1)[idx], numeric) < TOL


def test_public_gradients_are_keyed_like_the_checkpoint():
    from lstm_core.checkpoint import state_dict_shapes

    for cell in CELLS:
        model = small_model("char-lm", cell, 2, hidden=3)
        x, y = random_batch(model)
        loss, grads = model.loss_and_gradients(x, y)
        shapes = state_dict_shapes(model.config)
        assert set(grads) == set(shapes)
        for key, g in grads.items():
            assert g.shape == shapes[key], key
        assert np.isfinite(loss) and loss > 0


@pytest.mark.parametrize("kind", ["char-lm", "echo"])
def test_public_gradients_refuse_targets_outside_the_outputs(kind):
    model = small_model(kind, "lstm", 1, hidden=3)
    x, y = random_batch(model)
    top = model.config.output_size
    for bad, why in (
        (np.full_like(y, top), f"0..{top - 1}"),
        (np.full_like(y, -1), f"0..{top - 1}"),
        (y.astype(float), "integers"),
    ):
        with pytest.raises(ValueError, match=why):
            model.loss_and_gradients(x, bad)
