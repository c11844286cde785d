"""Fetching a plain-text book by URL, and cutting Project Gutenberg's header and licence off.

A shared classroom server must not become a way into the network it sits in, nor be held up by
one slow server, so:
  - only http and https; one deadline for the whole request (connecting, the status line and
    headers, the body), enforced by a watchdog that shuts the socket when time is up, so a server
    that trickles its headers a byte at a time cannot hold a page;
  - the name is resolved once, every address it gives is judged, and the connection goes to the
    address that was judged (the Host header and TLS certificate still name the host), so a name
    that answers a public address first and a private one second cannot slip through; an IPv6
    address that embeds an IPv4 one (::ffff:a.b.c.d, 6to4, Teredo, NAT64, ::a.b.c.d) is judged by
    the IPv4 address inside; every redirect goes through the same check;
  - a size cap checked while reading, so a huge file is never held;
  - a web page (text/html) is refused with a hint, and a Project Gutenberg book page
    (gutenberg.org/ebooks/N) is rewritten to that book's plain-text file.
Addresses on this machine or a private network are allowed only when `allow_private` says so (the
tests fetch from loopback). Every failure is a FetchError with one line.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import os
import re
import socket
import ssl
import threading
import time
import urllib.parse
from typing import NamedTuple

from .errors import LabError
from .text import TextError, decode_text

MAX_FETCH_BYTES = 10 * 2**20
MAX_REDIRECTS = 5
USER_AGENT = "LSTM-Lab/0.1 (teaching tool; one plain-text file)"
PRIVATE_ENV = "LSTM_LAB_FETCH_PRIVATE"  # "1": allow addresses on this machine or its network
_GUTENBERG_PAGE = re.compile(r"^/ebooks/(\d{1,7})(?:/|\.html(?:\.images)?|\.kindle.*|\.epub.*)?$")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class FetchError(LabError):
    """A URL that could not give us a text; str(error) is one line for the user."""


class Fetched(NamedTuple):
    text: str  # the book, Gutenberg's header and footer removed
    notice: str  # one line for the user ("" if there is nothing to say)
    notice_codes: list[str]  # the same for a translation: "utf16", "cp1252", "gutenberg", ...


class _Target(NamedTuple):
    scheme: str
    host: str  # as written (for Host and TLS)
    port: int
    path: str  # path and query, as sent in the request line
    url: str


def _invalid() -> FetchError:
    return FetchError("that is not a valid address", "url_invalid")


def _parse(url: str) -> _Target:
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError:  # "Invalid IPv6 URL", a port that is not a number, ...
        raise _invalid() from None
    if parts.scheme not in ("http", "https") or not host:
        raise FetchError("only http:// and https:// addresses can be fetched", "url_scheme")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise _invalid()
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return _Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path, url)


def gutenberg_plain_text(url: str) -> str | None:
    """The plain-text file of a Project Gutenberg book page (…/ebooks/1342), else None."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    match = _GUTENBERG_PAGE.match(parts.path)
    if host not in ("gutenberg.org", "www.gutenberg.org") or not match:
        return None
    n = match.group(1)
    return f"https://www.gutenberg.org/cache/epub/{n}/pg{n}.txt"


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo's client, NAT64, compatible)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in net for net in _NAT64) or (int(ip) >> 32 == 0 and int(ip) > 0xFFFF):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)  # NAT64, or the old ::a.b.c.d form
    return None


def is_public(address: str) -> bool:
    """Whether an address lies outside this machine and every private network."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        inner = embedded_ipv4(ip)
        if inner is not None:  # the IPv4 address inside is where the packets end up
            return is_public(str(inner))
    return ip.is_global and not ip.is_multicast


def _resolve(target: _Target, allow_private: bool, deadline: float) -> list[tuple]:
    """Every (family, address) the host name resolves to, each judged; resolved once."""
    try:
        infos = _with_deadline(
            lambda: socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM), deadline
        )
    except socket.gaierror:
        raise FetchError(
            "the address cannot be found: is this machine offline?", "url_offline"
        ) from None
    except (UnicodeError, ValueError):
        raise _invalid() from None
    addresses = [(info[0], info[4]) for info in infos]
    if not addresses:
        raise FetchError("the address cannot be found: is this machine offline?", "url_offline")
    if not allow_private and not all(is_public(str(sockaddr[0])) for _, sockaddr in addresses):
        raise FetchError(
            "addresses on this machine or its private network cannot be fetched", "url_private"
        )
    return addresses


def _with_deadline(work, deadline: float):
    """Run work() in a helper thread, giving up at the deadline (name lookups have no timeout)."""
    box: dict = {}

    def run() -> None:
        try:
            box["value"] = work()
        except Exception as exc:  # handed to the caller below
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(max(0.0, deadline - time.monotonic()))
    if thread.is_alive():
        raise TimeoutError
    if "error" in box:
        raise box["error"]
    return box["value"]


class _Pinned(http.client.HTTPConnection):
    """An HTTP connection to one address already judged, whatever the name resolves to now."""

    def __init__(self, target: _Target, family: int, sockaddr: tuple, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._family, self._sockaddr = family, sockaddr

    def connect(self) -> None:
        self.sock = socket.socket(self._family, socket.SOCK_STREAM)  # the watchdog can shut it
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._sockaddr)


class _PinnedTLS(_Pinned):
    def connect(self) -> None:
        super().connect()
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self.sock, server_hostname=self.host)


class _Watchdog:
    """Shuts a connection's socket at the deadline, so no read can outlast it."""

    def __init__(self, conn: http.client.HTTPConnection, deadline: float) -> None:
        self.conn, self.fired = conn, False
        self.timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self.timer.daemon = True

    def _fire(self) -> None:
        self.fired = True
        sock = self.conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed: nothing left to stop
                sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> _Watchdog:
        self.timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self.timer.cancel()


