"""Showing user text (inputs, uploaded corpora, generated text) without it ever acting as markup.

Streamlit's markdown renders links, images, emphasis and $LaTeX$; raw HTML is off unless a
page asks for it, and no page here does. `md_escape` makes every character of user text show
as itself: each Markdown, HTML or LaTeX special character is escaped with a backslash, angle
brackets become entities, and newlines and spaces stay visible.
"""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:&%^=\"'/@])")


def md_escape(text: str) -> str:
    """Text that markdown renders literally (no links, images, emphasis, HTML or math)."""
    text = _SPECIAL.sub(r"\\\1", text)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def token_label(token: str) -> str:
    """A single token as it should read in a label: invisible characters made visible."""
    return {" ": "␣", "\n": "⏎", "\t": "⇥", "": "∅"}.get(token, token)


def marked_changes(before: str, after: str) -> str:
    """`after` as escaped markdown, the characters that differ from `before` in bold."""
    parts = []
    for k, ch in enumerate(after):
        shown = md_escape(token_label(ch)) if ch in " \n\t" else md_escape(ch)
        parts.append(f"**{shown}**" if k >= len(before) or before[k] != ch else shown)
    return "".join(parts)


def tape(tokens: list[str], current: int, window: int = 40) -> str:
    """The input as markdown with the current token in bold (escaped, visible whitespace)."""
    lo = max(0, current - window // 2)
    hi = min(len(tokens), lo + window)
    parts = []
    for k in range(lo, hi):
        shown = md_escape(token_label(tokens[k]))
        parts.append(f"**⟨{shown}⟩**" if k == current else shown)
    return ("… " if lo > 0 else "") + " ".join(parts) + (" …" if hi < len(tokens) else "")
