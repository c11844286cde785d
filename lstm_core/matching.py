"""Matching a user's regular expression without letting it stall the server.

Python's `re` backtracks: a few adjacent quantifiers (a*a*a*a*b) over a few hundred characters
can run for minutes, holding the interpreter lock, which on a classroom server stops every
student's page. So the match runs in a child process of its own (started afresh, a small memory
limit, killed at the deadline), the server only waits on a pipe, and the answer is cached per
(text, pattern), so a rerun costs nothing. At most `SLOTS` matches run at once, server-wide.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from collections import OrderedDict

from .errors import LabError

MATCH_SECONDS = 1.0  # a match that takes longer is refused
SLOTS = 2  # child processes matching at once, for the whole server
_CACHE_SIZE = 512
_CHILD = """
import json, re, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (512 << 20, 512 << 20))
job = json.loads(sys.stdin.read())
print(json.dumps([m.span() for m in re.finditer(job["pattern"], job["text"])]))
"""


class MatchError(LabError):
    """A match that could not be run in time; str(error) is one line for the user."""


_slots = threading.BoundedSemaphore(SLOTS)
_cache: OrderedDict[tuple[str, str], list[tuple[int, int]] | MatchError] = OrderedDict()
_cache_lock = threading.Lock()


def match_spans(text: str, pattern: str, seconds: float = MATCH_SECONDS) -> list[tuple[int, int]]:
    """(start, end) of every match of `pattern` in `text`, as `re.finditer` gives them.

    The pattern must already compile (see analysis.compile_pattern). Raises MatchError if the
    match takes longer than `seconds` or the server is busy with other matches for that long.
    """
    key = (hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(), pattern)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            found = _cache[key]
            if isinstance(found, MatchError):
                raise found
            return found
    try:
        found = _run(text, pattern, seconds)
    except MatchError as exc:
        if exc.code == "regex_busy":  # not the pattern's fault: try again later
            raise
        found = exc
    with _cache_lock:
        _cache[key] = found
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    if isinstance(found, MatchError):
        raise found
    return found


def _run(text: str, pattern: str, seconds: float) -> list[tuple[int, int]]:
    slow = MatchError(
        f"the regular expression takes longer than {seconds:g} s on this text: simplify it",
        "regex_slow",
        seconds=seconds,
    )
    if not _slots.acquire(timeout=seconds):
        raise MatchError(
            "the server is busy matching other expressions: try again in a moment", "regex_busy"
        )
    try:
        job = json.dumps({"pattern": pattern, "text": text})
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _CHILD],
            input=job.encode(),
            capture_output=True,
            timeout=seconds,
            check=False,
        )
    except subprocess.TimeoutExpired:  # the child was killed
        raise slow from None
    finally:
        _slots.release()
    if done.returncode != 0:  # out of its memory limit, most likely
        raise slow
    return [tuple(span) for span in json.loads(done.stdout)]
