"""Plot builders: pure functions from the engine's numbers to Plotly figures (no st.* here).

One visual language on every page:
  - one colour per gate, the same everywhere (GATE_COLORS), and one line style (GATE_DASH);
  - every categorical colour is chosen here, from Okabe and Ito's palette for colour-blind
    readers (tests/test_palette.py measures every pair under simulated colour blindness);
  - c and h on a diverging scale centred at 0 (blue negative, red positive);
  - gates on a sequential 0..1 scale, from closed (pale) to open (the gate's own colour).
Arrays go to Plotly as float32 NumPy arrays (cheap to encode); every figure has a fixed height.
Labels come in as arguments, already translated. One module per page; this one holds the style.
"""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale

from ui.i18n import number_style, write_number

# Okabe & Ito, "Color Universal Design" (2008): eight colours that stay apart for readers with
# any of the common colour blindnesses. Categorical series take their colours from here.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}
# The three valves (shown 0..1 on heatmaps, pale to their colour) take the three stronger
# colours; c~ (drawn on the diverging scale, its own colour only as a dotted line) the pale one.
GATE_COLORS = {
    "f": OKABE_ITO["vermillion"],
    "i": OKABE_ITO["blue"],
    "g": OKABE_ITO["sky"],
    "o": OKABE_ITO["green"],
}
GATE_DASH = {"f": "solid", "i": "solid", "g": "dot", "o": "dash"}  # f and o apart without colour
GATE_SYMBOLS = {"f": "f", "i": "i", "g": "c̃", "o": "o"}
# A GRU's gates (one cell on a figure at a time) take the colour and line of the LSTM gate whose
# work they do: z keeps the old state as f keeps the belt, n is the candidate as c~ is, and r
# lets the state into the candidate as o lets the belt out.
SAME_LOOK_AS = {"z": "f", "n": "g", "r": "o"}
DIVERGING = "RdBu_r"  # c and h: blue < 0 < red, centred with zmid=0
STATE_COLOR = "#444444"  # c as a line, and the neutral ink of the drawings
H_COLOR = OKABE_ITO["purple"]  # h as a line beside c and the gates
CELL_COLORS = {
    "lstm": OKABE_ITO["green"],
    "rnn": OKABE_ITO["vermillion"],
    "gru": OKABE_ITO["sky"],
}
# the notebook's bars: input blue, target red, prediction green
BIT_COLORS = {
    "input": OKABE_ITO["blue"],
    "target": OKABE_ITO["vermillion"],
    "prediction": OKABE_ITO["green"],
}
CLIP_COLORS = {"raw": "#9aa5b1", "by_norm": OKABE_ITO["blue"], "by_value": OKABE_ITO["vermillion"]}
# a trace that names no colour of its own: Okabe-Ito in order (black and yellow left out)
COLORWAY = [OKABE_ITO[k] for k in ("blue", "vermillion", "green", "purple", "orange", "sky")]
FONT = {"family": "Inter, Helvetica, Arial, sans-serif", "size": 13}


def num(x: float, spec: str, labels: dict) -> str:
    """A number written into a figure's own text (an annotation, a bar's label) in the style the
    page passes among the labels: labels["decimal"] ("," in Spanish), and, from
    ui.i18n.number_style(), labels["thousands"] and labels["percent"] ("99,9 %"). Axes and hover
    texts follow layout.separators instead, which the page's frame.chart sets."""
    style = dict(labels)
    if style.get("decimal") == ",":  # a page that passes only the decimal comma: the Spanish rest
        style = {**number_style("es"), **style}
    return write_number(format(x, spec), style)


def percent_axis(high: float, labels: dict, most: int = 6, low: float = 0.0) -> dict:
    """Axis settings for probabilities low..high shown as percentages written in the page's style
    ("20 %" in Spanish): Plotly's own tickformat ".0%" cannot put the space before the sign, so
    the ticks are placed and written here. Returns range, tickvals and ticktext."""
    low = float(low)
    high = max(float(high), low + 1e-6)
    span = high - low
    step = next((s for s in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5) if span / s <= most - 1), 0.5)
    first = np.ceil(low / step - 1e-9) * step + 0.0  # + 0.0: no "-0 %"
    values = np.round(np.arange(first, high + 1e-9, step), 6)
    spec = ".0%" if step >= 0.01 else ".1%"
    return {
        "range": [low, high],
        "tickvals": values.tolist(),
        "ticktext": [num(float(v), spec, labels) for v in values],
    }


def _rgb(hex_color: str) -> tuple[int, int, int]:
    return tuple(int(hex_color[k : k + 2], 16) for k in (1, 3, 5))


def gate_color(gate: str) -> str:
    """The colour of any cell's gate (GATE_COLORS, or the colour of the gate it works like)."""
    return GATE_COLORS[SAME_LOOK_AS.get(gate, gate)]


def gate_fill(gate: str, value: float) -> str:
    """The gate's colour, as opaque as the gate is open (value 0..1)."""
    r, g, b = _rgb(gate_color(gate))
    alpha = 0.08 + 0.92 * float(np.clip(value, 0.0, 1.0))
    return f"rgba({r},{g},{b},{alpha:.3f})"


def _composite(color: str) -> tuple[float, float, float]:
    """A colour ("#rrggbb", "rgb(...)" or "rgba(...)") as it shows on the figures' white paper."""
    if color.startswith("#"):
        return _rgb(color)
    values = [float(v) for v in color[color.index("(") + 1 : color.index(")")].split(",")]
    alpha = values[3] if len(values) > 3 else 1.0
    return tuple(alpha * c + (1 - alpha) * 255 for c in values[:3])


