"""An object in a page's session and the key it was built for: kept while the key holds, built
anew when it changes. One helper for what the text page's run, the echo page's run and sweep and
the BPTT page's gradient check each wrote by hand.

`Kept(name)` holds one object at st.session_state[name] and its key at [name + "_key"] (so the
sidebar's reset, which forgets a page's "<page>." keys, forgets both); `Memo(name, size)` holds
the latest `size` objects by key under one name (the conveyor belt's computed views).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
