"""The page "The conveyor belt": its figure builders on small traces, then the page headless."""

import numpy as np
import pytest
from conftest import ROOT, random_batch, small_model
from test_app import assert_clean, charts, open_app, url

from lstm_core import checkpoint_bytes
from lstm_core.analysis import belt_flow, inside_quotes, rank_units
from ui.figures import belt as figs
from ui.i18n import LANGUAGES

LABELS = {q: q for q in figs.QUANTITIES} | {"unit": "unit", "step": "step", "open": "open"}


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


def test_heatmaps_are_aligned_with_one_cursor(series):
    _, values = series
    order = np.array([5, 0, 1, 2, 3, 4])
    fig = figs.belt_heatmaps(values, order, 4, list("abcdefghijk"), LABELS)
    assert len(fig.data) == 6
    for trace, q in zip(fig.data, figs.QUANTITIES, strict=True):
        z = np.asarray(trace.z)
        assert z.shape == (6, 11) and list(trace.y) == ["5", "0", "1", "2", "3", "4"]
        expected = values[q][:, order].T
        if q in "fio":  # valves travel as whole percents
            np.testing.assert_array_equal(z, np.round(expected * 100))
            assert (trace.zmin, trace.zmax) == (0, 100)
        else:
            np.testing.assert_allclose(z, expected, atol=1e-6)
            assert trace.zmid == 0
    assert [s.x0 for s in fig.layout.shapes] == [3.5] * 6  # the cursor, in every panel
    assert fig.layout.xaxis.ticktext[4] == "e"


def test_colored_text_wraps_and_neutralises_markup():
    tokens = list('<b onmouseover="x">hi</b>\nline two & more')
    fig = figs.colored_text(tokens, np.linspace(-1, 1, len(tokens)), "c", width=10)
    cells = [cell for row in fig.to_plotly_json()["data"][0]["text"] for cell in row]
    assert not any("<" in c or ">" in c for c in cells)  # no cell can open a tag
    assert {"&lt;", "&gt;", "&amp;"} <= set(cells) and "⏎" in cells
    z = np.asarray(fig.data[0].z, dtype=float)
    assert z.shape[1] == 10 and np.isnan(z[-1, -1])
    assert fig.data[0].customdata[0][0] == 0  # hover knows each cell's step


def test_ranking_and_overlay(series, rng):
    text = 'ab "cd" efgh'
    prop = inside_quotes(text)
    values = rng.standard_normal((len(text), 5))
    values[:, 3] = prop
    ranking = rank_units(values, prop)
    fig = figs.ranking_bars(ranking, 3, {"unit": "unit", "r": "r"})
    assert fig.data[0].y[0] == "unit 3" and fig.data[0].x[0] == pytest.approx(1.0)
    overlay = figs.property_overlay(
        prop, values[:, 3], list(text), {"property": "p", "unit_value": "u"}
    )
    assert len(overlay.data) == 2


def test_waterfall_starts_and_ends_on_the_belt(series):
    layer, _ = series
    flows = {2: belt_flow(layer, 0, 2), 4: belt_flow(layer, 0, 4)}
    labels = {"unit": "unit", "start": "start", "end": "end", "removed": "-", "added": "+"}
    fig = figs.belt_waterfall(flows, 3, 8, list("abcdefghijk"), labels)
    assert len(fig.data) == 2
    for trace, u in zip(fig.data, flows, strict=True):
        fl = flows[u]
        assert trace.measure[0] == "absolute" and trace.measure[-1] == "total"
        assert len(trace.x) == 2 + 2 * 5
        assert trace.y[0] == pytest.approx(fl.c_prev[3])
        assert sum(trace.y[:-1]) == pytest.approx(fl.c[7])  # the waterfall lands on c_7


def test_unit_lines(series):
    _, values = series
    labels = {"states": "s", "gates": "g"} | {q: q for q in figs.QUANTITIES}
    fig = figs.unit_lines({q: v[:, 1] for q, v in values.items()}, list("abcdefghijk"), labels)
    assert [t.name for t in fig.data] == ["c", "h", "f", "i", "g", "o"]


# ------------------------------------------------------------------------------ the page
@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize(
    "model", ["text_en", "text_es", "logbook", "echo_trained", "text_random", "echo_random"]
)
def test_belt_page_every_model(lang, model):
    at = open_app("belt", lang=lang, belt_model=model)
    assert_clean(at)
    assert (
        len(charts(at)) >= 8
    )  # heatmaps, waterfall, unit lines, text, ranking, overlay, 3 matches
    heat = charts(at)[0]
    assert len(heat["data"]) == 6


