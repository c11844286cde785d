"""Inside one step: the six equations with their live numbers, the cell drawn and coloured by its
activations, a valve clamped by hand, and sigmoid as a valve."""

import streamlit as st

from ui import frame

frame.enter()

from lstm_core import GATES, Clamp  # noqa: E402
from lstm_core.explain import (  # noqa: E402
    gate_parts,
    intervene,
    output_change,
    sigmoid,
    top_predictions,
    unit_step,
)
from ui import figures, models, params  # noqa: E402
from ui.i18n import labeler, t  # noqa: E402
from ui.params import Param  # noqa: E402
from ui.safe import marked_changes, md_escape, tape, token_label  # noqa: E402

P = params.register(
    "cell",
    (
        Param("model", "echo_trained", "choice", options=models.SOURCES),
        Param("units", 8, "int", low=1, high=64),
        Param("input", "", "text", max_length=models.MAX_INPUT),
        Param("step", 0, "int", low=0, high=models.MAX_INPUT - 1),
        Param("unit", 0, "int", low=0, high=4095),
        Param("layer", 0, "int", low=0, high=2),
        Param("clamp_gate", "none", "choice", options=("none", *GATES)),
        Param("clamp_unit", 0, "int", low=0, high=4095),
        Param("clamp_value", 1.0, "float", low=-1.0, high=1.0),
        Param("clamp_from", 0, "int", low=0, high=models.MAX_INPUT - 1),
        Param("valve", 2.0, "float", low=-8.0, high=8.0),
    ),
)
STATIC = {
    "displayModeBar": False
}  # explanatory charts: no toolbar (its tooltips are Plotly's English)
params.setup("cell")
frame.header("cell")

# ------------------------------------------------------------------ the model and the input
left, middle, right = st.columns([2, 3, 1.2])
source = params.select(P["model"], t("cell.model"), labeler("cell.model_"), container=left)
with right:
    if source in ("echo_random", "text_random"):
        params.number(P["units"], t("cell.units"), step=1, help=t("cell.units_help"))
    else:
        st.caption(t("cell.units_fixed"))
with st.spinner(t("cell.training_echo")):
    model = models.get(source, int(st.session_state.get("units", P["units"].default)), frame.seed())
cfg = model.config
example = models.example_input(source)
raw = params.text(
    P["input"], t("cell.input_bits") if cfg.kind == "echo" else t("cell.input_text"),
    container=middle, placeholder=example, help=t("cell.input_help", n=models.MAX_INPUT),
)  # fmt: skip
seq = models.prepare_input(model, raw or example)
if seq.dropped:
    shown = " ".join(md_escape(token_label(ch)) for ch in seq.dropped[:12])
    key = "cell.dropped_bits" if cfg.kind == "echo" else "cell.dropped_chars"
    st.warning(t(key, chars=shown), icon=":material/filter_alt:")
if seq.lowercased:
    st.info(t("cell.lowercased"), icon=":material/text_fields:")
if seq.truncated:
    st.warning(t("cell.truncated", n=models.MAX_INPUT), icon=":material/content_cut:")
if not seq.tokens:
    st.warning(t("cell.empty_input"), icon=":material/block:")
    seq = models.prepare_input(model, example)
T, H = len(seq.tokens), cfg.hidden_size
trace = model.run(seq.ids)


# ------------------------------------------------------------------ choose the step and unit
c3, c1, c2, c4 = st.columns([6, 1.3, 1.5, 2], vertical_alignment="bottom")
t_step = params.stepper(
    P["step"], t("cell.step"), T - 1, "cell", (c3, c1, c2), help=t("cell.step_help")
)
with c4:
    unit = params.number(P["unit"], t("cell.unit", h=H - 1), high=H - 1, step=1)
    layer_index = 0
    if cfg.num_layers > 1:
        layer_index = params.number(
            P["layer"], t("cell.layer", n=cfg.num_layers - 1), high=cfg.num_layers - 1, step=1
        )
st.markdown(tape(seq.tokens, t_step))

step = trace.layers[layer_index].step(t_step)
v = unit_step(step, 0, unit)
parts = gate_parts(model, layer_index, step, 0, unit)

# ------------------------------------------------------------------ the cell and its equations
st.subheader(t("cell.diagram_title", t=t_step, unit=unit, layer=layer_index))
diagram_col, eq_col = st.columns([1, 1])
with diagram_col:
    labels = {
        k: t(f"cell.diagram_{k}")
        for k in ("input", "belt", "forget", "input_gate", "candidate", "output")
    }
    st.plotly_chart(figures.cell_diagram(v, labels), key="cell_diagram", config=STATIC)
    st.caption(t("cell.diagram_caption"))
