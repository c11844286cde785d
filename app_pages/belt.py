"""The conveyor belt: the cell state and the gates of every unit over a whole sequence, the units
that track a property of the text, and what each step takes off and puts on the belt."""

import streamlit as st

from lstm_core.analysis import (
    CHAR_CLASSES,
    PropertyError,
    belt_flow,
    belt_series,
    classes_in,
    lagged,
    leading_units,
    order_units,
    rank_units,
    text_property,
    untrained_best,
)
from lstm_core.cells import cell_kind
from lstm_core.inputs import prepare_input
from ui import frame, models, params, rewind, samples, state, uploads
from ui.figures import belt as figs
from ui.i18n import current_language, explain, labeler, separators, t
from ui.params import Param
from ui.safe import md_escape, token_label

# the shipped text models (ui/samples.py, in its order), the echo models, an upload, untrained ones
SOURCES = (
    *samples.BELT_TEXT_MODELS,
    "echo_trained",
    *samples.ECHO_MODELS,
    "upload",
    "text_random",
    "echo_random",
)
TEXT_PROPERTIES = ("quotes", "parens", "word_position", "since_newline", "char_class", "regex")
MAX_TEXT = 400
P = params.register(
    "belt",
    (
        Param("belt_model", "belt", "choice", options=SOURCES),  # the model whose units show
        Param("belt_units", 64, "int", low=1, high=256),
        Param("belt_text", "", "text", max_length=MAX_TEXT),
        Param("belt_layer", 0, "int", low=0, high=2),
        Param("belt_sort", "facts", "choice", options=("facts", "cluster", "activity", "index")),
        Param("belt_cursor", 0, "int", low=0, high=MAX_TEXT - 1),
        Param("belt_unit", 0, "int", low=0, high=4095),
        Param("belt_property", "quotes", "choice", options=(*TEXT_PROPERTIES, "lag")),
        Param("belt_class", "vowel", "choice", options=CHAR_CLASSES),
        Param("belt_regex", "", "text", max_length=200),
        Param("belt_lag", 3, "int", low=0, high=50),
        Param("belt_track", "c", "choice", options=("c", "h")),
        Param("belt_find_value", "c", "choice", options=("c", "h")),
        Param("belt_flows", (), "ints", low=0, high=4095, max_length=4),
        rewind.step_param("belt_at_step"),
    ),
)
params.setup("belt")
frame.header("belt")


# ------------------------------------------------------------------------------ the model
top_left, top_right = st.columns([4, 1])
source = params.select(P["belt_model"], t("belt.model"), labeler("belt.model_"), container=top_left)
if source == "upload":
    model_key, model = uploads.checkpoint_or_stop("belt", top_left)
else:
    units = 8
    if source.endswith("random"):
        units = params.number(P["belt_units"], t("belt.units"), step=1, container=top_right)
    with st.spinner(t("cell.training_echo")):
        model = models.get(source, units, frame.seed())
    model_key = f"{source}/{units}/{frame.seed()}"
model, at_step = rewind.rewound(P["belt_at_step"], model, "belt")  # a model with a history
if at_step is not None:
    model_key = f"{model_key}@{at_step}"
cfg = model.config
kind = cell_kind(cfg.cell)  # what carries its memory, and what the page draws of it


def said(key: str, **values) -> str:
    """A sentence that differs from cell to cell: the catalog's <key>_<cell>."""
    return t(f"{key}_{kind.name}", **values)


QUANTITIES = kind.belt_rows
memory = kind.memory  # the belt: c, or (a GRU, a plain RNN) h itself
value_options = tuple(dict.fromkeys((memory, "h")))  # what a unit's value can be read from
layer_index = 0
if cfg.num_layers > 1:
    layer_index = params.number(
        P["belt_layer"],
        t("belt.layer", n=cfg.num_layers - 1),
        high=cfg.num_layers - 1,
        step=1,
        container=top_right,
        help=t("belt.layer_help"),
    )
else:  # no choice to make: a layer the link asks for and the model lacks is said, and dropped
    params.bounded(P["belt_layer"], 0, 0)
st.caption(
    t(
        "belt.model_facts",
        kind=t(f"belt.kind_{cfg.kind.replace('-', '_')}"),
        cell=kind.title,
        h=cfg.hidden_size,
        layers=cfg.num_layers,
    )
)
st.info(said("belt.role"), icon=":material/conveyor_belt:")  # what plays the belt's role here
# what its text asks a model to keep, so what to look for in its units
if source in samples.BELT_MODELS:
    st.caption(t("belt.belt_text_note"))

# ------------------------------------------------------------------------------ the input
example = models.belt_example(model, source, current_language())
raw = params.text_area(
    P["belt_text"],
    t("belt.input_bits" if cfg.kind == "echo" else "belt.input_text"),
    placeholder=example,
    height=90,
    help=t("belt.input_help", n=MAX_TEXT),
)
if not raw:
    st.info(t("belt.empty_input"), icon=":material/edit_note:")
