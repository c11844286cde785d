"""Figures of the page "Inside one step": the cell diagram, a step's vectors, interventions.

`step_diagram` draws a unit's step for whichever cell made it: it dispatches on the unit record
(lstm_core's UnitStep drawn here, the GRU's in ui/figures/gru.py).
"""

from __future__ import annotations

from functools import singledispatch

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lstm_core.explain import UnitStep, sigmoid
from lstm_core.gru import GRUUnitStep
from ui.figures import (
    DIVERGING,
    GATE_COLORS,
    GATE_SYMBOLS,
    STATE_COLOR,
    diverging_color,
    gate_color,
    gate_fill,
    layout,
    num,
    plotly_text,
    visible,
)
from ui.figures.diagram import Drawing
from ui.figures.gru import gru_diagram


# -------------------------------------------------------------------------------- the cell
@singledispatch
def step_diagram(v, labels: dict[str, str], h_prev=None, token=None) -> go.Figure:
    """One unit's step, drawn for the cell whose unit record `v` is (v: a step's .unit(row, u))."""
    raise TypeError(f"no drawing of a {type(v).__name__}")


step_diagram.register(GRUUnitStep, gru_diagram)


@step_diagram.register
def cell_diagram(
    v: UnitStep, labels: dict[str, str], h_prev: float | None = None, token: str | None = None
) -> go.Figure:
    """The LSTM cell after Colah's diagram, coloured by one unit's values at one step.

    The belt runs along the top from c_{t-1} to c_t; below it the four layers (σ f, σ i,
    tanh c~, σ o) read [h_{t-1}, x_t] from the line at the bottom, where the two come in: the
    previous hidden state from the left (h_prev: this unit's value, written beside it) and this
    step's input from below (token: what it is, a character or a bit). Each gate box is as opaque
    as the gate is open, and the belt's segments are coloured by the value they carry.
    labels: "input", "belt", "forget", "input_gate", "candidate", "output" (already translated).
    """
    d = Drawing()
    seg = d.line
    belt_y, gate_y, in_y = 6.0, 3.2, 1.0
    x_f, x_i, x_g, x_o, x_tanh = 2.6, 4.6, 6.2, 8.6, 10.2
    x_mul_f, x_add = x_f, 6.2
    scale = max(1.0, abs(v.c_prev), abs(v.c), abs(v.kept))

    def belt_width(x):
        return 4 + 10 * min(1.0, abs(x) / scale)

    # the belt: c_{t-1} -> x(forget) -> +(input) -> c_t, over a grey track that shows even at 0
    seg(0.2, belt_y, 11.8, belt_y, "#dddddd", 16)
    seg(0.2, belt_y, x_mul_f, belt_y, diverging_color(v.c_prev, scale), belt_width(v.c_prev))
    seg(x_mul_f, belt_y, x_add, belt_y, diverging_color(v.kept, scale), belt_width(v.kept))
    seg(x_add, belt_y, 11.8, belt_y, diverging_color(v.c, scale), belt_width(v.c))
    # the input line and its taps up to the four layers
    seg(0.2, in_y, x_o, in_y, STATE_COLOR, 3)
    for x in (x_f, x_i, x_g, x_o):
        seg(x, in_y, x, gate_y - 0.45, STATE_COLOR, 2)
    # forget: up to the multiplication on the belt, as thick as the valve is open
    seg(x_f, gate_y + 0.45, x_mul_f, belt_y - 0.3, GATE_COLORS["f"], 1 + 7 * v.f)
    # input gate and candidate meet in a product, which goes up to the addition
    x_prod, y_prod = (x_i + x_g) / 2 + 0.2, 4.7
    seg(x_i, gate_y + 0.45, x_prod, y_prod, GATE_COLORS["i"], 1 + 7 * v.i)
    seg(x_g, gate_y + 0.45, x_prod, y_prod, GATE_COLORS["g"], 1 + 4 * abs(v.g))
    seg(
        x_prod,
        y_prod,
        x_add,
        belt_y - 0.3,
        diverging_color(v.added, scale),
        2 + 6 * min(1, abs(v.added)),
    )
    # output: the belt through tanh, times o, is h_t
    seg(x_tanh, belt_y, x_tanh, 4.9, diverging_color(v.c, scale), 3)
    seg(x_tanh, 4.3, x_tanh, gate_y + 0.3, diverging_color(v.tanh_c), 3)
    seg(x_o + 0.6, gate_y, x_tanh - 0.3, gate_y, GATE_COLORS["o"], 1 + 7 * v.o)
    seg(x_tanh + 0.3, gate_y, 11.8, gate_y, diverging_color(v.h), 2 + 8 * min(1, abs(v.h)))

    # the four gate layers: opaque when open, pale when shut
    for gate, x, value, fn in (
        ("f", x_f, v.f, "σ"),
        ("i", x_i, v.i, "σ"),
        ("g", x_g, v.g, "tanh"),
        ("o", x_o, v.o, "σ"),
    ):
        fill = gate_fill(gate, value) if gate != "g" else diverging_color(value)
        text = f"<b>{fn}</b><br>{GATE_SYMBOLS[gate]} = {num(value, '.2f', labels)}"
        d.layer(x, gate_y, fill, GATE_COLORS[gate], text)
    d.ops(
        ((x_mul_f, belt_y, "×"), (x_add, belt_y, "+"), (x_prod, y_prod, "×"), (x_tanh, gate_y, "×"))
    )
    d.box(x_tanh, 4.6, 0.45, 0.3, "tanh", 11)

    # values along the way
    d.notes += [
        (0.9, belt_y + 0.55, f"c<sub>t-1</sub> = {num(v.c_prev, '.2f', labels)}", 13),
        (
            (x_mul_f + x_add) / 2,
            belt_y + 0.55,
            f"f·c<sub>t-1</sub> = {num(v.kept, '.2f', labels)}",
            12,
        ),
        (11.0, belt_y + 0.55, f"<b>c<sub>t</sub> = {num(v.c, '.2f', labels)}</b>", 13),
        (x_prod + 0.42, y_prod, f"i·c̃ = {num(v.added, '.2f', labels)}", 12, "#222", "left"),
        (11.0, gate_y + 0.45, f"<b>h<sub>t</sub> = {num(v.h, '.2f', labels)}</b>", 13),
        (x_tanh + 0.9, 4.6, f"{num(v.tanh_c, '.2f', labels)}", 11),
        (3.6, in_y - 0.45, labels["input"], 12),
        (6.0, belt_y + 1.05, labels["belt"], 12),
        # each layer's name beside the line that feeds it, so no line crosses a name
        (x_f + 0.12, gate_y - 0.95, labels["forget"], 11, "#222", "left"),
        (x_i + 0.12, gate_y - 0.95, labels["input_gate"], 11, "#222", "left"),
        (x_g + 0.12, gate_y - 0.95, labels["candidate"], 11, "#222", "left"),
        (x_o + 0.12, gate_y - 0.95, labels["output"], 11, "#222", "left"),
    ]
    # what comes in: h_{t-1} from the previous step (left), x_t from below; both join the line
    h_text = "h<sub>t-1</sub>" + ("" if h_prev is None else f" = {num(h_prev, '.2f', labels)}")
    x_text = "x<sub>t</sub>" + ("" if token is None else f" = “{plotly_text(visible(token))}”")
    x_in = 1.4
    d.notes += [
        (0.1, in_y + 0.4, h_text, 12, "#222", "left"),
        (x_in - 0.15, 0.3, x_text, 12, "#222", "right"),
    ]
    return d.figure((((1.0, in_y), (0.05, in_y)), ((x_in, in_y - 0.05), (x_in, 0.05))))


