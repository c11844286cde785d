"""Figures of the page "The conveyor belt": heatmaps over time, one unit's traces, coloured text,
the units that track a property, and the belt's flows step by step."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lstm_core.analysis import BeltFlow, Ranking
from ui.figures import DIVERGING, GATE_COLORS, STATE_COLOR, gate_scale, layout, visible

QUANTITIES = ("c", "f", "i", "g", "o", "h")


def _ticks(tokens: list[str], most: int = 60) -> dict:
    """Tick positions and labels for a time axis, thinned to at most `most` labels."""
    stride = max(1, int(np.ceil(len(tokens) / most)))
    positions = np.arange(0, len(tokens), stride)
    return {
        "tickmode": "array",
        "tickvals": positions,
        "ticktext": [visible(tokens[k]) for k in positions],
    }


def plotly_text(token: str) -> str:
    """A character as Plotly text: its pseudo-HTML tags and entities neutralised."""
    return token.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def belt_heatmaps(
    values: dict[str, np.ndarray],
    order: np.ndarray,
    cursor: int,
    tokens: list[str],
    labels: dict[str, str],
) -> go.Figure:
    """c, f, i, c~, o, h as aligned heatmaps: time across, units down (in `order`), one cursor.

    values: name -> (T, H) for the names in QUANTITIES. labels: a title per name, plus "unit",
    "step" and "open" for hovers. The valves travel as whole percents (uint8); c, c~ and h as float32. The layout is written out as one dict (panels stacked by hand) because
    Plotly's make_subplots and add_vrect cost more than everything else here together.
    """
    T, H = values["c"].shape
    panel = int(np.clip(H * 2.2, 70, 170))
    units = [str(u) for u in order]
    x = np.arange(T)
    gap = 0.025
    span = (1 - gap * 5) / 6
    traces, lay, shapes, titles = [], {}, [], []
    for k, q in enumerate(QUANTITIES):
        z = np.ascontiguousarray(np.asarray(values[q], dtype=np.float32)[:, order].T)  # (H, T)
        hover = f"{labels[q]} = %{{z:.3f}}"
        if q in ("f", "i", "o"):  # valves as whole percent open: a quarter of the bytes to send
            z = np.round(z * 100).astype(np.uint8)
            scale, zmin, zmax, zmid = gate_scale(q), 0, 100, None
            hover = f"{labels[q]} = %{{z}}% {labels['open']}"
        else:
            m = 1.0 if q != "c" else max(1e-6, float(np.abs(z).max()))
            scale, zmin, zmax, zmid = DIVERGING, -m, m, 0.0
        top = 1 - k * (span + gap)
        axis = "" if k == 0 else str(k + 1)
        traces.append(go.Heatmap(
            z=z, x=x, y=units, colorscale=scale, zmin=zmin, zmax=zmax, zmid=zmid, xaxis="x", yaxis=f"y{axis}",
            colorbar={"y": top - span / 2, "len": span, "thickness": 10, "x": 1.01},
            hovertemplate=f"{hover}<br>{labels['step']} %{{x}}<br>{labels['unit']} %{{y}}<extra></extra>",
        ))  # fmt: skip
        lay[f"yaxis{axis}"] = {"domain": [max(0.0, top - span), min(1.0, top)], "type": "category", "autorange": "reversed",
                               "showticklabels": H <= 48, "anchor": "x"}  # fmt: skip
        shapes.append({"type": "rect", "xref": "x", "yref": f"y{axis} domain", "x0": cursor - 0.5, "x1": cursor + 0.5,
                       "y0": 0, "y1": 1, "line": {"color": "black", "width": 1.5}})  # fmt: skip
        titles.append({"text": labels[q], "xref": "paper", "yref": "paper", "x": 0.5, "y": top,
                       "yanchor": "bottom", "showarrow": False, "font": {"size": 14, "color": "#666"}})  # fmt: skip
    lay["xaxis"] = {"anchor": f"y{len(QUANTITIES)}", "range": [-0.5, T - 0.5], **_ticks(tokens)}
    fig = go.Figure(data=traces, layout={**lay, "shapes": shapes, "annotations": titles})
    return layout(fig, 6 * panel + 90, margin={"l": 10, "r": 40, "t": 30, "b": 10})


def unit_lines(
    values: dict[str, np.ndarray], tokens: list[str], labels: dict[str, str]
) -> go.Figure:
    """One unit over time: c and h above, the gates (and c~) below. values: name -> (T,)."""
    x = np.arange(len(tokens))
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=[labels["states"], labels["gates"]])  # fmt: skip
    fig.add_trace(go.Scatter(x=x, y=np.asarray(values["c"], np.float32), name=labels["c"],
                             line={"color": STATE_COLOR, "width": 2.5}), row=1, col=1)  # fmt: skip
    fig.add_trace(go.Scatter(x=x, y=np.asarray(values["h"], np.float32), name=labels["h"],
                             line={"color": "#e07a1f", "width": 2}), row=1, col=1)  # fmt: skip
    for q in ("f", "i", "g", "o"):
        fig.add_trace(go.Scatter(x=x, y=np.asarray(values[q], np.float32), name=labels[q],
                                 line={"color": GATE_COLORS[q], "width": 1.5, "dash": "dot" if q == "g" else None}),
                      row=2, col=1)  # fmt: skip
    fig.update_yaxes(range=[-1.05, 1.05], row=2, col=1)
    fig.update_xaxes(**_ticks(tokens), row=2, col=1)
    return layout(
        fig,
        440,
        legend={"orientation": "h", "y": -0.18},
        margin={"l": 10, "r": 10, "t": 30, "b": 40},
    )


def colored_text(
    tokens: list[str], values: np.ndarray, title: str, width: int = 64, scale: float | None = None
) -> go.Figure:
    """The input text, each character on a cell coloured by a unit's value (Karpathy's view).

    Lines break at newlines (shown as ⏎) and after `width` characters. The text is drawn as
    Plotly text with its markup neutralised: user text never becomes HTML.
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
    step = np.full((len(rows), n), -1, dtype=np.int32)
    text = [[""] * n for _ in rows]
    for r, (chars, vals, pos) in enumerate(zip(rows, row_vals, positions, strict=True)):
        z[r, : len(vals)] = vals
        step[r, : len(pos)] = pos
        text[r][: len(chars)] = chars
    m = scale or max(1e-6, float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0)
    fig = go.Figure(go.Heatmap(
        z=z, text=text, texttemplate="%{text}", textfont={"size": 14, "family": "monospace"},
        customdata=step, colorscale=DIVERGING, zmin=-m, zmax=m, zmid=0, xgap=1, ygap=3,
        hovertemplate="%{customdata}: %{z:.3f}<extra></extra>",
        colorbar={"thickness": 8, "len": 1.0, "title": {"text": title, "side": "right"}, "nticks": 3},
    ))  # fmt: skip
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed")
    return layout(fig, max(90, 40 + 26 * len(rows)), margin={"l": 0, "r": 0, "t": 10, "b": 0})


