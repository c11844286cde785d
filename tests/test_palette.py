"""The figures' colours survive colour blindness: every pair of series that share a plot stays
apart under a simulated deuteranopia (and protanopia), measured as a CIELAB colour difference.

Simulation: Machado, Oliveira & Fernandes (2009), "A physiologically-based model for simulation
of color vision deficiency", severity 1.0 matrices, applied to linear sRGB; then CIE 1976 ΔE*ab
(D65). With this measure the old palette gives what issue 15 reported (forget red and output
green ΔE ≈ 7, input and candidate ≈ 12), which the first test checks.
"""

import itertools

import numpy as np
import plotly.graph_objects as go
import pytest

from ui import figures
from ui.figures import bptt, echo

# a categorical pair at least this far apart under the simulation counts as distinguishable:
# ΔE*ab 20 is a clearly visible difference between two lines or bars side by side, about three
# times the 7 the forget and output gates had
THRESHOLD = 20.0

MACHADO = {
    "deuteranopia": np.array(
        [
            [0.367322, 0.860646, -0.227968],
            [0.280085, 0.672501, 0.047413],
            [-0.011820, 0.042940, 0.968881],
        ]
    ),
    "protanopia": np.array(
        [
            [0.152286, 1.052583, -0.204868],
            [0.114503, 0.786281, 0.099216],
            [-0.003882, -0.048116, 1.051998],
        ]
    ),
}
SRGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
WHITE = np.array([0.95047, 1.0, 1.08883])  # D65


def linear(hex_color: str) -> np.ndarray:
    c = np.array([int(hex_color[k : k + 2], 16) for k in (1, 3, 5)]) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def lab(rgb_linear: np.ndarray) -> np.ndarray:
    xyz = SRGB_TO_XYZ @ rgb_linear / WHITE
    d = 6 / 29
    f = np.where(xyz > d**3, np.cbrt(xyz), xyz / (3 * d**2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def seen(hex_color: str, deficiency: str | None) -> np.ndarray:
    """The colour's CIELAB coordinates as a reader with `deficiency` (None: normal vision) sees it."""
    rgb = linear(hex_color)
    if deficiency:
        rgb = np.clip(MACHADO[deficiency] @ rgb, 0.0, 1.0)
    return lab(rgb)


def delta_e(a: str, b: str, deficiency: str | None) -> float:
    return float(np.linalg.norm(seen(a, deficiency) - seen(b, deficiency)))


def closest(colors: dict[str, str], deficiency: str) -> tuple[float, str]:
    return min(
        (delta_e(colors[a], colors[b], deficiency), f"{a}-{b}")
        for a, b in itertools.combinations(colors, 2)
    )


def test_the_simulation_reproduces_the_reported_problem():
    old = {"f": "#d1495b", "i": "#2e86ab", "g": "#8f5fbf", "o": "#2a9d62"}  # before issue 15
    assert delta_e(old["f"], old["o"], "deuteranopia") == pytest.approx(7, abs=0.5)
    assert delta_e(old["i"], old["g"], "deuteranopia") == pytest.approx(12, abs=0.5)
    # the matrices keep greys grey: white stays white, black black
    for grey in ("#ffffff", "#000000", "#777777"):
        assert delta_e(grey, grey, None) == 0
        np.testing.assert_allclose(seen(grey, "deuteranopia"), seen(grey, None), atol=0.2)


# Every set of categorical colours that share a plot, as the figure builders use them.
SETS = {
    "gates": figures.GATE_COLORS,
    "rnn vs gru vs lstm (echo, bptt)": echo.CELL_COLORS,
    "the notebook's bars": echo.BIT_COLORS,
    # each cell's colour; the LSTM's c the LSTM's colour dashed
    "gradient lines (bptt)": {p: bptt.line_style(p)["color"] for p in ("rnn_h", "gru_h", "lstm_h")},
    "clipping (bptt)": figures.CLIP_COLORS,
    "belt unit lines, solid": {
        "c": figures.STATE_COLOR,
        "h": figures.H_COLOR,
        **{q: figures.GATE_COLORS[q] for q in "fi"},  # g and o are dotted and dashed there
    },
}


@pytest.mark.parametrize("deficiency", ["deuteranopia", "protanopia"])
@pytest.mark.parametrize("name", SETS)
def test_every_pair_stays_apart(name, deficiency):
    distance, pair = closest(SETS[name], deficiency)
    assert distance >= THRESHOLD, f"{name}: {pair} only ΔE {distance:.1f} apart ({deficiency})"


def test_the_gates_come_from_okabe_ito():
    assert set(figures.GATE_COLORS.values()) <= set(figures.OKABE_ITO.values())
    assert len(set(figures.GATE_COLORS.values())) == 4


def test_forget_and_output_differ_by_more_than_colour():
    assert figures.GATE_DASH["f"] != figures.GATE_DASH["o"]
    # where they share a plot (the belt page's unit over time), the figure draws them so
    from ui.figures.belt import unit_lines

    T = 5
    values = {q: np.linspace(0, 1, T, dtype=np.float32) for q in ("c", "h", "f", "i", "g", "o")}
    labels = {q: q for q in values} | {"step": "step", "states": "states", "gates": "gates"}
    fig = unit_lines(values, list("abcde"), labels)
    dash = {tr.name: tr.line.dash or "solid" for tr in fig.data if isinstance(tr, go.Scatter)}
    assert dash["f"] != dash["o"] and dash["g"] not in (dash["f"], dash["o"])
