"""The page "The conveyor belt": its figure builders on small traces, then the page headless."""

import base64
import io
import json

import numpy as np
import pytest
from conftest import ROOT, random_batch, small_model
from test_app import assert_clean, charts, open_app, stepper, url

import lstm_core
from lstm_core import checkpoint_bytes
from lstm_core.analysis import BeltFlow, belt_flow, inside_quotes, rank_units
from ui.figures import DIVERGING, GATE_COLORS, color_table, gate_scale, image_uri, png
from ui.figures import belt as figs
from ui.i18n import LANGUAGES

LABELS = {q: q for q in figs.QUANTITIES} | {"unit": "unit", "step": "step", "window": "w"}


@pytest.fixture
def series():
    model = small_model("char-lm", "lstm", 1, hidden=6, seed=1)
    x, _ = random_batch(model, B=1, T=11)
    layer = model.run(x).layers[0]
    return layer, {
        "c": layer.c[1:, 0],
        "h": layer.h[1:, 0],
        **{q: layer.gate(q)[:, 0] for q in "figo"},
    }


def heatmaps(fig) -> list:
    return [trace for trace in fig.data if trace.type == "heatmap"]


def decode(uri: str) -> np.ndarray:
    """A data-URI PNG, read back by Pillow (an independent decoder, Streamlit's dependency)."""
    from PIL import Image

    assert uri.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB"))


def test_a_png_reads_back_pixel_for_pixel():
    rgb = np.random.default_rng(0).integers(0, 256, (7, 13, 3), dtype=np.uint8)
    np.testing.assert_array_equal(decode(image_uri(rgb)), rgb)
    assert png(rgb)[:8] == b"\x89PNG\r\n\x1a\n"


def test_colour_tables_follow_plotlys_scales():
    table = color_table(gate_scale("f"))
    assert table.shape == (256, 3) and table.dtype == np.uint8
    assert tuple(table[0]) == (0xF7, 0xF7, 0xF7) and tuple(table[-1]) == (0xD5, 0x5E, 0x00)
    assert np.all(np.diff(table[:, 1].astype(int)) <= 0)  # pale to the gate's colour, steadily
    diverging = color_table(DIVERGING)  # blue (negative) .. pale (0) .. red (positive)
    assert diverging[0, 2] > diverging[0, 0] and diverging[-1, 0] > diverging[-1, 2]
    assert diverging[128].min() > 200


def test_the_overview_is_every_unit_every_step_as_images_with_no_cursor(series):
    _, values = series
    order = np.array([5, 0, 1, 2, 3, 4])
    fig = figs.belt_overview(values, order, LABELS)
    assert not fig.layout.shapes  # nothing that moves with the cursor
    images = [trace for trace in fig.data if trace.type == "image"]
    assert len(images) == 6
    own = np.abs(values["c"]).max(axis=0)  # c: each unit on its own scale, ± its largest |c|
    for k, (image, q) in enumerate(zip(images, figs.QUANTITIES, strict=True)):
        got = decode(image.source)
        assert got.shape == (6, 11, 3)  # a row per unit (they fit), a column per step
        z = values[q] / own if q == "c" else values[q]
        lo, hi = (0.0, 1.0) if q in figs.VALVES else (-1.0, 1.0)
        where = np.clip((z[:, order].T - lo) / (hi - lo), 0, 1)
        scale = gate_scale(q) if q in figs.VALVES else DIVERGING
        expected = color_table(scale)[np.rint(where * 255).astype(int)]
        np.testing.assert_array_equal(got, expected)
        assert (image.x0, image.dx, image.y0, image.dy) == (0, 1, 0, 1)
        axis = fig.layout[f"yaxis{'' if k == 0 else k + 1}"]
        # every unit named by its number (9 px a unit here), in their order
        named = [str(u) for u in order]
        assert list(axis.tickvals) == list(range(6)) and list(axis.ticktext) == named
        assert list(axis.range) == [5.5, -0.5]  # the first in the order on top
    bars = heatmaps(fig)  # one per panel, outside the steps, only to carry its colour bar
    assert len(bars) == 6 and all(min(trace.x) > 10 for trace in bars)
    for trace, q in zip(bars, figs.QUANTITIES, strict=True):
        if q in figs.VALVES:
            assert list(trace.colorbar.ticktext) == ["0", "0.5", "1"]
            assert (trace.zmin, trace.zmax) == (0, 1)
        else:
            assert trace.colorbar.tickvals[1] == 0
    # c's colour bar says its scale is each unit's own; h's is its tanh's -1..1
    assert list(bars[0].colorbar.ticktext) == ["−max", "0", "+max"]
    assert list(bars[-1].colorbar.ticktext) == ["-1", "0", "1"]


