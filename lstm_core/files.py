"""Reading a file the user named, with one-line errors of the caller's kind."""

from __future__ import annotations

from pathlib import Path


def read_file(path, error: type[Exception], what: str, max_bytes: int | None = None) -> bytes:
    """The bytes of `path`; `error(one line)` if it is missing, a folder, too large or unreadable.

    what: how to name the expected file in messages ("text file", "checkpoint file").
    """
    p = Path(path)
    try:
        if max_bytes is not None and p.is_file() and p.stat().st_size > max_bytes:
            size = p.stat().st_size / 2**20
            raise error(f"{p.name} is {size:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB")
        return p.read_bytes()
    except FileNotFoundError:
        raise error(f"no such file: {path}") from None
    except IsADirectoryError:
        raise error(f"{path} is a folder, not a {what}") from None
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror or exc}") from None