@pytest.mark.parametrize(
    "prop", ["quotes", "parens", "word_position", "since_newline", "char_class", "regex"]
)
def test_every_text_property(prop):
    at = open_app("belt", belt_property=prop, belt_regex='"[^"]*"', belt_class="punctuation")
    assert_clean(at)
    assert not at.warning
    assert any("Match 1" in m.value for m in at.markdown)


def test_a_bad_regular_expression_is_one_line():
    at = open_app("belt", belt_property="regex", belt_regex="(a+)+$")
    assert_clean(at)
    assert len(at.warning) == 1 and "repetition inside repetition" in at.warning[0].value
    at.text_input(key="belt_regex").set_value("[unclosed").run()
    assert_clean(at)
    assert "not a valid regular expression" in at.warning[0].value


def test_the_echo_page_finds_the_waiting_bit():
    at = open_app("belt", belt_model="echo_trained", belt_property="lag", belt_lag=3)
    assert_clean(at)
    bars = charts(at)[-5]  # the ranking chart
    assert bars["data"][0]["type"] == "bar" and abs(float(bars["data"][0]["text"][0])) > 0.7


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


def test_cursor_sort_and_units_change_the_page_and_the_url():
    at = open_app("belt")
    first = charts(at)[0]
    at.button(key="belt_forward").click().run()
    assert at.slider(key="belt_cursor").value == 1 and url(at)["belt_cursor"] == "1"
    assert charts(at)[0]["layout"]["shapes"][0]["x0"] == 0.5
    at.selectbox(key="belt_sort").set_value("index").run()
    assert charts(at)[0]["data"][0]["y"][:3] == ["0", "1", "2"]
    assert charts(at)[0] != first
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
    good = checkpoint_bytes(small_model("char-lm", "lstm", 2, hidden=5, dtype=np.float32))
    at.file_uploader(key="belt_upload").set_value(
        ("mine.npz", good, "application/octet-stream")
    ).run()
    assert_clean(at)
    assert len(charts(at)[0]["data"]) == 6 and at.number_input(key="belt_layer").value == 0
    assert any("2 layer" in c.value for c in at.caption)
    assert any(
        "never seen" in w.value for w in at.warning
    )  # most of the example is outside "abcde"
    assert any("same at every step" in i.value for i in at.info)  # no quotes left: nothing to rank
    at = open_app("belt", belt_model="upload")
    at.file_uploader(key="belt_upload").set_value(
        ("evil.npz", b"PK\x03\x04 not really", "application/octet-stream")
    ).run()
    assert_clean(at)
    assert len(at.error) == 1 and "truncated or corrupt" in at.error[0].value
    rnn = checkpoint_bytes(small_model("char-lm", "rnn", 1, hidden=5, dtype=np.float32))
    at.file_uploader(key="belt_upload").set_value(
        ("rnn.npz", rnn, "application/octet-stream")
    ).run()
    assert_clean(at)
    assert any("RNN" in w.value for w in at.warning)


def test_reset_forgets_the_upload():
    at = open_app("belt", belt_model="upload", belt_cursor=3)
    good = checkpoint_bytes(small_model("echo", "lstm", 1, hidden=3, dtype=np.float32))
    at.file_uploader(key="belt_upload").set_value(("e.npz", good, "application/octet-stream")).run()
    assert "belt.uploaded" in at.session_state
    at.button(key="reset_page").click().run()
    assert_clean(at)
    assert "belt.uploaded" not in at.session_state
    assert at.selectbox(key="belt_model").value == "text_en"


def test_page_source_renders_no_raw_html():
    source = (ROOT / "pages" / "belt.py").read_text()
    assert "unsafe_allow_html" not in source


def test_the_logbook_model_has_units_the_belt_page_finds():
    """The generated corpus exists so that a trained model carries its structures in units the
    property search can find: measured on the held-out end of the logbook it never trained on."""
    import lstm_core
    from lstm_core.analysis import text_property

    model = lstm_core.load_checkpoint(ROOT / "samples" / "logbook_h128.npz")
    text = (ROOT / "samples" / "logbook.txt").read_text(encoding="utf-8").lower()[-3000:]
    ids = lstm_core.Vocabulary(model.config.vocab).encode(text)
    c = model.run(ids[None, :]).layers[0].c[1:, 0, :]  # (T, H): the belt after each character
    best = {}
    for name in ("quotes", "parens", "word_position", "since_newline"):
        ranking = rank_units(c, text_property(text, name))
        best[name] = abs(float(ranking.r[ranking.order[0]]))
    assert best["word_position"] > 0.6 and best["quotes"] > 0.4, best
    assert best["parens"] > 0.3 and best["since_newline"] > 0.3, best