if len(raw) > MAX_TEXT:
    st.warning(t("belt.truncated", n=MAX_TEXT, got=len(raw)), icon=":material/content_cut:")
seq = prepare_input(model, (raw or example)[: MAX_TEXT * 4], limit=MAX_TEXT)
if seq.dropped:
    shown = " ".join(md_escape(token_label(ch)) for ch in seq.dropped[:16])
    more = t("belt.and_more", n=len(seq.dropped) - 16) if len(seq.dropped) > 16 else ""
    st.warning(
        t("belt.dropped_bits" if cfg.kind == "echo" else "belt.dropped_chars", chars=shown + more),
        icon=":material/filter_alt:",
    )
if seq.lowercased:
    st.info(t("cell.lowercased"), icon=":material/text_fields:")
if len(seq.tokens) < 2:
    st.warning(t("belt.too_short"), icon=":material/block:")
    seq = prepare_input(model, example, limit=MAX_TEXT)
tokens = seq.tokens
T, H = len(tokens), cfg.hidden_size


# ------------------------------------------------------------------------------ the trace (cached)
memo = state.Memo("belt.memo", 17).get  # one computed value per key, the latest 17 of the session


trace_key = (model_key, "".join(tokens))
trace = memo(("trace", trace_key), lambda: model.run(seq.ids))


series = memo(("series", trace_key, layer_index), lambda: belt_series(trace.layers[layer_index]))


def tracked_facts() -> dict:
    """What the "facts" order leads with: in a text, whether a quotation is open and how many
    brackets are; for an echo model, the bit waiting to be echoed (the page's default lag)."""
    if cfg.kind == "echo":
        return {"lag": lagged(seq.ids[0], P["belt_lag"].current_default)}
    text = "".join(tokens)
    return {name: text_property(text, name) for name in ("quotes", "parens")}


# the units whose belt (c; h for a GRU or a plain RNN) follows those facts most closely, then the rest
facts = memo(("facts", trace_key), tracked_facts)
lead_order, leaders = memo(
    ("lead", trace_key, layer_index),
    lambda: leading_units(series[memory], series["h"], facts),
)
if leaders:  # "One unit" opens on the first of them (the page's own pick: left out of the link)
    params.data_default(P["belt_unit"], leaders[0][1])
quantity_labels = {  # what is written onto the belt, when it is not a gate, in the cell's words
    q: said("belt.vector") if q == "write" else t(f"cell.vector_{q}") for q in QUANTITIES
}


# ------------------------------------------------------------------------------ every unit, every step
labels = quantity_labels | {
    "unit": t("cell.units_axis"),
    "step": t("cell.steps_axis"),
    "max": t("belt.scale_max"),
    "own_scale": t("belt.own_scale"),
}
window_steps = figs.window_width(H)
whole = window_steps < T  # else the window around the cursor already shows the whole input


# The heatmaps rerun on their own, in two nested fragments (st.fragment), so that each setting
# redraws only what it changes: the order of the units reruns `every_unit` (the overview, the
# window around the cursor, the belt's steps), not the rest of the page; moving the cursor reruns
# only `around_the_cursor`, inside it: the overview, the largest figure, is neither rebuilt nor
# resent. Each part reads only its own widgets (plus the model, the input and the layer above),
# and writes its settings to the URL.
@st.fragment
def every_unit() -> None:
    """Every unit of the chosen layer at every step in the chosen order (the overview), then the
    part around the cursor."""
    layer_name = f" · {t('belt.layer_tab', n=layer_index)}" if cfg.num_layers > 1 else ""
    st.subheader(t("belt.heatmaps_title") + layer_name)
    sort_label = labeler("belt.sort_")
    if cfg.kind == "echo":  # its facts are the bit to echo, not quotes and brackets
        echo_first = t("belt.sort_facts_echo")
        sort_label = lambda v, plain=sort_label: echo_first if v == "facts" else plain(v)  # noqa: E731
    sort = params.select(
        P["belt_sort"],
        t("belt.sort"),
        sort_label,
        container=st.columns([2, 3])[0],
        help=t("belt.sort_help", value=t(f"belt.track_{memory}")),
    )
    if sort == "facts":
        order = lead_order
    else:
        order = memo(
            ("order", trace_key, layer_index, sort), lambda: order_units(series["h"], sort)
        )
    value = t(f"belt.track_{memory}")
    st.markdown(said("belt.reading_guide"))
    if sort == "facts" and leaders:  # which rows lead, and how closely each follows its fact
        units = "; ".join(
            t("belt.leader", unit=unit, prop=t(f"belt.property_{name}"), r=r, value=value)
            for name, unit, r in leaders
        )
        st.markdown(t("belt.leaders", units=units))
    if whole and leaders:  # the reading guide beside the heatmaps: the facts drawn on top
        guide = (
            t("belt.where_to_look_echo", value=value, lag=P["belt_lag"].current_default)
            if cfg.kind == "echo"
            else t(
                "belt.where_to_look",
                value=value,
                bars="; ".join(t(f"belt.bar_{name}") for name, _, _ in leaders),
            )
        )
        if source == "belt" and not raw and leaders[0][0] == "quotes":  # the page's own example
            guide += " " + t("belt.where_to_look_belt", unit=leaders[0][1])
        st.markdown(guide)
    if whole:
        st.caption(t("belt.overview_title", n=T))
        shown = [  # each fact drawn above the heatmaps, the unit that follows it under it
            figs.Fact(
                facts[name],
                unit,
                t("belt.fact_row", prop=t(f"belt.property_{name}"), unit=unit, r=r, value=value),
            )
            for name, unit, r in leaders
        ]
        frame.chart(
            figs.belt_overview(series, order, labels, QUANTITIES, shown),
            key="belt_overview",
        )
    around_the_cursor(order)
    params.write_url((P["belt_sort"],))


