"""Inside one step: the cell's equations with their live numbers (six for an LSTM, four for a
GRU), the cell drawn and coloured by its activations, a valve clamped by hand, and sigmoid as a
valve. What differs between cells is data of the cell's own module (lstm_core/cell.py, gru.py):
its gates, how each squashes, its equations in TeX, the vectors it draws."""

import re

import streamlit as st

from lstm_core import Clamp, EchoConfig
from lstm_core.cells import CELLS, CellKind, cell_kind
from lstm_core.echo import echo_accuracy
from lstm_core.explain import (
    clamp_range,
    gate_parts,
    intervene,
    output_change,
    sigmoid,
    top_predictions,
    unit_step,
)
from lstm_core.inputs import MAX_INPUT, output_labels, prepare_input
from ui import frame, models, params, rewind, uploads
from ui.figures import cell as cell_figs
from ui.i18n import labeler, num, number_style, said_by, t, tex
from ui.params import Param
from ui.safe import md_escape, tape, token_label

SAMPLE_GRU = "echo_gru"  # the GRU sample (ui/samples.py ECHO_MODELS)
SOURCES = (*models.SOURCES, SAMPLE_GRU, "upload")
ALL_GATES = tuple(dict.fromkeys(g for kind in CELLS.values() for g in kind.gates))
DIAGRAM_LABELS = (  # what the drawings write (each cell's drawing takes the ones it needs)
    *("input", "belt", "forget", "input_gate", "candidate", "output"),
    *("memory", "update", "reset", "recurrent"),
)
SQUASH_TEX = {"sigmoid": r"\sigma", "tanh": r"\tanh"}
P = params.register(
    "cell",
    (
        Param("model", "echo_trained", "choice", options=SOURCES),
        Param("units", 8, "int", low=1, high=64),
        Param("input", "", "text", max_length=MAX_INPUT),
        Param("step", 0, "int", low=0, high=MAX_INPUT - 1),
        Param("unit", 0, "int", low=0, high=4095),
        Param("layer", 0, "int", low=0, high=2),
        Param("clamp_gate", "none", "choice", options=("none", *ALL_GATES)),
        Param("clamp_unit", 0, "int", low=0, high=4095),
        Param("clamp_value", 1.0, "float", low=-1.0, high=1.0),
        Param("clamp_from", 0, "int", low=0, high=MAX_INPUT - 1),
        Param("valve", 2.0, "float", low=-8.0, high=8.0),
        rewind.step_param("at_step"),
    ),
)


def gate_tex(kind: CellKind, g: str, p, held: bool) -> str:
    """Gate `g`'s equation on three lines: the formula (the cell's own TeX), its parts `p`
    (lstm_core.explain.gate_parts), its value (`held`, a clamped gate: what it would have been,
    then a fourth line with the value it is held at). A gate whose recurrent part another gate
    scales (the GRU's n, by r) shows that scale and the recurrent part's own bias."""
    mem, inp, bias = t("cell.part_memory"), t("cell.part_input"), t("cell.part_bias")
    (symbol, formula), fn = kind.tex[g], SQUASH_TEX[kind.squash[g]]
    last = rf"{fn}({tex(p.pre):.2f}) = \mathbf{{{tex(p.value):.3f}}}"
    if held:
        held_text = t("cell.eq_held")
        last = rf"{fn}({tex(p.pre):.2f}) = {tex(p.free):.3f}\\ &\to \text{{{held_text}}}\ \mathbf{{{tex(p.value):.3f}}}"
    if g in kind.scaled_by:
        numbers = (
            rf"\underbrace{{{tex(p.input):.2f}}}_{{\text{{{inp}}}}}"
            rf" \underbrace{{{tex(p.bias):+.2f}}}_{{\text{{{bias}}}}}"
            rf" + {tex(p.scale):.3f} \cdot (\underbrace{{{tex(p.recurrent):.2f}}}_{{\text{{{mem}}}}}"
            rf" \underbrace{{{tex(p.recurrent_bias):+.2f}}}_{{\text{{{bias}}}}})"
        )
    else:
        numbers = (
            rf"\underbrace{{{tex(p.recurrent):.2f}}}_{{\text{{{mem}}}}}"
            rf" \underbrace{{{tex(p.input):+.2f}}}_{{\text{{{inp}}}}}"
            rf" \underbrace{{{tex(p.bias):+.2f}}}_{{\text{{{bias}}}}}"
        )
    return (
        rf"\begin{{aligned}}{symbol} &= {formula}\\"
        rf" &= {fn}({numbers})\\ &= {last}\end{{aligned}}"
    )


