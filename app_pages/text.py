"""Text generation: train a character LSTM on a text (a novel, a sample, a generated logbook)
and watch it write, character by character, with the probabilities and the memory behind
each character. The paper's case study, live."""

import functools
import hashlib

import streamlit as st

import lstm_core
from lstm_core import Model, ModelConfig, TextError, Vocabulary, checkpoint_bytes
from lstm_core.cells import DEFAULT_CELL, NAMES
from lstm_core.explain import top_predictions
from lstm_core.fetch import FetchError, fetch_text
from lstm_core.sampling import DEFAULT_TEMPERATURE, retemper
from lstm_core.text import BITS_PER_NAT, overfitting
from lstm_core.training import TextSettings
from ui import corpora, frame, load, params, rewind, rewind_text, samples, uploads
from ui.background import BackgroundText
from ui.figures import belt as belt_figs
from ui.figures import cell as cell_figs
from ui.figures import text as figs
from ui.generation import Generation
from ui.i18n import explain, labeler, num, number_style, t
from ui.params import Param
from ui.safe import md_escape, token_label
from ui.state import Kept

SPEEDS = {"instant": None, "fast": 60, "medium": 20, "slow": 6}  # characters per second
TRAINING = TextSettings()  # the defaults of the training settings below
P = params.register(
    "text",
    (
        Param(
            "corpus",
            params.ByLanguage(en="logbook", es="story_es"),
            "choice",
            options=corpora.SOURCES,
        ),
        Param("lowercase", True, "bool"),
        Param("url", "", "text", max_length=500),
        Param("model", "sample", "choice", options=("sample", "new", "upload")),
        Param("cell", DEFAULT_CELL, "choice", options=NAMES),  # what a new model is made of
        Param("hidden_size", 128, "int", low=1, high=512),
        Param("num_layers", 1, "int", low=1, high=3),
        Param("seq_length", TRAINING.seq_length, "int", low=2, high=400),
        Param("batch_size", TRAINING.batch_size, "int", low=1, high=256),
        Param("learning_rate", TRAINING.learning_rate, "float", low=1e-6, high=100.0),
        Param("optimizer", TRAINING.optimizer, "choice", options=("adam", "adagrad", "sgd")),
        Param("dropout", TRAINING.dropout, "float", low=0.0, high=0.9),
        Param("temperature", DEFAULT_TEMPERATURE, "float", low=0.0, high=3.0),
        Param("seed_text", "", "text", max_length=500, aliases=("prime",)),
        Param("length", 300, "int", low=1, high=2000),
        Param("top_k", 0, "int", low=0, high=500),
        Param("speed", "fast", "choice", options=tuple(SPEEDS)),
        Param("position", 0, "int", low=0, high=1999),
        Param("unit", 0, "int", low=0, high=4095),
        Param("color_text", False, "bool"),
        rewind.step_param("at_step"),
    ),
)
params.setup("text")
frame.header("text")


PAPER = {  # the paper's setup (see text.paper_setup); the rest keeps the page's defaults
    "model": "new",
    "cell": DEFAULT_CELL,  # the paper's LSTM
    "lowercase": True,
    "hidden_size": 256,
    "num_layers": 1,
    "seq_length": 60,
    "dropout": 0.2,
    "optimizer": "adam",
    "learning_rate": TRAINING.learning_rate,
    "batch_size": TRAINING.batch_size,
}
PAPER_SEED = 60  # characters in the paper's seed window


def training_settings(expanded: bool) -> None:
    """The training hyperparameters (mirrored in the URL), in an expander."""
    with st.expander(t("text.settings"), expanded=expanded):
        k1, k2, k3, k4, k5 = st.columns(5)
        params.number(
            P["seq_length"], t("text.seq_length"), step=10, container=k1, help=t("text.seq_help")
        )
        params.number(
            P["batch_size"], t("text.batch_size"), step=8, container=k2, help=t("text.batch_help")
        )
        params.number(
            P["learning_rate"],
            t("text.learning_rate"),
            step=0.001,
            format="%g",
            container=k3,
            help=t("text.learning_rate_help"),
        )
        params.select(
            P["optimizer"],
            t("text.optimizer"),
            labeler("text.optimizer_"),
            container=k4,
            help=t("text.optimizer_help"),
        )
        params.stepped(
            P["dropout"],
            t("text.dropout"),
            0.05,
            ".0%",
            container=k5,
            help=t("text.dropout_help"),
        )