def test_one_large_unit_does_not_wash_out_the_others():
    """A unit whose c runs to ±12 beside one that holds 2: on their own scales both reach full
    colour (one scale for all drew the small one nearly white)."""
    c = np.zeros((10, 2), np.float32)
    c[:, 0] = np.linspace(-12, 12, 10)
    c[5:, 1] = 2.0  # holds 2 from step 5 on
    fig = figs.belt_overview({"c": c}, np.arange(2), LABELS, ("c",))
    got = decode(fig.data[0].source).astype(int)
    red = color_table(DIVERGING)[-1].astype(int)
    np.testing.assert_array_equal(got[1, 5:], np.tile(red, (5, 1)))  # full red, as unit 0's top
    np.testing.assert_array_equal(got[0, -1], red)


def test_the_facts_sit_above_the_heatmaps_each_with_its_unit_under_it(series):
    """Each fact as a grey bar (darker, more of it), the unit that follows it under it, twice
    as tall, on the c panel's colours; its title on the row above; its unit named at the left."""
    _, values = series
    T = values["c"].shape[0]
    quotes = np.zeros(T, np.float32)
    quotes[3:7] = 1
    depth = np.zeros(T, np.float32)
    depth[5:] = 1
    depth[8:] = 2
    facts = [figs.Fact(quotes, 4, "quotes: unit 4"), figs.Fact(depth, 1, "brackets: unit 1")]
    order = np.array([4, 1, 0, 2, 3, 5])
    fig = figs.belt_overview(values, order, LABELS, figs.QUANTITIES, facts)
    image = decode(fig.data[0].source).astype(int)
    assert image.shape == (2 * figs.FACT_ROWS, T, 3)
    ink = color_table(figs.FACT_SCALE).astype(int)
    np.testing.assert_array_equal(image[1, 3:7], np.tile(ink[-1], (4, 1)))  # inside: darkest
    np.testing.assert_array_equal(image[1, :3], np.tile(ink[0], (3, 1)))  # outside: pale
    assert (image[5, 5] == ink[128]).all() and (image[5, 9] == ink[-1]).all()  # one, two deep
    c = values["c"][:, 4] / np.abs(values["c"][:, 4]).max()
    expected = color_table(DIVERGING)[np.rint((c + 1) / 2 * 255).astype(int)]
    np.testing.assert_array_equal(image[2], expected)  # unit 4's c, on its own scale
    np.testing.assert_array_equal(image[3], expected)
    # the c panel, below, shows the same colours in its first row (unit 4 leads the order)
    np.testing.assert_array_equal(decode(fig.data[1].source)[0], expected)
    assert fig.data[1].yaxis == "y2" and fig.layout.yaxis.domain[0] > fig.layout.yaxis2.domain[1]
    assert list(fig.layout.yaxis.ticktext) == ["4", "1"]
    titles = [a.text for a in fig.layout.annotations]
    assert "quotes: unit 4" in titles and "brackets: unit 1" in titles
    # the memory panel is the tallest
    heights = [fig.layout[f"yaxis{k}"].domain for k in range(2, 8)]
    spans = [hi - lo for lo, hi in heights]
    assert spans[0] > max(spans[1:])


def test_more_units_than_pixel_rows_blend_and_none_is_skipped():
    H, T = 256, 5
    z = np.full((H, T), -1.0, dtype=np.float32)
    z[::7] = 1.0  # every 7th unit stands out: each must show somewhere
    got = figs.pixels(z, "h", 1.0, 100)
    assert got.shape == (100, T, 3)
    blue = color_table(DIVERGING)[0].astype(int)
    starts = np.arange(100) * H // 100
    rows_with_one = {int(np.searchsorted(starts, u, side="right") - 1) for u in range(0, H, 7)}
    redder = {r for r in range(100) if got[r, 0, 0] > blue[0] + 20}
    assert redder == rows_with_one
    fig = figs.belt_overview({"c": z.T.copy()}, np.arange(H), LABELS, ("c",))
    image = fig.data[0]
    assert decode(image.source).shape[0] == figs.memory_panel_px(H) == 150  # its height in px
    assert image.y0 - image.dy / 2 == -0.5 and image.y0 + 149.5 * image.dy == pytest.approx(H - 0.5)
    assert len(fig.layout.yaxis.ticktext) == 8  # every 32nd unit: about one per 15 px


