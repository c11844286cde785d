"""Serving beyond one machine: two replicas behind nginx (scripts/scale_check.py), students kept
on one replica each, and a crashed replica leaving the other's students untouched."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


@pytest.mark.slow
def test_two_replicas_behind_the_proxy_keep_their_students_and_survive_a_crash():
    if NGINX is None:
        if os.environ.get("LSTM_LAB_REQUIRE_BROWSER") == "1":
            pytest.fail("nginx is missing (.ci/run installs Debian's nginx)")
        pytest.skip("nginx is not installed")
    done = subprocess.run(
        [sys.executable, "scripts/scale_check.py", "--sessions", "4", "--seconds", "15", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    result = json.loads(done.stdout)
    sticky, dies = result["sticky"], result["dies"]
    assert sticky["stayed_on_one_replica"] == 4 and len(sticky["spread"]) == 2, sticky
    assert dies["spared"] >= 1 and dies["spared_finished"] == dies["spared"], dies
    assert dies["students_on_killed"] >= 1
    assert dies["returned_fresh"] == dies["students_on_killed"], dies["returned"]
    assert result["ok"] and done.returncode == 0
