"""Figures of the page "Echo task": loss and accuracy while training, the notebook's bars, the
state of the current window, and the memory-span sweep."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ui.figures import DIVERGING, figure, layout

CELL_COLORS = {"lstm": "#2a9d62", "rnn": "#c0392b"}
BIT_COLORS = {"input": "#2e6fbd", "target": "#d1495b", "prediction": "#2a9d62"}  # the notebook's


def _columns(n: int, gap: float = 0.08) -> list[tuple[float, float]]:
    width = (1 - gap * (n - 1)) / n
    return [(k * (width + gap), k * (width + gap) + width) for k in range(n)]


def training_curves(
    losses: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    accuracies: dict[str, tuple[np.ndarray, np.ndarray]],
    labels: dict[str, str],
) -> go.Figure:
    """Loss per window (left: raw values faint, a smoothed line bold, log scale) and accuracy on
    fresh data (right, with the 99% line), one colour per model.

    losses: name -> (window, loss, smoothed loss); accuracies: name -> (window, accuracy).
    """
    (l0, l1), (r0, r1) = _columns(2)
    traces = []
    for name, (x, y, smooth) in losses.items():
        color = CELL_COLORS.get(name, "#444")
        traces.append(go.Scatter(x=x.astype(np.float32), y=np.maximum(y, 1e-6).astype(np.float32), mode="lines",
                                 line={"color": color, "width": 1}, opacity=0.3, showlegend=False, hoverinfo="skip"))  # fmt: skip
        traces.append(go.Scatter(x=x.astype(np.float32), y=np.maximum(smooth, 1e-6).astype(np.float32), mode="lines",
                                 name=labels[name], legendgroup=name, line={"color": color, "width": 2.5}))  # fmt: skip
    for name, (x, y) in accuracies.items():
        traces.append(go.Scatter(x=x.astype(np.float32), y=y.astype(np.float32), mode="lines+markers", xaxis="x2",
                                 yaxis="y2", name=labels[name], legendgroup=name, showlegend=name not in losses,
                                 line={"color": CELL_COLORS.get(name, "#444"), "width": 2}, marker={"size": 4}))  # fmt: skip
    lay = {
        "xaxis": {"domain": [l0, l1], "title": {"text": labels["window"]}, "anchor": "y"},
        "yaxis": {"type": "log", "title": {"text": labels["loss"]}, "anchor": "x"},
        "xaxis2": {"domain": [r0, r1], "title": {"text": labels["window"]}, "anchor": "y2"},
        "yaxis2": {"range": [0.4, 1.02], "tickformat": ".0%", "title": {"text": labels["accuracy"]}, "anchor": "x2"},
        "shapes": [{"type": "line", "xref": "x2 domain", "yref": "y2", "x0": 0, "x1": 1, "y0": y0, "y1": y0,
                    "line": {"color": c, "dash": d}} for y0, c, d in ((0.99, "#999", "dot"), (0.5, "#ccc", "dash"))],
    }  # fmt: skip
    return figure(traces, lay, 320, legend={"orientation": "h", "y": 1.15})


def echo_bars(
    windows: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    labels: dict[str, str],
    rows: int = 5,
) -> go.Figure:
    """The notebook's picture, one column per model: for a few series of the batch, the input
    bits (blue), the target (red) and the prediction (green) of the current window.

    windows: name -> (x, y, pred), each (T, B) of 0/1. The series share one axis per model, each
    lifted to its own band with the bars' `base` (far cheaper to draw than a panel per series).
    """
    names = list(windows)
    T, B = next(iter(windows.values()))[0].shape
    rows = min(rows, B)
    band = 1.4  # height of one series' band
    steps = np.tile(np.arange(T), rows).astype(np.float32)
    lift = np.repeat((rows - 1 - np.arange(rows)) * band, T).astype(np.float32)  # series 0 on top
    traces, lay, notes = [], {}, []
    for c, (name, (x0, x1)) in enumerate(zip(names, _columns(len(names)), strict=True)):
        axis = "" if c == 0 else str(c + 1)
        for part, values, height, width in zip(
            ("input", "target", "prediction"),
            windows[name],
            (1.0, 0.6, 0.3),
            (0.9, 0.5, 0.5),
            strict=True,
        ):
            heights = (values[:, :rows].T.reshape(-1) * height).astype(np.float32)
            traces.append(go.Bar(x=steps, y=heights, base=lift, width=width, xaxis=f"x{axis}", yaxis=f"y{axis}",
                                 marker_color=BIT_COLORS[part], name=labels[part], showlegend=c == 0,
                                 legendgroup=part, hoverinfo="skip"))  # fmt: skip
        lay[f"xaxis{axis}"] = {"domain": [x0, x1], "anchor": f"y{axis}", "dtick": 1}
        lay[f"yaxis{axis}"] = {"anchor": f"x{axis}", "range": [0, rows * band], "tickmode": "array",
                               "tickvals": ((rows - 1 - np.arange(rows)) * band + 0.5).tolist(),
                               "ticktext": [labels["series"].format(k=r) for r in range(rows)], "showgrid": False}  # fmt: skip
        if len(names) > 1:
            notes.append({"text": f"<b>{labels[name]}</b>", "xref": "paper", "yref": "paper", "x": (x0 + x1) / 2,
                          "y": 1.0, "yanchor": "bottom", "showarrow": False})  # fmt: skip
    fig = go.Figure(data=traces, layout={**lay, "annotations": notes})
    return layout(
        fig, 110 + 55 * rows, barmode="overlay", legend={"orientation": "h", "y": 1.12}, bargap=0.05
    )


def window_states(
    states: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, str]], labels: dict[str, str]
) -> go.Figure:
    """The state of the units over the current window, one heatmap per model side by side.

    states: name -> (values (T, H), input bits (T,), targets (T,), which state: "c" or "h").
    """
    traces, lay, notes = [], {}, []
    for c, (name, (x0, x1)) in enumerate(zip(states, _columns(len(states), 0.12), strict=True)):
        values, bits, targets, which = states[name]
        z = np.asarray(values, dtype=np.float32).T  # (H, T)
        m = max(1e-6, float(np.abs(z).max()))
        T = z.shape[1]
        axis = "" if c == 0 else str(c + 1)
        traces.append(go.Heatmap(
            z=z, x=np.arange(T), y=[str(u) for u in range(z.shape[0])], colorscale=DIVERGING, zmid=0, zmin=-m, zmax=m,
            xaxis=f"x{axis}", yaxis=f"y{axis}", hovertemplate=f"{which} · " + labels["hover"] + "<extra></extra>",
            colorbar={"thickness": 8, "x": x1 + 0.005, "len": 0.9, "title": {"text": which}},
        ))  # fmt: skip
        ticks = [f"{int(b)}→{int(t)}" for b, t in zip(bits, targets, strict=True)]
        lay[f"xaxis{axis}"] = {"domain": [x0, x1], "anchor": f"y{axis}", "tickmode": "array", "tickvals": np.arange(T),
                               "ticktext": ticks, "title": {"text": labels["x"]}, "tickfont": {"size": 10}}  # fmt: skip
        lay[f"yaxis{axis}"] = {"anchor": f"x{axis}", "autorange": "reversed", "type": "category",
                               "title": {"text": labels["units"]}}  # fmt: skip
        notes.append({"text": f"<b>{labels[name]}</b>: {which}", "xref": "paper", "yref": "paper", "x": x0, "y": 1.0,
                      "xanchor": "left", "yanchor": "bottom", "showarrow": False})  # fmt: skip
    H = max(v[0].shape[1] for v in states.values())
    return layout(go.Figure(data=traces, layout={**lay, "annotations": notes}), 170 + 18 * H)


def sweep_curves(
    results: dict[str, dict[int, float]], window: int, labels: dict[str, str]
) -> go.Figure:
    """Accuracy reached against echo_step, one curve per cell, with the truncation window marked."""
    fig = go.Figure()
    for name, points in results.items():
        if not points:
            continue
        ks = np.array(sorted(points))
        fig.add_trace(go.Scatter(x=ks, y=np.array([points[k] for k in ks], dtype=np.float32), mode="lines+markers",
                                 name=labels[name], line={"color": CELL_COLORS.get(name, "#444"), "width": 2.5}))  # fmt: skip
    fig.add_vline(x=window + 0.5, line={"color": "#999", "dash": "dash"})
    fig.add_annotation(
        x=window + 0.5, y=1.0, text=labels["window"], showarrow=False, xanchor="left", yanchor="top"
    )
    fig.add_hline(y=0.5, line={"color": "#ccc", "dash": "dash"})
    fig.update_yaxes(range=[0.4, 1.02], tickformat=".0%", title=labels["accuracy"])
    fig.update_xaxes(title=labels["echo_step"], dtick=1)
    return layout(fig, 340, legend={"orientation": "h", "y": 1.12})
