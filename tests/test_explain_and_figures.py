"""The numbers behind the explanations, and the figure builders on small records."""

import numpy as np
import plotly.graph_objects as go
import pytest
from conftest import random_batch, small_model

from lstm_core import Clamp
from lstm_core.analysis import Ranking
from lstm_core.explain import (
    gate_parts,
    intervene,
    output_change,
    sigmoid,
    top_predictions,
    unit_step,
)
from ui import figures
from ui.figures import cell as cell_figs


@pytest.fixture
def traced():
    model = small_model("char-lm", "lstm", 2, hidden=5, seed=3)
    x, _ = random_batch(model, B=2, T=7)
    return model, x, model.run(x)


def test_gate_parts_add_up_to_the_pre_activation(traced):
    model, _, trace = traced
    for layer in (0, 1):
        step = trace.layers[layer].step(4)
        for row in (0, 1):
            for unit in range(5):
                parts = gate_parts(model, layer, step, row, unit)
                for gate, p in parts.items():
                    assert abs(p.recurrent + p.input + p.bias - p.pre) < 1e-12
                    squash = np.tanh(p.pre) if gate == "g" else sigmoid(p.pre)
                    assert abs(squash - p.value) < 1e-12


def test_unit_step_reads_the_record(traced):
    _, _, trace = traced
    step = trace.layers[0].step(2)
    v = unit_step(step, 1, 3)
    assert v.f == step.f[1, 3] and v.c_prev == step.c_prev[1, 3] and v.h == step.h[1, 3]
    assert abs(v.kept + v.added - v.c) < 1e-12


def test_intervention_changes_nothing_before_its_start(traced):
    model, x, _ = traced
    result = intervene(model, x, Clamp("f", 2, 0.0, start=3))
    np.testing.assert_array_equal(result.cell_change()[:3], 0.0)
    np.testing.assert_array_equal(result.after.layers[0].gate("f")[3:, :, 2], 0.0)
    assert np.abs(result.cell_change()[3:]).max() > 0
    change = output_change(result.before, result.after)
    assert change.shape == (7, 2) and np.all(change[:3] == 0) and np.all(change <= 1 + 1e-12)
    with pytest.raises(ValueError, match="unit"):
        intervene(model, x, Clamp("f", 99, 0.0))


def test_top_predictions_are_sorted():
    assert top_predictions(np.array([0.1, 0.6, 0.3]), ("a", "b", "c"), k=2) == [
        ("b", 0.6),
        ("c", 0.3),
    ]


# ---------------------------------------------------------------------------- figure builders
def test_colour_scales():
    assert figures.diverging_color(0.0) == "rgb(255,255,255)"
    assert figures.diverging_color(1.0).startswith("rgb(255,") and figures.diverging_color(
        -1.0
    ).endswith(",255)")
    closed, open_ = figures.gate_fill("f", 0.0), figures.gate_fill("f", 1.0)
    assert float(closed.rsplit(",", 1)[1][:-1]) < float(open_.rsplit(",", 1)[1][:-1])
    assert figures.gate_scale("o")[-1][1] == figures.GATE_COLORS["o"]
    assert len(set(figures.GATE_COLORS.values())) == 4


def test_cell_diagram_shows_the_step(traced):
    _, _, trace = traced
    v = unit_step(trace.layers[0].step(5), 0, 1)
    labels = {
        k: k.upper() for k in ("input", "belt", "forget", "input_gate", "candidate", "output")
    }
    fig = cell_figs.cell_diagram(v, labels)
    assert isinstance(fig, go.Figure) and fig.layout.height > 0
    texts = " ".join(a.text for a in fig.layout.annotations)
    for value in (v.c, v.h, v.f, v.o):
        assert f"{value:.2f}" in texts
    assert "BELT" in texts and "FORGET" in texts
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(rects) == 5  # four gate layers and the tanh box


