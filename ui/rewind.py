"""The training-time slider: go back to any moment a model's history kept (lstm_core/history.py).

A select slider over the kept steps, a Play button that walks them from the first to the last,
and a URL parameter per page (`step_param`) so a link can point at a training step. The step the
slider shows follows the latest kept step until someone moves it (a page default worked out from
the data: left out of the link); a linked step between two kept ones moves to the nearest, one
beyond the ends inside them, and a page whose model has no history says the link's step is not
used, each in one line of the frame's warning.

`rewound` is the whole block for a page that draws one model (belt, cell): for a model with a
history it shows the slider and returns the model as it was at the chosen step; any other model
comes back as it is, and nothing is shown. Playing reruns the page once a moment (PAGE_EVERY).
The text page draws its own view of the step inside a fragment (ui/rewind_text.py) and uses
`slider` and `play_button` directly.
"""

from __future__ import annotations

import time

import streamlit as st

from lstm_core import Model
from lstm_core.history import WeightHistory, model_at
from ui import params
from ui.i18n import current_language, num, t
from ui.params import Param

PAGE_EVERY = 0.8  # seconds between two moments while a whole page plays (longer than it redraws)
VIEW_EVERY = 0.6  # seconds between two moments while only a fragment plays


def step_param(name: str) -> Param:
    """A page's link parameter for the training step (its default: the latest kept step)."""
    return Param(name, 0, "int", low=0, high=10**9, default_label="rewind.latest")


def has_history(model: Model | None) -> bool:
    return model is not None and model.history is not None and len(model.history) >= 2


def unused_link(p: Param) -> None:
    """The page's model has no history: a training step the link gives is said to be unused."""
    if params.given_by_link(p):
        params.note(t("rewind.no_history", name=p.name, value=st.session_state[p.name]))
        st.session_state.get("_url_given", {}).pop(p.name, None)


def chosen_step(p: Param, steps: list[int]) -> int:
    """The step in the session for p, moved onto one of `steps` (the latest, unless moved)."""
    auto = st.session_state.get(f"_auto.{p.name}")
    value = st.session_state.get(p.name)
    if value is None or value == auto:  # never moved: it follows the latest kept step
        params.data_default(p, steps[-1], replace=True)
    linked = params.given_by_link(p)
    params.bounded(p, steps[0], steps[-1])  # beyond the ends: moved inside (the link's: said)
    value = st.session_state[p.name]
    if value not in steps:
        used = min(steps, key=lambda s: abs(s - value))
        st.session_state[p.name] = used
        if linked:
            params.note(t("url.snapped", name=p.name, value=value, used=used))
    return int(st.session_state[p.name])


def _playing_key(p: Param) -> str:
    return f"_rewind.playing.{_page()}.{p.name}"


def _moved_key(p: Param) -> str:
    return f"_rewind.moved.{_page()}.{p.name}"


def _page() -> str:
    """The page this run draws (two pages may name their step alike: text and cell)."""
    return st.session_state.get("_page", "")


def playing(p: Param) -> bool:
    return bool(st.session_state.get(_playing_key(p)))


def stop(p: Param) -> None:
    st.session_state[_playing_key(p)] = False


def slider(p: Param, steps: list[int], label: str, *, container=st, help=None) -> int:
    """The select slider over the kept steps; returns the chosen step.

    The step lives in st.session_state[p.name] (what the link and Play change); the widget has a
    key of its own for each set of steps (as params.stepper does: a widget whose options change
    under one key may come back with a value it no longer offers). Moving it stops Play."""
    step = chosen_step(p, steps)
    key = f"{p.name}__{len(steps)}_{steps[-1]}"
    lang = current_language()  # fixed now: Streamlit may format outside the script run

    def moved() -> None:
        st.session_state[p.name] = int(st.session_state[key])
        stop(p)

    st.session_state[key] = step
    container.select_slider(
        label,
        options=steps,
        key=key,
        on_change=moved,
        format_func=lambda s: num(s, ",", lang),
        help=help,
    )
    return step


