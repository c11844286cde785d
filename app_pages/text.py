"""Text generation: train a character LSTM on a text (a novel, a sample, a generated logbook)
and watch it write, character by character, with the probabilities and the memory behind
each character. The paper's case study, live."""

import functools
import hashlib
from typing import NamedTuple

import streamlit as st

import lstm_core
from lstm_core import Model, ModelConfig, TextError, Vocabulary, checkpoint_bytes
from lstm_core.cells import DEFAULT_CELL, NAMES
from lstm_core.explain import top_predictions
from lstm_core.fetch import FetchError, fetch_text
from lstm_core.sampling import DEFAULT_TEMPERATURE, retemper
from lstm_core.text import BITS_PER_NAT, TrainingText, overfitting
from lstm_core.training import TextSettings
from ui import corpora, frame, load, params, rewind, rewind_text, samples, uploads
from ui.background import BackgroundText
from ui.figures import belt as belt_figs
from ui.figures import cell as cell_figs
from ui.figures import text as figs
from ui.generation import Generation
from ui.i18n import explain, labeler, num, number_style, t
from ui.page_state import TEXT
from ui.params import Param
from ui.safe import md_escape, token_label

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


class Shape(NamedTuple):
    """What a new model is made of (the model section's widgets; the defaults otherwise)."""

    cell: str
    hidden: int
    layers: int


# ==================================================================================== the corpus
def corpus_section() -> tuple[str, str, bool]:
    """The text to train on: the corpus chosen, its text and whether to lowercase it. While there
    is no text yet (nothing uploaded, pasted or fetched) the page says what it needs and stops."""
    st.subheader(t("text.corpus_title"))
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    corpus_id = params.select(P["corpus"], t("text.corpus"), labeler("text.corpus_"), container=c1)
    lowercase = params.toggle(
        P["lowercase"], t("text.lowercase"), container=c2, help=t("text.lowercase_help")
    )
    raw_text, notes = None, []
    if corpus_id in samples.SAMPLES:
        raw_text = samples.text(corpus_id)
    elif corpus_id == "upload":
        raw_text, notes = uploaded_text()
    elif corpus_id == "paste":
        raw_text = pasted_text()
    else:
        raw_text, notes = fetched_text()
    for note in filter(None, notes):
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
    return corpus_id, raw_text, lowercase


def uploaded_text() -> tuple[str | None, list]:
    """An uploaded file's text and what its decoding noticed (an error said: no text)."""
    data, name = uploads.uploaded_file(
        "gen_text_upload", ["txt"], t("text.upload_text", mb=uploads.limit_mb())
    )
    if data is None:
        return None, []
    try:
        loaded = lstm_core.decode_text(data)
    except TextError as exc:
        st.error(
            t("text.bad_text", name=md_escape(name), reason=explain(exc)),
            icon=":material/error:",
        )
        return None, []
    if not loaded.text.strip():
        st.error(
            t("text.bad_text", name=md_escape(name), reason=t("errors.text_empty")),
            icon=":material/error:",
        )
    return loaded.text, [loaded.notice_code]


def pasted_text() -> str | None:
    pasted = st.text_area(
        t("text.paste"), key="text.paste", height=160, placeholder=t("text.paste_hint")
    )
    return pasted or None


def fetch() -> None:
    """The Fetch button: the text behind the address typed, or why there is none."""
    address = params.value(P["url"])
    try:
        got = fetch_text(address)
        TEXT.fetched = (address, got.text, got.notice_codes)
        del TEXT.fetch_error
    except FetchError as exc:
        TEXT.fetch_error = exc.as_dict()


def fetched_text() -> tuple[str | None, list]:
    """The text fetched from the address typed (the one last fetched, if it is that address)."""
    u1, u2 = st.columns([4, 1], vertical_alignment="bottom")
    address = params.text(
        P["url"],
        t("text.url"),
        container=u1,
        placeholder="https://www.gutenberg.org/cache/epub/…/pg….txt",
    )
    u2.button(
        t("text.fetch"),
        key="gen_fetch",
        on_click=fetch,
        icon=":material/download:",
        width="stretch",
    )
    if TEXT.fetch_error is not None:
        st.error(
            t("text.fetch_failed", reason=explain(TEXT.fetch_error)),
            icon=":material/cloud_off:",
        )
    fetched = TEXT.fetched
    if fetched is not None and fetched[0] == address:
        return fetched[1], fetched[2]
    return None, []


