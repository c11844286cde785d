"""The figures only rewinding can draw: for text, one unit over a fixed sentence at every kept
training step; for the echo task, how well each model's state holds the bit read d steps ago at
every kept training step (when does it learn to carry the bit?)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ui.figures import CELL_COLORS, DIVERGING, INK, figure, num, panel_columns, plotly_text, visible
from ui.figures.echo import colorbar_under, panel_title

MOST_TOKENS = 80  # beyond this many characters the axis shows positions, not the characters


def unit_over_training(
    grid: np.ndarray,
    steps: list[int],
    tokens: list[str],
    chosen: int | None,
    labels: dict[str, str],
) -> go.Figure:
    """A heat map of one unit's h: a row per kept training step (the earliest at the top), a
    column per character of the sentence; the row of the slider's step outlined.

    grid (R, T): h at each drawn step; steps (R,): their step numbers; chosen: the row to
    outline (None: the slider's step is not among the rows drawn). labels: "step" and
    "position" (axis titles), "value" (the colour bar's title), "hover" (a Plotly hover
    template), and the page's number style (ui.i18n.number_style) for the step numbers.
    """
    R, T = grid.shape
    rows = [num(s, ",", labels) for s in steps]  # categories: one even row per kept step
    heat = go.Heatmap(
        z=np.asarray(grid, np.float32),
        x=np.arange(T),
        y=rows,
        colorscale=DIVERGING,
        zmin=-1.0,
        zmid=0.0,
        zmax=1.0,
        colorbar={"title": {"text": labels["value"]}, "thickness": 12, "len": 0.9},
        hovertemplate=labels["hover"] + "<extra></extra>",
    )
    if T <= MOST_TOKENS:
        x_axis = {
            "tickmode": "array",
            "tickvals": np.arange(T),
            "ticktext": [plotly_text(visible(tok)) for tok in tokens],
            "tickangle": 0,
            "tickfont": {"size": 11},
        }
    else:
        x_axis = {"tickmode": "auto", "nticks": 16}
    shapes = []
    if chosen is not None:
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "y",
                "x0": -0.5,
                "x1": T - 0.5,
                "y0": chosen - 0.5,
                "y1": chosen + 0.5,
                "line": {"color": INK, "width": 2},
            }
        )
    lay = {
        "xaxis": {"title": {"text": labels["position"]}, **x_axis},
        "yaxis": {
            "title": {"text": labels["step"]},
            "type": "category",
            "autorange": "reversed",  # the untrained model on top, training goes on downwards
            "nticks": 12,
        },
        "shapes": shapes,
        "margin": {"l": 70, "r": 10, "t": 20, "b": 50},
    }
    return figure([heat], lay, int(np.clip(100 + 7 * R, 240, 520)))


def carry_over_training(
    grids: dict[str, np.ndarray],
    steps: dict[str, list[int]],
    echo_step: int,
    chosen: dict[str, int | None],
    labels: dict[str, str],
) -> go.Figure:
    """A heat map per model side by side: a row per kept training step (the earliest at the
    top), a column per distance d = 0, 1, ...; the colour is how often the bit read d steps ago
    is read back from the state (0.5: a coin, pale; 1: always, the cell's own colour). The
    column d = echo_step (the bit the answer needs) is framed dashed, the slider's row solid.

    grids: name ("rnn", "lstm") -> (R, D) accuracies; steps: name -> the R steps' numbers;
    chosen: name -> the row of the slider's step (None: not among the rows drawn). labels: a
    name per model, "distance" and "step" (axis titles), "hover" (a Plotly hover template with
    %{y}, %{x} and %{text}, the accuracy written out), "answer" (the framed column's note) and
    the page's number style (ui.i18n.number_style).
    """
    names = list(grids)
    columns = panel_columns(len(names), 0.1)
    traces, lay, shapes, notes = [], {}, [], []
    R = max(len(g) for g in grids.values())
    for c, (name, (x0, x1)) in enumerate(zip(names, columns, strict=True)):
        grid = np.asarray(grids[name], np.float32)
        rows_, D = grid.shape
        axis = "" if c == 0 else str(c + 1)
        rows = [num(s, ",", labels) for s in steps[name]]  # categories: an even row per step
        written = [[num(float(v), ".0%", labels) for v in row] for row in grid]
        ticks = [0.5, 0.75, 1.0]
        traces.append(
            go.Heatmap(
                z=grid,
                x=np.arange(D),
                y=rows,
                text=written,
                colorscale=[[0.0, "#f7f7f7"], [1.0, CELL_COLORS.get(name, INK)]],
                zmin=0.5,
                zmax=1.0,
                xaxis=f"x{axis}",
                yaxis=f"y{axis}",
                hovertemplate=labels["hover"] + "<extra></extra>",
                colorbar=colorbar_under(
                    x0, x1, tickvals=ticks, ticktext=[num(v, ".0%", labels) for v in ticks]
                ),
            )
        )
        lay[f"xaxis{axis}"] = {
            "domain": [x0, x1],
            "anchor": f"y{axis}",
            "title": {"text": labels["distance"], "standoff": 6},
            "dtick": 1 if D <= 16 else 5,
            "range": [-0.5, D - 0.5],
        }
        lay[f"yaxis{axis}"] = {
            "anchor": f"x{axis}",
            "type": "category",
            "autorange": "reversed",  # the untrained model on top, training goes on downwards
            "nticks": 12,
            "title": {"text": labels["step"] if c == 0 else "", "standoff": 2},
        }
        ref = {"xref": f"x{axis}", "yref": f"y{axis}"}
        if echo_step < D:
            shapes.append(
                {
                    "type": "rect",
                    **ref,
                    "x0": echo_step - 0.5,
                    "x1": echo_step + 0.5,
                    "y0": -0.5,
                    "y1": rows_ - 0.5,
                    "line": {"color": INK, "width": 1.5, "dash": "dash"},
                }
            )
        if chosen.get(name) is not None:
            row = chosen[name]
            shapes.append(
                {
                    "type": "rect",
                    **ref,
                    "x0": -0.5,
                    "x1": D - 0.5,
                    "y0": row - 0.5,
                    "y1": row + 0.5,
                    "line": {"color": INK, "width": 2},
                }
            )
        notes.append(panel_title(f"<b>{labels[name]}</b> · {labels['answer']}", x0))
    lay |= {"shapes": shapes, "annotations": notes, "margin": {"l": 70, "r": 10, "t": 30, "b": 90}}
    return figure(traces, lay, int(np.clip(160 + 9 * R, 300, 620)))
