"""Figures of the page "The conveyor belt": heatmaps over time, one unit's traces, coloured text,
the units that track a property, and the belt's flows step by step.

The heatmaps come in two figures so that the page stays interactive at H=256 and 300 steps:
  - `belt_overview`: every unit at every step, drawn as one PNG image per quantity (coloured here,
    in NumPy), with nothing in it that depends on the cursor: the page draws it outside the
    fragment that the cursor reruns, so a cursor move neither rebuilds nor resends it. Images
    draw faster than heatmaps of the same size and weigh far fewer bytes (README, "Speed"). They
    carry no values: the hover names the step, the axis names every few units, the window below
    gives exact values.
  - `belt_window`: a few dozen steps around the cursor, exact float32 values, every token on the
    time axis, the cursor boxed in every panel. This is what a cursor move redraws.
`cursor_strip` sits right under the overview, on the same time axis (same fixed margins), and
shows where the window and the cursor are: a few hundred bytes.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go

from lstm_core.analysis import BeltFlow, Ranking
from lstm_core.cells import CELLS
from ui.figures import (
    DIVERGING,
    GATE_COLORS,
    H_COLOR,
    STATE_COLOR,
    color_table,
    figure,
    gate_line,
    gate_scale,
    image_uri,
    num,
    plotly_text,
    visible,
)

QUANTITIES = ("c", "f", "i", "g", "o", "h")  # an LSTM layer: the belt, the gates, the output
RNN_QUANTITIES = ("h",)  # a plain RNN has nothing else
# the valves of every cell (its sigmoid gates: LSTM f, i, o; GRU r, z), drawn 0..1
VALVES = tuple(g for kind in CELLS.values() for g, fn in kind.squash.items() if fn == "sigmoid")
STATES = ("c", "h")  # drawn in one panel of a unit's lines; gates and what is written below
# the line of what a valve writes onto the memory (a GRU's (1 - z) ⊙ n): the input gate's colour,
# as the belt's steps colour what is put on
WRITE_LINE = {"color": GATE_COLORS["i"], "width": 1.5, "dash": "dashdot"}
# Fixed margins (no auto-expansion) so that the strip and the overview share one plot area and
# their time axes line up exactly; the colour bars live in the right margin.
MARGIN = {"l": 46, "r": 64, "t": 24, "b": 8, "autoexpand": False}
TITLE_FONT = {"size": 13, "color": "#555"}
# Axes inside those fixed margins: nothing to grow, and no label checked against the figure's
# edges (Plotly measures every label for that unless told to allow overflow, a large part of the
# window's drawing time: README, "Speed").
FIXED = {"automargin": False, "ticklabeloverflow": "allow"}


def window_width(hidden: int) -> int:
    """How many steps the window around the cursor shows: about 10k cells a panel, 24 to 48
    (48 tokens still read at 1024 px with the sidebar open)."""
    return int(np.clip(10240 // max(1, hidden), 24, 48))


def window(cursor: int, T: int, width: int) -> tuple[int, int]:
    """[start, stop) of `width` steps centred on the cursor, kept inside [0, T)."""
    start = max(0, min(cursor - width // 2, T - width))
    return start, min(T, start + width)


def scales(values: dict[str, np.ndarray]) -> dict[str, float | np.ndarray]:
    """The colour scale of each quantity over the whole input (so overview and window agree):
    1 for the gates and the values a tanh bounds (h, c~); for the cell state c, which nothing
    bounds, one scale per unit (H,): its own largest |c|, so that a unit whose c runs to ±12
    does not wash out the one beside it that holds a value of 2."""
    return {
        q: (np.maximum(1e-6, np.abs(v).max(axis=0)) if q == "c" else 1.0) for q, v in values.items()
    }


def own_scale(m) -> bool:
    """Whether a quantity's scale is per unit (the cell state's), not one number."""
    return np.ndim(m) > 0


def scaled(z: np.ndarray, m, order: np.ndarray) -> np.ndarray:
    """Values (steps, H) on their colour scale: c divided by each unit's own scale (so -1..1),
    anything else as it is."""
    z = np.asarray(z, np.float32)
    z = z[:, order]
    return z / np.asarray(m, np.float32)[None, order] if own_scale(m) else z


def _stack(heights: list[int], gap: int) -> tuple[list[tuple[float, float]], int]:
    """Panels of the given pixel heights stacked from the top, `gap` px apart: their domains
    (paper fractions) and the total height."""
    total = sum(heights) + gap * (len(heights) - 1)
    doms, top = [], total
    for h in heights:
        doms.append((max(0.0, (top - h) / total), min(1.0, top / total)))
        top -= h + gap
    return doms, total


def _domains(n: int, gap: float) -> list[tuple[float, float]]:
    """n stacked panels from the top, separated by `gap` (paper fractions)."""
    span = (1 - gap * (n - 1)) / n
    return [
        (max(0.0, 1 - k * (span + gap) - span), min(1.0, 1 - k * (span + gap))) for k in range(n)
    ]


def _colorbar(q: str, m, lo: float, hi: float, most: str = "max") -> dict:
    """Ticks in the quantity's own units: gates 0..1, h and c~ -1..1, c (a scale per unit) from
    minus to plus each unit's largest |c| (`most`: the word for it)."""
    if q in VALVES:
        ticks, text = [0.0, 0.5, 1.0], ["0", "0.5", "1"]
    elif own_scale(m):
        ticks, text = [-1.0, 0.0, 1.0], [f"−{most}", "0", f"+{most}"]
    else:
        ticks, text = [-m, 0.0, m], [f"{-m:.2g}", "0", f"{m:.2g}"]
    return {
        "y": (lo + hi) / 2,
        "len": hi - lo,
        "thickness": 9,
        "x": 1.012,
        "xpad": 0,
        "tickvals": [float(v) for v in ticks],
        "ticktext": text,
        "tickfont": {"size": 10},
    }


