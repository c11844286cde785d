"""Figures of the page "Backpropagation through time": how far each loss's gradient reaches back
(heatmaps of ||dL_t/dh_k||, the truncation windows drawn over them), how it fades with the
distance t - k, and what clipping does to an exploding gradient."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from ui.figures import CELL_COLORS, CLIP_COLORS, OKABE_ITO, layout, panel_columns
from ui.figures.echo import log_ticks

FLOW_SCALE = [[0.0, "#f7fbff"], [0.35, "#9ecae1"], [0.7, "#3182bd"], [1.0, "#08306b"]]
MAX_SHADES = 14  # at most this many shades of blue: beyond it, one shade spans several decades
LINE_COLORS = {
    "rnn_h": CELL_COLORS["rnn"],
    "lstm_h": CELL_COLORS["lstm"],
    "lstm_c": OKABE_ITO["sky"],
}
CUT_COLOR = "#b8b8b8"  # what truncation cut off: exactly zero, a colour of its own
CLIP_TOP = 40  # the clipping chart shows this many of the largest components
FLOOR = -12.0  # log10 of the smallest norm drawn: below it the gradient has practically vanished


def _log_norms(norms: np.ndarray, cut: np.ndarray) -> np.ndarray:
    """log10 of the norms; NaN above the diagonal and where truncation cut the gradient off."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.clip(np.log10(norms), FLOOR, 300.0)  # an underflow to 0 reads as "vanished"
    return np.where(np.isnan(norms) | cut, np.nan, z).astype(np.float32)


class Shades(NamedTuple):
    """The heatmaps' colour steps: shade j covers log10 norms from low + j·step to low + (j+1)·step."""

    low: int  # the power of ten where the palest shade starts
    step: int  # decades per shade: 1 while the maps span at most MAX_SHADES decades
    count: int  # how many shades

    @property
    def factor(self) -> int:
        """How many times larger a norm is, one shade darker."""
        return 10**self.step


