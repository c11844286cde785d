"""The echo page's training-time view: every model of the run as it was at a kept step.

At the chosen step: the notebook's bars (input, target, prediction) and the state over the window
the live view shows (its bits, and the state carried into it), each model's accuracy on fresh
bits, and the figure only rewinding can draw, how well each model's state holds the bit read d
steps ago at every kept step. Everything is worked out by lstm_core/rewind_echo.py and kept for
the run (each kept step's accuracy and carry row, whose weights never change; the latest few
window views), so a move of the slider computes one moment. The
view is a fragment of its own: Play walks the kept steps without redrawing the page, and while
the models train it is not redrawn on the training's timer (the live view keeps the clock).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from lstm_core.echo import echo_accuracy
from lstm_core.history import model_at
from lstm_core.rewind_echo import carry_at, carry_lags, carry_rows, view_at
from ui import frame, params, rewind
from ui.figures import echo as echo_figs
from ui.figures import rewind as rewind_figs
from ui.i18n import num, number_style, t
from ui.params import Param

MEMO = "echo.rewind_memo"
# values kept for a run, by kind: every carry row and accuracy of two models (a few floats each),
# and the latest few window views (a state over the window: up to 250 kB at 64 units)
MOST = {"carry": 400, "accuracy": 400, "view": 8}


def memo(run, key: tuple, compute):
    """One computed value per key for this run (a new run starts afresh); key[0] is its kind."""
    owner, caches = st.session_state.get(MEMO, (None, {}))
    if owner is not run:
        caches = {}
        st.session_state[MEMO] = (run, caches)
    cache = caches.setdefault(key[0], {})
    if key not in cache:
        if len(cache) >= MOST[key[0]]:
            cache.pop(next(iter(cache)))
        cache[key] = compute()
    return cache[key]


def kept(run) -> list[int]:
    """The steps any model of the run kept (they keep the same ones, history.shared_budgets,
    until one stops training early)."""
    histories = [tr.history for tr in run.trainers.values() if tr.history is not None]
    return sorted(set().union(*(h.steps for h in histories))) if histories else []


def section(run, p: Param, series: int, labels: dict[str, str]) -> None:
    """The whole block; labels: the live view's (the models' names, the bars' and states' words)."""
    st.subheader(t("rewind.echo_title"))
    steps = kept(run)
    if ahead(p, steps):  # a lesson's link: the step it points at is not trained yet
        last = steps[-1] if steps else 0
        st.caption(t("rewind.echo_ahead", step=st.session_state[p.name], last=last))
    if len(steps) < 2:
        st.caption(t("rewind.echo_none"))
        return
    intro = t("rewind.echo_intro")
    if not run.stops:  # a model that stopped went back to weights the history does not end on
        intro += " " + t("rewind.echo_latest")
    st.markdown(intro)
    if run.running:  # the live models are ahead of every step the slider offers
        st.caption(t("rewind.echo_training"))
    view(run, p, series, labels)


def ahead(p: Param, steps: list[int]) -> bool:
    """Whether the link's step lies beyond every step kept so far: the page trains live, so the
    link waits for training to get there (the view shows the latest step meanwhile)."""
    value = st.session_state.get(p.name)
    return params.given_by_link(p) and value is not None and (not steps or value > steps[-1])


def view(run, p: Param, series: int, labels: dict[str, str]) -> None:
    timer = rewind.playing(p)

    @st.fragment(run_every=rewind.VIEW_EVERY if timer else None)
    def moment_view() -> None:
        steps = kept(run)
        rewind.advance(p, steps, rewind.VIEW_EVERY)
        if rewind.playing(p) != timer:  # Play, Stop or the end: the timer is set by a full run
            st.rerun()
        if ahead(p, steps):  # said above; no slider until training reaches the link's step
            step = steps[-1]
        else:
            c1, c2 = st.columns([5, 1], vertical_alignment="bottom")
            step = rewind.slider(
                p, steps, t("rewind.slider"), container=c1, help=t("rewind.slider_help")
            )
            rewind.play_button(p, steps, "echo_rewind_play", container=c2)
        histories = [tr.history for tr in run.trainers.values()]
        st.caption(rewind.caption(step, steps, *histories))
        windows, states, accuracy = {}, {}, {}
        for name, tr in run.trainers.items():
            index = tr.history.index_at(step)  # the same step, unless this one stopped earlier
            then = tr.history.steps[index]
            shown = memo(
                run,
                ("view", name, then, tr.steps_done),  # the window moves on as training does
                lambda tr=tr, index=index: view_at(tr.model, tr.history, index, tr.last_input()),
            )
            windows[name] = (shown.x, shown.y, shown.prediction)
            s = min(series, shown.x.shape[1] - 1)
            states[name] = (shown.state[:, s], shown.x[:, s], shown.y[:, s], shown.which)
            accuracy[name] = memo(
                run,
                ("accuracy", name, then),
                lambda tr=tr, index=index: echo_accuracy(
                    model_at(tr.model, tr.history, index), tr.config, length=5000
                ),
            )
            if then != step:  # it stopped training before this step: shown as it stopped
                st.caption(t("rewind.echo_stopped", cell=labels[name], step=then))
        for col, name in zip(st.columns(len(windows)), windows, strict=True):
            col.metric(
                t("rewind.echo_accuracy", cell=labels[name], step=step),
                num(accuracy[name], ".1%"),
                help=t("rewind.echo_accuracy_help"),
            )
        frame.chart(echo_figs.echo_bars(windows, labels), key="echo_rewind_bars")
        frame.chart(echo_figs.window_states(states, labels), key="echo_rewind_states")
        st.caption(t("rewind.echo_window"))
        carry_view(run, step, labels)
        if not ahead(p, steps):  # the link's step stays in the link until it is shown
            params.write_url((p,))  # a fragment's run: the frame's end of the run does not come

    moment_view()


def carry_view(run, step: int, labels: dict[str, str]) -> None:
    """How well each model's state holds the bit read d steps ago, at the kept steps."""
    k = next(iter(run.trainers.values())).config.echo_step
    st.markdown(t("rewind.carry_intro", k=k))
    if run.running:  # each row reads thousands of fresh bits: it waits for a pause
        st.caption(t("rewind.carry_paused"))
        return
    lags = carry_lags(k)
    grids, steps, chosen = {}, {}, {}
    for name, tr in run.trainers.items():
        drawn = carry_rows(tr.history)
        rows = [
            memo(
                run,
                ("carry", name, tr.history.steps[j], lags),
                lambda tr=tr, j=j: carry_at(model_at(tr.model, tr.history, j), tr.config, lags),
            )
            for j in drawn
        ]
        grids[name] = np.array(rows)
        steps[name] = [tr.history.steps[j] for j in drawn]
        index = tr.history.index_at(step)
        chosen[name] = drawn.index(index) if index in drawn else None
    figure_labels = {
        **{name: labels[name] for name in grids},
        "distance": t("rewind.carry_distance"),
        "step": t("rewind.axis_step"),
        "hover": t("rewind.carry_hover"),
        "answer": t("rewind.carry_answer", k=k),
        **number_style(),
    }
    frame.chart(
        rewind_figs.carry_over_training(grids, steps, k, chosen, figure_labels),
        key="echo_rewind_carry",
    )
    st.caption(t("rewind.carry_guide", k=k))