def test_cell_diagram_labels_clear_the_circles_and_the_lines(traced):
    """No label sits on a circle or a line: the product's label starts right of its circle, and
    each layer's name starts right of the vertical line that feeds the layer."""
    _, _, trace = traced
    v = unit_step(trace.layers[0].step(5), 0, 1)
    names = {
        "input": "IN",
        "belt": "BELT",
        "forget": "FORGET",
        "input_gate": "INPUT",
        "candidate": "CAND",
        "output": "OUT",
    }
    fig = cell_figs.cell_diagram(v, names)
    notes = {a.text: a for a in fig.layout.annotations}
    circles = [s for s in fig.layout.shapes if s.type == "circle"]
    product = notes[f"i·c̃ = {v.added:.2f}"]
    (circle,) = [c for c in circles if c.y0 < product.y < c.y1]  # the i·c~ product, on its row
    assert product.xanchor == "left" and product.x > circle.x1  # starts after the circle
    taps = sorted(
        {s.x0 for s in fig.layout.shapes if s.type == "line" and s.x0 == s.x1 and s.y0 < 2}
    )
    for name, tap in zip(("FORGET", "INPUT", "CAND", "OUT"), taps, strict=True):
        assert notes[name].xanchor == "left" and notes[name].x > tap  # beside its line, not on it


def test_step_vectors_make_the_chosen_unit_stand_out_among_many():
    H, unit = 128, 40
    rng = np.random.default_rng(0)
    values = {k: rng.random(H) for k in ("f", "i", "g", "o", "c", "h")}
    fig = cell_figs.step_vectors(values, unit, {k: k for k in values}, "unit")
    bands = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(bands) == 6  # one per panel
    for band in bands:
        assert band.x0 < unit < band.x1 and band.x1 - band.x0 >= 3  # several bars wide at H=128
    markers = [a for a in fig.layout.annotations if a.text == "▲"]
    assert len(markers) == 6 and all(a.x == unit for a in markers)
    for bars in fig.data:
        assert bars.marker.line.color[unit] != bars.marker.line.color[unit + 1]


def test_valve_labels_sit_off_the_lines():
    fig = cell_figs.valve_curve(2.0, {"closed": "closed", "open": "open", "x": "a"})
    (closed,) = [a for a in fig.layout.annotations if a.text == "closed"]
    assert (
        closed.y == 0 and closed.yanchor == "bottom" and closed.yshift > 0
    )  # above y = 0, not on it


def test_numbers_written_on_figures_take_the_pages_decimal_mark():
    from ui.figures.belt import ranking_bars

    english = cell_figs.valve_curve(2.0, {"closed": "c", "open": "o", "x": "a"})
    spanish = cell_figs.valve_curve(2.0, {"closed": "c", "open": "o", "x": "a", "decimal": ","})
    assert english.data[-1].text == ("σ(2.0) = 0.88",)
    assert spanish.data[-1].text == ("σ(2,0) = 0,88",)
    ranking = Ranking(np.array([1, 0]), np.array([0.25, -0.5]))
    bars = ranking_bars(ranking, 2, {"unit": "unidad", "r": "r", "decimal": ","})
    assert bars.data[0].text == ("-0,50", "+0,25")


def test_step_vectors_has_a_bar_per_unit(traced):
    _, _, trace = traced
    step = trace.layers[1].step(0)
    values = {k: getattr(step, k)[0] for k in ("f", "i", "g", "o", "c", "h")}
    fig = cell_figs.step_vectors(values, 2, {k: k for k in values}, "unit")
    assert len(fig.data) == 6
    for bars in fig.data:
        assert len(bars.x) == 5
        widths = bars.marker.line.width
        assert widths[2] > widths[0]  # the chosen unit is outlined