def luminance(color: str) -> float:
    """WCAG relative luminance of a colour on white paper (0 black .. 1 white)."""
    c = np.array(_composite(color)) / 255
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(lin @ [0.2126, 0.7152, 0.0722])


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours (1 .. 21; 4.5 and more reads as body text)."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


INK = "#222222"  # text written on the figures' own fills


def ink(fill: str) -> str:
    """The text colour that reads best on `fill`: INK or white."""
    return "#ffffff" if contrast("#ffffff", fill) > contrast(INK, fill) else INK


def gate_line(gate: str, width: float = 1.5) -> dict:
    """A gate drawn as a line: its colour and its dash (f and o tell apart in grey too)."""
    like = SAME_LOOK_AS.get(gate, gate)
    return {"color": GATE_COLORS[like], "width": width, "dash": GATE_DASH[like]}


def gate_scale(gate: str) -> list:
    """Sequential 0..1 colour scale for heatmaps of one gate."""
    return [[0.0, "#f7f7f7"], [1.0, gate_color(gate)]]


def color_table(scale: str | list) -> np.ndarray:
    """A Plotly colour scale (a name such as DIVERGING, or [[position, colour], ...]) as 256
    RGB rows, interpolated the way Plotly colours a heatmap: row k is position k / 255."""
    stops = get_colorscale(scale) if isinstance(scale, str) else scale
    where = np.array([float(p) for p, _ in stops])
    rgb = np.array([_rgb(c) if c.startswith("#") else _rgb_text(c) for _, c in stops], float)
    x = np.linspace(0.0, 1.0, 256)
    return np.round(np.stack([np.interp(x, where, rgb[:, k]) for k in range(3)], axis=1)).astype(
        np.uint8
    )


def _rgb_text(color: str) -> tuple[int, ...]:
    """ "rgb(5, 48, 97)" -> (5, 48, 97)."""
    return tuple(int(float(v)) for v in color[color.index("(") + 1 : color.index(")")].split(","))


def png(rgb: np.ndarray) -> bytes:
    """An (rows, columns, 3) uint8 array as a PNG file: 8-bit RGB, no filter, deflated.

    Written here with zlib and struct (the PNG format is three chunks), so drawing a large map as
    an image adds no dependency to the project."""
    rows, cols, _ = rgb.shape
    lines = np.zeros((rows, 1 + 3 * cols), dtype=np.uint8)  # each line: filter 0, then pixels
    lines[:, 1:] = np.ascontiguousarray(rgb, dtype=np.uint8).reshape(rows, 3 * cols)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", cols, rows, 8, 2, 0, 0, 0)  # 8 bits, RGB, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(lines.tobytes(), 1))
        + chunk(b"IEND", b"")
    )


def image_uri(rgb: np.ndarray) -> str:
    """An RGB array as a data URI for a Plotly image trace (go.Image(source=...))."""
    return "data:image/png;base64," + base64.b64encode(png(rgb)).decode("ascii")


def diverging_color(value: float, scale: float = 1.0) -> str:
    """A colour for a signed value: blue (negative), white (0), red (positive)."""
    x = float(np.clip(value / scale, -1.0, 1.0))
    if x >= 0:
        r, g, b = 255, int(255 * (1 - 0.75 * x)), int(255 * (1 - 0.8 * x))
    else:
        r, g, b = int(255 * (1 + 0.8 * x)), int(255 * (1 + 0.55 * x)), 255
    return f"rgb({r},{g},{b})"


# Every figure's frame: white paper (the app's theme is pinned light, .streamlit/config.toml),
# the house font, Okabe-Ito for traces without a colour of their own.
HOUSE_LAYOUT = {
    "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
    "font": FONT,
    "colorway": COLORWAY,
    "plot_bgcolor": "white",
    "paper_bgcolor": "white",
}


def layout(fig: go.Figure, height: int, **kwargs) -> go.Figure:
    fig.update_layout(height=height, **{**HOUSE_LAYOUT, **kwargs})
    return fig


def figure(data: list, lay: dict, height: int, **kwargs) -> go.Figure:
    """A figure built and checked once, with the house layout: what `layout()` does, five times
    faster, for the figures a live view redraws several times a second."""
    return go.Figure(data=data, layout={**HOUSE_LAYOUT, **lay, "height": height, **kwargs})


def panel_columns(n: int, gap: float = 0.08) -> list[tuple[float, float]]:
    """The x domains (from, to) of n side-by-side panels of one figure, `gap` apart."""
    width = (1 - gap * (n - 1)) / n
    return [(k * (width + gap), k * (width + gap) + width) for k in range(n)]


def plotly_text(token: str) -> str:
    """A character as Plotly text: its pseudo-HTML tags and entities neutralised (user text never
    becomes markup)."""
    return token.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def visible(token: str) -> str:
    """How a token reads on an axis: spaces and newlines made visible."""
    return {" ": "␣", "\n": "⏎", "\t": "⇥"}.get(token, token)


__all__ = [
    "BIT_COLORS",
    "CELL_COLORS",
    "CLIP_COLORS",
    "COLORWAY",
    "DIVERGING",
    "FONT",
    "GATE_COLORS",
    "GATE_DASH",
    "GATE_SYMBOLS",
    "H_COLOR",
    "INK",
    "OKABE_ITO",
    "STATE_COLOR",
    "color_table",
    "diverging_color",
    "figure",
    "gate_color",
    "gate_fill",
    "gate_line",
    "gate_scale",
    "image_uri",
    "ink",
    "layout",
    "num",
    "panel_columns",
    "percent_axis",
    "plotly_text",
    "png",
    "visible",
]
