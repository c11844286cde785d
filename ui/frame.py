"""The picture frame every page sits in: the page list, the router, the shared sidebar.

app.py calls `run()`; every page file starts with `enter()`; pages draw Plotly figures with
`chart()` (st.plotly_chart, with the numbers written the session's way, a camera that saves the
figure as PNG or SVG, and a text alternative; see ui/figures/takeaway.py).

The frame also keeps the lesson path's thread (ui/lessons.py): `lesson=N` in a link says the page
was opened by step N's "show me", which sets the whole page (`params.setup`), and the frame puts a
way back to step N above it. Presenter mode (`present=1`, or the sidebar's toggle) is the frame's
too: larger type and figures, the sidebar collapsed, and on a lesson's page only the controls the
step names left on screen, the others folded behind one expander (see `_present`).

Why `enter()`: with a folder named pages/ beside app.py, a freshly started Streamlit server runs
in its legacy multipage mode until some session has run app.py, and in that mode a first visit
to /cell runs pages/cell.py on its own, without the router or the sidebar. `enter()` notices that
(app.py marks the runs it routes), switches the server to st.navigation (calling it is what
leaves legacy mode) and reruns, which goes through app.py to the same page: a page's identity is
its url_path, and every page's url_path is its file name.
"""

from __future__ import annotations

import re
import threading
import urllib.parse
import uuid
from dataclasses import dataclass
from functools import cache
from typing import NoReturn

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import RerunException

from lstm_core import blas
from ui import lessons, params, sessions
from ui.figures import takeaway
from ui.i18n import LANGUAGES, catalog, current_language, separators, t
from ui.safe import md_escape


@dataclass(frozen=True)
class PageSpec:
    id: str  # file pages/<id>.py, URL /<id>, catalog keys nav.<id> and home.<id>_promise
    icon: str
    default: bool = False

    @property
    def file(self) -> str:
        return page_file(self.id)


def page_file(page: str) -> str:
    """A page's script, relative to app.py (what st.Page and st.page_link take)."""
    return f"pages/{page}.py"


PAGES = (
    PageSpec("lessons", ":material/school:"),  # first in the navigation; Home stays the default
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
        params.Param("figures", "png", "choice", options=takeaway.FORMATS),
        params.Param("present", False, "bool"),
        params.Param("lesson", 0, "int", low=0, high=len(lessons.STEPS)),  # the step that led here
    ),
)
PRESENT_SCALE = 1.25  # presenter mode: type and figures this much larger
PRESENT_HEIGHT = 580  # px: the lesson step's own figure, most of a 720-pixel screen, all in view
FOLD = "present_more"  # the expander the presenter's other controls are folded behind

_router = threading.local()


def _st_pages() -> list:
    return [
        st.Page(
            p.file,
            title=t(f"nav.{p.id}"),
            icon=p.icon,
            url_path=p.id,
            default=p.default,
        )
        for p in PAGES
    ]


def _unknown_path() -> str | None:
    """The page name in an address that names no page ("nosuch" in /nosuch), else None.

    Streamlit answers such an address with an English dialog and the home page; the frame adds a
    hidden page at that very path instead, which says so in the session's language. Only plain
    one-level names (what a mistyped link holds); anything else is left to Streamlit.
    """
    path = urllib.parse.unquote(urllib.parse.urlsplit(st.context.url or "").path).strip("/")
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    if base:
        if path != base and not path.startswith(base + "/"):
            return None
        path = path[len(base) :].strip("/")
    if not re.fullmatch(r"[\w.~-]{1,100}", path) or path in {p.id for p in PAGES}:
        return None
    return path


def _no_such_page() -> None:
    """The page of an address that names no page: say so, and offer the real ones."""
    st.title(t("missing.title"))
    st.markdown(t("missing.text", path=md_escape("/" + (_unknown_path() or ""))))
    for spec in PAGES:
        st.page_link(spec.file, label=t(f"nav.{spec.id}"), icon=spec.icon)


@cache
def _one_blas_thread() -> None:
    """Once per server: the pages' own matrix products on one thread (lstm_core/blas.py says
    why). Sessions run side by side already; the text page's workers set their own count."""
    blas.set_threads(1)


