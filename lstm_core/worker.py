"""Training a character model in its own process, so a page can redraw while it trains at speed.

Why a process and not a thread: a training step makes about a hundred NumPy calls, each of
which gives up CPython's global interpreter lock and then waits to get it back; next to any busy
Python thread (a web server drawing a page) each wait can last the interpreter's switch interval,
and training slows to a crawl (README, "Speed"). A separate process has its own interpreter.

`TrainingProcess` (training_process.py, in the page's process) starts `python -m
lstm_core.worker` and talks to it over the worker's stdin and stdout in frames: an 8-byte header
(JSON length, payload length, big-endian uint32), the JSON, the payload. The two messages with
many fields are records defined here, `Start` and `Progress`; commands are small dicts
({"cmd": ...}). Nothing is pickled: a model travels as a checkpoint (read back with
`load_checkpoint`), token ids as int32 bytes.

The worker trains in short bursts and reports after each (new losses, bits per character on
the held-out text, samples of text, and the training history's new moments). It lowers its own priority so the page stays responsive,
stops training when nobody has asked about it for IDLE_PAUSE seconds, and exits when its
parent goes away or has been silent for IDLE_EXIT seconds.

The history (history.py, within budget.TEXT_HISTORY) travels in the progress frames, a moment at
a time: each report lists the steps the worker keeps now and carries, as float32 bytes in its
payload, the weights of the kept steps the page has not had yet; the page drops what the worker
thinned away. So each moment crosses the pipe once (most of them in the first seconds, when
early learning is kept densely), the page can rewind while training goes on, and nothing large
waits for a request. The latest step, which the worker keeps only until
the next one, is not sent: the page has it from the weights it fetches on Pause.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import queue
import struct
import sys
import threading
import time
from dataclasses import asdict, dataclass, field, fields, replace

import numpy as np

from . import blas, budget
from .budget import check_text_training, out_of_memory
from .checkpoint import checkpoint_bytes, load_checkpoint
from .errors import LabError
from .history import WeightHistory
from .sampling import generate_text
from .text import bits_per_character
from .training import TextSettings, TextTrainer

# seconds without a word from the page before training pauses, and before the worker exits
IDLE_PAUSE = float(os.environ.get("LSTM_LAB_IDLE_PAUSE", "20"))
IDLE_EXIT = float(os.environ.get("LSTM_LAB_IDLE_EXIT", "90"))
BURST = 0.1  # seconds of training between two reports
HELD_OUT_SCORED = 4000  # characters of the held-out text scored for bits per character
_HEADER = struct.Struct(">II")


def write_frame(stream, header: dict, payload: bytes = b"") -> None:
    data = json.dumps(header).encode("utf-8")
    stream.write(_HEADER.pack(len(data), len(payload)) + data + payload)
    stream.flush()


def read_frame(stream) -> tuple[dict, bytes] | None:
    """The next frame, or None at the end of the stream."""
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    n_json, n_payload = _HEADER.unpack(head)
    data = stream.read(n_json)
    payload = stream.read(n_payload) if n_payload else b""
    if len(data) < n_json or len(payload) < n_payload:
        return None
    return json.loads(data.decode("utf-8")), payload


# ==================================================================================== the messages
@dataclass(frozen=True)
class Start:
    """The first frame: what the worker trains, and how. Its payload: the checkpoint's bytes, then
    the training text's ids as int32."""

    checkpoint_bytes: int  # how much of the payload is the checkpoint
    held_out: str  # scored for bits per character
    prime: str  # what the samples start from
    temperature: float
    eval_every: int  # steps between two scorings of the held-out text
    sample_every: int  # steps between two samples
    settings: TextSettings
    counts: tuple[int, int, float] = (0, 0, 0.0)  # steps, characters, seconds (a resumed run)
    threads: int = 1  # the most BLAS threads it may use (see _Threads)
    address_space: int | None = None  # bytes: the operating system's cap on the worker's memory

    def to_dict(self) -> dict:
        return {"cmd": "init", **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict) -> Start:
        given = {f.name: d[f.name] for f in fields(cls) if f.name in d}
        given["settings"] = TextSettings(**d["settings"])
        return cls(**given)


