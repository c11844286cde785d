"""Changing how many threads NumPy's OpenBLAS uses, while running (lstm_core/blas.py)."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from conftest import ROOT

from lstm_core import blas


def test_the_thread_count_changes_at_run_time_and_products_stay_right():
    """In a thread of its own that then ends: threadpoolctl lets one live thread at a time
    control OpenBLAS's shared pool, and this test must not keep that control afterwards."""
    errors = []

    def check():
        try:
            _check_thread_counts()
        except BaseException as exc:  # handed back to the test below
            errors.append(exc)

    thread = threading.Thread(target=check)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def _check_thread_counts():
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


def test_the_kernel_and_threads_can_be_told():
    libraries = blas.describe()
    if not libraries:
        pytest.skip("no BLAS threadpoolctl can reach")
    assert all(lib["threads"] >= 1 and lib["library"] for lib in libraries)