LSTM_SQUASH = {"f": "sigmoid", "i": "sigmoid", "g": "tanh", "o": "sigmoid"}


def step_vectors(
    values: dict[str, np.ndarray],
    unit: int,
    titles: dict[str, str],
    unit_label: str,
    squash: dict[str, str] | None = None,
) -> go.Figure:
    """The full vectors of one step as bars, one panel each, in the order given: the gates
    (0..1 for σ, -1..1 for tanh), then the states (h -1..1, c as large as it is).

    values: name -> (H,) array (the cell's `vectors`); squash: how each gate squashes (the
    cell's `squash`; the LSTM's by default). The chosen unit stands out in every panel: a shaded
    band (wide enough to see at H=128, where a bar is two pixels), a marker under the panel, and
    a dark outline.
    """
    squash = LSTM_SQUASH if squash is None else squash
    names = list(values)
    cols = 3 if len(names) > 4 else min(len(names), 2)
    rows = -(-len(names) // cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[titles[n] for n in names],
        vertical_spacing=0.18 if rows > 1 else 0.1,
        horizontal_spacing=0.06,
    )
    H = len(values[names[0]])
    x = np.arange(H)
    for k, name in enumerate(names):
        y = np.asarray(values[name], dtype=np.float32)
        if name in squash:
            sig = squash[name] == "sigmoid"
            colors = [gate_fill(name, v) if sig else diverging_color(v) for v in y]
            line = gate_color(name)
        else:
            colors = [diverging_color(v, max(1.0, float(np.abs(y).max()))) for v in y]
            line = STATE_COLOR
        widths = np.where(x == unit, 2.5, 0.5).astype(np.float32)
        lines = ["#111" if k == unit else line for k in range(H)]
        fig.add_trace(
            go.Bar(
                x=x,
                y=y,
                marker={"color": colors, "line": {"color": lines, "width": widths}},
                hovertemplate=f"{titles[name]}<br>{unit_label} %{{x}}: %{{y:.3f}}<extra></extra>",
                showlegend=False,
            ),
            row=k // cols + 1,
            col=k % cols + 1,
        )
        low, high = (0.0, 1.0) if squash.get(name) == "sigmoid" else (-1.0, 1.0)
        if name not in squash and name != "h":  # c: as large as it is
            m = max(1.0, float(np.abs(y).max()) * 1.1)
            low, high = -m, m
        fig.update_yaxes(
            range=[low, high],
            row=k // cols + 1,
            col=k % cols + 1,
            zeroline=True,
            zerolinecolor="#bbb",
        )
    half = max(0.5, H / 70)  # in units: at least one bar, about 1.5% of the panel
    for k in range(len(names)):
        axis = "" if k == 0 else str(k + 1)
        fig.add_shape(
            type="rect",
            xref=f"x{axis}",
            yref=f"y{axis} domain",
            x0=unit - half,
            x1=unit + half,
            y0=0,
            y1=1,
            fillcolor="rgba(255,190,0,0.35)",
            line={"width": 0},
            layer="below",
        )
        if H > 32:  # no unit numbers on the axis: point at the unit from below
            fig.add_annotation(
                x=unit,
                y=0,
                xref=f"x{axis}",
                yref=f"y{axis} domain",
                text="▲",
                showarrow=False,
                yanchor="top",
                font={"size": 11, "color": "#b07d00"},
            )
    fig.update_xaxes(showticklabels=H <= 32, dtick=1 if H <= 16 else None)
    return layout(fig, 190 * rows, bargap=0.15)


