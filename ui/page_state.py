"""Each page's own session values, one record a page: what a page keeps between its runs besides
its parameters (ui/params.py) and its widgets' values. Every slot lives in st.session_state as
"<page>.<slot>" (ui/state.py), so the sidebar's reset forgets it with the rest of the page.

A page reads `TEXT.gen`, sets `TEXT.was_running = False`, and finds here what each value means.
"""

from __future__ import annotations

import streamlit as st

from ui import load
from ui.state import Kept, Memo, PageState, Slot


class Paced(PageState):
    """A page whose live views slow down while many students train (ui/load.py)."""

    pace = Slot(1)  # the factor the page's timers were set with (1: full speed)

    def repaced(self) -> bool:
        """Inside a live view: True when the pace changed (rerun the page: the timers are set by
        a full run)."""
        return load.repace(st.session_state, self.key("pace"))


class TextState(Paced):
    page = "text"
    run = Kept("text.bg")  # the BackgroundText training for (model, text, lowercase)
    was_running = Slot(False)  # the live view saw training run: when it stops, redraw the page
    fetched = Slot()  # (address, text, notice codes) of the last text fetched from a link
    fetch_error = Slot()  # why the last fetch failed (an error's dict, for i18n.explain)
    anyway = Slot()  # (model key, text hash) the user chose to write from despite a mismatch
    gen = Slot()  # the latest Generation (ui/generation.py), written or being written
    inspected = Slot()  # the Generation the inspector opened last (a new one opens anew)
    rewind_memo = Memo("text.rewind_memo", 24)  # the training-time view's computed moments


class EchoState(Paced):
    page = "echo"
    run = Kept("echo.run")  # the EchoRun, with the settings and cells it was made for
    sweep = Kept("echo.sweep")  # the EchoSweep, with the settings it sweeps
    slice_end = Slot()  # perf_counter() when the last training slice ended (None: none yet)


class BpttState(PageState):
    page = "bptt"
    apply = Slot()  # parameter values to set before the widgets are drawn ("Make it explode")
    explode = Slot(False)  # "Make it explode" was pressed: search once the models are at hand
    exploded = Slot()  # (found explosion, hidden, T it was searched from), said once
    check = Kept("bptt.check")  # the last gradient check, with the settings it checked


TEXT, ECHO, BPTT = TextState(), EchoState(), BpttState()
