"""The app headless (Streamlit's AppTest): every page in both languages, widgets, the URL."""

import json
import re

import numpy as np
import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from ui.frame import PAGES
from ui.i18n import LANGUAGES

PAGE_FILES = {p.id: p.file for p in PAGES}  # the frame's own list: a new page is tested at once


def open_app(page: str = "home", **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = str(value)
    if page != "home":
        at.switch_page(PAGE_FILES[page])
    return at.run()


def stepper(at: AppTest, name: str):
    """The time slider of params.stepper for parameter `name` (its key ends in the last step)."""
    (found,) = [s for s in at.slider if s.key.startswith(f"{name}__")]
    return found


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
    for kind in (
        "markdown",
        "title",
        "header",
        "subheader",
        "caption",
        "latex",
        "warning",
        "info",
        "error",
        "success",
        "text",
    ):
        parts += [str(e.value) for e in getattr(at, kind)]
    for kind in (
        "button",
        "selectbox",
        "slider",
        "select_slider",
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
    stepper(at, "step").set_value(5).run()
    assert at.subheader[0].value != title and "5" in at.subheader[0].value
    assert url(at)["step"] == "5"
    at.button(key="cell_forward").click().run()
    assert stepper(at, "step").value == 6
    at.button(key="cell_back").click().run()
    at.button(key="cell_back").click().run()
    assert stepper(at, "step").value == 4
    at.selectbox(key="clamp_gate").set_value("f").run()
    assert len(charts(at)) == 5  # + before/after and the Δc heatmap
    assert url(at)["clamp_gate"] == "f"
    at.selectbox(key="model").set_value("text_es").run()
    assert_clean(at)
    assert "lowercase" not in visible_text(at)  # the example is already lowercase


def test_url_round_trip():
    """A link reopens the same setup; defaults stay out of the link."""
    setup = {
        "model": "text_es",
        "input": "el faro",
        "step": "3",
        "unit": "7",
        "clamp_gate": "o",
        "clamp_value": "0.25",
        "clamp_from": "2",
        "valve": "-3.5",
        "lang": "es",
        "seed": "42",
    }
    at = open_app("cell", **setup)
    assert_clean(at)
    assert at.selectbox(key="model").value == "text_es"
    assert at.text_input(key="input").value == "el faro"
    assert (stepper(at, "step").value, at.number_input(key="unit").value) == (3, 7)
    assert at.select_slider(key="clamp_value").value == 0.25
    assert at.select_slider(key="valve").value == -3.5
    assert at.number_input(key="seed").value == 42
    assert url(at) == setup  # the URL after the run still says exactly what the link said
    again = open_app("cell", **url(at))
    assert charts(again) == charts(at)
    plain = open_app("cell")
    assert url(plain) == {}  # nothing but defaults: a clean link


@pytest.mark.parametrize(
    "bad",
    [
        {"step": "banana"},
        {"model": "gpt"},
        {"unit": "-4"},
        {"valve": "1e999"},
        {"clamp_gate": "<script>"},
        {"lang": "xx"},
        {"seed": "3.5"},
        {"input": "x" * 500},
        {"clamp_value": "nan"},
    ],
)
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
    assert stepper(at, "step").value == 0 and at.selectbox(key="clamp_gate").value == "none"
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


# ==================================================================================== the frame
TITLES_ES = {
    "lessons": "El recorrido",
    "home": "LSTM Lab",
    "cell": "Dentro de un paso",
    "belt": "La banda transportadora",
    "echo": "Tarea del eco",
    "text": "Generación de texto",
    "bptt": "Retropropagación en el tiempo",
}


@pytest.mark.parametrize("page", [p for p in PAGE_FILES if p != "home"])
def test_the_language_survives_the_first_page_switch_of_a_fresh_server(page):
    """/?lang=es, then a page from the navigation: the page is Spanish and the link keeps lang=es.

    Forgetting whether Streamlit saw a pages/ folder puts this process back in a fresh server's
    state (app_pages/ is not one: ui/frame.py); a widget's id once changed on that first switch.
    """
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = None
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "es"
    at.run()
    assert at.title[0].value == "LSTM Lab" and at.selectbox(key="lang").value == "es"
    at.switch_page(PAGE_FILES[page]).run()
    assert_clean(at)
    assert at.title[0].value == TITLES_ES[page]
    assert at.selectbox(key="lang").value == "es"
    assert url(at).get("lang") == "es"


def warning_lines(at: AppTest) -> list[str]:
    """The frame's one warning about the link, as its lines (a single problem: its sentence)."""
    assert len(at.warning) <= 1 or not any("link" in w.value for w in at.warning[1:])
    text = at.warning[0].value if at.warning else ""
    items = [line[2:] for line in text.splitlines() if line.startswith("- ")]
    return items or ([text] if text else [])


def test_several_bad_parameters_make_one_warning_with_a_line_each():
    at = open_app("cell", step="banana", model="gpt", unit="-4", seed="3.5", lang="xx")
    assert_clean(at)
    assert len(at.warning) == 1
    lines = warning_lines(at)
    assert len(lines) == 5
    for name in ("step", "model", "unit", "seed", "lang"):
        assert sum(f"**{name}**" in line for line in lines) == 1, (name, lines)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_values_beyond_the_model_are_moved_inside_and_said(lang):
    at = open_app("cell", lang=lang, unit=100, step=100, clamp_unit=99)
    assert_clean(at)
    assert (at.number_input(key="unit").value, stepper(at, "step").value) == (3, 15)
    assert at.number_input(key="clamp_unit").value == 3
    lines = warning_lines(at)
    assert len(lines) == 3
    used = {"en": "using {}.", "es": "se usa {}."}[lang]
    for name, given, kept in (("unit", 100, 3), ("step", 100, 15), ("clamp_unit", 99, 3)):
        line = next(x for x in lines if f"**{name}**" in x)
        assert f"= {given} " in line and line.endswith(used.format(kept)), line
    assert url(at) == {"unit": "3", "step": "15", "clamp_unit": "3"} | (
        {"lang": "es"} if lang == "es" else {}
    )
    stepper(at, "step").set_value(2).run()  # said once: the next run is quiet
    assert not at.warning
    belt = open_app("belt", belt_unit=500)  # the belt's own model: 32 units
    assert_clean(belt)
    assert belt.number_input(key="belt_unit").value == 31
    assert warning_lines(belt)[0].endswith("using 31.")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_defaults_in_warnings_are_words_not_python(lang):
    at = open_app("text", lang=lang, lowercase="maybe")
    (line,) = warning_lines(at)
    assert line.endswith({"en": "using true (on).", "es": "se usa true (activado)."}[lang]), line
    at = open_app("belt", lang=lang, belt_flows="a,b")
    (line,) = warning_lines(at)
    assert line.endswith({"en": "using (none).", "es": "se usa (ninguno)."}[lang]), line
    for warning in (*open_app("text", lang=lang, lowercase="x").warning, *at.warning):
        assert (
            "False" not in warning.value
            and "True" not in warning.value
            and "()" not in warning.value
        )


def test_a_text_too_long_for_a_link_stays_in_the_session_and_out_of_the_url():
    at = open_app("belt", belt_text="short one")
    assert url(at)["belt_text"] == "short one"
    long_text = "the keeper climbed the steps. " * 34  # 1,020 characters; the link holds 400
    at.text_area(key="belt_text").input(long_text).run()
    assert_clean(at)
    assert "belt_text" not in url(at)  # neither the long text nor the old short one
    assert at.text_area(key="belt_text").value == long_text  # kept in the session
    assert len(at.toast) == 1 and "400" in at.toast[0].value
    at.button(key="belt_forward").click().run()
    assert len(at.toast) == 0  # said once
    reopened = open_app("belt", belt_text="x" * 401)  # an old link with a text too long
    (line,) = warning_lines(reopened)
    assert line.endswith("using (empty).")


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("page", list(PAGE_FILES))
def test_an_untouched_page_has_a_clean_link(page, lang):
    at = open_app(page, lang=lang)
    assert_clean(at)
    assert url(at) == ({"lang": "es"} if lang == "es" else {}), url(at)


def test_unknown_parameters_leave_the_link_with_one_short_note():
    at = open_app("cell", t="999999", step="2", utm_source="mail")
    assert_clean(at)
    assert url(at) == {"step": "2"}
    (line,) = warning_lines(at)
    assert "**t**" in line and "**utm\\_source**" in line


def test_a_spanish_session_starts_on_the_spanish_samples_unless_the_link_says_otherwise():
    at = open_app("text", lang="es")
    assert (
        at.selectbox(key="corpus").value == "story_es" and at.radio(key="model").value == "sample"
    )
    assert at.session_state["text.bg_key"][0] == ("sample", "story_es")
    assert url(at) == {"lang": "es"}
    english = open_app("text")
    assert english.selectbox(key="corpus").value == "logbook"
    chosen = open_app("text", lang="es", corpus="logbook")
    assert chosen.selectbox(key="corpus").value == "logbook"
    assert url(chosen) == {"lang": "es", "corpus": "logbook"}
    belt = open_app("belt", lang="es")  # the belt's own model, in either language, on the
    assert belt.selectbox(key="belt_model").value == "belt"  # example in the page's language
    assert "Cuenta La Cuerda" in belt.text_area(key="belt_text").placeholder
    english = open_app("belt")
    assert english.selectbox(key="belt_model").value == "belt"
    assert "Counts The Rope" in english.text_area(key="belt_text").placeholder
    assert (
        open_app("belt", lang="es", belt_model="text_es").selectbox(key="belt_model").value
        == "text_es"
    )


# ==================================================================================== numbers
def test_a_spanish_page_writes_its_numbers_the_spanish_way():
    at = open_app("text", lang="es", corpus="logbook")
    characters = next(m.value for m in at.metric if m.label == "Caracteres")
    assert characters == f"{len(at.session_state['text.bg'].ids) + 20_000:,}".replace(",", ".")
    assert "," not in characters
    at = open_app("bptt", lang="es")
    assert_clean(at)
    values = [m.value for m in at.metric if any(ch.isdigit() for ch in m.value)]
    decimals = [v for v in values if re.search(r"\d[.,]\d", v)]
    assert decimals and all(
        "," in v and not re.search(r"\d\.\d{1,2}(?!\d)", v) for v in decimals
    ), values
    for spec in charts(at):
        assert spec["layout"]["separators"] == ",."  # Plotly's axes and hover texts too
    english = open_app("bptt")
    assert all(spec["layout"]["separators"] == ".," for spec in charts(english))
    assert any(re.search(r"\d\.\d", m.value) for m in english.metric)
    for lang, scaled in (("es", "× 1,5"), ("en", "× 1.5")):  # a caption, through t()
        at = open_app("bptt", lang=lang, bptt_scale=1.5)
        assert any(scaled in c.value for c in at.caption), [c.value for c in at.caption]


def test_a_spanish_caption_after_writing_says_0_7_with_a_comma():
    at = open_app("text", lang="es", corpus="logbook", speed="instant", length=20)
    at.button(key="gen_generate").click().run()
    assert_clean(at)
    written = next(c.value for c in at.caption if "temperatura" in c.value)
    assert "temperatura 0,7 " in written
    at.session_state["text.bg"].close()


def test_choosing_a_language_in_the_sidebar_changes_the_page_and_the_link():
    at = open_app("cell")
    at.selectbox(key="lang").set_value("es").run()
    assert_clean(at)
    assert at.title[0].value == "Dentro de un paso" and url(at) == {"lang": "es"}
    at.switch_page(PAGE_FILES["echo"]).run()
    assert at.title[0].value == "Tarea del eco" and url(at) == {"lang": "es"}
    at.selectbox(key="lang").set_value("en").run()
    assert at.title[0].value == "Echo task" and url(at) == {}


# ==================================================================================== issue 14
@pytest.mark.parametrize("lang", LANGUAGES)
def test_one_notation_everywhere_the_papers(lang):
    """c~, W_c and b_c for the candidate on the home page and in the cell's equations, and one
    name for it in each language."""
    home = open_app("home", lang=lang)
    assert r"W_c[h_{t-1}, x_t] + b_c" in home.latex[0].value
    at = open_app("cell", lang=lang, model="text_en")
    assert_clean(at)
    equations = " ".join(e.value for e in at.latex)
    for gate in ("f", "i", "c", "o"):
        assert f"W_{{{gate}}}[h_{{t-1}}, x_t] + b_{{{gate}}}" in equations, gate
    assert "W_{g}" not in equations and "b_{g}" not in equations
    from ui.i18n import catalog

    name = {"en": "candidate", "es": "valores candidatos"}[lang]
    mentions = [v for v in catalog(lang).values() if re.search("candidat", v, re.I)]
    assert mentions and all(name in v.lower() for v in mentions), mentions
    for path in (*(ROOT / "app_pages").glob("*.py"), *(ROOT / "ui").rglob("*.py")):
        assert "W_{g}" not in path.read_text() and "b_{g}" not in path.read_text(), path


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_drawing_shows_what_comes_in_and_the_echo_task_is_said(lang):
    from lstm_core import EchoConfig

    at = open_app("cell", lang=lang, step=5, unit=2)
    assert_clean(at)
    notes = " ".join(a["text"] for a in charts(at)[0]["layout"]["annotations"])
    token = at.session_state["input"] or "0110100111010011"[5]  # the example's step 5
    assert "h<sub>t-1</sub> = " in notes and f"x<sub>t</sub> = “{token}”" in notes
    arrows = [a for a in charts(at)[0]["layout"]["annotations"] if a.get("showarrow")]
    assert len(arrows) == 2  # h_{t-1} from the left, x_t from below
    said = " ".join(c.value for c in at.caption)
    task = {"en": "The echo task", "es": "La tarea del eco"}[lang]
    assert task in said and f" {EchoConfig().echo_step} " in said
    accuracy = re.search(r"(\d+[.,]\d)\s?%", said.split(task)[1])
    assert accuracy and float(accuracy.group(1).replace(",", ".")) >= 99.0  # trained until 99%
    text_model = open_app("cell", lang=lang, model="text_en")
    assert task not in " ".join(c.value for c in text_model.caption)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_clamps_change_map_has_a_title_a_caption_and_a_step_axis(lang):
    at = open_app("cell", lang=lang, clamp_gate="f", clamp_value="0", clamp_from="4")
    assert_clean(at)
    heat = next(s for s in charts(at) if s.get("data") and s["data"][0]["type"] == "heatmap")
    assert "Δc" in heat["layout"]["title"]["text"]
    axis = heat["layout"]["xaxis"]
    assert axis["tickvals"][:3] == [0, 1, 2]
    assert axis["ticktext"][:2] == ["0<br>0", "1<br>1"]  # the step, then its bit
    caption = {"en": "Nothing changes before step 4", "es": "Antes del paso 4"}[lang]
    assert any(caption in c.value for c in at.caption)


def test_the_cell_page_writes_spanish_numbers_on_its_widgets():
    at = open_app("cell", lang="es", clamp_gate="g", valve="-3.5")
    assert_clean(at)
    assert "-3,5" in at.select_slider(key="valve").options
    assert "0,25" in at.select_slider(key="clamp_value").options
    assert "-1,00" in at.select_slider(key="clamp_value").options  # the candidate goes below 0
    assert at.metric[0].value == "3 %"  # σ(-3.5), the valve's metric
    english = open_app("cell", valve="2")
    assert english.metric[0].value == "88%" and "2.0" in english.select_slider(key="valve").options


def test_a_value_between_a_sliders_steps_moves_to_the_nearest_and_says_so():
    at = open_app("cell", valve="1.23")
    assert_clean(at)
    assert at.select_slider(key="valve").value == 1.2
    (line,) = warning_lines(at)
    assert "**valve**" in line and line.endswith("1.2.")
