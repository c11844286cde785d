"""Backpropagation through time: why RNNs forget and LSTMs remember. The paper's equations 7-10
on real models: how far each step's loss reaches back, how fast that fades, what truncation
cuts off, and what clipping does when the gradient explodes."""

import streamlit as st

from ui import frame

frame.enter()

from lstm_core.bptt import (  # noqa: E402
    adjusted,
    check_sequence,
    clip_effect,
    decay_by_distance,
    exploding_scale,
    gradient_flow,
    reach,
)
from ui import models, params  # noqa: E402
from ui.figures import bptt as figs  # noqa: E402
from ui.i18n import labeler, t  # noqa: E402
from ui.params import Param  # noqa: E402

EQUATIONS = (
    r"\frac{\partial L}{\partial W} = \sum_{t=1}^{T} \frac{\partial L_t}{\partial W}",
    r"\frac{\partial L_t}{\partial W} = \sum_{k=1}^{t} \frac{\partial L_t}{\partial h_t}\,"
    r"\frac{\partial h_t}{\partial h_k}\,\frac{\partial h_k}{\partial W}",
    r"\frac{\partial h_t}{\partial h_k} = \prod_{j=k+1}^{t} \frac{\partial h_j}{\partial h_{j-1}}",
    r"W \leftarrow W - \eta\,\frac{\partial L}{\partial W}",
)
P = params.register(
    "bptt",
    (
        Param("bptt_task", "echo", "choice", options=("echo", "text")),
        Param("bptt_length", 60, "int", low=5, high=200),
        Param("bptt_hidden", 32, "int", low=2, high=128),
        Param("bptt_steps", 0, "choice", options=models.BPTT_STEPS),
        Param("bptt_scale", 1.0, "float", low=0.1, high=5.0),
        Param("bptt_forget", 0.0, "float", low=-6.0, high=8.0),
        Param("bptt_echo_step", 3, "int", low=1, high=50),
        Param("bptt_window", 15, "int", low=2, high=200),
        Param("bptt_truncated", False, "bool"),
        Param("bptt_clip_norm", 5.0, "float", low=0.01, high=1000.0),
        Param("bptt_clip_value", 0.5, "float", low=0.001, high=1000.0),
    ),
)
STATIC = {"displayModeBar": False}
params.setup("bptt")
frame.header("bptt")

# ==================================================================================== equations
st.subheader(t("bptt.equations_title"))
for number, latex in enumerate(EQUATIONS, start=7):
    left, right = st.columns([1.3, 1], vertical_alignment="center")
    left.latex(latex + rf"\qquad ({number})")
    right.markdown(t(f"bptt.reading_{number}"))

# ==================================================================================== the models
st.subheader(t("bptt.models_title"))
a, b, c, d = st.columns(4)
task = params.radio(
    P["bptt_task"], t("bptt.task"), labeler("bptt.task_"), container=a, horizontal=True
)
T = params.slider(P["bptt_length"], t("bptt.length"), step=5, container=b)
hidden = params.slider(P["bptt_hidden"], t("bptt.hidden"), step=2, container=c)
steps = params.select(P["bptt_steps"], t("bptt.steps"), container=d, help=t("bptt.steps_help"))
e, f, g, h = st.columns(4)
scale = params.slider(
    P["bptt_scale"], t("bptt.scale"), step=0.05, container=e, help=t("bptt.scale_help")
)
forget = params.slider(
    P["bptt_forget"], t("bptt.forget"), step=0.5, container=f, help=t("bptt.forget_help")
)
window = params.slider(
    P["bptt_window"], t("bptt.window"), step=1, container=g, help=t("bptt.window_help")
)
echo_step = params.slider(P["bptt_echo_step"], t("bptt.echo_step"), step=1, container=h, disabled=task != "echo",
                          help=t("bptt.echo_step_help"))  # fmt: skip

with st.spinner(t("bptt.training", steps=steps)):
    trained = models.bptt_pair(
        task, int(hidden), int(window), int(steps), int(echo_step), frame.seed()
    )
rnn, lstm = adjusted(trained["rnn"], scale), adjusted(trained["lstm"], scale, forget)
inputs, targets = models.bptt_sequence(task, lstm, int(T), int(echo_step), frame.seed())
truncated = st.session_state.get("bptt_truncated", False)  # its toggle sits under the heatmaps
cut = int(window) if truncated else None
flows = {
    "rnn": gradient_flow(rnn, inputs, targets, cut),
    "lstm": gradient_flow(lstm, inputs, targets, cut),
}
st.caption(t("bptt.models_note", h=hidden, steps=steps, task=t(f"bptt.task_{task}"), window=window, scale=scale,
             forget=forget, T=len(inputs)))  # fmt: skip

# ==================================================================================== the heatmaps
st.subheader(t("bptt.flow_title"))
st.markdown(t("bptt.flow_intro"))
panels = {"rnn_h": flows["rnn"].dh, "lstm_h": flows["lstm"].dh, "lstm_c": flows["lstm"].dc}
names = {name: t(f"bptt.panel_{name}") for name in panels}
heat_labels = {**names, "k_axis": t("bptt.k_axis"), "t_axis": t("bptt.t_axis"), "colorbar": t("bptt.colorbar"),
               "hover": t("bptt.hover")}  # fmt: skip
