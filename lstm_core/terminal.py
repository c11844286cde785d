"""What a long command shows and hears on a terminal: a progress line, and Ctrl-C.

The progress line says how far, how fast (steps per second, and characters per second for
text) and how long is left at that pace. Ctrl-C during training is turned into a request that
the loop reads between steps, so the weights it then saves are whole.
"""

from __future__ import annotations

import signal
import sys
import threading
import time


def duration(seconds: float) -> str:
    """4s, 2m 05s, 1h 02m: how long, to the precision one waits by."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


class Progress:
    """A progress bar on a terminal (redrawn at most 10 times a second); plain lines elsewhere.

    Each line ends with the rate so far (`unit`s per second, and characters per second when a
    unit reads `chars_per_unit` characters) and the time left at that rate.
    """

    def __init__(
        self,
        total: int,
        stream=None,
        every_seconds: float = 5.0,
        unit: str = "steps",
        chars_per_unit: int = 0,
    ) -> None:
        self.total, self.stream = max(1, total), stream or sys.stderr
        self.unit, self.chars_per_unit = unit, chars_per_unit
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.every = 0.1 if self.tty else every_seconds
        self.start = self.last = time.perf_counter()

    def rate(self, done: int, elapsed: float) -> str:
        """ "12.5 steps/s (24,000 chars/s), 1m 10s left" (nothing to say before the first unit)."""
        if done <= 0 or elapsed <= 0:
            return ""
        per_second = done / elapsed
        chars = f" ({per_second * self.chars_per_unit:,.0f} chars/s)" if self.chars_per_unit else ""
        left = duration(max(0, self.total - done) / per_second)
        return f"{per_second:,.1f} {self.unit}/s{chars}, {left} left"

    def update(self, done: int, text: str) -> None:
        now = time.perf_counter()
        if now - self.last < self.every and done < self.total:
            return
        self.last = now
        frac, elapsed = min(1.0, done / self.total), now - self.start
        rate = self.rate(done, elapsed)
        if self.tty:
            bar = "#" * int(30 * frac) + "." * (30 - int(30 * frac))
            self.stream.write(f"\r[{bar}] {frac:4.0%} {text} {rate} {elapsed:6.1f}s\x1b[K")
        else:
            self.stream.write(f"{done}/{self.total} {text} {rate} {elapsed:.1f}s\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


class StopOnCtrlC:
    """Ctrl-C while training: finish the step under way, then stop (`requested` turns True).

    The weights are then whole (never half an update) and can be saved. A second Ctrl-C stops
    at once, as Ctrl-C always does. Outside the main thread signals cannot be caught: no-op.
    """

    def __init__(self) -> None:
        self.requested = False
        self.previous = None

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> StopOnCtrlC:
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
