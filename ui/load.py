"""How busy the server is, shared by every session: the live views slow down when a whole class
trains at once, so that the server keeps answering.

Every page that redraws on a timer (a training curve, text being written) reports each redraw
with `tick(name)`. `pace()` says how much slower than its normal rate such a view should
redraw: 1 while at most FULL_RATE views are live, then 2, 4, 8... as more are, so the server's
drawing work stays about what FULL_RATE views cost. (All sessions share one Python interpreter:
past that, every extra redraw only makes every other one, and the health check, wait.)

Training that runs inside the server (the echo task's slices) takes `training_slot()` first:
one slice at a time, each `share()` of the normal length, so however many students train, the
server spends about the same time training as it does for one. The text page trains in worker
processes instead and needs neither; `blas_threads()` says how many threads each may use.

Only counts and timestamps are shared here; no session's data.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time

FULL_RATE = int(os.environ.get("LSTM_LAB_FULL_RATE", "6"))  # live views redrawn at their full rate
WORKER_THREADS = max(
    1, int(os.environ.get("LSTM_LAB_WORKER_THREADS", "2"))
)  # a cap for each worker
FORGET_AFTER = 3.0  # seconds: a view that has not redrawn for this long is no longer live

_lock = threading.Lock()
_seen: dict[tuple[str, str], float] = {}  # (session, view) -> last redraw
_training: dict[str, float] = {}  # session -> last in-server training slice
_slot = threading.Lock()


def _forget(table: dict, now: float) -> None:
    for key in [k for k, t in table.items() if now - t > FORGET_AFTER]:
        del table[key]


def tick(session: str, view: str) -> None:
    """A live view of this session redrew just now."""
    now = time.monotonic()
    with _lock:
        _seen[(session, view)] = now
        _forget(_seen, now)


def live_views() -> int:
    with _lock:
        _forget(_seen, time.monotonic())
        return len(_seen)


def others(session: str, view: str) -> int:
    """How many other sessions have a live view of this name (e.g. "text": training curves)."""
    with _lock:
        _forget(_seen, time.monotonic())
        return sum(1 for s, v in _seen if v == view and s != session)


def blas_threads(session: str) -> int:
    """How many BLAS threads a session's text-training worker may use: two while nobody else
    trains a text model (the worker still measures whether two are faster), else one each."""
    alone = others(session, "text") == 0 and (os.cpu_count() or 1) >= 2
    return min(2 if alone else 1, WORKER_THREADS)


def pace(live: int | None = None) -> int:
    """How many times slower than normal a live view should redraw: 1, 2, 4, 8, ..."""
    live = live_views() if live is None else live
    factor = 1
    while live > FULL_RATE * factor:
        factor *= 2
    return factor


@contextlib.contextmanager
def training_slot(session: str):
    """Hold while training inside the server; yields this slice's share of the normal length."""
    now = time.monotonic()
    with _lock:
        _training[session] = now
        _forget(_training, now)
        sharing = max(1, len(_training))
    with _slot:
        yield 1.0 / sharing


def repace(state, key: str, hold: float = 5.0) -> bool:
    """Inside a live view: True when its pace should change (the caller then reruns the page,
    which sets the timers anew). `state[key]` holds the pace the timers were set with; a change
    waits `hold` seconds after the last one, so students coming and going do not make it flap."""
    wanted, now = pace(), time.monotonic()
    if wanted == state.get(key, 1) or now - state.get(key + "/at", 0.0) < hold:
        return False
    state[key], state[key + "/at"] = wanted, now
    return True