# ==================================================================================== the model
def model_section(corpus_id: str) -> tuple[Model | None, tuple | None, Shape]:
    """The model chosen: a sample's or an upload's (with the key it is kept under), or None for
    a new one, made once the text is read, of the shape returned."""
    st.subheader(t("text.model_title"))
    m1, m2, m3 = st.columns([2, 1, 1])
    choice = params.radio(
        P["model"], t("text.model"), labeler("text.model_"), container=m1, horizontal=True
    )
    shape = Shape(P["cell"].default, P["hidden_size"].default, P["num_layers"].default)
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
            P["hidden_size"],
            t("text.hidden_size"),
            step=16,
            container=m2,
            help=t("text.hidden_help"),
        )
        layers = params.number(
            P["num_layers"], t("text.num_layers"), step=1, container=m3, help=t("text.layers_help")
        )
        shape = Shape(cell, hidden, layers)
    if choice == "sample":
        # a text of your own: the sample model of the session's language (its default corpus)
        sample = corpus_id if corpus_id in samples.SAMPLES else P["corpus"].current_default
        base = samples.model(sample)
        m2.caption(
            t(
                "text.sample_model",
                h=base.config.hidden_size,
                layers=base.config.num_layers,
                name=t(f"text.sample_title_{sample}"),
            )
        )
        return base, ("sample", sample), shape
    if choice == "upload":
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
        return base, ("upload", uploaded[0]), shape
    return None, None, shape


def chosen_settings() -> TextSettings:
    """The training settings as the widgets hold them (drawn further down, in the expander)."""
    return TextSettings(
        seq_length=int(params.value(P["seq_length"])),
        batch_size=int(params.value(P["batch_size"])),
        learning_rate=float(params.value(P["learning_rate"])),
        optimizer=params.value(P["optimizer"]),
        dropout=float(params.value(P["dropout"])),
        seed=frame.seed(),
    )


def read_text(
    raw_text: str, lowercase: bool, base: Model | None, settings: TextSettings
) -> tuple[TrainingText, bool]:
    """The text made ready to train on, and the case it is read in (a model's own, if it has
    one); a text that cannot be trained on is said, and the page stops."""
    if base is not None and base.config.lowercase != lowercase:
        st.info(
            t("text.model_case", lower=t("text.yes" if base.config.lowercase else "text.no")),
            icon=":material/text_fields:",
        )
        lowercase = base.config.lowercase
    try:
        vocab = Vocabulary(base.config.vocab) if base is not None else None
        return corpora.prepare(raw_text, lowercase, settings.seq_length, vocab), lowercase
    except TextError as exc:
        st.error(t("text.cannot_train", reason=explain(exc)), icon=":material/block:")
        if exc.code == "text_short_window":  # a shorter window may do: keep that setting at hand
            training_settings(expanded=True)
        frame.stop()


def new_model(corpus: TrainingText, lowercase: bool, shape: Shape) -> tuple[Model, tuple]:
    """A new model of `shape` for the text's characters, and the key it is kept under."""
    config = ModelConfig(
        "char-lm",
        shape.cell,
        len(corpus.vocab),
        int(shape.hidden),
        int(shape.layers),
        len(corpus.vocab),
        vocab=corpus.vocab.chars,
        lowercase=lowercase,
    )
    model_key = ("new", shape.cell, shape.hidden, shape.layers, frame.seed())
    return Model.create(config, seed=frame.seed()), model_key


def corpus_summary(corpus: TrainingText, settings: TextSettings) -> None:
    """How much text there is, and its characters (after the model: a model's vocabulary
    decides what is read)."""
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


def paper_setup(corpus: TrainingText) -> None:
    """The paper's choices, and its seed window: the first 60 characters of the held-out tail
    (text the model never trains on; the text's opening when it has no tail)."""
    source = corpus.held_out or corpus.text
    st.session_state.update(PAPER, seed_text=source[:PAPER_SEED].lower())


