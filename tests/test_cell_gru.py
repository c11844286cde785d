"""The page "Inside one step" for every cell: the explanations dispatch through the cell registry,
the GRU's step drawn and written with its own numbers, its gates clamped, its sample and uploads."""

import base64
import json
import re

import numpy as np
import pytest
from conftest import ROOT, random_batch, small_model

from lstm_core import Clamp, checkpoint_bytes, load_checkpoint
from lstm_core.cells import NAMES, cell_kind
from lstm_core.explain import clamp_range, gate_parts, intervene, sigmoid, unit_step
from lstm_core.gru import GRUUnitStep, gru_step
from ui.figures import cell as cell_figs
from ui.i18n import LANGUAGES

GRU_SAMPLE = ROOT / "samples" / "echo_gru_h4.npz"
ECHO_EXAMPLE = "0110100111010011"  # ui/models.py EXAMPLES["echo"]: the page's input by default


def torch_gru_gates(model, layer, x_row, h_prev_row):
    """r, z, n and h' of one row, written from torch.nn.GRU's documented equations with the
    model's weights cut into PyTorch's blocks (W_ir, W_hr, ...), not from lstm_core.gru."""
    H = model.config.hidden_size
    W, b = model.p[f"W{layer}"], model.p[f"b{layer}"]
    W_h, W_x = W[:H], W[H:]
    b_ih, b_hh = b[: 3 * H], b[3 * H :]
    block = lambda a, k: a[..., k * H : (k + 1) * H]  # noqa: E731
    xi = x_row @ W_x if x_row.ndim else W_x[int(x_row)]  # one-hot input: the character's row
    hh = h_prev_row @ W_h
    r = sigmoid(block(xi, 0) + block(b_ih, 0) + block(hh, 0) + block(b_hh, 0))
    z = sigmoid(block(xi, 1) + block(b_ih, 1) + block(hh, 1) + block(b_hh, 1))
    n = np.tanh(block(xi, 2) + block(b_ih, 2) + r * (block(hh, 2) + block(b_hh, 2)))
    return r, z, n, (1 - z) * n + z * h_prev_row


# ---------------------------------------------------------------------------- the explanations
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", ["char-lm", "echo"])
def test_the_explanations_dispatch_for_every_cell(name, kind):
    """Parts that add up to the pre-activation for every gate of every cell (none for the RNN),
    the unit record of the cell's own step, and its equations' numbers naming its fields."""
    model = small_model(kind, name, 2, hidden=4, seed=2)
    cell = cell_kind(name)
    x, _ = random_batch(model, B=2, T=5)
    trace = model.run(x)
    for layer in (0, 1):
        step = trace.layers[layer].step(3)
        for unit in range(4):
            parts = gate_parts(model, layer, step, 1, unit)
            assert tuple(parts) == cell.gates
            for gate, p in parts.items():
                total = p.input + p.bias + p.scale * (p.recurrent + p.recurrent_bias)
                assert abs(total - p.pre) < 1e-12, gate
                assert abs(p.value - p.free) < 1e-12  # no clamp: the gate as it squashed
                assert (p.scale != 1.0) == (gate in cell.scaled_by)
            v = unit_step(step, 1, unit)
            assert v.h == step.h[1, unit] and v.h_prev == step.h_prev[1, unit]
            for _symbol, _formula, numbers, field in cell.tex_state:
                assert all(hasattr(v, f) for f in re.findall(r"<(\w+)>", numbers)), numbers
                assert getattr(v, field) == getattr(step, field)[1, unit]
    assert set(cell.tex) == set(cell.squash) == set(cell.gates)