def test_the_window_has_exact_values_every_token_and_the_cursor(series):
    _, values = series
    order = np.array([5, 0, 1, 2, 3, 4])
    tokens = list("ab <cdefghi")
    fig = figs.belt_window(values, order, 4, 2, 8, tokens, LABELS)
    maps = heatmaps(fig)
    assert len(maps) == 6
    own = np.abs(values["c"]).max(axis=0)  # over the whole input, as the overview has it
    for trace, q in zip(maps, figs.QUANTITIES, strict=True):
        exact = values[q][2:8, order].T
        if q == "c":  # coloured on each unit's own scale, the exact value in the hover
            np.testing.assert_allclose(np.asarray(trace.z), exact / own[order, None], atol=1e-6)
            np.testing.assert_allclose(np.asarray(trace.customdata), exact, atol=1e-6)
            assert "customdata" in trace.hovertemplate
        else:
            np.testing.assert_allclose(np.asarray(trace.z), exact, atol=1e-6)
        assert list(trace.x) == list(range(2, 8))
        if q in figs.VALVES:
            assert (trace.zmin, trace.zmax) == (0, 1) and list(trace.colorbar.ticktext) == [
                "0",
                "0.5",
                "1",
            ]
    assert [s.x0 for s in fig.layout.shapes] == [3.5] * 6  # the cursor, in every panel
    # the tokens under the panels, on an axis of their own; the heatmaps' axis has the step
    # numbers, so that a hover says the step (Plotly's hover gives an axis's label if it has one)
    assert fig.layout.xaxis.ticktext is None and fig.layout.xaxis.side == "top"
    assert fig.layout.xaxis7.matches == "x" and list(fig.layout.xaxis7.ticktext) == [
        "␣",
        "&lt;",
        "c",
        "d",
        "e",
        "f",
    ]  # markup neutralised
    assert list(fig.layout.yaxis.ticktext) == [str(u) for u in order]  # 6 units fit: all named
    quiet = figs.belt_window(values, order, 4, 2, 8, tokens, LABELS, colorbars=False)
    assert not any(t.showscale for t in heatmaps(quiet))


def test_many_units_are_labelled_every_few_rows():
    H, T = 256, 30
    rng = np.random.default_rng(0)
    values = {q: rng.random((T, H)).astype(np.float32) for q in figs.QUANTITIES}
    order = rng.permutation(H)
    fig = figs.belt_window(values, order, 10, 0, T, list("x" * T), LABELS)
    shown = list(fig.layout.yaxis.ticktext)
    assert shown == [str(u) for u in order[::32]]  # about one per 15 px, in their sorted order
    # the overview (shorter panels) names the same rows, and the window names them all: a
    # power of two apart, the window's spacing divides the overview's
    for h in (5, 12, 17, 40, 64, 100, 128, 200, 256, 1000):
        window_px, overview_px = int(np.clip(9 * h, 60, 150)), int(np.clip(1.4 * h, 56, 120))
        window, overview = figs.label_every(h, window_px), figs.label_every(h, overview_px)
        memory = figs.label_every(h, figs.memory_panel_px(h))  # the overview's taller first panel
        assert overview % window == 0 and memory % window == 0  # the window names them too
        assert window_px / np.ceil(h / window) >= 9  # labels never overlap
        assert h <= 16 or h / window >= 4  # and there are a few of them


def test_the_window_follows_the_cursor_inside_the_input():
    assert figs.window(0, 300, 40) == (0, 40)
    assert figs.window(150, 300, 40) == (130, 170)
    assert figs.window(299, 300, 40) == (260, 300)
    assert figs.window(5, 12, 40) == (0, 12)
    assert (
        figs.window_width(256) == 40
        and figs.window_width(8) == 48
        and figs.window_width(4096) == 24
    )


def test_the_strip_sits_on_the_overviews_time_axis(series):
    _, values = series
    overview = figs.belt_overview(values, np.arange(6), LABELS)
    strip = figs.cursor_strip(11, 4, 2, 8, LABELS)
    for fig in (overview, strip):
        assert list(fig.layout.xaxis.range) == [-0.5, 10.5]
        assert fig.layout.margin.autoexpand is False
    assert (overview.layout.margin.l, overview.layout.margin.r) == (
        strip.layout.margin.l,
        strip.layout.margin.r,
    )
    _, band, cursor = strip.layout.shapes  # the track, the window, the cursor
    assert (band.x0, band.x1, cursor.x0) == (1.5, 7.5, 4)


def test_an_rnn_has_only_h(series):
    _, values = series
    fig = figs.belt_overview({"h": values["h"]}, np.arange(6), LABELS, figs.RNN_QUANTITIES)
    assert [t.type for t in fig.data] == ["image", "heatmap"] and fig.layout.annotations[
        0
    ].text == "h"
    lines = figs.unit_lines(
        {"h": values["h"][:, 0]}, list("abcdefghijk"), LABELS | {"states": "s", "gates": "g"}
    )
    # the hover gives the step and its token (%{x} would give the axis's label, the token)
    assert (
        list(lines.data[0].customdata[3]) == [3, "d"]
        and "customdata[0]" in lines.data[0].hovertemplate
    )
    assert [t.name for t in lines.data] == ["h"] and "yaxis2" not in lines.to_plotly_json()[
        "layout"
    ]


