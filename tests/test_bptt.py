"""How far gradients reach back: the exact norms against finite differences, truncation,
vanishing and exploding, clipping, and the page's figures."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small_model

from lstm_core import Model, ModelConfig
from lstm_core.bptt import (
    EXPLOSION_SCALES,
    RESOLVABLE,
    SCALE_LIMIT,
    adjusted,
    check_clip_gradient,
    check_flow,
    check_pairs,
    clip_effect,
    decay_by_distance,
    echo_sequence,
    find_explosion,
    gradient_flow,
    reach,
    truncation_mask,
)
from lstm_core.gradcheck import numerical_state_slopes
from lstm_core.model import softmax


def loss_after(model: Model, h, c, rest: np.ndarray, target: int) -> float:
    """L_t from the state (h_k, c_k) after step k, running the steps k+1..t that remain."""
    if len(rest) == 0:
        p = softmax(h @ model.p["Wy"] + model.p["by"])
        return float(-np.log(p[0, target]))
    trace = model.forward(model.time_major(rest[None, :]), ((h, c),))
    return float(-np.log(trace.probs[-1, 0, target]))


def numeric_norm(model, layer, x, y, t: int, k: int, which: str, eps: float = 1e-6) -> float:
    """||dL_t/dh_k|| (or dc_k, with h_k = o_k tanh(c_k) following c_k) by centred differences."""
    h_k, c_k = layer.h[k + 1], (layer.c[k + 1] if model.config.cell == "lstm" else None)
    grad = np.zeros(model.config.hidden_size)
    for i in range(len(grad)):
        sides = []
        for sign in (1, -1):
            h, c = h_k.copy(), None if c_k is None else c_k.copy()
            if which == "h":
                h[0, i] += sign * eps
            else:
                c[0, i] += sign * eps
                h = layer.gate("o")[k] * np.tanh(c)
            sides.append(loss_after(model, h, c, x[k + 1 : t + 1], y[t]))
        grad[i] = (sides[0] - sides[1]) / (2 * eps)
    return float(np.linalg.norm(grad))


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_every_norm_matches_finite_differences(cell):
    model = small_model("char-lm", cell, 1, hidden=4, seed=2, dtype=np.float64)
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 5, 7), rng.integers(0, 5, 7)
    flow = gradient_flow(model, x, y)
    layer = model.run(x[None, :]).layers[0]
    for t in range(7):
        for k in range(t + 1):
            assert flow.dh[t, k] == pytest.approx(
                numeric_norm(model, layer, x, y, t, k, "h"), rel=1e-6
            )
            if cell == "lstm":
                assert flow.dc[t, k] == pytest.approx(
                    numeric_norm(model, layer, x, y, t, k, "c"), rel=1e-6
                )
    assert np.isnan(flow.dh[np.triu_indices(7, 1)]).all()  # nothing flows forward in time
    assert (flow.dc is None) == (cell != "lstm")  # only the LSTM has a belt
    trace = model.run(x[None, :])
    np.testing.assert_allclose(flow.losses, -np.log(trace.probs[np.arange(7), 0, y]))


def test_an_echo_model_works_too():
    model = Model.create(ModelConfig("echo", "lstm", 1, 6, 1, 2), seed=1, dtype=np.float64)
    x, y = echo_sequence(12, 3, seed=4)
    flow = gradient_flow(model, x, y)
    assert flow.dh.shape == (12, 12) and np.isfinite(flow.dh[np.tril_indices(12)]).all()


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_truncation_stops_the_gradient_at_each_window_and_changes_nothing_inside(cell):
    model = small_model("char-lm", cell, 1, hidden=5, seed=3, dtype=np.float64)
    rng = np.random.default_rng(1)
    x, y = rng.integers(0, 5, 23), rng.integers(0, 5, 23)
    full, cut = gradient_flow(model, x, y), gradient_flow(model, x, y, window=5)
    inside = truncation_mask(23, 5)
    below = np.tril(np.ones((23, 23), bool))
    np.testing.assert_allclose(cut.dh[inside], full.dh[inside], rtol=1e-12)
    assert (cut.dh[below & ~inside] == 0).all()  # zero by construction, not merely small
    assert (full.dh[below & ~inside] > 0).all()
    if cell == "lstm":
        assert (cut.dc[below & ~inside] == 0).all()


def test_truncation_mask_is_block_lower_triangular():
    mask = truncation_mask(7, 3)
    expected = np.zeros((7, 7), bool)
    for a in (0, 3, 6):
        for t in range(a, min(a + 3, 7)):
            expected[t, a : t + 1] = True
    np.testing.assert_array_equal(mask, expected)


def test_decay_by_distance_and_reach():
    T = 30
    t, k = np.meshgrid(np.arange(T), np.arange(T), indexing="ij")
    norms = np.where(k <= t, 3.0 * 0.5 ** (t - k).astype(float), np.nan)
    decay = decay_by_distance(norms)
    np.testing.assert_allclose(decay, 0.5 ** np.arange(T))
    assert reach(decay) == 10  # 0.5^10 < 1/1000 <= 0.5^9
    assert reach(np.ones(T)) is None
    assert reach(decay, threshold=0.2) == 3


def test_adjusted_scales_only_the_recurrent_weights_and_shifts_only_the_forget_bias():
    model = small_model("char-lm", "lstm", 1, hidden=4, seed=0, dtype=np.float64)
    before = model.flat.copy()
    out = adjusted(model, 2.0, 3.0)
    H = 4
    np.testing.assert_array_equal(model.flat, before)  # a copy: the original is untouched
    np.testing.assert_allclose(out.p["W0"][:H], 2 * model.p["W0"][:H])
    np.testing.assert_array_equal(out.p["W0"][H:], model.p["W0"][H:])
    np.testing.assert_allclose(out.p["b0"][:H], model.p["b0"][:H] + 3)
    np.testing.assert_array_equal(out.p["b0"][H:], model.p["b0"][H:])
    gru = small_model("char-lm", "gru", 1, hidden=4, seed=0, dtype=np.float64)
    shifted = adjusted(gru, 1.0, 3.0)  # the update gate z keeps the old h: its b_iz moves
    np.testing.assert_allclose(shifted.p["b0"][H : 2 * H], gru.p["b0"][H : 2 * H] + 3)
    np.testing.assert_array_equal(
        np.delete(shifted.p["b0"], range(H, 2 * H)), np.delete(gru.p["b0"], range(H, 2 * H))
    )
    rnn = small_model("char-lm", "rnn", 1, hidden=4, seed=0, dtype=np.float64)
    np.testing.assert_array_equal(adjusted(rnn, 1.0, 3.0).flat, rnn.flat)  # no gate to open
    np.testing.assert_array_equal(out.p["b0"][H:], model.p["b0"][H:])
    rnn = small_model("char-lm", "rnn", 1, hidden=4, seed=0, dtype=np.float64)
    np.testing.assert_array_equal(adjusted(rnn, 1.0, 5.0).p["b0"], rnn.p["b0"])  # no forget gate


def test_a_large_recurrent_scale_explodes_the_rnn_and_a_small_one_vanishes_it():
    x, y = echo_sequence(40, 3, seed=0)
    model = Model.create(ModelConfig("echo", "rnn", 1, 32, 1, 2), seed=0, dtype=np.float64)
    fade = {
        s: decay_by_distance(gradient_flow(adjusted(model, s), x, y).dh)[20]
        for s in (0.5, 1.0, 4.0)
    }
    assert fade[0.5] < fade[1.0] < 1e-3 < 1.0 < fade[4.0], fade


def test_an_open_forget_gate_carries_the_gradient_along_the_belt():
    x, y = echo_sequence(60, 3, seed=0)
    model = Model.create(ModelConfig("echo", "lstm", 1, 16, 1, 2), seed=0, dtype=np.float64)
    shut = decay_by_distance(gradient_flow(adjusted(model, 1.0, -4.0), x, y).dc)
    open_ = decay_by_distance(gradient_flow(adjusted(model, 1.0, 6.0), x, y).dc)
    assert open_[40] > 0.1 and shut[40] < 1e-12, (open_[40], shut[40])


def test_clipping_by_norm_keeps_the_direction_and_by_value_turns_it():
    x, y = echo_sequence(60, 3, seed=0)
    model = adjusted(Model.create(ModelConfig("echo", "rnn", 1, 32, 1, 2), seed=0), 4.0)
    effect = clip_effect(model, x, y, max_norm=1.0, max_value=0.01)
    exact = model.astype(np.float64)
    raw = exact.gradients(exact.time_major(x[None, :]), y[:, None]).grads
    np.testing.assert_allclose(effect.raw, raw, rtol=1e-12)
    assert effect.raw_norm == pytest.approx(np.linalg.norm(raw), rel=1e-5) and effect.raw_norm > 1.0
    assert np.linalg.norm(effect.by_norm) == pytest.approx(1.0, rel=1e-5)
    cos_norm = (
        effect.raw @ effect.by_norm / (np.linalg.norm(effect.raw) * np.linalg.norm(effect.by_norm))
    )
    assert cos_norm == pytest.approx(1.0, abs=1e-9)
    assert np.abs(effect.by_value).max() <= 0.01 + 1e-12
    assert effect.cos_by_value < 0.99
    calm = clip_effect(model, x, y, max_norm=1e9, max_value=1e9)
    np.testing.assert_array_equal(calm.by_norm, calm.raw)  # under both limits: nothing changes
    np.testing.assert_array_equal(calm.by_value, calm.raw)
    assert calm.cos_by_value == pytest.approx(1.0)


def test_echo_sequence_is_the_notebooks_shift():
    x, y = echo_sequence(50, 4, seed=9)
    assert set(np.unique(x)) <= {0, 1} and len(x) == 50
    np.testing.assert_array_equal(y[4:], x[:-4])
    assert (y[:4] == 0).all()


def test_figures_on_small_inputs():
    from ui.figures import bptt as figs

    x, y = echo_sequence(20, 3, seed=0)
    model = Model.create(ModelConfig("echo", "lstm", 1, 4, 1, 2), seed=0)
    flow = gradient_flow(model, x, y)
    labels = {
        "rnn_h": "a",
        "lstm_h": "b",
        "lstm_c": "c",
        "k_axis": "k",
        "t_axis": "t",
        "colorbar": "log",
        "hover": "%{z}",
    }
    fig = figs.flow_heatmaps({"rnn_h": flow.dh, "lstm_h": flow.dh, "lstm_c": flow.dc}, 6, labels)
    assert len(fig.data) == 3 and len(fig.layout.shapes) == 3 * 3  # windows starting at 7, 13, 19
    z = np.asarray(fig.data[0].z, dtype=float)
    assert np.isnan(z[0, 1]) and np.isfinite(z[1, 0])  # above the diagonal: nothing drawn
    decays = {"rnn_h": decay_by_distance(flow.dh), "lstm_c": decay_by_distance(flow.dc)}
    lines = figs.decay_lines(
        decays, 6, 3, {**labels, "window": "w", "echo": "e", "d_axis": "d", "ratio_axis": "r"}
    )
    assert len(lines.data) == 2 and lines.layout.yaxis.type == "log"
    effect = clip_effect(model, x, y, 0.01, 0.001)
    bars = figs.clipping(
        effect.raw,
        effect.by_norm,
        effect.by_value,
        {"raw": "r", "by_norm": "n", "by_value": "v", "rank_axis": "x", "size_axis": "y"},
        top=10,
    )
    assert [len(b.x) for b in bars.data] == [10, 10, 10]
    assert max(bars.data[2].y) <= 0.001 + 1e-9


def test_clip_effect_says_what_each_clipping_did():
    x, y = echo_sequence(60, 3, seed=0)
    model = adjusted(Model.create(ModelConfig("echo", "rnn", 1, 32, 1, 2), seed=0), 4.0)
    effect = clip_effect(model, x, y, max_norm=1.0, max_value=0.01)
    assert effect.norm_by_norm == pytest.approx(1.0)
    assert effect.cut_by_value == int(np.sum(np.abs(effect.raw) > 0.01)) > 0
    assert effect.angle_by_value == pytest.approx(np.degrees(np.arccos(effect.cos_by_value)))
    assert effect.angle_by_value > 1.0
    calm = clip_effect(model, x, y, max_norm=1e9, max_value=1e9)
    assert calm.cut_by_value == 0 and calm.angle_by_value == 0.0 and calm.cos_by_value == 1.0
    assert calm.norm_by_norm == pytest.approx(calm.raw_norm)


def test_the_heatmaps_draw_what_truncation_cut_in_grey_apart_from_the_colour_scale():
    from ui.figures import bptt as figs

    x, y = echo_sequence(20, 3, seed=0)
    model = Model.create(ModelConfig("echo", "lstm", 1, 4, 1, 2), seed=0)
    flow = gradient_flow(model, x, y, window=6)
    panels = {"rnn_h": flow.dh, "lstm_h": flow.dh, "lstm_c": flow.dc}
    labels = {
        "rnn_h": "a",
        "lstm_h": "b",
        "lstm_c": "c",
        "k_axis": "k",
        "t_axis": "t",
        "colorbar": "log",
        "hover": "%{z}",
        "cut_hover": "cut",
    }
    fig = figs.flow_heatmaps(panels, 6, labels, truncated=True)
    assert len(fig.data) == 6  # each panel and, over it, its cut-off region
    z, grey = (np.asarray(fig.data[j].z, dtype=float) for j in (0, 1))
    cut = np.tril(np.ones((20, 20), bool)) & ~truncation_mask(20, 6)
    assert (flow.dh[cut] == 0).all() and np.isnan(z[cut]).all()  # zeros are not on the scale
    assert (grey[cut] == 1).all() and np.isnan(grey[~cut]).all()
    computed = np.log10(
        np.concatenate([flow.dh[truncation_mask(20, 6)], flow.dc[truncation_mask(20, 6)]])
    )
    assert fig.layout.coloraxis.cmin == np.floor(computed.min())  # its decade, not -12
    assert fig.layout.coloraxis.cmin > figs.FLOOR
    full = figs.flow_heatmaps(panels, 6, labels, truncated=False)
    assert len(full.data) == 3


def test_one_shade_darker_is_one_power_of_ten_larger():
    """The page says "one shade darker is {factor} times larger": the scale must be flat shades,
    each a whole number of decades, with the powers of ten named on the colour bar."""
    from plotly.colors import sample_colorscale

    from ui.figures import bptt as figs

    x, y = echo_sequence(30, 3, seed=0)
    model = Model.create(ModelConfig("echo", "lstm", 1, 4, 1, 2), seed=0)
    flow = gradient_flow(model, x, y)
    panels = {"rnn_h": flow.dh, "lstm_h": flow.dh, "lstm_c": flow.dc}
    labels = dict.fromkeys(["rnn_h", "lstm_h", "lstm_c", "k_axis", "t_axis", "colorbar"], "")
    fig = figs.flow_heatmaps(panels, 6, {**labels, "hover": "%{z}"})
    shades = figs.flow_shades(panels, 6)
    axis = fig.layout.coloraxis
    assert shades.step == 1 and shades.factor == 10  # these maps span few decades
    assert (axis.cmin, axis.cmax) == (shades.low, shades.low + shades.count)
    scale = [(float(p), c) for p, c in axis.colorscale]
    assert len(scale) == 2 * shades.count
    for j in range(shades.count):  # band j: one flat colour from its start to its end
        (p0, c0), (p1, c1) = scale[2 * j], scale[2 * j + 1]
        assert (p0, p1) == pytest.approx((j / shades.count, (j + 1) / shades.count))
        assert c0 == c1
    assert len({c for _, c in scale}) == shades.count  # every decade its own shade
    assert list(axis.colorbar.tickvals) == list(range(shades.low, shades.low + shades.count + 1))
    assert axis.colorbar.ticktext[0] == "10" + str(shades.low).replace("-", "⁻").translate(
        str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
    )
    assert sample_colorscale(figs.FLOW_SCALE, [0.0])[0] == scale[0][1]  # the palest: the lowest
    wide = {
        k: np.where(np.isnan(v), v, 10.0 ** np.linspace(-12, 40, v.size).reshape(v.shape))
        for k, v in panels.items()
    }
    many = figs.flow_shades(wide, 6)
    assert many.count <= figs.MAX_SHADES and many.step > 1  # then a shade spans several decades
    assert many.low + many.step * many.count >= 40


def test_log_axes_label_their_ticks_as_numbers():
    """A short log range: ticks written out (0.5), never Plotly's bare leading digit ("5")."""
    from ui.figures import bptt as figs

    raw = np.array([0.9, -0.7, 0.5, 0.45, -0.3, 0.2])
    labels = {"raw": "r", "by_norm": "n", "by_value": "v", "rank_axis": "x", "size_axis": "y"}
    fig = figs.clipping(raw, raw * 0.8, np.clip(raw, -0.4, 0.4), labels, top=6)
    axis = fig.layout.yaxis
    assert axis.type == "log" and axis.tickformat == "~g" and 0.5 in axis.tickvals  # d3: "0.5"
    spread = np.array([1e3, -2.0, 1e-4, 5e-5, 3.0, 0.1])
    fig = figs.clipping(spread, spread * 0.01, np.clip(spread, -0.5, 0.5), labels, top=6)
    assert fig.layout.yaxis.dtick == 1 and fig.layout.yaxis.exponentformat == "power"


