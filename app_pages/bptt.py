"""Backpropagation through time: why RNNs forget and gated cells (GRU, LSTM) remember. The
paper's equations 7-10 on real models: how far each step's loss reaches back, how fast that fades, what truncation
cuts off, and what clipping does when the gradient explodes."""

import streamlit as st

from lstm_core import bptt_pair
from lstm_core.bptt import (
    EXPLOSION_HIDDEN,
    RESOLVABLE,
    SCALE_LIMIT,
    adjusted,
    check_clip_gradient,
    check_flow,
    check_pairs,
    clip_effect,
    decay_by_distance,
    find_explosion,
    gradient_flow,
    reach,
)
from lstm_core.bptt_pair import TrainedPair
from lstm_core.cells import DEFAULT_CELL
from lstm_core.demos import BPTT_ECHO_CLIP, BPTT_EXPLODES, BPTT_PRESET, bptt_echo_config
from ui import bptt_models, frame, params, rewind
from ui.figures import bptt as figs
from ui.i18n import explain, labeler, num, t
from ui.page_state import BPTT
from ui.params import Param

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
        Param("bptt_steps", 0, "choice", options=bptt_pair.STEPS),
        Param("bptt_scale", 1.0, "float", low=0.1, high=SCALE_LIMIT),
        Param("bptt_forget", 0.0, "float", low=-6.0, high=8.0),
        Param("bptt_echo_step", 3, "int", low=1, high=50),
        Param("bptt_window", 15, "int", low=2, high=200),
        Param("bptt_truncated", False, "bool"),
        Param("bptt_clip_norm", 5.0, "float", low=0.01, high=1000.0),
        Param("bptt_clip_value", 0.5, "float", low=0.001, high=1000.0),
        rewind.step_param("bptt_at_step"),
    ),
)
CHECK_OK = 1e-4  # relative error below which the finite differences agree (4 digits or more)
params.setup("bptt")
st.session_state.update(BPTT.take("apply") or {})  # set by "Make it explode"
frame.header("bptt")

# ==================================================================================== equations
st.subheader(t("bptt.equations_title"))
for number, latex in enumerate(EQUATIONS, start=7):
    left, right = st.columns([1.3, 1], vertical_alignment="center")
    left.latex(latex + rf"\qquad ({number})")
    right.markdown(t(f"bptt.reading_{number}"))

# ==================================================================================== the models
st.subheader(t("bptt.models_title"))


def apply_preset() -> None:
    st.session_state.update(BPTT_PRESET.values)  # before the widgets are drawn: a callback


PRESET = BPTT_PRESET.values
preset_facts = {
    "k": PRESET["bptt_echo_step"],
    "h": PRESET["bptt_hidden"],
    "steps": PRESET["bptt_steps"],
    "T": PRESET["bptt_length"],
    **BPTT_PRESET.facts,
    "seconds": BPTT_PRESET.seconds,
}
row = st.container(horizontal=True, vertical_alignment="center")
row.button(
    t("bptt.preset", **preset_facts),
    key="bptt_preset",
    on_click=apply_preset,
    icon=":material/tune:",
)
row.caption(t("bptt.preset_note", **preset_facts))
a, b, c, d = st.columns(4)
task = params.radio(
    P["bptt_task"], t("bptt.task"), labeler("bptt.task_"), container=a, horizontal=True
)
T = params.slider(P["bptt_length"], t("bptt.length"), step=5, container=b)
hidden = params.slider(P["bptt_hidden"], t("bptt.hidden"), step=2, container=c)
steps = d.select_slider(
    t("bptt.steps"),
    P["bptt_steps"].options,
    key="bptt_steps",
    persist_state="session",
    help=t("bptt.steps_help"),
    **({} if "bptt_steps" in st.session_state else {"value": 0}),
)
e, f, g, h = st.columns(4)
scale = params.slider(
    P["bptt_scale"], t("bptt.scale"), step=0.05, container=e, help=t("bptt.scale_help")
)
forget = params.slider(
    P["bptt_forget"], t("bptt.forget"), step=0.5, container=f, help=t("bptt.forget_help")
)
echo_step = params.slider(
    P["bptt_echo_step"],
    t("bptt.echo_step"),
    step=1,
    container=h,
    disabled=task != "echo",
    help=t("bptt.echo_step_help"),
)
train_window = bptt_pair.train_window(task, int(echo_step))
window = params.slider(
    P["bptt_window"],
    t("bptt.window"),
    step=1,
    container=g,
    help=t("bptt.window_help", train=train_window),
)


