"""A classroom on one machine: N simulated students open pages and train at once.

    python scripts/load_check.py --sessions 10            # 10 students, 60 s of training
    python scripts/load_check.py --sessions 30 --mix text,echo,bptt
    python scripts/load_check.py --sessions 6 --abuse 2   # and two students pushing the limits
    python scripts/load_check.py --soak 600               # one student trains for 10 minutes
    python scripts/load_check.py --url http://host:8501   # against a server already running

Each student is a Streamlit client on a websocket, speaking the browser's protocol: it opens a
page, presses Train, then asks for the live fragment's reruns at the interval the page sets
(as a browser tab does), and at the end presses Pause. No browser is involved, so the numbers
are the server's: while the students work, the health endpoint is polled and its latency
recorded, the server's and its training workers' memory is sampled, and every student's
fragment round trips are timed. A student has finished when its page trained (steps or windows
went up) and no exception reached it. This is a measurement to rerun, not a test: it prints
what it saw and exits 0 (1 if any student did not finish).

Pages: "text" (a new 64-unit model trained in a worker process), "echo" (the notebook's task,
trained in slices inside the server), "bptt" (no training: moves a slider a few times).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parents[1]
FINISHED_EARLY = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_EARLY_FOR_RERUN")


# ==================================================================================== the server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(url: str | None):
    """A running server: the one at `url`, or a fresh `streamlit run app.py` (yields url, pid)."""
    if url:
        yield url.rstrip("/"), None
        return
    port = free_port()
    log = open(ROOT / "test-output" / f"load-server-{port}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(f"{base}/_stcore/health", timeout=1).read() == b"ok":
                    break
            time.sleep(0.1)
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    """The server's live child processes (the training workers)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid and fields[0] != "Z":  # a zombie has exited already
                    out.append(int(entry.name))
    return out