def test_colored_text_wraps_and_neutralises_markup():
    tokens = list('<b onmouseover="x">hi</b>\nline two & more')
    fig = figs.colored_text(tokens, np.linspace(-1, 1, len(tokens)), "c", width=10)
    cells = [cell for row in fig.to_plotly_json()["data"][0]["text"] for cell in row]
    assert not any("<" in c or ">" in c for c in cells)  # no cell can open a tag
    assert {"&lt;", "&gt;", "&amp;"} <= set(cells) and "⏎" in cells
    z = np.asarray(fig.data[0].z, dtype=float)
    assert z.shape[1] == 10 and np.isnan(z[-1, -1])
    assert fig.data[0].customdata[0][0] == 0  # hover knows each cell's step
    trace = figs.colored_text(tokens, np.zeros(len(tokens)), "c", step="paso").data[0]
    assert trace.hoverongaps is False  # the empty cells at the ends of lines have no hover
    assert trace.hovertemplate.startswith("paso %{customdata} · “%{text}”")


def test_ranking_and_overlay(rng):
    text = 'ab "cd" efgh'
    prop = inside_quotes(text)
    values = rng.standard_normal((len(text), 5))
    values[:, 3] = prop
    ranking = rank_units(values, prop)
    fig = figs.ranking_bars(ranking, 3, {"unit": "unit", "r": "r"})
    assert fig.data[0].y[0] == "unit 3" and fig.data[0].x[0] == pytest.approx(1.0)
    overlay = figs.property_overlay(
        prop, values[:, 3], list(text), {"property": "p", "unit_value": "u", "step": "s"}
    )
    assert len(overlay.data) == 2
    lay = overlay.layout
    assert lay.xaxis.tickangle == 0 and lay.xaxis.tickmode == "auto"  # upright step numbers
    assert (
        lay.yaxis2.tickmode == "auto" and lay.yaxis2.showgrid is False
    )  # its own ticks, not the left's grid


WATERFALL_LABELS = {
    "unit": "unit",
    "step": "step",
    "start": "start",
    "end": "end",
    "removed": "-",
    "added": "+",
    "memory": "c",
}


def test_the_waterfall_colours_bars_by_gate_not_by_direction():
    """Taking off a negative value raises the belt, and the input gate can put on a negative
    value: the bars keep their gate's colour either way, as the page's text says."""
    c_prev = np.array([-1.0, -0.4, 0.3])
    removed = np.array([-0.6, 0.2, 0.1])  # (1 - f)·c_{t-1}: negative when c_{t-1} is
    added = np.array([0.0, 0.5, -0.8])  # i·c~: either sign
    c = c_prev - removed + added
    flow = BeltFlow(c_prev, c_prev - removed, removed, added, c)
    fig = figs.belt_waterfall({7: flow}, 0, 3, list("abc"), WATERFALL_LABELS)
    ends, off, on, _ = fig.data
    assert off.marker.color == GATE_COLORS["f"] and on.marker.color == GATE_COLORS["i"]
    np.testing.assert_allclose(np.asarray(off.y, float), -removed)
    np.testing.assert_allclose(np.asarray(on.y, float), added)
    assert off.y[0] > 0 and on.y[2] < 0  # a red bar going up, a blue one going down
    np.testing.assert_allclose(
        np.asarray(off.base, float), c_prev, atol=1e-6
    )  # from where the belt stood
    np.testing.assert_allclose(
        np.asarray(on.base, float) + np.asarray(on.y, float), c, atol=1e-6
    )  # lands on c_t
    assert list(ends.y) == pytest.approx([c_prev[0], c[-1]])


def test_the_waterfall_starts_and_ends_on_the_belt(series):
    layer, _ = series
    flows = {2: belt_flow(layer, 0, 2), 4: belt_flow(layer, 0, 4)}
    fig = figs.belt_waterfall(flows, 3, 8, list("abcdefghijk"), WATERFALL_LABELS)
    assert (
        len(fig.data) == 2 * 4
    )  # per unit: the ends, the forget bars, the input bars, the connectors
    for k, u in enumerate(flows):
        ends, _, on, _ = fig.data[4 * k : 4 * k + 4]
        fl = flows[u]
        assert ends.y[0] == pytest.approx(fl.c_prev[3]) and ends.y[1] == pytest.approx(fl.c[7])
        np.testing.assert_allclose(
            np.asarray(on.base, float) + np.asarray(on.y, float), fl.c[3:8], atol=1e-6
        )
    assert list(fig.layout.xaxis.ticktext) == ["start", "d", "e", "f", "g", "h", "end"]