def _zrange(q: str, m) -> tuple[float, float]:
    """The ends of a quantity's colour scale, in the values `scaled` gives."""
    if q in VALVES:
        return 0.0, 1.0
    return (-1.0, 1.0) if own_scale(m) else (-m, m)


@functools.cache
def _colors(q: str) -> np.ndarray:
    """The 256 colours of a quantity's scale (see ui.figures.color_table)."""
    return color_table(gate_scale(q) if q in VALVES else DIVERGING)


def pixels(z: np.ndarray, q: str, m: float, rows: int) -> np.ndarray:
    """A quantity's (units, steps) values as the overview's (rows, steps, 3) RGB image.

    Colours as the heatmaps have them (gates 0..1, others -m..m). When there are more units than
    rows, each row is the mean colour of the units it covers (about H / rows of them, neighbours
    in the chosen order), as a screen would blend them: every unit counts, none is skipped.
    """
    lo, hi = (0.0, 1.0) if q in VALVES else (-m, m)
    where = np.clip((np.asarray(z, np.float32) - lo) / (hi - lo), 0.0, 1.0)
    rgb = _colors(q)[np.rint(where * 255).astype(np.intp)]
    H = rgb.shape[0]
    if rows >= H:
        return rgb
    starts = np.arange(rows) * H // rows
    counts = np.diff(np.append(starts, H))
    blended = np.add.reduceat(rgb.astype(np.float32), starts, axis=0) / counts[:, None, None]
    return np.rint(blended).astype(np.uint8)


