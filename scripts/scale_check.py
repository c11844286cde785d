"""A class larger than one server: N app replicas behind nginx, each student kept on one replica.

    python scripts/scale_check.py                      # 2 replicas, 8 students, 40 s
    python scripts/scale_check.py --replicas 3 --sessions 12 --seconds 60 --json

It starts the replicas and nginx (deploy/nginx.conf.template, Debian's nginx) on loopback, then:
  1. sticky: a classroom (scripts/load_check.py's simulated students) through the proxy; every
     student's page request and websocket must reach the same replica, and the students spread
     over the replicas;
  2. a replica dies: a second classroom, and halfway through one replica is killed (SIGKILL, as
     a crash would). The other replica's students must go on untouched (no error, training still
     moving); the dead one's students reconnect with the same cookie and must land on a live
     replica with a fresh session (their page opens again at step 0: a new start, never another
     student's state or a half-restored one);
  3. direct: the same number of students per replica on one replica without the proxy, for the
     figures: students served per replica through the proxy against direct.
It prints what it saw and exits 0 when every check held (1 otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load_check  # the classroom's students and measurements

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "nginx.conf.template"


# ==================================================================================== servers
@contextlib.contextmanager
def proxy(replicas: list[str]):
    """nginx on a free loopback port in front of `replicas` (base URLs); yields its base URL."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise SystemExit("nginx is not installed (Debian: apt-get install nginx)")
    prefix = Path(tempfile.mkdtemp(prefix="lstmlab-nginx-"))
    port = load_check.free_port()
    servers = "\n".join(
        f"        server {url.split('//', 1)[1]} max_fails=1 fail_timeout=30s;" for url in replicas
    )
    conf = (
        TEMPLATE.read_text()
        .replace("@LISTEN@", f"127.0.0.1:{port}")
        .replace("@SERVERS@", servers)
        .replace("@PREFIX@", str(prefix))
    )
    (prefix / "nginx.conf").write_text(conf)
    proc = subprocess.Popen(
        [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=open(prefix / "stderr.log", "w"),  # noqa: SIM115
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(base + "/_stcore/health", timeout=2).read()
                break
            if proc.poll() is not None:
                raise SystemExit("nginx did not start: " + (prefix / "stderr.log").read_text())
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(prefix, ignore_errors=True)


def first_visit(base: str) -> tuple[str, str]:
    """A new browser opens the app: (its route cookie, the replica that answered)."""
    with urllib.request.urlopen(base + "/", timeout=30) as answer:
        cookie = answer.headers.get("Set-Cookie", "").split(";", 1)[0]
        return cookie, answer.headers.get("X-LSTM-Lab-Replica", "")


def students_behind(base: str, n: int, mix: list[str], hidden: int, replicas: int) -> list:
    """n students, each with the cookie of a first visit, as evenly over the replicas as a
    class of that size would spread (browsers whose replica is already full are passed over)."""
    students = load_check.make_students(n, mix, hidden)
    share = -(-n // replicas)
    taken: dict[str, int] = {}
    for s in students:
        for _ in range(200):
            cookie, where = first_visit(base)
            if taken.get(where, 0) < share:
                break
        taken[where] = taken.get(where, 0) + 1
        s.first_replica, s.headers = where, {"Cookie": cookie}
    return students


def kill_tree(pid: int) -> None:
    """Kill a replica at once (as a crash would), its training workers with it."""
    for child in load_check.children(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


# ==================================================================================== the checks
def summary(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "students"}


async def sticky(
    base: str, replicas: int, n: int, seconds: float, mix: list[str], hidden: int
) -> dict:
    students = students_behind(base, n, mix, hidden, replicas)
    result = await load_check.classroom(base, None, n, seconds, mix, hidden, students=students)
    kept = [s.first_replica == s.served_by != "" for s in students]
    spread: dict[str, int] = {}
    for s in students:
        spread[s.served_by] = spread.get(s.served_by, 0) + 1
    return {
        **summary(result),
        "stayed_on_one_replica": sum(kept),
        "spread": spread,
        "ok": all(kept) and len(spread) > 1 and result["finished"] == n,
    }


async def one_dies(
    base: str, replicas: dict[str, int], n: int, seconds: float, mix: list[str], hidden: int
) -> dict:
    """A classroom through the proxy; at half time the replica with most students is killed."""
    students = students_behind(base, n, mix, hidden, len(replicas))
    counts = {addr: sum(s.first_replica == addr for s in students) for addr in replicas}
    victim = max(counts, key=counts.get)
    killed_at: list[float] = []

    async def crash() -> None:
        await asyncio.sleep(seconds / 2)
        killed_at.append(time.monotonic())
        kill_tree(replicas[victim])

    result = await load_check.classroom(
        base, None, n, seconds, mix, hidden, students=students, during=crash
    )
    hit = [s for s in students if s.first_replica == victim]
    spared = [s for s in students if s.first_replica != victim]
    # the dead replica's students come back, with their cookie, as a browser reconnects
    returning = []
    for s in hit:
        again = load_check.Student(s.number, s.page, s.query, trains=s.trains, headers=s.headers)
        returning.append(again)
    await asyncio.gather(*(s.run(base, 8.0) for s in returning))

    before = {s.number: max((v for _, v in s.progress), default=0.0) for s in hit}
    new_page = {s.page: s.opened for s in students}  # what a page shows when it first opens

    def fresh(s) -> bool:
        """A new session on a live replica: the page opens as it does for a new student."""
        return s.finished and s.served_by not in ("", victim) and s.opened == new_page[s.page]

    return {
        **summary(result),
        "killed": victim,
        "students_on_killed": len(hit),
        "spared_finished": sum(s.finished for s in spared),
        "spared": len(spared),
        "spared_errors": [s.error for s in spared if s.error],
        "returned_fresh": sum(fresh(s) for s in returning),
        "returned_errors": [s.error for s in returning if s.error],
        "returned": [(s.page, s.served_by, before[s.number], s.opened, s.error) for s in returning],
        "ok": bool(hit) and all(s.finished for s in spared) and all(fresh(s) for s in returning),
    }


async def direct(base: str, pid: int, n: int, seconds: float, mix: list[str], hidden: int) -> dict:
    result = await load_check.classroom(base, pid, n, seconds, mix, hidden)
    return {**summary(result), "ok": result["finished"] == n}


def figures(label: str, r: dict) -> str:
    return (
        f"  {label}: {r['finished']}/{r['sessions']} finished; health p95 {r['health_ms']['p95']} ms; "
        f"live view round trip p50 {r['fragment_round_trip_ms']['p50']} ms, "
        f"p95 {r['fragment_round_trip_ms']['p95']} ms; {r['redraws_per_session_per_s']} redraws/s "
        f"per student; text training {r['text_steps_per_s_per_session']} steps/s per student"
    )


def report(r: dict) -> str:
    s, d, k = r["sticky"], r["direct"], r["dies"]
    lines = [
        f"{r['replicas']} replicas behind nginx on this machine, {r['sessions']} students "
        f"({', '.join(r['mix'])}), {r['seconds']:.0f} s",
        f"1. sticky: {s['stayed_on_one_replica']}/{s['sessions']} students stayed on one replica; "
        f"spread {s['spread']}: {'ok' if s['ok'] else 'FAILED'}",
        figures("through the proxy", s),
        f"2. a replica dies: killed {k['killed']} with {k['students_on_killed']} students; the other "
        f"replica's {k['spared_finished']}/{k['spared']} went on untouched; "
        f"{k['returned_fresh']}/{k['students_on_killed']} came back to a fresh session on a live "
        f"replica: {'ok' if k['ok'] else 'FAILED'}",
        *(f"     spared student error: {e}" for e in k["spared_errors"]),
        *(
            f"     returning {page} student, now on {where}: had reached {had:g}, opened at {now} {err}"
            for page, where, had, now, err in k["returned"]
        ),
        f"3. direct, {d['sessions']} students on one replica without the proxy (as many as each "
        f"replica served above):",
        figures("direct", d),
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--replicas", type=int, default=2)
    p.add_argument("--sessions", type=int, default=8, help="students through the proxy")
    p.add_argument("--seconds", type=float, default=40.0, help="how long each classroom trains")
    p.add_argument("--mix", default="text,echo", help="pages, taken in turn: text, echo, bptt")
    p.add_argument("--hidden", type=int, default=32, help="hidden size of the text models")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    (ROOT / "test-output").mkdir(exist_ok=True)
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    mix = [m.strip() for m in args.mix.split(",") if m.strip()]
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(load_check.server(None)) for _ in range(args.replicas)]
        replicas = {url.split("//", 1)[1]: pid for url, pid in servers}
        base = stack.enter_context(proxy([url for url, _ in servers]))
        result = {
            "replicas": args.replicas,
            "sessions": args.sessions,
            "seconds": args.seconds,
            "mix": mix,
        }
        result["sticky"] = asyncio.run(
            sticky(base, args.replicas, args.sessions, args.seconds, mix, args.hidden)
        )
        per_replica = max(1, round(args.sessions / args.replicas))
        url, pid = servers[-1]
        result["direct"] = asyncio.run(
            direct(url, pid, per_replica, args.seconds, mix, args.hidden)
        )
        result["dies"] = asyncio.run(
            one_dies(base, replicas, args.sessions, args.seconds, mix, args.hidden)
        )
    ok = all(result[part]["ok"] for part in ("sticky", "dies", "direct"))
    result["ok"] = ok
    print(json.dumps(result, indent=1, default=str) if args.json else report(result))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