@st.fragment
def around_the_cursor(order) -> None:
    """Where the cursor is on the whole input, the steps around it for every unit (in `order`),
    and the belt of a few units around it."""
    strip = st.container()
    s1, s2, s3 = st.columns([5, 1.6, 1.9], vertical_alignment="bottom")
    cursor = params.stepper(P["belt_cursor"], t("belt.cursor"), T - 1, "belt", (s1, s2, s3))
    start, stop = figs.window(cursor, T, window_steps)
    if whole:  # on the overview's time axis, right under it
        strip_labels = {"window": t("belt.strip_window", start=start, stop=stop - 1)}
        with strip:
            frame.chart(
                figs.cursor_strip(T, cursor, start, stop, strip_labels),
                key="belt_strip",
            )
    st.markdown(t("belt.at_cursor", t=cursor, token=md_escape(token_label(tokens[cursor]))))
    window = figs.belt_window(
        series, order, cursor, start, stop, tokens, labels, QUANTITIES, colorbars=not whole
    )  # the overview above has them
    frame.chart(window, key="belt_window")
    st.caption(said("belt.heatmaps_caption"))

    st.subheader(t("belt.flow_title"))
    if kind.keeps is None:  # no valve on its memory: nothing kept, nothing added
        st.info(t("belt.flow_no_valve", cell=kind.title), icon=":material/block:")
        params.write_url((P["belt_cursor"],))
        return
    st.markdown(said("belt.flow_intro"))
    best = st.session_state.get("belt.best_unit")
    first = int(order[0])
    params.data_default(
        P["belt_flows"],
        list(  # the page's own pick: left out of the link
            dict.fromkeys([first] + ([best] if best is not None and best < H else []))
        ),
    )
    chosen = params.multiselect(P["belt_flows"], t("belt.flow_units"), list(range(H)))
    flow_start, flow_stop = figs.window(cursor, T, 12)
    if chosen:
        layer = trace.layers[layer_index]
        flows = {u: belt_flow(layer, 0, u) for u in chosen}
        flow_labels = {
            "unit": t("cell.units_axis"),
            "step": t("cell.steps_axis"),
            "start": t("belt.flow_start", t=flow_start),
            "end": t("belt.flow_end", t=flow_stop - 1),
            "removed": said("belt.flow_removed"),
            "added": said("belt.flow_added"),
            "memory": memory,
        }
        frame.chart(
            figs.belt_waterfall(flows, flow_start, flow_stop, tokens, flow_labels),
            key="belt_waterfall",
        )
        st.caption(t("belt.flow_caption", start=flow_start, stop=flow_stop - 1))
        keep = layer.gate(kind.keeps)  # at the cursor, each unit's own numbers
        for u, fl in flows.items():
            st.markdown(
                said(
                    "belt.flow_at_cursor",
                    unit=u,
                    t=cursor,
                    before=float(fl.c_prev[cursor]),
                    keep=float(keep[cursor, 0, u]),
                    kept=float(fl.kept[cursor]),
                    added=float(fl.added[cursor]),
                    after=float(fl.c[cursor]),
                )
            )
    else:
        st.info(t("belt.flow_none"), icon=":material/touch_app:")
    params.write_url((P["belt_cursor"], P["belt_flows"]))


