"""The conveyor belt: the cell state and the gates of every unit over a whole sequence, the units
that track a property of the text, and what each step takes off and puts on the belt."""

from typing import NamedTuple

import numpy as np
import streamlit as st

from lstm_core import Model, ModelConfig
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
from lstm_core.cells import CellKind, cell_kind
from lstm_core.inputs import PreparedInput, prepare_input
from lstm_core.model import Trace
from ui import frame, models, params, rewind, samples, state, uploads
from ui.figures import belt as figs
from ui.i18n import current_language, explain, labeler, said_by, separators, t
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


MEMO = state.Memo("belt.memo", 17)  # one computed value per key, the latest 17 of the session


class Belt(NamedTuple):
    """What every section of the page reads: the model, its input, its trace (cached) and the
    facts its units are ranked against."""

    source: str  # where the model comes from (SOURCES)
    model: Model
    kind: CellKind  # what carries its memory, and what the page draws of it
    raw: str  # the input as typed ("": the model's own example)
    seq: PreparedInput
    layer_index: int
    trace: Trace
    trace_key: tuple  # (model, input): what every cached value below was computed for
    series: dict  # each quantity of the layer, (T, H)
    facts: dict  # the facts the "facts" order leads with (tracked_facts)
    lead_order: np.ndarray
    leaders: list  # (fact, unit, r): the unit that follows each fact most closely
    quantity_labels: dict  # what each row of the heatmaps is, in the cell's words

    @property
    def cfg(self) -> ModelConfig:
        return self.model.config

    @property
    def tokens(self) -> list[str]:
        return self.seq.tokens

    @property
    def memory(self) -> str:
        """The belt: c, or (a GRU, a plain RNN) h itself."""
        return self.kind.memory

    @property
    def value_options(self) -> tuple[str, ...]:
        """What a unit's value can be read from."""
        return tuple(dict.fromkeys((self.kind.memory, "h")))

    @property
    def labels(self) -> dict:
        """The heatmaps' words."""
        return self.quantity_labels | {
            "unit": t("cell.units_axis"),
            "step": t("cell.steps_axis"),
            "max": t("belt.scale_max"),
            "own_scale": t("belt.own_scale"),
        }

    @property
    def window_steps(self) -> int:
        return figs.window_width(self.cfg.hidden_size)

    @property
    def whole(self) -> bool:
        """An overview of the whole input above the window around the cursor (else that window
        shows the whole input already)."""
        return self.window_steps < len(self.tokens)

    def said(self, key: str, **values) -> str:
        return said_by(self.kind.name)(key, **values)

    def cached(self, name: str, *key, compute):
        """A value computed once for this model and input (and `key`), from the session's memo."""
        return MEMO.get((name, self.trace_key, *key), compute)


# ------------------------------------------------------------------------------ the model
def model_section() -> tuple[str, Model, str, int]:
    """(the source chosen, its model at the step asked for, the key it is cached under, the
    layer shown)."""
    top_left, top_right = st.columns([4, 1])
    source = params.select(
        P["belt_model"], t("belt.model"), labeler("belt.model_"), container=top_left
    )
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
    kind = cell_kind(cfg.cell)
    said = said_by(kind.name)
    st.caption(
        t(
            "belt.model_facts",
            kind=t(f"belt.kind_{cfg.kind.replace('-', '_')}"),
            cell=kind.title,
            h=cfg.hidden_size,
            layers=cfg.num_layers,
        )
    )
    st.info(said("belt.role"), icon=":material/conveyor_belt:")  # what is the belt here
    # what its text asks a model to keep, so what to look for in its units
    if source in samples.BELT_MODELS:
        st.caption(t("belt.belt_text_note"))
    return source, model, model_key, layer_index