def test_unit_lines(series):
    _, values = series
    labels = LABELS | {"states": "s", "gates": "g"}
    fig = figs.unit_lines({q: v[:, 1] for q, v in values.items()}, list("abcdefghijk"), labels)
    assert [t.name for t in fig.data] == ["c", "h", "f", "i", "g", "o"]


# ------------------------------------------------------------------------------ the page
def chart(at, key: str) -> dict:
    """The chart with this widget key (AppTest keeps it in the element's id)."""
    for c in at.get("plotly_chart"):
        if c.proto.id.endswith("-" + key):
            return json.loads(c.proto.spec)
    raise KeyError(key)


def upload(at, model, name="m.npz"):
    at.file_uploader(key="belt_upload").set_value(
        (name, checkpoint_bytes(model), "application/octet-stream")
    )
    return at.run()


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize(
    "model", ["belt", "text_en", "text_es", "logbook", "echo_trained", "text_random", "echo_random"]
)
def test_belt_page_every_model(lang, model):
    at = open_app("belt", lang=lang, belt_model=model)
    assert_clean(at)
    window = chart(at, "belt_window")
    assert len([d for d in window["data"] if d["type"] == "heatmap"]) == 6
    # window, waterfall, unit lines, text, ranking, overlay, 3 matches; long inputs add the
    # overview and the strip
    assert len(charts(at)) >= 9
    for c in at.get("plotly_chart"):  # Plotly's bar: only the camera (ui/figures/takeaway.py)
        assert "toImage" not in json.loads(c.proto.config)["modeBarButtonsToRemove"]


def test_the_gates_read_0_to_1_everywhere():
    at = open_app("belt")
    for key in ("belt_overview", "belt_window"):
        for trace in chart(at, key)["data"]:
            if trace["type"] == "heatmap" and trace["colorscale"][-1][1] in GATE_COLORS.values():
                assert trace["colorbar"]["ticktext"] == ["0", "0.5", "1"]


def test_an_empty_text_says_the_example_is_shown():
    at = open_app("belt")
    assert_clean(at)
    assert any("No input typed" in i.value for i in at.info)
    es = open_app("belt", lang="es")
    assert any("No has escrito" in i.value for i in es.info)
    typed = open_app("belt", belt_text="the keeper")
    assert not any("No input typed" in i.value for i in typed.info)


@pytest.mark.parametrize(
    "prop", ["quotes", "parens", "word_position", "since_newline", "char_class", "regex"]
)
def test_every_text_property(prop):
    at = open_app("belt", belt_property=prop, belt_regex='"[^"]*"', belt_class="punctuation")
    assert_clean(at)
    assert not at.warning
    assert any("Match 1" in m.value for m in at.markdown)


def test_the_ranking_has_its_own_choice_of_value():
    """Ranking by c or h is the search's own setting: the "One unit" section's choice does not
    move it, its own does (and the matches say which value they show)."""
    at = open_app("belt", belt_model="logbook", belt_property="word_position")
    by_c = chart(at, "belt_ranking")["data"][0]["y"]
    assert any("Match 1" in m.value and "(cell state c)" in m.value for m in at.markdown)
    at.selectbox(key="belt_track").set_value("h").run()  # the other section's selector
    assert chart(at, "belt_ranking")["data"][0]["y"] == by_c
    assert any("Match 1" in m.value and "(cell state c)" in m.value for m in at.markdown)
    at.radio(key="belt_find_value").set_value("h").run()
    assert_clean(at)
    assert chart(at, "belt_ranking")["data"][0]["y"] != by_c
    assert any("Match 1" in m.value and "(hidden state h)" in m.value for m in at.markdown)
    assert url(at)["belt_find_value"] == "h"


def test_a_bad_regular_expression_is_one_line():
    at = open_app("belt", belt_property="regex", belt_regex="(a+)+$")
    assert_clean(at)
    assert len(at.warning) == 1 and "repetition inside repetition" in at.warning[0].value
    at.text_input(key="belt_regex").set_value("[unclosed").run()
    assert_clean(at)
    assert "not a valid regular expression" in at.warning[0].value
    assert "the [ at character 1 is never closed" in at.warning[0].value


def test_a_bad_regular_expression_in_spanish_has_no_english():
    at = open_app("belt", lang="es", belt_property="regex", belt_regex="[unclosed")
    assert_clean(at)
    (warning,) = at.warning
    assert "carácter 1" in warning.value and "unterminated" not in warning.value
    at.text_input(key="belt_regex").set_value("ab)").run()
    assert "carácter 3" in at.warning[0].value and "unbalanced" not in at.warning[0].value