# ==================================================================================== the corpus
st.subheader(t("text.corpus_title"))
c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
corpus_id = params.select(P["corpus"], t("text.corpus"), labeler("text.corpus_"), container=c1)
lowercase = params.toggle(
    P["lowercase"], t("text.lowercase"), container=c2, help=t("text.lowercase_help")
)
raw_text, corpus_notes = None, []
if corpus_id in samples.SAMPLES:
    raw_text = samples.text(corpus_id)
elif corpus_id == "upload":
    data, name = uploads.uploaded_file(
        "gen_text_upload", ["txt"], t("text.upload_text", mb=uploads.limit_mb())
    )
    if data is not None:
        try:
            loaded = lstm_core.decode_text(data)
            raw_text, corpus_notes = loaded.text, [loaded.notice_code]
            if not raw_text.strip():
                st.error(
                    t("text.bad_text", name=md_escape(name), reason=t("errors.text_empty")),
                    icon=":material/error:",
                )
        except TextError as exc:
            st.error(
                t("text.bad_text", name=md_escape(name), reason=explain(exc)),
                icon=":material/error:",
            )
elif corpus_id == "paste":
    pasted = st.text_area(
        t("text.paste"), key="text.paste", height=160, placeholder=t("text.paste_hint")
    )
    raw_text = pasted or None
else:
    u1, u2 = st.columns([4, 1], vertical_alignment="bottom")
    address = params.text(
        P["url"],
        t("text.url"),
        container=u1,
        placeholder="https://www.gutenberg.org/cache/epub/…/pg….txt",
    )

    def fetch() -> None:
        try:
            got = fetch_text(st.session_state.get("url", ""))
            st.session_state["text.fetched"] = (
                st.session_state.get("url", ""),
                got.text,
                got.notice_codes,
            )
            st.session_state.pop("text.fetch_error", None)
        except FetchError as exc:
            st.session_state["text.fetch_error"] = exc.as_dict()

    u2.button(
        t("text.fetch"),
        key="gen_fetch",
        on_click=fetch,
        icon=":material/download:",
        width="stretch",
    )
    if "text.fetch_error" in st.session_state:
        st.error(
            t("text.fetch_failed", reason=explain(st.session_state["text.fetch_error"])),
            icon=":material/cloud_off:",
        )
    fetched = st.session_state.get("text.fetched")
    if fetched is not None and fetched[0] == address:
        raw_text, corpus_notes = fetched[1], fetched[2]
for note in filter(None, corpus_notes):
    st.info(t(f"text.notice_{note}"), icon=":material/info:")
if not raw_text:
    st.info(
        t(
            f"text.need_{corpus_id}"
            if corpus_id in ("upload", "paste", "url")
            else "text.need_text"
        ),
        icon=":material/description:",
    )
    frame.stop()

# ==================================================================================== the model
st.subheader(t("text.model_title"))
m1, m2, m3 = st.columns([2, 1, 1])
choice = params.radio(
    P["model"], t("text.model"), labeler("text.model_"), container=m1, horizontal=True
)
hidden, layers, cell = P["hidden_size"].default, P["num_layers"].default, P["cell"].default
if choice == "new":
    cell = params.radio(
        P["cell"],
        t("text.cell"),
        labeler("text.cell_"),
        container=m1,
        horizontal=True,
        help=t("text.cell_help"),
    )
    hidden = params.number(
        P["hidden_size"], t("text.hidden_size"), step=16, container=m2, help=t("text.hidden_help")
    )
    layers = params.number(
        P["num_layers"], t("text.num_layers"), step=1, container=m3, help=t("text.layers_help")
    )
model_key, base = None, None
if choice == "sample":
    # a text of your own: the sample model of the session's language (its default corpus)
    sample = corpus_id if corpus_id in samples.SAMPLES else P["corpus"].current_default
    base, model_key = samples.model(sample), ("sample", sample)
    m2.caption(
        t(
            "text.sample_model",
            h=base.config.hidden_size,
            layers=base.config.num_layers,
            name=t(f"text.sample_title_{sample}"),
        )
    )