def test_the_grus_parts_are_pytorchs_equations():
    """Each GRU gate's parts and value at one unit, against torch.nn.GRU's equations written out
    in this test; the candidate's recurrent part is scaled by r, with b_hn inside."""
    model = small_model("char-lm", "gru", 1, hidden=4, seed=5)
    x, _ = random_batch(model, B=1, T=4)
    layer = model.run(x).layers[0]
    H = 4
    b = model.p["b0"]
    for t in range(4):
        step = layer.step(t)
        r, z, n, h = torch_gru_gates(model, 0, x[0, t], step.h_prev[0])
        np.testing.assert_allclose(step.h[0], h, atol=1e-12)
        for unit in range(H):
            parts = gate_parts(model, 0, step, 0, unit)
            assert parts["r"].value == pytest.approx(r[unit], abs=1e-12)
            assert parts["z"].value == pytest.approx(z[unit], abs=1e-12)
            assert parts["n"].value == pytest.approx(n[unit], abs=1e-12)
            assert parts["n"].scale == pytest.approx(r[unit], abs=1e-12)
            assert parts["n"].recurrent_bias == b[3 * H + 2 * H + unit]  # b_hn
            assert parts["z"].bias == pytest.approx(b[H + unit] + b[4 * H + unit])  # b_iz + b_hz
            v = unit_step(step, 0, unit)
            assert isinstance(v, GRUUnitStep)
            assert v.kept + v.added == pytest.approx(v.h, abs=1e-12)  # z h_{t-1} + (1 - z) n


def test_a_grus_update_gate_held_at_one_freezes_the_state_and_the_rnn_has_nothing_to_clamp():
    model = small_model("echo", "gru", 1, hidden=3, seed=1)
    x, _ = random_batch(model, B=1, T=8)
    result = intervene(model, x, Clamp("z", 1, 1.0, start=3))
    h = result.after.layers[0].h[:, 0, 1]
    np.testing.assert_allclose(h[3:], h[3], atol=1e-12)  # h_3 = h_4 = ...: the valve keeps it all
    assert np.ptp(result.before.layers[0].h[3:, 0, 1]) > 0.01  # left alone, it moves
    np.testing.assert_array_equal(result.memory_change()[:2], 0.0)  # nothing before the clamp
    assert np.abs(result.memory_change()[3:]).max() > 0
    shut = intervene(model, x, Clamp("r", 0, 0.0, start=0)).after.layers[0]
    # r = 0: the candidate reads only the input, tanh(W_in x + b_in)
    for t in range(8):
        step = shut.step(t)
        p = gate_parts(model, 0, step, 0, 0)["n"]
        assert p.scale == 0.0 and p.pre == pytest.approx(p.input + p.bias, abs=1e-12)
    assert clamp_range(model, "n") == (-1.0, 1.0) and clamp_range(model, "z") == (0.0, 1.0)
    with pytest.raises(ValueError, match="has no gate 'f'"):
        intervene(model, x, Clamp("f", 0, 1.0))
    rnn = small_model("echo", "rnn", 1, hidden=3)
    with pytest.raises(ValueError, match="has no gate 'f'"):
        intervene(rnn, x, Clamp("f", 0, 1.0))


# ---------------------------------------------------------------------------- the figures
LABELS = {
    k: k.upper()
    for k in (
        *("input", "belt", "forget", "input_gate", "candidate", "output"),
        *("memory", "update", "reset", "recurrent"),
    )
}


def test_the_step_diagram_is_the_cells_own():
    models = {name: small_model("echo", name, 1, hidden=3, seed=4) for name in NAMES}
    x, _ = random_batch(models["gru"], B=1, T=5)
    gru_v = unit_step(models["gru"].run(x).layers[0].step(4), 0, 2)
    fig = cell_figs.step_diagram(gru_v, LABELS, gru_v.h_prev, "1")
    notes = " ".join(a.text for a in fig.layout.annotations)
    for text in (
        f"z = {gru_v.z:.2f}",
        f"r = {gru_v.r:.2f}",
        f"n = {gru_v.n:.2f}",
        f"h<sub>t</sub> = {gru_v.h:.2f}",
        f"z·h<sub>t-1</sub> = {gru_v.kept:.2f}",
        f"(1 − z)·n = {gru_v.added:.2f}",
        f"1 − z = {1 - gru_v.z:.2f}",
        "UPDATE",
        "MEMORY",
    ):
        assert text in notes, text
    assert "BELT" not in notes and "c<sub>t</sub>" not in notes  # no belt in a GRU
    lstm_v = unit_step(models["lstm"].run(x).layers[0].step(4), 0, 2)
    lstm_notes = " ".join(a.text for a in cell_figs.step_diagram(lstm_v, LABELS).layout.annotations)
    assert "BELT" in lstm_notes and f"c<sub>t</sub> = {lstm_v.c:.2f}" in lstm_notes
    rnn_v = unit_step(models["rnn"].run(x).layers[0].step(4), 0, 2)
    with pytest.raises(TypeError, match="no drawing"):
        cell_figs.step_diagram(rnn_v, LABELS)