with eq_col:
    mem, inp, bias = t("cell.part_memory"), t("cell.part_input"), t("cell.part_bias")

    def gate_tex(gate: str, name: str, fn: str) -> str:
        g = parts[gate]
        return (
            rf"\begin{{aligned}}{name} &= {fn}(W_{{{gate}}}[h_{{t-1}}, x_t] + b_{{{gate}}})\\"
            rf" &= {fn}(\underbrace{{{g.recurrent:.2f}}}_{{\text{{{mem}}}}}"
            rf" \underbrace{{{g.input:+.2f}}}_{{\text{{{inp}}}}}"
            rf" \underbrace{{{g.bias:+.2f}}}_{{\text{{{bias}}}}}) = {fn}({g.pre:.2f}) = \mathbf{{{g.value:.3f}}}"
            rf"\end{{aligned}}"
        )

    st.latex(gate_tex("f", "f_t", r"\sigma"))
    st.latex(gate_tex("i", "i_t", r"\sigma"))
    st.latex(gate_tex("g", r"\tilde{c}_t", r"\tanh"))
    st.latex(gate_tex("o", "o_t", r"\sigma"))
    st.latex(
        rf"\begin{{aligned}}c_t &= f_t \odot c_{{t-1}} + i_t \odot \tilde{{c}}_t\\"
        rf" &= {v.f:.3f} \cdot ({v.c_prev:.3f}) + {v.i:.3f} \cdot ({v.g:.3f}) = \mathbf{{{v.c:.3f}}}\end{{aligned}}"
    )
    st.latex(
        rf"h_t = o_t \odot \tanh(c_t) = {v.o:.3f} \cdot \tanh({v.c:.3f}) = \mathbf{{{v.h:.3f}}}"
    )
    st.caption(t("cell.equations_caption"))

st.plotly_chart(
    figures.step_vectors(
        {name: getattr(step, name)[0] for name in ("f", "i", "g", "o", "c", "h")},
        unit, {k: t(f"cell.vector_{k}") for k in ("f", "i", "g", "o", "c", "h")}, t("cell.units_axis"),
    ),
    key="cell_vectors", config=STATIC,
)  # fmt: skip

# what the model answers at this step
out_labels = models.output_labels(model)
best = top_predictions(trace.probs[t_step, 0], out_labels, k=2 if cfg.kind == "echo" else 5)
answer = ", ".join(f"{md_escape(token_label(s))} ({p:.0%})" for s, p in best)
st.markdown(t("cell.answer_echo" if cfg.kind == "echo" else "cell.answer_text", answer=answer))

# ------------------------------------------------------------------ intervention
st.subheader(t("cell.intervene_title"))
st.markdown(t("cell.intervene_intro"))
g1, g2, g3, g4 = st.columns(4)
gate = params.select(P["clamp_gate"], t("cell.clamp_gate"), labeler("gate."), container=g1)
clamp_unit = params.number(
    P["clamp_unit"], t("cell.clamp_unit", h=H - 1), high=H - 1, step=1, container=g2
)
low = -1.0 if gate == "g" else 0.0
value = params.slider(
    P["clamp_value"], t("cell.clamp_value"), low=low, high=1.0, step=0.05, container=g3
)
start = params.slider(P["clamp_from"], t("cell.clamp_from"), high=max(T - 1, 1), container=g4)
if gate == "none":
    st.info(t("cell.intervene_none"), icon=":material/touch_app:")
else:
    start = min(start, T - 1)
    result = intervene(model, seq.ids, Clamp(gate, clamp_unit, value, start, layer_index))
    b_layer, a_layer = result.before.layers[layer_index], result.after.layers[layer_index]
    st.plotly_chart(
        figures.intervention(
            b_layer.c[1:, 0, clamp_unit], a_layer.c[1:, 0, clamp_unit],
            b_layer.h[1:, 0, clamp_unit], a_layer.h[1:, 0, clamp_unit],
            output_change(result.before, result.after)[:, 0], start, seq.tokens,
            {"c": t("cell.plot_c", unit=clamp_unit), "h": t("cell.plot_h", unit=clamp_unit),
             "output": t("cell.plot_output"), "before": t("cell.before"), "after": t("cell.after")},
        ),
        key="cell_intervention", config=STATIC,
    )  # fmt: skip
    st.plotly_chart(
        figures.change_heatmap(
            result.cell_change(layer_index)[:, 0], seq.tokens,
            {"units": t("cell.units_axis"), "steps": t("cell.steps_axis"), "hover": t("cell.delta_hover")},
        ),
        key="cell_delta",
    )  # fmt: skip
    before = "".join(out_labels[k] for k in result.before.probs[:, 0].argmax(-1))
    after = "".join(out_labels[k] for k in result.after.probs[:, 0].argmax(-1))
    changed = sum(a != b for a, b in zip(before, after, strict=True))
    st.markdown(
        t("cell.predictions", before=md_escape(before), after=marked_changes(before, after))
    )
    st.caption(t("cell.predictions_changed", n=changed, total=len(after)))

# ------------------------------------------------------------------ the valve
st.subheader(t("cell.valve_title"))
valve_text, valve_plot = st.columns([1, 2])
with valve_text:
    st.markdown(t("cell.valve_intro"))
    a = params.slider(P["valve"], t("cell.valve_slider"), step=0.1)
    st.metric(t("cell.valve_metric"), f"{float(sigmoid(a)):.0%}")
with valve_plot:
    st.plotly_chart(
        figures.valve_curve(a, {"closed": t("cell.valve_closed"), "open": t("cell.valve_open"), "x": t("cell.valve_x")}),
        key="cell_valve", config=STATIC,
    )  # fmt: skip