elif choice == "upload":
    with m2:
        uploaded = uploads.uploaded_checkpoint(
            "text", t("text.upload_ckpt", mb=uploads.limit_mb()), key="gen_ckpt_upload"
        )
    base = uploaded[1] if uploaded is not None else None
    if base is not None and base.config.kind != "char-lm":
        st.error(t("text.not_char_model"), icon=":material/error:")
        base = None
    if base is None:
        st.info(t("text.need_ckpt"), icon=":material/upload_file:")
        frame.stop()
    model_key = ("upload", uploaded[0])

settings = TextSettings(
    seq_length=int(st.session_state.get("seq_length", TRAINING.seq_length)),
    batch_size=int(st.session_state.get("batch_size", TRAINING.batch_size)),
    learning_rate=float(st.session_state.get("learning_rate", TRAINING.learning_rate)),
    optimizer=st.session_state.get("optimizer", TRAINING.optimizer),
    dropout=float(st.session_state.get("dropout", TRAINING.dropout)),
    seed=frame.seed(),
)
if base is not None and base.config.lowercase != lowercase:
    st.info(
        t("text.model_case", lower=t("text.yes" if base.config.lowercase else "text.no")),
        icon=":material/text_fields:",
    )
    lowercase = base.config.lowercase
try:
    vocab = Vocabulary(base.config.vocab) if base is not None else None
    corpus = corpora.prepare(raw_text, lowercase, settings.seq_length, vocab)
except TextError as exc:
    st.error(t("text.cannot_train", reason=explain(exc)), icon=":material/block:")
    if exc.code == "text_short_window":  # a shorter window may do: keep that setting at hand
        training_settings(expanded=True)
    frame.stop()
corpus_hash = hashlib.sha256(corpus.text.encode("utf-8")).hexdigest()[:16]
if base is None:
    model_key = ("new", cell, hidden, layers, frame.seed())
    config = ModelConfig(
        "char-lm",
        cell,
        len(corpus.vocab),
        int(hidden),
        int(layers),
        len(corpus.vocab),
        vocab=corpus.vocab.chars,
        lowercase=lowercase,
    )
    base = Model.create(config, seed=frame.seed())

# the corpus summary (after the model: a model's vocabulary decides what is read)
s1, s2, s3, s4 = st.columns(4)
s1.metric(t("text.characters"), num(len(corpus.text), ","))
s2.metric(t("text.distinct"), len(corpus.vocab))
s3.metric(
    t("text.windows"),
    num(max(0, len(corpus.train_ids) - settings.seq_length), ","),
    help=t("text.windows_help"),
)
s4.metric(t("text.held_out"), num(len(corpus.held_out), ","), help=t("text.held_out_help"))
chips = [
    f"`{token_label(ch)}`" if ch != "`" else "`` ` ``" for ch in corpus.vocab.chars
]  # code spans: literal
st.markdown(t("text.vocabulary") + " " + " ".join(chips))


def paper_setup() -> None:
    """The paper's choices, and its seed window: the first 60 characters of the held-out tail
    (text the model never trains on; the text's opening when it has no tail)."""
    source = corpus.held_out or corpus.text
    st.session_state.update(PAPER, seed_text=source[:PAPER_SEED].lower())


paper_now = all(st.session_state.get(k, P[k].current_default) == v for k, v in PAPER.items())
with st.expander(t("text.paper_title"), expanded=paper_now, icon=":material/menu_book:"):
    st.markdown(
        t(
            "text.paper_setup",
            hidden=PAPER["hidden_size"],
            seq=PAPER["seq_length"],
            dropout=PAPER["dropout"],
            seed=PAPER_SEED,
            lr=PAPER["learning_rate"],
            batch=PAPER["batch_size"],
        )
    )
    if paper_now:
        st.success(t("text.paper_active"), icon=":material/check_circle:")
    else:
        st.button(
            t("text.paper_use"), key="gen_paper", on_click=paper_setup, icon=":material/menu_book:"
        )
generate_only = False
if corpus.skipped:
    shown = " ".join(md_escape(token_label(ch)) for ch in corpus.skipped[:20])
    st.warning(t("text.mismatch", n=len(corpus.skipped), chars=shown), icon=":material/warning:")
    if st.session_state.get("text.anyway") != (model_key, corpus_hash):
        w1, w2, _ = st.columns([1.4, 1, 2])
        w1.button(
            t("text.use_anyway"),
            key="gen_use_anyway",
            width="stretch",
            on_click=lambda: st.session_state.update({"text.anyway": (model_key, corpus_hash)}),
        )
        w2.button(
            t("text.start_fresh"),
            key="gen_start_fresh",
            width="stretch",
            type="primary",
            on_click=lambda: st.session_state.update({"model": "new"}),
        )
        frame.stop()
    generate_only = True