def valve_curve(a: float, labels: dict[str, str]) -> go.Figure:
    """σ as a valve: the curve, the current pre-activation on it, and tanh for comparison."""
    xs = np.linspace(-8, 8, 321, dtype=np.float32)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=np.tanh(xs).astype(np.float32),
            name="tanh",
            mode="lines",
            line={"color": GATE_COLORS["g"], "width": 1.5, "dash": "dot"},
            hovertemplate="tanh(%{x:.2f}) = %{y:.3f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=sigmoid(xs).astype(np.float32),
            name="σ",
            mode="lines",
            line={"color": GATE_COLORS["f"], "width": 3},
            hovertemplate="σ(%{x:.2f}) = %{y:.3f}<extra></extra>",
        )
    )
    s = float(sigmoid(a))
    fig.add_trace(
        go.Scatter(
            x=[a],
            y=[s],
            mode="markers+text",
            text=[f"σ({num(a, '.1f', labels)}) = {num(s, '.2f', labels)}"],
            textposition="top left" if a > 0 else "top right",
            showlegend=False,
            hoverinfo="skip",
            marker={"size": 14, "color": GATE_COLORS["f"], "line": {"color": "black", "width": 1}},
        )
    )
    fig.add_hline(y=0, line_color="#bbb")
    fig.add_hline(y=1, line_color="#bbb", line_dash="dash")
    fig.add_annotation(
        x=-7.8,
        y=0,
        text=labels["closed"],
        showarrow=False,
        xanchor="left",
        yanchor="bottom",
        yshift=4,
    )  # just above the line, not on it
    fig.add_annotation(x=7.8, y=0.8, text=labels["open"], showarrow=False, xanchor="right")
    fig.update_xaxes(title=labels["x"], range=[-8, 8])
    fig.update_yaxes(range=[-1.1, 1.15])
    return layout(fig, 300, legend={"orientation": "h", "y": -0.25})


