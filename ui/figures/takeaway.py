"""What a figure gives beyond the screen: a file to take away, and a sentence for a screen reader.

ui.frame.chart uses both for every chart. Plotly's mode bar keeps one button of its own, the
camera (toImage), which saves the figure as PNG or SVG (one format a session, chosen in the
sidebar: a Plotly config sent through st.plotly_chart is JSON, so it can hold no second button
with a click of its own) under a file name made from the figure's title; Streamlit puts its
full-screen button beside it. The button's tooltip and Plotly's messages come in the session's
language through Plotly's own `locales`. The text alternative (st.plotly_chart's `alt`, which
Streamlit gives the chart as its aria-label) is the title and what the figure itself says it
shows: the kind of chart, its series, panels and axes.

Pure functions of a figure and already translated words: no st.* here.
"""

from __future__ import annotations

import html
import re
import unicodedata

import plotly.graph_objects as go

# Every button Plotly may put in its bar, but the camera (names from plotly.js's
# components/modebar/buttons.js; a name a figure does not use is ignored).
OTHER_BUTTONS = (
    "zoom2d",
    "pan2d",
    "select2d",
    "lasso2d",
    "drawclosedpath",
    "drawopenpath",
    "drawline",
    "drawrect",
    "drawcircle",
    "eraseshape",
    "zoomIn2d",
    "zoomOut2d",
    "autoScale2d",
    "resetScale2d",
    "hoverClosestCartesian",
    "hoverCompareCartesian",
    "zoom3d",
    "pan3d",
    "orbitRotation",
    "tableRotation",
    "resetCameraDefault3d",
    "resetCameraLastSave3d",
    "hoverClosest3d",
    "zoomInGeo",
    "zoomOutGeo",
    "resetGeo",
    "hoverClosestGeo",
    "hoverClosestPie",
    "resetSankeyGroup",
    "resetViewSankey",
    "toggleHover",
    "resetViews",
    "toggleSpikelines",
    "resetViewMap",
    "zoomInMap",
    "zoomOutMap",
    "sendChartToCloud",
    "downloadJson",
)
FORMATS = ("png", "svg")
PNG_SCALE = 2  # a PNG at twice the size on screen: sharp on a projector or a printed page
MAX_ALT = 400  # characters: a short description, not the data
MAX_NAMES = 8  # series, panels or axes named in it


def file_name(title: str, prefix: str = "lstm-lab") -> str:
    """A file name from a title, in plain lowercase ASCII (accents dropped, words joined by
    hyphens), without extension: "La banda, paso a paso" -> "lstm-lab-la-banda-paso-a-paso"."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:60].rstrip("-")
    return f"{prefix}-{slug}" if slug else prefix


def config(title: str, fmt: str, words: dict[str, str], lang: str) -> dict:
    """The Plotly config for a chart: only the camera in the bar, saving `fmt` ("png" or "svg")
    under a name made from `title`, its tooltip and messages in the session's language.

    words: "save" (the camera's tooltip, with {fmt}), "preparing", "saved", "failed", "zoom_out".
    """
    fmt = fmt if fmt in FORMATS else FORMATS[0]
    save = words["save"].format(fmt=fmt.upper())
    dictionary = {
        "Download plot as a PNG": save,  # Plotly's tooltip for a PNG camera
        "Download plot": save,  # and for any other format
        "Preparing image - this may take a few seconds": words["preparing"],
        "Image download succeeded": words["saved"],
        "Sorry, there was a problem downloading your image!": words["failed"],
        "Double-click to zoom back out": words["zoom_out"],
    }
    options = {"format": fmt, "filename": file_name(title)}
    if fmt == "png":
        options["scale"] = PNG_SCALE
    return {
        "displayModeBar": "hover",
        "displaylogo": False,
        "modeBarButtonsToRemove": list(OTHER_BUTTONS),
        "toImageButtonOptions": options,
        "locale": lang,
        "locales": {lang: {"dictionary": dictionary}},
    }


def plain(text) -> str:
    """Plotly text as plain words: tags (<b>, <br>) and entities (&lt;) undone, spaces tidied."""
    text = html.unescape(re.sub(r"<[^>]*>", " ", str(text or "")))
    return re.sub(r"\s+", " ", text).strip()


def _spec(fig: go.Figure) -> tuple[list[dict], dict]:
    """The figure's traces and layout as the dicts Plotly keeps and serialises (read, never
    written: Plotly's property access would cost milliseconds a chart on a live page)."""
    data, lay = getattr(fig, "_data", None), getattr(fig, "_layout", None)
    if isinstance(data, list) and isinstance(lay, dict):
        return data, lay
    spec = fig.to_plotly_json()
    return spec.get("data", []), spec.get("layout", {})


def _title(obj) -> str:
    title = obj.get("title") if isinstance(obj, dict) else None
    return plain(title.get("text") if isinstance(title, dict) else title)


def _kind(trace: dict) -> str:
    """A trace's kind of chart, as the words passed to describe() name it."""
    kind = trace.get("type", "scatter")
    if kind in ("heatmap", "image"):
        return "heatmap"
    if kind == "bar":
        return "bar"
    if kind == "scatter":
        mode = trace.get("mode") or "lines"  # Plotly's own default draws lines
        return "line" if "lines" in mode else "points" if "markers" in mode else "text"
    return "other"


def _listed(values, most: int = MAX_NAMES) -> str:
    seen = list(dict.fromkeys(v for v in values if v and not re.fullmatch(r"[-+\d.,%\s]+", v)))
    return ", ".join(seen[:most]) + (", …" if len(seen) > most else "")


def describe(fig: go.Figure, title: str, words: dict[str, str]) -> str:
    """A short text alternative read from the figure: "{title} ({kinds}). Series: …. Panels: ….
    Axes: …." (the parts it has): the kinds of its traces, the names of those in the legend, the
    titles of its panels (annotations placed on the paper, as make_subplots writes them), of its
    axes and colour bars.

    A figure without traces (a drawing made of shapes) is described by its labels instead.

    words: "kind_heatmap", "kind_bar", "kind_line", "kind_points", "kind_text", "kind_other",
    and the templates "series", "panels", "axes", "labels" (each with {names}).
    """
    data, lay = _spec(fig)
    kinds = _listed(words[f"kind_{_kind(tr)}"] for tr in data)
    series = _listed(plain(tr.get("name")) for tr in data if tr.get("showlegend") is not False)
    notes = lay.get("annotations") or ()
    panels = _listed(
        plain(a.get("text")) for a in notes if a.get("xref") == "paper" and a.get("yref") == "paper"
    )
    # a drawing (no traces: the cell diagram) says what it says in its labels
    labels = _listed(plain(a.get("text")) for a in notes if len(plain(a.get("text"))) > 1)
    axes = [_title(lay[k]) for k in sorted(lay) if re.fullmatch(r"[xy]axis\d*", k)]
    axes += [_title(tr.get("colorbar")) for tr in data if tr.get("showscale") is not False]
    parts = [f"{plain(title)} ({kinds})" if kinds else plain(title)]
    named = [("series", series), ("panels", panels), ("axes", _listed(axes))]
    if not data:
        named = [("labels", labels), ("axes", _listed(axes))]
    for template, names in named:
        if names:
            parts.append(words[template].format(names=names))
    text = " ".join(part if part.endswith("…") else part + "." for part in parts)
    return text if len(text) <= MAX_ALT else text[: MAX_ALT - 1].rstrip() + "…"