def test_capitals_are_offered_only_to_a_model_that_has_them():
    at = open_app("belt", belt_model="text_en", belt_property="char_class", belt_class="uppercase")
    assert_clean(at)  # the story's model reads lowercase text
    assert "uppercase" not in at.selectbox(key="belt_class").options
    assert at.selectbox(key="belt_class").value != "uppercase"
    vocab = tuple("ABab .")
    config = lstm_core.ModelConfig("char-lm", "lstm", len(vocab), 4, 1, len(vocab), vocab=vocab)
    cased = lstm_core.Model.create(config, seed=0)
    at = upload(
        open_app("belt", belt_model="upload", belt_property="char_class", belt_class="uppercase"),
        cased,
    )
    at.text_area(key="belt_text").set_value("Ab ab. AB ba").run()
    assert_clean(at)
    assert at.selectbox(key="belt_class").value == "uppercase"
    assert any("Match 1" in m.value for m in at.markdown)


def test_the_echo_page_finds_the_waiting_bit():
    at = open_app("belt", belt_model="echo_trained", belt_property="lag", belt_lag=3)
    assert_clean(at)
    assert at.selectbox(key="belt_property").options == [
        "the input bit k steps ago",
        "matches a regular expression",
    ]
    bars = chart(at, "belt_ranking")
    assert bars["data"][0]["type"] == "bar" and abs(float(bars["data"][0]["text"][0])) > 0.7
    # the bit waiting 3 steps is held only because training taught it: an untrained twin can't
    assert any("what training taught it" in c.value for c in at.caption)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_match_random_cells_make_too_is_called_so(lang):
    at = open_app("belt", lang=lang, belt_model="random", belt_property="word_position")
    assert_clean(at)
    words = {"en": "shows no learning", "es": "no muestra aprendizaje"}[lang]
    assert any(words in c.value for c in at.caption)


def test_input_problems_are_one_line_each():
    at = open_app("belt", belt_text="The Keeper™ said 🪜 hello")
    assert_clean(at)
    assert any("™" in w.value and "🪜" in w.value for w in at.warning)
    at = open_app("belt")
    at.text_area(key="belt_text").set_value("x" * 2000).run()
    assert_clean(at)
    assert any("2000" in w.value for w in at.warning)
    at = open_app("belt", belt_model="echo_trained", belt_text="hello")
    assert_clean(at)
    assert any("bits" in w.value for w in at.warning)


def test_the_cursor_moves_the_window_not_the_overview():
    at = open_app("belt")
    overview, window = chart(at, "belt_overview"), chart(at, "belt_window")
    at.button(key="belt_forward").click().run()
    assert stepper(at, "belt_cursor").value == 1 and url(at)["belt_cursor"] == "1"
    assert chart(at, "belt_window")["layout"]["shapes"][0]["x0"] == 0.5
    assert chart(at, "belt_overview") == overview  # byte for byte: nothing to resend
    assert chart(at, "belt_strip")["layout"]["shapes"][2]["x0"] == 1
    stepper(at, "belt_cursor").set_value(100).run()
    moved = chart(at, "belt_window")
    assert moved["data"][0]["x"] != window["data"][0]["x"]  # the window followed the cursor


def test_sort_unit_and_flows_change_the_page_and_the_url():
    at = open_app("belt", belt_model="text_en")  # 64 units: numbered every few rows
    first = chart(at, "belt_overview")
    at.selectbox(key="belt_sort").set_value("index").run()
    overview = chart(at, "belt_overview")
    assert overview["data"][0]["yaxis"] == "y" and overview["data"][1]["yaxis"] == "y2"
    axis = overview["layout"]["yaxis2"]  # c's panel, under the facts drawn on top
    assert len(axis["tickvals"]) >= 3 and axis["ticktext"] == [str(r) for r in axis["tickvals"]]
    assert chart(at, "belt_window")["data"][0]["y"][:3] == ["0", "1", "2"]
    assert chart(at, "belt_overview") != first
    at.number_input(key="belt_unit").set_value(9).run()
    assert url(at)["belt_unit"] == "9"
    at.multiselect(key="belt_flows").set_value([3, 5]).run()
    assert url(at)["belt_flows"] == "3,5"
    again = open_app("belt", **url(at))
    assert (
        at.multiselect(key="belt_flows").value
        == again.multiselect(key="belt_flows").value
        == [3, 5]
    )


def test_upload_a_checkpoint_and_a_bad_file():
    at = open_app("belt", belt_model="upload")
    assert_clean(at)
    assert at.info and not charts(at)  # asks for a file first
    at = upload(at, small_model("char-lm", "lstm", 2, hidden=5, dtype=np.float32), "mine.npz")
    assert_clean(at)
    assert at.number_input(key="belt_layer").value == 0
    assert any("2 layer" in c.value for c in at.caption)
    assert not at.warning  # the page's own example keeps to what the model reads
    assert at.text_area(key="belt_text").placeholder.strip(" abcde") == ""
    at.text_area(key="belt_text").set_value("a bad cab, faded").run()
    assert any("never seen" in w.value for w in at.warning)  # f is outside "abcde"
    assert any("same at every step" in i.value for i in at.info)  # no quotes left: nothing to rank
    at = open_app("belt", belt_model="upload")
    at.file_uploader(key="belt_upload").set_value(
        ("evil.npz", b"PK\x03\x04 not really", "application/octet-stream")
    ).run()
    assert_clean(at)
    assert len(at.error) == 1 and "truncated or corrupt" in at.error[0].value