def state_tex(v, symbol: str, formula: str, numbers: str, field: str) -> str:
    """A state's equation: the formula, the same with the numbers of `v` (one unit's step,
    lstm_core.explain.unit_step), the result."""
    filled = re.sub(r"<(\w+)>", lambda m: f"{tex(getattr(v, m.group(1))):.3f}", numbers)
    result = rf"\mathbf{{{tex(getattr(v, field)):.3f}}}"
    return rf"\begin{{aligned}}{symbol} &= {formula}\\ &= {filled}\\ &= {result}\end{{aligned}}"


params.setup("cell")
frame.header("cell")

# ------------------------------------------------------------------ the model and the input
left, right = st.columns([4, 1])
source = params.select(P["model"], t("cell.model"), labeler("cell.model_"), container=left)
if source == "upload":
    model = uploads.checkpoint_or_stop("cell", left)[1]
    if not cell_kind(model.config.cell).gates:
        st.warning(
            t("cell.no_gates", cell=cell_kind(model.config.cell).title), icon=":material/block:"
        )
        frame.stop()
else:
    with right:
        if source in ("echo_random", "text_random"):
            params.number(P["units"], t("cell.units"), step=1, help=t("cell.units_help"))
        else:
            st.caption(t("cell.units_fixed"))
    with st.spinner(t("cell.training_echo")):
        model = models.get(
            source, int(st.session_state.get("units", P["units"].default)), frame.seed()
        )
full = model
model, at_step = rewind.rewound(P["at_step"], model, "cell")  # a model with a history: any step
cfg = model.config
kind = cell_kind(cfg.cell)
said = said_by(kind.name)  # a sentence in this cell's own words


if source == SAMPLE_GRU:
    echo = EchoConfig()
    accuracy = echo_accuracy(model, echo)
    st.caption(
        t(
            "cell.echo_task_sample",
            k=echo.echo_step,
            cell=kind.title,
            h=cfg.hidden_size,
            acc=accuracy,
        )
    )
elif source in ("echo_trained", "echo_random"):  # what the echo model was made for
    echo = EchoConfig()  # the notebook's setup, which ui/models.py trains
    if source == "echo_trained" and model is not full:  # an earlier step: its own accuracy
        accuracy = echo_accuracy(model, echo)
        last = full.history.steps[-1]
        st.caption(
            t(
                "rewind.echo_task_at",
                k=echo.echo_step,
                h=cfg.hidden_size,
                step=at_step,
                last=last,
                acc=accuracy,
            )
        )
    elif source == "echo_trained":
        accuracy = models.trained_echo(frame.seed())[1]
        st.caption(t("cell.echo_task_trained", k=echo.echo_step, h=cfg.hidden_size, acc=accuracy))
    else:
        st.caption(t("cell.echo_task_untrained", k=echo.echo_step))
example = models.example_input(source, model)
raw = params.text(
    P["input"],
    t("cell.input_bits") if cfg.kind == "echo" else t("cell.input_text"),
    placeholder=example,
    help=t("cell.input_help", n=MAX_INPUT),
)
seq = prepare_input(model, raw or example)
if seq.dropped:
    shown = " ".join(md_escape(token_label(ch)) for ch in seq.dropped[:12])
    key = "cell.dropped_bits" if cfg.kind == "echo" else "cell.dropped_chars"
    st.warning(t(key, chars=shown), icon=":material/filter_alt:")