def test_the_grus_vectors_and_its_clamp_without_a_belt():
    model = small_model("echo", "gru", 1, hidden=5, seed=4)
    kind = cell_kind("gru")
    x, _ = random_batch(model, B=1, T=6)
    step = model.run(x).layers[0].step(2)
    fig = cell_figs.step_vectors(
        {k: getattr(step, k)[0] for k in kind.vectors},
        1,
        {k: k for k in kind.vectors},
        "u",
        kind.squash,
    )
    assert len(fig.data) == 4
    ranges = {a: fig.layout[a].range for a in ("yaxis", "yaxis2", "yaxis3", "yaxis4")}
    assert ranges["yaxis"] == (0, 1) and ranges["yaxis2"] == (0, 1)  # r, z: σ
    assert ranges["yaxis3"] == (-1, 1) and ranges["yaxis4"] == (-1, 1)  # n: tanh, h
    r = intervene(model, x, Clamp("z", 1, 0.0, start=2))
    b, a = r.before.layers[0], r.after.layers[0]
    labels = {"c": "C", "h": "H", "output": "O", "before": "B", "after": "A"}
    fig = cell_figs.intervention(
        None, None, b.h[1:, 0, 1], a.h[1:, 0, 1], np.zeros(6), 2, list("010101"), labels
    )
    titles = [t.text for t in fig.layout.annotations]
    assert "H" in titles and "C" not in titles and len(fig.data) == 3  # h twice, the output


# ---------------------------------------------------------------------------- the page
def _page():
    import test_app

    return test_app


def gru_run_by_hand(model, bits: str):
    """Every step of the page's input through lstm_core.gru.gru_step, one call a step."""
    H = model.config.hidden_size
    h, steps = np.zeros((1, H)), []
    for bit in bits:
        step = gru_step(np.array([[float(bit)]]), h, model.p["W0"], model.p["b0"])
        steps.append(step)
        h = step.h
    return steps


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_cell_page_opens_the_gru_sample_and_writes_its_step(lang):
    """The GRU sample in both languages: the drawing, four equations (r, z, n, h), and numbers
    that are lstm_core.gru's own for the chosen step and unit."""
    app = _page()
    at = app.open_app("cell", lang=lang, model="echo_gru", step=6, unit=1)
    app.assert_clean(at)
    assert len(app.charts(at)) == 3 and len(at.latex) == 4
    model = load_checkpoint(GRU_SAMPLE)
    step = gru_run_by_hand(model, ECHO_EXAMPLE)[6]
    mark = {"en": ".", "es": "{,}"}[lang]

    def written(x, spec=".3f"):
        return format(x, spec).replace(".", mark)

    r, z, n, h, h_prev = (float(a[0, 1]) for a in (step.r, step.z, step.n, step.h, step.h_prev))
    eq_r, eq_z, eq_n, eq_h = (e.value for e in at.latex)
    assert r"r_t &= \sigma(W_{hr} h_{t-1}" in eq_r and rf"\mathbf{{{written(r)}}}" in eq_r
    assert r"z_t &= \sigma(W_{hz} h_{t-1}" in eq_z and rf"\mathbf{{{written(z)}}}" in eq_z
    assert r"r_t \odot (W_{hn} h_{t-1} + b_{hn})" in eq_n and rf"\mathbf{{{written(n)}}}" in eq_n
    assert rf"+ {written(r)} \cdot (" in eq_n  # the reset gate scales the memory part
    assert r"h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}" in eq_h
    numbers = rf"(1 - {written(z)}) \cdot ({written(n)}) + {written(z)} \cdot ({written(h_prev)})"
    assert numbers in eq_h and rf"\mathbf{{{written(h)}}}" in eq_h
    diagram = app.charts(at)[0]
    notes = " ".join(a["text"] for a in diagram["layout"]["annotations"])
    assert f"h<sub>t</sub> = {written(h, '.2f').replace('{,}', ',')}" in notes
    vectors = app.charts(at)[1]
    assert len(vectors["data"]) == 4  # r, z, n, h
    said = " ".join(c.value for c in at.caption)
    task = {"en": "This GRU of 4 units", "es": "Esta GRU de 4 unidades"}[lang]
    assert task in said
    accuracy = re.search(r"(\d+[.,]\d)\s?%", said.split(task)[1])
    assert accuracy and float(accuracy.group(1).replace(",", ".")) >= 99.0


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_grus_gate_clamped_on_the_page(lang):
    """z held at 1 from step 4: the hidden state of the unit stops moving (the figure's clamped
    line), the change map is Δh, the equations say the gate is held."""
    app = _page()
    setup = {"clamp_gate": "z", "clamp_unit": "1", "clamp_value": "1", "clamp_from": "4"}
    at = app.open_app("cell", lang=lang, model="echo_gru", step=6, unit=1, **setup)
    app.assert_clean(at)
    assert at.selectbox(key="clamp_gate").options == [
        {"en": "none (let the model run)", "es": "ninguna (el modelo funciona libre)"}[lang],
        *{
            "en": ["reset gate r", "update gate z", "candidate n"],
            "es": [
                "compuerta de reinicio r",
                "compuerta de actualización z",
                "valores candidatos n",
            ],
        }[lang],
    ]
    held = {"en": "held at", "es": "fijada en"}[lang]
    assert held in at.latex[1].value  # the update gate's equation: what it was, then held
    line = chart(at, "cell_intervention")
    assert [d["name"] for d in line["data"][:2]] == [
        {"en": "left alone", "es": "libre"}[lang],
        {"en": "clamped", "es": "fijada"}[lang],
    ]
    clamped = array(line["data"][1]["y"])  # h of unit 1, the clamped run
    np.testing.assert_allclose(clamped[4:], clamped[3], atol=1e-6)  # float32: n + 1·(h - n)
    assert len(line["data"]) == 4  # h twice, the output's change, the answers: no c in a GRU
    heat = chart(at, "cell_delta")
    assert heat["data"][0]["colorbar"]["title"]["text"] == "Δh"
    assert heat["layout"]["title"]["text"].startswith("Δh = h ")