def paper_section(corpus: TrainingText) -> None:
    """The paper's setup, said, and a button that sets it (open while it is set)."""
    paper_now = all(params.value(P[k]) == v for k, v in PAPER.items())
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
                t("text.paper_use"),
                key="gen_paper",
                on_click=paper_setup,
                args=(corpus,),
                icon=":material/menu_book:",
            )


def use_anyway(key: tuple) -> None:
    TEXT.anyway = key


def mismatch_section(corpus: TrainingText, key: tuple) -> bool:
    """Whether the model can only write (the text has characters it does not know): said, and
    until the user chooses to write anyway (for this model and text: `key`) the page stops."""
    if not corpus.skipped:
        return False
    shown = " ".join(md_escape(token_label(ch)) for ch in corpus.skipped[:20])
    st.warning(t("text.mismatch", n=len(corpus.skipped), chars=shown), icon=":material/warning:")
    if TEXT.anyway != key:
        w1, w2, _ = st.columns([1.4, 1, 2])
        w1.button(
            t("text.use_anyway"),
            key="gen_use_anyway",
            width="stretch",
            on_click=use_anyway,
            args=(key,),
        )
        w2.button(
            t("text.start_fresh"),
            key="gen_start_fresh",
            width="stretch",
            type="primary",
            on_click=params.put,
            args=(P["model"], "new"),
        )
        frame.stop()
    return True


# ==================================================================================== training
def training_run(
    corpus_id: str, corpus: TrainingText, base: Model, settings: TextSettings, key: tuple
) -> BackgroundText:
    """The model training in the background for `key` (model, text, lowercase): the one kept,
    or a new one (the old one closed), told the settings of this run."""

    def new_run() -> BackgroundText:
        prime = corpora.default_prime(corpus_id, corpus.text, base.config)
        first = base.copy()
        first.history = base.history  # an uploaded checkpoint's: it can be rewound, trained on
        return BackgroundText(first, corpus.train_ids, corpus.held_out, settings, prime)

    bg: BackgroundText = TEXT.run.rebuilt(key, new_run, replaced=BackgroundText.close)
    bg.apply(settings, float(params.value(P["temperature"])))
    bg.sync()  # weights the worker saved when it paused unwatched
    return bg


def reset_training() -> None:
    old = TEXT.run.drop()
    if old is not None:
        old.close()


def pause_training(bg: BackgroundText) -> None:
    bg.pause()
    TEXT.was_running = False


def training_controls(bg: BackgroundText, generate_only: bool) -> None:
    """Train, Pause, Reset (a model that can only write is not trained)."""
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


def live_training(bg: BackgroundText, base: Model, pace: float) -> None:
    """The training's numbers and curves, redrawn over 3 times a second while it trains (fewer
    in a busy class: `pace`, ui/load.py)."""
    every = 0.25 if pace == 1 else 0.3 * pace  # seconds
    st.fragment(training_view, run_every=every if bg.running else None)(bg, base)


def training_view(bg: BackgroundText, base: Model) -> None:
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
    if TEXT.was_running and not bg.running:
        TEXT.was_running = False
        st.rerun()  # training stopped by itself: redraw the buttons, stop the timer
    if bg.running:
        load.tick(frame.session_id(), "text")
        bg.allow_threads(load.blas_threads(frame.session_id()))  # one each when a class trains
        if TEXT.repaced():
            st.rerun()  # the server got busier (or quieter): set the timer anew
    TEXT.was_running = bg.running


# ==================================================================================== generation
def generation_settings(base: Model, bg: BackgroundText) -> tuple[rewind_text.Writing, str]:
    """What to write with (the seed text kept to the model's characters, saying which were
    left out) and how fast to show it."""
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
    writing = rewind_text.Writing(
        clean, int(length), float(temperature), int(top_k) or None, frame.seed()
    )
    return writing, speed


def start_generation(bg: BackgroundText, writing: rewind_text.Writing, speed: str) -> None:
    gen = Generation(bg.model_copy(), *writing)
    if SPEEDS[speed] is None:
        gen.advance(gen.length)
    TEXT.gen = gen


