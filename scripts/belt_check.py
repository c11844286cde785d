"""How fast the conveyor-belt page answers in a real browser, at H=256 and 300 steps.

    python scripts/belt_check.py                   # starts a server, 5 runs of each action
    python scripts/belt_check.py --runs 9 --hidden 128
    python scripts/belt_check.py --url http://host:8501

Opens /belt in Debian's Chromium (Playwright, /usr/bin/chromium) on a new random character model
of --hidden units and a text of --steps characters (both through the page's own URL), then times
three actions: a step of the time cursor, a step of the selected unit, a change of the units'
order. Each time runs from the click to the last change the action makes to the page (the next
500 ms bring none, and the script has finished), so it includes the server's run, the transfer
and the browser's drawing. Also counted: the bytes the browser received. This is a measurement
to rerun, not a test: it prints what it saw and exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TEXT = (
    '"why do you count the steps?" asked marta (who had followed him up one windy afternoon).\n'
    '"because the steps do not change," said the keeper, "and the sea does." she looked at the '
    'lamp. (it was old, older than the keeper.) "and the oil?" "seven barrels left," he said; '
    '"enough for the winter, if the ferry comes."\nthe wind rose again, and the lamp turned. '
)

# In the page: note when the action starts (the click) and the last change under the main area.
SORTS = (3, 2)  # where "index" and "activity" sit in the page's list of orders
ARM = """() => {
  const p = window.__probe = {t0: null, last: null, ran: false};
  const app = document.querySelector('[data-testid=stApp]');
  p.obs = new MutationObserver((records) => {
    const now = performance.now();
    for (const r of records) {
      if (r.target === app && r.attributeName === 'data-test-script-state') {
        if (app.getAttribute('data-test-script-state') === 'running') p.ran = true;
      } else if (p.t0 !== null) { p.last = now; }
    }
  });
  p.obs.observe(app, {attributes: true});
  p.obs.observe(document.querySelector('[data-testid=stMain]'),
                {subtree: true, childList: true, attributes: true, characterData: true});
  p.start = () => { if (p.t0 === null) p.t0 = performance.now(); };
  document.addEventListener('click', p.start, true);
}"""
SETTLED = """async () => {
  const p = window.__probe, app = document.querySelector('[data-testid=stApp]');
  for (;;) {
    await new Promise(r => setTimeout(r, 15));
    const now = performance.now();
    if (app.getAttribute('data-test-script-state') === 'running') p.ran = true;
    const idle = app.getAttribute('data-test-script-state') === 'notRunning';
    if (p.ran && idle && p.last !== null && now - p.last > 500) break;
    if (p.t0 !== null && now - p.t0 > 30000) break;
  }
  p.obs.disconnect();
  document.removeEventListener('click', p.start, true);
  return (p.last ?? performance.now()) - p.t0;
}"""


def idle(page) -> None:
    page.wait_for_timeout(250)
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000
    )


@contextlib.contextmanager
def server(url: str | None):
    """The app at `url`, or a new server on a free port for the time of the check."""
    if url:
        yield url.rstrip("/")
        return
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(f"{base}/_stcore/health", timeout=1).read() == b"ok":
                    break
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def check(base: str, hidden: int, steps: int, runs: int, width: int) -> dict[str, list]:
    from playwright.sync_api import sync_playwright

    text = (TEXT * (steps // len(TEXT) + 1))[:steps]
    query = urllib.parse.urlencode(
        {
            "lang": "en",
            "belt_model": "text_random",
            "belt_units": hidden,
            "belt_text": text,
            "belt_sort": "cluster",
            "belt_unit": 0,  # from unit 0 on (else the page opens on its pick)
        }
    )
    results: dict[str, list] = {"cursor": [], "unit": [], "sort": []}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": width, "height": 1000})
        received = [0]
        page.on(
            "websocket",
            lambda ws: ws.on(
                "framereceived", lambda data: received.__setitem__(0, received[0] + len(data))
            ),
        )
        page.goto(f"{base}/belt?{query}")
        page.wait_for_selector(".st-key-belt_forward button", timeout=120_000)
        idle(page)
        page.wait_for_timeout(2000)
        idle(page)

        def measure(name, action) -> None:
            page.evaluate(ARM)
            before = received[0]
            action()
            ms = page.evaluate(SETTLED)
            idle(page)
            results[name].append((ms, received[0] - before))

        def open_sort() -> None:
            for _ in range(4):
                page.click(".st-key-belt_sort button[aria-haspopup='listbox']")
                page.wait_for_timeout(600)
                if page.locator("[role='option']").count():
                    return

        for _ in range(runs):
            measure("cursor", lambda: page.click(".st-key-belt_forward button"))
        for _ in range(runs):
            measure(
                "unit",
                lambda: page.click(".st-key-belt_unit button[data-testid='stNumberInputStepUp']"),
            )
        for k in range(runs):
            open_sort()  # (opening the list is not timed: choosing in it is)
            measure(
                "sort",
                lambda k=k: page.locator("[role='option']").nth(SORTS[k % 2]).click(force=True),
            )
        # a measurement of clicks that did nothing would mislead: the link must show all of them
        got = urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)
        sort = ("index", "activity")[(runs - 1) % 2]
        expected = {"belt_cursor": [str(runs)], "belt_unit": [str(runs)], "belt_sort": [sort]}
        if any(got.get(key) != value for key, value in expected.items()):
            raise RuntimeError(f"the page did not follow the clicks: {page.url}")
        browser.close()
    return results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--width", type=int, default=1400, help="the browser window's width, px")
    ap.add_argument("--url", help="a server already running (default: start one)")
    args = ap.parse_args(argv)
    with server(args.url) as base:
        results = check(base, args.hidden, args.steps, args.runs, args.width)
    print(
        f"belt page, H={args.hidden}, {args.steps} steps, {args.runs} runs each, {args.width} px:"
    )
    for name, rows in results.items():
        ms = [r[0] for r in rows]
        kb = statistics.median(r[1] for r in rows) / 1024
        print(
            f"  {name:6s} median {statistics.median(ms):5.0f} ms (min {min(ms):.0f}, max {max(ms):.0f}),"
            f" {kb:6.1f} KB received"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