def test_intervention_and_heatmap_figures(traced):
    model, x, _ = traced
    r = intervene(model, x, Clamp("i", 0, 1.0, start=2))
    b, a = r.before.layers[0], r.after.layers[0]
    tokens = list("abcdeab")
    labels = {"c": "c", "h": "h", "output": "out", "before": "before", "after": "after"}
    fig = cell_figs.intervention(
        b.c[1:, 0, 0],
        a.c[1:, 0, 0],
        b.h[1:, 0, 0],
        a.h[1:, 0, 0],
        output_change(r.before, r.after)[:, 0],
        2,
        tokens,
        labels,
    )
    assert len(fig.data) == 5 and fig.layout.height == 520
    answers = (list("ab cd\na"), list("ab ce\na"))  # the top answer at each of the 7 steps
    with_answers = cell_figs.intervention(
        b.c[1:, 0, 0],
        a.c[1:, 0, 0],
        b.h[1:, 0, 0],
        a.h[1:, 0, 0],
        output_change(r.before, r.after)[:, 0],
        2,
        tokens,
        labels | {"answers": "answers"},
        answers=answers,
    )
    rows = with_answers.data[-1]
    assert rows.type == "heatmap" and [list(t) for t in rows.text] == [
        list("ab␣cd⏎a"),
        list("ab␣ce⏎a"),
    ]
    np.testing.assert_array_equal(np.asarray(rows.z)[1], [0, 0, 0, 0, 1, 0, 0])
    heat = cell_figs.change_heatmap(
        r.cell_change()[:, 0], tokens, {"units": "u", "steps": "s", "hover": "%{z}"}
    )
    z = np.asarray(heat.data[0].z)
    assert z.shape == (5, 7) and heat.data[0].zmid == 0 and heat.data[0].zmax == -heat.data[0].zmin


def test_valve_curve_marks_the_pre_activation():
    fig = cell_figs.valve_curve(2.0, {"closed": "c", "open": "o", "x": "a"})
    marker = fig.data[-1]
    assert list(marker.x) == [2.0] and abs(marker.y[0] - sigmoid(2.0)) < 1e-9


# ==================================================================================== text figures
def test_training_curves_put_loss_and_held_out_bits_on_one_axis():
    from ui.figures import text as text_figs

    steps = np.arange(1, 201, dtype=np.float64)
    loss = np.full(200, np.log(2) * 2.0)  # 2 bits per character, in nats
    fig = text_figs.training_curves(
        (steps, loss, loss),
        (np.array([100.0, 200.0]), np.array([2.5, 2.25])),
        32,
        {"train": "train", "held_out": "held", "step": "s", "axis": "bpc", "uniform": "uniform"},
    )
    _, smooth, held = fig.data
    np.testing.assert_allclose(np.asarray(smooth.y, dtype=float), 2.0, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(held.y, dtype=float), [2.5, 2.25])
    assert fig.layout.shapes[0].y0 == 5.0  # log2(32): a uniform guess
    assert fig.layout.yaxis.range[1] > 5.0


def test_temperature_effect_shows_the_top_characters_before_and_after():
    from lstm_core.sampling import retemper
    from ui.figures import text as text_figs

    raw = np.array([0.5, 0.3, 0.15, 0.05])
    cooled = retemper(raw, 0.5)
    np.testing.assert_allclose(cooled, raw**2 / (raw**2).sum(), rtol=1e-6)  # p^(1/T), renormalised
    np.testing.assert_allclose(retemper(raw, 1.0), raw, rtol=1e-6)
    assert retemper(raw, 0.0).tolist() == [1.0, 0.0, 0.0, 0.0]
    np.testing.assert_allclose(retemper(raw, 1.0, top_k=2), [0.625, 0.375, 0, 0], rtol=1e-6)
    fig = text_figs.temperature_effect(
        raw, cooled, ("a", " ", "<", "\n"), {"before": "b", "after": "a", "p": "p"}, top=3
    )
    before, after = fig.data
    assert list(before.x) == [
        "“a”",
        "“␣”",
        "“<”",
    ]  # most likely first, invisible characters made visible
    np.testing.assert_allclose(np.asarray(after.y, dtype=float), cooled[:3], rtol=1e-6)