def stop_generation() -> None:
    if TEXT.gen is not None:
        TEXT.gen.running = False


def generation_controls(bg: BackgroundText, writing: rewind_text.Writing, speed: str) -> None:
    """Write (with the same seed text, seed and settings as the rewound view) and Stop."""
    gen = TEXT.gen
    busy = gen is not None and gen.running
    h1, h2, _ = st.columns([1.2, 1, 4])
    h1.button(
        t("text.generate"),
        key="gen_generate",
        on_click=start_generation,
        args=(bg, writing, speed),
        type="primary",
        icon=":material/edit:",
        disabled=busy,
        width="stretch",
    )
    h2.button(
        t("text.stop"),
        key="gen_stop",
        on_click=stop_generation,
        icon=":material/stop:",
        disabled=not busy,
        width="stretch",
    )


def writing_view(speed: str, pace: float) -> None:
    """What is written, character by character at `speed` while it writes (a fragment of its
    own, ten times a second, fewer in a busy class)."""
    gen = TEXT.gen
    busy = gen is not None and gen.running
    st.fragment(written_so_far, run_every=0.1 * pace if busy else None)(speed, pace)


def written_so_far(speed: str, pace: float) -> None:
    current: Generation | None = TEXT.gen
    if current is None:
        st.caption(t("text.no_generation"))
        return
    was = current.running
    if current.running:
        load.tick(frame.session_id(), "writing")
        current.advance(max(1, round((SPEEDS[speed] or 1000) * 0.1 * pace)))
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


# ==================================================================================== inspection
def inspect_section(gen: Generation, base: Model, writing: rewind_text.Writing) -> None:
    """One position of what was written: what the model read, its top guesses, the temperature's
    effect on them (at the sliders' values), its gates there, and a unit's colour on the text."""
    uncertain = gen.most_uncertain()
    if TEXT.inspected is not gen:  # a new text: open where it was unsure
        TEXT.inspected = gen
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
        on_click=params.put,
        args=(P["position"], uncertain),
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
        reshaped = retemper(gen.raw[position], writing.temperature, writing.top_k)
        labels = {
            "before": t("text.before_temperature"),
            "p": t("text.probability"),
            "after": t("text.after_temperature", temperature=writing.temperature),
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
def downloads_section(bg: BackgroundText, gen: Generation | None) -> None:
    """The model (while paused) and the text written."""
    st.subheader(t("text.download_title"))
    d1, d2, _ = st.columns([1.3, 1.3, 2])
    if not bg.running:
        d1.download_button(
            t("text.download_model"),
            data=functools.partial(checkpoint_bytes, bg.model_copy()),  # with its history
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


# ==================================================================================== the page
params.setup("text")
frame.header("text")
pace = TEXT.pace  # slower redraws while many students train (ui/load.py)
corpus_id, raw_text, lowercase = corpus_section()
base, model_key, shape = model_section(corpus_id)
settings = chosen_settings()
corpus, lowercase = read_text(raw_text, lowercase, base, settings)
corpus_hash = hashlib.sha256(corpus.text.encode("utf-8")).hexdigest()[:16]
if base is None:
    base, model_key = new_model(corpus, lowercase, shape)
corpus_summary(corpus, settings)
paper_section(corpus)
generate_only = mismatch_section(corpus, (model_key, corpus_hash))

st.subheader(t("text.training_title"))
training_settings(expanded=False)
bg = training_run(corpus_id, corpus, base, settings, (model_key, corpus_hash, lowercase))
training_controls(bg, generate_only)
live_training(bg, base, pace)
rewind_area = st.container()  # the training-time view, filled once the generation settings are read

writing, speed = generation_settings(base, bg)
with rewind_area:  # the same seed text, random seed and settings as what is written below
    rewind_text.section(bg, P["at_step"], writing, corpus.held_out, corpus.held_out or corpus.text)
generation_controls(bg, writing, speed)
writing_view(speed, pace)
gen = TEXT.gen
if gen is not None and gen.n and not gen.running:
    inspect_section(gen, base, writing)
downloads_section(bg, gen)
