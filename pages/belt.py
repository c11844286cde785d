"""The conveyor belt: the cell state and the gates of every unit over a whole sequence, the units
that track a property of the text, and what each step takes off and puts on the belt."""

import hashlib

import streamlit as st

from ui import frame

frame.enter()

import lstm_core  # noqa: E402
from lstm_core.analysis import (  # noqa: E402
    CHAR_CLASSES,
    PropertyError,
    belt_flow,
    lagged,
    order_units,
    rank_units,
    text_property,
)
from ui import models, params  # noqa: E402
from ui.figures import belt as figs  # noqa: E402
from ui.i18n import explain, labeler, t  # noqa: E402
from ui.params import Param  # noqa: E402
from ui.safe import md_escape, token_label  # noqa: E402

SOURCES = ("text_en", "text_es", "logbook", "echo_trained", "upload", "text_random", "echo_random")
TEXT_PROPERTIES = ("quotes", "parens", "word_position", "since_newline", "char_class", "regex")
MAX_TEXT, MAX_UPLOAD_MB = 400, 20
P = params.register(
    "belt",
    (
        Param("belt_model", "text_en", "choice", options=SOURCES),
        Param("belt_units", 64, "int", low=1, high=256),
        Param("belt_text", "", "text", max_length=MAX_TEXT),
        Param("belt_layer", 0, "int", low=0, high=2),
        Param("belt_sort", "cluster", "choice", options=("index", "activity", "cluster")),
        Param("belt_cursor", 0, "int", low=0, high=MAX_TEXT - 1),
        Param("belt_unit", 0, "int", low=0, high=4095),
        Param("belt_property", "quotes", "choice", options=(*TEXT_PROPERTIES, "lag")),
        Param("belt_class", "vowel", "choice", options=CHAR_CLASSES),
        Param("belt_regex", "", "text", max_length=200),
        Param("belt_lag", 3, "int", low=0, high=50),
        Param("belt_track", "c", "choice", options=("c", "h")),
        Param("belt_flows", (), "ints", low=0, high=4095, max_length=4),
    ),
)
STATIC = {"displayModeBar": False}
params.setup("belt")
frame.header("belt")


# ------------------------------------------------------------------------------ the model
def uploaded_model():
    """The checkpoint this session uploaded, or None (a bad file gets one line and no model)."""
    file = st.file_uploader(t("belt.upload", mb=MAX_UPLOAD_MB), type=["npz"], key="belt_upload")
    if file is not None:
        data = file.getvalue()
        digest = hashlib.sha256(data).hexdigest()[:16]
        if st.session_state.get("belt.upload_digest") != digest:
            st.session_state.pop("belt.uploaded", None)
            st.session_state["belt.upload_digest"] = digest
            try:
                st.session_state["belt.uploaded"] = (digest, lstm_core.load_checkpoint(data))
            except lstm_core.CheckpointError as exc:
                st.session_state["belt.upload_error"] = exc.as_dict()
            else:
                st.session_state.pop("belt.upload_error", None)
    if "belt.upload_error" in st.session_state:
        st.error(
            t("belt.upload_bad", reason=explain(st.session_state["belt.upload_error"])),
            icon=":material/error:",
        )
    return st.session_state.get("belt.uploaded")


top_left, top_middle, top_right = st.columns([2, 1, 1])
source = params.select(P["belt_model"], t("belt.model"), labeler("belt.model_"), container=top_left)
if source == "upload":
    with top_left:
        uploaded = uploaded_model()
    if uploaded is None:
        st.info(t("belt.upload_first"), icon=":material/upload_file:")
        st.stop()
    model_key, model = uploaded
    if model.config.cell != "lstm":
        st.warning(t("belt.not_lstm"), icon=":material/block:")
        st.stop()
else:
    units = 8
    if source.endswith("random"):
        units = params.number(P["belt_units"], t("belt.units"), step=1, container=top_middle)
    with st.spinner(t("cell.training_echo")):
        model = models.get(source, units, frame.seed())
    model_key = f"{source}/{units}/{frame.seed()}"
cfg = model.config
with top_right:
    layer_index = 0
    if cfg.num_layers > 1:
        layer_index = params.number(
            P["belt_layer"], t("belt.layer", n=cfg.num_layers - 1), high=cfg.num_layers - 1, step=1
        )
    st.caption(
        t(
            "belt.model_facts",
            kind=t(f"belt.kind_{cfg.kind.replace('-', '_')}"),
            h=cfg.hidden_size,
            layers=cfg.num_layers,
        )
    )