@dataclass(frozen=True)
class Progress:
    """A report after each burst: where training stands, and what is new since the last one."""

    steps: int = 0
    characters: int = 0
    seconds: float = 0.0  # spent training
    status: str = "paused"  # "paused", "training", "diverged" or "failed"
    message: dict | None = None  # why training stopped by itself (`LabError.as_dict`)
    order: int = 0  # the train or pause order this report follows
    loss: list = field(default_factory=list)  # new [step, loss] pairs
    bpc: list = field(default_factory=list)  # new [step, bits per character] pairs
    samples: list = field(default_factory=list)  # new [step, text] pairs
    threads: int = 1  # BLAS threads in use
    history: dict | None = None  # {"kept": steps, "new": steps whose weights are in the payload}

    def to_dict(self) -> dict:
        return {"type": "progress", **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict) -> Progress:
        return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})


# ==================================================================================== the worker
def note(code: str, text: str, **params) -> dict:
    """A message for the page, as `LabError.as_dict` gives it: English text, code, params."""
    return {"text": text, "code": code, "params": params}


class _Threads:
    """How many threads the training steps' matrix products use: the faster of 1 and 2, as
    measured while training, never more than the page allows.

    Two threads make a lone model train faster; but when the machine is busy (a browser drawing
    the page, other students' workers), OpenBLAS's threads wait for each other and a step can
    take many times as long (README, "Speed"). So the worker starts on
    one, tries the other count for a burst now and then, and keeps whichever steps faster (the
    median step of each burst; a lost try waits twice as long before the next, up to a minute).
    The page allows 2 only while its session is the only one training.
    """

    FIRST_TRY, LAST_TRY = 5.0, 60.0  # seconds between tries of the other count

    def __init__(self, most: int) -> None:
        self.most, self.now = max(1, most), 1
        self.per_step: dict[int, float] = {}  # threads -> seconds per step (recent bursts)
        self.wait, self.next_try, self.trying = self.FIRST_TRY, 0.0, False
        blas.set_threads(1)

    def allow(self, most: int) -> None:
        self.most = max(1, most)

    def best(self) -> int:
        allowed = [n for n in (1, 2) if n <= self.most and n in self.per_step]
        return min(allowed, key=self.per_step.get, default=1)

    def pick(self) -> int:
        """The count for the next burst (and set it)."""
        n, self.trying = self.best(), False
        if self.most >= 2:
            untried = [k for k in (1, 2) if k not in self.per_step]
            if untried:
                n = untried[0]
            elif time.monotonic() >= self.next_try:
                n, self.trying = 3 - n, True  # the other one, for a burst
                self.next_try = time.monotonic() + self.wait
        if n != self.now:
            blas.set_threads(n)
            self.now = n
        return n

    def record(self, n: int, step_seconds: list[float]) -> None:
        """A burst's step times on n threads (the first step after a switch left out)."""
        if not step_seconds:
            return
        typical = float(np.median(step_seconds))
        before = self.per_step.get(n)
        self.per_step[n] = typical if before is None else 0.5 * (before + typical)
        if self.trying:  # a lost try waits twice as long before the next; a won one starts over
            won = self.best() == n
            self.wait = self.FIRST_TRY if won else min(self.LAST_TRY, 2 * self.wait)
            self.next_try = time.monotonic() + self.wait
        elif len(self.per_step) == 2 and not self.next_try:
            self.next_try = time.monotonic() + self.wait  # both measured once: tries from now on


