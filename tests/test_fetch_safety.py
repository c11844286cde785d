"""Fetching cannot be turned against the class: one deadline for the whole request, the address
judged is the address connected to, IPv6 disguises of IPv4 addresses, web pages refused."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lstm_core import fetch
from lstm_core.fetch import FetchError, fetch_text, gutenberg_plain_text, is_public

BOOK = "Chapter 1\n\nIt was a quiet night at the lighthouse.\n"


class Handler(BaseHTTPRequestHandler):
    hits: list = []  # noqa: RUF012 - shared on purpose: what the server was asked

    def do_GET(self):  # the name http.server calls
        Handler.hits.append(self.path)
        routes = {
            "/page.html": (
                "text/html; charset=utf-8",
                b"<!DOCTYPE html><html><body>hi</body></html>",
            ),
            "/untyped": ("", b"  <!doctype html>\n<html><head></head></html>"),
            "/book.txt": ("text/plain", BOOK.encode()),
        }
        if self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
            return
        kind, body = routes.get(self.path, ("text/plain", b""))
        self.send_response(200)
        if kind:
            self.send_header("Content-Type", kind)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def trickler():
    """A server that sends its status line, then one header byte every 0.2 s, for ever."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                try:
                    conn.recv(4096)
                    conn.sendall(b"HTTP/1.1 200 OK\r\n")
                    while not stop.is_set():
                        conn.sendall(b"X")
                        time.sleep(0.2)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/slow.txt"
    stop.set()
    thread.join(2)
    listener.close()


def test_a_server_trickling_its_headers_cannot_outlast_the_deadline(trickler):
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        fetch_text(trickler, timeout=1.0, allow_private=True)
    assert info.value.code == "url_timeout" and "within 1 seconds" in str(info.value)
    assert time.monotonic() - started < 2.5


def test_the_address_judged_is_the_address_connected_to(server, monkeypatch):
    """A name that answers a public address when checked and loopback when asked again (DNS
    rebinding): it is resolved once, so the request never reaches the machine itself."""
    port = int(server.rsplit(":", 1)[1])
    answers = iter([("8.8.8.8", port), ("127.0.0.1", port)])
    calls = []

    def rebinding(host, *args, **kwargs):
        calls.append(host)
        address = next(answers)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", address)]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    Handler.hits.clear()
    with pytest.raises(FetchError):  # 8.8.8.8 is unreachable from here (or answers nothing)
        fetch_text(f"http://rebind.example:{port}/book.txt", timeout=1.5, allow_private=False)
    assert calls == ["rebind.example"] and Handler.hits == []


def test_every_address_a_name_resolves_to_is_judged(monkeypatch):
    def two(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.8.8", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", two)
    with pytest.raises(FetchError, match="private network"):
        fetch_text("http://mixed.example/a.txt", allow_private=False)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("::127.0.0.1", False),  # the old IPv4-compatible form
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("2002:a00:1::", False),  # 6to4 of 10.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254 (cloud metadata)
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),  # Teredo, client 127.0.0.1
        ("::1", False),
        ("fe80::1%eth0", False),
        ("10.1.2.3", False),
        ("not an address", False),
        ("::ffff:8.8.8.8", True),  # judged by the IPv4 inside: a public one
        ("2002:808:808::", True),
        ("2606:4700:4700::1111", True),
        ("8.8.8.8", True),
    ],
)
def test_ipv6_forms_that_embed_an_ipv4_address_are_judged_by_it(address, public):
    assert is_public(address) is public


@pytest.mark.parametrize(
    "url",
    ["http://[::ffff:127.0.0.1]:9/a.txt", "http://[::127.0.0.1]/a.txt", "http://[2002:7f00:1::]/"],
)
def test_embedded_loopback_literals_are_refused(url):
    with pytest.raises(FetchError, match="private network"):
        fetch_text(url, allow_private=False, timeout=1)


@pytest.mark.parametrize(
    "url", ["http://[::1/a.txt", "http://[zz::1]/a.txt", "http://example.org:99999/", "http://a b/"]
)
def test_a_malformed_address_is_one_line(url):
    with pytest.raises(FetchError) as info:
        fetch_text(url, timeout=1)
    assert info.value.code == "url_invalid" and "\n" not in str(info.value)


@pytest.mark.parametrize("path", ["/page.html", "/untyped"])
def test_a_web_page_is_refused_with_a_hint(server, path):
    with pytest.raises(FetchError, match="Plain Text link") as info:
        fetch_text(server + path, allow_private=True)
    assert info.value.code == "url_html"


def test_a_redirect_loop_ends(server):
    with pytest.raises(FetchError, match="too many redirects"):
        fetch_text(server + "/loop", allow_private=True)


@pytest.mark.parametrize(
    ("url", "plain"),
    [
        (
            "https://www.gutenberg.org/ebooks/1342",
            "https://www.gutenberg.org/cache/epub/1342/pg1342.txt",
        ),
        ("http://gutenberg.org/ebooks/84/", "https://www.gutenberg.org/cache/epub/84/pg84.txt"),
        (
            "https://www.gutenberg.org/ebooks/2000.html.images",
            "https://www.gutenberg.org/cache/epub/2000/pg2000.txt",
        ),
        ("https://www.gutenberg.org/ebooks/1342.txt.utf-8", None),  # already a file
        ("https://www.gutenberg.org/files/1342/1342-0.txt", None),
        ("https://example.org/ebooks/1342", None),
        ("http://[::1", None),
    ],
)
def test_gutenberg_book_pages_become_their_plain_text_file(url, plain):
    assert gutenberg_plain_text(url) == plain


def test_a_gutenberg_page_is_fetched_as_its_text_and_says_so(server, monkeypatch):
    monkeypatch.setattr(fetch, "gutenberg_plain_text", lambda url: server + "/book.txt")
    got = fetch_text("https://www.gutenberg.org/ebooks/1342", allow_private=True)
    assert got.text == BOOK and got.notice_codes == ["gutenberg_page"]
