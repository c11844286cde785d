"""The generated logbook corpus, Gutenberg stripping, and fetching a text over HTTP (loopback)."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from conftest import ROOT

from lstm_core.corpus import generate_corpus
from lstm_core.fetch import FetchError, fetch_text, strip_gutenberg


# ==================================================================================== the corpus
@pytest.fixture(scope="module")
def logbook() -> str:
    return generate_corpus()


def test_the_corpus_depends_only_on_its_seed(logbook):
    assert generate_corpus() == logbook
    assert generate_corpus(seed=7, min_bytes=5000) == generate_corpus(seed=7, min_bytes=5000)
    assert generate_corpus(seed=7, min_bytes=5000) != generate_corpus(seed=8, min_bytes=5000)


def test_the_shipped_logbook_is_the_generators_output(logbook):
    assert (ROOT / "samples" / "logbook.txt").read_text(encoding="utf-8") == logbook


def test_the_corpus_is_large_enough(logbook):
    assert len(logbook.encode("utf-8")) >= 200_000
    assert len(generate_corpus(min_bytes=50_000).encode("utf-8")) >= 50_000


def test_the_corpus_has_balanced_quotes_on_every_line(logbook):
    lines = [line for line in logbook.splitlines() if '"' in line]
    assert len(lines) > 500
    assert all(line.count('"') % 2 == 0 for line in lines)


def test_the_corpus_has_parentheses_balanced_and_sometimes_nested(logbook):
    depth, deepest = 0, 0
    for ch in logbook:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        assert depth >= 0
        deepest = max(deepest, depth)
    assert depth == 0 and deepest == 2
    assert logbook.count("(") > 300


def test_the_corpus_has_numbers_dates_headings_and_prose(logbook):
    assert len(re.findall(r"\d+", logbook)) > 2000
    assert re.search(
        r"^\d{1,2} (January|February|March|April|May|June|July|August|September|October|"
        r"November|December)\. ",
        logbook,
        re.M,
    )
    chapters = re.findall(r"^CHAPTER (\d+)$", logbook, re.M)
    assert [int(c) for c in chapters] == list(range(1, len(chapters) + 1))
    assert re.search(r"^Oil: \d+ barrels left\. Ships: ", logbook, re.M)
    paragraphs = [p for p in logbook.split("\n\n") if len(p) > 200 and "\n" not in p]
    assert len(paragraphs) > 50  # long lines of prose, not only log lines


# ==================================================================================== Gutenberg
BOOK = "It was a dark night.\nThe lamp burned.\n"
HEADER = (
    "The Project Gutenberg eBook of The Lamp\n\nThis ebook is for the use of anyone anywhere.\n\n"
    "*** START OF THE PROJECT GUTENBERG EBOOK THE LAMP ***\n"
)
FOOTER = (
    "\n*** END OF THE PROJECT GUTENBERG EBOOK THE LAMP ***\n\nSection 1. General Terms of Use\n"
)


def test_gutenberg_header_and_footer_are_cut():
    body, cut = strip_gutenberg(HEADER + BOOK + FOOTER)
    assert cut and body == BOOK


def test_old_style_gutenberg_markers_are_cut():
    text = (
        "*** START OF THIS PROJECT GUTENBERG ETEXT THE LAMP ***\n"
        + BOOK
        + "End of the Project Gutenberg EBook\nlicence"
    )
    body, cut = strip_gutenberg(text)
    assert cut and body == BOOK


def test_a_text_without_markers_is_left_alone():
    assert strip_gutenberg(BOOK) == (BOOK, False)
    mention = "She read a Project Gutenberg book.\n"
    assert strip_gutenberg(mention) == (mention, False)


# ==================================================================================== fetching
class Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict] = {}

    def do_GET(self):  # the name http.server calls
        route = self.routes.get(self.path)
        if route is None:
            self.send_error(404, "Not Found")
            return
        status, headers, body, delay = route
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        for k in range(0, len(body), 1000):
            if delay:
                time.sleep(delay)
            with contextlib.suppress(OSError):
                self.wfile.write(body[k : k + 1000])

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    big = b"a" * 3000
    Handler.routes = {
        "/book.txt": (200, {"Content-Type": "text/plain"}, (HEADER + BOOK + FOOTER).encode(), 0),
        "/plain.txt": (200, {}, "Ça va: « bien ».\n".encode("cp1252"), 0),
        "/big.txt": (200, {"Content-Length": str(len(big))}, big, 0),
        "/big-undeclared.txt": (200, {}, big, 0),
        "/slow.txt": (200, {}, b"x" * 5000, 0.4),
        "/image.png": (
            200,
            {"Content-Type": "image/png"},
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200),
            0,
        ),
        "/moved": (302, {"Location": "/book.txt"}, b"", 0),
    }
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_a_gutenberg_book_is_fetched_and_stripped(server):
    text, notice, codes = fetch_text(f"{server}/book.txt", allow_private=True)
    assert text == BOOK and "Gutenberg" in notice and codes == ["gutenberg"]


def test_redirects_are_followed(server):
    assert fetch_text(f"{server}/moved", allow_private=True)[0] == BOOK


def test_a_windows_1252_text_is_decoded(server):
    text, notice, codes = fetch_text(f"{server}/plain.txt", allow_private=True)
    assert text == "Ça va: « bien ».\n" and "1252" in notice and codes == ["cp1252"]


@pytest.mark.parametrize(
    ("path", "kwargs", "expected"),
    [
        ("/missing.txt", {}, "404"),
        ("/big.txt", {"max_bytes": 2000}, "limit"),
        ("/big-undeclared.txt", {"max_bytes": 2000}, "limit"),
        ("/slow.txt", {"timeout": 0.8}, "within 0.8 seconds"),
        ("/image.png", {}, "binary"),
    ],
)
def test_fetch_failures_are_one_line(server, path, kwargs, expected):
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        fetch_text(server + path, allow_private=True, **kwargs)
    message = str(info.value)
    assert expected in message and "\n" not in message
    assert time.monotonic() - started < 3.0  # the deadline covers the whole download


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/a.txt",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "not a url",
        "",
        "http://",
    ],
)
def test_only_http_and_https_are_fetched(url):
    with pytest.raises(FetchError, match="http"):
        fetch_text(url)


def test_loopback_and_private_addresses_are_refused_by_default(server):
    for url in (
        f"{server}/book.txt",
        "http://10.0.0.1/a.txt",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/a.txt",
    ):
        with pytest.raises(FetchError, match="private network"):
            fetch_text(url, allow_private=False)


def test_a_refused_connection_is_a_clear_message():
    with pytest.raises(FetchError, match="cannot connect"):
        fetch_text("http://127.0.0.1:9/a.txt", allow_private=True, timeout=2)


def test_samples_stay_small_and_every_checkpoint_has_its_command():
    files = [p for p in (ROOT / "samples").iterdir() if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 10 * 2**20
    readme = (ROOT / "samples" / "README.md").read_text(encoding="utf-8")
    for p in files:
        if p.name != "README.md":
            assert f"`{p.name}`" in readme, p.name
        if p.suffix == ".npz":
            assert f"--out samples/{p.name}" in readme, p.name
