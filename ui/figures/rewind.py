"""The figure only rewinding can draw: one unit over a fixed sentence, at every kept training step."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ui.figures import DIVERGING, INK, figure, num, visible
from ui.figures.belt import plotly_text

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