def run() -> None:
    """Everything app.py does: config, language, navigation, sidebar, then the chosen page."""
    _one_blas_thread()
    sessions.start_reaper()
    if _followed_a_lesson_link():  # its settings are read again, the page's all set (params.setup)
        params.relink(SIDEBAR.values(), reset_absent=False)
        st.session_state[params.RELINK] = True
    params.check_url(SIDEBAR.values())  # the language first: the page titles below use it
    st.set_page_config(
        page_title="LSTM Lab",
        page_icon=":material/memory:",
        layout="wide",
        initial_sidebar_state="collapsed" if presenting() else "auto",
    )
    pages = _st_pages()
    unknown = _unknown_path()
    if unknown:
        pages.append(
            st.Page(
                _no_such_page,
                title=t("missing.title"),
                icon=":material/explore_off:",
                url_path=unknown,
                visibility="hidden",
            )
        )
    page = st.navigation(pages)
    # Every sidebar widget comes after st.navigation. A widget's id includes the page script
    # active when it is made, and before st.navigation that differs between a session's first
    # run and the runs after it: a language box made there got a new id on the first page
    # switch, started again at English and took lang=es out of the link.
    params.select(
        SIDEBAR["lang"], t("sidebar.language"), format_func=LANGUAGES.get, container=st.sidebar
    )
    current = next(
        (p.id for p in PAGES if p.id == page.url_path or (p.default and page.url_path == "")),
        "home",
    )
    st.session_state["_page"] = current
    if current == "lessons":  # the path keeps its own step (its `step`)
        st.session_state["lesson"] = 0
    params.number(
        SIDEBAR["seed"],
        t("sidebar.seed"),
        step=1,
        container=st.sidebar,
        help=t("sidebar.seed_help"),
    )
    params.radio(
        SIDEBAR["figures"],
        t("figure.format_label"),
        format_func=str.upper,
        container=st.sidebar,
        horizontal=True,
        help=t("figure.format_help"),
    )
    st.sidebar.button(
        t("sidebar.reset"),
        key="reset_page",
        icon=":material/restart_alt:",
        help=t("sidebar.reset_help"),
        on_click=params.reset,
        args=(current,),
        width="stretch",
    )
    params.toggle(
        SIDEBAR["present"],
        t("sidebar.present"),
        container=st.sidebar,
        help=t("sidebar.present_help"),
    )
    st.sidebar.caption(t("sidebar.about"))
    _router.fold = _lesson_bar(current)
    _router.style = st.empty()  # presenter mode's style, written once the page has run
    notes = st.empty()  # above the page: what the link could not do, filled in once it has run
    _router.active, _router.page, _router.notes, _router.finished = True, current, notes, False
    rerunning = False
    try:
        page.run()
    except RerunException:  # the run starts again: its notes wait for the next one
        rerunning = True
        raise
    finally:
        _router.active = False
        if not _router.finished:
            _finish(show=not rerunning)


def _finish(show: bool = True) -> None:
    """The end of a page's run: the link says what is on screen, the page's values are kept for
    its next visit, and the link's problems are shown."""
    _router.finished = True
    known = (*SIDEBAR.values(), *params.REGISTRY.get(_router.page, ()))
    params.write_url(known)
    params.drop_unknown(known)
    params.remember(_router.page)
    st.session_state.pop(params.RELINK, None)  # a page without parameters: nothing to set
    _present(_router.page, _router.style, _router.fold)
    if show:
        show_notes(_router.notes, params.take_notes())


def stop() -> NoReturn:
    """st.stop() for a page that cannot go on (no file uploaded yet): the run's end first. After
    st.stop() Streamlit stops at its next call, so the frame's own end of the run would leave the
    link behind (a page switched to "upload" kept the previous model in its link)."""
    if getattr(_router, "active", False) and not _router.finished:
        _finish()
    st.stop()


def show_notes(container, lines: list[str]) -> None:
    """All of a run's problems with the link, in one warning, one line each."""
    if len(lines) == 1:
        container.warning(lines[0], icon=":material/link_off:")
    elif lines:
        listed = "\n".join(f"- {line}" for line in lines)
        container.warning(f"{t('url.several')}\n\n{listed}", icon=":material/link_off:")