# ------------------------------------------------------------------------------ the input
example = models.belt_example(model, source)
raw = params.text_area(P["belt_text"], t("belt.input_bits" if cfg.kind == "echo" else "belt.input_text"),
                       placeholder=example, height=90, help=t("belt.input_help", n=MAX_TEXT))  # fmt: skip
if len(raw) > MAX_TEXT:
    st.warning(t("belt.truncated", n=MAX_TEXT, got=len(raw)), icon=":material/content_cut:")
seq = models.prepare_input(model, (raw or example)[: MAX_TEXT * 4], limit=MAX_TEXT)
if seq.dropped:
    shown = " ".join(md_escape(token_label(ch)) for ch in seq.dropped[:16])
    more = t("belt.and_more", n=len(seq.dropped) - 16) if len(seq.dropped) > 16 else ""
    st.warning(t("belt.dropped_bits" if cfg.kind == "echo" else "belt.dropped_chars", chars=shown + more),
               icon=":material/filter_alt:")  # fmt: skip
if seq.lowercased:
    st.info(t("cell.lowercased"), icon=":material/text_fields:")
if len(seq.tokens) < 2:
    st.warning(t("belt.too_short"), icon=":material/block:")
    seq = models.prepare_input(model, example, limit=MAX_TEXT)
tokens = seq.tokens
T, H = len(tokens), cfg.hidden_size


# ------------------------------------------------------------------------------ the trace (cached)
def memo(key, compute):
    """One computed value per key, kept for this session only (the latest few)."""
    cache = st.session_state.setdefault("belt.memo", {})
    if key not in cache:
        if len(cache) > 12:
            cache.pop(next(iter(cache)))
        cache[key] = compute()
    return cache[key]


trace_key = (model_key, "".join(tokens))
trace = memo(("trace", trace_key), lambda: model.run(seq.ids))
layer = trace.layers[layer_index]
series = memo(("series", trace_key, layer_index), lambda: {
    "c": layer.c[1:, 0], "h": layer.h[1:, 0], **{q: layer.gate(q)[:, 0] for q in ("f", "i", "g", "o")},
})  # fmt: skip