def test_one_layer_choice_drives_the_whole_page():
    model = small_model("char-lm", "lstm", 2, hidden=5)
    at = upload(open_app("belt", belt_model="upload"), model)
    at.text_area(key="belt_text").set_value("abcde" * 20).run()
    assert_clean(at)
    assert not at.tabs and "Layer 0" in at.subheader[0].value
    x = np.array([[model.config.vocab.index(ch) for ch in "abcde" * 20]])
    layers = model.run(x).layers
    for k in (0, 1):
        at.number_input(key="belt_layer").set_value(k).run()
        assert f"Layer {k}" in at.subheader[0].value and url(at).get("belt_layer", "0") == str(k)
        c = layers[k].c[1:, 0]  # (T, H): the window shows this layer's cell state
        window = heatmaps_of(chart(at, "belt_window"))[0]
        start = int(decode_z(window["x"])[0])
        units = [int(u) for u in window["y"]]
        z = np.asarray(decode_z(window["customdata"]), dtype=np.float32)  # c's exact values
        np.testing.assert_allclose(z, c[start : start + z.shape[1], units].T, atol=1e-5)
        assert [d["type"] for d in chart(at, "belt_overview")["data"]] == ["image", "heatmap"] * 6
        assert stepper(at, "belt_cursor")  # one cursor for the page
    at = open_app("belt", belt_layer=2)  # a one-layer sample model: said, and dropped
    assert_clean(at)
    assert any("belt_layer" in w.value for w in at.warning) and "belt_layer" not in url(at)


def decode_z(z):
    """An array from a chart's JSON: a list, or Plotly's typed-array form."""
    if isinstance(z, dict):
        flat = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"])
        return flat.reshape([int(n) for n in z["shape"].split(",")]) if "shape" in z else flat
    return z