def chart(fig, *, key: str, **kwargs):
    """st.plotly_chart the house way: the figure's numbers written the session's way (0,5 in
    Spanish); in Plotly's bar only the camera, saving the figure in the sidebar's format under a
    name from its title (figure.title.<key> in the catalog), beside Streamlit's full screen; and a
    text alternative for screen readers read from the figure. A page's own `config` is kept
    where it does not touch the bar, which is the frame's."""
    fig.layout.separators = separators()
    lang = current_language()
    title = figure_title(key, lang)
    words = _figure_words(lang)
    fmt = st.session_state.get(SIDEBAR["figures"].name, SIDEBAR["figures"].default)
    if presenting():
        _enlarge(fig, key)
    config = {**(kwargs.pop("config", None) or {}), **takeaway.config(title, fmt, words, lang)}
    alt = takeaway.describe(fig, title, words)
    return st.plotly_chart(fig, key=key, config=config, alt=alt, **kwargs)


def figure_title(key: str, lang: str) -> str:
    """A chart's title in the catalog (figure.title.<key>; numbered keys such as belt_match_2
    share one), else the page's name."""
    base = re.sub(r"_\d+$", "", key)
    text = catalog(lang).get(f"figure.title.{base}")
    page = st.session_state.get("_page", "home")
    return text if text is not None else t(f"nav.{page}", lang=lang)


@cache
def _figure_words(lang: str) -> dict[str, str]:
    """The words of ui.figures.takeaway (its tooltip, messages, kinds of chart), in `lang`."""
    prefix = "figure."
    return {
        k[len(prefix) :]: v
        for k, v in catalog(lang).items()
        if k.startswith(prefix) and not k.startswith(prefix + "title.")
    }


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


# ---------------------------------------------------------------- the lesson path and presenter mode
def presenting() -> bool:
    """Whether this session is in presenter mode (`present=1` in the link, or the sidebar)."""
    return bool(st.session_state.get("present", False))


def lesson() -> tuple[int, lessons.Step | None]:
    """The lesson step that led to this page (its number and record; 0, None: none)."""
    n = int(st.session_state.get("lesson", 0) or 0)
    return n, lessons.step(n)


def _followed_a_lesson_link() -> bool:
    """Whether this run was started by a link of the lesson path followed inside the session (its
    `show me`, or the way back): the address carries `lesson` and is not the one this session's
    runs and fragments last wrote (params.write_url). Moving a widget keeps that address;
    following a link does not."""
    return "lesson" in st.query_params and params.address() != st.session_state.get(params.WRITTEN)


def _lesson_bar(current: str):
    """Above a page a lesson step opened: the way back to the step; presenting, the step's "what
    to notice" too, and the expander the other controls are folded behind (returned)."""
    n, step = lesson()
    if step is None or current == "lessons":
        return None
    bar = st.container(horizontal=True, vertical_alignment="center", gap="medium")
    bar.page_link(
        page_file("lessons"),
        label=t("lessons.back_to", n=n, title=step.text("title")),
        icon=":material/arrow_back:",
        query_params=lessons.way_back(n),
    )
    if step.page != current:
        return None
    if presenting():
        bar.caption(step.text("notice"))
        return st.expander(t("lessons.fold"), key=FOLD, on_change="rerun", icon=":material/tune:")
    return None


def _present(current: str, style, fold) -> None:
    """Presenter mode's style: larger type, and on a lesson's page the controls the step does not
    name folded away (hidden in place until the fold's expander is opened; never lost)."""
    if not presenting():
        return
    rules = [f"html {{ font-size: {round(100 * PRESENT_SCALE)}%; }}"]  # Streamlit sizes in rem
    _, step = lesson()
    if fold is not None and step is not None:
        hidden = [p for p in params.REGISTRY.get(current, ()) if p.name not in step.controls]
        with fold:
            if st.session_state.get(FOLD):
                st.caption(t("lessons.fold_open"))
            else:
                st.caption(t("lessons.fold_closed"))
                st.markdown(
                    "  \n".join(
                        f"`{p.name}` = {params.shown(p, st.session_state.get(p.name, p.current_default))}"
                        for p in hidden
                    )
                )
                keys = [k for p in hidden for k in params.drawn_keys(p)]
                rules += [f".st-key-{k} {{ display: none; }}" for k in keys]
    style.html("<style>" + "\n".join(rules) + "</style>")


def _enlarge(fig, key: str) -> None:
    """A figure for a projector: its type larger, and the lesson step's own figure as tall as most
    of the screen, and no taller (a presenter shows it whole)."""
    font = fig.layout.font.size or 13
    fig.layout.font.size = round(font * PRESENT_SCALE)
    height = fig.layout.height or 450
    _, step = lesson()
    main = step is not None and step.figure == key and step.page == st.session_state.get("_page")
    fig.layout.height = PRESENT_HEIGHT if main else round(height * PRESENT_SCALE)