def chart(at, key: str) -> dict:
    """The chart with this widget key (AppTest keeps it in the element's id)."""
    (found,) = [c for c in at.get("plotly_chart") if c.proto.id.endswith("-" + key)]
    return json.loads(found.proto.spec)


def array(spec) -> np.ndarray:
    """A NumPy array as Plotly's JSON carries it ({"dtype", "bdata"}, base64), or a list."""
    if isinstance(spec, dict):
        return np.frombuffer(base64.b64decode(spec["bdata"]), spec["dtype"])
    return np.asarray(spec)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_gru_checkpoint_uploaded_on_the_cell_page(lang):
    app = _page()
    at = app.open_app("cell", model="upload", lang=lang)
    model = small_model("char-lm", "gru", 2, hidden=5, seed=3)
    at.file_uploader(key="cell_upload").set_value(
        ("gru.npz", checkpoint_bytes(model), "application/octet-stream")
    )
    at.run()
    app.assert_clean(at)
    assert len(app.charts(at)) == 3 and len(at.latex) == 4
    assert at.number_input(key="layer").value == 0  # two layers: a layer to choose
    assert r"n_t &= \tanh(W_{in} x_t" in at.latex[2].value
    assert json.loads(at.get("plotly_chart")[1].proto.spec)["data"][0]["type"] == "bar"


def test_the_gru_sample_echoes_and_inspect_names_its_cell():
    """The sample the page offers still does its task (the page says how well, measured live),
    and `inspect` says it is a GRU, with PyTorch's weight names."""
    from test_cli import cli

    from lstm_core import EchoConfig
    from lstm_core.echo import echo_accuracy

    model = load_checkpoint(GRU_SAMPLE)
    assert model.config.cell == "gru" and model.config.hidden_size == 4
    assert echo_accuracy(model, EchoConfig(), seed=7) >= 0.99
    shown = cli("inspect", GRU_SAMPLE).stdout
    assert "echo, GRU, 1 layer(s) of 4 units" in shown and "gru.weight_hh_l0" in shown
    assert json.loads(cli("inspect", GRU_SAMPLE, "--json").stdout)["meta"]["cell"] == "gru"