# Three parts of the page rerun on their own (st.fragment), so that moving the cursor redraws the
# heatmaps and the belt waterfall but not the rest, and so on. Each writes its settings to the URL.
@st.fragment
def heatmaps_and_belt() -> None:
    """Every unit at every step, with the cursor; then the belt of a few units around the cursor."""
    st.subheader(t("belt.heatmaps_title"))
    s1, s2, s3, s4 = st.columns([2, 5, 1.1, 1.3], vertical_alignment="bottom")
    sort = params.select(
        P["belt_sort"],
        t("belt.sort"),
        labeler("belt.sort_"),
        container=s1,
        help=t("belt.sort_help"),
    )
    cursor = params.stepper(P["belt_cursor"], t("belt.cursor"), T - 1, "belt", (s2, s3, s4))
    order = memo(("order", trace_key, layer_index, sort), lambda: order_units(series["h"], sort))
    st.markdown(t("belt.at_cursor", t=cursor, token=md_escape(token_label(tokens[cursor]))))
    labels = {q: t(f"cell.vector_{q}") for q in figs.QUANTITIES} | {
        "unit": t("cell.units_axis"), "step": t("cell.steps_axis"), "open": t("belt.open")}  # fmt: skip
    st.plotly_chart(figs.belt_heatmaps(series, order, cursor, tokens, labels), key="belt_heatmaps")
    st.caption(t("belt.heatmaps_caption", first=int(order[0])))

    st.subheader(t("belt.flow_title"))
    st.markdown(t("belt.flow_intro"))
    if "belt_flows" not in st.session_state:
        best = st.session_state.get("belt.best_unit")
        st.session_state["belt_flows"] = list(
            dict.fromkeys([int(order[0])] + ([best] if best is not None and best < H else []))
        )
    chosen = params.multiselect(P["belt_flows"], t("belt.flow_units"), list(range(H)))
    window = 12
    start = max(0, min(cursor - window // 2, T - window))
    stop = min(T, start + window)
    if chosen:
        flows = {u: belt_flow(layer, 0, u) for u in chosen}
        flow_labels = {"unit": t("cell.units_axis"), "start": t("belt.flow_start", t=start), "end": t("belt.flow_end", t=stop - 1),
                       "removed": t("belt.flow_removed"), "added": t("belt.flow_added")}  # fmt: skip
        st.plotly_chart(
            figs.belt_waterfall(flows, start, stop, tokens, flow_labels),
            key="belt_waterfall",
            config=STATIC,
        )
        st.caption(t("belt.flow_caption", start=start, stop=stop - 1))
    else:
        st.info(t("belt.flow_none"), icon=":material/touch_app:")
    params.write_url((P["belt_sort"], P["belt_cursor"], P["belt_flows"]))


@st.fragment
def one_unit() -> None:
    """One unit's c, h and gates over time, and the input coloured by its value."""
    st.subheader(t("belt.unit_title"))
    u1, u2 = st.columns([1, 3])
    with u1:
        unit = params.number(P["belt_unit"], t("cell.unit", h=H - 1), high=H - 1, step=1)
        track = params.select(P["belt_track"], t("belt.track"), labeler("belt.track_"))
    with u2:
        labels = {"states": t("belt.states"), "gates": t("belt.gates")} | {
            q: t(f"cell.vector_{q}") for q in figs.QUANTITIES
        }
        st.plotly_chart(figs.unit_lines({q: series[q][:, unit] for q in figs.QUANTITIES}, tokens, labels),
                        key="belt_unit_lines", config=STATIC)  # fmt: skip
    st.markdown(t("belt.colored_caption", unit=unit, value=t(f"belt.track_{track}")))
    st.plotly_chart(
        figs.colored_text(tokens, series[track][:, unit], track), key="belt_colored", config=STATIC
    )
    params.write_url((P["belt_unit"], P["belt_track"]))


@st.fragment
def find_the_unit() -> None:
    """Rank the units by correlation with a property of the text; colour the best over it."""
    st.subheader(t("belt.find_title"))
    st.markdown(t("belt.find_intro_echo" if cfg.kind == "echo" else "belt.find_intro"))
    options = ("lag", "regex") if cfg.kind == "echo" else TEXT_PROPERTIES
    if st.session_state.get("belt_property") not in options:
        st.session_state["belt_property"] = options[0]
    track = st.session_state.get("belt_track", "c")
    f1, f2 = st.columns([1, 1])
    prop_name = params.select(
        P["belt_property"], t("belt.property"), labeler("belt.property_"), container=f1
    )
    prop, problem, option, lag = None, None, "", 0
    with f2:
        if prop_name == "char_class":
            option = params.select(P["belt_class"], t("belt.char_class"), labeler("belt.class_"))
        elif prop_name == "regex":
            option = params.text(
                P["belt_regex"], t("belt.regex"), placeholder='"[^"]*"', help=t("belt.regex_help")
            )
        elif prop_name == "lag":
            lag = params.number(
                P["belt_lag"], t("belt.lag"), high=max(0, T - 1), step=1, help=t("belt.lag_help")
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
            ("rank", trace_key, layer_index, track, prop.tobytes()),
            lambda: rank_units(series[track], prop),
        )
        best = ranking.order[:3]
        st.session_state["belt.best_unit"] = int(best[0])
        r1, r2 = st.columns([1, 2])
        with r1:
            st.plotly_chart(figs.ranking_bars(ranking, min(10, H), {"unit": t("cell.units_axis"), "r": t("belt.r_axis")}),
                            key="belt_ranking", config=STATIC)  # fmt: skip
        with r2:
            overlay_labels = {
                "property": t(f"belt.property_{prop_name}"),
                "unit_value": t("belt.best_unit", unit=int(best[0]), value=track),
            }
            st.plotly_chart(figs.property_overlay(prop, series[track][:, best[0]], tokens, overlay_labels),
                            key="belt_overlay", config=STATIC)  # fmt: skip
        for rank, u in enumerate(best, start=1):
            st.markdown(t("belt.match", rank=rank, unit=int(u), r=float(ranking.r[u]), value=track))
            st.plotly_chart(
                figs.colored_text(tokens, series[track][:, u], track),
                key=f"belt_match_{rank}",
                config=STATIC,
            )
    params.write_url((P["belt_property"], P["belt_class"], P["belt_regex"], P["belt_lag"]))


heatmaps_and_belt()
one_unit()
find_the_unit()
