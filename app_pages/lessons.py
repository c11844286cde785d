"""The lesson path: the whole idea in ten steps, from one valve to a model that writes. Each step
says what to notice and why it matters, asks one question (its answer on demand) and opens the
real page in the exact state with "show me". The step is in the link: ?step=5 is step 5."""

import streamlit as st

from ui import frame, lessons, params
from ui.i18n import current_language, t
from ui.params import Param

STEPS = lessons.STEPS
P = params.register("lessons", (Param("step", 1, "int", low=1, high=len(STEPS)),))
params.setup("lessons")
frame.header("lessons")


def move(delta: int) -> None:
    st.session_state["step"] = min(max(int(st.session_state.get("step", 1)) + delta, 1), len(STEPS))


n = int(st.session_state.get("step", P["step"].default))
lang = current_language()  # fixed now: Streamlit may format outside the run
titles = {k: STEPS[k - 1].text("title") for k in range(1, len(STEPS) + 1)}
st.progress(n / len(STEPS), text=t("lessons.progress", n=n, total=len(STEPS)))
back, choose, forward = st.columns([1, 4, 1], vertical_alignment="bottom")
back.button(
    t("lessons.back"),
    key="lessons_back",
    icon=":material/chevron_left:",
    on_click=move,
    args=(-1,),
    disabled=n <= 1,
    width="stretch",
    shortcut="Left",
)
forward.button(
    t("lessons.next"),
    key="lessons_next",
    icon=":material/chevron_right:",
    on_click=move,
    args=(1,),
    disabled=n >= len(STEPS),
    width="stretch",
    shortcut="Right",
)
n = params.select(
    P["step"],
    t("lessons.jump"),
    lambda k: t("lessons.numbered", n=k, title=titles[k], lang=lang),
    options=range(1, len(STEPS) + 1),
    container=choose,
)
step = STEPS[n - 1]

with st.container(border=True):
    st.subheader(t("lessons.numbered", n=n, title=titles[n]))
    st.markdown(f"**{t('lessons.notice_title')}** {step.text('notice')}")
    st.markdown(f"**{t('lessons.why_title')}** {step.text('why')}")
    link, where = st.columns([2, 3], vertical_alignment="center")
    link.page_link(
        frame.page_file(step.page),
        label=t("lessons.show_me", page=t(f"nav.{step.page}")),
        icon=":material/play_circle:",
        query_params=lessons.show_me(n),
        help=t("lessons.show_me_help"),
    )
    settings = " ".join(f"`{k}={v}`" for k, v in lessons.show_me(n).items() if k != "lesson")
    where.caption(t("lessons.settings", settings=settings) if settings else t("lessons.defaults"))

with st.container(border=True):
    st.markdown(f"**{t('lessons.question_title')}** {step.text('question')}")
    if st.toggle(t("lessons.reveal"), key=f"lessons_answer_{step.id}"):
        st.success(step.text("answer"), icon=":material/lightbulb:")

st.caption(t("lessons.keys"))