# ==================================================================================== training
st.subheader(t("text.training_title"))
training_settings(expanded=False)

RUN = Kept("text.bg")  # the model training in the background, for (model, text, lowercase)


def new_run() -> BackgroundText:
    prime = corpora.default_prime(corpus_id, corpus.text, base.config)
    first = base.copy()
    first.history = base.history  # an uploaded checkpoint's: it can be rewound, and trained on
    return BackgroundText(first, corpus.train_ids, corpus.held_out, settings, prime)


bg: BackgroundText = RUN.rebuilt(
    (model_key, corpus_hash, lowercase), new_run, replaced=BackgroundText.close
)
bg.apply(settings, float(st.session_state.get("temperature", P["temperature"].default)))
bg.sync()  # weights the worker saved when it paused unwatched


def reset_training() -> None:
    old = RUN.drop()
    if old is not None:
        old.close()


def pause_training(bg: BackgroundText) -> None:
    bg.pause()
    st.session_state["text.was_running"] = False


b1, b2, b3, _ = st.columns([1.2, 1, 1, 3])
b1.button(
    t("text.train"),
    key="gen_train",
    on_click=bg.start,
    args=(load.blas_threads(frame.session_id()),),
    type="primary",
    icon=":material/play_arrow:",
    disabled=bg.running or generate_only or bg.status == "diverged",
    width="stretch",
    shortcut=None if bg.running else "Space",  # Space trains, and pauses
)
b2.button(
    t("text.pause"),
    key="gen_pause",
    on_click=pause_training,
    args=(bg,),
    icon=":material/pause:",
    disabled=not bg.running,
    width="stretch",
    shortcut="Space" if bg.running else None,
)
b3.button(
    t("text.reset"),
    key="gen_reset",
    on_click=reset_training,
    icon=":material/restart_alt:",
    width="stretch",
)
if generate_only:
    st.caption(t("text.generate_only"))


PACE = st.session_state.get("text.pace", 1)  # slower redraws while many students train (ui/load.py)


LIVE_EVERY = (
    0.25 if PACE == 1 else 0.3 * PACE
)  # seconds: over 3 redraws a second, fewer in a busy class


@st.fragment(run_every=LIVE_EVERY if bg.running else None)
def live_training(bg: BackgroundText, base: Model) -> None:
    bg.touch()
    snap = bg.snapshot()
    if bg.message and bg.message["code"] in ("idle", "lost"):
        st.info(explain(bg.message), icon=":material/pause_circle:")
    elif bg.message:
        st.error(explain(bg.message), icon=":material/warning:")
    loss_x, loss_y = snap["loss"]
    bpc_x, bpc_y = snap["bpc"]
    r1, r2, r3, r4 = st.columns(4)
    r1.metric(t("text.steps"), num(snap["steps"], ","))
    r2.metric(
        t("text.speed"),
        num(snap["characters"] / snap["seconds"], ",.0f") if snap["seconds"] > 0 else "—",
    )
    r3.metric(
        t("text.train_bpc"),
        num(snap["loss_smooth"][-1] * BITS_PER_NAT, ".2f") if len(loss_y) else "—",
        help=t("text.train_bpc_help"),
    )
    r4.metric(t("text.bpc"), num(bpc_y[-1], ".2f") if len(bpc_y) else "—", help=t("text.bpc_help"))
    if len(loss_y):
        labels = {
            "train": t("text.curve_train"),
            "held_out": t("text.curve_held_out"),
            "step": t("text.step"),
            "axis": t("text.bpc_axis"),
            "uniform": t("text.curve_uniform"),
            "lowest": t("text.curve_lowest"),
        }
        memorising = overfitting(bpc_x, bpc_y, loss_x, loss_y)
        lowest = None if memorising is None else (memorising.best_step, memorising.best_bpc)
        curves = figs.training_curves(
            (loss_x, loss_y, snap["loss_smooth"]),
            (bpc_x, bpc_y),
            len(base.config.vocab),
            labels,
            lowest,
        )
        frame.chart(curves, key="gen_curves")
        dropout = bg.settings.dropout
        st.caption(
            t(
                "text.curves_caption" if dropout > 0 else "text.curves_caption_no_dropout",
                dropout=dropout,
                seq=bg.settings.seq_length,
            )
        )
        if memorising is not None:
            st.warning(
                t(
                    "text.overfitting",
                    best=memorising.best_bpc,
                    best_step=memorising.best_step,
                    now=memorising.last_bpc,
                    then=memorising.train_then,
                    train=memorising.train_now,
                    weights=base.config.num_parameters(),
                    n=len(bg.ids),
                ),
                icon=":material/trending_up:",
            )
    else:
        st.caption(t("text.not_trained_yet"))
    if snap["samples"]:
        st.markdown(t("text.timeline"))
        for step, sample in reversed(snap["samples"][-8:]):
            st.markdown(
                f"**{t('text.at_step', step=step)}** · {md_escape(sample.replace(chr(10), ' ⏎ '))}"
            )
    if st.session_state.get("text.was_running") and not bg.running:
        st.session_state["text.was_running"] = False
        st.rerun()  # training stopped by itself: redraw the buttons, stop the timer
    if bg.running:
        load.tick(frame.session_id(), "text")
        bg.allow_threads(load.blas_threads(frame.session_id()))  # one each when a class trains
        if load.repace(st.session_state, "text.pace"):
            st.rerun()  # the server got busier (or quieter): set the timer anew
    st.session_state["text.was_running"] = bg.running


