"""Figures of the page "Echo task": loss and accuracy while training, the notebook's bars, the
state of the current window, and the memory-span sweep."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ui.figures import (
    BIT_COLORS,
    CELL_COLORS,
    DIVERGING,
    figure,
    layout,
    num,
    panel_columns,
    percent_axis,
)


def colorbar_under(x0: float, x1: float, **extra) -> dict:
    """A thin horizontal colour bar under the panel spanning x0..x1 of the paper (beside a panel
    it would run into the next panel's axis at narrow widths)."""
    return {
        "thickness": 8,
        "orientation": "h",
        "x": (x0 + x1) / 2,
        "xanchor": "center",
        "len": 0.6 * (x1 - x0),
        "y": 0.0,
        "yref": "container",
        "yanchor": "bottom",
        "tickfont": {"size": 10},
        **extra,
    }


def panel_title(text: str, x0: float) -> dict:
    """A panel's title, over its left edge at x0 of the paper."""
    return {
        "text": text,
        "xref": "paper",
        "yref": "paper",
        "x": x0,
        "y": 1.0,
        "xanchor": "left",
        "yanchor": "bottom",
        "showarrow": False,
    }


def log_ticks(values: np.ndarray) -> dict:
    """Ticks for a log axis that stay legible: powers of ten once the data spans decades, else
    1-2-5 steps written out (0.5, 0.2, 0.1; Plotly's own short range labels read "5, 2, 0.1")."""
    finite = values[np.isfinite(values) & (values > 0)]
    if len(finite) == 0:
        return {}
    lo, hi = np.log10(finite.min()), np.log10(finite.max())
    if hi - lo >= 1.5:  # decades apart: a label per decade
        return {
            "dtick": 1,
            "exponentformat": "power",
            "minor": {"ticks": "inside", "ticklen": 3, "showgrid": False},
        }
    decades = 10.0 ** np.arange(np.floor(lo) - 1, np.ceil(hi) + 1)
    ticks = {
        "tickmode": "array",
        "tickvals": np.outer(decades, [1, 2, 5]).ravel().tolist(),
        "tickformat": "~g",
    }
    if hi - lo < 0.6:  # a point or two, or a flat start: show at least a factor of 4 around them
        middle = (lo + hi) / 2
        ticks["range"] = [min(lo, middle - 0.3), max(hi, middle + 0.3)]
    return ticks


def training_curves(
    losses: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    accuracies: dict[str, tuple[np.ndarray, np.ndarray]],
    labels: dict[str, str],
    stops: dict[str, int] | None = None,
) -> go.Figure:
    """Loss per window (left: raw values faint, a smoothed line bold, log scale) and accuracy on
    fresh data (right, with the 99% line), one colour per model.

    losses: name -> (window, loss, smoothed loss); accuracies: name -> (window, accuracy).
    stops: name -> the step at which training diverged, marked on both panels with a red dashed
    line and labels["stopped"] (while there are few points each gets a marker, so that a run
    stopped after a step or two still shows them).
    """
    stops = stops or {}
    (l0, l1), (r0, r1) = panel_columns(2, 0.1)
    traces, shown = [], []
    for name, (x, y, smooth) in losses.items():
        color = CELL_COLORS.get(name, "#444")
        few = len(x) <= 40  # a line needs two points: show each one while there are few
        y = np.maximum(y, 1e-6).astype(np.float32)
        shown.append(y)
        traces.append(
            go.Scatter(
                x=x.astype(np.float32),
                y=y,
                mode="lines+markers" if few else "lines",
                line={"color": color, "width": 1},
                marker={"size": 7},
                opacity=1.0 if few else 0.3,
                showlegend=False,
                hoverinfo="skip",
            )
        )
        traces.append(
            go.Scatter(
                x=x.astype(np.float32),
                y=np.maximum(smooth, 1e-6).astype(np.float32),
                mode="lines",
                name=labels[name],
                legendgroup=name,
                line={"color": color, "width": 2.5},
            )
        )
    for name, (x, y) in accuracies.items():
        traces.append(
            go.Scatter(
                x=x.astype(np.float32),
                y=y.astype(np.float32),
                customdata=[num(float(v), ".1%", labels) for v in y],  # "95,0 %" in Spanish
                hovertemplate=f"{labels['window']} %{{x}}: %{{customdata}}<extra>{labels[name]}</extra>",
                mode="lines+markers",
                xaxis="x2",
                yaxis="y2",
                name=labels[name],
                legendgroup=name,
                showlegend=name not in losses,
                line={"color": CELL_COLORS.get(name, "#444"), "width": 2},
                marker={"size": 5},
            )
        )
    shapes = [
        {
            "type": "line",
            "xref": "x2 domain",
            "yref": "y2",
            "x0": 0,
            "x1": 1,
            "y0": y0,
            "y1": y0,
            "line": {"color": c, "dash": d},
        }
        for y0, c, d in ((0.99, "#999", "dot"), (0.5, "#ccc", "dash"))
    ]
    notes = []
    for step in stops.values():
        for xref in ("x", "x2"):
            shapes.append(
                {
                    "type": "line",
                    "xref": xref,
                    "yref": f"{'y' if xref == 'x' else 'y2'} domain",
                    "x0": step,
                    "x1": step,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": "#c0392b", "dash": "dash", "width": 2},
                }
            )
    if stops:  # in the legend's row, on the right: inside a narrow panel it would not fit
        notes.append(
            {
                "text": "✕ " + labels["stopped"],
                "xref": "paper",
                "yref": "paper",
                "x": 1,
                "y": 1.03,
                "xanchor": "right",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"color": "#c0392b"},
            }
        )
    lay = {
        "xaxis": {"domain": [l0, l1], "title": {"text": labels["window"]}, "anchor": "y"},
        "yaxis": {
            "type": "log",
            "title": {"text": labels["loss"]},
            "anchor": "x",
            **log_ticks(np.concatenate(shown) if shown else np.empty(0)),
        },
        "xaxis2": {"domain": [r0, r1], "title": {"text": labels["window"]}, "anchor": "y2"},
        # the accuracy axis on the right edge: between the panels its title would cross the loss
        "yaxis2": {
            **percent_axis(1.02, labels, most=8, low=0.4),
            "title": {"text": labels["accuracy"]},
            "anchor": "x2",
            "side": "right",
        },
        "shapes": shapes,
        "annotations": notes,
    }
    if stops:  # a run stopped after a step or two: room on both panels for the stop line
        last = max(stops.values())
        for axis in ("xaxis", "xaxis2"):
            lay[axis]["range"] = [0, last * 1.15 + 1]
    return figure(
        traces,
        lay,
        320,
        legend={"orientation": "h", "x": 0, "y": 1.03, "yanchor": "bottom"},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )


def _titles_and_legend(
    names: list[str], columns: list[tuple[float, float]], labels: dict[str, str]
) -> tuple[list, dict]:
    """Column titles just above each panel and the legend in a row of its own above them (in
    the figure's top margin, so that neither sits on the other at any width)."""
    notes = []
    if len(names) > 1:
        notes = [
            {
                "text": f"<b>{labels[n]}</b>",
                "xref": "paper",
                "yref": "paper",
                "x": (x0 + x1) / 2,
                "y": 1.0,
                "yanchor": "bottom",
                "showarrow": False,
            }
            for n, (x0, x1) in zip(names, columns, strict=True)
        ]
    legend = {
        "orientation": "h",
        "x": 0,
        "xanchor": "left",
        "y": 1,
        "yanchor": "top",
        "yref": "container",
    }
    return notes, legend


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
    columns = panel_columns(len(names))
    traces, lay = [], {}
    for c, (name, (x0, x1)) in enumerate(zip(names, columns, strict=True)):
        axis = "" if c == 0 else str(c + 1)
        for part, values, height, width in zip(
            ("input", "target", "prediction"),
            windows[name],
            (1.0, 0.6, 0.3),
            (0.9, 0.5, 0.5),
            strict=True,
        ):
            heights = (values[:, :rows].T.reshape(-1) * height).astype(np.float32)
            traces.append(
                go.Bar(
                    x=steps,
                    y=heights,
                    base=lift,
                    width=width,
                    xaxis=f"x{axis}",
                    yaxis=f"y{axis}",
                    marker_color=BIT_COLORS[part],
                    name=labels[part],
                    showlegend=c == 0,
                    legendgroup=part,
                    hoverinfo="skip",
                )
            )
        lay[f"xaxis{axis}"] = {
            "domain": [x0, x1],
            "anchor": f"y{axis}",
            "dtick": 1 if T <= 20 else None,
            "range": [-0.6, T - 0.4],
        }
        # the same series on every panel: named once, at the left (beside a panel they ran into the next)
        lay[f"yaxis{axis}"] = {
            "anchor": f"x{axis}",
            "range": [0, rows * band],
            "tickmode": "array",
            "tickvals": ((rows - 1 - np.arange(rows)) * band + 0.5).tolist(),
            "ticktext": [labels["series"].format(k=r) for r in range(rows)],
            "showgrid": False,
            "showticklabels": c == 0,
        }
    notes, legend = _titles_and_legend(names, columns, labels)
    fig = go.Figure(data=traces, layout={**lay, "annotations": notes})
    return layout(
        fig,
        140 + 55 * rows,
        barmode="overlay",
        legend=legend,
        bargap=0.05,
        margin={"l": 10, "r": 10, "t": 60 if notes else 40, "b": 10},
    )