def trained_pair(task: str, units: int, steps: int, echo_step: int) -> TrainedPair:
    """The pair of `units` units trained `steps` steps on `task`, trained here with a progress
    bar if nobody has yet."""
    slot = st.empty()

    def show(done: int, total: int) -> None:
        slot.progress(
            min(done / max(total, 1), 1.0), text=t("bptt.training", done=done, total=total, h=units)
        )

    pair = bptt_models.pair(task, units, steps, echo_step, frame.seed(), progress=show)
    slot.empty()
    return pair


trained = trained_pair(task, int(hidden), int(steps), int(echo_step))
pair, at_step = trained.models, None
if steps:  # the pair's history: the gradient maps at any kept step of its training
    pair, at_step = rewind.rewound_all(
        P["bptt_at_step"],
        bptt_models.rewindable(task, int(hidden), int(steps), int(echo_step), frame.seed()),
        "bptt",
        intro="rewind.bptt_intro",
    )
else:
    rewind.unused_link(P["bptt_at_step"])
rewinding = at_step is not None and at_step < max(trained.steps.values())
drawn = {name: adjusted(m, scale, forget) for name, m in pair.items()}  # the models as drawn
some_model = next(iter(drawn.values()))  # they read the same vocabulary: any gives the sequence
inputs, targets = bptt_models.sequence(task, some_model, int(T), int(echo_step), frame.seed())
truncated = st.session_state.get("bptt_truncated", False)  # its toggle sits under the heatmaps
cut = int(window) if truncated else None
keep = check_pairs(len(inputs), cut)  # the entries the gradient check may look at
flows = {name: gradient_flow(m, inputs, targets, cut, keep) for name, m in drawn.items()}
cells = {name: t(f"bptt.cell_{name}") for name in drawn}
echo_recipe = bptt_echo_config(DEFAULT_CELL, int(hidden), int(echo_step), 0)
recipe = {
    "lr": echo_recipe.learning_rate,
    "decay": echo_recipe.lr_decay,
    "batch": echo_recipe.batch_size,
    "clip": BPTT_ECHO_CLIP,
}
if steps == 0:
    st.caption(t("bptt.models_note_untrained", h=hidden, scale=scale, forget=forget, T=len(inputs)))
else:
    same = all(done == steps for done in trained.steps.values())
    each = [t("bptt.steps_of", steps=trained.steps[n], cell=cells[n]) for n in cells]
    taken = (
        t("bptt.steps_same", steps=steps) if same else t("bptt.steps_each", each=", ".join(each))
    )
    st.caption(
        t(
            "bptt.models_note_trained",
            h=hidden,
            taken=taken,
            task=t(f"bptt.task_{task}"),
            how=t(f"bptt.how_{task}", **recipe),
            scale=scale,
            forget=forget,
            T=len(inputs),
        )
    )
    base = bptt_echo_config(DEFAULT_CELL, 1, 1, 0).truncated_backprop_length  # the recipe's own
    st.caption(t(f"bptt.train_window_{task}", train=trained.window, base=base))
if rewinding:
    st.info(t("rewind.bptt_at", step=at_step, steps=steps), icon=":material/history:")
# the models as drawn: after the scale and the forget shift they are other models, scored anew
unchanged = scale == 1.0 and forget == 0.0
adjusted_now = not unchanged
unchanged = unchanged and not rewinding  # the scores of the pair as trained are not these
scores = {
    name: trained.scores[name] if unchanged else bptt_models.score(task, m, int(echo_step))
    for name, m in drawn.items()
}
score_list = ", ".join(
    t(f"bptt.score_of_{task}", cell=cells[n], score=s) for n, s in scores.items()
)
st.caption(
    t(
        f"bptt.score_{task}" if not adjusted_now else f"bptt.score_{task}_adjusted",
        scores=score_list,
        chance=trained.chance,
        scale=scale,
        forget=forget,
    )
)
if task == "echo" and steps:  # what the scores say, in words drawn from them (and the
    # preset's bounds: "learned" as its gated cells do, "did not" as its RNN does not)
    learned = [cells[n] for n, score in scores.items() if score >= BPTT_PRESET.learned]
    failed = [cells[n] for n, score in scores.items() if score <= BPTT_PRESET.failed]
    if learned and failed:
        st.markdown(
            t(
                "bptt.verdict_some",
                k=echo_step,
                learned=" · ".join(learned),
                failed=" · ".join(failed),
            )
        )
    elif len(learned) == len(scores):
        st.markdown(t("bptt.verdict_both", k=echo_step, preset=t("bptt.preset", **preset_facts)))
    elif len(failed) == len(scores):
        st.markdown(t("bptt.verdict_neither", k=echo_step))