if seq.lowercased:
    st.info(t("cell.lowercased"), icon=":material/text_fields:")
if seq.truncated:
    st.warning(t("cell.truncated", n=MAX_INPUT), icon=":material/content_cut:")
if not seq.tokens:
    st.warning(t("cell.empty_input"), icon=":material/block:")
    seq = prepare_input(model, example)
T, H = len(seq.tokens), cfg.hidden_size
trace = model.run(seq.ids)


# ------------------------------------------------------------------ choose the step and unit
c3, c1, c2 = st.columns([5, 1.6, 1.9], vertical_alignment="bottom")
t_step = params.stepper(
    P["step"], t("cell.step"), T - 1, "cell", (c3, c1, c2), help=t("cell.step_help")
)
st.markdown(tape(seq.tokens, t_step))
u1, u2, _ = st.columns([1, 1, 2])
unit = params.number(P["unit"], t("cell.unit", h=H - 1), high=H - 1, step=1, container=u1)
layer_index = 0
if cfg.num_layers > 1:
    layer_index = params.number(
        P["layer"],
        t("cell.layer", n=cfg.num_layers - 1),
        high=cfg.num_layers - 1,
        step=1,
        container=u2,
    )

# The clamp's widgets sit further down the page, but what they choose decides which run the
# drawing and the equations show: their places are kept here and filled once the clamp is known.
step_area = st.container()

# ------------------------------------------------------------------ intervention
st.subheader(t("cell.intervene_title"))
st.markdown(said("cell.intervene_intro"))
g1, g2 = st.columns(2)
g3, g4 = st.columns(2)
gate = params.select(
    P["clamp_gate"],
    t("cell.clamp_gate"),
    labeler("gate."),
    options=("none", *kind.gates),
    container=g1,
)
clamp_unit = params.number(
    P["clamp_unit"], t("cell.clamp_unit", h=H - 1), high=H - 1, step=1, container=g2
)
low = clamp_range(model, gate)[0] if gate != "none" else 0.0
value = params.stepped(
    P["clamp_value"],
    t("cell.clamp_value"),
    0.05,
    ".2f",
    low=low,
    high=1.0,
    container=g3,
)
start = params.slider(P["clamp_from"], t("cell.clamp_from"), high=max(T - 1, 1), container=g4)
out_labels = output_labels(model)
result = None
if gate == "none":
    st.info(t("cell.intervene_none"), icon=":material/touch_app:")
else:
    start = min(start, T - 1)
    result = intervene(model, seq.ids, Clamp(gate, clamp_unit, value, start, layer_index))
    b_layer, a_layer = result.before.layers[layer_index], result.after.layers[layer_index]
    before = [out_labels[k] for k in result.before.probs[:, 0].argmax(-1)]
    after = [out_labels[k] for k in result.after.probs[:, 0].argmax(-1)]
    belt = b_layer.c is not None  # a cell state beside h (the LSTM's), drawn above it
    frame.chart(
        cell_figs.intervention(
            b_layer.c[1:, 0, clamp_unit] if belt else None,
            a_layer.c[1:, 0, clamp_unit] if belt else None,
            b_layer.h[1:, 0, clamp_unit],
            a_layer.h[1:, 0, clamp_unit],
            output_change(result.before, result.after)[:, 0],
            start,
            seq.tokens,
            {
                "c": t("cell.plot_c", unit=clamp_unit),
                "h": t("cell.plot_h", unit=clamp_unit),
                "output": t("cell.plot_output"),
                "before": t("cell.before"),
                "after": t("cell.after"),
                "answers": t("cell.plot_answers"),
                "step": t("cell.steps_axis"),
            },
            answers=(before, after),
        ),
        key="cell_intervention",
    )
    changed = sum(a != b for a, b in zip(before, after, strict=True))
    st.caption(t("cell.predictions_changed", n=changed, total=len(after)))
    frame.chart(
        cell_figs.change_heatmap(
            result.memory_change(layer_index)[:, 0],
            seq.tokens,
            {
                "title": said("cell.delta_title"),
                "units": t("cell.units_axis"),
                "steps": t("cell.steps_axis"),
                "hover": said("cell.delta_hover"),
                "delta": f"Δ{kind.state[-1]}",  # what carries the memory: c, or h itself
            },
        ),
        key="cell_delta",
    )
    st.caption(said("cell.delta_caption", gate=t(f"gate.{gate}"), unit=clamp_unit, start=start))