# ==================================================================================== a student
@dataclass
class Student:
    number: int
    page: str
    query: str
    trains: bool = True
    ids: dict = field(default_factory=dict)  # widget key -> widget id
    fragments: dict = field(default_factory=dict)  # fragment id -> interval (s)
    metrics: dict = field(default_factory=dict)  # label -> value, as last drawn
    texts: list = field(default_factory=list)  # markdown of the last run
    page_hash: str = ""
    exceptions: int = 0
    round_trips: list = field(default_factory=list)  # seconds, fragment reruns
    progress: list = field(default_factory=list)  # (seconds, a number that grows while training)
    error: str = ""
    headers: dict = field(default_factory=dict)  # sent with the websocket (a proxy's cookie)
    served_by: str = ""  # the replica a proxy says answered the websocket (X-LSTM-Lab-Replica)
    opened: float | None = None  # measure() as the page first opened, before Train
    abusive: bool = False  # pushes the page's limits (--abuse): measured apart from the others

    def rerun(self, widgets=(), fragment: str | None = None) -> bytes:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string, state.page_name, state.page_script_hash = (
            self.query,
            self.page,
            self.page_hash,
        )
        for key, value in widgets:
            w = state.widget_states.widgets.add()
            w.id = self.ids[key]
            if value is True:
                w.trigger_value = True
            else:  # a slider's value
                w.double_array_value.data.append(value)
        if fragment:
            state.fragment_id, state.is_auto_rerun = fragment, True
        return msg.SerializeToString()

    async def until_finished(self, ws) -> None:
        """Read the server's messages until the run (or fragment run) is over."""
        self.texts = []
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await asyncio.wait_for(ws.recv(), 120))
            kind = msg.WhichOneof("type")
            if kind == "navigation":  # the page this session is on (the router decides)
                self.page_hash = msg.navigation.page_script_hash
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                which = element.WhichOneof("type")
                body = getattr(element, which)
                if which == "exception":
                    self.exceptions += 1
                    self.error = self.error or f"exception: {body.message[:150]}"
                elif which == "metric":
                    self.metrics[body.label] = body.body
                elif which == "markdown":
                    self.texts.append(body.body)
                if getattr(body, "id", ""):
                    self.ids[body.id.rsplit("-", 1)[-1]] = body.id
            elif kind == "auto_rerun":
                self.fragments[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
            elif kind == "stop_auto_rerun":
                for fid in msg.stop_auto_rerun.fragment_ids:
                    self.fragments.pop(fid, None)
            elif kind == "script_finished" and msg.script_finished != FINISHED_EARLY:
                return

    def measure(self) -> float | None:
        """A number that grows while this page trains."""
        if self.page == "text":
            value = self.metrics.get("Training steps", "0").replace(",", "")
            return float(value) if value.isdigit() else None
        if self.page == "echo":  # "**LSTM**: epoch 2 of 100, window 31 of 666 · ..."
            for text in self.texts:
                found = re.search(r"epoch (\d+) of \d+, window (\d+) of (\d+)", text)
                if found:
                    epoch, window, windows = map(int, found.groups())
                    return float(epoch * windows + window)
        return None

    async def run(self, base: str, seconds: float) -> None:
        url = base.replace("http", "ws", 1) + "/_stcore/stream"
        try:
            async with websockets.connect(
                url, subprotocols=["streamlit"], max_size=2**26, additional_headers=self.headers
            ) as ws:
                tried = ws.response.headers.get("X-LSTM-Lab-Replica", "")
                self.served_by = tried.split(",")[-1].strip()  # the last replica nginx tried
                await ws.send(self.rerun())
                await self.until_finished(ws)
                self.opened = self.measure()
                if self.trains:
                    await ws.send(self.rerun([(f"{self.page_prefix}_train", True)]))
                    await self.until_finished(ws)
                start = time.monotonic()
                next_due = {fid: start + interval for fid, interval in self.fragments.items()}
                moves = 0
                while time.monotonic() - start < seconds:
                    if self.abusive:  # asks again and again for what the page refuses or bounds
                        await asyncio.sleep(1.0)
                        t0 = time.monotonic()
                        press = [("gen_train", True)] if self.page == "text" else []
                        await ws.send(self.rerun(press))
                        await self.until_finished(ws)
                        self.round_trips.append(time.monotonic() - t0)
                        continue
                    if not self.trains:  # a student who only moves sliders, now and then
                        await asyncio.sleep(2.0)
                        moves += 1
                        t0 = time.monotonic()
                        await ws.send(self.rerun([("bptt_scale", 1.0 + 0.1 * (moves % 5))]))
                        await self.until_finished(ws)
                        self.round_trips.append(time.monotonic() - t0)
                        continue
                    if not self.fragments:
                        await asyncio.sleep(0.1)
                        continue
                    fid = min(self.fragments, key=lambda f: next_due.get(f, 0))
                    wait = next_due.get(fid, 0) - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    t0 = time.monotonic()
                    await ws.send(self.rerun(fragment=fid))
                    await self.until_finished(ws)
                    self.round_trips.append(time.monotonic() - t0)
                    next_due[fid] = time.monotonic() + self.fragments.get(fid, 1.0)
                    value = self.measure()
                    if value is not None:
                        self.progress.append((time.monotonic() - start, value))
                if self.trains:
                    await ws.send(self.rerun([(f"{self.page_prefix}_pause", True)]))
                    await self.until_finished(ws)
                    value = self.measure()
                    if value is not None:
                        self.progress.append((time.monotonic() - start, value))
        except Exception as exc:  # a measurement: say what happened and go on
            self.error = f"{type(exc).__name__}: {exc}"[:200]

    @property
    def page_prefix(self) -> str:
        return {"text": "gen", "echo": "echo"}[self.page]

    @property
    def finished(self) -> bool:
        if self.error or self.exceptions:
            return False
        if self.abusive or not self.trains:
            return len(self.round_trips) > 0
        values = [v for _, v in self.progress]
        return len(values) >= 2 and values[-1] > values[0]


# What one pushing student can ask of the pages with their own controls (issue 16): the text
# page's largest settings (refused by the memory budget), and the belt page with a regular
# expression of adjacent quantifiers over 400 characters (hours in Python's `re` held the whole
# server; now matched in a child process under a deadline).
ABUSE = {
    "text-max": ("text", "model=new&hidden_size=512&num_layers=3&seq_length=400&batch_size=256"),
    "regex": ("belt", "belt_property=regex&belt_regex=" + "a*" * 24 + "b&belt_text=" + "a" * 400),
}


def make_abusers(n: int, first_number: int) -> list[Student]:
    kinds = list(ABUSE)
    return [
        Student(first_number + k, *ABUSE[kinds[k % len(kinds)]], trains=False, abusive=True)
        for k in range(n)
    ]


def make_students(n: int, mix: list[str], hidden: int) -> list[Student]:
    students = []
    for k in range(n):
        page = mix[k % len(mix)]
        query = {
            "text": f"model=new&hidden_size={hidden}&seed={k}",
            "echo": f"seed={k}",
            "bptt": f"bptt_length=60&seed={k}",
        }[page]
        students.append(Student(k, page, query, trains=page != "bptt"))
    return students


# ==================================================================================== measuring
async def watch(base: str, pid: int | None, stop: asyncio.Event, record: dict) -> None:
    """Health latency every 0.25 s; the server's and its workers' memory every second."""
    loop = asyncio.get_running_loop()
    last_memory = 0.0

    def health() -> float:
        t0 = time.monotonic()
        try:
            urllib.request.urlopen(f"{base}/_stcore/health", timeout=30).read()
        except OSError:
            return float("inf")
        return time.monotonic() - t0

    while not stop.is_set():
        record["health"].append((time.monotonic(), await loop.run_in_executor(None, health)))
        if pid and time.monotonic() - last_memory > 1.0:
            last_memory = time.monotonic()
            workers = children(pid)
            record["memory"].append(
                (time.monotonic(), rss_mb(pid), sum(rss_mb(w) for w in workers), len(workers))
            )
        await asyncio.sleep(0.25)


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


async def classroom(
    base: str,
    pid: int | None,
    n: int,
    seconds: float,
    mix: list[str],
    hidden: int,
    students: list | None = None,
    during=None,
) -> dict:
    """n students (or the `students` given) at once; `during()`, if given, is a coroutine run
    beside them (scale_check.py kills a replica from it)."""
    record = {"health": [], "memory": []}
    stop = asyncio.Event()
    baseline_server = rss_mb(pid) if pid else 0.0
    idle_health = []
    for _ in range(8):
        t0 = time.monotonic()
        urllib.request.urlopen(f"{base}/_stcore/health", timeout=10).read()
        idle_health.append(time.monotonic() - t0)
    watcher = asyncio.create_task(watch(base, pid, stop, record))
    students = students if students is not None else make_students(n, mix, hidden)

    async def staggered(student: Student) -> None:
        await asyncio.sleep(student.number * 2.0 / max(n, 1))  # all within two seconds: "at once"
        await student.run(base, seconds)

    started = time.monotonic()
    await asyncio.gather(*(staggered(s) for s in students), *([during()] if during else []))
    settled = [h for t, h in record["health"] if t - started > 15]  # after every page has opened
    wall = time.monotonic() - started
    stop.set()
    await watcher
    after_server = rss_mb(pid) if pid else 0.0
    workers_after = len(children(pid)) if pid else 0
    peak = max(record["memory"], key=lambda m: m[1] + m[2]) if record["memory"] else (0, 0, 0, 0)
    trips = [t for s in students if not s.abusive for t in s.round_trips]
    abusers = [s for s in students if s.abusive]
    text_rates = []
    for s in students:
        if s.page == "text" and len(s.progress) >= 2:
            (t0, v0), (t1, v1) = s.progress[0], s.progress[-1]
            text_rates.append((v1 - v0) / max(t1 - t0, 1e-9))
    return {
        "students": students,
        "sessions": n,
        "mix": mix,
        "seconds": seconds,
        "wall_seconds": round(wall, 1),
        "finished": sum(s.finished for s in students),
        "failures": [
            f"#{s.number} {s.page}: {s.error or f'{s.exceptions} exceptions' if s.exceptions else s.error or 'no progress'}"
            for s in students
            if not s.finished
        ],
        "health_idle_ms": round(1e3 * statistics.median(idle_health), 1),
        "health_ms": {
            "p50": round(1e3 * percentile([h for _, h in record["health"]], 0.5), 1),
            "p95": round(1e3 * percentile([h for _, h in record["health"]], 0.95), 1),
            "max": round(1e3 * max((h for _, h in record["health"]), default=float("nan")), 1),
        },
        "health_settled_ms": {
            "p50": round(1e3 * percentile(settled, 0.5), 1),
            "p95": round(1e3 * percentile(settled, 0.95), 1),
        },
        "fragment_round_trip_ms": {
            "p50": round(1e3 * percentile(trips, 0.5), 1),
            "p95": round(1e3 * percentile(trips, 0.95), 1),
        },
        "redraws_per_session_per_s": round(
            len(trips) / max(wall, 1e-9) / max(len(students) - len(abusers), 1), 2
        ),
        "abusers": len(abusers),
        "abuser_round_trip_ms_p95": round(
            1e3 * percentile([t for s in abusers for t in s.round_trips], 0.95), 1
        ),
        "text_steps_per_s_per_session": round(statistics.mean(text_rates), 2)
        if text_rates
        else None,
        "server_rss_mb": {
            "before": round(baseline_server),
            "peak": round(peak[1]),
            "after": round(after_server),
        },
        "workers_rss_mb_at_peak": round(peak[2]),
        "workers_at_peak": peak[3],
        "memory_per_session_mb": round((peak[1] - baseline_server + peak[2]) / max(n, 1), 1)
        if pid
        else None,
        "workers_alive_after": workers_after,
    }


async def soak(
    base: str, pid: int | None, seconds: float, hidden: int, every: float = 30.0
) -> dict:
    """One student trains on the text page for `seconds`; memory sampled every `every` s."""
    student = make_students(1, ["text"], hidden)[0]
    samples = []

    async def sampler() -> None:
        start = time.monotonic()
        while time.monotonic() - start < seconds + 5:
            workers = children(pid) if pid else []
            samples.append(
                (
                    round(time.monotonic() - start),
                    round(rss_mb(pid), 1) if pid else 0.0,
                    round(sum(rss_mb(w) for w in workers), 1),
                    student.measure(),
                )
            )
            await asyncio.sleep(every)

    task = asyncio.create_task(sampler())
    await student.run(base, seconds)
    task.cancel()
    settled = [s for s in samples if s[0] >= 60] or samples  # after the first minute's warm-up
    return {
        "seconds": seconds,
        "finished": student.finished,
        "error": student.error,
        "samples": [{"t": t, "server_mb": s, "worker_mb": w, "steps": p} for t, s, w, p in samples],
        "server_drift_mb": round(settled[-1][1] - settled[0][1], 1) if settled else None,
        "worker_drift_mb": round(settled[-1][2] - settled[0][2], 1) if settled else None,
    }


def report(result: dict) -> str:
    if "samples" in result:
        lines = [
            f"soak: one text session training for {result['seconds']:.0f} s, finished: {result['finished']}"
        ]
        lines += [
            f"  t={s['t']:>4}s  server {s['server_mb']:7.1f} MB  worker {s['worker_mb']:6.1f} MB  "
            f"steps {s['steps']}"
            for s in result["samples"]
        ]
        lines.append(
            f"  drift after the first minute: server {result['server_drift_mb']} MB, "
            f"worker {result['worker_drift_mb']} MB"
        )
        return "\n".join(lines)
    r = result
    return "\n".join(
        [
            f"{r['sessions']} sessions ({', '.join(r['mix'])}), {r['seconds']:.0f} s each: "
            f"{r['finished']}/{r['sessions']} finished",
            *(f"  did not finish: {f}" for f in r["failures"]),
            f"  health endpoint: idle {r['health_idle_ms']} ms; under load p50 {r['health_ms']['p50']} ms, "
            f"p95 {r['health_ms']['p95']} ms, max {r['health_ms']['max']} ms; once every page is open "
            f"p50 {r['health_settled_ms']['p50']} ms, p95 {r['health_settled_ms']['p95']} ms",
            f"  live view: {r['redraws_per_session_per_s']} redraws/s per session, fragment round trip "
            f"p50 {r['fragment_round_trip_ms']['p50']} ms, p95 {r['fragment_round_trip_ms']['p95']} ms",
            f"  text training: {r['text_steps_per_s_per_session']} steps/s per session",
            *(
                [
                    f"  beside them {r['abusers']} pushing students (the figures above leave them "
                    f"out): their own reruns p95 {r['abuser_round_trip_ms_p95']} ms"
                ]
                if r.get("abusers")
                else []
            ),
            f"  memory: server {r['server_rss_mb']['before']} -> peak {r['server_rss_mb']['peak']} MB, "
            f"{r['workers_at_peak']} workers {r['workers_rss_mb_at_peak']} MB at peak; "
            f"{r['memory_per_session_mb']} MB per session; workers alive after: {r['workers_alive_after']}",
            *(
                [
                    f"  {r['lingered_s']:.0f} s later: {r['workers_alive_after_linger']} workers alive, server "
                    f"{r['server_rss_after_linger_mb']} MB"
                ]
                if "lingered_s" in r
                else []
            ),
        ]
    )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sessions", type=int, default=10)
    p.add_argument("--seconds", type=float, default=60.0, help="how long each student trains")
    p.add_argument("--mix", default="text,echo", help="pages, taken in turn: text, echo, bptt")
    p.add_argument("--hidden", type=int, default=64, help="hidden size of the text models")
    p.add_argument("--soak", type=float, default=0.0, help="instead: one student trains this long")
    p.add_argument("--url", default=None, help="a running server (default: start one)")
    p.add_argument(
        "--linger",
        type=float,
        default=0.0,
        help="then wait this long and count the training workers still alive",
    )
    p.add_argument(
        "--abuse",
        type=int,
        default=0,
        help="add this many pushing students beside the others: " + ", ".join(ABUSE),
    )
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    (ROOT / "test-output").mkdir(exist_ok=True)
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    with server(args.url) as (base, pid):
        if args.soak:
            result = asyncio.run(soak(base, pid, args.soak, args.hidden))
            ok = result["finished"]
        else:
            mix = [m.strip() for m in args.mix.split(",") if m.strip()]
            students = make_students(args.sessions, mix, args.hidden)
            students += make_abusers(args.abuse, args.sessions)
            result = asyncio.run(
                classroom(
                    base, pid, len(students), args.seconds, mix, args.hidden, students=students
                )
            )
            ok = result["finished"] == len(students)
            if args.linger and pid:
                time.sleep(args.linger)
                result["lingered_s"] = args.linger
                result["workers_alive_after_linger"] = len(children(pid))
                result["server_rss_after_linger_mb"] = round(rss_mb(pid))
    result.pop("students", None)
    print(json.dumps(result, indent=1) if args.json else report(result))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
