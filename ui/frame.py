"""The picture frame every page sits in: the page list, the router, the shared sidebar.

app.py calls `run()`; every page file starts with `enter()`.

Why `enter()`: with a folder named pages/ beside app.py, a freshly started Streamlit server runs
in its legacy multipage mode until some session has run app.py, and in that mode a first visit
to /cell runs pages/cell.py on its own, without the router or the sidebar. `enter()` notices that
(app.py marks the runs it routes), switches the server to st.navigation (calling it is what
leaves legacy mode) and reruns, which goes through app.py to the same page: a page's identity is
its url_path, and every page's url_path is its file name.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass

import streamlit as st

from ui import params
from ui.i18n import LANGUAGES, t


@dataclass(frozen=True)
class PageSpec:
    id: str  # file pages/<id>.py, URL /<id>, catalog keys nav.<id> and home.<id>_promise
    icon: str
    default: bool = False


PAGES = (
    PageSpec("home", ":material/home:", default=True),
    PageSpec("cell", ":material/memory:"),
    PageSpec("belt", ":material/conveyor_belt:"),
    PageSpec("echo", ":material/graphic_eq:"),
    PageSpec("text", ":material/edit_note:"),
    PageSpec("bptt", ":material/history:"),
)

SIDEBAR = params.register(
    "_frame",
    (
        params.Param("lang", "en", "choice", options=tuple(LANGUAGES)),
        params.Param("seed", 0, "int", low=0, high=999_999),
    ),
)

_router = threading.local()


def _st_pages() -> list:
    return [
        st.Page(
            f"pages/{p.id}.py",
            title=t(f"nav.{p.id}"),
            icon=p.icon,
            url_path=p.id,
            default=p.default,
        )
        for p in PAGES
    ]


def run() -> None:
    """Everything app.py does: config, language, navigation, sidebar, then the chosen page."""
    st.set_page_config(page_title="LSTM Lab", page_icon=":material/memory:", layout="wide")
    warnings = params.check_url(SIDEBAR.values())
    params.select(
        SIDEBAR["lang"], t("sidebar.language"), format_func=LANGUAGES.get, container=st.sidebar
    )
    page = st.navigation(_st_pages())
    current = next(
        (p.id for p in PAGES if p.id == page.url_path or (p.default and page.url_path == "")),
        "home",
    )
    st.session_state["_page"] = current
    params.number(
        SIDEBAR["seed"],
        t("sidebar.seed"),
        step=1,
        container=st.sidebar,
        help=t("sidebar.seed_help"),
    )
    st.sidebar.button(
        t("sidebar.reset"), key="reset_page", icon=":material/restart_alt:", help=t("sidebar.reset_help"),
        on_click=params.reset, args=(current,), width="stretch",
    )  # fmt: skip
    st.sidebar.caption(t("sidebar.about"))
    for message in warnings:
        st.warning(message, icon=":material/link_off:")
    _router.active = True
    try:
        page.run()
    finally:  # also when a page stops early (st.stop): the link still says what is on screen
        _router.active = False
        params.write_url((*SIDEBAR.values(), *params.REGISTRY.get(current, ())))
        params.remember(current)


def enter() -> None:
    """First line of every page: make sure the page runs inside the frame (see the module doc)."""
    if not getattr(_router, "active", False):
        st.navigation(_st_pages(), position="hidden")
        st.rerun()


def session_id() -> str:
    """An id for this browser session (for ui.load's counts; nothing else is shared)."""
    if "_sid" not in st.session_state:
        st.session_state["_sid"] = uuid.uuid4().hex
    return st.session_state["_sid"]


def seed() -> int:
    return int(st.session_state.get("seed", 0))


def header(page: str) -> None:
    st.title(t(f"{page}.title"))
    st.markdown(t(f"{page}.intro"))
