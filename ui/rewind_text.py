"""The text page's training-time view: the model at a kept moment of its training, side by side
with the live one.

At the chosen step: what the model writes from the page's seed text and random seed (the
generation settings below the training), its top-5 guesses at a chosen position of that text, its
held-out bits per character; and the figure only rewinding can draw, one unit over a fixed
sentence at every kept step. Everything is worked out by lstm_core/rewind.py and kept for the
session (the latest few), so a move of the slider computes one moment, and Play walks the kept
steps in a fragment of its own (the rest of the page is not redrawn).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import streamlit as st

from lstm_core.explain import top_predictions
from lstm_core.history import model_at
from lstm_core.rewind import LENGTH, liveliest_unit, unit_over_time, written_at
from lstm_core.text import Vocabulary
from ui import frame, params, rewind
from ui.figures import rewind as rewind_figs
from ui.figures import text as text_figs
from ui.i18n import num, number_style, t
from ui.page_state import TEXT
from ui.params import Param
from ui.safe import md_escape, token_label

SENTENCE = 72  # characters of the held-out text the unit figure reads (each one on its axis)
MAX_SENTENCE = 300


class Writing(NamedTuple):
    """The generation settings the live view writes with (the page's widgets below)."""

    seed_text: str  # already kept to the model's characters
    length: int
    temperature: float
    top_k: int | None
    seed: int


def sentence_ids(model, text: str) -> tuple[np.ndarray, list[str]]:
    """The characters of `text` the model reads (lowercased if it was trained so), as ids."""
    text = text.lower() if model.config.lowercase else text
    kept = [ch for ch in text[:MAX_SENTENCE] if ch in set(model.config.vocab)]
    return Vocabulary(model.config.vocab).encode("".join(kept)), kept


def section(bg, p: Param, writing: Writing, held_out: str, fallback: str) -> None:
    """The whole block; bg: the page's BackgroundText, fallback: the text whose start (from its
    first line break, if one comes soon) is the sentence when none is typed."""
    fallback = fallback[fallback.find("\n", 0, 100) + 1 :]
    st.subheader(t("rewind.text_title"))
    history = bg.history()
    if history is None or len(history) < 2:
        rewind.unused_link(p)
        st.caption(t("rewind.text_none"))
        return
    st.markdown(t("rewind.text_intro"))
    if bg.running:  # the live model is ahead of every kept step until it pauses
        st.caption(t("rewind.text_training"))
    view(bg, p, writing, held_out, fallback)


def view(bg, p: Param, writing: Writing, held_out: str, fallback: str) -> None:
    timer = rewind.playing(p)

    @st.fragment(run_every=rewind.VIEW_EVERY if timer else None)
    def moment_view() -> None:
        history = bg.history()
        steps = list(history.steps)
        rewind.advance(p, steps, rewind.VIEW_EVERY)
        if rewind.playing(p) != timer:  # Play, Stop or the end: the timer is set by a full run
            st.rerun()
        model = bg.model
        c1, c2 = st.columns([5, 1], vertical_alignment="bottom")
        step = rewind.slider(
            p, steps, t("rewind.slider"), container=c1, help=t("rewind.slider_help")
        )
        rewind.play_button(p, steps, "gen_rewind_play", container=c2)
        st.caption(rewind.caption(step, steps, history))
        index = steps.index(step)
        moment = TEXT.rewind_memo.get(
            ("moment", bg.uid, step, *writing, held_out[:64]),
            lambda: written_at(model, history, index, *writing, held_out),
        )
        left, right = st.columns([3, 2])
        with left:
            bits = num(moment.bits, ".2f") if np.isfinite(moment.bits) else "—"
            st.metric(t("rewind.bits", step=step), bits, help=t("rewind.bits_help"))
            with st.container(key="gen_rewind_sample"):  # a code block: shown literally
                st.code(writing.seed_text + moment.written.text, language=None, wrap_lines=True)
            st.caption(
                t(
                    "rewind.written",
                    n=len(moment.written.text),
                    most=LENGTH,
                    seed=writing.seed,
                    temperature=writing.temperature,
                )
            )
        with right:
            n = len(moment.written.text)
            position = 0
            if n > 1:
                key = "text.rewind_position"
                st.session_state[key] = min(int(st.session_state.get(key, 0)), n - 1)
                position = st.slider(t("rewind.position"), 0, n - 1, key=key)
            chosen = moment.written.text[position]
            before = (writing.seed_text + moment.written.text)[
                max(0, len(writing.seed_text) + position - 30) : len(writing.seed_text) + position
            ]
            st.markdown(
                t(
                    "text.at_position",
                    k=position,
                    before=md_escape(before),
                    char=md_escape(token_label(chosen)),
                )
            )
            pairs = top_predictions(moment.written.raw[position], model.config.vocab, k=5)
            frame.chart(
                text_figs.next_characters(
                    pairs, chosen, {"p": t("text.probability"), **number_style()}
                ),
                key="rewind_next",
                config={"displayModeBar": False},
            )
        unit_view(bg, model, history, steps, index, fallback)
        params.write_url((p,))  # a fragment's run: the frame's end of the run does not come

    moment_view()


def unit_view(bg, model, history, steps: list[int], index: int, fallback: str) -> None:
    """One unit's h over a fixed sentence at every kept step (a spread of them, if many)."""
    st.markdown(t("rewind.unit_intro"))
    s1, s2 = st.columns([4, 1], vertical_alignment="bottom")
    typed = s1.text_input(
        t("rewind.sentence"),
        key="text.rewind_sentence",
        max_chars=MAX_SENTENCE,
        placeholder=fallback[:SENTENCE],
        help=t("rewind.sentence_help", n=MAX_SENTENCE),
    )
    ids, tokens = sentence_ids(model, typed or fallback[:SENTENCE])
    if len(ids) < 2:
        st.info(t("rewind.sentence_short"), icon=":material/edit_note:")
        return
    H = model.config.hidden_size
    key = "text.rewind_unit"
    if key not in st.session_state:
        last = model_at(model, history, len(history) - 1)
        st.session_state[key] = liveliest_unit(last, ids)
    st.session_state[key] = min(int(st.session_state[key]), H - 1)
    unit = s2.number_input(t("cell.unit", h=H - 1), 0, H - 1, step=1, key=key)
    drawn, grid = TEXT.rewind_memo.get(
        ("grid", bg.uid, tuple(steps), tuple(ids.tolist()), unit),
        lambda: unit_over_time(model, history, ids, unit),
    )
    labels = {
        "step": t("rewind.axis_step"),
        "position": t("rewind.axis_position"),
        "value": t("rewind.axis_value", unit=unit),
        "hover": t("rewind.hover", step="%{y}", position="%{x}", value="%{z:.2f}"),
        **number_style(),
    }
    chosen = drawn.index(index) if index in drawn else None
    frame.chart(
        rewind_figs.unit_over_training(grid, [steps[j] for j in drawn], tokens, chosen, labels),
        key="rewind_unit",
        config={"displayModeBar": False},
    )
    st.caption(t("rewind.unit_guide", unit=unit))