def _cut_region(T: int, window: int, truncated: bool) -> np.ndarray:
    t, k = np.meshgrid(np.arange(T), np.arange(T), indexing="ij")
    return (k <= t) & (k // window != t // window) if truncated else np.zeros((T, T), bool)


def flow_shades(panels: dict[str, np.ndarray], window: int, truncated: bool = False) -> Shades:
    """The decades the maps span, cut into whole-decade shades (the page names the factor)."""
    T = next(iter(panels.values())).shape[0]
    cut = _cut_region(T, window, truncated)
    finite = np.concatenate(
        [z[np.isfinite(z)] for z in (_log_norms(p, cut) for p in panels.values())]
    )
    lo = float(finite.min()) if finite.size else FLOOR
    hi = float(finite.max()) if finite.size else 0.0
    low, high = int(np.floor(lo)), max(int(np.ceil(hi)), int(np.floor(lo)) + 1)
    step = -(-(high - low) // MAX_SHADES)  # ceil: whole decades per shade
    return Shades(low, step, -(-(high - low) // step))


def _stepped_scale(count: int) -> list:
    """FLOW_SCALE cut into `count` flat bands: a norm's shade says which decade it lies in."""
    colours = sample_colorscale(
        FLOW_SCALE, np.linspace(0, 1, count).tolist() if count > 1 else [0.5]
    )
    scale = []
    for j, colour in enumerate(colours):
        scale += [[j / count, colour], [(j + 1) / count, colour]]
    return scale


def _power(n: int) -> str:
    """10 to the n, written with superscripts (10⁻³), as the colour bar's labels."""
    return "10" + str(n).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


def flow_heatmaps(
    panels: dict[str, np.ndarray], window: int, labels: dict[str, str], truncated: bool = False
) -> go.Figure:
    """One heatmap per panel (name -> (T, T) norms, row t, column k), log10 colour on a shared
    scale of flat shades, one per decade (`flow_shades`: several decades a shade only when the
    maps span more than MAX_SHADES), its colour bar labelled with the powers of ten, and over
    each the region truncated BPTT with `window`-step windows never reaches.

    truncated: the norms were computed that way, so that region holds exact zeros: they are
    drawn grey, apart from the colour scale, which spans only the values actually computed.
    Built as one dict and validated once: it redraws on every slider move."""
    names = list(panels)
    T = next(iter(panels.values())).shape[0]
    cut = _cut_region(T, window, truncated)
    zs = {n: _log_norms(panels[n], cut) for n in names}
    shades = flow_shades(panels, window, truncated)
    top = shades.low + shades.step * shades.count
    decades = list(range(shades.low, top + 1, shades.step))
    grey = np.where(cut, np.float32(1.0), np.float32(np.nan)) if cut.any() else None
    steps = np.arange(1, T + 1, dtype=np.float32)
    data, shapes, notes = [], [], []
    lay = {
        "coloraxis": {
            "colorscale": _stepped_scale(shades.count),
            "cmin": shades.low,
            "cmax": top,
            "colorbar": {
                "title": {"text": labels["colorbar"]},
                "thickness": 12,
                "tickmode": "array",
                "tickvals": decades,
                "ticktext": [_power(n) for n in decades],
            },
        }
    }
    for j, ((x0, x1), name) in enumerate(zip(panel_columns(len(names), 0.05), names, strict=True)):
        ax = "" if j == 0 else str(j + 1)
        data.append(
            {
                "type": "heatmap",
                "z": zs[name],
                "x": steps,
                "y": steps,
                "coloraxis": "coloraxis",
                "xaxis": f"x{ax}",
                "yaxis": f"y{ax}",
                "hovertemplate": labels["hover"] + "<extra>" + labels[name] + "</extra>",
            }
        )
        if grey is not None:  # the cut-off region, in a colour outside the scale
            data.append(
                {
                    "type": "heatmap",
                    "z": grey,
                    "x": steps,
                    "y": steps,
                    "showscale": False,
                    "colorscale": [[0.0, CUT_COLOR], [1.0, CUT_COLOR]],
                    "xaxis": f"x{ax}",
                    "yaxis": f"y{ax}",
                    "hovertemplate": labels.get("cut_hover", "0")
                    + "<extra>"
                    + labels[name]
                    + "</extra>",
                }
            )
        lay[f"xaxis{ax}"] = {
            "domain": [x0, x1],
            "title": {"text": labels["k_axis"]},
            "anchor": f"y{ax}",
            "constrain": "domain",
        }
        lay[f"yaxis{ax}"] = {
            "title": {"text": labels["t_axis"] if j == 0 else ""},
            "anchor": f"x{ax}",
            "autorange": "reversed",
            "scaleanchor": f"x{ax}",
        }
        notes.append(
            {
                "text": f"<b>{labels[name]}</b>",
                "x": (x0 + x1) / 2,
                "y": 1.0,
                "xref": "paper",
                "yref": "paper",
                "yanchor": "bottom",
                "showarrow": False,
            }
        )
        for start in range(window, T, window):  # rows of a later window: columns before it are cut
            shapes.append(
                {
                    "type": "rect",
                    "x0": 0.5,
                    "x1": start + 0.5,
                    "y0": start + 0.5,
                    "y1": min(start + window, T) + 0.5,
                    "xref": f"x{ax}",
                    "yref": f"y{ax}",
                    "line": {"width": 1, "color": "#c0392b", "dash": "dot"},
                    "fillcolor": "rgba(0,0,0,0)" if truncated else "rgba(192,57,43,0.10)",
                }
            )
    fig = go.Figure({"data": data, "layout": {**lay, "shapes": shapes, "annotations": notes}})
    return layout(fig, 360, margin={"l": 10, "r": 10, "t": 40, "b": 10})


def decay_lines(
    decays: dict[str, np.ndarray], window: int, echo_step: int | None, labels: dict[str, str]
) -> go.Figure:
    """How the gradient fades with the distance d = t - k: one line per panel, log scale, with
    the truncation window (and the echo's distance) marked."""
    fig = go.Figure()
    for name, y in decays.items():
        ok = np.isfinite(y) & (y > 0)
        d = np.arange(len(y), dtype=np.float32)
        fig.add_trace(
            go.Scatter(
                x=d[ok],
                y=y[ok].astype(np.float64),
                mode="lines",
                name=labels[name],
                line={"color": LINE_COLORS.get(name, "#444"), "width": 2.5},
            )
        )
    fig.add_vline(
        x=window,
        line={"dash": "dot", "color": "#c0392b"},
        annotation_text=labels["window"],
        annotation_position="top left",
    )
    if echo_step:
        fig.add_vline(
            x=echo_step,
            line={"dash": "dash", "color": "#2e6fbd"},
            annotation_text=labels["echo"],
            annotation_position="bottom right",
        )
    shown = [y[np.isfinite(y) & (y > 0)] for y in decays.values()]
    fig.update_xaxes(title=labels["d_axis"], rangemode="tozero")
    fig.update_yaxes(
        type="log", title=labels["ratio_axis"], **log_ticks(np.concatenate([*shown, [1.0]]))
    )
    return layout(fig, 320, legend={"orientation": "h", "y": 1.15})


def clipping(
    raw: np.ndarray,
    by_norm: np.ndarray,
    by_value: np.ndarray,
    labels: dict[str, str],
    top: int = CLIP_TOP,
) -> go.Figure:
    """The largest components of one gradient (by size), as they are and after each clipping,
    on a log scale: clipping by norm scales them all alike (the direction is kept), clipping by
    value flattens the large ones to the limit (the direction turns)."""
    order = np.argsort(-np.abs(np.nan_to_num(raw, nan=0.0, posinf=1e300, neginf=1e300)))[:top]
    rank = np.arange(1, len(order) + 1, dtype=np.float32)
    fig = go.Figure()
    shown = []
    for key, values, color in (
        ("raw", raw, CLIP_COLORS["raw"]),
        ("by_norm", by_norm, CLIP_COLORS["by_norm"]),
        ("by_value", by_value, CLIP_COLORS["by_value"]),
    ):
        sizes = np.maximum(np.abs(values[order]), 1e-30)
        shown.append(sizes[np.isfinite(sizes) & (sizes > 1e-30)])
        fig.add_trace(go.Bar(x=rank, y=sizes, name=labels[key], marker_color=color))
    fig.update_xaxes(title=labels["rank_axis"])
    # ticks that read as numbers (0.5, not Plotly's bare "5" for a short log range)
    fig.update_yaxes(type="log", title=labels["size_axis"], **log_ticks(np.concatenate(shown)))
    return layout(fig, 300, barmode="group", legend={"orientation": "h", "y": 1.15})
