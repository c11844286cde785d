"""The parent's half of the training worker (worker.py): start it, command it, read its reports.

`TrainingProcess` runs in the page's process (and in the benchmark's): it starts
`python -m lstm_core.worker`, sends it a `Start`, and a thread reads its `Progress` reports into
the curves, samples and counts a page draws. It knows nothing of any UI; the text page keeps one
inside `ui.background.BackgroundText`.
"""

from __future__ import annotations

import contextlib
import io
import os
import queue
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import asdict

import numpy as np

from .budget import WORKER_ADDRESS_SPACE
from .checkpoint import checkpoint_bytes, load_checkpoint
from .live import History
from .training import TextSettings
from .worker import Progress, Start, note, read_frame, write_frame


class HistoryMirror:
    """The page's copy of the worker's kept moments (see worker.py's docstring), brought up to
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


def curves_snapshot(
    progress: Progress, losses: History, bpc: History, samples, status: str
) -> dict:
    """What a page draws of a run: copies of its curves and samples, its counts and status."""
    return {
        "steps": progress.steps,
        "loss": losses.arrays(),
        "loss_smooth": losses.smoothed(),
        "bpc": bpc.arrays(),
        "samples": list(samples),
        "characters": progress.characters,
        "seconds": progress.seconds,
        "status": status,
    }


def new_curves() -> tuple[History, History, deque]:
    """Empty (losses, bits per character, samples), at the sizes a page keeps."""
    return History(1000), History(250), deque(maxlen=24)


def empty_snapshot() -> dict:
    """The snapshot of a run that has not started."""
    return curves_snapshot(Progress(), *new_curves(), "paused")


class TrainingProcess:
    """A worker process training one character model; its progress, as the page reads it."""

    def __init__(
        self,
        model,
        ids: np.ndarray,
        held_out: str,
        settings: TextSettings,
        prime: str,
        temperature: float,
        eval_every: int = 100,
        sample_every: int = 250,
        resume: TrainingProcess | None = None,
        threads: int = 1,
        address_space: int | None = None,
    ) -> None:
        """resume: a worker that has exited; its curves, samples and counts go on here (the model
        passed in is the one it saved). threads: how many BLAS threads it may use (worker._Threads).
        address_space: the operating system's limit on the worker's memory, in bytes
        (default budget.WORKER_ADDRESS_SPACE)."""
        one = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
        env = {**os.environ, **one}  # the worker sets its own count (worker._Threads)
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lstm_core.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self.lock = threading.Lock()
        if resume is not None:
            self.losses, self.bpc, self.samples = resume.losses, resume.bpc, resume.samples
            self.last = Progress(resume.steps, resume.characters, resume.seconds)
        else:
            self.losses, self.bpc, self.samples = new_curves()
            self.last = Progress()  # the latest report: the counts, and the threads in use
        self.status = "paused"
        self.message: dict | None = None  # why training stopped by itself: text, code, params
        self._weights: queue.Queue = queue.Queue()
        self.saved: tuple[int, bytes] | None = None  # (steps, checkpoint) last sent by the worker
        self._order = 0  # train and pause orders given so far; reports say which one they follow
        self._heard = 0  # the order the latest report followed
        self.allowed = threads  # the most BLAS threads the worker may use
        self.history = HistoryMirror(model)
        ckpt = checkpoint_bytes(model)
        start = Start(
            len(ckpt),
            held_out,
            prime,
            temperature,
            eval_every,
            sample_every,
            settings,
            (self.steps, self.characters, self.seconds),
            threads,
            address_space or WORKER_ADDRESS_SPACE,
        )
        self._send(start.to_dict(), ckpt + np.asarray(ids, dtype=np.int32).tobytes())
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    # the counts, as the latest report gave them
    @property
    def steps(self) -> int:
        return self.last.steps

    @property
    def characters(self) -> int:
        return self.last.characters

    @property
    def seconds(self) -> float:
        return self.last.seconds

    @property
    def threads(self) -> int:
        """The BLAS threads the worker last said it uses."""
        return self.last.threads

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
            report = Progress.from_dict(msg)
            with self.lock:
                for step, loss in report.loss:
                    self.losses.add(step, loss)
                for step, bpc in report.bpc:
                    self.bpc.add(step, bpc)
                self.samples.extend(tuple(s) for s in report.samples)
                if report.history is not None:
                    self.history.take(report.history["kept"], report.history["new"], payload)
                self.last = report
                if report.order == self._order:  # not a report from before the latest train/pause
                    self.status, self.message = report.status, report.message
                self._heard = report.order
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)  # reap it: no zombie left behind
        with self.lock:  # the worker is gone
            if self.status == "training":
                self.status, self.message = "paused", note("lost", "the training process stopped")

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

    def set_settings(self, settings: TextSettings) -> None:
        self._send({"cmd": "settings", "settings": asdict(settings)})

    def set_temperature(self, value: float) -> None:
        self._send({"cmd": "temperature", "value": value})

    def allow_threads(self, n: int) -> None:
        """Let the worker use up to n BLAS threads (it picks 1 or 2 by measuring); sent only
        when it changes."""
        if int(n) != self.allowed:
            self.allowed = int(n)
            self._send({"cmd": "threads", "value": self.allowed})

    def weights(self, timeout: float = 10.0):
        """The model as trained so far (a fresh Model), or None if the worker does not answer."""
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

    def forget_after(self, steps: int) -> None:
        """Count from `steps` again (the weights after it were never saved: they are lost)."""
        with self.lock:
            self.last = Progress(steps, self.characters, self.seconds)

    def snapshot(self) -> dict:
        """Copies of the histories and counters, taken under the lock."""
        with self.lock:
            return curves_snapshot(self.last, self.losses, self.bpc, self.samples, self.status)

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