for name in drawn:
    if trained.steps[name] < steps:  # it stopped early: say how far it got, and why
        st.warning(
            t(
                "bptt.stopped",
                name=cells[name],
                done=trained.steps[name],
                steps=steps,
                why=explain(trained.problems[name]),
            ),
            icon=":material/warning:",
        )

# ==================================================================================== the heatmaps
st.subheader(t("bptt.flow_title"))
panels = {}  # each cell's map of h, and of c beside it for a cell with a belt
for name, flow in flows.items():
    panels[f"{name}_h"] = flow.dh
    if flow.dc is not None:
        panels[f"{name}_c"] = flow.dc
st.markdown(t("bptt.flow_intro", factor=figs.flow_shades(panels, int(window), truncated).factor))
names = {name: t(f"bptt.panel_{name}") for name in panels}
heat_labels = {
    **names,
    "k_axis": t("bptt.k_axis"),
    "t_axis": t("bptt.t_axis"),
    "colorbar": t("bptt.colorbar"),
    "hover": t("bptt.hover"),
    "cut_hover": t("bptt.cut_hover"),
}
frame.chart(
    figs.flow_heatmaps(panels, int(window), heat_labels, truncated),
    key="bptt_heatmaps",
)
st.caption(t("bptt.truncation_overlay", window=window))
params.toggle(
    P["bptt_truncated"], t("bptt.truncated"), help=t("bptt.truncated_help", window=window)
)

decays = {name: decay_by_distance(norms) for name, norms in panels.items()}
line_labels = {
    **names,
    "window": t("bptt.window_mark", window=window),
    "echo": t("bptt.echo_mark", k=echo_step),
    "d_axis": t("bptt.d_axis"),
    "ratio_axis": t("bptt.ratio_axis"),
}
frame.chart(
    figs.decay_lines(decays, int(window), int(echo_step) if task == "echo" else None, line_labels),
    key="bptt_decay",
)
for column, name in zip(st.columns(len(panels)), panels, strict=True):
    value = reach(decays[name])
    if value is None:
        shown = t("bptt.reach_all", T=len(inputs))
    elif truncated and value >= window:  # nothing reaches past a window: it is cut, not faded
        shown = t("bptt.reach_cut", d=value)
    else:
        shown = t("bptt.reach_steps", d=value)
    column.metric(t("bptt.reach", name=names[name]), shown, help=t("bptt.reach_help"))

# ==================================================================================== truncation
st.subheader(t("bptt.truncation_title"))
if task == "echo":
    share = min(1.0, echo_step / window)
    key = "bptt.truncation_echo_never" if echo_step >= window else "bptt.truncation_echo_some"
    st.markdown(t(key, k=echo_step, window=window, share=share, train=trained.window))
else:
    st.markdown(t("bptt.truncation_text", window=window, train=trained.window))

# ==================================================================================== clipping
st.subheader(t("bptt.clipping_title"))
clipped = drawn[BPTT_EXPLODES]  # the plain RNN: nothing holds its gradient back
st.markdown(t("bptt.clipping_intro", top=figs.CLIP_TOP, n=clipped.flat.size))


def make_it_explode() -> None:
    BPTT.explode = True  # searched below, once the models are at hand


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
if BPTT.take("explode"):
    found = find_explosion(
        lambda units: trained_pair(task, units, int(steps), int(echo_step)).models[BPTT_EXPLODES],
        lambda length: bptt_models.sequence(task, clipped, length, int(echo_step), frame.seed()),
        int(hidden),
        int(T),
        float(clip_norm),
        hiddens=EXPLOSION_HIDDEN if steps == 0 else (),  # a larger trained pair: minutes to train
    )
    if found is None:
        key = "bptt.no_explosion" if steps == 0 else "bptt.no_explosion_trained"
        st.warning(t(key, limit=clip_norm), icon=":material/info:")
    else:  # the sliders are drawn already: set them on the next run, before they are
        BPTT.apply = {
            "bptt_scale": found.scale,
            "bptt_length": found.length,
            "bptt_hidden": found.hidden,
        }
        BPTT.exploded = (found, int(hidden), int(T))
        st.rerun()
exploded = BPTT.take("exploded")
if exploded is not None:
    found, was_hidden, was_T = exploded
    grew = ""
    if found.hidden != was_hidden:
        grew += " " + t("bptt.explode_hidden", h=found.hidden, was=was_hidden)
    if found.length != was_T:
        grew += " " + t("bptt.explode_length", T=found.length, was=was_T)
    st.success(
        t("bptt.exploded", scale=found.scale, norm=found.norm, limit=clip_norm) + grew,
        icon=":material/bolt:",
    )

