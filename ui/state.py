"""What a page keeps in its session, under names of its own: an object and the key it was built
for (kept while the key holds, built anew when it changes), the latest few computed values, and a
page's loose values as the attributes of one record.

`Kept(name)` holds one object at st.session_state[name] and its key at [name + "_key"] (so the
sidebar's reset, which forgets a page's "<page>." keys, forgets both); `Memo(name, size)` holds
the latest `size` objects by key under one name (the conveyor belt's computed views);
`PageState` is a page's record, each `Slot` of it one value at st.session_state["<page>.<slot>"]
(ui/page_state.py has one record per page).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import streamlit as st


class Kept:
    """One object of the session and the key it was built for."""

    def __init__(self, name: str) -> None:
        self.name, self.key_name = name, name + "_key"

    def value(self) -> Any:
        """What is kept, whatever key it was built for (None: nothing)."""
        return st.session_state.get(self.name)

    def built_for(self, key) -> bool:
        return self.value() is not None and st.session_state.get(self.key_name) == key

    def get(self, key) -> Any:
        """What is kept if it was built for `key`, else None."""
        return self.value() if self.built_for(key) else None

    def put(self, key, value) -> Any:
        st.session_state[self.name], st.session_state[self.key_name] = value, key
        return value

    def rebuilt(self, key, build: Callable[[], Any], replaced: Callable[[Any], None] | None = None):
        """What is kept for `key`, built by build() if it was built for another key (or not
        yet); replaced(old) is told of the object it replaces (to close it, say so)."""
        if self.built_for(key):
            return self.value()
        old = self.value()
        if old is not None and replaced is not None:
            replaced(old)
        return self.put(key, build())

    def drop(self) -> Any:
        st.session_state.pop(self.key_name, None)
        return st.session_state.pop(self.name, None)


class Memo:
    """The latest `size` computed values of the session, by key, under one name."""

    def __init__(self, name: str, size: int = 16) -> None:
        self.name, self.size = name, size

    def get(self, key, compute: Callable[[], Any]) -> Any:
        cache = st.session_state.setdefault(self.name, {})
        if key not in cache:
            if len(cache) >= self.size:
                cache.pop(next(iter(cache)))  # the oldest goes
            cache[key] = compute()
        return cache[key]


class Slot:
    """One value of a page's session, an attribute of the page's record: read, written and
    deleted at st.session_state["<page>.<name>"], `default` while the session has none."""

    def __init__(self, default: Any = None) -> None:
        self.default = default

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def key(self, record: PageState) -> str:
        return f"{record.page}.{self.name}"

    def __get__(self, record: PageState | None, owner: type | None = None) -> Any:
        if record is None:  # on the class: the slot itself
            return self
        return st.session_state.get(self.key(record), self.default)

    def __set__(self, record: PageState, value: Any) -> None:
        st.session_state[self.key(record)] = value

    def __delete__(self, record: PageState) -> None:
        st.session_state.pop(self.key(record), None)


class PageState:
    """A page's own session values in one record (a subclass names the page and its slots);
    the record holds nothing itself: every slot lives in st.session_state, where widgets, tests
    and the sidebar's reset see it by its "<page>." name."""

    page: ClassVar[str]

    def key(self, name: str) -> str:
        """The session key of slot `name` (for what takes a key: a widget, ui/load.repace)."""
        return f"{self.page}.{name}"

    def has(self, name: str) -> bool:
        return self.key(name) in st.session_state

    def take(self, name: str) -> Any:
        """Slot `name`'s value, removed from the session (its default when there is none): a
        request one run leaves for the next."""
        return st.session_state.pop(self.key(name), getattr(type(self), name).default)
