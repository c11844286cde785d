"""The classroom load check runs: two simulated students on a fresh server finish their work.
(What it measures is reported, not asserted: speed targets belong to measurements, not tests.)"""

import json
import subprocess
import sys

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow


def test_the_load_check_runs_a_small_class():
    proc = subprocess.run(
        [
            sys.executable,
            "scripts/load_check.py",
            "--sessions",
            "3",
            "--seconds",
            "6",
            "--mix",
            "text,echo,bptt",
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert result["finished"] == 3 and not result["failures"]
    assert result["workers_at_peak"] == 1 and result["memory_per_session_mb"] > 0
    assert result["health_ms"]["p50"] > 0 and result["fragment_round_trip_ms"]["p50"] > 0
