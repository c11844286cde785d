"""Every chart can be taken away and read without seeing it: Plotly's camera alone in its bar
(PNG or SVG, named after the chart's title in the session's language) and a text alternative
read from the figure (ui/figures/takeaway.py, used by ui/frame.chart)."""

import ast
import json
import re
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
import streamlit
from conftest import ROOT
from plotly.subplots import make_subplots
from test_app import open_app

from ui.figures import takeaway
from ui.i18n import LANGUAGES, catalog

WORDS = {
    lang: {
        k[len("figure.") :]: v
        for k, v in catalog(lang).items()
        if k.startswith("figure.") and not k.startswith("figure.title.")
    }
    for lang in LANGUAGES
}


def test_file_names_are_plain_and_come_from_the_title():
    assert takeaway.file_name("La banda, paso a paso") == "lstm-lab-la-banda-paso-a-paso"
    assert takeaway.file_name("Gates of c̃ — ‖∂L/∂h‖ (σ)") == "lstm-lab-gates-of-c-l-h"
    assert takeaway.file_name("¿?") == "lstm-lab"
    long = takeaway.file_name("word " * 40)
    assert len(long) <= len("lstm-lab-") + 60 and not long.endswith("-")


def plotly_buttons() -> set[str]:
    """The names of every button in the Plotly bundled with this Streamlit (its buttons.js)."""
    bundle = Path(streamlit.__file__).parent / "static" / "static" / "js"
    (source,) = [p for p in bundle.glob("PlotlyChart*.js") if "modebar/buttons.js" in p.read_text()]
    text = source.read_text()
    start = text.index('"src/components/modebar/buttons.js"')
    end = text.index('"src/components/modebar/', start + 10)
    return set(re.findall(r"=\{name:`(\w+)`", text[start:end]))


def test_the_bar_keeps_only_the_camera():
    buttons = plotly_buttons()
    assert {"toImage", "zoom2d", "pan2d", "resetScale2d", "toggleSpikelines"} <= buttons
    config = takeaway.config("Title", "svg", WORDS["en"], "en")
    assert buttons - set(config["modeBarButtonsToRemove"]) == {"toImage"}
    assert config["displayModeBar"] != False  # noqa: E712 (the bar is there, on hover)
    assert config["toImageButtonOptions"] == {"format": "svg", "filename": "lstm-lab-title"}
    png = takeaway.config("Title", "png", WORDS["es"], "es")
    assert png["toImageButtonOptions"]["scale"] == 2 and png["locale"] == "es"
    tooltip = png["locales"]["es"]["dictionary"]["Download plot as a PNG"]
    assert tooltip == "Guardar esta figura como PNG"
    assert takeaway.config("T", "gif", WORDS["en"], "en")["toImageButtonOptions"]["format"] == "png"


def test_the_plotly_strings_translated_are_the_ones_the_bundle_shows():
    text = next(
        p.read_text()
        for p in (Path(streamlit.__file__).parent / "static" / "static" / "js").glob("Plotly*.js")
        if "modebar/buttons.js" in p.read_text()
    )
    for english in takeaway.config("T", "png", WORDS["en"], "en")["locales"]["en"]["dictionary"]:
        assert f"`{english}`" in text, english


def test_the_text_alternative_says_what_the_figure_shows():
    fig = make_subplots(rows=1, cols=2, subplot_titles=["<b>cell state c</b>", "gates &amp; c̃"])
    fig.add_trace(go.Scatter(y=np.arange(3.0), name="forget f"), row=1, col=1)
    fig.add_trace(go.Scatter(y=np.arange(3.0), name="hidden", showlegend=False), row=1, col=1)
    fig.add_trace(
        go.Heatmap(z=np.eye(3, dtype=np.float32), colorbar={"title": {"text": "Δc"}}), row=1, col=2
    )
    fig.add_annotation(text="0.5", x=1, y=1)  # a number on the data: not a panel
    fig.update_xaxes(title="step", row=1, col=1)
    fig.update_yaxes(title="value", row=1, col=2)
    alt = takeaway.describe(fig, "A <i>title</i>", WORDS["en"])
    assert alt == (
        "A title (line chart, heat map). Series: forget f. Panels: cell state c, gates & c̃. "
        "Axes: step, value, Δc."
    )
    es = takeaway.describe(fig, "Un título", WORDS["es"])
    assert es.startswith("Un título (gráfico de líneas, mapa de calor). Series: forget f. Paneles:")
    many = go.Figure([go.Bar(y=[1], name=f"series {k} " + "x" * 40) for k in range(20)])
    assert len(takeaway.describe(many, "T", WORDS["en"])) <= takeaway.MAX_ALT


def chart_keys() -> set[str]:
    """Every key a page gives frame.chart (a numbered key, f"belt_match_{rank}", by its stem)."""
    keys = set()
    for path in (ROOT / "app_pages").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "chart"):
                continue
            (key,) = [k.value for k in node.keywords if k.arg == "key"]
            if isinstance(key, ast.JoinedStr):
                key = ast.Constant(key.values[0].value.rstrip("_"))
            keys.add(key.value)
    return keys


def test_every_chart_has_a_title_in_every_language():
    keys = chart_keys()
    assert {"belt_window", "cell_diagram", "echo_curves", "bptt_decay", "belt_match"} <= keys
    for lang in LANGUAGES:
        missing = sorted(k for k in keys if f"figure.title.{k}" not in catalog(lang))
        assert not missing, (lang, missing)


@pytest.mark.parametrize("lang", list(LANGUAGES))
@pytest.mark.parametrize("page", ["cell", "belt", "echo", "bptt"])
def test_every_chart_on_the_page_is_titled_described_and_saved_by_its_name(page, lang):
    at = open_app(page, lang=lang, **({"clamp_gate": "o"} if page == "cell" else {}))
    assert not at.exception
    shown = at.get("plotly_chart")
    assert shown
    for element in shown:
        key = re.sub(r"_\d+$", "", element.key)  # belt_match_2: belt_match
        title = catalog(lang)[f"figure.title.{key}"]
        config = json.loads(element.proto.config)
        assert element.proto.alt.startswith(title)
        assert len(element.proto.alt) > len(title) + 10  # and says what it shows
        assert config["toImageButtonOptions"]["filename"] == takeaway.file_name(title)
        assert config["toImageButtonOptions"]["format"] == "png" and config["locale"] == lang
        assert "toImage" not in config["modeBarButtonsToRemove"]


def test_the_format_is_the_sessions_and_the_links():
    at = open_app("bptt", figures="svg")
    formats = {
        json.loads(c.proto.config)["toImageButtonOptions"]["format"] for c in at.get("plotly_chart")
    }
    assert formats == {"svg"}
    assert at.query_params["figures"] in ("svg", ["svg"])
    bad = open_app("bptt", figures="gif")
    assert any("figures" in w.value for w in bad.warning)
    formats = {
        json.loads(c.proto.config)["toImageButtonOptions"]["format"]
        for c in bad.get("plotly_chart")
    }
    assert formats == {"png"}
