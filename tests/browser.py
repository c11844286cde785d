"""Helpers for the real-browser tests: a fresh Streamlit server, Debian's Chromium, waiting.

Chromium is Debian's (/usr/bin/chromium), driven by Playwright; `playwright install` is never
used. The test command (.ci/run) installs chromium when it is missing and sets
LSTM_LAB_REQUIRE_BROWSER=1, so that in CI a missing browser fails instead of skipping.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
OUTPUT = ROOT / "test-output" / "browser"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def require_browser() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("LSTM_LAB_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing (install Debian's chromium)")
        pytest.skip(f"{CHROMIUM} is missing; `sh .ci/run` installs it")


@contextlib.contextmanager
def chromium():
    """Debian's Chromium, driven by Playwright, for the length of the block."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def free_port() -> int:
    """A free port: any, or one of LSTM_LAB_TEST_PORTS ("8631-8634") on a shared machine."""
    span = os.environ.get("LSTM_LAB_TEST_PORTS")
    candidates = [0]
    if span:
        low, _, high = span.partition("-")
        candidates = list(range(int(low), int(high or low) + 1))
    for port in candidates:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError(f"no free port in LSTM_LAB_TEST_PORTS={span}")


@contextlib.contextmanager
def server_process(*options: str, env: dict | None = None):
    """A newly started `streamlit run app.py` (with extra `options` and environment); yields its
    base URL and its process."""
    port = free_port()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    log = open(OUTPUT.parent / f"server-{port}.log", "w")  # noqa: SIM115
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
            *options,
        ],
        cwd=ROOT,
        env=None if env is None else {**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                if urllib.request.urlopen(f"{base}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                pass
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError(f"the server did not start (see {log.name})")
            time.sleep(0.1)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextlib.contextmanager
def fresh_server():
    """A newly started `streamlit run app.py`; yields its base URL."""
    with server_process() as (base, _):
        yield base


def wait_idle(page, timeout: float = 60_000) -> None:
    """After an action: give Streamlit time to start the rerun, then wait for it to finish."""
    page.wait_for_timeout(210)
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout
    )


def wait_charts(page, n: int = 1, timeout: float = 60_000) -> None:
    page.wait_for_function(
        f"document.querySelectorAll(\"[data-testid='stPlotlyChart'] .main-svg\").length >= {n}",
        timeout=timeout,
    )


def problems(page) -> list[str]:
    """Error elements or dialogs visible on the page."""
    found = []
    if page.locator("[data-testid='stException']").count():
        found.append(
            "exception: " + page.locator("[data-testid='stException']").first.inner_text()[:300]
        )
    for dialog in page.locator("[role='dialog']").all():
        if dialog.is_visible():
            found.append("dialog: " + dialog.inner_text()[:300])
    body = page.inner_text("body").lower()
    if "page not found" in body:
        found.append("page not found")
    return found


def screenshot(page, name: str) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{name}.png"))


def main(page):
    """The page's content area (Streamlit's header has its own 'Stop' button)."""
    return page.locator("[data-testid='stMainBlockContainer']")
