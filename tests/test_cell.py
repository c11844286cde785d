"""One step and one sequence: the equations, the records, the invariants."""

import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, random_batch, small_model

from lstm_core import Clamp, lstm_step, rnn_step
from lstm_core.cell import GATES, lstm_local_derivatives, split_gates
from lstm_core.sequence import LayerTrace, layer_forward


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def reference_lstm_step(x, h, c, W, b):
    """Equations (1)-(6) written the slow, obvious way: one matrix per gate."""
    H = h.shape[1]
    z = np.concatenate([h, x], axis=1)  # [h_{t-1}, x_t]
    W_f, W_i, W_c, W_o = (W[:, k * H : (k + 1) * H] for k in range(4))
    b_f, b_i, b_c, b_o = (b[k * H : (k + 1) * H] for k in range(4))
    f = sigmoid(z @ W_f + b_f)
    i = sigmoid(z @ W_i + b_i)
    c_tilde = np.tanh(z @ W_c + b_c)
    o = sigmoid(z @ W_o + b_o)
    c_new = f * c + i * c_tilde
    return f, i, c_tilde, o, c_new, o * np.tanh(c_new)


def test_lstm_core_imports_no_ui_libraries():
    code = (
        "import lstm_core, sys; print(sorted({'streamlit','plotly','pandas'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_lstm_core_sources_name_no_ui_library():
    for path in (ROOT / "lstm_core").glob("*.py"):
        text = path.read_text()
        for lib in ("streamlit", "plotly", "pandas"):
            assert f"import {lib}" not in text and f"from {lib}" not in text, path


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_step_matches_the_equations(rng, dtype):
    B, D, H = 3, 5, 4
    x = rng.standard_normal((B, D)).astype(dtype)
    h = rng.standard_normal((B, H)).astype(dtype)
    c = rng.standard_normal((B, H)).astype(dtype)
    W = rng.standard_normal((H + D, 4 * H)).astype(dtype)
    b = rng.standard_normal(4 * H).astype(dtype)
    step = lstm_step(x, h, c, W, b)
    f, i, g, o, c_new, h_new = reference_lstm_step(x, h, c, W, b)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for got, want in [
        (step.f, f),
        (step.i, i),
        (step.g, g),
        (step.o, o),
        (step.c, c_new),
        (step.h, h_new),
    ]:
        np.testing.assert_allclose(got, want, atol=tol, rtol=tol)
    np.testing.assert_allclose(
        step.pre.all, np.concatenate([h, x], 1) @ W + b, atol=tol * 10, rtol=tol
    )
    np.testing.assert_allclose(step.tanh_c, np.tanh(c_new), atol=tol)
    assert step.h_prev is h and step.c_prev is c
    assert step.pre.f.shape == step.gates.o.shape == (B, H)


def test_record_is_immutable():
    step = lstm_step(
        np.zeros((1, 2)), np.zeros((1, 3)), np.zeros((1, 3)), np.zeros((5, 12)), np.zeros(12)
    )
    with pytest.raises(AttributeError):
        step.c = np.ones((1, 3))


def test_zero_weights_open_every_valve_halfway():
    H = 3
    step = lstm_step(
        np.ones((2, 4)),
        np.ones((2, H)),
        np.full((2, H), 0.7),
        np.zeros((H + 4, 4 * H)),
        np.zeros(4 * H),
    )
    for gate in (step.f, step.i, step.o):
        np.testing.assert_array_equal(gate, 0.5)
    np.testing.assert_array_equal(step.g, 0.0)  # tanh(0)
    np.testing.assert_allclose(step.c, 0.35)  # half of the belt survives, nothing is added


def test_forget_one_input_zero_keeps_the_belt_exactly(rng):
    """f = 1, i = 0 (valves clamped): c_t = c_{t-1} at every step, whatever the input."""
    model = small_model(hidden=5)
    x, _ = random_batch(model, B=2, T=8)
    c0 = rng.standard_normal((2, 5))
    h0 = rng.standard_normal((2, 5))
    clamps = (Clamp("f", u, 1.0) for u in range(5))
    clamps = (*clamps, *(Clamp("i", u, 0.0) for u in range(5)))
    trace = model.run(x, state=((h0, c0),), clamps=clamps)
    layer = trace.layers[0]
    for t in range(9):
        np.testing.assert_array_equal(layer.c[t], c0)


def test_large_forget_bias_keeps_the_belt_nearly():
    model = small_model(hidden=3)
    model.p["b0"][:3] = 30.0  # f = σ(30) ≈ 1
    model.p["b0"][3:6] = -30.0  # i = σ(-30) ≈ 0
    x, _ = random_batch(model, B=1, T=5)
    c0 = np.array([[0.3, -0.2, 0.9]])
    trace = model.run(x, state=((np.zeros((1, 3)), c0),))
    np.testing.assert_allclose(trace.layers[0].c[-1], c0, atol=1e-9)


def test_a_clamp_acts_from_its_start_step_only():
    model = small_model(hidden=4)
    x, _ = random_batch(model, B=1, T=6)
    free = model.run(x)
    held = model.run(x, clamps=(Clamp("o", 2, 0.0, start=3),))
    o_free, o_held = free.layers[0].gate("o"), held.layers[0].gate("o")
    np.testing.assert_array_equal(o_held[:3], o_free[:3])
    np.testing.assert_array_equal(o_held[3:, :, 2], 0.0)
    np.testing.assert_array_equal(
        held.layers[0].h[4:, :, 2], 0.0
    )  # a shut output valve shows nothing
    assert not np.allclose(held.probs[3:], free.probs[3:])


def test_sequence_is_the_step_repeated(rng):
    """The runner's records equal a loop of lstm_step calls, state carried by hand."""
    model = small_model(kind="echo", hidden=4)
    W, b, H = model.p["W0"], model.p["b0"], 4
    x = rng.integers(0, 2, (7, 3, 1)).astype(np.float64)
    h0, c0 = rng.standard_normal((3, H)), rng.standard_normal((3, H))
    trace = layer_forward("lstm", x, W, b, h0, c0)
    h, c = h0, c0
    for t in range(7):
        ref = lstm_step(x[t], h, c, W, b)
        rec = trace.step(t)
        for name in ("c", "h", "tanh_c"):
            np.testing.assert_allclose(getattr(rec, name), getattr(ref, name), atol=1e-12)
        np.testing.assert_allclose(rec.gates.all, ref.gates.all, atol=1e-12)
        np.testing.assert_allclose(rec.pre.all, ref.pre.all, atol=1e-12)
        h, c = ref.h, ref.c
    np.testing.assert_array_equal(trace.h[0], h0)
    assert trace.step(3).h_prev is trace.steps[3].h_prev
    np.testing.assert_array_equal(trace.step(3).h_prev, trace.step(2).h)  # no copies between steps


def test_rnn_step_is_tanh_of_the_affine_map(rng):
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    W, b = rng.standard_normal((7, 4)), rng.standard_normal(4)
    step = rnn_step(x, h, W, b)
    np.testing.assert_allclose(step.h, np.tanh(np.concatenate([h, x], 1) @ W + b), atol=1e-12)


def test_trace_shapes_for_every_layer():
    model = small_model(layers=3, hidden=6)
    x, _ = random_batch(model, B=2, T=5)
    trace = model.run(x)
    assert len(trace.layers) == 3
    for layer in trace.layers:
        assert layer.h.shape == layer.c.shape == (6, 2, 6)  # T + 1 states
        assert layer.gates.shape == layer.pre.shape == (5, 2, 24)
        for g in GATES:
            assert layer.gate(g).shape == (5, 2, 6)
    assert trace.probs.shape == (5, 2, 5)
    np.testing.assert_allclose(trace.probs.sum(-1), 1.0)
    (h, _), *_ = trace.final_state()
    np.testing.assert_array_equal(h, trace.layers[0].h[-1])


def test_final_state_continues_the_sequence():
    """Running [a, b] in one go equals running a, then b from a's final state."""
    model = small_model(layers=2)
    x, _ = random_batch(model, B=2, T=10)
    whole = model.run(x)
    first = model.run(x[:, :4])
    second = model.run(x[:, 4:], state=first.final_state())
    np.testing.assert_allclose(second.probs, whole.probs[4:], atol=1e-12)


def test_local_derivatives_on_one_step_and_on_many_agree(rng):
    model = small_model(hidden=3)
    x, _ = random_batch(model, B=2, T=4)
    layer = model.run(x).layers[0]
    whole, belt = lstm_local_derivatives(split_gates(layer.gates), layer.c[:-1], layer.tanh_c)
    for t in range(4):
        st = layer.step(t)
        one, b1 = lstm_local_derivatives(st.gates, st.c_prev, st.tanh_c)
        np.testing.assert_allclose(one.all, whole.all[t], atol=1e-14)
        np.testing.assert_allclose(b1, belt[t], atol=1e-14)
    f = layer.gate("f")
    np.testing.assert_allclose(whole.f, layer.c[:-1] * f * (1 - f), atol=1e-14)


def test_unknown_cell_is_refused():
    with pytest.raises(ValueError, match="unknown cell"):
        LayerTrace.allocate("peephole", 2, 1, 3, np.zeros((2, 1, 1)), np.float64)


# ==================================================================== the page "Inside one step"
def _page():
    """The AppTest helpers, imported late: the core tests above need no Streamlit."""
    import test_app

    return test_app


def _upload(at, model, name="m.npz"):
    from lstm_core import checkpoint_bytes

    at.file_uploader(key="cell_upload").set_value(
        (name, checkpoint_bytes(model), "application/octet-stream")
    )
    return at.run()


def test_the_page_opens_an_uploaded_lstm_and_explains_an_rnn():
    app = _page()
    at = app.open_app("cell", model="upload")
    app.assert_clean(at)
    assert at.info and not app.charts(at)  # asks for a file first
    at = _upload(at, small_model("char-lm", "lstm", 2, hidden=5))
    app.assert_clean(at)
    assert len(app.charts(at)) == 3 and len(at.latex) == 6
    assert at.number_input(key="layer").value == 0  # two layers: a layer to choose
    at = _upload(
        app.open_app("cell", model="upload", lang="es"), small_model("echo", "rnn", 1, hidden=3)
    )
    app.assert_clean(at)
    assert any("RNN simple" in w.value and "una GRU" in w.value for w in at.warning)
    assert not app.charts(at)
    at = app.open_app("cell", model="upload")
    at.file_uploader(key="cell_upload").set_value(
        ("x.npz", b"not a zip", "application/octet-stream")
    ).run()
    app.assert_clean(at)
    assert len(at.error) == 1


def test_a_clamp_shows_the_clamped_run_in_the_drawing_and_the_equations():
    app = _page()
    setup = {
        "model": "text_en",
        "input": "the keeper",
        "unit": "3",
        "clamp_gate": "f",
        "clamp_unit": "3",
        "clamp_value": "0",
        "clamp_from": "2",
    }
    at = app.open_app("cell", step="4", **setup)
    app.assert_clean(at)
    assert any("Showing the clamped run" in i.value for i in at.info)
    notes = " ".join(a["text"] for a in app.charts(at)[0]["layout"]["annotations"])
    assert "f = 0.00" in notes  # the drawing: the held valve
    assert "held at" in at.latex[0].value and r"\mathbf{0.000}" in at.latex[0].value
    # the belt's equation uses the held valve too: c_t = 0 · c_{t-1} + i · c~
    assert r"= 0.000 \cdot" in at.latex[4].value
    vectors = app.charts(at)[1]
    assert _decode(vectors["data"][0]["y"])[3] == 0.0  # the bars: unit 3's forget gate is shut
    before = app.open_app("cell", step="1", **setup)  # the clamp has not started yet
    assert any("starts at step 2" in i.value for i in before.info)
    assert "held at" not in before.latex[0].value


def _decode(array: dict) -> np.ndarray:
    import base64

    return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])


def test_both_rows_of_answers_are_written_the_same_way_under_their_steps():
    app = _page()
    at = app.open_app(
        "cell",
        model="text_en",
        input="the keeper climbed",
        clamp_gate="g",
        clamp_unit="0",
        clamp_value="1",
        clamp_from="3",
    )
    app.assert_clean(at)
    figure = app.charts(at)[-3]  # the clamp's figure (then the Δc heatmap, then the valve)
    (rows,) = [d for d in figure["data"] if d["type"] == "heatmap"]
    alone, clamped = rows["text"]
    assert len(alone) == len(clamped) == len("the keeper climbed")  # one cell per step, aligned
    for row in (alone, clamped):
        assert " " not in row and "\n" not in row  # spaces and newlines written visibly, in both
    assert "␣" in alone + clamped
    changed = [a != b for a, b in zip(alone, clamped, strict=True)]
    z = _decode(rows["z"]).reshape(2, -1)
    assert list(z[1] > 0) == changed and sum(changed) >= 2  # the changed answers are highlighted
    assert not any("Answers left alone" in m.value for m in at.markdown)