# ------------------------------------------------------------------------------ the input
def input_section(model: Model, source: str) -> tuple[str, PreparedInput]:
    """(the input as typed, the tokens the model reads: the model's own example if none)."""
    cfg = model.config
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
            t(
                "belt.dropped_bits" if cfg.kind == "echo" else "belt.dropped_chars",
                chars=shown + more,
            ),
            icon=":material/filter_alt:",
        )
    if seq.lowercased:
        st.info(t("cell.lowercased"), icon=":material/text_fields:")
    if len(seq.tokens) < 2:
        st.warning(t("belt.too_short"), icon=":material/block:")
        seq = prepare_input(model, example, limit=MAX_TEXT)
    return raw, seq


# ------------------------------------------------------------------------------ the trace (cached)
def tracked_facts(model: Model, seq: PreparedInput) -> dict:
    """What the "facts" order leads with: in a text, whether a quotation is open and how many
    brackets are; for an echo model, the bit waiting to be echoed (the page's default lag)."""
    if model.config.kind == "echo":
        return {"lag": lagged(seq.ids[0], P["belt_lag"].current_default)}
    text = "".join(seq.tokens)
    return {name: text_property(text, name) for name in ("quotes", "parens")}


def traced(
    source: str, model: Model, model_key: str, layer_index: int, raw: str, seq: PreparedInput
) -> Belt:
    """The model run over the input, its layer's series and the units that follow the facts,
    each computed once for this model and input (the session's memo)."""
    kind = cell_kind(model.config.cell)
    trace_key = (model_key, "".join(seq.tokens))
    trace = MEMO.get(("trace", trace_key), lambda: model.run(seq.ids))
    series = MEMO.get(
        ("series", trace_key, layer_index), lambda: belt_series(trace.layers[layer_index])
    )
    # the units whose belt (c; h for a GRU or a plain RNN) follows those facts most closely
    facts = MEMO.get(("facts", trace_key), lambda: tracked_facts(model, seq))
    lead_order, leaders = MEMO.get(
        ("lead", trace_key, layer_index),
        lambda: leading_units(series[kind.memory], series["h"], facts),
    )
    quantity_labels = {  # what is written onto the belt, when it is not a gate, in the cell's words
        q: said_by(kind.name)("belt.vector") if q == "write" else t(f"cell.vector_{q}")
        for q in kind.belt_rows
    }
    return Belt(
        source=source,
        model=model,
        kind=kind,
        raw=raw,
        seq=seq,
        layer_index=layer_index,
        trace=trace,
        trace_key=trace_key,
        series=series,
        facts=facts,
        lead_order=lead_order,
        leaders=leaders,
        quantity_labels=quantity_labels,
    )


# ------------------------------------------------------------------------------ every unit, every step
@st.fragment
def every_unit(b: Belt) -> None:
    """Every unit of the chosen layer at every step in the chosen order (the overview), then the
    part around the cursor."""
    T = len(b.tokens)
    layer_name = f" · {t('belt.layer_tab', n=b.layer_index)}" if b.cfg.num_layers > 1 else ""
    st.subheader(t("belt.heatmaps_title") + layer_name)
    sort_label = labeler("belt.sort_")
    if b.cfg.kind == "echo":  # its b.facts are the bit to echo, not quotes and brackets
        echo_first = t("belt.sort_facts_echo")
        sort_label = lambda v, plain=sort_label: echo_first if v == "facts" else plain(v)  # noqa: E731
    sort = params.select(
        P["belt_sort"],
        t("belt.sort"),
        sort_label,
        container=st.columns([2, 3])[0],
        help=t("belt.sort_help", value=t(f"belt.track_{b.memory}")),
    )
    if sort == "facts":
        order = b.lead_order
    else:
        order = b.cached(
            "order", b.layer_index, sort, compute=lambda: order_units(b.series["h"], sort)
        )
    value = t(f"belt.track_{b.memory}")
    st.markdown(b.said("belt.reading_guide"))
    if sort == "facts" and b.leaders:  # which rows lead, and how closely each follows its fact
        units = "; ".join(
            t("belt.leader", unit=unit, prop=t(f"belt.property_{name}"), r=r, value=value)
            for name, unit, r in b.leaders
        )
        st.markdown(t("belt.leaders", units=units))
    if b.whole and b.leaders:  # the reading guide beside the heatmaps: the b.facts drawn on top
        guide = (
            t("belt.where_to_look_echo", value=value, lag=P["belt_lag"].current_default)
            if b.cfg.kind == "echo"
            else t(
                "belt.where_to_look",
                value=value,
                bars="; ".join(t(f"belt.bar_{name}") for name, _, _ in b.leaders),
            )
        )
        if (
            b.source == "belt" and not b.raw and b.leaders[0][0] == "quotes"
        ):  # the page's own example
            guide += " " + t("belt.where_to_look_belt", unit=b.leaders[0][1])
        st.markdown(guide)
    if b.whole:
        st.caption(t("belt.overview_title", n=T))
        shown = [  # each fact drawn above the heatmaps, the unit that follows it under it
            figs.Fact(
                b.facts[name],
                unit,
                t("belt.fact_row", prop=t(f"belt.property_{name}"), unit=unit, r=r, value=value),
            )
            for name, unit, r in b.leaders
        ]
        frame.chart(
            figs.belt_overview(b.series, order, b.labels, b.kind.belt_rows, shown),
            key="belt_overview",
        )
    around_the_cursor(b, order)
    params.write_url((P["belt_sort"],))


