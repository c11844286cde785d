"""Training a character model in its own process, so a page can redraw while it trains at speed.

Why a process and not a thread: a training step makes about a hundred NumPy calls, each of
which gives up CPython's global interpreter lock and then waits to get it back. Next to any
busy Python thread (a web server drawing a page, say) each wait can last the interpreter's
switch interval, and training slows to a crawl: measured on a 2-core machine, 62 steps/s alone
and 11 with a busy thread beside it. A separate process has its own interpreter.

`TrainingProcess` (in the page's process) starts `python -m lstm_core.worker` and talks to it
over the worker's stdin and stdout in frames: an 8-byte header (JSON length, payload length,
big-endian uint32), the JSON, the payload. Nothing is pickled: a model travels as a checkpoint
(read back with `load_checkpoint`), token ids as int32 bytes.

The worker trains in short bursts and reports after each (new losses, bits per character on
the held-out text, samples of text, and the training history's new moments). It lowers its own priority so the page stays responsive,
stops training when nobody has asked about it for IDLE_PAUSE seconds, and exits when its
parent goes away or has been silent for IDLE_EXIT seconds.

The history (history.py, within budget.TEXT_HISTORY) travels in the progress frames, a moment at
a time: each report lists the steps the worker keeps now and carries, as float32 bytes in its
payload, the weights of the kept steps the page has not had yet; the page drops what the worker
thinned away. So each moment crosses the pipe once (about 0.4 MB at 128 units, most of them in
the first seconds, when early learning is kept densely), the page can rewind while training goes
on, and nothing large waits for a request. The latest step, which the worker keeps only until
the next one, is not sent: the page has it from the weights it fetches on Pause.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import queue
import struct
import subprocess
import sys
import threading
import time
from collections import deque

import numpy as np

from . import blas

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


# ==================================================================================== the worker
def _note(code: str, text: str, **params) -> dict:
    """A message for the page, as `LabError.as_dict` gives it: English text, code, params."""
    return {"text": text, "code": code, "params": params}


class _Threads:
    """How many threads the training steps' matrix products use: the faster of 1 and 2, as
    measured while training, never more than the page allows.

    Two threads make a lone model train about a third faster (H=128: 16 against 21 ms a step);
    but when the machine is busy (a browser drawing the page, other students' workers), OpenBLAS's
    threads wait for each other and a step can take ten times as long. So the worker starts on
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

    def __init__(self, init: dict, payload: bytes, out) -> None:
        from .checkpoint import load_checkpoint

        n = init["checkpoint_bytes"]
        self.model = load_checkpoint(payload[:n])
        self.ids = np.frombuffer(payload[n:], dtype=np.int32).astype(np.intp)
        self.held_out, self.prime = init["held_out"], init["prime"]
        self.temperature = init["temperature"]
        self.eval_every, self.sample_every = init["eval_every"], init["sample_every"]
        self.out = out
        self.settings = init["settings"]
        self.steps, self.characters, self.seconds = init.get(
            "counts", (0, 0, 0.0)
        )  # a resumed run goes on
        self.threads = _Threads(init.get("threads", 1))
        self.training, self.status, self.message, self.order = False, "paused", None, 0
        self.losses, self.bpcs, self.samples = [], [], []
        self.history, self.sent = self.take_history()
        self.trainer = None  # until settings within the budget arrive
        self.refused = self.try_trainer(self.settings)  # said when asked to train

    def take_history(self) -> tuple:
        """The history to keep: the one the model came with (the page has its moments), else a
        new one; then this step's weights. A history that goes further than the counts given
        (an uploaded checkpoint's) sets the step count: training goes on from its last step."""
        from .budget import TEXT_HISTORY
        from .history import WeightHistory

        history, self.model.history = self.model.history, None  # weights frames go without it
        if history is None:
            history = WeightHistory(budget=TEXT_HISTORY)
        history.budget = TEXT_HISTORY
        sent = set(history.steps)
        if history.steps and history.steps[-1] > self.steps:
            self.steps = history.steps[-1]
        history.offer(self.steps, self.model.flat)
        return history, sent

    def history_news(self) -> tuple[dict, bytes]:
        """The steps kept now (the provisional latest left out) and the weights the page lacks."""
        h = self.history
        kept = h.steps[:-1] if h.provisional else list(h.steps)
        new = [j for j, step in enumerate(kept) if step not in self.sent]
        self.sent = set(kept)
        payload = b"".join(h.weights[j].tobytes() for j in new)
        return {"kept": kept, "new": [kept[j] for j in new]}, payload

    def new_trainer(self, s: dict):
        """A trainer at these settings; LabError if they are over the budget (budget.py),
        MemoryError if the operating system's limit stops it anyway."""
        from .budget import check_text_training
        from .training import TextTrainer

        check_text_training(self.model.config, s["seq_length"], s["batch_size"])
        return TextTrainer(
            self.model,
            self.ids,
            s["seq_length"],
            s["batch_size"],
            s["optimizer"],
            s["learning_rate"],
            s["dropout"],
            seed=s["seed"] + self.steps,
        )

    def report(self) -> None:
        """Everything new since the last report, and where training stands."""
        history, payload = self.history_news()
        write_frame(
            self.out,
            {
                "type": "progress",
                "steps": self.steps,
                "characters": self.characters,
                "seconds": self.seconds,
                "status": self.status,
                "message": self.message,
                "order": self.order,
                "loss": self.losses,
                "bpc": self.bpcs,
                "samples": self.samples,
                "threads": self.threads.now,
                "history": history,
            },
            payload,
        )
        self.losses, self.bpcs, self.samples = [], [], []

    def send_weights(self, reason: str) -> None:
        """The model as a checkpoint: asked for, or "saved" when training pauses by itself (the
        page keeps it, so nothing is lost if this process ends before anyone asks)."""
        from .checkpoint import checkpoint_bytes

        header = {"type": "weights", "steps": self.steps, "reason": reason}
        write_frame(self.out, header, checkpoint_bytes(self.model))

    def try_trainer(self, settings: dict) -> dict | None:
        """Make the trainer for these settings; None, or why not (the old trainer stays)."""
        from .budget import out_of_memory
        from .errors import LabError

        try:
            self.trainer = self.new_trainer(settings)
        except LabError as exc:  # over the budget: the message names the setting to lower
            return exc.as_dict()
        except ValueError as exc:  # e.g. a window longer than the text
            return _note("settings", str(exc), detail=str(exc)[:200])
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
            problem = self.try_trainer(cmd["settings"])
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
        from .sampling import generate_text
        from .text import bits_per_character

        started = time.monotonic()
        per_step = self.settings["seq_length"] * self.settings["batch_size"]
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
                self.steps += 1
                self.characters += per_step
                self.history.offer(self.steps, self.model.flat)
                self.losses.append([self.steps, snap.loss])
                if self.steps % self.eval_every == 0 and self.held_out:
                    bpc, _, _ = bits_per_character(self.model, self.held_out[:HELD_OUT_SCORED])
                    if math.isfinite(bpc):
                        self.bpcs.append([self.steps, bpc])
                if self.steps % self.sample_every == 0:
                    text = generate_text(
                        self.model, self.prime, 160, temperature=self.temperature, seed=self.steps
                    )
                    self.samples.append([self.steps, text])
        except MemoryError as exc:  # the operating system's limit: this worker, not the machine
            from .budget import out_of_memory

            self.training, self.status, self.message = False, "failed", out_of_memory(exc).as_dict()
        except (ValueError, FloatingPointError) as exc:  # say so; never die silently
            self.training, self.status = False, "failed"
            self.message = _note("failed", f"training stopped: {exc}", detail=str(exc)[:200])
        self.threads.record(switched, step_times[1:] if switched != threads else step_times)
        self.seconds += time.monotonic() - started
        self.report()


def _limit_address_space(limit: int | None) -> None:
    """The operating system's cap on this process's memory (budget.WORKER_ADDRESS_SPACE), where
    it has one (Linux, macOS); never raised above a limit already set."""
    try:
        import resource
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
    _limit_address_space(first[0].get("address_space"))
    worker = _Worker(*first, out)
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
            worker.stop_training("paused", _note("idle", "training paused: nobody was watching"))
            worker.send_weights("saved")
        elif worker.training:
            worker.burst()


def main() -> None:
    if hasattr(os, "nice"):
        os.nice(19)  # training takes only what the pages leave: they come first
    _serve(sys.stdin.buffer, sys.stdout.buffer)
    sys.stdout.flush()
    os._exit(0)  # at once: the thread reading stdin may still be blocked in a read


# ==================================================================================== the page side
class HistoryMirror:
    """The page's copy of the worker's kept moments (see the module docstring), brought up to
    date by each report: what the worker no longer keeps is dropped, what is new is added."""

    def __init__(self, model) -> None:
        history = model.history
        self.size = model.config.num_parameters()  # float32 values per moment
        self.steps: list[int] = list(history.steps) if history is not None else []
        self.weights: list[np.ndarray] = list(history.weights) if history is not None else []

    def take(self, kept: list[int], new: list[int], payload: bytes) -> None:
        if len(payload) != 4 * self.size * len(new):
            return  # not a frame this page can read: keep what it has
        keep = set(kept)
        pairs = [(s, w) for s, w in zip(self.steps, self.weights, strict=True) if s in keep]
        arrays = np.frombuffer(payload, np.float32).reshape(len(new), self.size)
        pairs += [(int(s), np.array(w)) for s, w in zip(new, arrays, strict=True)]
        pairs.sort(key=lambda pair: pair[0])
        self.steps = [s for s, _ in pairs]
        self.weights = [w for _, w in pairs]


class TrainingProcess:
    """A worker process training one character model; its progress, as the page reads it."""

    def __init__(
        self,
        model,
        ids: np.ndarray,
        held_out: str,
        settings: dict,
        prime: str,
        temperature: float,
        eval_every: int = 100,
        sample_every: int = 250,
        resume: TrainingProcess | None = None,
        threads: int = 1,
        address_space: int | None = None,
    ) -> None:
        """resume: a worker that has exited; its curves, samples and counts go on here (the model
        passed in is the one it saved). threads: how many BLAS threads it may use (see _Threads).
        address_space: the operating system's limit on the worker's memory, in bytes
        (default budget.WORKER_ADDRESS_SPACE)."""
        from .budget import WORKER_ADDRESS_SPACE
        from .checkpoint import checkpoint_bytes
        from .live import History

        env = {
            **os.environ,
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        }
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lstm_core.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self.lock = threading.Lock()
        self.losses, self.bpc = History(1000), History(250)
        self.samples: deque = deque(maxlen=24)
        self.steps, self.characters, self.seconds = 0, 0, 0.0
        if resume is not None:
            self.losses, self.bpc, self.samples = resume.losses, resume.bpc, resume.samples
            self.steps, self.characters, self.seconds = (
                resume.steps,
                resume.characters,
                resume.seconds,
            )
        self.status = "paused"
        self.message: dict | None = None  # why training stopped by itself: text, code, params
        self._weights: queue.Queue = queue.Queue()
        self.saved: tuple[int, bytes] | None = None  # (steps, checkpoint) last sent by the worker
        self._order = 0  # train and pause orders given so far; reports say which one they follow
        self._heard = 0  # the order the latest report followed
        ckpt = checkpoint_bytes(model)
        header = {
            "cmd": "init",
            "checkpoint_bytes": len(ckpt),
            "held_out": held_out,
            "prime": prime,
            "temperature": temperature,
            "eval_every": eval_every,
            "sample_every": sample_every,
            "settings": settings,
            "counts": (self.steps, self.characters, self.seconds),
            "threads": threads,
            "address_space": address_space or WORKER_ADDRESS_SPACE,
        }
        self.threads = 1  # what the worker last said it uses
        self.history = HistoryMirror(model)
        self._send(header, ckpt + np.asarray(ids, dtype=np.int32).tobytes())
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _send(self, header: dict, payload: bytes = b"") -> bool:
        try:
            write_frame(self.proc.stdin, header, payload)
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    def _read(self) -> None:  # a thread of the page's process, blocked on the pipe almost always
        while (frame := read_frame(self.proc.stdout)) is not None:
            msg, payload = frame
            if msg["type"] == "weights":
                self.saved = (msg["steps"], payload)
                if msg.get("reason") == "asked":
                    self._weights.put(payload)
                continue
            with self.lock:
                for step, loss in msg["loss"]:
                    self.losses.add(step, loss)
                for step, bpc in msg["bpc"]:
                    self.bpc.add(step, bpc)
                self.samples.extend(tuple(s) for s in msg["samples"])
                if "history" in msg:
                    self.history.take(msg["history"]["kept"], msg["history"]["new"], payload)
                self.threads = msg.get("threads", 1)
                self.steps, self.characters, self.seconds = (
                    msg["steps"],
                    msg["characters"],
                    msg["seconds"],
                )
                if msg["order"] == self._order:  # not a report from before the latest train/pause
                    self.status, self.message = msg["status"], msg["message"]
                self._heard = msg["order"]
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)  # reap it: no zombie left behind
        with self.lock:  # the worker is gone
            if self.status == "training":
                self.status, self.message = "paused", _note("lost", "the training process stopped")

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def drain(self, timeout: float = 5.0) -> bool:
        """After the worker has exited: wait until everything it wrote has been read."""
        self._reader.join(timeout)
        return not self._reader.is_alive()

    def train(self) -> None:
        with self.lock:
            self._order += 1
            self.status, self.message = "training", None
            self._send({"cmd": "train", "order": self._order})

    def pause(self, wait: float = 5.0) -> None:
        """Stop training; wait (seconds, at most) until the worker's last report has arrived."""
        with self.lock:
            self._order += 1
            order = self._order
            if self.status == "training":
                self.status = "paused"
            sent = self._send({"cmd": "pause", "order": order})
        end = time.monotonic() + wait
        while sent and self._heard < order and self.alive and time.monotonic() < end:
            time.sleep(0.005)

    def ping(self) -> None:
        self._send({"cmd": "ping"})

    def set_settings(self, settings: dict) -> None:
        self._send({"cmd": "settings", "settings": settings})

    def set_temperature(self, value: float) -> None:
        self._send({"cmd": "temperature", "value": value})

    def allow_threads(self, n: int) -> None:
        """Let the worker use up to n BLAS threads (it picks 1 or 2 by measuring)."""
        self._send({"cmd": "threads", "value": int(n)})

    def weights(self, timeout: float = 10.0):
        """The model as trained so far (a fresh Model), or None if the worker does not answer."""
        from .checkpoint import load_checkpoint

        while not self._weights.empty():  # an answer that came after an earlier call gave up
            self._weights.get_nowait()
        if not self._send({"cmd": "weights"}):
            return None
        try:
            return load_checkpoint(io.BytesIO(self._weights.get(timeout=timeout)))
        except queue.Empty:
            return None

    def moments(self) -> tuple[list[int], list[np.ndarray]]:
        """The training history's moments received so far: (steps, weights), copies of the lists."""
        with self.lock:
            return list(self.history.steps), list(self.history.weights)

    def snapshot(self) -> dict:
        """Copies of the histories and counters, taken under the lock."""
        with self.lock:
            return {
                "steps": self.steps,
                "loss": self.losses.arrays(),
                "loss_smooth": self.losses.smoothed(),
                "bpc": self.bpc.arrays(),
                "samples": list(self.samples),
                "characters": self.characters,
                "seconds": self.seconds,
                "status": self.status,
            }

    def stop(self, wait: bool = True) -> None:
        """End the worker: it exits when its input closes (wait: make sure of it, killing if need be)."""
        self._send({"cmd": "stop"})
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        if wait:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


if __name__ == "__main__":
    main()