def test_the_decay_axis_title_reads_as_plain_text():
    from ui.i18n import LANGUAGES, t

    for lang in LANGUAGES:
        title = t("bptt.ratio_axis", lang=lang)
        assert "_{" not in title and "·_" not in title, title


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("window", [None, 4])
def test_the_differences_the_check_runs_match_every_vector_the_maps_come_from(cell, window):
    """numerical_state_slopes along the identity is the whole gradient dL_t/dh_k by differences;
    it must match the vectors gradient_flow kept, entry for entry, truncated or not."""
    model = small_model("char-lm", cell, 1, hidden=4, seed=2, dtype=np.float64)
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 5, 9), rng.integers(0, 5, 9)
    pairs = tuple((t, k) for t in range(9) for k in range(t + 1))
    flow = gradient_flow(model, x, y, window, keep=pairs)
    for t, k in pairs:
        for which in ("h", "c") if cell == "lstm" else ("h",):
            engine = flow.kept[(which, t, k)]
            norms = flow.dh if which == "h" else flow.dc
            assert np.linalg.norm(engine) == pytest.approx(norms[t, k], rel=1e-12)
            numeric = numerical_state_slopes(model, x, y, t, k, np.eye(4), which, window)
            if window and k // window != t // window:
                assert (engine == 0).all() and (numeric == 0).all()
            else:
                np.testing.assert_allclose(numeric, engine, rtol=1e-6, atol=1e-10)