@st.fragment
def around_the_cursor(b: Belt, order) -> None:
    """Where the cursor is on the b.whole input, the steps around it for every unit (in `order`),
    and the belt of a few units around it."""
    T, H = len(b.tokens), b.cfg.hidden_size
    strip = st.container()
    s1, s2, s3 = st.columns([5, 1.6, 1.9], vertical_alignment="bottom")
    cursor = params.stepper(P["belt_cursor"], t("belt.cursor"), T - 1, "belt", (s1, s2, s3))
    start, stop = figs.window(cursor, T, b.window_steps)
    if b.whole:  # on the overview's time axis, right under it
        strip_labels = {"window": t("belt.strip_window", start=start, stop=stop - 1)}
        with strip:
            frame.chart(
                figs.cursor_strip(T, cursor, start, stop, strip_labels),
                key="belt_strip",
            )
    st.markdown(t("belt.at_cursor", t=cursor, token=md_escape(token_label(b.tokens[cursor]))))
    window = figs.belt_window(
        b.series,
        order,
        cursor,
        start,
        stop,
        b.tokens,
        b.labels,
        b.kind.belt_rows,
        colorbars=not b.whole,
    )  # the overview above has them
    frame.chart(window, key="belt_window")
    st.caption(b.said("belt.heatmaps_caption"))

    st.subheader(t("belt.flow_title"))
    if b.kind.keeps is None:  # no valve on its memory: nothing kept, nothing added
        st.info(t("belt.flow_no_valve", cell=b.kind.title), icon=":material/block:")
        params.write_url((P["belt_cursor"],))
        return
    st.markdown(b.said("belt.flow_intro"))
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
        layer = b.trace.layers[b.layer_index]
        flows = {u: belt_flow(layer, 0, u) for u in chosen}
        flow_labels = {
            "unit": t("cell.units_axis"),
            "step": t("cell.steps_axis"),
            "start": t("belt.flow_start", t=flow_start),
            "end": t("belt.flow_end", t=flow_stop - 1),
            "removed": b.said("belt.flow_removed"),
            "added": b.said("belt.flow_added"),
            "memory": b.memory,
        }
        frame.chart(
            figs.belt_waterfall(flows, flow_start, flow_stop, b.tokens, flow_labels),
            key="belt_waterfall",
        )
        st.caption(t("belt.flow_caption", start=flow_start, stop=flow_stop - 1))
        keep = layer.gate(b.kind.keeps)  # at the cursor, each unit's own numbers
        for u, fl in flows.items():
            st.markdown(
                b.said(
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
def one_unit(b: Belt) -> None:
    """One unit's c, h and gates over time, and the input coloured by its value."""
    H = b.cfg.hidden_size
    st.subheader(t("belt.unit_title"))
    u1, u2 = st.columns([1, 3])
    with u1:
        unit = params.number(P["belt_unit"], t("cell.unit", h=H - 1), high=H - 1, step=1)
        track = b.value_options[0]
        if len(b.value_options) > 1:  # c or h: a cell with a belt of its own
            track = params.select(P["belt_track"], t("belt.track"), labeler("belt.track_"))
    with u2:
        labels = b.quantity_labels | {
            "states": b.said("belt.states"),
            "gates": b.said("belt.gates") if b.kind.gates else "",
            "step": t("cell.steps_axis"),
        }
        frame.chart(
            figs.unit_lines({q: v[:, unit] for q, v in b.series.items()}, b.tokens, labels),
            key="belt_unit_lines",
        )
    st.markdown(t("belt.colored_caption", unit=unit, value=t(f"belt.track_{track}")))
    frame.chart(
        figs.colored_text(b.tokens, b.series[track][:, unit], track, step=t("cell.steps_axis")),
        key="belt_colored",
    )
    params.write_url((P["belt_unit"], P["belt_track"]))


@st.fragment
def find_the_unit(b: Belt) -> None:
    """Rank the units by correlation with a property of the text; colour the best over it."""
    T, H = len(b.tokens), b.cfg.hidden_size
    st.subheader(t("belt.find_title"))
    st.markdown(t("belt.find_intro_echo" if b.cfg.kind == "echo" else "belt.find_intro"))
    options = ("lag", "regex") if b.cfg.kind == "echo" else TEXT_PROPERTIES
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
                options=classes_in(b.cfg.vocab),
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
    value = b.value_options[0]
    if len(b.value_options) > 1:  # the ranking's own choice: which of the units' values to compare
        value = params.radio(
            P["belt_find_value"],
            t("belt.find_value"),
            labeler("belt.track_"),
            horizontal=True,
            help=t("belt.find_value_help"),
        )
    try:
        if prop_name == "lag":
            prop = lagged(b.seq.ids[0], lag)
        elif prop_name == "regex" and not option:
            problem = t("belt.regex_empty")
        else:
            prop = text_property("".join(b.tokens), prop_name, option)
    except PropertyError as exc:
        problem = t("belt.property_bad", reason=explain(exc))
    if problem:
        st.warning(problem, icon=":material/rule:")
    elif prop.std() == 0:
        st.info(t("belt.property_flat"), icon=":material/horizontal_rule:")
    else:
        ranking = b.cached(
            "rank",
            b.layer_index,
            value,
            prop.tobytes(),
            compute=lambda: rank_units(b.series[value], prop),
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
                figs.property_overlay(prop, b.series[value][:, best[0]], b.tokens, overlay_labels),
                key="belt_overlay",
            )
        baseline = b.cached(
            "untrained",
            b.layer_index,
            value,
            prop.tobytes(),
            frame.seed(),
            compute=lambda: untrained_best(
                b.model, b.seq.ids, b.layer_index, value, prop, frame.seed()
            ),
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
                figs.colored_text(
                    b.tokens, b.series[value][:, u], value, step=t("cell.steps_axis")
                ),
                key=f"belt_match_{rank}",
            )
    params.write_url(
        (P["belt_property"], P["belt_class"], P["belt_regex"], P["belt_lag"], P["belt_find_value"])
    )


# ==================================================================================== the page
params.setup("belt")
frame.header("belt")
source, model, model_key, layer_index = model_section()
raw, seq = input_section(model, source)
belt = traced(source, model, model_key, layer_index, raw, seq)
if (
    belt.leaders
):  # "One unit" opens on the first of them (the page's own pick: left out of the link)
    params.data_default(P["belt_unit"], belt.leaders[0][1])
every_unit(belt)
one_unit(belt)
find_the_unit(belt)