def window_states(
    states: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, str]], labels: dict[str, str]
) -> go.Figure:
    """The state of the units over the current window, one heatmap per model side by side.

    states: name -> (values (T + 1, H): the state carried in, then after each step; input bits
    (T,); targets (T,); which state: "c" or "h"). The first column, marked c₀ (or h₀), is what
    the window started from: the bits the state already held when the window began.
    Colour bars lie under their heatmaps (beside them they would run into the next panel's
    axis at narrow widths).
    """
    traces, lay, notes = [], {}, []
    names = list(states)
    columns = panel_columns(len(names), 0.1)
    for c, (name, (x0, x1)) in enumerate(zip(names, columns, strict=True)):
        values, bits, targets, which = states[name]
        z = np.asarray(values, dtype=np.float32).T  # (H, T + 1)
        m = max(1e-6, float(np.abs(z).max()))
        T = z.shape[1] - 1
        axis = "" if c == 0 else str(c + 1)
        start = f"{which}₀"
        columns_x = [start] + [
            labels["step"].format(k=k) for k in range(T)
        ]  # categories, shown on hover
        traces.append(
            go.Heatmap(
                z=z,
                x=columns_x,
                y=[str(u) for u in range(z.shape[0])],
                colorscale=DIVERGING,
                zmid=0,
                zmin=-m,
                zmax=m,
                xaxis=f"x{axis}",
                yaxis=f"y{axis}",
                hovertemplate=f"{which} · " + labels["hover"] + "<extra></extra>",
                colorbar=colorbar_under(x0, x1),  # untitled: the panel's title names the state
            )
        )
        # two-line ticks, input bit over target: side by side ("1→0") they ran together
        ticks = [start] + [f"{int(b)}<br>{int(t)}" for b, t in zip(bits, targets, strict=True)]
        lay[f"xaxis{axis}"] = {
            "domain": [x0, x1],
            "anchor": f"y{axis}",
            "type": "category",
            "tickmode": "array",
            "tickvals": columns_x,
            "ticktext": ticks,
            "tickangle": 0,
            "title": {"text": labels["x"], "standoff": 10},
            "tickfont": {"size": 11},
        }
        lay[f"yaxis{axis}"] = {
            "anchor": f"x{axis}",
            "autorange": "reversed",
            "type": "category",
            "title": {"text": labels["units"] if c == 0 else "", "standoff": 2},
        }
        notes.append(panel_title(f"<b>{labels[name]}</b>: {which}", x0))
    H = max(v[0].shape[1] for v in states.values())
    return layout(
        go.Figure(data=traces, layout={**lay, "annotations": notes}),
        250 + min(18 * H, 450),  # 64 units (the RNN vs LSTM preset) stay on one screen
        margin={"l": 10, "r": 10, "t": 30, "b": 100},
    )


def sweep_curves(
    results: dict[str, dict[int, float]],
    window: int,
    labels: dict[str, str],
    details: dict[str, dict[int, tuple[int, str]]] | None = None,
    echo_steps: tuple[int, int] = (1, 20),
) -> go.Figure:
    """Accuracy reached against echo_step, one curve per cell; the echo_steps that truncation
    makes unlearnable (echo_step >= window) shaded and labelled.

    details: cell -> echo_step -> (windows trained, why it stopped), shown on hover with
    labels[f"why_{reason}"] and labels["point"] (a format string with {windows} and {why}).
    """
    details = details or {}
    fig = go.Figure()
    lo, hi = echo_steps
    if window <= hi:
        fig.add_vrect(
            x0=max(window, lo) - 0.5, x1=hi + 0.5, fillcolor="#999", opacity=0.15, line_width=0
        )
        fig.add_annotation(
            x=max(window, lo) - 0.5,
            y=1.02,
            text=labels["window"],
            showarrow=False,
            xanchor="left",
            yanchor="top",
            align="left",
        )
    for name, points in results.items():
        if not points:
            continue
        ks = np.array(sorted(points))
        why = [
            labels["point"].format(
                windows=details.get(name, {}).get(k, (0, ""))[0],
                why=labels.get(f"why_{details.get(name, {}).get(k, (0, ''))[1]}", ""),
            )
            for k in ks
        ]
        fig.add_trace(
            go.Scatter(
                x=ks,
                y=np.array([points[k] for k in ks], dtype=np.float32),
                mode="lines+markers",
                name=labels[name],
                line={"color": CELL_COLORS.get(name, "#444"), "width": 2.5},
                text=why,
                customdata=[num(float(points[k]), ".1%", labels) for k in ks],
                hovertemplate="echo_step %{x}: %{customdata}<br>%{text}<extra>"
                + labels[name]
                + "</extra>",
            )
        )
    fig.add_hline(y=0.5, line={"color": "#ccc", "dash": "dash"})
    fig.update_yaxes(title=labels["accuracy"], **percent_axis(1.04, labels, most=8, low=0.4))
    fig.update_xaxes(title=labels["echo_step"], dtick=1, range=[lo - 0.5, hi + 0.5])
    return layout(
        fig,
        360,
        legend={"orientation": "h", "x": 0, "y": 1, "yanchor": "top", "yref": "container"},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )


def bit_travel(traces: dict, echo_step: int, labels: dict[str, str], margin: int = 3) -> go.Figure:
    """One flipped input bit, followed (lstm_core.echo.bit_trace), one column per model: on top
    how the answer p(1) changes, below how each unit's state changes, step by step from a few
    steps before the flip; step 0 is the flipped bit, echo_step where the answer must carry it
    (both marked with dashed lines, "in" and "out").

    traces: name -> BitTrace. labels: the models' names, "answer", "units", "steps", "in",
    "out", "hover" (a hover template for the heatmap).
    """
    names = list(traces)
    columns = panel_columns(len(names), 0.1)
    data, lay, shapes, notes = [], {}, [], []
    for c, (name, (x0, x1)) in enumerate(zip(names, columns, strict=True)):
        tr = traces[name]
        start = max(0, tr.flipped - margin)
        steps = np.arange(start, len(tr.bits)) - tr.flipped  # 0: the flipped bit
        z = np.asarray(tr.change[start:], np.float32).T  # (H, steps)
        m = max(1e-6, float(np.abs(z).max()))
        top, low = f"{2 * c + 1}", f"{2 * c + 2}"
        top_ax = "" if top == "1" else top
        data.append(
            go.Scatter(
                x=steps.astype(np.float32),
                y=np.asarray(tr.answer_change[start:], np.float32),
                mode="lines+markers",
                line={"color": CELL_COLORS.get(name, "#444"), "width": 2},
                marker={"size": 4},
                xaxis=f"x{top_ax}",
                yaxis=f"y{top_ax}",
                showlegend=False,
                hovertemplate="%{x}: %{y:+.2f}<extra></extra>",
            )
        )
        data.append(
            go.Heatmap(
                z=z,
                x=steps.astype(np.float32),
                y=np.arange(z.shape[0], dtype=np.float32),
                colorscale=DIVERGING,
                zmid=0,
                zmin=-m,
                zmax=m,
                xaxis=f"x{low}",
                yaxis=f"y{low}",
                showscale=False,
                hovertemplate=labels["hover"] + "<extra></extra>",
            )
        )
        lay[f"xaxis{top_ax}"] = {
            "domain": [x0, x1],
            "anchor": f"y{top_ax}",
            "matches": f"x{low}",
            "showticklabels": False,
        }
        lay[f"yaxis{top_ax}"] = {
            "domain": [0.72, 1.0],
            "anchor": f"x{top_ax}",
            "range": [-1.1, 1.1],
            "tickvals": [-1, 0, 1],
            "title": {"text": labels["answer"] if c == 0 else ""},
        }
        lay[f"xaxis{low}"] = {
            "domain": [x0, x1],
            "anchor": f"y{low}",
            "title": {"text": labels["steps"]},
        }
        lay[f"yaxis{low}"] = {
            "domain": [0.0, 0.64],
            "anchor": f"x{low}",
            "autorange": "reversed",
            "title": {"text": labels["units"].format(state=tr.which)},  # c or h: each its own
        }
        for step, key, color in ((0, "in", "#2e6fbd"), (echo_step, "out", "#d1495b")):
            for axis in (top_ax, low):
                shapes.append(
                    {
                        "type": "line",
                        "xref": f"x{axis}",
                        "yref": f"y{axis} domain",
                        "x0": step,
                        "x1": step,
                        "y0": 0,
                        "y1": 1,
                        "line": {"color": color, "dash": "dash", "width": 1.5},
                    }
                )
            notes.append(
                {
                    "text": labels[key],
                    "xref": f"x{low}",
                    "yref": "paper",
                    "x": step,
                    "y": 0.66,
                    "yanchor": "bottom",
                    "showarrow": False,
                    "font": {"color": color, "size": 11},
                }
            )
        if len(names) > 1:
            notes.append(
                {
                    "text": f"<b>{labels[name]}</b>",
                    "xref": "paper",
                    "yref": "paper",
                    "x": (x0 + x1) / 2,
                    "y": 1.02,
                    "yanchor": "bottom",
                    "showarrow": False,
                }
            )
    H = max(tr.change.shape[1] for tr in traces.values())
    fig = go.Figure(data=data, layout={**lay, "shapes": shapes, "annotations": notes})
    return layout(fig, 260 + min(6 * H, 300), margin={"l": 10, "r": 10, "t": 30, "b": 10})