def fetch_text(
    url: str,
    timeout: float = 10.0,
    max_bytes: int = MAX_FETCH_BYTES,
    allow_private: bool | None = None,
) -> Fetched:
    """Download a text file. timeout: seconds for the whole request, redirects included.
    allow_private: None reads the LSTM_LAB_FETCH_PRIVATE environment variable."""
    if allow_private is None:
        allow_private = os.environ.get(PRIVATE_ENV) == "1"
    url = url.strip()
    if len(url) > 2000:
        raise FetchError("that address is too long", "url_long")
    notes: list[tuple[str, str]] = []
    book = gutenberg_plain_text(url)
    if book is not None:
        url = book
        notes.append(
            (
                "that was a Project Gutenberg book page: its plain-text file was fetched",
                "gutenberg_page",
            )
        )
    deadline = time.monotonic() + timeout
    too_slow = FetchError(f"no answer within {timeout:g} seconds", "url_timeout", seconds=timeout)
    data = None
    for _ in range(MAX_REDIRECTS + 1):
        target = _parse(url)
        try:
            addresses = _resolve(target, allow_private, deadline)
            status, headers, data = _request(target, addresses, deadline, max_bytes)
        except TimeoutError:
            raise too_slow from None
        if status in (301, 302, 303, 307, 308) and headers.get("location"):
            url = urllib.parse.urljoin(target.url, headers["location"])
            continue
        if status >= 400:
            reason = http.client.responses.get(status, "")
            raise FetchError(f"the server answered {status} ({reason})", "url_http", status=status)
        break
    else:
        raise FetchError(
            f"too many redirects (more than {MAX_REDIRECTS})", "url_redirects", limit=MAX_REDIRECTS
        )
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in ("text/html", "application/xhtml+xml") or _looks_like_html(data):
        raise FetchError("this is a web page, not a text file: use its Plain Text link", "url_html")
    try:
        loaded = decode_text(data)
    except TextError as exc:
        raise FetchError(str(exc), exc.code, **exc.params) from None
    body, stripped = strip_gutenberg(loaded.text)
    notes.append((loaded.notice, loaded.notice_code))
    if stripped:
        notes.append(("Project Gutenberg's header and licence removed", "gutenberg"))
    notes = [(text, code) for text, code in notes if code]
    return Fetched(body, "; ".join(text for text, _ in notes), [code for _, code in notes])


def _request(
    target: _Target, addresses: list[tuple], deadline: float, max_bytes: int
) -> tuple[int, dict, bytes]:
    """(status, headers with lower-case names, body) from the first address that connects."""
    error: OSError | None = None
    for family, sockaddr in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        conn = (_PinnedTLS if target.scheme == "https" else _Pinned)(
            target, family, sockaddr, remaining
        )
        dog = _Watchdog(conn, deadline)
        try:
            with dog:
                answer = _exchange(conn, target, max_bytes)
            if dog.fired:
                raise TimeoutError
            return answer
        except FetchError:
            raise
        except (OSError, http.client.HTTPException) as exc:
            if dog.fired or isinstance(exc, TimeoutError):
                raise TimeoutError from None
            if isinstance(exc, http.client.HTTPException):
                raise FetchError(
                    f"cannot fetch it: {exc!r}", "url_failed", detail=repr(exc)[:200]
                ) from None
            error = exc  # refused, unreachable, reset: the next address may answer
        finally:
            conn.close()
    detail = str(getattr(error, "strerror", None) or error)[:200]
    raise FetchError(f"cannot connect: {detail}", "url_connect", detail=detail)


def _exchange(conn: http.client.HTTPConnection, target: _Target, max_bytes: int):
    """Send the request and read the answer, never holding more than max_bytes of it."""
    limit = round(max_bytes / 2**20, 1)
    too_big = FetchError(
        f"the file is larger than the limit of {limit:g} MB", "url_too_big", limit=limit
    )
    conn.request("GET", target.path, headers={"User-Agent": USER_AGENT})
    response = conn.getresponse()
    headers = {k.lower(): v for k, v in response.getheaders()}
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_big
    chunks, size = [], 0
    while size <= max_bytes:
        chunk = response.read1(65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > max_bytes:
        raise too_big
    return response.status, headers, b"".join(chunks)


def _looks_like_html(data: bytes) -> bool:
    """Whether a body served without a type is a web page (it opens like one)."""
    head = data[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or (
        head.startswith(b"<?xml") and b"<html" in head
    )


_START = re.compile(
    r"^\*\*\*\s*START OF (?:THE|THIS) PROJECT GUTENBERG E(?:BOOK|TEXT)[^\n]*\*\*\*[^\n]*\n",
    re.I | re.M,
)
_END = re.compile(r"^\*\*\*\s*END OF (?:THE|THIS) PROJECT GUTENBERG E(?:BOOK|TEXT)", re.I | re.M)
_END_OLD = re.compile(r"^End of (?:the )?Project Gutenberg'?s? ", re.I | re.M)


def strip_gutenberg(text: str) -> tuple[str, bool]:
    """The book without Project Gutenberg's header and licence footer: (body, whether cut)."""
    start = _START.search(text)
    if not start:
        return text, False
    body = text[start.end() :]
    end = _END.search(body) or _END_OLD.search(body)
    if end:
        body = body[: end.start()]
    return body.strip("\n") + "\n", True