def ranking_bars(ranking: Ranking, top: int, labels: dict[str, str]) -> go.Figure:
    """The `top` units that follow the property best, with their correlation r."""
    units = ranking.order[:top]
    r = ranking.r[units].astype(np.float32)
    fig = go.Figure(go.Bar(
        x=r, y=[f"{labels['unit']} {u}" for u in units], orientation="h",
        marker_color=["#c0392b" if v > 0 else "#2e6fbd" for v in r],
        hovertemplate="r = %{x:.3f}<extra></extra>", text=[f"{v:+.2f}" for v in r], textposition="outside",
    ))  # fmt: skip
    fig.update_xaxes(range=[-1.35, 1.35], title=labels["r"], zeroline=True, zerolinecolor="#999")
    fig.update_yaxes(autorange="reversed")
    return layout(fig, 60 + 26 * len(units))


def property_overlay(
    prop: np.ndarray, unit_values: np.ndarray, tokens: list[str], labels: dict[str, str]
) -> go.Figure:
    """The property and the best unit's value over time, on two y axes."""
    x = np.arange(len(tokens))
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=x, y=np.asarray(prop, np.float32), name=labels["property"], line_shape="hv",
                             line={"color": "#999", "width": 2}, fill="tozeroy", fillcolor="rgba(0,0,0,0.06)"),
                  secondary_y=False)  # fmt: skip
    fig.add_trace(go.Scatter(x=x, y=np.asarray(unit_values, np.float32), name=labels["unit_value"],
                             line={"color": STATE_COLOR, "width": 2}), secondary_y=True)  # fmt: skip
    fig.update_xaxes(**_ticks(tokens))
    return layout(fig, 280, legend={"orientation": "h", "y": 1.15})


def belt_waterfall(
    flows: dict[int, BeltFlow], start: int, stop: int, tokens: list[str], labels: dict[str, str]
) -> go.Figure:
    """What each step removes from and adds to the belt of a few units, as waterfalls.

    For each chosen unit, from c at step `start`: at every step a drop (what the forget gate
    removes, (1 - f)·c_{t-1}) and a rise (what the input gate adds, i·c~), ending on c at the
    last step. Values are signed: removing a negative value raises the belt.
    """
    units = list(flows)
    fig = make_subplots(rows=len(units), cols=1, vertical_spacing=0.12 if len(units) > 1 else 0.0,
                        subplot_titles=[f"{labels['unit']} {u}" for u in units])  # fmt: skip
    for row, u in enumerate(units, start=1):
        fl = flows[u]
        xs, ys, measures, hover = [labels["start"]], [float(fl.c_prev[start])], ["absolute"], [""]
        for t in range(start, stop):
            tok = visible(tokens[t])
            xs += [f"{t} {tok} −", f"{t} {tok} +"]
            ys += [-float(fl.removed[t]), float(fl.added[t])]
            measures += ["relative", "relative"]
            hover += [labels["removed"], labels["added"]]
        xs.append(labels["end"])
        ys.append(0.0)
        measures.append("total")
        hover.append("c")
        fig.add_trace(go.Waterfall(
            x=xs, y=ys, measure=measures, hovertext=hover, showlegend=False,
            decreasing={"marker": {"color": GATE_COLORS["f"]}}, increasing={"marker": {"color": GATE_COLORS["i"]}},
            totals={"marker": {"color": STATE_COLOR}}, connector={"line": {"color": "#bbb", "width": 1}},
            hovertemplate="%{hovertext}: %{y:+.3f}<extra></extra>",
        ), row=row, col=1)  # fmt: skip
        fig.update_xaxes(tickangle=-60, tickfont={"size": 10}, row=row, col=1)
    return layout(fig, 60 + 260 * len(units))