def heatmaps_of(spec: dict) -> list:
    return [d for d in spec["data"] if d["type"] == "heatmap"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_rnn_checkpoint_shows_its_h_and_says_it_has_no_belt(lang):
    """The echo page's RNN download opens here: h only, and the page says why."""
    rnn = small_model("echo", "rnn", 1, hidden=5)
    at = upload(open_app("belt", lang=lang, belt_model="upload"), rnn)
    assert_clean(at)
    assert not at.warning
    note = {"en": "no belt and no valve", "es": "no tiene banda ni válvula"}[lang]
    assert any(note in i.value for i in at.info)
    window = chart(at, "belt_window")
    assert len(heatmaps_of(window)) == 1
    assert (
        window["layout"]["annotations"][0]["text"]
        == {"en": "hidden state h", "es": "estado oculto h"}[lang]
    )
    with pytest.raises(KeyError):
        chart(at, "belt_waterfall")
    assert [d["name"] for d in chart(at, "belt_unit_lines")["data"]] == [
        {"en": "hidden state h", "es": "estado oculto h"}[lang]
    ]
    with pytest.raises(KeyError):  # c or h: an RNN has only h, so no choice is offered
        at.radio(key="belt_find_value")
    assert chart(at, "belt_ranking")  # the bit waiting to be echoed, searched in h


def test_reset_forgets_the_upload():
    at = open_app("belt", belt_model="upload", belt_cursor=3)
    at = upload(at, small_model("echo", "lstm", 1, hidden=3, dtype=np.float32), "e.npz")
    assert "belt.uploaded" in at.session_state
    at.button(key="reset_page").click().run()
    assert_clean(at)
    assert "belt.uploaded" not in at.session_state
    assert at.selectbox(key="belt_model").value == "belt"


def test_page_source_renders_no_raw_html():
    source = (ROOT / "app_pages" / "belt.py").read_text()
    assert "unsafe_allow_html" not in source


def test_the_logbook_model_has_units_the_belt_page_finds():
    """The generated corpus exists so that a trained model carries its structures in units the
    property search can find. Measured on the held-out end of the logbook it never trained on,
    against the same network untrained: random cells already follow some properties a little
    (they react to the characters themselves), so only a clear step above that counts."""
    import lstm_core
    from lstm_core.analysis import text_property, untrained_best

    model = lstm_core.load_checkpoint(ROOT / "samples" / "logbook_h128.npz")
    text = (ROOT / "samples" / "logbook.txt").read_text(encoding="utf-8").lower()[-3000:]
    ids = lstm_core.Vocabulary(model.config.vocab).encode(text)[None, :]
    c = model.run(ids).layers[0].c[1:, 0, :]  # (T, H): the belt after each character
    for name in ("quotes", "since_newline"):  # what the logbook's model learned to track
        prop = text_property(text, name)
        ranking = rank_units(c, prop)
        trained = abs(float(ranking.r[ranking.order[0]]))
        untrained = max(untrained_best(model, ids, 0, "c", prop, seed) for seed in range(5))
        assert trained > untrained + 0.05, (name, trained, untrained)


def test_an_untrained_twin_scores_what_random_cells_do():
    import lstm_core
    from lstm_core.analysis import untrained_best

    rng = np.random.default_rng(0)
    vocab = tuple("ab ")
    model = lstm_core.Model.create(
        lstm_core.ModelConfig("char-lm", "lstm", 3, 8, 1, 3, vocab=vocab), seed=1
    )
    ids = rng.integers(0, 3, (1, 200))
    noise = rng.standard_normal(200)  # nothing a cell could follow
    current_char = (ids[0] == 2).astype(float)  # what every cell sees directly
    assert untrained_best(model, ids, 0, "h", noise, seed=3) < 0.35
    assert untrained_best(model, ids, 0, "h", current_char, seed=3) > 0.5
    assert untrained_best(model, ids, 0, "c", current_char, seed=3) == untrained_best(
        model, ids, 0, "c", current_char, seed=3
    )  # fixed by its seed


def test_the_cursor_follows_the_inputs_length_both_ways():
    """A longer input keeps the step; a shorter one moves it to its new end (once, an error in
    the browser: the old slider's step came back beyond the new end)."""
    at = open_app("belt", belt_model="text_en")
    last = int(stepper(at, "belt_cursor").max)
    stepper(at, "belt_cursor").set_value(last).run()
    at.text_area(key="belt_text").set_value(("the sea and the keeper " * 20)[:300]).run()
    assert_clean(at)
    assert stepper(at, "belt_cursor").max == 299 and stepper(at, "belt_cursor").value == last
    at.text_area(key="belt_text").set_value(
        "the keeper said hello to the sea, and the sea said"
    ).run()
    assert_clean(at)
    assert stepper(at, "belt_cursor").max == 49 and stepper(at, "belt_cursor").value == 49
    assert url(at)["belt_cursor"] == "49"
    at.button(key="belt_back").click().run()
    assert stepper(at, "belt_cursor").value == 48 and url(at)["belt_cursor"] == "48"


def test_a_shorter_input_moves_a_linked_cursor_without_blaming_the_link():
    at = open_app("belt", belt_model="text_en", belt_cursor=30)
    assert stepper(at, "belt_cursor").value == 30 and not at.warning
    at.text_area(key="belt_text").set_value("the keeper said hello").run()
    assert_clean(at)
    assert stepper(at, "belt_cursor").value == 20 and url(at)["belt_cursor"] == "20"
    assert not any("belt_cursor" in w.value for w in at.warning)  # the link was used as given
    at = open_app("belt", belt_model="text_en", belt_cursor=300)  # beyond this input: said
    assert stepper(at, "belt_cursor").value == int(stepper(at, "belt_cursor").max)
    assert any("belt_cursor" in w.value for w in at.warning)


def test_choosing_upload_puts_it_in_the_link_before_any_file():
    """The page stops to wait for a file; the link must already say "upload" (it kept the
    previous model: a reload brought that back)."""
    at = open_app("belt", belt_model="logbook")
    at.selectbox(key="belt_model").set_value("upload").run()
    assert_clean(at)
    assert url(at)["belt_model"] == "upload" and at.info and not charts(at)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_echo_models_guide_speaks_of_the_bit_it_draws_on_top(lang):
    """The echo model's facts panel draws the bit waiting to be echoed, and the guide says so
    (not quotations, which an echo model never reads)."""
    from ui.i18n import t

    at = open_app("belt", lang=lang, belt_model="echo_trained")
    assert_clean(at)
    value = t("belt.track_c", lang=lang)
    guide = t("belt.where_to_look_echo", lang=lang, value=value, lag=3)
    sort = at.selectbox(key="belt_sort")
    assert sort.value == "facts" and sort.format_func("facts") == t(
        "belt.sort_facts_echo", lang=lang
    )
    assert any(m.value == guide for m in at.markdown)
    quotes = t("belt.bar_quotes", lang=lang)
    assert not any(quotes in m.value for m in at.markdown)
    overview = chart(at, "belt_overview")
    prop = t("belt.property_lag", lang=lang)
    assert any(f"«{prop}»" in a["text"] for a in overview["layout"]["annotations"])
