"""The GRU step drawn for the page "Inside one step", beside the LSTM's (ui/figures/cell.py, whose
`step_diagram` hands a GRU's step to this one).

There is no belt: h itself carries the memory along the top, and the update gate z is the valve
on it, h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}: z of the old state kept, 1 − z of the candidate let in.
"""

from __future__ import annotations

import plotly.graph_objects as go

from lstm_core.gru import GRUUnitStep
from ui.figures import (
    STATE_COLOR,
    diverging_color,
    gate_color,
    gate_fill,
    num,
    plotly_text,
    visible,
)
from ui.figures.diagram import Drawing


def gru_diagram(
    v: GRUUnitStep, labels: dict[str, str], h_prev: float | None = None, token: str | None = None
) -> go.Figure:
    """The GRU cell coloured by one unit's values at one step, drawn as the LSTM's is.

    Along the top h_{t-1} becomes h_t: a product with z (what the valve keeps), then a sum with
    (1 − z) ⊙ n (what it lets in). Below, the three layers (σ z, σ r, tanh n) read
    [h_{t-1}, x_t] from the line at the bottom; r scales the candidate's recurrent part
    W_hn h_{t-1} + b_hn before tanh. Boxes are as opaque as their gate is open; the lines carrying
    values are coloured by them. labels: "input", "memory", "update", "reset", "candidate",
    "recurrent" (already translated). h_prev: the unit's h_{t-1} (it is v.h_prev: the argument
    is the LSTM drawing's); token: this step's input, a character or a bit.
    """
    d = Drawing()
    seg = d.line
    top, gate_y, in_y, mid_y = 6.0, 3.2, 1.0, 4.7
    x_z, x_r, x_mul_r, x_n = 2.6, 5.6, 7.3, 9.0
    x_keep, x_add, x_left = x_z, x_n, 0.5
    scale = max(1.0, abs(v.h_prev), abs(v.h), abs(v.kept))

    def width(x):
        return 4 + 10 * min(1.0, abs(x) / scale)

    # the memory along the top: h_{t-1} -> x(z) -> +((1 - z) n) -> h_t, over a grey track
    seg(0.2, top, 11.8, top, "#dddddd", 16)
    seg(0.2, top, x_keep, top, diverging_color(v.h_prev, scale), width(v.h_prev))
    seg(x_keep, top, x_add, top, diverging_color(v.kept, scale), width(v.kept))
    seg(x_add, top, 11.8, top, diverging_color(v.h, scale), width(v.h))
    # h_{t-1} also goes down to the line the layers read, where x_t joins it
    seg(x_left, top, x_left, in_y, STATE_COLOR, 2)
    seg(x_left, in_y, x_n, in_y, STATE_COLOR, 3)
    for x in (x_z, x_r, x_n):
        seg(x, in_y, x, gate_y - 0.45, STATE_COLOR, 2)
    seg(x_mul_r, in_y, x_mul_r, gate_y - 0.3, STATE_COLOR, 2)  # W_hn h_{t-1} + b_hn
    # z up to the product on the memory, as thick as the valve is open; 1 - z on to the candidate
    seg(x_z, gate_y + 0.45, x_keep, top - 0.3, gate_color("z"), 1 + 7 * v.z)
    seg(x_z, mid_y, 4.0 - 0.4, mid_y, gate_color("z"), 1 + 7 * v.z)
    seg(4.0 + 0.4, mid_y, x_add - 0.3, mid_y, gate_color("z"), 1 + 7 * (1 - v.z))
    # r scales the recurrent part, which joins the candidate's layer
    seg(x_r + 0.6, gate_y, x_mul_r - 0.3, gate_y, gate_color("r"), 1 + 7 * v.r)
    seg(
        x_mul_r + 0.3,
        gate_y,
        x_n - 0.6,
        gate_y,
        diverging_color(v.reset),
        2 + 4 * min(1, abs(v.reset)),
    )
    # the candidate up to its product with 1 - z, and that product up to the sum
    seg(x_n, gate_y + 0.45, x_n, mid_y - 0.3, gate_color("n"), 1 + 4 * abs(v.n))
    seg(
        x_n,
        mid_y + 0.3,
        x_add,
        top - 0.3,
        diverging_color(v.added, scale),
        2 + 6 * min(1, abs(v.added)),
    )

    for gate, x, value, fn in (("z", x_z, v.z, "σ"), ("r", x_r, v.r, "σ"), ("n", x_n, v.n, "tanh")):
        fill = gate_fill(gate, value) if gate != "n" else diverging_color(value)
        d.layer(
            x,
            gate_y,
            fill,
            gate_color(gate),
            f"<b>{fn}</b><br>{gate} = {num(value, '.2f', labels)}",
        )
    d.box(4.0, mid_y, 0.4, 0.3, "1 −", 12)  # 1 - z: a small box on z's way to the candidate
    d.ops(((x_keep, top, "×"), (x_add, top, "+"), (x_add, mid_y, "×"), (x_mul_r, gate_y, "×")))

    d.notes += [
        (0.9, top + 0.55, f"h<sub>t-1</sub> = {num(v.h_prev, '.2f', labels)}", 13),
        ((x_keep + x_add) / 2, top + 0.55, f"z·h<sub>t-1</sub> = {num(v.kept, '.2f', labels)}", 12),
        (11.0, top + 0.55, f"<b>h<sub>t</sub> = {num(v.h, '.2f', labels)}</b>", 13),
        (6.3, mid_y + 0.3, f"1 − z = {num(1 - v.z, '.2f', labels)}", 12),
        (x_add + 0.42, mid_y, f"(1 − z)·n = {num(v.added, '.2f', labels)}", 12, "#222", "left"),
        (x_mul_r, gate_y + 0.62, f"r·(…) = {num(v.reset, '.2f', labels)}", 11),
        (3.6, in_y - 0.45, labels["input"], 12),
        (6.0, top + 1.05, labels["memory"], 12),
        (x_z + 0.12, gate_y - 0.95, labels["update"], 11, "#222", "left"),
        (x_r + 0.12, gate_y - 0.95, labels["reset"], 11, "#222", "left"),
        (x_mul_r + 0.12, gate_y - 1.55, labels["recurrent"], 11, "#222", "left"),
        (x_n + 0.12, gate_y - 0.95, labels["candidate"], 11, "#222", "left"),
    ]
    # what comes in: h_{t-1} from the previous step (top left), x_t from below
    x_in = 1.4
    x_text = "x<sub>t</sub>" + ("" if token is None else f" = “{plotly_text(visible(token))}”")
    d.notes.append((x_in - 0.15, 0.3, x_text, 12, "#222", "right"))
    return d.figure((((0.9, top), (0.0, top)), ((x_in, in_y - 0.05), (x_in, 0.05))))
