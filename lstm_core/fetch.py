"""Fetching a plain-text book by URL, and cutting Project Gutenberg's header and licence off.

Only http and https; a deadline for the whole download, not just for each read; a size cap,
checked while reading so a huge file is never held. A shared classroom server must not become a
way into the network it sits in, so addresses that lead to the machine itself or to a private
network (loopback, 10.x, 192.168.x, link-local cloud metadata, ...) are refused, after every
redirect too, unless `allow_private` says otherwise (the tests fetch from loopback). Every
failure (no network, a 404, too slow, too big, not text) is a FetchError with one line.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import NamedTuple

from .errors import LabError
from .text import TextError, decode_text

MAX_FETCH_BYTES = 10 * 2**20
USER_AGENT = "LSTM-Lab/0.1 (teaching tool; one plain-text file)"
PRIVATE_ENV = "LSTM_LAB_FETCH_PRIVATE"  # "1": allow addresses on this machine or its network


class FetchError(LabError):
    """A URL that could not give us a text; str(error) is one line for the user."""


def _check_address(url: str, allow_private: bool) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("only http:// and https:// addresses can be fetched", "url_scheme")
    if allow_private:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port)
    except socket.gaierror:
        raise FetchError(
            "the address cannot be found: is this machine offline?", "url_offline"
        ) from None
    except (UnicodeError, ValueError):
        raise FetchError("that is not a valid address", "url_invalid") from None
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        if not ip.is_global or ip.is_multicast:
            raise FetchError(
                "addresses on this machine or its private network cannot be fetched", "url_private"
            )


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        _check_address(newurl, self.allow_private)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class Fetched(NamedTuple):
    text: str  # the book, Gutenberg's header and footer removed
    notice: str  # one line for the user ("" if there is nothing to say)
    notice_codes: list[str]  # the same for a translation: "utf16", "cp1252", "gutenberg"


def fetch_text(
    url: str,
    timeout: float = 10.0,
    max_bytes: int = MAX_FETCH_BYTES,
    allow_private: bool | None = None,
) -> Fetched:
    """Download a text file. timeout: seconds for the whole download.
    allow_private: None reads the LSTM_LAB_FETCH_PRIVATE environment variable."""
    return _fetch(url, timeout, max_bytes, allow_private)


def _fetch(url: str, timeout: float, max_bytes: int, allow_private: bool | None) -> Fetched:
    if allow_private is None:
        allow_private = os.environ.get(PRIVATE_ENV) == "1"
    url = url.strip()
    if len(url) > 2000:
        raise FetchError("that address is too long", "url_long")
    _check_address(url, allow_private)
    opener = urllib.request.build_opener(_CheckedRedirects(allow_private))
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    deadline = time.monotonic() + timeout
    too_slow = FetchError(f"no answer within {timeout:g} seconds", "url_timeout", seconds=timeout)
    limit = round(max_bytes / 2**20, 1)
    too_big = FetchError(
        f"the file is larger than the limit of {limit:g} MB", "url_too_big", limit=limit
    )
    try:
        with opener.open(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise too_big
            chunks, size = [], 0
            while size <= max_bytes:  # a slow trickle cannot hold the page past the deadline
                if time.monotonic() > deadline:
                    raise too_slow
                chunk = response.read1(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            data = b"".join(chunks)
    except FetchError:
        raise
    except urllib.error.HTTPError as exc:
        raise FetchError(
            f"the server answered {exc.code} ({exc.reason})", "url_http", status=exc.code
        ) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise too_slow from None
        if isinstance(reason, socket.gaierror):
            raise FetchError(
                "the address cannot be found: is this machine offline?", "url_offline"
            ) from None
        detail = str(getattr(reason, "strerror", None) or reason)[:200]
        raise FetchError(f"cannot connect: {detail}", "url_connect", detail=detail) from None
    except TimeoutError:
        raise too_slow from None
    except (OSError, ValueError) as exc:
        raise FetchError(f"cannot fetch it: {exc}", "url_failed", detail=str(exc)[:200]) from None
    if len(data) > max_bytes:
        raise too_big
    try:
        loaded = decode_text(data)
    except TextError as exc:
        raise FetchError(str(exc), exc.code, **exc.params) from None
    body, stripped = strip_gutenberg(loaded.text)
    notes = [
        (loaded.notice, loaded.notice_code),
        ("Project Gutenberg's header and licence removed", "gutenberg"),
    ]
    notes = [(text, code) for text, code in notes if code and (code != "gutenberg" or stripped)]
    return Fetched(body, "; ".join(text for text, _ in notes), [code for _, code in notes])


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