effect = clip_effect(clipped, inputs, targets, float(clip_norm), float(clip_value))
k1, k2, k3 = st.columns(3)
k1.metric(t("bptt.raw_norm"), num(effect.raw_norm, ".3g"))
k2.metric(t("bptt.norm_after"), num(effect.norm_by_norm, ".3g"), help=t("bptt.norm_after_help"))
k3.metric(
    t("bptt.turned"), t("bptt.degrees", angle=effect.angle_by_value), help=t("bptt.turned_help")
)
if effect.raw_norm > clip_norm:
    st.markdown(t("bptt.by_norm_scaled", norm=effect.raw_norm, limit=clip_norm))
else:
    st.markdown(t("bptt.by_norm_kept", norm=effect.raw_norm, limit=clip_norm))
if effect.cut_by_value:
    st.markdown(
        t(
            "bptt.by_value_cut",
            cut=effect.cut_by_value,
            n=effect.raw.size,
            limit=clip_value,
            angle=effect.angle_by_value,
            cos=effect.cos_by_value,
        )
    )
else:
    st.markdown(t("bptt.by_value_kept", limit=clip_value))
if effect.raw_norm <= clip_norm:
    st.info(t("bptt.not_exploding", limit=clip_norm), icon=":material/info:")
clip_labels = {
    "raw": t("bptt.clip_raw"),
    "by_norm": t("bptt.clip_by_norm", limit=clip_norm),
    "by_value": t("bptt.clip_by_value", limit=clip_value),
    "rank_axis": t("bptt.rank_axis"),
    "size_axis": t("bptt.size_axis"),
}
frame.chart(
    figs.clipping(effect.raw, effect.by_norm, effect.by_value, clip_labels),
    key="bptt_clipping",
)

# ==================================================================================== gradient check
st.subheader(t("bptt.check_title"))
st.markdown(t("bptt.check_intro", lo=RESOLVABLE[0], hi=RESOLVABLE[1]))
settings = (task, T, hidden, steps, at_step, scale, forget, cut, echo_step, frame.seed())


def run_check(settings: tuple, drawn: dict, flows: dict, clipped, inputs, targets, cut) -> None:
    """Check the engine's gradients of the models drawn against finite differences."""
    entries = [
        entry
        for name, m in drawn.items()
        for entry in check_flow(m, inputs, targets, flows[name], cut, seed=frame.seed())
    ]
    weights = check_clip_gradient(clipped, inputs, targets, seed=frame.seed())
    CHECK.put(settings, (entries, weights))


CHECK = BPTT.check  # the last gradient check, with the settings it checked
st.button(
    t("bptt.check"),
    key="bptt_gradcheck",
    on_click=run_check,
    args=(settings, drawn, flows, clipped, inputs, targets, cut),
    icon=":material/fact_check:",
)
checked = CHECK.get(settings)  # only for the models on the page now
if checked is not None:
    entries, weights = checked
    st.markdown(t("bptt.check_result"))
    columns = st.columns(len(panels) + 1)
    for column, name in zip(columns, panels, strict=False):
        mine = [x for x in entries if x.panel == name]
        worst = max((x.error for x in mine), default=0.0)
        column.metric(names[name], num(worst, ".1e"), help=t("bptt.check_result_help", n=len(mine)))
    columns[-1].metric(
        t("bptt.check_weights"),
        num(weights, ".1e") if weights is not None else t("bptt.check_too_steep"),
        help=t("bptt.check_weights_help"),
    )
    errors = [x.error for x in entries] + ([weights] if weights is not None else [])
    worst = max(errors, default=0.0)
    ok = worst < CHECK_OK
    (st.success if ok else st.error)(
        t("bptt.check_ok" if ok else "bptt.check_bad", worst=worst, n=len(entries))
    )
    table = {
        t("bptt.col_map"): [names[x.panel] for x in entries],
        t("bptt.col_t"): [x.t for x in entries],
        t("bptt.col_k"): [x.k for x in entries],
        t("bptt.col_engine"): [num(x.engine, ".6g") for x in entries],
        t("bptt.col_numeric"): [num(x.numeric, ".6g") for x in entries],
        t("bptt.col_error"): [num(x.error, ".1e") for x in entries],
        t("bptt.col_note"): [t("bptt.note_cut") if x.cut else "" for x in entries],
    }
    with st.expander(t("bptt.check_entries", n=len(entries))):
        st.dataframe(table, hide_index=True, key="bptt_check_table")