live_training(bg, base)
rewind_area = st.container()  # the training-time view, filled once the generation settings are read

# ==================================================================================== generation
st.subheader(t("text.generate_title"))
st.markdown(t("text.generate_intro"))
model_vocab = set(base.config.vocab)
g1, g2, g3, g4, g5 = st.columns([3, 1, 1, 1, 1.2])
seed_text = params.text(
    P["seed_text"],
    t("text.seed_text"),
    container=g1,
    placeholder=bg.prime,
    help=t("text.seed_text_help"),
)
length = params.number(P["length"], t("text.length"), step=50, container=g2)
temperature = params.stepped(
    P["temperature"],
    t("text.temperature"),
    0.05,
    ".2f",
    container=g3,
    help=t("text.temperature_help"),
)
top_k = params.number(
    P["top_k"],
    t("text.top_k"),
    high=len(base.config.vocab),
    step=1,
    container=g4,
    help=t("text.top_k_help"),
)
speed = params.select(P["speed"], t("text.speed_label"), labeler("text.speed_"), container=g5)
seed_text = seed_text or bg.prime
check = seed_text.lower() if base.config.lowercase else seed_text
unknown = [ch for ch in dict.fromkeys(check) if ch not in model_vocab]
clean = "".join(ch for ch in check if ch in model_vocab) or base.config.vocab[0]
if unknown:
    st.warning(
        t(
            "text.seed_text_unknown",
            chars=" ".join(md_escape(token_label(ch)) for ch in unknown[:20]),
        ),
        icon=":material/filter_alt:",
    )


with rewind_area:  # the same seed text, random seed and settings as what is written below
    rewinding = rewind_text.Writing(
        clean, int(length), float(temperature), int(top_k) or None, frame.seed()
    )
    rewind_text.section(
        bg, P["at_step"], rewinding, corpus.held_out, corpus.held_out or corpus.text
    )


def start_generation(bg: BackgroundText, writing: rewind_text.Writing, speed: str) -> None:
    gen = Generation(bg.model_copy(), *writing)
    if SPEEDS[speed] is None:
        gen.advance(gen.length)
    st.session_state["text.gen"] = gen


def stop_generation() -> None:
    if st.session_state.get("text.gen") is not None:
        st.session_state["text.gen"].running = False


gen: Generation | None = st.session_state.get("text.gen")
writing = gen is not None and gen.running
h1, h2, _ = st.columns([1.2, 1, 4])
h1.button(
    t("text.generate"),
    key="gen_generate",
    on_click=start_generation,
    args=(bg, rewinding, speed),  # the same seed text, seed and settings as the rewound view
    type="primary",
    icon=":material/edit:",
    disabled=writing,
    width="stretch",
)
h2.button(
    t("text.stop"),
    key="gen_stop",
    on_click=stop_generation,
    icon=":material/stop:",
    disabled=not writing,
    width="stretch",
)