st.plotly_chart(
    figs.flow_heatmaps(panels, int(window), heat_labels), key="bptt_heatmaps", config=STATIC
)
st.caption(t("bptt.truncation_overlay", window=window))
params.toggle(
    P["bptt_truncated"], t("bptt.truncated"), help=t("bptt.truncated_help", window=window)
)

decays = {name: decay_by_distance(norms) for name, norms in panels.items()}
line_labels = {**names, "window": t("bptt.window_mark", window=window), "echo": t("bptt.echo_mark", k=echo_step),
               "d_axis": t("bptt.d_axis"), "ratio_axis": t("bptt.ratio_axis")}  # fmt: skip
st.plotly_chart(figs.decay_lines(decays, int(window), int(echo_step) if task == "echo" else None, line_labels),
                key="bptt_decay", config=STATIC)  # fmt: skip
m1, m2, m3 = st.columns(3)
for column, name in zip((m1, m2, m3), panels, strict=True):
    value = reach(decays[name])
    column.metric(t("bptt.reach", name=names[name]), t("bptt.reach_steps", d=value) if value is not None else
                  t("bptt.reach_all", T=len(inputs)), help=t("bptt.reach_help"))  # fmt: skip

# ==================================================================================== truncation
st.subheader(t("bptt.truncation_title"))
if task == "echo":
    share = min(1.0, echo_step / window)
    key = "bptt.truncation_echo_never" if echo_step >= window else "bptt.truncation_echo_some"
    st.markdown(t(key, k=echo_step, window=window, share=share))
else:
    st.markdown(t("bptt.truncation_text", window=window))

# ==================================================================================== clipping
st.subheader(t("bptt.clipping_title"))
st.markdown(t("bptt.clipping_intro"))


def make_it_explode() -> None:
    found = exploding_scale(
        trained["rnn"], inputs, targets, float(st.session_state.get("bptt_clip_norm", 5.0))
    )
    if found is None:
        st.session_state["bptt.no_explosion"] = True
    else:
        st.session_state["bptt_scale"] = found
        st.session_state.pop("bptt.no_explosion", None)


c1, c2, c3 = st.columns([1, 1, 1.2], vertical_alignment="bottom")
clip_norm = params.number(
    P["bptt_clip_norm"], t("bptt.clip_norm"), step=1.0, format="%g", container=c1
)
clip_value = params.number(
    P["bptt_clip_value"], t("bptt.clip_value"), step=0.1, format="%g", container=c2
)
c3.button(
    t("bptt.explode"),
    key="bptt_explode",
    on_click=make_it_explode,
    icon=":material/bolt:",
    width="stretch",
)
if st.session_state.pop("bptt.no_explosion", False):
    st.warning(t("bptt.no_explosion"), icon=":material/info:")
effect = clip_effect(rnn, inputs, targets, float(clip_norm), float(clip_value))
k1, k2, k3 = st.columns(3)
k1.metric(t("bptt.raw_norm"), f"{effect.raw_norm:.3g}")
k2.metric(
    t("bptt.norm_after"), f"{min(effect.raw_norm, clip_norm):.3g}", help=t("bptt.norm_after_help")
)
k3.metric(t("bptt.cosine"), f"{effect.cos_by_value:.3f}", help=t("bptt.cosine_help"))
if effect.raw_norm > clip_norm:
    st.markdown(t("bptt.clipped", norm=effect.raw_norm, limit=clip_norm, cos=effect.cos_by_value))
else:
    st.info(t("bptt.not_exploding", norm=effect.raw_norm, limit=clip_norm), icon=":material/info:")
clip_labels = {"raw": t("bptt.clip_raw"), "by_norm": t("bptt.clip_by_norm", limit=clip_norm),
               "by_value": t("bptt.clip_by_value", limit=clip_value), "rank_axis": t("bptt.rank_axis"),
               "size_axis": t("bptt.size_axis")}  # fmt: skip
st.plotly_chart(figs.clipping(effect.raw, effect.by_norm, effect.by_value, clip_labels), key="bptt_clipping",
                config=STATIC)  # fmt: skip

# ==================================================================================== gradient check
st.subheader(t("bptt.check_title"))
st.markdown(t("bptt.check_intro"))


settings = (task, T, hidden, steps, scale, forget, window, echo_step, frame.seed())


def run_check() -> None:
    results = {name: check_sequence(model, inputs, targets, seed=frame.seed()) for name, model in
               (("rnn", rnn), ("lstm", lstm))}  # fmt: skip
    st.session_state["bptt.check"] = (settings, results)


st.button(t("bptt.check"), key="bptt_gradcheck", on_click=run_check, icon=":material/fact_check:")
checked = st.session_state.get("bptt.check")
if checked is not None and checked[0] == settings:  # only for the models on the page now
    results = checked[1]
    r1, r2 = st.columns(2)
    for column, name in zip((r1, r2), ("rnn", "lstm"), strict=True):
        column.metric(t("bptt.check_result", name=t(f"bptt.cell_{name}")), f"{results[name]:.1e}")
    ok = max(results.values()) < 1e-6
    (st.success if ok else st.error)(
        t("bptt.check_ok" if ok else "bptt.check_bad", worst=max(results.values()))
    )