def label_every(units: int, panel_px: int) -> int:
    """Which rows of a panel get their unit's number: all when each has 9 px, else every k-th
    row, about 15 px apart, k a power of two, so that the overview and the window (taller
    panels, maybe more labels) name the same rows and the window at most a few more. A row is
    then thinner than its label: the window's hover names each unit. Labels cost the browser:
    one per 10 px in the six panels of the window took a quarter of its drawing time."""
    if units * 9 <= panel_px:
        return 1
    wanted = units / max(1, panel_px // 15)
    return 1 << int(np.ceil(np.log2(max(1.0, wanted))))


def _unit_axis(units: list[str], panel_px: int) -> dict:
    """Unit labels down a panel (see `label_every`)."""
    shown = units[:: label_every(len(units), panel_px)]
    return {
        "type": "category",
        "autorange": "reversed",
        "tickmode": "array",
        "tickvals": shown,
        "ticktext": shown,
        "tickfont": {"size": 9},
        "showticklabels": True,
        "ticks": "",
    }


def _time_axis(tokens: list[str], start: int = 0, most: int = 80) -> dict:
    """A time axis from `start`: every token when they fit, otherwise step numbers only (the
    window around the cursor shows the tokens). One plain line per label: Plotly measures every
    label, and two-line labels (<br>) cost the browser three times as much."""
    n = len(tokens)
    if n > most:
        return {"tickmode": "auto", "nticks": 16, "tickfont": {"size": 10}}
    return {
        "tickmode": "array",
        "tickvals": np.arange(start, start + n),
        "tickangle": 0,
        "ticktext": [plotly_text(visible(tok)) for tok in tokens],
        "tickfont": {"size": 11},
    }


# ---------------------------------------------------------------------------------- heatmaps
def _title(text: str, hi: float) -> dict:
    """A panel's name, at its top left."""
    return {
        "text": text,
        "xref": "paper",
        "yref": "paper",
        "x": 0,
        "xanchor": "left",
        "y": hi,
        "yanchor": "bottom",
        "showarrow": False,
        "font": TITLE_FONT,
    }


def _height(n: int, panel_px: int, top: int, bottom: int) -> int:
    return n * panel_px + 34 * (n - 1) + top + bottom


class Fact(NamedTuple):
    """A fact of the input drawn above the heatmaps, and the unit that follows it most closely."""

    values: np.ndarray  # (T,) the property at every step (0 where it does not hold)
    unit: int  # the unit drawn under it: its memory, on its own scale
    title: str  # what the pair shows, in the page's language


FACT_ROW = 13  # px a row of the facts panel
FACT_SCALE = [[0.0, "#f7f7f7"], [1.0, "#303030"]]  # a fact: pale where it does not hold


def memory_panel_px(units: int) -> int:
    """The height of the overview's first panel, the memory (c, or h): 4 px a unit, 96 to 150."""
    return int(np.clip(units * 4, 96, 150))  # no taller than the window's panels: same labels


FACT_ROWS = 4  # rows a fact: its title, the fact, the unit under it (two rows: the eye's target)


def facts_image(facts: list[Fact], memory: np.ndarray, m) -> np.ndarray:
    """The facts panel as an RGB image, FACT_ROWS rows a fact: a blank row (its title is
    written there), the fact (grey where it holds, darker the more of it: brackets deeper), and
    the unit's memory, twice as tall, on the memory panel's colour scale (its own largest |c|
    for c)."""
    T = memory.shape[0]
    rows = []
    ink, diverging = color_table(FACT_SCALE), _colors("c")
    for fact in facts:
        v = np.asarray(fact.values, np.float32)
        top = float(v.max()) if v.max() > 0 else 1.0
        rows.append(np.full((T, 3), 255, np.uint8))
        rows.append(ink[np.rint(np.clip(v / top, 0, 1) * 255).astype(np.intp)])
        scale = float(np.asarray(m)[fact.unit]) if own_scale(m) else float(m)
        where = np.clip((memory[:, fact.unit] / scale + 1) / 2, 0, 1)
        rows += [diverging[np.rint(where * 255).astype(np.intp)]] * 2
    return np.stack(rows)


def belt_overview(
    values: dict[str, np.ndarray],
    order: np.ndarray,
    labels: dict[str, str],
    quantities=QUANTITIES,
    facts: list[Fact] = (),
) -> go.Figure:
    """Every unit (rows, in `order`) at every step (columns), one image per quantity, no cursor;
    above them, if given, the facts of the input, each with the unit that follows it.

    values: name -> (T, H). labels: a title per quantity, plus "unit", "step" and "max" (the
    word under the colour bar of c, whose scale is per unit). Each panel is a PNG (see
    `pixels`) on linear axes: steps across, the units' positions in `order` down, labelled with
    the units' numbers every few rows. The first panel, the memory, is the tallest: a stripe
    held there is the page's point. Each colour bar comes with a two-cell heatmap outside the
    time range, there only to carry it. Nothing here depends on the cursor, so a cursor move
    resends nothing (see the module doc).
    """
    T, H = values[quantities[0]].shape
    panel = int(np.clip(H * 1.4, 56, 120))
    m = scales({q: values[q] for q in quantities})
    heights = [memory_panel_px(H)] + [panel] * (len(quantities) - 1)
    if facts:
        heights = [FACT_ROW * FACT_ROWS * len(facts), *heights]
    doms, inner = _stack(heights, 34)
    doms_q = doms[1:] if facts else doms
    traces, lay, titles = [], {}, []
    first = 2 if facts else 1  # the facts take the first axis
    for k, (q, (lo, hi), px) in enumerate(
        zip(quantities, doms_q, heights[len(heights) - len(quantities) :], strict=True)
    ):
        axis = "" if k + first == 1 else str(k + first)
        rows = min(H, px)  # more units than pixel rows: rows blend neighbours (see `pixels`)
        ticks = list(range(0, H, label_every(H, px)))
        z = scaled(values[q], m[q], order).T
        image = pixels(z, q, 1.0 if own_scale(m[q]) else m[q], rows)
        traces.append(
            go.Image(
                source=image_uri(image),
                x0=0,
                dx=1,
                y0=-0.5 + H / rows / 2,
                dy=H / rows,
                xaxis="x",
                yaxis=f"y{axis}",
                hovertemplate=f"{labels['step']} %{{x}}<extra>{labels[q]}</extra>",
            )
        )
        zmin, zmax = _zrange(q, m[q])
        traces.append(
            go.Heatmap(
                z=[[zmin, zmax]],
                x=[T + 1, T + 2],
                y=[0],
                xaxis="x",
                yaxis=f"y{axis}",
                zmin=zmin,
                zmax=zmax,
                colorscale=gate_scale(q) if q in VALVES else DIVERGING,
                colorbar=_colorbar(q, m[q], lo, hi, labels.get("max", "max")),
                hoverinfo="skip",
            )
        )
        lay[f"yaxis{axis}"] = {
            "domain": [lo, hi],
            "anchor": "x",
            **FIXED,
            "range": [H - 0.5, -0.5],
            "scaleanchor": False,
            "showgrid": False,
            "zeroline": False,
            "ticks": "",
            "tickmode": "array",
            "tickvals": ticks,
            "ticktext": [str(int(order[r])) for r in ticks],
            "tickfont": {"size": 9},
        }
        title = labels[q] + (
            f" · {labels['own_scale']}" if own_scale(m[q]) and "own_scale" in labels else ""
        )
        titles.append(_title(title, hi))
    if facts:
        memory = np.asarray(values[quantities[0]], np.float32)
        lo, hi = doms[0]
        n_rows = FACT_ROWS * len(facts)
        traces.insert(
            0,
            go.Image(
                source=image_uri(facts_image(list(facts), memory, m[quantities[0]])),
                x0=0,
                dx=1,
                y0=0,
                dy=1,
                xaxis="x",
                yaxis="y",
                hovertemplate=f"{labels['step']} %{{x}}<extra></extra>",
            ),
        )
        lay["yaxis"] = {
            "domain": [lo, hi],
            "anchor": "x",
            **FIXED,
            "range": [n_rows - 0.5, -0.5],
            "scaleanchor": False,
            "showgrid": False,
            "zeroline": False,
            "ticks": "",
            "tickmode": "array",
            "tickvals": [FACT_ROWS * j + 2.5 for j in range(len(facts))],
            "ticktext": [str(f.unit) for f in facts],
            "tickfont": {"size": 9},
        }
        for j, fact in enumerate(facts):  # each pair's title, on its blank row
            titles.append(
                {
                    "text": fact.title,
                    "xref": "paper",
                    "yref": "y",
                    "x": 0,
                    "xanchor": "left",
                    "y": FACT_ROWS * j,
                    "yanchor": "middle",
                    "showarrow": False,
                    "font": {"size": 11, "color": "#333"},
                }
            )
    # (no time axis of its own: the cursor strip's is drawn right under it)
    lay["xaxis"] = {
        "anchor": f"y{len(heights)}",
        "range": [-0.5, T - 0.5],
        **FIXED,
        "showticklabels": False,
        "showgrid": False,
        "zeroline": False,
    }
    return figure(
        traces,
        {**lay, "annotations": titles},
        inner + MARGIN["t"] + 6,
        margin={**MARGIN, "b": 6},
    )


def belt_window(
    values: dict[str, np.ndarray],
    order: np.ndarray,
    cursor: int,
    start: int,
    stop: int,
    tokens: list[str],
    labels: dict[str, str],
    quantities=QUANTITIES,
    colorbars: bool = True,
) -> go.Figure:
    """Steps [start, stop) around the cursor: every token on the time axis, exact values,
    units labelled (every k-th when they do not all fit), the cursor boxed in every panel.

    colorbars=False when the overview, on the same colour scales, is on the page: a redraw of
    the window (every cursor move) then costs the browser about a third less.
    """
    H = values[quantities[0]].shape[1]
    panel = int(np.clip(H * 9, 60, 150))  # up to 16 units, each with a row it can be named on
    m = scales({q: values[q] for q in quantities})
    units = [str(int(u)) for u in order]
    n = len(quantities)
    doms = _domains(n, 34 / (n * panel + 34 * (n - 1)))
    traces, lay, shapes, titles = [], {}, [], []
    where = f"{labels['step']} %{{x}} · {labels['unit']} %{{y}}"
    for k, (q, (lo, hi)) in enumerate(zip(quantities, doms, strict=True)):
        axis = "" if k == 0 else str(k + 1)
        exact = np.asarray(values[q][start:stop], dtype=np.float32)[:, order].T  # (H, steps)
        zmin, zmax = _zrange(q, m[q])
        own = own_scale(m[q])  # c: coloured on each unit's own scale, its exact value hovered
        traces.append(
            go.Heatmap(
                z=np.ascontiguousarray(scaled(values[q][start:stop], m[q], order).T),
                customdata=np.ascontiguousarray(exact) if own else None,
                x=np.arange(start, stop),
                y=units,
                xaxis="x",
                yaxis=f"y{axis}",
                colorscale=gate_scale(q) if q in VALVES else DIVERGING,
                zmin=zmin,
                zmax=zmax,
                colorbar=_colorbar(q, m[q], lo, hi, labels.get("max", "max")),
                showscale=colorbars,
                hovertemplate=f"{labels[q]} = %{{{'customdata' if own else 'z'}:.3f}}<br>{where}<extra></extra>",
            )
        )
        lay[f"yaxis{axis}"] = {
            "domain": [lo, hi],
            "anchor": "x",
            **FIXED,
            **_unit_axis(units, panel),
        }
        titles.append(_title(labels[q], hi))
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": f"y{axis} domain",
                "x0": cursor - 0.5,
                "x1": cursor + 0.5,
                "y0": 0,
                "y1": 1,
                "line": {"color": "black", "width": 2},
            }
        )
    # Step numbers along the top edge, on the heatmaps' own axis: a hover reads its step from
    # there (on an axis with a label per tick, Plotly's hover gives the label: the token).
    lay["xaxis"] = {
        "anchor": "y",
        "side": "top",
        "range": [start - 0.5, stop - 0.5],
        "dtick": 5,
        "ticks": "",
        "tickfont": {"size": 10, "color": "#777"},
        "showgrid": False,
        **FIXED,
    }
    # The tokens along the bottom, on a second axis laid over the first
    lay[f"xaxis{n + 1}"] = {
        "matches": "x",
        "overlaying": "x",
        "anchor": f"y{n}",
        "showgrid": False,
        **FIXED,
        **_time_axis(tokens[start:stop], start),
    }
    # Plotly draws an axis only if some trace uses it: one invisible point
    traces.append(
        go.Scatter(
            x=[start],
            y=[units[0]],
            xaxis=f"x{n + 1}",
            yaxis=f"y{n}",
            mode="markers",
            marker={"opacity": 0},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    titles[0]["yshift"] = 18  # above the step numbers
    top, bottom = MARGIN["t"] + 20, 30
    return figure(
        traces,
        {**lay, "shapes": shapes, "annotations": titles},
        _height(n, panel, top, bottom),
        margin={**MARGIN, "t": top, "b": bottom},
    )


def cursor_strip(T: int, cursor: int, start: int, stop: int, labels: dict[str, str]) -> go.Figure:
    """A thin bar on the overview's time axis: the whole input, the window (shaded), the cursor."""
    shapes = [
        {
            "type": "rect",
            "x0": -0.5,
            "x1": T - 0.5,
            "y0": 0.35,
            "y1": 0.65,
            "fillcolor": "#eeeeee",
            "line": {"width": 0},
        },
        {
            "type": "rect",
            "x0": start - 0.5,
            "x1": stop - 0.5,
            "y0": 0.15,
            "y1": 0.85,
            "fillcolor": "rgba(224,122,31,0.25)",
            "line": {"color": "#e07a1f", "width": 1},
        },
        {
            "type": "line",
            "x0": cursor,
            "x1": cursor,
            "y0": 0.0,
            "y1": 1.0,
            "line": {"color": "black", "width": 3},
        },
    ]
    note = {
        "text": labels["window"],
        "x": (start + stop - 1) / 2,
        "y": 1.0,
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"size": 11, "color": "#a85a12"},
    }
    lay = {
        "xaxis": {
            "range": [-0.5, T - 0.5],
            "nticks": 16,
            "tickfont": {"size": 10},
            **FIXED,
            "fixedrange": True,
            "showgrid": False,
        },
        "yaxis": {"range": [0, 1], "visible": False, "fixedrange": True},
        "shapes": shapes,
        "annotations": [note],
    }
    return figure([], lay, 66, margin={**MARGIN, "t": 20, "b": 22})


# ---------------------------------------------------------------------------------- one unit
def unit_lines(
    values: dict[str, np.ndarray], tokens: list[str], labels: dict[str, str]
) -> go.Figure:
    """One unit over time: its states (c and h, or h) above, the gates (and c~, or what is
    written) below. values: name -> (T,) for the quantities the layer has, in the order the
    legend lists them (a plain RNN: h only, one panel)."""
    x = np.arange(len(tokens))
    # the step and its token, for the hover (%{x} would give the axis's label: the token again)
    custom = [[t, plotly_text(visible(tok))] for t, tok in enumerate(tokens)]
    gates = [q for q in values if q not in STATES]
    rows = 2 if gates else 1
    doms = _domains(rows, 0.16)
    traces = []
    styles = {
        "c": {"color": STATE_COLOR, "width": 2.5},
        "h": {"color": H_COLOR, "width": 2},
        "write": WRITE_LINE,
    }
    for q in (*(q for q in STATES if q in values), *gates):
        line = styles.get(q) or gate_line(q)
        traces.append(
            go.Scatter(
                x=x,
                y=np.asarray(values[q], np.float32),
                name=labels[q],
                line=line,
                customdata=custom,
                yaxis="y" if q in STATES else "y2",
                hovertemplate=f"{labels[q]} = %{{y:.3f}}<br>{labels['step']} %{{customdata[0]}} · “%{{customdata[1]}}”<extra></extra>",
            )
        )
    lay = {
        "xaxis": {
            "anchor": f"y{rows if rows > 1 else ''}",
            "range": [-0.5, len(tokens) - 0.5],
            **_time_axis(tokens, most=60),
        },
        "yaxis": {"domain": list(doms[0]), "zeroline": True, "zerolinecolor": "#ccc"},
        "annotations": [
            {
                "text": labels["states"],
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "xanchor": "left",
                "y": doms[0][1],
                "yanchor": "bottom",
                "showarrow": False,
                "font": TITLE_FONT,
            }
        ],
        "legend": {"orientation": "h", "y": -0.16},
    }
    if gates:
        lay["yaxis2"] = {"domain": list(doms[1]), "range": [-1.05, 1.05], "anchor": "x"}
        lay["annotations"].append(
            {
                "text": labels["gates"],
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "xanchor": "left",
                "y": doms[1][1],
                "yanchor": "bottom",
                "showarrow": False,
                "font": TITLE_FONT,
            }
        )
    return figure(traces, lay, 440 if gates else 260, margin={"l": 40, "r": 10, "t": 26, "b": 40})


def colored_text(
    tokens: list[str],
    values: np.ndarray,
    title: str,
    width: int = 64,
    scale: float | None = None,
    step: str = "step",
) -> go.Figure:
    """The input text, each character on a cell coloured by a unit's value (Karpathy's view).

    Lines break at newlines (shown as ⏎) and after `width` characters. The text is drawn as
    Plotly text with its markup neutralised: user text never becomes HTML. The hover gives the
    step (`step`: the word for it), the character and the value; the empty cells at the ends of
    lines have none.
    """
    rows, row_vals, cur, cur_vals, positions, cur_pos = [], [], [], [], [], []
    for t, (tok, v) in enumerate(zip(tokens, np.asarray(values, dtype=np.float32), strict=True)):
        cur.append(plotly_text("⏎" if tok == "\n" else "⇥" if tok == "\t" else tok))
        cur_vals.append(v)
        cur_pos.append(t)
        if tok == "\n" or len(cur) == width:
            rows.append(cur), row_vals.append(cur_vals), positions.append(cur_pos)
            cur, cur_vals, cur_pos = [], [], []
    if cur or not rows:
        rows.append(cur), row_vals.append(cur_vals), positions.append(cur_pos)
    n = max(len(r) for r in rows) or 1
    z = np.full((len(rows), n), np.nan, dtype=np.float32)
    steps = np.full((len(rows), n), -1, dtype=np.int32)
    text = [[""] * n for _ in rows]
    for r, (chars, vals, pos) in enumerate(zip(rows, row_vals, positions, strict=True)):
        z[r, : len(vals)] = vals
        steps[r, : len(pos)] = pos
        text[r][: len(chars)] = chars
    m = scale or max(1e-6, float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0)
    trace = go.Heatmap(
        z=z,
        text=text,
        texttemplate="%{text}",
        textfont={"size": 14, "family": "monospace"},
        customdata=steps,
        colorscale=DIVERGING,
        zmin=-m,
        zmax=m,
        zmid=0,
        xgap=1,
        ygap=3,
        hoverongaps=False,
        hovertemplate=f"{step} %{{customdata}} · “%{{text}}”: %{{z:.3f}}<extra></extra>",
        colorbar={
            "thickness": 8,
            "len": 1.0,
            "title": {"text": title, "side": "right"},
            "nticks": 3,
        },
    )
    lay = {"xaxis": {"visible": False}, "yaxis": {"visible": False, "autorange": "reversed"}}
    return figure(
        [trace], lay, max(90, 40 + 26 * len(rows)), margin={"l": 0, "r": 0, "t": 10, "b": 0}
    )


# ---------------------------------------------------------------------- the units that track
def ranking_bars(ranking: Ranking, top: int, labels: dict[str, str]) -> go.Figure:
    """The `top` units that follow the property best, with their correlation r."""
    units = ranking.order[:top]
    r = ranking.r[units].astype(np.float32)
    bars = go.Bar(
        x=r,
        y=[f"{labels['unit']} {u}" for u in units],
        orientation="h",
        marker_color=["#c0392b" if v > 0 else "#2e6fbd" for v in r],
        hovertemplate="r = %{x:.3f}<extra></extra>",
        text=[num(float(v), "+.2f", labels) for v in r],
        textposition="outside",
        cliponaxis=False,  # the numbers may run into the margins, never get cut
    )
    lay = {
        "xaxis": {
            "range": [-1.35, 1.35],
            "title": {"text": labels["r"]},
            "zeroline": True,
            "zerolinecolor": "#999",
        },
        "yaxis": {"autorange": "reversed"},
    }
    return figure([bars], lay, 60 + 26 * len(units), margin={"l": 10, "r": 34, "t": 30, "b": 10})


def property_overlay(
    prop: np.ndarray, unit_values: np.ndarray, tokens: list[str], labels: dict[str, str]
) -> go.Figure:
    """The property (shaded, left axis) and the best unit's value (line, right axis) over time.

    Step numbers on the time axis, upright (the coloured text below shows the characters); the
    right axis has its own few ticks and no grid, so the two scales do not fight.
    """
    x = np.arange(len(tokens))
    custom = [plotly_text(visible(tok)) for tok in tokens]
    where = f"{labels['step']} %{{x}} · “%{{customdata}}”"
    traces = [
        go.Scatter(
            x=x,
            y=np.asarray(prop, np.float32),
            name=labels["property"],
            line_shape="hv",
            line={"color": "#999", "width": 2},
            fill="tozeroy",
            fillcolor="rgba(0,0,0,0.06)",
            customdata=custom,
            hovertemplate=f"%{{y:.3g}}<br>{where}<extra></extra>",
        ),
        go.Scatter(
            x=x,
            y=np.asarray(unit_values, np.float32),
            name=labels["unit_value"],
            yaxis="y2",
            line={"color": STATE_COLOR, "width": 2},
            customdata=custom,
            hovertemplate=f"%{{y:.3f}}<br>{where}<extra></extra>",
        ),
    ]
    lay = {
        "xaxis": {
            **_time_axis(tokens, most=0),
            "nticks": 8,
            "tickangle": 0,
            "title": {"text": labels["step"]},
        },
        "yaxis": {"nticks": 5, "zeroline": True},
        "yaxis2": {
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            "tickmode": "auto",
            "nticks": 5,
            "tickformat": ".2~f",
            "zeroline": False,
        },
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom"},
    }
    return figure(traces, lay, 310, margin={"l": 50, "r": 60, "t": 60, "b": 40})


# ---------------------------------------------------------------------------------- the belt
def belt_waterfall(
    flows: dict[int, BeltFlow], start: int, stop: int, tokens: list[str], labels: dict[str, str]
) -> go.Figure:
    """What each step takes off and puts on the belt of a few units, as waterfalls.

    For each chosen unit, from the belt before step `start`: at every step a bar for what the
    valve takes off (LSTM (1 - f)·c_{t-1}, GRU (1 - z)·h_{t-1}) and one for what is put on
    (i·c~, (1 - z)·n), each starting where the belt stood, ending on the belt after step
    `stop` - 1. Bars are coloured by what they are (the valve's colour, the input gate's), not
    by their direction: taking off a negative value raises the belt, and what is put on can be
    negative. labels["memory"] names the belt ("c", or "h" for a GRU).
    """
    units = list(flows)
    doms = _domains(len(units), 0.16 if len(units) > 1 else 0.0)
    steps = np.arange(start, stop)
    kinds = (("removed", "f", -0.2), ("added", "i", 0.2))
    traces, lay, notes = [], {}, []
    for k, (u, (lo, hi)) in enumerate(zip(units, doms, strict=True)):
        fl = flows[u]
        axis = "" if k == 0 else str(k + 1)
        before = fl.c_prev[start:stop]
        mid = (
            before - fl.removed[start:stop]
        )  # the belt after the forget gate, before the input gate
        ends = np.array([fl.c_prev[start], fl.c[stop - 1]], dtype=np.float32)
        traces.append(
            go.Bar(
                x=[start - 1, stop],
                y=ends,
                marker_color=STATE_COLOR,
                width=0.6,
                showlegend=False,
                yaxis=f"y{axis}",
                hovertemplate=f"{labels['memory']} = %{{y:.3f}}<extra></extra>",
            )
        )
        for name, gate, dx in kinds:
            base = before if name == "removed" else mid
            delta = -fl.removed[start:stop] if name == "removed" else fl.added[start:stop]
            traces.append(
                go.Bar(
                    x=steps + dx,
                    y=np.asarray(delta, np.float32),
                    base=np.asarray(base, np.float32),
                    width=0.36,
                    marker_color=GATE_COLORS[gate],
                    name=labels[name],
                    legendgroup=name,
                    showlegend=k == 0,
                    yaxis=f"y{axis}",
                    customdata=steps,
                    hovertemplate=f"{labels[name]}: %{{y:+.3f}}<br>{labels['step']} %{{customdata}}<extra></extra>",
                )
            )
        # connectors: the belt's level carried from one step's bars to the next step's
        cx, cy = [], []
        for t in range(start, stop + 1):
            level = float(fl.c_prev[t] if t < stop else fl.c[stop - 1])
            cx += [t - 1 + (0.3 if t == start else 0.38), t - (0.3 if t == stop else 0.38), None]
            cy += [level, level, None]
        traces.append(
            go.Scatter(
                x=cx,
                y=cy,
                mode="lines",
                line={"color": "#999", "width": 1},
                showlegend=False,
                hoverinfo="skip",
                yaxis=f"y{axis}",
            )
        )
        lay[f"yaxis{axis}"] = {
            "domain": [lo, hi],
            "anchor": "x",
            "zeroline": True,
            "zerolinecolor": "#999",
            "title": {"text": labels["memory"], "standoff": 2},
        }
        notes.append(
            {
                "text": f"{labels['unit']} {u}",
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "xanchor": "left",
                "y": hi,
                "yanchor": "bottom",
                "showarrow": False,
                "font": TITLE_FONT,
            }
        )
    ticks = [start - 1, *steps.tolist(), stop]
    text = [labels["start"], *(plotly_text(visible(tokens[t])) for t in steps), labels["end"]]
    lay["xaxis"] = {
        "anchor": f"y{len(units) if len(units) > 1 else ''}",
        "tickmode": "array",
        "tickvals": ticks,
        "ticktext": text,
        "tickangle": 0,
        "range": [start - 1.6, stop + 0.6],
        "tickfont": {"size": 11},
    }
    lay |= {
        "annotations": notes,
        "barmode": "overlay",
        "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1, "yanchor": "bottom"},
    }
    return figure(traces, lay, 90 + 230 * len(units), margin={"l": 40, "r": 10, "t": 30, "b": 50})