class _Worker:
    """The worker's side: one model, trained in bursts between commands from the page."""

    def __init__(self, start: Start, payload: bytes, out) -> None:
        n = start.checkpoint_bytes
        self.model = load_checkpoint(payload[:n])
        self.ids = np.frombuffer(payload[n:], dtype=np.int32).astype(np.intp)
        self.held_out, self.prime = start.held_out, start.prime
        self.temperature = start.temperature
        self.eval_every, self.sample_every = start.eval_every, start.sample_every
        self.out = out
        self.settings = start.settings
        self._steps, self.characters, self.seconds = start.counts  # a resumed run goes on
        self.threads = _Threads(start.threads)
        self.training, self.status, self.message, self.order = False, "paused", None, 0
        self.losses, self.bpcs, self.samples = [], [], []
        self.trainer: TextTrainer | None = None  # until settings within the budget arrive
        self.history, self.sent = self.take_history()
        self.refused = self.try_trainer(self.settings)  # said when asked to train

    @property
    def steps(self) -> int:
        """Updates so far: the trainer counts them (the count the worker started with, until a
        trainer within the budget exists)."""
        return self.trainer.steps_done if self.trainer is not None else self._steps

    def take_history(self) -> tuple:
        """The history to keep: the one the model came with (the page has its moments), else a
        new one; then this step's weights. A history that goes further than the counts given
        (an uploaded checkpoint's) sets the step count: training goes on from its last step."""
        history, self.model.history = self.model.history, None  # weights frames go without it
        if history is None:
            history = WeightHistory(budget=budget.TEXT_HISTORY)
        history.budget = budget.TEXT_HISTORY
        sent = set(history.steps)
        if history.steps and history.steps[-1] > self._steps:
            self._steps = history.steps[-1]
        history.offer(self._steps, self.model.flat)
        return history, sent

    def history_news(self) -> tuple[dict, bytes]:
        """The steps kept now (the provisional latest left out) and the weights the page lacks."""
        h = self.history
        kept = h.steps[:-1] if h.provisional else list(h.steps)
        new = [j for j, step in enumerate(kept) if step not in self.sent]
        self.sent = set(kept)
        payload = b"".join(h.weights[j].tobytes() for j in new)
        return {"kept": kept, "new": [kept[j] for j in new]}, payload

    def new_trainer(self, s: TextSettings) -> TextTrainer:
        """A trainer at these settings, going on from this step and keeping this history;
        LabError if they are over the budget (budget.py), MemoryError if the operating
        system's limit stops it anyway."""
        check_text_training(self.model.config, s.seq_length, s.batch_size)
        steps = self.steps
        trainer = TextTrainer(self.model, self.ids, replace(s, seed=s.seed + steps), steps)
        trainer.history = self.history  # each accepted step is offered to it
        return trainer

    def report(self) -> None:
        """Everything new since the last report, and where training stands."""
        history, payload = self.history_news()
        progress = Progress(
            self.steps,
            self.characters,
            self.seconds,
            self.status,
            self.message,
            self.order,
            self.losses,
            self.bpcs,
            self.samples,
            self.threads.now,
            history,
        )
        write_frame(self.out, progress.to_dict(), payload)
        self.losses, self.bpcs, self.samples = [], [], []

    def send_weights(self, reason: str) -> None:
        """The model as a checkpoint: asked for, or "saved" when training pauses by itself (the
        page keeps it, so nothing is lost if this process ends before anyone asks)."""
        header = {"type": "weights", "steps": self.steps, "reason": reason}
        write_frame(self.out, header, checkpoint_bytes(self.model))

    def try_trainer(self, settings: TextSettings) -> dict | None:
        """Make the trainer for these settings; None, or why not (the old trainer stays)."""
        try:
            self.trainer = self.new_trainer(settings)
        except LabError as exc:  # over the budget: the message names the setting to lower
            return exc.as_dict()
        except ValueError as exc:  # e.g. a window longer than the text
            return note("settings", str(exc), detail=str(exc)[:200])
        except MemoryError as exc:  # the operating system's limit stopped it anyway
            return out_of_memory(exc).as_dict()
        self.settings = settings
        return None

    def stop_training(self, status: str, message: dict | None) -> None:
        self.training, self.status, self.message = False, status, message
        self.report()

    def command(self, cmd: dict) -> bool:
        """Carry out one command; False: the worker should exit."""
        kind = cmd["cmd"]
        self.order = cmd.get("order", self.order)
        stuck = self.status in ("diverged", "failed")  # only a new worker trains again
        if kind == "train":
            if self.trainer is None:  # the settings are over the budget: say why, train nothing
                self.status, self.message = "paused", self.refused
            elif not stuck:
                self.training, self.status, self.message = True, "training", None
            self.report()  # reported either way, so the page knows
        elif kind == "pause":
            self.stop_training(self.status if stuck else "paused", self.message)
        elif kind == "settings":
            problem = self.try_trainer(TextSettings(**cmd["settings"]))
            if problem is not None:  # the old settings (and trainer, if any) stay
                self.message = problem
                if self.trainer is None:
                    self.refused = problem
                self.report()
            elif self.status == "diverged":  # new settings: a new try from the last good weights
                self.status, self.message = "paused", None
                self.report()
        elif kind == "temperature":
            self.temperature = cmd["value"]
        elif kind == "threads":
            self.threads.allow(int(cmd["value"]))
        elif kind == "weights":
            self.send_weights("asked")
        elif kind == "stop":
            return False
        return True

    def burst(self) -> None:
        """Train for BURST seconds (or until something stops it), then report."""
        started = time.monotonic()
        per_step = self.settings.characters_per_step
        threads, switched = self.threads.now, self.threads.pick()
        step_times: list[float] = []
        try:
            while time.monotonic() - started < BURST:
                t0 = time.perf_counter()
                snap = self.trainer.step()
                step_times.append(time.perf_counter() - t0)
                if snap.status == "diverged":
                    self.training, self.status = False, "diverged"
                    self.message = self.trainer.problem.as_dict()
                    break
                step = snap.step  # the trainer counted it and offered its weights to the history
                self.characters += per_step
                self.losses.append([step, snap.loss])
                if step % self.eval_every == 0 and self.held_out:
                    bpc, _, _ = bits_per_character(self.model, self.held_out[:HELD_OUT_SCORED])
                    if math.isfinite(bpc):
                        self.bpcs.append([step, bpc])
                if step % self.sample_every == 0:
                    text = generate_text(
                        self.model, self.prime, 160, temperature=self.temperature, seed=step
                    )
                    self.samples.append([step, text])
        except MemoryError as exc:  # the operating system's limit: this worker, not the machine
            self.training, self.status, self.message = False, "failed", out_of_memory(exc).as_dict()
        except (ValueError, FloatingPointError) as exc:  # say so; never die silently
            self.training, self.status = False, "failed"
            self.message = note("failed", f"training stopped: {exc}", detail=str(exc)[:200])
        self.threads.record(switched, step_times[1:] if switched != threads else step_times)
        self.seconds += time.monotonic() - started
        self.report()


