"""The app headless (Streamlit's AppTest): every page in both languages, widgets, the URL."""

import json

import numpy as np
import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from ui.i18n import LANGUAGES

PAGE_FILES = {
    "bptt": "pages/bptt.py",
    "text": "pages/text.py",
    "home": "pages/home.py",
    "cell": "pages/cell.py",
    "belt": "pages/belt.py",
    "echo": "pages/echo.py",
}


def open_app(page: str = "home", **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = str(value)
    if page != "home":
        at.switch_page(PAGE_FILES[page])
    return at.run()


def url(at: AppTest) -> dict[str, str]:
    """The URL's query parameters after the run, as plain strings."""
    out = {}
    for key in at.query_params:
        value = at.query_params[key]
        out[key] = value[0] if isinstance(value, list) and len(value) == 1 else value
    return out


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def visible_text(at: AppTest) -> str:
    """Every string the page shows: texts, labels, help, options, chart annotations and titles."""
    parts = []
    for kind in ("markdown", "title", "header", "subheader", "caption", "latex", "warning", "info",
                 "error", "success", "text"):  # fmt: skip
        parts += [str(e.value) for e in getattr(at, kind)]
    for kind in (
        "button",
        "selectbox",
        "slider",
        "number_input",
        "text_input",
        "radio",
        "toggle",
        "metric",
    ):
        for w in getattr(at, kind):
            parts.append(str(getattr(w, "label", "")))
            parts.append(str(getattr(w, "help", "") or ""))
            parts += [str(o) for o in getattr(w, "options", [])]
    parts += [json.dumps(spec, ensure_ascii=False) for spec in charts(at)]
    parts += [str(p.proto.label) for p in at.get("page_link")]
    return "\n".join(parts)


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    text = visible_text(at)
    assert "⟦" not in text, [line for line in text.splitlines() if "⟦" in line][:5]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_home_page(lang):
    at = open_app("home", lang=lang)
    assert_clean(at)
    assert at.title[0].value == "LSTM Lab"
    links = at.get("page_link")
    assert any("cell" in str(link.proto.page) for link in links)
    words = {"en": "What an LSTM is", "es": "Qué es una LSTM"}[lang]
    assert any(words in h.value for h in at.subheader)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize(
    "model", ["echo_trained", "text_en", "text_es", "logbook", "echo_random", "text_random"]
)
def test_cell_page_every_model(lang, model):
    at = open_app("cell", lang=lang, model=model)
    assert_clean(at)
    assert len(charts(at)) == 3  # the cell, the vectors, the valve
    assert len(at.latex) == 6  # the six equations


def test_cell_page_numbers_are_the_models():
    """The diagram and the equations show the engine's own values for the chosen step and unit."""
    from lstm_core import load_checkpoint

    at = open_app("cell", model="text_en", input="the keeper", step=4, unit=3)
    assert_clean(at)
    model = load_checkpoint(ROOT / "samples" / "lighthouse_en_h64.npz")
    ids = np.array([[model.config.vocab.index(ch) for ch in "the keeper"]])
    layer = model.run(ids).layers[0]
    c, h = layer.c[5, 0, 3], layer.h[5, 0, 3]
    diagram = charts(at)[0]
    notes = " ".join(a["text"] for a in diagram["layout"]["annotations"])
    assert f"c<sub>t</sub> = {c:.2f}" in notes and f"h<sub>t</sub> = {h:.2f}" in notes
    assert f"{c:.3f}" in at.latex[4].value and f"{h:.3f}" in at.latex[5].value


def test_widgets_change_the_state_and_the_url():
    at = open_app("cell")
    title = at.subheader[0].value
    at.slider(key="step").set_value(5).run()
    assert at.subheader[0].value != title and "5" in at.subheader[0].value
    assert url(at)["step"] == "5"
    at.button(key="cell_forward").click().run()
    assert at.slider(key="step").value == 6
    at.button(key="cell_back").click().run()
    at.button(key="cell_back").click().run()
    assert at.slider(key="step").value == 4
    at.selectbox(key="clamp_gate").set_value("f").run()
    assert len(charts(at)) == 5  # + before/after and the Δc heatmap
    assert url(at)["clamp_gate"] == "f"
    at.selectbox(key="model").set_value("text_es").run()
    assert_clean(at)
    assert "lowercase" not in visible_text(at)  # the example is already lowercase


def test_url_round_trip():
    """A link reopens the same setup; defaults stay out of the link."""
    setup = {"model": "text_es", "input": "el faro", "step": "3", "unit": "7", "clamp_gate": "o",
             "clamp_value": "0.25", "clamp_from": "2", "valve": "-3.5", "lang": "es", "seed": "42"}  # fmt: skip
    at = open_app("cell", **setup)
    assert_clean(at)
    assert at.selectbox(key="model").value == "text_es"
    assert at.text_input(key="input").value == "el faro"
    assert (at.slider(key="step").value, at.number_input(key="unit").value) == (3, 7)
    assert at.slider(key="clamp_value").value == 0.25 and at.slider(key="valve").value == -3.5
    assert at.number_input(key="seed").value == 42
    assert url(at) == setup  # the URL after the run still says exactly what the link said
    again = open_app("cell", **url(at))
    assert charts(again) == charts(at)
    plain = open_app("cell")
    assert url(plain) == {}  # nothing but defaults: a clean link


@pytest.mark.parametrize(
    "bad",
    [{"step": "banana"}, {"model": "gpt"}, {"unit": "-4"}, {"valve": "1e999"}, {"clamp_gate": "<script>"},
     {"lang": "xx"}, {"seed": "3.5"}, {"input": "x" * 500}, {"clamp_value": "nan"}],
)  # fmt: skip
def test_garbage_url_falls_back_with_a_warning(bad):
    at = open_app("cell", **bad)
    assert_clean(at)
    (name,) = bad
    assert any(name in w.value for w in at.warning), [w.value for w in at.warning]
    assert all("<script>" not in w.value for w in at.warning)


def test_unit_beyond_the_model_is_moved_inside():
    at = open_app("cell", model="echo_trained", unit=60)
    assert_clean(at)
    assert at.number_input(key="unit").value == 3  # 4 units: 0..3


def test_reset_restores_the_defaults_but_not_the_language():
    at = open_app("cell", lang="es", step=4, clamp_gate="i", model="text_en")
    at.button(key="reset_page").click().run()
    assert_clean(at)
    assert at.slider(key="step").value == 0 and at.selectbox(key="clamp_gate").value == "none"
    assert at.selectbox(key="model").value == "echo_trained"
    assert at.selectbox(key="lang").value == "es"


def test_bad_input_is_reported_not_fatal():
    at = open_app("cell", model="text_en", input="The Keeper™ <b>climbed</b> 🪜")
    assert_clean(at)
    dropped = " ".join(w.value for w in at.warning)
    assert "™" in dropped and "🪜" in dropped
    assert any("lowercase" in i.value for i in at.info)
    at = open_app("cell", model="echo_trained", input="abc")
    assert_clean(at)
    assert any("bits" in w.value for w in at.warning)  # nothing readable: the example is used