@st.fragment
def one_unit() -> None:
    """One unit's c, h and gates over time, and the input coloured by its value."""
    st.subheader(t("belt.unit_title"))
    u1, u2 = st.columns([1, 3])
    with u1:
        unit = params.number(P["belt_unit"], t("cell.unit", h=H - 1), high=H - 1, step=1)
        track = value_options[0]
        if len(value_options) > 1:  # c or h: a cell with a belt of its own
            track = params.select(P["belt_track"], t("belt.track"), labeler("belt.track_"))
    with u2:
        labels = quantity_labels | {
            "states": said("belt.states"),
            "gates": said("belt.gates") if kind.gates else "",
            "step": t("cell.steps_axis"),
        }
        frame.chart(
            figs.unit_lines({q: v[:, unit] for q, v in series.items()}, tokens, labels),
            key="belt_unit_lines",
        )
    st.markdown(t("belt.colored_caption", unit=unit, value=t(f"belt.track_{track}")))
    frame.chart(
        figs.colored_text(tokens, series[track][:, unit], track, step=t("cell.steps_axis")),
        key="belt_colored",
    )
    params.write_url((P["belt_unit"], P["belt_track"]))


@st.fragment
def find_the_unit() -> None:
    """Rank the units by correlation with a property of the text; colour the best over it."""
    st.subheader(t("belt.find_title"))
    st.markdown(t("belt.find_intro_echo" if cfg.kind == "echo" else "belt.find_intro"))
    options = ("lag", "regex") if cfg.kind == "echo" else TEXT_PROPERTIES
    f1, f2 = st.columns([3, 2])
    prop_name = params.select(
        P["belt_property"],
        t("belt.property"),
        labeler("belt.property_"),
        options=options,
        container=f1,
    )
    prop, problem, option, lag = None, None, "", 0
    with f2:
        if prop_name == "char_class":
            option = params.select(
                P["belt_class"],
                t("belt.char_class"),
                labeler("belt.class_"),
                options=classes_in(cfg.vocab),
                help=t("belt.char_class_help"),
            )
        elif prop_name == "regex":
            option = params.text(
                P["belt_regex"], t("belt.regex"), placeholder='"[^"]*"', help=t("belt.regex_help")
            )
        elif prop_name == "lag":
            lag = params.number(
                P["belt_lag"], t("belt.lag"), high=max(0, T - 1), step=1, help=t("belt.lag_help")
            )
    value = value_options[0]
    if len(value_options) > 1:  # the ranking's own choice: which of the units' values to compare
        value = params.radio(
            P["belt_find_value"],
            t("belt.find_value"),
            labeler("belt.track_"),
            horizontal=True,
            help=t("belt.find_value_help"),
        )
    try:
        if prop_name == "lag":
            prop = lagged(seq.ids[0], lag)
        elif prop_name == "regex" and not option:
            problem = t("belt.regex_empty")
        else:
            prop = text_property("".join(tokens), prop_name, option)
    except PropertyError as exc:
        problem = t("belt.property_bad", reason=explain(exc))
    if problem:
        st.warning(problem, icon=":material/rule:")
    elif prop.std() == 0:
        st.info(t("belt.property_flat"), icon=":material/horizontal_rule:")
    else:
        ranking = memo(
            ("rank", trace_key, layer_index, value, prop.tobytes()),
            lambda: rank_units(series[value], prop),
        )
        best = ranking.order[:3]
        st.session_state["belt.best_unit"] = int(best[0])
        shown = t(f"belt.track_{value}")
        r1, r2 = st.columns([1, 2])
        with r1:
            frame.chart(
                figs.ranking_bars(
                    ranking,
                    min(10, H),
                    {
                        "unit": t("cell.units_axis"),
                        "r": t("belt.r_axis"),
                        "decimal": separators()[0],
                    },
                ),
                key="belt_ranking",
            )
        with r2:
            overlay_labels = {
                "property": t(f"belt.property_{prop_name}"),
                "unit_value": t("belt.best_unit", unit=int(best[0]), value=shown),
                "step": t("cell.steps_axis"),
            }
            frame.chart(
                figs.property_overlay(prop, series[value][:, best[0]], tokens, overlay_labels),
                key="belt_overlay",
            )
        baseline = memo(
            ("untrained", trace_key, layer_index, value, prop.tobytes(), frame.seed()),
            lambda: untrained_best(model, seq.ids, layer_index, value, prop, frame.seed()),
        )
        top = abs(float(ranking.r[best[0]]))
        st.caption(
            t(
                "belt.untrained_best" if top > baseline + 0.05 else "belt.untrained_same",
                r=baseline,
                best=top,
                seed=frame.seed(),
            )
        )
        for rank, u in enumerate(best, start=1):
            st.markdown(t("belt.match", rank=rank, unit=int(u), r=float(ranking.r[u]), value=shown))
            frame.chart(
                figs.colored_text(tokens, series[value][:, u], value, step=t("cell.steps_axis")),
                key=f"belt_match_{rank}",
            )
    params.write_url(
        (P["belt_property"], P["belt_class"], P["belt_regex"], P["belt_lag"], P["belt_find_value"])
    )


every_unit()
one_unit()
find_the_unit()