def play_button(p: Param, steps: list[int], key: str, *, container=st) -> None:
    """Play (from the first kept step) or, while playing, Stop."""
    if playing(p):
        container.button(
            t("rewind.stop"),
            key=key,
            icon=":material/stop:",
            on_click=stop,
            args=(p,),
            width="stretch",
        )
        return

    def start() -> None:
        st.session_state[p.name] = steps[0]
        st.session_state[_playing_key(p)] = True
        st.session_state[_moved_key(p)] = None  # the run Play causes shows the first step

    container.button(
        t("rewind.play"),
        key=key,
        icon=":material/play_arrow:",
        on_click=start,
        help=t("rewind.play_help"),
        width="stretch",
    )


def advance(p: Param, steps: list[int], every: float) -> bool:
    """While playing: the next kept step, once `every` seconds have passed since the last move
    (so the run a move causes does not move again; the run Play causes shows the first step, and
    the clock starts there, however long the page took to reach this). At the last step playing
    stops. Returns whether the step moved."""
    if not playing(p):
        return False
    moved_key = _moved_key(p)
    now = time.monotonic()
    if st.session_state.get(moved_key, 0.0) is None:  # Play was just pressed
        st.session_state[moved_key] = now
        return False
    if now - st.session_state.get(moved_key, 0.0) < 0.9 * every:
        return False
    later = [s for s in steps if s > st.session_state.get(p.name, steps[0])]
    if not later:
        stop(p)
        return False
    st.session_state[p.name] = later[0]
    st.session_state[moved_key] = now
    if len(later) == 1:
        stop(p)  # the last kept step: the end of the film
    return True


def caption(step: int, steps: list[int], *histories: WeightHistory) -> str:
    """Which kept step this is, and the memory the histories hold (all of a run's models)."""
    return t(
        "rewind.caption",
        step=step,
        last=steps[-1],
        k=steps.index(step) + 1,
        n=len(steps),
        mb=sum(h.nbytes for h in histories) / 2**20,
    )


def rewound(p: Param, model: Model, prefix: str) -> tuple[Model, int | None]:
    """The training-time block of a page that draws one model: for a model with a history, the
    slider, Play and a caption, and the model as it was at the chosen step (the model itself at
    the latest); any other model as it is, with nothing shown. Returns (model, step or None).
    prefix: the page's widget-key prefix ("belt", "cell")."""
    shown, step = rewound_all(p, {"": model}, prefix)
    return shown[""], step


def rewound_all(
    p: Param, models: dict[str, Model], prefix: str, intro: str = "rewind.page_intro"
) -> tuple[dict[str, Model], int | None]:
    """`rewound` for models drawn side by side (the BPTT page's pair), all at one step: the
    slider offers the steps any of them kept, and each is shown at its last kept step at or
    before the chosen one. Without a history on every model, the models as they are."""
    if not all(has_history(m) for m in models.values()):
        unused_link(p)
        return models, None
    histories = {name: m.history for name, m in models.items()}
    steps = sorted(set().union(*(h.steps for h in histories.values())))
    advance(p, steps, PAGE_EVERY)
    st.markdown(t(intro))
    c1, c2 = st.columns([5, 1], vertical_alignment="bottom")
    step = slider(p, steps, t("rewind.slider"), container=c1, help=t("rewind.slider_help"))
    play_button(p, steps, f"{prefix}_rewind_play", container=c2)
    st.caption(caption(step, steps, *histories.values()))
    _player(p)
    shown = {}
    for name, model in models.items():
        history = histories[name]
        index = history.index_at(step)
        shown[name] = model if index == len(history) - 1 else model_at(model, history, index)
    return shown, step


def _player(p: Param) -> None:
    """While playing, a timer that reruns the whole page once a moment (the page moves the step
    at the top of its run, in `rewound`)."""

    inline = f"_rewind.inline.{_page()}.{p.name}"

    @st.fragment(run_every=PAGE_EVERY if playing(p) else None)
    def tick() -> None:
        if playing(p) and not st.session_state.get(inline):  # the timer's run, not the page's
            st.rerun()

    st.session_state[inline] = True  # drawn with the page: a slow page must not rerun itself
    try:
        tick()
    finally:  # a rerun may stop this run inside tick(): the flag must not stay set
        st.session_state[inline] = False