def page_like(cell: str, H: int, T: int, scale: float, forget: float = 0.0, kind: str = "echo"):
    if kind == "echo":
        model = Model.create(ModelConfig("echo", cell, 1, H, 1, 2), seed=0)
        x, y = echo_sequence(T, 3, seed=0)
    else:
        model = small_model("char-lm", cell, 1, hidden=H, seed=0, dtype=np.float32)
        rng = np.random.default_rng(3)
        x, y = rng.integers(0, 5, T), rng.integers(0, 5, T)
    return adjusted(model, scale, forget), x, y


@pytest.mark.parametrize(
    "cell, H, T, scale, window",
    [
        ("rnn", 64, 100, 1.0, None),
        ("lstm", 64, 100, 1.0, None),
        ("rnn", 64, 100, 2.5, None),
        ("lstm", 32, 100, 2.5, 15),
        ("rnn", 16, 60, 5.0, 7),
        ("lstm", 2, 5, 1.0, None),
    ],
)
def test_the_page_check_agrees_with_the_maps_and_respects_truncation(cell, H, T, scale, window):
    model, x, y = page_like(cell, H, T, scale, 2.0 if cell == "lstm" else 0.0)
    flow = gradient_flow(model, x, y, window, keep=check_pairs(T, window))
    entries = check_flow(model, x, y, flow, window)
    assert len(entries) >= (4 if cell == "lstm" else 2)
    assert max(e.error for e in entries) < 1e-4, max(entries, key=lambda e: e.error)
    lo, hi = RESOLVABLE
    for e in entries:
        norms = flow.dh if e.panel.endswith("_h") else flow.dc
        assert e.engine == norms[e.t - 1, e.k - 1]  # the very number the map shows
        assert e.cut == (window is not None and (e.k - 1) // window != (e.t - 1) // window)
        assert (e.engine == 0 and e.numeric == 0) if e.cut else lo <= e.engine <= hi
    if window:  # a whole window of entries inside, and some of those cut off
        inside = [e for e in entries if not e.cut]
        assert 1 <= sum(e.cut for e in entries) <= 2 * (1 + (cell == "lstm"))
        assert len(inside) >= 3 and max(e.t - e.k for e in inside) == window - 1
    weights = check_clip_gradient(model, x, y)
    assert weights is None or weights < 1e-4


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_the_page_check_catches_a_wrong_backward_step(cell, monkeypatch):
    import lstm_core.bptt as bptt

    model, x, y = page_like(cell, 16, 40, 1.0)
    kind = bptt.cell_kind(cell)  # gradient_flow steps back through the cell's own step_backward
    real = kind.step_backward

    def off_by_a_bit(*args, **kwargs):  # a deliberately wrong BPTT: one unit's gradient scaled
        out = real(*args, **kwargs)
        out[0][:, 0] *= 1.05  # dL/dh_{t-1}
        return out

    monkeypatch.setattr(kind, "step_backward", off_by_a_bit)
    flow = gradient_flow(model, x, y, keep=check_pairs(40))
    assert max(e.error for e in check_flow(model, x, y, flow)) > 1e-3


def test_the_weight_check_holds_where_the_gradient_explodes_and_catches_a_wrong_one(monkeypatch):
    model, x, y = page_like("rnn", 64, 60, 3.5)
    assert 50 < clip_effect(model, x, y, 5, 5).raw_norm < RESOLVABLE[1]  # exploding, measurable
    assert check_clip_gradient(model, x, y) < 1e-4
    steep, x2, y2 = page_like("rnn", 64, 200, 5.0)
    assert check_clip_gradient(steep, x2, y2) is None  # 1e20: beyond what differences measure
    real = __import__("lstm_core.sequence", fromlist=["weight_gradients"]).weight_gradients

    def off_by_a_bit(trace, da, dW, db):  # a deliberately wrong BPTT: the bias gradient scaled
        real(trace, da, dW, db)
        db *= 1.01

    monkeypatch.setattr("lstm_core.model.weight_gradients", off_by_a_bit)
    assert check_clip_gradient(model, x, y) > 1e-3


def test_check_pairs_take_a_whole_window_when_truncated():
    assert check_pairs(100) == tuple(
        (99, 99 - d) for d in (0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 99)
    )
    pairs = check_pairs(100, 16)  # the last whole window ends at step 96 (95 from 0)
    assert {t for t, _ in pairs} == {95} and {95 - 15, 95 - 16} <= {k for _, k in pairs}
    assert check_pairs(5, 16) == tuple((4, 4 - d) for d in range(5))  # shorter than one window


def test_the_scales_tried_are_the_sliders():
    assert max(EXPLOSION_SCALES) == SCALE_LIMIT
    assert all(1.0 < s <= SCALE_LIMIT and round(s / 0.05, 6).is_integer() for s in EXPLOSION_SCALES)


@pytest.mark.parametrize("kind", ["echo", "text"])
@pytest.mark.parametrize("H", [2, 8, 16, 32, 64, 128])
@pytest.mark.parametrize("T", [5, 30, 200])
def test_make_it_explode_finds_an_explosion_across_the_pages_sizes(kind, H, T):
    """From every hidden size (2..128) and length (5..200) the page offers, the search ends at
    settings the page's sliders can show, where the gradient is over ten times the limit, and
    no gentler scale would have done."""

    def model_for(units):
        return page_like("rnn", units, 1, 1.0, kind=kind)[0]

    def sequence_for(length):
        return page_like("rnn", 2, length, 1.0, kind=kind)[1:]

    found = find_explosion(model_for, sequence_for, H, T, 5.0)
    assert found is not None
    assert H <= found.hidden <= 128 and found.hidden % 2 == 0 and T <= found.length <= 200
    assert found.length % 5 == 0 and found.scale in EXPLOSION_SCALES
    x, y = sequence_for(found.length)
    model = model_for(found.hidden)
    assert clip_effect(adjusted(model, found.scale), x, y, 5, 5).raw_norm > 50
    gentler = [s for s in EXPLOSION_SCALES if s < found.scale]
    assert all(clip_effect(adjusted(model, s), x, y, 5, 5).raw_norm <= 50 for s in gentler)
    if found.hidden > H:  # it only grows the model when no length at this size explodes
        for length in {T, 60, 100, 200} - {n for n in (60, 100) if n < T}:
            xs, ys = sequence_for(length)
            assert all(
                clip_effect(adjusted(model_for(H), s), xs, ys, 5, 5).raw_norm <= 50
                for s in EXPLOSION_SCALES
            )
