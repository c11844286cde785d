"""What the cell drawings are made of (the LSTM's in cell.py, the GRU's in gru.py).

Both are Colah-style diagrams on the same 12 × 7.4 canvas: lines as thick as the value they
carry, a box per layer as opaque as its gate is open, white circles for the pointwise operations,
small white boxes for the operations written out (tanh, 1 −), notes with the live numbers, and
the two arrows that bring h_{t-1} and x_t in. A `Drawing` collects them and makes the figure.
"""

from __future__ import annotations

import plotly.graph_objects as go

from ui.figures import STATE_COLOR, ink, layout

WIDTH, HEIGHT = 12, 7.4  # the canvas, in the drawings' own units (one unit is as tall as wide)


class Drawing:
    """Shapes and notes of one diagram, in the order they are drawn.

    A note is (x, y, text, size) with an optional colour and anchor after: (…, "#222", "left").
    """

    def __init__(self) -> None:
        self.shapes: list[dict] = []
        self.notes: list[tuple] = []

    def line(self, x0: float, y0: float, x1: float, y1: float, color: str, width: float) -> None:
        """A line under everything else: the belt, a tap, a valve's output."""
        self.shapes.append(
            {
                "type": "line",
                "x0": x0,
                "y0": y0,
                "x1": x1,
                "y1": y1,
                "line": {"color": color, "width": width},
                "layer": "below",
            }
        )

    def layer(self, x: float, y: float, fill: str, edge: str, text: str) -> None:
        """A layer's box (σ or tanh) centred at (x, y), filled as open as its gate, with its
        text written in an ink that reads on that fill."""
        self.shapes.append(
            {
                "type": "rect",
                "x0": x - 0.6,
                "x1": x + 0.6,
                "y0": y - 0.45,
                "y1": y + 0.45,
                "fillcolor": fill,
                "line": {"color": edge, "width": 2},
                "layer": "below",
            }
        )
        self.notes.append((x, y, text, 12, ink(fill)))

    def box(self, x: float, y: float, half_width: float, half_height: float, text: str, size: int):
        """A small white box with an operation written in it (tanh, 1 −)."""
        self.shapes.append(
            {
                "type": "rect",
                "x0": x - half_width,
                "x1": x + half_width,
                "y0": y - half_height,
                "y1": y + half_height,
                "fillcolor": "white",
                "line": {"color": STATE_COLOR, "width": 1.5},
            }
        )
        self.notes.append((x, y, text, size))

    def ops(self, ops) -> None:
        """The pointwise operations: a white circle with its symbol (× or +) at each
        (x, y, symbol) of `ops`."""
        for x, y, sym in ops:
            self.shapes.append(
                {
                    "type": "circle",
                    "x0": x - 0.3,
                    "x1": x + 0.3,
                    "y0": y - 0.3,
                    "y1": y + 0.3,
                    "fillcolor": "white",
                    "line": {"color": STATE_COLOR, "width": 2},
                }
            )
            self.notes.append((x, y, f"<b>{sym}</b>", 16))

    def figure(self, arrows) -> go.Figure:
        """The finished figure: `arrows` ((head, tail) points: what comes in), then the notes,
        over the shapes, on a canvas that neither zooms nor shows its axes."""
        fig = go.Figure()
        for head, tail in arrows:
            fig.add_annotation(
                x=head[0],
                y=head[1],
                ax=tail[0],
                ay=tail[1],
                xref="x",
                yref="y",
                axref="x",
                ayref="y",
                text="",
                showarrow=True,
                arrowhead=2,
                arrowsize=1.2,
                arrowwidth=2.5,
                arrowcolor=STATE_COLOR,
            )
        for x, y, text, size, *style in self.notes:
            fig.add_annotation(
                x=x,
                y=y,
                text=text,
                showarrow=False,
                xanchor=style[1] if len(style) > 1 else "center",
                font={"size": size, "color": style[0] if style else "#222"},
            )
        fig.update_layout(shapes=self.shapes)
        fig.update_xaxes(range=[0, WIDTH], visible=False, fixedrange=True)
        fig.update_yaxes(
            range=[0, HEIGHT], visible=False, fixedrange=True, scaleanchor="x", scaleratio=1
        )
        return layout(fig, 430, margin={"l": 0, "r": 0, "t": 0, "b": 0})
