"""Closed tabs give their memory back.

Streamlit keeps a closed tab's session for `server.disconnectedSessionTTL` seconds (120 by
default) so that a reconnecting browser finds its state. Past that the session is expired, but
only marked so: its store drops it at the next connection or disconnection of some other tab.
When a class leaves at once nothing comes after, and every session's models, traces and
figures stayed in the server's memory until the next lesson (measured in the README, "Running
it for a class"). A timer thread does the dropping instead, every REAP_EVERY seconds.

This reaches into Streamlit's session manager (1.67: `Runtime._session_mgr`, its
`_session_storage` and `_storage_lock`); in a Streamlit without them it does nothing, and
tests/test_sessions.py fails, so an upgrade that moves them is noticed.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import threading
import time

from streamlit.runtime import Runtime

REAP_EVERY = float(os.environ.get("LSTM_LAB_REAP_EVERY", "30"))  # seconds between two reapings

_started = False
_start_lock = threading.Lock()


def _store():
    """(the expiring store of closed sessions, the lock its manager holds around it), or None
    outside a running server or in a Streamlit that keeps them elsewhere."""
    if not Runtime.exists():
        return None
    manager = getattr(Runtime.instance(), "_session_mgr", None)
    storage = getattr(manager, "_session_storage", None)
    cache, lock = getattr(storage, "_cache", None), getattr(manager, "_storage_lock", None)
    if cache is None or lock is None or not hasattr(cache, "expire"):
        return None
    return cache, lock


def reap() -> int | None:
    """Drop the closed sessions past their time to live now; how many went (None: cannot)."""
    store = _store()
    if store is None:
        return None
    cache, lock = store
    with lock:
        gone = len(cache.expire())
    if gone:
        gc.collect()  # a session's objects hold each other in cycles: free them now, not at the
        # next full collection, which an idle server may not reach for hours
        _trim()
    return gone


def _trim() -> None:
    """Hand freed memory back to the system (glibc keeps freed small blocks for reuse, tens of
    MB after a session at large settings); elsewhere nothing to do."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _loop() -> None:
    while True:
        time.sleep(REAP_EVERY)
        with contextlib.suppress(Exception):  # never let the reaper die: try again next time
            reap()


def start_reaper() -> bool:
    """Start the timer once per server (every page run asks; only the first starts it).
    False where there is nothing to reap (no running server, an unknown Streamlit)."""
    global _started
    with _start_lock:
        if _started:
            return True
        if _store() is None:
            return False
        threading.Thread(target=_loop, name="lstm-lab-session-reaper", daemon=True).start()
        _started = True
        return True
