"""Closed tabs give their memory back (ui/sessions.py): a real server, a student at the text
page's largest settings, the tab closed; the server's memory must fall once the session's time
to live is over, without any other tab coming or going."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ui import sessions

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from browser import server_process  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_nothing_to_reap_outside_a_running_server():
    assert sessions.reap() is None
    assert sessions.start_reaper() is False


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads memory from /proc")
def test_a_closed_tab_gives_its_memory_back_with_no_other_tab_coming(tmp_path):
    env = {"LSTM_LAB_REAP_EVERY": "1", "PYTHONPATH": str(ROOT)}
    with server_process("--server.disconnectedSessionTTL", "3", env=env) as (base, proc):

        def a_class() -> float:
            """One echo student and one at the text page's largest settings (refused to train,
            but the page builds its 512 x 3 model and its views); then both tabs close. The
            server's highest memory while they were there (read every 0.2 s: on a loaded
            machine the closing tabs can be reaped before the script that drove them exits)."""
            highest, done = [rss_mb(proc.pid)], threading.Event()

            def watch() -> None:
                while not done.wait(0.2):
                    highest.append(rss_mb(proc.pid))

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            check = subprocess.run(
                [sys.executable, "scripts/load_check.py", "--url", base, "--sessions", "1",
                 "--mix", "echo", "--seconds", "5", "--abuse", "1", "--json"],
                cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
            )  # fmt: skip
            done.set()
            watcher.join()
            assert check.returncode == 0, check.stderr[-2000:]
            assert json.loads(check.stdout)["finished"] == 2
            return max(highest)

        def settled(seconds: float = 30) -> float:
            lowest, until = rss_mb(proc.pid), time.time() + seconds
            while time.time() < until:
                time.sleep(1)
                lowest = min(lowest, rss_mb(proc.pid))
            return lowest

        a_class()
        warm = settled(12)  # every module imported, every shared cache filled
        held = a_class()
        after = settled()  # 3 s to live, then a reaping every second; nobody else comes
        # measured: warm 187 MB, held 340 MB, after 187-229 MB; without the reaper nothing
        # came back (320 MB for 165 s after the tabs closed). Read at the script's exit
        # instead of at the class's highest, a loaded CI machine once saw only 20 MB held:
        # the tabs had been reaped already.
        assert held - warm > 20, (warm, held)  # the class took memory ...
        assert after < warm + 0.5 * (held - warm), (warm, held, after)  # ... and gave it back