# ------------------------------------------------------------------ the cell and its equations
# With a clamp chosen, everything about the step is the clamped run's (before the clamp's first
# step the two runs are the same), and a note says so.
shown = result.after if result is not None else trace
step = shown.layers[layer_index].step(t_step)
v = unit_step(step, 0, unit)
parts = gate_parts(model, layer_index, step, 0, unit)
held = result is not None and t_step >= start and unit == clamp_unit  # this unit's gate is held
with step_area:
    st.subheader(t("cell.diagram_title", t=t_step, unit=unit, layer=layer_index))
    if result is not None:
        note = "cell.showing_clamped" if t_step >= start else "cell.clamp_later"
        st.info(
            t(note, gate=t(f"gate.{gate}"), unit=clamp_unit, value=value, start=start),
            icon=":material/back_hand:",
        )
    labels = {k: t(f"cell.diagram_{k}") for k in DIAGRAM_LABELS}
    labels |= number_style()  # the numbers written on the drawing
    frame.chart(
        cell_figs.step_diagram(v, labels, float(step.h_prev[0, unit]), seq.tokens[t_step]),
        key="cell_diagram",
    )
    st.caption(said("cell.diagram_caption"))
    # the gates two by two, in the cell's order (f, i | c~, o; r, z | n); the states, longer, alone
    gate_equations = [gate_tex(kind, g, parts[g], g == gate and held) for g in kind.gates]
    for k in range(0, len(gate_equations) - 1, 2):
        for column, latex in zip(st.columns(2), gate_equations[k : k + 2], strict=True):
            column.latex(latex)
    if len(gate_equations) % 2:
        st.latex(gate_equations[-1])
    for equation in kind.tex_state:
        st.latex(state_tex(v, *equation))
    st.caption(said("cell.equations_caption"))

    frame.chart(
        cell_figs.step_vectors(
            {name: getattr(step, name)[0] for name in kind.vectors},
            unit,
            {k: t(f"cell.vector_{k}") for k in kind.vectors},
            t("cell.units_axis"),
            kind.squash,
        ),
        key="cell_vectors",
    )

    # what the model answers at this step
    best = top_predictions(shown.probs[t_step, 0], out_labels, k=2 if cfg.kind == "echo" else 5)
    answer = ", ".join(f"{md_escape(token_label(s))} ({num(p, '.0%')})" for s, p in best)
    st.markdown(t("cell.answer_echo" if cfg.kind == "echo" else "cell.answer_text", answer=answer))

# ------------------------------------------------------------------ the valve
st.subheader(t("cell.valve_title"))
valve_text, valve_plot = st.columns([1, 2])
with valve_text:
    st.markdown(t("cell.valve_intro"))
    a = params.stepped(P["valve"], t("cell.valve_slider"), 0.1, ".1f")
    st.metric(t("cell.valve_metric"), num(float(sigmoid(a)), ".0%"))
with valve_plot:
    frame.chart(
        cell_figs.valve_curve(
            a,
            {
                "closed": t("cell.valve_closed"),
                "open": t("cell.valve_open"),
                "x": t("cell.valve_x"),
                **number_style(),
            },
        ),
        key="cell_valve",
    )