def _limit_address_space(limit: int | None) -> None:
    """The operating system's cap on this process's memory (budget.WORKER_ADDRESS_SPACE), where
    it has one (Linux, macOS); never raised above a limit already set."""
    try:
        import resource  # here: Unix only
    except ImportError:  # Windows: the estimate alone guards it
        return
    if not limit:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _serve(inp, out) -> None:
    commands: queue.Queue = queue.Queue()

    def read_commands() -> None:  # blocked on the pipe: no interpreter lock held while waiting
        while (frame := read_frame(inp)) is not None:
            commands.put(frame)
        commands.put(None)

    threading.Thread(target=read_commands, daemon=True).start()
    first = commands.get()
    if first is None:
        return
    start = Start.from_dict(first[0])
    blas.warm()  # its buffers mapped before the limit: past it, OpenBLAS would end the process
    _limit_address_space(start.address_space)
    worker = _Worker(start, first[1], out)
    last_heard = time.monotonic()
    while True:
        try:  # wait for orders while paused; only peek while training
            frame = commands.get(timeout=0.0 if worker.training else 1.0)
        except queue.Empty:
            frame = ()
        if frame is None:
            return  # the page's process went away
        if frame:
            last_heard = time.monotonic()
            if not worker.command(frame[0]):
                return
            continue
        idle = time.monotonic() - last_heard
        if idle > IDLE_EXIT:
            return
        if worker.training and idle > IDLE_PAUSE:
            worker.stop_training("paused", note("idle", "training paused: nobody was watching"))
            worker.send_weights("saved")
        elif worker.training:
            worker.burst()


def main() -> None:
    if hasattr(os, "nice"):
        os.nice(19)  # training takes only what the pages leave: they come first
    _serve(sys.stdin.buffer, sys.stdout.buffer)
    sys.stdout.flush()
    os._exit(0)  # at once: the thread reading stdin may still be blocked in a read


if __name__ == "__main__":
    main()