def intervention(
    before_c: np.ndarray | None,
    after_c: np.ndarray | None,
    before_h: np.ndarray,
    after_h: np.ndarray,
    change: np.ndarray,
    start: int,
    tokens: list[str],
    labels: dict[str, str],
    answers: tuple[list[str], list[str]] | None = None,
) -> go.Figure:
    """Before vs after a clamp: c_t (None: a cell without a belt) and h_t of the clamped unit,
    how far the output moved, and
    (answers: the model's top answer at every step, left alone and clamped) both rows of answers
    under the steps, written the same way (spaces and newlines visible) and the changes marked.

    labels: "c" (with a belt), "h", "output", "before", "after", and "answers" when answers are
    given.
    """
    T = len(tokens)
    x = np.arange(T)
    states = [(labels["c"], before_c, after_c)] if before_c is not None else []
    states.append((labels["h"], before_h, after_h))
    rows = len(states) + (2 if answers else 1)
    titles = [s[0] for s in states] + [labels["output"]] + ([labels["answers"]] if answers else [])
    fig = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.07,
        subplot_titles=titles,
        row_heights=([1] * len(states) + [0.8, 0.55])[:rows],
    )
    out_row = len(states) + 1
    # the hover names the step and its character (%{x} would give the axis's label: the character)
    custom = [[k, plotly_text(visible(tok))] for k, tok in enumerate(tokens)]
    where = f"{labels.get('step', 'step')} %{{customdata[0]}} · “%{{customdata[1]}}”"
    for row, (_, b, a) in enumerate(states, start=1):
        for name, ys, line in (
            (labels["before"], b, {"color": "#999", "dash": "dash"}),
            (labels["after"], a, {"color": "#222"}),
        ):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=np.asarray(ys, np.float32),
                    name=name,
                    mode="lines+markers",
                    line=line,
                    showlegend=row == 1,
                    customdata=custom,
                    hovertemplate=f"{name}: %{{y:.3f}}<br>{where}<extra></extra>",
                ),
                row=row,
                col=1,
            )
    fig.add_trace(
        go.Bar(
            x=x,
            y=np.asarray(change, np.float32),
            marker_color="#e07a1f",
            showlegend=False,
            customdata=custom,
            hovertemplate=f"%{{y:.3f}}<br>{where}<extra></extra>",
        ),
        row=out_row,
        col=1,
    )
    fig.update_yaxes(range=[0, 1], row=out_row, col=1)
    if answers:
        before, after = answers
        changed = np.array([b != a for b, a in zip(before, after, strict=True)], dtype=np.float32)
        text = [[plotly_text(visible(ch)) for ch in row] for row in (before, after)]
        size = int(np.clip(700 / max(T, 1), 7, 14))  # the characters shrink as the input grows
        fig.add_trace(
            go.Heatmap(
                z=np.stack([changed * 0.55, changed]),
                x=x,
                y=[labels["before"], labels["after"]],
                text=text,
                texttemplate="%{text}",
                textfont={"size": size, "family": "monospace"},
                showscale=False,
                xgap=1,
                ygap=2,
                colorscale=[[0, "#ffffff"], [0.55, "#f9d3a8"], [1, "#f4a259"]],
                zmin=0,
                zmax=1,
                customdata=np.tile(x, (2, 1)),
                hovertemplate=f"%{{y}}: “%{{text}}”<br>{labels.get('step', 'step')} %{{customdata}}<extra></extra>",
            ),
            row=out_row + 1,
            col=1,
        )
        fig.update_yaxes(autorange="reversed", showgrid=False, row=out_row + 1, col=1)
    for row in range(1, rows + 1):
        fig.add_vrect(
            x0=start - 0.5,
            x1=T - 0.5,
            fillcolor="#e07a1f",
            opacity=0.07,
            line_width=0,
            row=row,
            col=1,
        )
    fig.update_xaxes(
        tickmode="array",
        tickvals=x,
        ticktext=[plotly_text(visible(s)) for s in tokens],
        row=rows,
        col=1,
    )
    return layout(
        fig,
        (620 if answers else 520) - 130 * (before_c is None),
        legend={"orientation": "h", "y": 1.08},
        margin={"l": 10, "r": 10, "t": 30, "b": 30},
    )  # room for the tokens under the steps


def change_heatmap(delta: np.ndarray, tokens: list[str], labels: dict[str, str]) -> go.Figure:
    """Δc for every unit (rows) and step (columns), on the diverging scale.

    The x axis counts steps (0, 1, 2, ...); each step's token is written under its number when
    there is room, and named in the hover. labels: "title", "units", "steps", "hover" (a hover
    template that may use %{x}, %{y}, %{z} and %{customdata}, the step's token), and "delta",
    the colour bar's title (Δc unless given: Δh for a cell that keeps its memory in h).
    """
    d = np.asarray(delta, dtype=np.float32).T  # (H, T)
    H, T = d.shape
    m = float(np.abs(d).max()) or 1.0
    words = [plotly_text(visible(s)) for s in tokens]
    fig = go.Figure(
        go.Heatmap(
            z=d,
            x=np.arange(T),
            y=np.arange(H),
            colorscale=DIVERGING,
            zmid=0,
            zmin=-m,
            zmax=m,
            customdata=np.tile(np.array(words, dtype=object), (H, 1)),
            hovertemplate=labels["hover"] + "<extra></extra>",
            colorbar={"title": labels.get("delta", "Δc")},
        )
    )
    fig.update_yaxes(title=labels["units"], autorange="reversed", dtick=1 if H <= 16 else None)
    if T <= 40:  # room for the tokens: the step's number, its token under it
        fig.update_xaxes(
            tickmode="array",
            tickvals=list(range(T)),
            ticktext=[f"{k}<br>{w}" for k, w in enumerate(words)],
        )
    fig.update_xaxes(title=labels["steps"])
    title = {"text": labels["title"], "x": 0, "xanchor": "left"} if "title" in labels else None
    return layout(fig, 320, title=title, margin={"l": 10, "r": 10, "t": 40, "b": 10})