@st.fragment(run_every=0.1 * PACE if writing else None)
def writing_view(speed: str) -> None:
    current: Generation | None = st.session_state.get("text.gen")
    if current is None:
        st.caption(t("text.no_generation"))
        return
    was = current.running
    if current.running:
        load.tick(frame.session_id(), "writing")
        current.advance(max(1, round((SPEEDS[speed] or 1000) * 0.1 * PACE)))
    if was and not current.running:
        st.rerun()
    st.code(
        current.seed_text + current.text, language=None, wrap_lines=True
    )  # a code block: shown literally
    st.caption(
        t(
            "text.written",
            n=current.n,
            total=current.length,
            temperature=current.temperature,
            seed=len(current.seed_text),
        )
    )


writing_view(speed)

# inspect a position of what was written
gen = st.session_state.get("text.gen")
if gen is not None and gen.n and not gen.running:
    uncertain = gen.most_uncertain()
    if st.session_state.get("text.inspected") is not gen:  # a new text: open where it was unsure
        st.session_state["text.inspected"] = gen
        if not params.given_by_link(P["position"]):
            params.data_default(P["position"], uncertain, replace=True)
    st.markdown(t("text.inspect_intro"))
    i1, i4, i2, i3 = st.columns([2.6, 1.2, 1, 1.4], vertical_alignment="bottom")
    position = params.slider(
        P["position"], t("text.position"), high=max(gen.n - 1, 1), container=i1
    )
    position = min(position, gen.n - 1)
    i4.button(
        t("text.jump_uncertain"),
        key="gen_jump",
        on_click=lambda: st.session_state.update(position=uncertain),
        icon=":material/help:",
        disabled=position == uncertain,
        width="stretch",
        help=t("text.jump_uncertain_help"),
    )
    unit = params.number(
        P["unit"],
        t("cell.unit", h=base.config.hidden_size - 1),
        high=base.config.hidden_size - 1,
        step=1,
        container=i2,
    )
    colored = params.toggle(P["color_text"], t("text.color_text"), container=i3)
    at = len(gen.seed_text) + position  # what the model had read: the seed, then what it wrote
    context = (gen.seed_text + gen.text)[max(0, at - 30) : at]
    pairs = top_predictions(gen.raw[position], gen.vocab, k=5)
    sure = t("text.sure_least" if position == uncertain else "text.sure", p=pairs[0][1])
    st.markdown(
        t(
            "text.at_position",
            k=position,
            before=md_escape(context),
            char=md_escape(token_label(gen.chars[position])),
        )
        + " "
        + sure
    )
    style = number_style()
    p1, p2 = st.columns(2)
    with p1:
        frame.chart(
            figs.next_characters(pairs, gen.chars[position], {"p": t("text.probability"), **style}),
            key="gen_next",
        )
    with p2:
        reshaped = retemper(
            gen.raw[position], float(temperature), int(top_k) or None
        )  # the sliders' values
        labels = {
            "before": t("text.before_temperature"),
            "p": t("text.probability"),
            "after": t("text.after_temperature", temperature=float(temperature)),
            **style,
        }
        frame.chart(
            figs.temperature_effect(gen.raw[position], reshaped, gen.vocab, labels),
            key="gen_temperature",
        )
        st.caption(t("text.temperature_note", temperature=gen.temperature))
    values = gen.step_values(position)
    frame.chart(
        cell_figs.step_vectors(
            values,
            unit,
            {k: t(f"cell.vector_{k}") for k in values},
            t("cell.units_axis"),
            squash=gen.squash,
        ),
        key="gen_gates",
    )
    if colored:
        frame.chart(
            belt_figs.colored_text(
                gen.chars, gen.unit_series(unit), "h", step=t("cell.steps_axis")
            ),
            key="gen_colored",
        )

# ==================================================================================== downloads
st.subheader(t("text.download_title"))
d1, d2, _ = st.columns([1.3, 1.3, 2])
if not bg.running:
    d1.download_button(
        t("text.download_model"),
        data=functools.partial(checkpoint_bytes, bg.model_copy()),  # with its history: on click
        file_name="lstm_lab_text.npz",
        mime="application/octet-stream",
        key="gen_download_model",
        icon=":material/download:",
    )
else:
    d1.caption(t("text.download_paused"))
if gen is not None and gen.n:
    d2.download_button(
        t("text.download_text"),
        data=(gen.seed_text + gen.text).encode("utf-8"),
        file_name="lstm_lab_generated.txt",
        mime="text/plain",
        key="gen_download_text",
        icon=":material/description:",
    )
