"""Figures of the page "Text generation": training curves, the next-character distribution, and
what temperature does to it."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ui.figures import GATE_COLORS, STATE_COLOR, figure, layout, num, percent_axis, visible


def training_curves(
    loss: tuple[np.ndarray, np.ndarray, np.ndarray],
    bpc: tuple[np.ndarray, np.ndarray],
    vocab_size: int,
    labels: dict[str, str],
    lowest: tuple[int, float] | None = None,
) -> go.Figure:
    """Training loss and held-out bits per character on one axis, in bits per character.

    The loss (mean cross-entropy in nats) divided by ln 2 is the training batches' bits per
    character, so the two curves share one unit. One plot, not two side by side: it redraws
    several times a second while training.
    lowest: (step, bits) of the held-out curve's lowest point, marked (with labels["lowest"])
    when the page has found the model memorising its text since then.
    """
    x, y, smooth = loss
    bx, by = bpc
    to_bits = np.float32(1 / np.log(2))
    x32 = x.astype(np.float32)
    uniform = float(np.log2(max(vocab_size, 2)))
    traces = [
        {
            "type": "scatter",
            "x": x32,
            "y": y.astype(np.float32) * to_bits,
            "mode": "lines",
            "opacity": 0.25,
            "line": {"color": STATE_COLOR, "width": 1},
            "hoverinfo": "skip",
            "showlegend": False,
        },
        {
            "type": "scatter",
            "x": x32,
            "y": smooth.astype(np.float32) * to_bits,
            "mode": "lines",
            "name": labels["train"],
            "line": {"color": STATE_COLOR, "width": 2.5},
        },
        {
            "type": "scatter",
            "x": bx.astype(np.float32),
            "y": by.astype(np.float32),
            "mode": "lines+markers",
            "name": labels["held_out"],
            "line": {"color": GATE_COLORS["i"], "width": 2},
            "marker": {"size": 5},
        },
    ]
    lay = {
        "xaxis": {"title": {"text": labels["step"]}},
        "yaxis": {
            "title": {"text": labels["axis"]},
            "rangemode": "tozero",
            "range": [0, uniform * 1.08],
        },
        "shapes": [
            {
                "type": "line",
                "xref": "x domain",
                "yref": "y",
                "x0": 0,
                "x1": 1,
                "y0": uniform,
                "y1": uniform,
                "line": {"dash": "dot", "color": "#9aa5b1", "width": 1},
            }
        ],
        "annotations": [
            {
                "text": labels["uniform"],
                "xref": "x domain",
                "yref": "y",
                "x": 1,
                "y": uniform,
                "xanchor": "right",
                "yanchor": "bottom",
                "showarrow": False,
            }
        ],
    }
    if lowest is not None:
        step, bits = lowest
        traces.append(
            {
                "type": "scatter",
                "x": [step],
                "y": [bits],
                "mode": "markers+text",
                "text": [labels["lowest"]],
                "textposition": "bottom center",
                "marker": {"size": 11, "symbol": "circle-open", "color": GATE_COLORS["f"]},
                "line": {"width": 2},
                "hoverinfo": "skip",
                "showlegend": False,
            }
        )
    return figure(traces, lay, 300, legend={"orientation": "h", "y": 1.15})


def next_characters(
    pairs: list[tuple[str, float]], chosen: str | None, labels: dict[str, str]
) -> go.Figure:
    """The most likely next characters at one step, the one that was drawn highlighted.

    labels: "p" (the axis title), and the page's number style (ui.i18n.number_style): the
    percentages on the bars and the axis are written in it ("30,8 %" in Spanish).
    """
    chars = [visible(c) for c, _ in pairs]
    probs = np.array([p for _, p in pairs], dtype=np.float32)
    colors = [GATE_COLORS["o"] if c == chosen else "#9aa5b1" for c, _ in pairs]
    shown = [num(float(p), ".1%", labels) for p in probs]
    fig = go.Figure(
        go.Bar(
            x=probs,
            y=[f"“{c}”" for c in chars],
            orientation="h",
            marker_color=colors,
            text=shown,
            textposition="outside",
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    fig.update_xaxes(title=labels["p"], **percent_axis(1.15, labels))
    fig.update_yaxes(autorange="reversed")
    return layout(fig, 60 + 28 * len(pairs))


def temperature_effect(
    raw: np.ndarray,
    tempered: np.ndarray,
    vocab: tuple[str, ...],
    labels: dict[str, str],
    top: int = 15,
) -> go.Figure:
    """The model's own distribution next to the one sampled from (after temperature and top-k),
    for the `top` characters the model finds most likely. labels: "before", "after", "p" and
    the page's number style (the percent axis is written in it)."""
    order = np.argsort(raw)[::-1][:top]
    chars = [f"“{visible(vocab[k])}”" for k in order]
    high = 1.08 * float(max(raw[order].max(), tempered[order].max()))
    fig = go.Figure(
        [
            go.Bar(
                x=chars,
                y=raw[order].astype(np.float32),
                name=labels["before"],
                marker_color="#9aa5b1",
            ),
            go.Bar(
                x=chars,
                y=tempered[order].astype(np.float32),
                name=labels["after"],
                marker_color=GATE_COLORS["f"],
            ),
        ]
    )
    fig.update_yaxes(title=labels["p"], **percent_axis(high, labels))
    return layout(fig, 300, barmode="group", legend={"orientation": "h", "y": 1.15})
