"""Changing how many threads NumPy's OpenBLAS uses, while running (lstm_core/blas.py)."""

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from lstm_core import blas


def test_the_thread_count_changes_at_run_time_and_products_stay_right():
    if blas.threads() is None:
        pytest.skip("NumPy's BLAS here is not an OpenBLAS")  # the functions then change nothing
    before = blas.threads()
    a = np.random.default_rng(0).random((300, 300))
    want = a @ a
    try:
        assert blas.set_threads(1) == before and blas.threads() == 1
        np.testing.assert_allclose(a @ a, want, rtol=1e-12)
        blas.set_threads(2)
        assert blas.threads() == 2
        np.testing.assert_allclose(a @ a, want, rtol=1e-12)
        blas.set_threads(0)  # at least one
        assert blas.threads() == 1
    finally:
        blas.set_threads(before)


def test_the_app_server_keeps_its_own_products_on_one_thread():
    """The frame sets it once per server, whatever OPENBLAS_NUM_THREADS said at start."""
    code = (
        "from streamlit.testing.v1 import AppTest\n"
        "from lstm_core import blas\n"
        "blas.set_threads(2)\n"
        "AppTest.from_file('app.py', default_timeout=60).run()\n"
        "print(blas.threads())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "2"},
    )
    if out.stdout.strip() == "None":
        pytest.skip("NumPy's BLAS here is not an OpenBLAS")
    assert out.stdout.strip().splitlines()[-1] == "1", out.stderr[-2000:]
