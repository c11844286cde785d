"""A regular expression cannot stall the server: matched in a child process with a deadline."""

import threading
import time

import numpy as np
import pytest

from lstm_core import matching
from lstm_core.analysis import PropertyError, regex_matches
from lstm_core.matching import MatchError, match_spans

# adjacent quantifiers (no nesting, so compile_pattern lets them through): backtracking over
# 300 characters would run for hours in Python's re
PATHOLOGICAL = r"\w*\w*\w*\w*\w*\w*\w*\w*\w*\w*\w*\w*!"
TEXT = "a" * 300


def test_matches_are_those_of_re():
    text = 'he said "yes" and "no"'
    assert match_spans(text, r'"[^"]*"') == [(8, 13), (18, 22)]
    assert match_spans(text, "x*") == [(k, k) for k in range(len(text) + 1)]
    assert regex_matches(text, "yes").tolist() == [0.0] * 9 + [1.0] * 3 + [0.0] * 10


def test_a_pathological_pattern_is_stopped_and_the_server_goes_on():
    ticks = []
    stop = threading.Event()

    def other_student():  # a thread that needs the interpreter lock all the time
        while not stop.is_set():
            ticks.append(time.monotonic())
            sum(range(1000))

    thread = threading.Thread(target=other_student)
    thread.start()
    started = time.monotonic()
    try:
        with pytest.raises(MatchError) as info:
            match_spans(TEXT + "1", PATHOLOGICAL, seconds=0.5)
    finally:
        stop.set()
        thread.join()
    assert info.value.code == "regex_slow"
    assert time.monotonic() - started < 3.0
    gaps = np.diff(ticks)
    assert len(ticks) > 1000 and gaps.max() < 0.25  # the other thread never waited long


def test_a_slow_pattern_is_remembered_not_rerun(monkeypatch):
    text = TEXT + "2"
    with pytest.raises(MatchError):
        match_spans(text, PATHOLOGICAL, seconds=0.3)
    monkeypatch.setattr(matching, "_run", lambda *a: pytest.fail("ran again"))
    with pytest.raises(MatchError):
        match_spans(text, PATHOLOGICAL, seconds=0.3)


def test_results_are_cached_per_text_and_pattern(monkeypatch):
    calls = []
    real = matching._run

    def counting(*args):
        calls.append(args[:2])
        return real(*args)

    monkeypatch.setattr(matching, "_run", counting)
    for _ in range(3):
        match_spans("abc abc", "b")
    match_spans("abc abd", "b")
    assert calls == [("abc abc", "b"), ("abc abd", "b")]


def test_the_property_says_it_in_one_line():
    with pytest.raises(PropertyError) as info:
        regex_matches(TEXT + "3", PATHOLOGICAL)
    assert info.value.code == "regex_slow" and "\n" not in str(info.value)


def test_a_busy_server_says_so(monkeypatch):
    monkeypatch.setattr(matching, "_slots", threading.BoundedSemaphore(1))
    matching._slots.acquire()
    try:
        with pytest.raises(MatchError) as info:
            match_spans("busy text", "busy", seconds=0.2)
        assert info.value.code == "regex_busy"
    finally:
        matching._slots.release()
    assert match_spans("busy text", "busy") == [(0, 4)]  # busy is not remembered as a verdict
